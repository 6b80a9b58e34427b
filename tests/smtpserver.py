#!/usr/bin/python3
"""smtpserver.py - the SMTP server of the tests and of the demo, on loopback.

    smtpserver.py --maildir DIR [--port N] [--port-file FILE] [--mode WORDS]
                  [--control FILE] [--tls CERT:KEY] [--auth USER:PASSWORD] [--print]

Listens on 127.0.0.1, on --port (0, the default: one the kernel picks) and
writes the port to --port-file once it accepts connections, so that a test
waits on that file, not on a sleep.  It binds with SO_REUSEADDR, so it can
take a port a test holds bound without listening (tests/ports.py: a
"server down" that nobody else can take meanwhile).

Every message it takes is stored before it answers 250: DIR/NNNNNN.eml as
received, and beside it DIR/NNNNNN.json, the envelope ({"mail_from",
"rcpt_tos", "tls"}), each written under another name and renamed, the
envelope first: a reader that sees the .eml sees the whole message.

DIR/events.log gets a line for every event, so that a test counts
attempts by reading a file, not by waiting a while:

    rcpt ADDRESS CODE                every RCPT TO, and the code answered
    data ADDRESS,... CODE|dropped tls|plain    every end of DATA
    auth ok|bad LOGIN                every AUTH attempt (with --auth)

How it behaves is --mode, or the first line of the --control file when
there is one, read again at every command (so that a test changes the
server's mind while portald keeps talking to it):

    ok              take every message (the default)
    slow SECONDS    wait that long before answering EHLO, RCPT TO and the
                    end of DATA: alive, but slow
    refuse REPLY    answer every RCPT TO with REPLY: "451 4.3.0 ..." (try
                    later) or "550 5.1.1 ..." (never)
    drop            read the whole message, then close the connection
                    without answering it: the message is not taken

Without --tls it offers no STARTTLS (smtp_tls = required must then refuse
to send); with --tls it offers it, without requiring it.  --auth requires
AUTH (without TLS), with that user and password.  --print also shows each
message taken on stdout, decoded, for a person (the demo).

SIGTERM or SIGINT stops it, and so does the end of the process that
started it (a crashed test leaves no server behind).
"""
import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import signal
import socket
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
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


class Behaviour:
    """The mode: --mode, or the control file's first line when it has one."""

    def __init__(self, mode, control):
        self.default = mode
        self.control = control

    def now(self):
        """(word, the rest of the line)."""
        line = self.default
        if self.control:
            try:
                with open(self.control) as f:
                    line = f.readline().strip() or self.default
            except FileNotFoundError:
                pass
        word, _, rest = line.partition(" ")
        return word, rest.strip()

    async def pause(self):
        """Wait if the mode is slow; the mode."""
        word, rest = self.now()
        if word == "slow":
            await asyncio.sleep(float(rest))
        return word, rest


class Handler:
    def __init__(self, maildir, behaviour, printing):
        self.maildir = maildir
        self.behaviour = behaviour
        self.printing = printing
        self.count = 0

    def event(self, *words):
        with open(os.path.join(self.maildir, "events.log"), "a") as f:
            f.write(" ".join(words) + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await self.behaviour.pause()
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        word, rest = await self.behaviour.pause()
        reply = rest if word == "refuse" else "250 OK"
        self.event("rcpt", address, reply.split()[0])
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        word, _ = await self.behaviour.pause()
        rcpts = ",".join(envelope.rcpt_tos)
        tls = "tls" if session.ssl else "plain"
        if word == "drop":
            self.event("data", rcpts, "dropped", tls)
            server.transport.abort()
            return "421 4.3.0 (never sent: the connection is gone)"
        self.count += 1
        base = os.path.join(self.maildir, "%06d" % self.count)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        write_atomic(base + ".json", json.dumps({"mail_from": envelope.mail_from,
                                                 "rcpt_tos": envelope.rcpt_tos,
                                                 "tls": bool(session.ssl)}).encode())
        write_atomic(base + ".eml", raw)
        self.event("data", rcpts, "250", tls)
        if self.printing:
            show(raw)
        return "250 2.0.0 Ok: queued as %d" % self.count

    def authenticator(self, expected):
        user, _, password = expected.partition(":")

        def check(server, session, envelope, mechanism, auth_data):
            given = isinstance(auth_data, LoginPassword)
            ok = given and auth_data.login == user.encode() and \
                auth_data.password == password.encode()
            self.event("auth", "ok" if ok else "bad",
                       auth_data.login.decode(errors="replace") if given else "?")
            return AuthResult(success=ok)
        return check


def listener(port):
    """A loopback socket bound with SO_REUSEADDR (see the top), listening."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    s.setblocking(False)
    return s


def smtp_options(args, handler):
    opts = {}
    if args.tls:
        cert, _, key = args.tls.partition(":")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        opts.update(tls_context=ctx, require_starttls=False)
    if args.auth:
        opts.update(authenticator=handler.authenticator(args.auth), auth_required=True,
                    auth_require_tls=False)
    return opts


async def serve_until_stopped(server):
    """Serve until SIGTERM or SIGINT, or until the process that started us
    is gone; then close."""
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
    handler = Handler(args.maildir, Behaviour(args.mode, args.control), args.print)
    opts = smtp_options(args, handler)
    sock = listener(args.port)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtpd.test", decode_data=False, **opts), sock=sock)
    if args.port_file:
        write_atomic(args.port_file, b"%d\n" % sock.getsockname()[1])
    await serve_until_stopped(server)


def main():
    # AUTH without TLS is what the tests ask for; a dropped connection
    # makes aiosmtpd complain, which is the point: neither is news.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--maildir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--mode", default="ok")
    p.add_argument("--control")
    p.add_argument("--tls", metavar="CERT:KEY")
    p.add_argument("--auth", metavar="USER:PASSWORD")
    p.add_argument("--print", action="store_true")
    args = p.parse_args()
    os.makedirs(args.maildir, exist_ok=True)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
