#!/usr/bin/python3
"""smtpd_evil.py - an SMTP server on loopback that misbehaves on purpose.

    smtpd_evil.py --maildir DIR --port-file FILE --control FILE [--port N]

What it accepts is stored exactly as tests/smtpd.py stores it (its Handler
does the storing), so portaltest.Smtpd reads both alike.  How it behaves
is the first word of the --control file, read again at every command, so
that a test changes its mind while portald keeps talking to one server:

    ok          take every message
    slow N      wait N seconds before answering EHLO, RCPT TO and the end of
                DATA (a server that is alive but slow)
    tempfail    answer every RCPT TO "451 4.3.0 try again later"
    permfail    answer every RCPT TO "550 5.1.1 no such user here"
    drop        read the whole message, then close the connection without
                answering it: the message is not taken

It never offers STARTTLS (smtp_tls=required must refuse to send to it).
Every RCPT TO and every end of DATA is appended to DIR/events.log as
"rcpt ADDRESS REPLY" and "data ADDRESS,... REPLY|dropped", so a test
counts attempts by reading a file, not by waiting a while.  The port
(--port, or a free one) is written to --port-file once it listens.
SIGTERM or SIGINT stops it, and so does the end of the process that
started it (a crashed test leaves no server behind).
"""
import argparse
import asyncio
import importlib.util
import logging
import os
import sys

from aiosmtpd.smtp import SMTP

# tests/smtpd.py by its path: "smtpd" alone may be the standard library's.
_spec = importlib.util.spec_from_file_location(
    "portal_smtpd", os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtpd.py"))
portal_smtpd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(portal_smtpd)

TEMPFAIL = "451 4.3.0 try again later"
PERMFAIL = "550 5.1.1 no such user here"


class Evil(portal_smtpd.Handler):
    def __init__(self, maildir, control):
        super().__init__(maildir, False)
        self.control = control

    def mode(self):
        """(word, number) from the control file; ("ok", 0) without one."""
        try:
            with open(self.control) as f:
                words = f.read().split()
        except FileNotFoundError:
            words = []
        if not words:
            return "ok", 0
        return words[0], float(words[1]) if len(words) > 1 else 0.0

    def event(self, line):
        with open(os.path.join(self.maildir, "events.log"), "a") as f:
            f.write(line + "\n")

    async def slow(self):
        mode, secs = self.mode()
        if mode == "slow":
            await asyncio.sleep(secs)
        return mode

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await self.slow()
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mode = await self.slow()
        reply = {"tempfail": TEMPFAIL, "permfail": PERMFAIL}.get(mode, "250 OK")
        self.event("rcpt %s %s" % (address, reply.split()[0]))
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        mode = await self.slow()
        rcpts = ",".join(envelope.rcpt_tos)
        if mode == "drop":
            self.event("data %s dropped" % rcpts)
            server.transport.abort()
            return "421 4.3.0 (never sent: the connection is gone)"
        reply = await super().handle_DATA(server, session, envelope)
        self.event("data %s %s" % (rcpts, reply.split()[0]))
        return reply


async def serve(args):
    loop = asyncio.get_running_loop()
    handler = Evil(args.maildir, args.control)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="evil.test", decode_data=False),
        host="127.0.0.1", port=args.port)
    portal_smtpd.write_atomic(args.port_file,
                              b"%d\n" % server.sockets[0].getsockname()[1])
    await portal_smtpd.serve_until_stopped(server)


def main():
    # An aborted connection makes aiosmtpd complain; that is the point.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--maildir", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--control", required=True)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    os.makedirs(args.maildir, exist_ok=True)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
