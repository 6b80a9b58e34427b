#!/usr/bin/python3
"""smtpd_sink.py - the SMTP server of tests/unit_outbox.c, on loopback.

    smtpd_sink.py --maildir DIR --port-file FILE [--port N] [--refuse "550 ..."]
                  [--auth USER:PASSWORD] [--tls CERT:KEY]

Writes every message to DIR/NNNNNN.eml (under a temporary name, then
renamed, so a reader never sees half of one) and appends every RCPT TO
it is offered to DIR/rcpt.log.  With --refuse it answers every RCPT TO
with that reply instead.  The port (--port, or a free one) is written to
--port-file once it listens, so the test waits on a file, not a sleep.
With --auth it requires SMTP AUTH (without TLS) and writes each attempt,
"ok USER" or "bad USER", to DIR/auth.log.  With --tls it offers STARTTLS
(without requiring it) and writes "tls" or "plain" for each message to
DIR/tls.log.  SIGTERM stops it, and so does the end of the test that
started it (a crashed test leaves no server behind).
"""
import argparse
import asyncio
import importlib.util
import logging
import os
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# tests/smtpd.py by its path: "smtpd" alone may be the standard library's.
_spec = importlib.util.spec_from_file_location(
    "portal_smtpd", os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtpd.py"))
portal_smtpd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(portal_smtpd)


def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class Sink:
    def __init__(self, maildir, refuse, tls):
        self.maildir = maildir
        self.refuse = refuse
        self.tls = tls
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with open(os.path.join(self.maildir, "rcpt.log"), "a") as f:
            f.write(address + "\n")
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or envelope.content
        if self.tls:
            with open(os.path.join(self.maildir, "tls.log"), "a") as f:
                f.write("tls\n" if session.ssl else "plain\n")
        write_atomic(os.path.join(self.maildir, "%06d.eml" % self.count), raw)
        return "250 2.0.0 Ok: queued as T%d" % self.count


def authenticator(maildir, expected):
    user, _, password = expected.partition(":")

    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        login = auth_data.login.decode(errors="replace") if isinstance(auth_data, LoginPassword) else "?"
        with open(os.path.join(maildir, "auth.log"), "a") as f:
            f.write("%s %s\n" % ("ok" if ok else "bad", login))
        return AuthResult(success=ok)
    return check


async def serve(args):
    loop = asyncio.get_running_loop()
    sink = Sink(args.maildir, args.refuse, bool(args.tls))
    opts = {}
    if args.tls:
        cert, _, key = args.tls.partition(":")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        opts.update(tls_context=ctx, require_starttls=False)
    if args.auth:
        opts.update(authenticator=authenticator(args.maildir, args.auth), auth_required=True,
                    auth_require_tls=False)
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.test", decode_data=False, **opts),
        host="127.0.0.1", port=args.port)
    write_atomic(args.port_file, b"%d\n" % server.sockets[0].getsockname()[1])
    await portal_smtpd.serve_until_stopped(server)


def main():
    # AUTH without TLS is what the test wants: no warning about it.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--maildir", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--refuse")
    p.add_argument("--auth")
    p.add_argument("--tls")
    args = p.parse_args()
    os.makedirs(args.maildir, exist_ok=True)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
