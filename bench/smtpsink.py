#!/usr/bin/python3
"""smtpsink.py - the SMTP server of the mail benchmark, on loopback.

    smtpsink.py --port-file FILE --stats FILE

Takes every message and keeps nothing but its arrival time, so that what
is measured is portald's sender and not a mail store.  Counts the SMTP
sessions (connections) it was given.  Writes the port to --port-file once
it listens.  On SIGUSR1 it writes {"sessions": N, "times": [...], "cpu": S}
to --stats (times are time.monotonic() of each message, cpu the seconds
of processor time this server used); on SIGTERM it writes them and stops.
"""
import argparse
import asyncio
import json
import os
import signal
import sys
import time

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self):
        self.times = []

    async def handle_DATA(self, server, session, envelope):
        self.times.append(time.monotonic())
        return "250 OK"


class CountingSMTP(SMTP):
    sessions = 0

    def connection_made(self, transport):
        CountingSMTP.sessions += 1
        super().connection_made(transport)


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(data)
    os.rename(tmp, path)


async def serve(args):
    loop = asyncio.get_running_loop()
    sink = Sink()
    server = await loop.create_server(
        lambda: CountingSMTP(sink, hostname="sink.bench", decode_data=False),
        host="127.0.0.1", port=0)
    write_atomic(args.port_file, "%d\n" % server.sockets[0].getsockname()[1])
    def report():
        write_atomic(args.stats, json.dumps({"sessions": CountingSMTP.sessions,
                                             "times": sink.times,
                                             "cpu": sum(os.times()[:2])}))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, report)
    await stop.wait()
    server.close()
    report()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port-file", required=True)
    p.add_argument("--stats", required=True)
    args = p.parse_args()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
