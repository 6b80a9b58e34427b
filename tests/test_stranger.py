#!/usr/bin/python3
"""test_stranger.py - what a stranger who knows only a member's user name
can do to that member, and what an honest typo costs (issue 14, findings
1, 2 and 8).

The member signs in through the real module and libpam (tests/pamconv,
with a remote host of its own); the stranger either does the same from
another host, or talks to portald's socket as the module would
(tests/wire.py), naming the host it comes from in TAG_SOURCE, so that
many hosts can be played at once.  Locks last seconds here (the test's
configuration); where a test waits for one to end, the clock is what it
waits on, to the end the answer gave.

- Code burning (1): typing addresses that are not on file never ends the
  member's code, nor uses up the member's codes_per_hour.
- A typo (8): a wrong address, then `e` and the right one, mails a code at
  once.
- Locks (2): wrong passwords or codes from one host lock that host out,
  never the member elsewhere, and past max_failures each lock is longer,
  capped by lockout_max, and ends; a hundred from many hosts lock the
  member everywhere, for a time; the member is told by mail (once), the
  log says it at warning level, `portalctl user show` shows each lock and
  where from, `user unlock` lifts them all.
"""
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire
from portaltest import (EN, STEP_TIMEOUT, STRONG, Portal, ask_code, check, check_eq,
                        check_match, code_mails, create_password, enter_code_and_password,
                        full_flow, run_tests, test, wait_code, wait_for)

MEMBER_HOST = "192.0.2.10"
STRANGER_HOST = "203.0.113.7"


def send_code(p, user, addr, source=STRANGER_HOST):
    return wire.call(p.socket, wire.request(wire.REQ_SEND_CODE, (wire.TAG_USER, user),
                                            (wire.TAG_EMAIL, addr), (wire.TAG_SOURCE, source)))


def verify(p, user, code, handle, source=STRANGER_HOST):
    return wire.call(p.socket, wire.request(wire.REQ_VERIFY_CODE, (wire.TAG_USER, user),
                                            (wire.TAG_CODE, code), (wire.TAG_REQUEST, handle),
                                            (wire.TAG_SOURCE, source)))


def auth(p, user, password, source=STRANGER_HOST):
    return wire.call(p.socket, wire.request(wire.REQ_AUTH, (wire.TAG_USER, user),
                                            (wire.TAG_PASSWORD, password),
                                            (wire.TAG_SOURCE, source)))


def member_signs_in(p, svc, user, password=STRONG):
    """The member's password sign-in from their own host, through libpam:
    every password prompt answered with it.  (authenticate result, the
    transcript)."""
    d = p.dialog(svc, user, rhost=MEMBER_HOST)
    while True:
        kind, text = d.read()
        if kind == "RESULT":
            break
        if kind == "ECHO_OFF":
            d.answer(password)
        elif kind == "ECHO_ON":
            d.fail("an echoed prompt at a password sign-in")
    d.proc.stdin.close()
    d.proc.wait(timeout=STEP_TIMEOUT)
    return d.result_line.split()[1].split("=")[1], d.text()


# time(2), which portald reads, is the kernel's coarse clock: up to a tick
# (4 ms) behind the one Python reads.
COARSE = 0.05


def wait_until(t):
    """Until portald's clock passes unix time t (a lock's end: the event is
    the clock itself)."""
    wait_for("unix time %d" % t, lambda: time.time() >= t + COARSE,
             t - time.time() + STEP_TIMEOUT)


def lock_mails(p, addr):
    return [m for m in p.mails(addr) if re.search(r"(?i)locked", m.header("Subject") or "")]


