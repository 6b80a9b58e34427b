#!/usr/bin/python3
"""test_codes.py - the life of a verification code: wrong tries, resends,
expiry, and the lockout that wrong codes lead to.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, STRONG, Portal, ask_code, check, check_eq, check_match,
                        enter_code_and_password, run_tests, sign_in, test, wait_code,
                        wait_seconds)


def wrong(code):
    """A code of the same length that is certainly not this one."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)


@test
def wrong_codes_until_the_code_dies():
    p = Portal()          # code_attempts 5, lockout 15m, resend_interval 60s
    p.add_user("alice", "alice@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "alice")
    code = ask_code(p, d, "alice", "alice@example.org")

    d.answer("12ab")
    check_match("not a code: said so", r"(?i)not a verification code", d.expect("ERROR"))
    d.expect("ECHO_ON", EN["code"])
    left = []
    for _ in range(4):
        d.answer(wrong(code))
        left.append(d.expect("ERROR"))
        d.expect("ECHO_ON", EN["code"])
    check_match("wrong code 1: 4 tries left (the malformed one cost none)",
                r"not right.*\b4 tries left", left[0])
    check_match("wrong code 2: 3 tries left", r"\b3 tries left", left[1])
    check_match("wrong code 3: 2 tries left", r"\b2 tries left", left[2])
    check_match("wrong code 4: one try left", r"(?i)\bone try left", left[3])
    d.answer(wrong(code))
    msg = d.expect("ERROR")
    check_match("wrong code 5: locked, for how long", r"(?i)locked.*15 minutes", msg)
    auth, _, _ = d.result()
    check_eq("wrong code 5: PAM_AUTH_ERR", auth, "PAM_AUTH_ERR")
    out = p.ctl("user", "show", "alice")[1]
    check_match("wrong codes: the user is locked", r"(?m)^state:\s*locked", out)
    check_match("wrong codes: ... out of where they came from",
                r"(?m)^locked from:\s*\S+ until .*\(5 failures in a row\)$", out)
    check_match("wrong codes: the code is dead", r"(?m)^live code expires at:\s*none$", out)

    # While locked: the first question is a pending member's, the lock is
    # said after the first answer (test_fail_delay.py, issue 14).
    d = p.dialog(svc, "alice")
    d.until("ECHO_ON", EN["email"])
    d.answer("alice@example.org")
    auth, _, after = d.result()
    check("locked: the lock is said after the address",
          any(re.search(r"(?i)locked", t) for _, t in after), after)
    check_eq("locked: PAM_AUTH_ERR", auth, "PAM_AUTH_ERR")

    # Unlocked, the old code does not come back to life, even typed right.
    check_eq("unlock: exit 0", p.ctl("user", "unlock", "alice")[0], 0)
    d = p.dialog(svc, "alice")
    d.until("ECHO_ON", EN["email"])
    d.answer("alice@example.org")
    msgs, _ = d.until("ECHO_ON", EN["code"])
    check("unlocked, inside the resend interval: no new code, told to wait",
          any(re.search(r"(?i)already sent", t) for _, t in msgs), msgs)
    d.answer(code)
    check_match("the right code after it died: no longer works",
                r"(?i)no longer works", d.expect("ERROR"))
    d.expect("ECHO_ON", EN["code"])
    d.answer("q")
    check_eq("dead code: no sign-in", d.result()[0], "PAM_AUTH_ERR")
    check_eq("dead code: only the one code mail was sent", len([m for m in p.mails() if m.code]),
             1)
    check("... and the lock mail", len(p.mails()) == 2 and
          re.search(r"(?i)locked", p.mails()[-1].header("Subject")), p.mails())
    p.stop_checked()


@test
def resend_inside_the_interval():
    p = Portal()          # resend_interval 60s
    p.add_user("bob", "bob@example.org")
    d = p.dialog(p.service("login"), "bob")
    code = ask_code(p, d, "bob", "bob@example.org")
    d.answer("r")
    msg = d.expect("ERROR")
    check_match("r too soon: says how long to wait", r"(?i)wait (\d+ seconds?|1 minute)", msg)
    m = re.search(r"(\d+) second", msg)
    check("r too soon: the wait is at most the interval",
          (m and 0 < int(m.group(1)) <= 60) or "1 minute" in msg, msg)
    d.expect("ECHO_ON", EN["code"])
    d.answer("R")
    check_match("R (capital) is r too", r"(?i)wait", d.expect("ERROR"))
    d.expect("ECHO_ON", EN["code"])
    d.answer(code)
    d.expect("INFO", EN["verified"])
    d.expect("ECHO_ON", EN["continue"])
    d.answer("q")
    d.expect("INFO", EN["cancelled"])
    check_eq("r too soon: the first code still works", d.result()[0], "PAM_AUTH_ERR")
    check_eq("r too soon: no second mail", len(p.mails()), 1)
    p.stop_checked()


@test
def resend_after_the_interval():
    p = Portal(resend_interval="1s")
    p.add_user("carol", "carol@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "carol")
    old = ask_code(p, d, "carol", "carol@example.org")
    sent_at = time.monotonic()
    # The interval is a time rule: wait for the clock to pass it (the
    # helper counts whole seconds), then ask.
    wait_seconds("the resend interval to pass", sent_at, 2.05)
    d.answer("r")
    msg = d.expect("INFO")
    check_match("r after the interval: a new code is sent", r"(?i)new verification code", msg)
    check_match("r after the interval: it replaces the previous one", r"(?i)replaces", msg)
    d.expect("ECHO_ON", EN["code"])
    new = wait_code(p, "carol@example.org", 2)
    if new == old:   # one chance in a million; the rest of the test needs them apart
        check("r: codes differ (same code drawn twice, skipped)", True)
        d.kill()
        p.stop_checked()
        return
    d.answer(old)
    check_match("r: the old code is dead", r"not right.*4 tries left", d.expect("ERROR"))
    d.expect("ECHO_ON", EN["code"])
    enter_code_and_password(d, new)
    d.expect("INFO", EN["created"])
    check_eq("r: the new code works to the end", d.result()[0], "PAM_AUTH_ERR")
    check_eq("r: sign-in with the password", sign_in(p, svc, "carol", STRONG)[0], "PAM_SUCCESS")
    p.stop_checked()


@test
def expired_code():
    p = Portal(code_ttl="3s")
    p.add_user("dave", "dave@example.org")
    d = p.dialog(p.service("login"), "dave")
    d.until("ECHO_ON", EN["email"])
    d.answer("dave@example.org")
    sent = d.expect("INFO", EN["sent"])
    told_at = time.monotonic()
    check_match("short ttl: the validity said in seconds", r"3 seconds", sent)
    d.expect("ECHO_ON", EN["code"])
    code = wait_code(p, "dave@example.org", 1)
    wait_seconds("the code to expire", told_at, 4.05)
    d.answer(code)
    msg = d.expect("ERROR")
    check_match("expired: said so", r"(?i)expired", msg)
    check_match("expired: suggests r", r"\br\b", msg)
    d.expect("ECHO_ON", EN["code"])
    d.answer(code)
    check_match("expired: the code is gone for good", r"(?i)no longer works", d.expect("ERROR"))
    d.expect("ECHO_ON", EN["code"])
    d.answer("q")
    check_eq("expired: no sign-in", d.result()[0], "PAM_AUTH_ERR")
    out = p.ctl("user", "show", "dave")[1]
    check_match("expired: not counted as a failure", r"(?m)^consecutive failures:\s*0$", out)
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
