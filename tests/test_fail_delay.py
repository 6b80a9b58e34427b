#!/usr/bin/python3
"""test_fail_delay.py - who is managed, told by the time a failure takes,
or by a lock said before the first answer (issue 14, finding 3).

pam_unix asks libpam for a fail delay (pam_fail_delay, 2 s) before it
checks a password; libpam sleeps the largest delay any module asked for
once pam_authenticate has failed.  A stack puts the module in front of
pam_unix (README), so a wrong password takes pam_unix's two seconds for
anyone the module ignores: if the module asked for no delay of its own,
a member's wrong password would fail at once and tell the member apart.
The failures are timed here through libpam as an application sees them
(pamconv -d: libpam sleeps the delay, as login and sshd let it), with the
stack of the README, pam_unix behind the module, for four names: an
active member, a locked member, an account outside the directory (a
throwaway system account with a password in /etc/shadow: tests/sysuser.py)
and a name with no account at all.

The statistics.  libpam sleeps base * (1 + m - 1/2), m the mean of three
uniform draws on [0, 1) (libpam/pam_delay.c): between 1 and 3 s for a
base of 2 s, mean 2 s, standard deviation 2/6 = 0.33 s.  Every failure must
therefore take at least 1 s (a failure without the delay takes the time
of one password check, tens of milliseconds).  And the mean of ROUNDS
failures of each name must be within DELTA of the member's: with 20
each, the difference of two means has a standard deviation of
0.33 * sqrt(2/20) = 0.105 s; the work around the delay differs by the
hash each side makes (Argon2id in portald, yescrypt in pam_unix: well
under 0.1 s in the normal build), so a difference past DELTA = 0.5 s is
4.3 standard deviations away: about 2e-5 for each of the three
comparisons.  Without the module's delay the difference is the whole
delay, 2 s.  The sanitizer build stretches the hashes (SLOW), so DELTA
grows with it, capped at 1 s, half the delay it exists to catch.

Run as root (pam_unix reads /etc/shadow; the accounts are made and
removed by the test).
"""
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, MODULE, STRONG, Portal, TestError, ask_code, bound, check,
                        check_eq, check_match, full_flow, run_tests, sign_in, test)
from sshdtest import Person

ROUNDS = 20
DELTA = bound(0.5, cap=1.0)
FLOOR = 1.0            # libpam's least delay for a base of 2 s
DELAY_US = 2000000     # the module's default, pam_unix's

# The stack the README tells for sshd and login, with Debian's common-auth
# line after it.
STACK = """\
auth [success=done ignore=ignore default=die] {module} socket={socket} {options}
auth required pam_unix.so nullok
account required pam_permit.so
"""


def need_root():
    if os.geteuid() != 0:
        raise TestError("needs root (pam_unix reads /etc/shadow; throwaway accounts): "
                        "run make check as root")


def lock_active(p, svc, user, password):
    """Wrong passwords through the module until the member is locked."""
    for _ in range(5):       # code_attempts
        sign_in(p, svc, user, password + "?")
    if p.state(user) != "locked":
        raise TestError("setup: %s is not locked after 5 wrong passwords" % user)


def timed_failure(p, svc, user, password, out):
    """One wrong password through libpam with its delay slept: the seconds
    from the answer to the end of pam_authenticate, appended to out."""
    try:
        d = p.dialog(svc, user, flags=("-d",))
        d.expect("ECHO_OFF", EN["password"])
        t0 = time.monotonic()
        d.answer(password)
        auth, _, _ = d.result()
        out.append((time.monotonic() - t0, auth))
    except TestError as e:       # said by the checks: no prompt, or no end
        out.append((None, str(e)[:300]))


def mean(xs):
    return sum(xs) / len(xs)