@test
def code_burning_by_a_stranger():
    """Five requests from another host with addresses not on file, between
    the member's request and the code typed: on the old rules each made a
    new code (the member's died) and used up codes_per_hour (5)."""
    p = Portal(resend_interval="0")
    p.add_user("alice", "alice@example.org")
    svc = p.service("login")
    member = p.dialog(svc, "alice", rhost=MEMBER_HOST)
    code = ask_code(p, member, "alice", "alice@example.org")

    stranger = p.dialog(svc, "alice", rhost=STRANGER_HOST)
    seen = []
    stranger.until("ECHO_ON", EN["email"])
    for i in range(5):
        stranger.answer("guess%d@example.org" % i)
        seen.append(stranger.expect("INFO"))
        stranger.expect("ECHO_ON", EN["code"])
        stranger.answer("e")
        stranger.expect("ECHO_ON", EN["email"])
    stranger.answer("q")
    stranger.expect("INFO", EN["cancelled"])
    stranger.result()
    check("the stranger is told what the member would be told, each time",
          all(re.search(EN["sent"], t) for t in seen), seen)
    check_eq("no mail to the addresses the stranger typed",
             sum(len(p.mails("guess%d@example.org" % i)) for i in range(5)), 0)
    check_eq("no new code for the member either", len(code_mails(p, "alice@example.org")), 1)

    member.answer(code)
    check_match("the member's code still works after the stranger's requests",
                EN["verified"], member.expect("INFO"))
    member.expect("ECHO_ON", EN["continue"])
    member.answer("e")
    member.expect("ECHO_ON", EN["email"])
    member.answer("alice@example.org")
    check_match("... and the member may still ask for codes: the stranger used none "
                "of their codes_per_hour", EN["sent"], member.expect("INFO"))
    member.expect("ECHO_ON", EN["code"])
    enter_code_and_password(member, wait_code(p, "alice@example.org", 2))
    member.expect("INFO", EN["created"])
    check_eq("... to the end: the password is created", member.result()[0], "PAM_AUTH_ERR")
    out = p.ctl("user", "show", "alice")[1]
    check_match("the stranger's requests counted no failure", r"(?m)^consecutive failures:\s*0$",
                out)
    p.stop_checked()


@test
def typo_then_the_right_address():
    """resend_interval 60 s: a mistyped address, then e and the right one.
    On the old rules the member was told a code had been sent "recently"
    (none had) and had to wait a minute."""
    p = Portal()
    p.add_user("bob", "bob@example.org")
    d = p.dialog(p.service("login"), "bob", rhost=MEMBER_HOST)
    d.until("ECHO_ON", EN["email"])
    d.answer("bob@exmaple.org")
    d.expect("INFO", EN["sent"])
    d.expect("ECHO_ON", EN["code"])
    d.answer("e")
    d.expect("ECHO_ON", EN["email"])
    d.answer("bob@example.org")
    kind, text = d.read()
    check("typo, then the right address: a code is sent at once, no wait",
          kind == "INFO" and re.search(EN["sent"], text), (kind, text))
    if kind != "INFO":
        d.kill()
        p.stop_checked()
        return
    d.expect("ECHO_ON", EN["code"])
    enter_code_and_password(d, wait_code(p, "bob@example.org", 1))
    d.expect("INFO", EN["created"])
    check_eq("... and the code works to the end", d.result()[0], "PAM_AUTH_ERR")
    check_eq("... nothing went to the mistyped address", len(p.mails("bob@exmaple.org")), 0)
    p.stop_checked()


@test
def wrong_codes_from_a_stranger_lock_only_the_stranger():
    """A pending member: the stranger makes a request with any address (no
    mail is sent) and types wrong codes against it until locked out; the
    member, from their own host, gets a code and verifies."""
    p = Portal(code_attempts="3", lockout="1h")
    p.add_user("carol", "carol@example.org")
    r = send_code(p, "carol", "whoever@example.org")
    check("the stranger's request is answered as any other, with a handle",
          r.result == wire.RESULT_OK and len(r.get(wire.TAG_REQUEST) or b"") ==
          wire.PORTAL_REQUEST_LEN, r)
    results = [verify(p, "carol", "%06d" % i, r.get(wire.TAG_REQUEST)).result for i in range(3)]
    check_eq("three wrong codes: the stranger is locked out", results,
             [wire.RESULT_CODE_WRONG, wire.RESULT_CODE_WRONG, wire.RESULT_LOCKED])
    check_eq("... and stays so", send_code(p, "carol", "carol@example.org").result,
             wire.RESULT_LOCKED)
    d = p.dialog(p.service("login"), "carol", rhost=MEMBER_HOST)
    code = ask_code(p, d, "carol", "carol@example.org")
    enter_code_and_password(d, code)
    check_match("the member, from their own host, verifies and creates the password",
                EN["created"], d.expect("INFO"))
    d.result()
    out = p.ctl("user", "show", "carol")[1]
    check_match("user show: the stranger's host is locked, and until when",
                r"(?m)^locked from:\s*%s until .*\(3 failures in a row\)$"
                % re.escape(STRANGER_HOST), out)
    check_match("... the member's own count is clean", r"(?m)^consecutive failures:\s*0$", out)
    p.stop_checked()


