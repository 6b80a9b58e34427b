#!/usr/bin/python3
"""test_guessing.py - the limits on guessing hold per user whatever the
guesser does: many conversations at once, or a restart of the helper in
between.  (One conversation's wrong codes, resends and expiry are in
test_codes.py; what a stranger on another host can do, test_stranger.py.)
And the lock cannot deny service for ever: it expires, also past
max_failures (longer each time, up to lockout_max), and `portalctl user
unlock` lifts it.

Requests go to the socket as root, as the module sends them, so that many
can be in flight together.
"""
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire
from portaltest import (EN, STEP_TIMEOUT, STRONG, Portal, check, check_eq, check_match, full_flow,
                        run_tests, test, wait_code, wait_for)

LOCKOUT = 3     # seconds, for the test that waits for a lock to end
LOCKOUT_MAX = 8


def send_code(p, user, addr):
    return wire.call(p.socket, wire.request(wire.REQ_SEND_CODE, (wire.TAG_USER, user),
                                            (wire.TAG_EMAIL, addr)))


def verify(p, user, code, handle):
    """The code, against the request whose handle REQ_SEND_CODE gave."""
    return wire.call(p.socket, wire.request(wire.REQ_VERIFY_CODE, (wire.TAG_USER, user),
                                            (wire.TAG_CODE, code), (wire.TAG_REQUEST, handle)))


# Where the guesses come from: the module names the remote host it is
# given, and the locks are of that source (test_stranger.py: of no other).
HOST = "198.51.100.7"


def auth(p, user, password):
    return wire.call(p.socket, wire.request(wire.REQ_AUTH, (wire.TAG_USER, user),
                                            (wire.TAG_PASSWORD, password),
                                            (wire.TAG_SOURCE, HOST)))


def at_once(n, fn, *args):
    """fn(*args) n times, all in flight together; the results."""
    with ThreadPoolExecutor(n) as pool:
        return [f.result() for f in [pool.submit(fn, *args) for _ in range(n)]]


def restart(p):
    p.stop()
    p.start()


def wrong(code):
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def wait_unlocked(p, user, r):
    """Until the lock of answer r ends by itself: its TAG_UNTIL is the end,
    the clock is what is waited on (the helper counts whole seconds)."""
    until = r.u64(wire.TAG_UNTIL)
    # + 0.05: time(2), which portald reads, is the kernel's coarse clock,
    # up to a tick behind the one Python reads.
    wait_for("the lock to end", lambda: time.time() >= until + 0.05, LOCKOUT_MAX + STEP_TIMEOUT)


def codes_at_once_then_restart(n, **conf):
    """A helper with conf; n code requests at once for one user, then the
    helper restarted and one more: (the n results, the last response)."""
    p = Portal(smtp=False, **conf)
    p.add_user("alice", "alice@example.org")
    results = [r.result for r in at_once(n, send_code, p, "alice", "alice@example.org")]
    restart(p)
    r = send_code(p, "alice", "alice@example.org")
    p.stop_checked()
    return results, r


@test
def codes_per_hour_across_conversations_and_restarts():
    results, r = codes_at_once_then_restart(12, resend_interval="0", codes_per_hour="3")
    check_eq("12 code requests at once: exactly codes_per_hour (3) made",
             results.count(wire.RESULT_OK), 3)
    check_eq("... the others told to wait", results.count(wire.RESULT_WAIT), 9)
    check("after a restart: still over the hourly cap (wait, up to an hour)",
          r.result == wire.RESULT_WAIT and 0 < r.u64(wire.TAG_WAIT) <= 3600, r)


@test
def resend_interval_across_restarts():
    results, r = codes_at_once_then_restart(8, resend_interval="1h")
    check_eq("8 requests at once inside the interval: one code", results.count(wire.RESULT_OK), 1)
    check("after a restart: the interval still holds",
          r.result == wire.RESULT_WAIT and 3500 < r.u64(wire.TAG_WAIT) <= 3600, r)


