#!/usr/bin/python3
"""test_source.py - every request of the module that can count a failure
says where the sign-in comes from (TAG_SOURCE), for portald's locks per
source (issue 14).

Seen on the wire: the module talks to the real portald through a relay of
the test's own (a socket in a folder only root can write, as the module
requires; the relay runs as root, the socket's owner), which passes every
frame on unchanged and keeps a copy of each request.  The source is
PAM_RHOST, else PAM_TTY, else PAM_SERVICE (pamconv -R, -T); printable
ASCII without spaces, any other byte (and `%`) written %XX, at most
PORTAL_SOURCE_MAX bytes, never cut inside an escape.
"""
import os
import shutil
import socket
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire
from portaltest import (EN, MODULE, STEP_TIMEOUT, STRONG, Cleanup, Portal, TestError, ask_code,
                        check, check_eq, enter_code_and_password, full_flow, run_tests,
                        sign_in, test)

COUNTED = (wire.REQ_AUTH, wire.REQ_SEND_CODE, wire.REQ_VERIFY_CODE, wire.REQ_CHANGE_PASSWORD,
           wire.REQ_CHECK_PASSWORD)
STACK = """\
auth [success=done ignore=ignore default=die] {module} socket={relay}
auth required pam_deny.so
account required pam_permit.so
password [success=done ignore=ignore default=die] {module} socket={relay}
password required pam_deny.so
"""


class Relay:
    """A socket that passes frames to portald and back, keeping every
    request as (type, {tag: [values]})."""

    def __init__(self, p):
        self.target = p.socket
        folder = tempfile.mkdtemp(prefix="relay-")     # 0700, root's
        Cleanup.add(lambda: shutil.rmtree(folder, ignore_errors=True))
        self.path = os.path.join(folder, "relay.sock")
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(16)
        self.requests = []
        self.lock = threading.Lock()
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()
        Cleanup.add(self.stop)

    def stop(self):
        """Wake the accepting thread and wait for it before the socket is
        closed: a thread still in accept() could otherwise take the next
        test's connections when its descriptor number comes back."""
        self.server.shutdown(socket.SHUT_RDWR)
        self.acceptor.join(timeout=STEP_TIMEOUT)
        self.server.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        with client, wire.connect(self.target) as helper:
            while True:
                try:
                    head = wire.recv_exact(client, wire.PROTO_HEADER)
                except (EOFError, OSError):
                    return
                body = wire.recv_exact(client, int.from_bytes(head[4:8], "big"))
                with self.lock:
                    self.requests.append(head + body)
                helper.sendall(head + body)
                answer = wire.recv_exact(helper, wire.PROTO_HEADER)
                answer += wire.recv_exact(helper, int.from_bytes(answer[4:8], "big"))
                client.sendall(answer)

    def take(self):
        """The requests so far, parsed; forgotten here."""
        with self.lock:
            raw, self.requests = self.requests, []
        return [(r.type, r.fields) for r in map(wire.parse, raw)]


def sources(requests):
    """{request type: [TAG_SOURCE values]} of the requests that count."""
    out = {}
    for t, fields in requests:
        if t in COUNTED:
            out.setdefault(t, []).extend(v.decode("latin-1") for v in
                                         fields.get(wire.TAG_SOURCE, [None]) if v is not None)
            if wire.TAG_SOURCE not in fields:
                out[t].append(None)
    return out


def relayed(p):
    """A relay to p's portald and a service whose module talks through it."""
    relay = Relay(p)
    return relay, p.stack("relayed", STACK.format(module=MODULE, relay=relay.path))


@test
def every_counted_request_says_where_it_comes_from():
    p = Portal()
    relay, svc = relayed(p)
    p.add_user("alice", "alice@example.org")

    d = p.dialog(svc, "alice", flags=("-T", "/dev/pts/7"))
    code = ask_code(p, d, "alice", "alice@example.org")
    d.answer("%06d" % ((int(code) + 1) % 1000000))       # a wrong code
    d.expect("ERROR")
    d.expect("ECHO_ON", EN["code"])
    enter_code_and_password(d, code)
    d.expect("INFO", EN["created"])
    d.result()
    got = sources(relay.take())
    check_eq("verification, no remote host: the terminal, on each code request and check, "
             "and on the new password's early judgement",
             got, {wire.REQ_SEND_CODE: ["/dev/pts/7"],
                   wire.REQ_VERIFY_CODE: ["/dev/pts/7", "/dev/pts/7"],
                   wire.REQ_CHECK_PASSWORD: ["/dev/pts/7"]})

    auth, _, _ = sign_in(p, svc, "alice", STRONG + "?", rhost="client.example.net",
                         flags=("-T", "ssh"))
    check_eq("a wrong password from a remote host: the host, over the terminal",
             (auth, sources(relay.take())), ("PAM_AUTH_ERR", {wire.REQ_AUTH: ["client.example.net"]}))

    auth, _, _ = sign_in(p, svc, "alice", STRONG)
    check_eq("neither host nor terminal: the service", (auth, sources(relay.take())),
             ("PAM_SUCCESS", {wire.REQ_AUTH: ["relayed"]}))

    d = p.dialog(svc, "alice", rhost="10.0.0.9", flags=("-p",))
    d.expect("ECHO_OFF")
    d.answer(STRONG)
    d.expect("ECHO_OFF")
    d.answer(STRONG + " again")
    d.expect("ECHO_OFF")
    d.answer(STRONG + " again")
    d.result()
    got = sources(relay.take())
    check("a password change: the current password checked, the new one judged and the "
          "change, each with the host",
          set(got) == {wire.REQ_CHANGE_PASSWORD, wire.REQ_CHECK_PASSWORD} and
          got[wire.REQ_CHANGE_PASSWORD] == ["10.0.0.9"] * 2 and
          got[wire.REQ_CHECK_PASSWORD] == ["10.0.0.9"] and d.password == "PAM_SUCCESS",
          (got, d.password))
    p.stop_checked()


@test
def the_source_is_bounded_and_printable():
    p = Portal()
    relay, svc = relayed(p)
    p.add_user("bob", "bob@example.org")
    if full_flow(p, p.service("plain"), "bob", "bob@example.org")[0] != "PAM_AUTH_ERR":
        raise TestError("setup: bob could not be made active")
    for what, rhost, want in (
            ("a space, a control byte, non-ASCII and %: escaped", "a b\x01\u00e9%z",
             "a%20b%01%C3%A9%25z"),
            ("300 bytes: cut at PORTAL_SOURCE_MAX", "h" * 300, "h" * wire.PORTAL_SOURCE_MAX),
            ("an escape that would not fit: cut before it", "h" * 253 + " x", "h" * 253)):
        auth, _, _ = sign_in(p, svc, "bob", STRONG, rhost=rhost)
        got = sources(relay.take()).get(wire.REQ_AUTH)
        check_eq("remote host with %s" % what, (auth, got), ("PAM_SUCCESS", [want]))
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
