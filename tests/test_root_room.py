#!/usr/bin/python3
"""test_root_room.py - no local account, nor many of them together, can
take the room of root's sign-ins on portald's socket (issue 14, finding 5).

portald caps its connections (server.h).  Sixteen throwaway local accounts
(tests/sysuser.py, removed on exit and on SIGINT/SIGTERM/SIGHUP) each open
as many connections as portald lets them, each asking the status of its
own name (what any local user may) so that every connection has an answer
to count, accepted or refused with RESULT_BUSY, and hold them idle.  Then
root (what sshd, login and su run as) must still be served: a few hundred
connections of its own, and a member's whole sign-in through the real
module.  portald runs as an account of its own, as installed; that
account, which may do anything root may, shares root's room.

Run as root (the accounts, and the setpriv that runs a holder as each).
"""
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire
from portaltest import (CHILD_ENV, PYTHON, STEP_TIMEOUT, STRONG, Cleanup, Portal, TestError,
                        check, check_eq, full_flow, run_tests, sign_in, test)
from sysuser import SystemUser

ACCOUNTS = 16
TRIES = 64             # connections each account tries: more than its share
ROOT_HELD = 256        # connections root holds beside them

# Run as an account: connect, ask, keep what is accepted, until refused or
# TRIES; print how many are held, then hold them until stdin is closed.
HOLDER = r"""
import socket, struct, sys
path, req = sys.argv[1], bytes.fromhex(sys.argv[2])
header, tag_result, busy, tries = (int(a) for a in sys.argv[3:7])

def exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

def result(s):
    head = exact(s, header)
    body = exact(s, struct.unpack(">I", head[4:8])[0])
    while body:
        tag, n = body[0], struct.unpack(">H", body[1:3])[0]
        if tag == tag_result:
            return struct.unpack(">I", body[3:3 + n])[0]
        body = body[3 + n:]

held, refused = [], 0
for _ in range(tries):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    try:
        s.sendall(req)
    except OSError:      # refused and closed before reading: the answer waits
        pass
    r = result(s)
    if r == busy:
        refused = 1
        s.close()
        break
    held.append(s)
print(len(held), refused, flush=True)
sys.stdin.read()
"""


class Holder:
    """HOLDER run as account, asking the status of `user`."""

    def __init__(self, p, account, user, tries=TRIES):
        req = wire.request(wire.REQ_STATUS, (wire.TAG_USER, user)).hex()
        argv = account.as_user([PYTHON, "-c", HOLDER, p.socket, req, str(wire.PROTO_HEADER),
                                str(wire.TAG_RESULT), str(wire.RESULT_BUSY), str(tries)])
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
        Cleanup.add(self.release)

    def count(self):
        """(connections held, whether the last one was refused)."""
        line = self.proc.stdout.readline()
        if not line:
            raise TestError("a holder ended: %s" % self.proc.stderr.read()[-800:])
        held, refused = line.split()
        return int(held), refused == "1"

    def release(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=STEP_TIMEOUT)


def root_holds(p, n):
    """n connections of root's, each answered; (answered OK, the sockets)."""
    socks, ok = [], 0
    for _ in range(n):
        s = wire.connect(p.socket)
        socks.append(s)
        try:
            s.sendall(wire.request(wire.REQ_STATUS, (wire.TAG_USER, "alice")))
        except OSError:      # refused and closed before reading: the answer waits
            pass
        if wire.read_response(s).result == wire.RESULT_OK:
            ok += 1
    return ok, socks


@test
def root_keeps_its_room():
    if os.geteuid() != 0:
        raise TestError("needs root (throwaway accounts, setpriv): run make check as root")
    helper = SystemUser()
    Cleanup.add(helper.remove)
    p = Portal(user=helper.name)           # portald runs as its own account
    p.add_user("alice", "alice@example.org")
    svc = p.service("sshd")
    if full_flow(p, svc, "alice", "alice@example.org")[0] != "PAM_AUTH_ERR":
        raise TestError("setup: alice could not be made active")
    accounts = []
    for _ in range(ACCOUNTS):
        a = SystemUser()
        Cleanup.add(a.remove)
        accounts.append(a)
    holders = [Holder(p, a, a.name) for a in accounts]
    counts = [h.count() for h in holders]
    check("%d accounts: each holds what it can, and is refused past its share (held %s)"
          % (ACCOUNTS, [c for c, _ in counts]),
          all(refused and 0 <= held < TRIES for held, refused in counts), counts)

    own = Holder(p, helper, "alice", tries=8)
    check_eq("portald's own account is still served beside them", own.count(), (8, False))
    ok, socks = root_holds(p, ROOT_HELD)
    check_eq("root is still served: %d connections of its own, each answered" % ROOT_HELD,
             ok, ROOT_HELD)
    auth, acct, d = sign_in(p, svc, "alice", STRONG)
    check_eq("root's sign-in through the module works beside them all", (auth, acct),
             ("PAM_SUCCESS", "PAM_SUCCESS"))
    for s in socks:
        s.close()
    for h in holders + [own]:
        h.release()
    check("the accounts' connections ended: a fresh one is served",
          wire.call(p.socket, wire.request(wire.REQ_STATUS, (wire.TAG_USER, "alice"))).result
          == wire.RESULT_OK)
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