@test
def wrong_codes_at_once():
    p = Portal(code_attempts="5", lockout="1h")
    p.add_user("carol", "carol@example.org")
    r = send_code(p, "carol", "carol@example.org")
    if r.result != wire.RESULT_OK:
        raise AssertionError("setup: no code")
    handle = r.get(wire.TAG_REQUEST)
    code = wait_code(p, "carol@example.org", 1)
    results = [r.result for r in at_once(30, verify, p, "carol", wrong(code), handle)]
    check_eq("30 wrong codes at once: only code_attempts-1 answered 'wrong'",
             results.count(wire.RESULT_CODE_WRONG), 4)
    check_eq("... the rest: locked", results.count(wire.RESULT_LOCKED), 26)
    check_eq("... then the right code is refused (locked)",
             verify(p, "carol", code, handle).result, wire.RESULT_LOCKED)
    out = p.ctl("user", "show", "carol")[1]
    check_match("... failures counted once each (5)", r"(?m)^consecutive failures:\s*5$", out)
    restart(p)
    check_eq("after a restart: still locked", verify(p, "carol", code, handle).result,
             wire.RESULT_LOCKED)
    check_eq("portalctl user unlock lifts it", p.ctl("user", "unlock", "carol")[0], 0)
    check_eq("... and the code died with the lock", verify(p, "carol", code, handle).result,
             wire.RESULT_CODE_DEAD)
    p.stop_checked()


@test
def password_guessing_locks_and_the_lock_ends():
    p = Portal(code_attempts="3", lockout="%ds" % LOCKOUT, max_failures="6",
               lockout_max="%ds" % LOCKOUT_MAX)
    p.add_user("dave", "dave@example.org")
    svc = p.service("login")
    full_flow(p, svc, "dave", "dave@example.org")
    results = [r.result for r in at_once(10, auth, p, "dave", STRONG + "x")]
    check_eq("10 wrong passwords at once: code_attempts-1 answered 'wrong'",
             results.count(wire.RESULT_PASSWORD), 2)
    check_eq("... then locked", results.count(wire.RESULT_LOCKED), 8)
    r = auth(p, "dave", STRONG)
    check("locked: the right password is refused, with the end of the lock",
          r.result == wire.RESULT_LOCKED and r.u64(wire.TAG_UNTIL) > 0, r)
    restart(p)
    d = p.dialog(svc, "dave", rhost=HOST)
    d.expect("ECHO_OFF", EN["password"])     # the lock is said after it
    d.answer(STRONG)
    auth_pam, _, before = d.result()
    check_eq("locked, after a restart: still refused through the module", auth_pam,
             "PAM_AUTH_ERR")
    check_match("... the person is told it is locked, and for how long",
                r"(?i)locked.*\d+ seconds", d.text())
    wait_unlocked(p, "dave", r)
    check_eq("the lock expires by itself: the right password signs in",
             auth(p, "dave", STRONG).result, wire.RESULT_OK)

    # Past max_failures (6) in a row, each lock lasts longer, up to
    # lockout_max, and still ends: 3 s, 3 s, then 6 s, then 8 s.
    lengths = []
    for _ in range(4):
        for _ in range(3):
            r = auth(p, "dave", "not it at all, no")
        t = time.time()
        check("three wrong passwords: locked, with an end", r.result == wire.RESULT_LOCKED and
              r.u64(wire.TAG_UNTIL) > 0, r)
        lengths.append(r.u64(wire.TAG_UNTIL) - t)
        wait_unlocked(p, "dave", r)
    check("past max_failures: locks grow, capped by lockout_max, and end (%s s)"
          % ", ".join("%.0f" % x for x in lengths),
          all(LOCKOUT - 2 <= x <= LOCKOUT for x in lengths[:2]) and
          2 * LOCKOUT - 2 <= lengths[2] <= 2 * LOCKOUT and
          LOCKOUT_MAX - 2 <= lengths[3] <= LOCKOUT_MAX, lengths)
    for _ in range(3):
        r = auth(p, "dave", "not it at all, no")
    check_eq("locked again", r.result, wire.RESULT_LOCKED)
    check_eq("portalctl user unlock lifts the lock at once", p.ctl("user", "unlock", "dave")[0],
             0)
    check_eq("... and the right password signs in", auth(p, "dave", STRONG).result, wire.RESULT_OK)
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