@test
def a_failure_takes_the_same_time_for_any_name():
    need_root()
    p = Portal()
    svc = p.stack("timed", STACK.format(module=MODULE, socket=p.socket, options=""))
    for user in ("alice", "dave"):
        p.add_user(user, user + "@example.org")
        if full_flow(p, svc, user, user + "@example.org")[0] != "PAM_AUTH_ERR":
            raise TestError("setup: %s could not be made active" % user)
    lock_active(p, svc, "dave", STRONG)
    outsider = Person("an old unix password 1")
    names = {"member": "alice", "locked member": "dave", "account outside the directory":
             outsider.name, "no such account": "pptest-nobody-%d" % os.getpid()}
    times = {k: [] for k in names}
    for _ in range(ROUNDS):
        # alice stays a member who is not locked (code_attempts would
        # lock her after 5), dave a locked one.
        if p.ctl("user", "unlock", "alice")[0] != 0:
            raise TestError("portalctl user unlock alice failed")
        # One failure of each name at once: whatever load the machine
        # has, each round meets it alike.
        threads = [threading.Thread(target=timed_failure,
                                    args=(p, svc, user, "wrong password 123", times[k]))
                   for k, user in names.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for k in names:
        check_eq("%s: every wrong password asked for, then refused" % k,
                 {a for _, a in times[k]} - {"PAM_AUTH_ERR", "PAM_USER_UNKNOWN"}, set())
        secs = [t for t, _ in times[k] if t is not None]
        check("%s: every failure takes libpam's delay (at least %g s)" % (k, FLOOR),
              len(secs) == ROUNDS and min(secs) >= FLOOR,
              "%d timed, %s" % (len(secs), ["%.2f" % t for t in secs]))
    if any(t is None for k in names for t, _ in times[k]):
        raise TestError("not every failure could be timed (above)")
    base = mean([t for t, _ in times["member"]])
    for k in names:
        if k == "member":
            continue
        m = mean([t for t, _ in times[k]])
        check("%s: the mean failure time is the member's (within %g s: %.2f s, %.2f s)"
              % (k, DELTA, m, base), abs(m - base) <= DELTA,
              "member %.3f s, %s %.3f s" % (base, k, m))
    p.stop_checked()


def delay_asked(d):
    """What pamconv (without -d) says libpam would have slept, in us."""
    d.err_thread.join(timeout=10)
    m = re.search(r"fail delay (\d+) us", d.stderr.decode("utf-8", "replace"))
    return int(m.group(1)) if m else None


@test
def the_delay_and_nodelay():
    """Without pam_unix behind it the module's own delay is all there is:
    asked for members and for names it does not manage alike, and not
    at all with nodelay."""
    p = Portal()
    p.add_user("alice", "alice@example.org")
    svc = p.service("delayed")
    quick = p.service("quick", options="nodelay")
    if full_flow(p, svc, "alice", "alice@example.org")[0] != "PAM_AUTH_ERR":
        raise TestError("setup: alice could not be made active")
    low, high = DELAY_US // 2, DELAY_US * 3 // 2
    auth, _, d = sign_in(p, svc, "alice", "wrong password 123")
    got = delay_asked(d)
    check("a member's wrong password: libpam's delay for 2 s (1 to 3 s)",
          auth == "PAM_AUTH_ERR" and got is not None and low <= got < high, (auth, got))
    d = p.dialog(svc, "nobody-here")
    auth, _, _ = d.result()
    got = delay_asked(d)
    check("a name the module ignores, then pam_deny: the same delay",
          auth == "PAM_AUTH_ERR" and got is not None and low <= got < high, (auth, got))
    auth, _, d = sign_in(p, quick, "alice", "wrong password 123")
    check_eq("nodelay: no delay of the module's own", (auth, delay_asked(d)),
             ("PAM_AUTH_ERR", 0))
    auth, _, d = sign_in(p, svc, "alice", STRONG)
    check_eq("the right password: signed in, no delay slept", (auth, delay_asked(d)),
             ("PAM_SUCCESS", None))
    p.stop_checked()


@test
def a_locked_member_is_asked_as_any_other():
    """The first question a locked member meets is the one of their state;
    the lock is said once they have answered it."""
    p = Portal()
    svc = p.service("login")
    for user in ("alice", "dave", "bob", "carol"):
        p.add_user(user, user + "@example.org")
    for user in ("alice", "dave"):
        if full_flow(p, svc, user, user + "@example.org")[0] != "PAM_AUTH_ERR":
            raise TestError("setup: %s could not be made active" % user)
    lock_active(p, svc, "dave", STRONG)
    # carol: wrong codes until locked (code_attempts 5)
    d = p.dialog(svc, "carol")
    code = ask_code(p, d, "carol", "carol@example.org")
    for i in range(5):
        d.answer("%06d" % ((int(code) + 1 + i) % 1000000))
        d.read()
        if i < 4:
            d.expect("ECHO_ON", EN["code"])
    d.result()
    check_eq("setup: carol is locked by wrong codes", p.state("carol"), "locked")

    d = p.dialog(svc, "alice")
    active_first = d.read()
    d.answer(STRONG + "?")
    d.result()
    d = p.dialog(svc, "dave")
    locked_first = d.read()
    check_eq("locked, active: the first message is an active member's", locked_first,
             active_first)
    d.answer(STRONG)
    auth, _, after = d.result()
    check("locked, active: the lock is said after the password",
          any(re.search(r"(?i)locked", t) for _, t in after), after)
    check_eq("locked, active: PAM_AUTH_ERR", auth, "PAM_AUTH_ERR")

    d = p.dialog(svc, "bob")
    pending_first = d.until("ECHO_ON", EN["email"])
    d.answer("q")
    d.result()
    d = p.dialog(svc, "carol")
    locked_first = d.until("ECHO_ON", EN["email"])
    check_eq("locked, pending: the first messages are a pending member's", locked_first,
             pending_first)
    d.answer("carol@example.org")
    auth, _, after = d.result()
    check("locked, pending: the lock is said after the address",
          any(re.search(r"(?i)locked", t) for _, t in after), after)
    check_eq("locked, pending: PAM_AUTH_ERR", auth, "PAM_AUTH_ERR")
    check_match("locked, pending: no code was made", r"(?m)^live code expires at:\s*none$",
                p.ctl("user", "show", "carol")[1])
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
