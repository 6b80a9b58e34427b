#!/usr/bin/python3
"""smtpd.py - a real SMTP server on loopback for the tests and the demo.

    smtpd.py [--port N] [--port-file FILE] --maildir DIR [--print]

Listens on 127.0.0.1 (port 0, the default, picks a free one), and writes
the port to --port-file once it accepts connections, so that a test waits
on that file rather than on a sleep.  Every message is stored in --maildir
as NNNNNN.eml (the message as received), with NNNNNN.json beside it (the
envelope); the .eml is written under a temporary name and renamed, so a
reader never sees half a message.  With --print each message is also
shown on stdout, decoded, for a person reading the demo.

SIGTERM or SIGINT stops it.
"""
import argparse
import asyncio
import email
import email.header
import email.policy
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def show(raw):
    """The message as a person would read it: headers, then the text."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = ["", "-" * 20 + " mail received " + "-" * 20]
    for name in ("From", "To", "Date", "Subject"):
        if msg[name] is not None:
            out.append("%s: %s" % (name, msg[name]))
    out.append("")
    part = msg.get_body(preferencelist=("plain",)) or msg
    try:
        out.append(part.get_content().replace("\r\n", "\n").rstrip("\n"))
    except (KeyError, LookupError):
        out.append(part.get_payload())
    out.append("-" * 55)
    print("\n".join(out), flush=True)


class Handler:
    def __init__(self, maildir, printing):
        self.maildir = maildir
        self.printing = printing
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.maildir, "%06d" % self.count)
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        # The envelope first: the .eml appearing is the signal a reader waits on.
        write_atomic(base + ".json", json.dumps(meta).encode())
        write_atomic(base + ".eml", raw)
        if self.printing:
            show(raw)
        return "250 OK"


async def serve_until_stopped(server):
    """Serve until SIGTERM or SIGINT, or until the process that started us
    is gone (a crashed test leaves no server behind); then close."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parent = os.getppid()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:
            if os.getppid() != parent:
                stop.set()
    server.close()
    await server.wait_closed()


async def serve(args):
    loop = asyncio.get_running_loop()
    handler = Handler(args.maildir, args.print)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtpd.test", decode_data=False),
        host="127.0.0.1", port=args.port)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        write_atomic(args.port_file, b"%d\n" % port)
    await serve_until_stopped(server)


def main():
    p = argparse.ArgumentParser(description="SMTP server on loopback for tests")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--maildir", required=True)
    p.add_argument("--print", action="store_true")
    args = p.parse_args()
    os.makedirs(args.maildir, exist_ok=True)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
