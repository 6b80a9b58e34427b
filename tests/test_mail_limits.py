#!/usr/bin/python3
"""test_mail_limits.py - the mail a member can cause is limited, and the
outbox is bounded without ever dropping a code mail (issue 14, finding 9's
mail parts).  The lock mails' limit (one a day) is in test_stranger.py.

- A member who changes the password in a loop (passwd, through libpam)
  gets three notices an hour at most; past that one waits its turn, each
  new change's notice taking its place (it tells of the last change), so
  that the outbox holds one notice of theirs, not one per change.
- outbox_max mails waiting: password notices are not queued any more (the
  log says so once, `portalctl status` and `portalctl outbox` say so), and
  a code mail for a member who asks for one still is, and goes out.

A notice held for an hour is seen in the outbox, not waited for: the mail
received is counted once the outbox says every other one was sent or
replaced (it writes "sent" once the server has stored the message).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (CTL_POLL, EN, STEP_TIMEOUT, STRONG, Portal, ask_code, check, check_eq,
                        check_match, enter_code_and_password, full_flow, run_tests, test,
                        wait_for)

PASSWD = """password [success=done ignore=ignore default=die] {module} socket={socket}
password required pam_deny.so
"""
PASSWORDS = ["the first of my new passphrases %d" % i for i in range(6)]


def active(p, user):
    p.add_user(user, user + "@example.org")
    auth, _ = full_flow(p, p.service("login"), user, user + "@example.org")
    if auth != "PAM_AUTH_ERR":
        raise AssertionError("setup of %s: the verification ended with %s" % (user, auth))


def change(p, svc, user, current, new):
    """passwd through libpam: the current password, then the new one at
    every prompt for it; the result of pam_chauthtok."""
    d = p.dialog(svc, user, flags=("-p",))
    while True:
        kind, text = d.read()
        if kind == "RESULT":
            break
        if kind == "ECHO_OFF":
            d.answer(current if re.search(r"(?i)current", text) else new)
        elif kind == "ECHO_ON":
            d.fail("an echoed prompt in passwd")
    d.proc.stdin.close()
    d.proc.wait()
    return re.search(r"password=(\S+)", d.result_line).group(1)


def notices(p, user):
    """The status of each of user's mails in the outbox (the STATUS column
    of portalctl outbox), oldest first: the code mail of the verification,
    then the notices."""
    rows = [re.split(r"\s{2,}", l) for l in p.ctl("outbox")[1].splitlines()]
    return [r[3] for r in rows if len(r) >= 4 and r[1] == user and r[2] == user + "@example.org"]


def count(statuses, word):
    return len([s for s in statuses if s.startswith(word)])


def received_notices(p, addr):
    return [m for m in p.smtpd.mails(addr) if not m.code]


def settled(p, user):
    """The outbox lines of user's notices once only the held one waits:
    every other sent, or replaced."""
    def one_left():
        lines = notices(p, user)
        return lines if count(lines, "queued") == 1 else None
    return wait_for("one notice of %s left waiting" % user, one_left, STEP_TIMEOUT, CTL_POLL)


@test
def notices_in_a_loop_are_rate_limited():
    p = Portal()
    active(p, "alice")
    check_eq("setup: the notice of the password created went out",
             len([m for m in p.mails("alice@example.org") if not m.code]), 1)
    svc = p.stack("passwd", PASSWD)
    results, current = [], STRONG
    for new in PASSWORDS[:5]:
        results.append(change(p, svc, "alice", current, new))
        current = new
    check_eq("five password changes in a row, through passwd", results, ["PAM_SUCCESS"] * 5)
    lines = settled(p, "alice")
    check("three notices in the hour went out, then one waits its turn (the last change's), "
          "having replaced the two before it",
          count(lines, "sent") == 1 + 3 and count(lines, "expired: replaced by a newer one") == 2,
          lines)
    check_eq("... so the mailbox got three notices, not one per change",
             len(received_notices(p, "alice@example.org")), 3)
    check_match("portalctl status: the one held waits", r"(?m)^mails waiting:\s*1$",
                p.ctl("status")[1])
    p.stop_checked()


@test
def a_full_outbox_refuses_notices_never_a_code_mail():
    """outbox_max 3, and a mail server that says "try later": three
    notices waiting fill the outbox."""
    p = Portal(outbox_max="3")
    for u in ("m1", "m2", "m3", "m4"):
        active(p, u)
    p.wait_outbox_idle()
    p.smtpd.set_mode("refuse 451 4.3.0 try again later")
    svc = p.stack("passwd", PASSWD)
    results = [change(p, svc, u, STRONG, PASSWORDS[0]) for u in ("m1", "m2", "m3")]
    status = p.ctl("status")[1]
    check("three changes: three notices wait, the outbox is full, and status says so",
          results == ["PAM_SUCCESS"] * 3 and re.search(r"(?m)^mails waiting:\s*3$", status) and
          re.search(r"(?m)^outbox:\s*full", status), (results, status))
    check_eq("a fourth change is still made", change(p, svc, "m4", STRONG, PASSWORDS[0]),
             "PAM_SUCCESS")
    m4 = notices(p, "m4")
    check("... its notice is not queued: the outbox has only the code mail and the notice "
          "of the password created, sent", len(m4) == 2 and count(m4, "sent") == 2, m4)
    check_match("portalctl outbox says the outbox is full", r"(?i)the outbox is full",
                p.ctl("outbox")[1])
    check_eq("the log says it once", len(re.findall(r"(?m)outbox: full", p.log())), 1)
    p.smtpd.set_mode("ok")
    p.add_user("m5", "m5@example.org")
    d = p.dialog(p.service("login"), "m5")
    # m5 has no mail yet: nothing to count before (the notices still wait
    # for their retry); the session that takes m5's code takes them too.
    code = ask_code(p, d, "m5", "m5@example.org", mails_before=0)
    check("a member asking for a code while it is full: the code mail goes out", code)
    enter_code_and_password(d, code)
    check_match("... and the code works", EN["created"], d.expect("INFO"))
    d.result()
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
