#!/usr/bin/python3
"""test_policy_early.py - a new password is judged as soon as it is first
typed (issue 14, as pam_pwquality does), so nobody types a refused one
twice; the helper judges it again when it stores it.

Through libpam: a refused password gets its reason right after the first
prompt and the next question is the first prompt again; a mismatch is
still caught; the reset ticket outlives the early refusals.  On the wire
(tests/wire.py): REQ_CHECK_PASSWORD needs the live ticket (root only) or
the current password (counted as a sign-in is), stores nothing, and tells
a stranger nothing; REQ_SET_PASSWORD and REQ_CHANGE_PASSWORD still refuse
what the policy refuses.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire
from portaltest import (EN, STRONG, Cleanup, Portal, check, check_eq, check_match, code_mails,
                        full_flow, run_tests, sign_in, test, to_new_password, wait_code)
from sysuser import SystemUser

WEAK = "passwordpassword"
GOOD = "cheval bleu fourchette nuage"


def show(p, user, label):
    m = re.search(r"(?m)^%s:\s*(.*)$" % re.escape(label), p.ctl("user", "show", user)[1])
    return m and m.group(1).strip()


@test
def refused_when_first_typed_never_asked_twice():
    p = Portal(resend_interval="0")
    p.add_user("alice", "alice@example.org")
    d = p.dialog(p.service("login"), "alice")
    to_new_password(p, d, "alice", "alice@example.org")
    for pw, why in ((WEAK, r"(?i)easy to guess"), ("short", r"(?i)too short")):
        d.answer(pw)
        kind, text = d.read()
        check_eq("refused %r: the reason comes right after the first prompt" % pw,
                 kind, "ERROR")
        check_match("... saying why", why, text)
        d.expect("ECHO_OFF", EN["new_password"])
    d.answer(GOOD)
    d.expect("ECHO_OFF", EN["again"])
    d.answer(GOOD)
    d.expect("INFO", EN["created"])
    check_eq("two early refusals leave the ticket live: the third round creates it",
             d.result()[0], "PAM_AUTH_ERR")
    prompts = [t for t in d.transcript if t.startswith("ECHO_OFF")]
    check_eq("the confirming prompt came once, for the password taken",
             len([t for t in prompts if re.search(EN["again"], t)]), 1)
    check_eq("and signs in", sign_in(p, p.service("login"), "alice", GOOD)[0], "PAM_SUCCESS")
    check_match("the helper judged each first-typed password (check-password in its log)",
                r"check-password for alice .*easy to guess", p.log())
    p.stop_checked()


@test
def a_mismatch_is_still_caught():
    p = Portal()
    p.add_user("bob", "bob@example.org")
    d = p.dialog(p.service("login"), "bob")
    to_new_password(p, d, "bob", "bob@example.org")
    d.answer(GOOD)
    d.expect("ECHO_OFF", EN["again"])
    d.answer(GOOD + "!")
    check_match("a good password typed differently the second time: said", r"(?i)not the same",
                d.expect("ERROR"))
    d.expect("ECHO_OFF", EN["new_password"])
    d.answer("")
    d.expect("INFO", EN["cancelled"])
    d.result()
    check_match("nothing was created", r"(?m)^password set:\s*no$",
                p.ctl("user", "show", "bob")[1])
    p.stop_checked()


# ---- the request ---------------------------------------------------------------

def req(p, rtype, *fields):
    return wire.call(p.socket, wire.request(rtype, *fields))


def check_req(p, user, new, ticket=None, password=None):
    fields = [(wire.TAG_USER, user), (wire.TAG_NEW_PASSWORD, new)]
    if ticket is not None:
        fields.append((wire.TAG_TICKET, ticket))
    if password is not None:
        fields.append((wire.TAG_PASSWORD, password))
    return req(p, wire.REQ_CHECK_PASSWORD, *fields)


def a_ticket(p, user, addr):
    """A live reset ticket, as the module gets one: a code mailed, typed."""
    before = len(code_mails(p, addr))
    r = req(p, wire.REQ_SEND_CODE, (wire.TAG_USER, user), (wire.TAG_EMAIL, addr))
    if r.result != wire.RESULT_OK:
        raise AssertionError("send code: %r" % r)
    code = wait_code(p, addr, before + 1)
    r = req(p, wire.REQ_VERIFY_CODE, (wire.TAG_USER, user), (wire.TAG_CODE, code),
            (wire.TAG_REQUEST, r.get(wire.TAG_REQUEST)))
    if r.result != wire.RESULT_OK:
        raise AssertionError("verify code: %r" % r)
    return r.get(wire.TAG_TICKET)


@test
def with_a_ticket_judged_and_the_ticket_left_live():
    p = Portal()
    p.add_user("carol", "cdupont@example.org")
    r = check_req(p, "carol", WEAK)
    check("neither ticket nor password: refused as a bad request, no verdict",
          r.result == wire.RESULT_BAD_REQUEST and r.get(wire.TAG_REASON) is None, r)
    r = check_req(p, "carol", "x cdupont@example.org y", ticket=bytes(32))
    check("a wrong ticket: RESULT_TICKET, no verdict (never an oracle for the address)",
          r.result == wire.RESULT_TICKET and r.get(wire.TAG_REASON) is None, r)

    t = a_ticket(p, "carol", "cdupont@example.org")
    r = check_req(p, "carol", WEAK, ticket=t, password=STRONG)
    check_eq("a ticket and a password at once: a bad request", r.result,
             wire.RESULT_BAD_REQUEST)
    for pw, why in ((WEAK, wire.PW_GUESSABLE), ("x cdupont@example.org y", wire.PW_HAS_EMAIL),
                    ("short", wire.PW_TOO_SHORT), (WEAK, wire.PW_GUESSABLE)):
        r = check_req(p, "carol", pw, ticket=t)
        check("with the ticket, %r: POLICY, reason %d" % (pw, why),
              r.result == wire.RESULT_POLICY and r.u32(wire.TAG_REASON) == why, r)
    r = check_req(p, "carol", GOOD, ticket=t)
    check_eq("with the ticket, a good password: OK", r.result, wire.RESULT_OK)
    check_match("nothing was stored", r"(?m)^password set:\s*no$",
                p.ctl("user", "show", "carol")[1])

    # Four early refusals and an OK later, the ticket is still live, with
    # its three tries: the final word is REQ_SET_PASSWORD's.
    def set_pw(pw):
        return req(p, wire.REQ_SET_PASSWORD, (wire.TAG_USER, "carol"), (wire.TAG_TICKET, t),
                   (wire.TAG_PASSWORD, pw))
    r = set_pw(WEAK)
    check("REQ_SET_PASSWORD still refuses what the policy refuses (never trusts the early "
          "check)", r.result == wire.RESULT_POLICY and
          r.u32(wire.TAG_REASON) == wire.PW_GUESSABLE, r)
    check_eq("... and the ticket survives it, as before", set_pw(GOOD).result, wire.RESULT_OK)
    check_eq("created: signs in", sign_in(p, p.service("login"), "carol", GOOD)[0],
             "PAM_SUCCESS")
    r = check_req(p, "carol", GOOD, ticket=t)
    check_eq("the used ticket no longer judges anything", r.result, wire.RESULT_TICKET)
    p.stop_checked()


@test
def with_the_current_password_counted_as_a_sign_in():
    p = Portal()
    p.add_user("dave", "dave@example.org")
    check_eq("setup: active", full_flow(p, p.service("login"), "dave", "dave@example.org")[0],
             "PAM_AUTH_ERR")
    r = check_req(p, "dave", "x dave@example.org y", password=STRONG + "?")
    check("a wrong current password: RESULT_PASSWORD, no verdict",
          r.result == wire.RESULT_PASSWORD and r.get(wire.TAG_REASON) is None, r)
    check_eq("... counted as a failure, as REQ_AUTH counts it",
             show(p, "dave", "consecutive failures"), "1")
    r = check_req(p, "dave", WEAK, password=STRONG)
    check("the right current password, a weak new one: POLICY, easy to guess",
          r.result == wire.RESULT_POLICY and r.u32(wire.TAG_REASON) == wire.PW_GUESSABLE, r)
    check_eq("... and the run of failures ends, as at a sign-in",
             show(p, "dave", "consecutive failures"), "0")
    r = check_req(p, "dave", GOOD, password=STRONG)
    check_eq("a good new one: OK", r.result, wire.RESULT_OK)
    check_eq("nothing was changed: the current password still signs in",
             sign_in(p, p.service("login"), "dave", STRONG)[0], "PAM_SUCCESS")
    r = req(p, wire.REQ_CHANGE_PASSWORD, (wire.TAG_USER, "dave"), (wire.TAG_PASSWORD, STRONG),
            (wire.TAG_NEW_PASSWORD, WEAK))
    check("REQ_CHANGE_PASSWORD still refuses what the policy refuses",
          r.result == wire.RESULT_POLICY and r.u32(wire.TAG_REASON) == wire.PW_GUESSABLE, r)
    for _ in range(3):
        check_req(p, "dave", GOOD, password="not it at all, no")
    check_eq("three wrong current passwords: three failures in a row, as three wrong "
             "sign-ins", show(p, "dave", "consecutive failures"), "3")
    p.stop_checked()


@test
def only_root_or_the_member_themself():
    u = SystemUser()
    Cleanup.add(u.remove)
    p = Portal()
    p.add_user(u.name, "own@example.org")
    p.add_user("erin", "erin@example.org")
    check_eq("setup: the account's member is active",
             full_flow(p, p.service("login"), u.name, "own@example.org")[0], "PAM_AUTH_ERR")
    got = {}
    os.seteuid(u.uid)        # SO_PEERCRED takes the effective uid at connect
    try:
        got["another member's, with a password"] = check_req(p, "erin", WEAK, password=STRONG)
        got["another member's, with a ticket"] = check_req(p, "erin", WEAK, ticket=bytes(32))
        got["its own, with a ticket (root's alone, as REQ_SET_PASSWORD)"] = check_req(
            p, u.name, WEAK, ticket=bytes(32))
        own = check_req(p, u.name, WEAK, password=STRONG)
    finally:
        os.seteuid(0)
    for what, r in got.items():
        check("non-root: %s -> denied, no verdict" % what,
              r.result == wire.RESULT_DENIED and r.get(wire.TAG_REASON) is None, r)
    check("non-root, its own with its current password: judged (a screen locker's passwd)",
          own.result == wire.RESULT_POLICY and own.u32(wire.TAG_REASON) == wire.PW_GUESSABLE,
          own)
    check_eq("erin untouched", show(p, "erin", "consecutive failures"), "0")
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