@test
def a_stranger_cannot_lock_an_active_member_out():
    """Wrong passwords from one host, run after run, the locks waited out:
    on the old rules max_failures locked the member for good."""
    lockout, lockout_max = 2, 5
    p = Portal(code_attempts="3", lockout="%ds" % lockout, max_failures="6",
               lockout_max="%ds" % lockout_max)
    p.add_user("dave", "dave@example.org")
    svc = p.service("login")
    full_flow(p, svc, "dave", "dave@example.org")
    ends, signed_in = [], []
    for _ in range(5):
        for _ in range(3):
            r = auth(p, "dave", "a wrong guess at it")
        ends.append((time.time(), r.result, r.u64(wire.TAG_UNTIL)))
        signed_in.append(member_signs_in(p, svc, "dave")[0])
        wait_until(r.u64(wire.TAG_UNTIL) or time.time())
    check("every run of code_attempts locks the stranger's host, with an end",
          all(res == wire.RESULT_LOCKED and until and until > t for t, res, until in ends), ends)
    lengths = [until - t for t, _, until in ends]
    check("past max_failures the locks grow, and no lock outlasts lockout_max (%s s)"
          % ", ".join("%.1f" % x for x in lengths),
          lengths[3] > lengths[0] + 1 and all(x <= lockout_max for x in lengths), lengths)
    check_eq("meanwhile the member signs in from their own host, every time", signed_in,
             ["PAM_SUCCESS"] * 5)
    for _ in range(3):
        r = auth(p, "dave", "a wrong guess at it")
    out = p.ctl("user", "show", "dave")[1]
    check_match("user show: the lock, its host and its end",
                r"(?m)^locked from:\s*%s until .*\(18 failures in a row\)$"
                % re.escape(STRANGER_HOST), out)
    check_match("the log says it at warning level",
                r"(?m)warning.*dave locked from %s" % re.escape(STRANGER_HOST), p.log())
    mails = lock_mails(p, "dave@example.org")
    check("the member is told by mail, once for all these locks",
          len(mails) == 1 and STRANGER_HOST in mails[0].body, [m.body for m in mails])
    check_eq("portalctl user unlock: exit 0", p.ctl("user", "unlock", "dave")[0], 0)
    out = p.ctl("user", "show", "dave")[1]
    check("... every lock is lifted", "locked from" not in out and
          auth(p, "dave", STRONG).result == wire.RESULT_OK, out)
    p.stop_checked()


def many_hosts_guess(p, user, hosts, each):
    """each wrong passwords from every one of hosts, four at a time; the
    answers."""
    def one(h):
        return [auth(p, user, "guess %d from %s" % (i, h), source=h).result for i in range(each)]
    with ThreadPoolExecutor(4) as pool:
        return [r for rs in pool.map(one, hosts) for r in rs]


@test
def many_hosts_lock_the_member_for_a_time():
    """A hundred wrong passwords in a row from 25 hosts, none of which
    reaches a lock of its own: the member is locked out everywhere (NIST SP
    800-63B's limit), for `lockout`, and then signs in again."""
    lockout = 3
    p = Portal(code_attempts="5", lockout="%ds" % lockout, max_failures="20")
    p.add_user("erin", "erin@example.org")
    svc = p.service("login")
    full_flow(p, svc, "erin", "erin@example.org")
    hosts = ["198.51.100.%d" % i for i in range(25)]
    results = many_hosts_guess(p, "erin", hosts, 4)
    check_eq("99 answered 'wrong password', the hundredth locks",
             (results.count(wire.RESULT_PASSWORD), results.count(wire.RESULT_LOCKED)), (99, 1))
    r = auth(p, "erin", STRONG, source="192.0.2.99")
    t = time.time()
    check("a host never seen is locked out too, with an end no later than `lockout`",
          r.result == wire.RESULT_LOCKED and t < r.u64(wire.TAG_UNTIL) <= t + lockout, r)
    res, text = member_signs_in(p, svc, "erin")
    check("the member is refused meanwhile, and told for how long",
          res == "PAM_AUTH_ERR" and re.search(r"(?i)locked.*\d+ seconds?", text), text)
    check_match("the log says it at warning level", r"(?m)warning.*erin locked from every source",
                p.log())
    wait_until(r.u64(wire.TAG_UNTIL))
    check_eq("the lock ends: the member signs in", member_signs_in(p, svc, "erin")[0],
             "PAM_SUCCESS")
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
