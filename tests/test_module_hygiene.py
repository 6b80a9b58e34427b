#!/usr/bin/python3
"""test_module_hygiene.py - what the module leaves in PAM_AUTHTOK for the
modules after it, and what one try_first_pass attempt counts (issue 14,
findings 7 and 9).

The stacks here are private ones in the test's folder (pam_start_confdir),
with real modules after pam_portal: pam_unix, which takes PAM_AUTHTOK
under try_first_pass, and pam_exec with expose_authtok, which hands
PAM_AUTHTOK to a script, or asks for a password itself when there is
none.  The README's lines (default=die) never let anything run after a
portal failure; these stacks are the ones it warns against, `sufficient`
above all, where a module after a failed portal step must not be handed
a password the module took.  Root needed for the account with an old
password in /etc/shadow (tests/sysuser.py, removed on exit).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, STRONG, Portal, Probe, TestError, ask_code, check, check_eq,
                        enter_code_and_password, full_flow, run_tests, test)
from sshdtest import Person

OLD = "the old unix password 1"


def failures(p, user):
    m = re.search(r"(?m)^consecutive failures:\s*(\d+)", p.ctl("user", "show", user)[1])
    if not m:
        raise TestError("portalctl user show %s: no failure count" % user)
    return int(m.group(1))


def token_probe(p):
    """pam_exec with expose_authtok hands the script PAM_AUTHTOK, or asks
    for a password itself when there is none: what was handed, or None."""
    probe = Probe(p, "token", "cat > OUT")
    return probe, lambda: None if probe.read() is None else probe.read().rstrip(b"\0\n").decode()


def probed_stack(p, name, before=""):
    """`auth sufficient` pam_portal (after `before`), then pam_exec with
    expose_authtok, then pam_deny; (the service, what pam_exec was handed)."""
    probe, got = token_probe(p)
    return p.stack(name, before + "auth sufficient {module} socket={socket}\n"
                   "auth optional pam_exec.so quiet expose_authtok %s\n"
                   "auth required pam_deny.so\n"
                   "account required pam_permit.so\n" % probe.path), got


def next_module_asks(d, got, what, left):
    """After a portal step that failed: the next message is pam_exec's own
    password prompt (it found no PAM_AUTHTOK), and it is given what is
    typed there, not `left`, what the step would have left."""
    kind, text = d.read()
    check("%s: the next module has to ask for a password" % what, kind == "ECHO_OFF",
          (kind, text, "it was given what was left" if got() == left else got()))
    if kind == "ECHO_OFF":
        d.answer("typed again")
        d.result()
        check_eq("%s: ... and is given what was typed" % what, got(), "typed again")


@test
def a_wrong_portal_password_is_not_handed_to_pam_unix():
    """`auth sufficient pam_portal.so` then pam_unix with try_first_pass:
    the old /etc/shadow password typed at the portal's prompt must not
    sign the member in at that one prompt."""
    if os.geteuid() != 0:
        raise TestError("needs root (an account with a password in /etc/shadow)")
    p = Portal()
    person = Person(OLD)
    p.add_user(person.name, person.address)
    if full_flow(p, p.service("plain"), person.name, person.address)[0] != "PAM_AUTH_ERR":
        raise TestError("setup: the member could not be made active")
    svc = p.stack("sufficient", "auth sufficient {module} socket={socket}\n"
                  "auth required pam_unix.so try_first_pass\n"
                  "account required pam_permit.so\n")
    d = p.dialog(svc, person.name)
    d.expect("ECHO_OFF", EN["password"])
    d.answer(OLD)
    kind, text = d.read()
    check("a wrong portal password: not signed in at that one prompt, pam_unix asks "
          "for its own", kind == "ECHO_OFF", (kind, text))
    if kind == "ECHO_OFF":
        d.conv_error()
    auth, _, _ = d.result() if kind != "RESULT" else (text, None, None)
    check("... and without an answer to it, refused", "PAM_SUCCESS" not in auth, auth)
    p.stop_checked()


@test
def a_password_just_created_is_typed_again():
    """after_reset=relogin: the password just created is not left for the
    modules after this one; whoever wants a password next must ask."""
    p = Portal()
    p.add_user("alice", "alice@example.org")
    svc, got = probed_stack(p, "relogin")
    d = p.dialog(svc, "alice")
    code = ask_code(p, d, "alice", "alice@example.org")
    enter_code_and_password(d, code)
    d.expect("INFO", EN["created"])
    next_module_asks(d, got, "created, relogin", STRONG)
    check_eq("created: alice is active", p.state("alice"), "active")
    p.stop_checked()


@test
def a_cancelled_verification_leaves_no_password():
    """A password an earlier module left (pam_unix asked for it) does not
    go on past a failed portal step to a later module either."""
    p = Portal()
    p.add_user("bob", "bob@example.org")
    svc, got = probed_stack(p, "cancel", before="auth optional pam_unix.so\n")
    d = p.dialog(svc, "bob")
    d.expect("ECHO_OFF", EN["password"])      # pam_unix's
    d.answer(OLD)
    d.until("ECHO_ON", EN["email"])
    d.answer("q")
    d.expect("INFO", EN["cancelled"])
    next_module_asks(d, got, "cancelled", OLD)
    p.stop_checked()


@test
def one_try_first_pass_attempt_counts_once():
    """try_first_pass: the password an earlier module asked for is tried,
    then, wrong, asked again.  The same password typed at both prompts is
    one guess: one failure.  Two different ones are two guesses."""
    p = Portal()
    p.add_user("carol", "carol@example.org")
    if full_flow(p, p.service("plain"), "carol", "carol@example.org")[0] != "PAM_AUTH_ERR":
        raise TestError("setup: carol could not be made active")
    svc = p.stack("first", "auth optional pam_unix.so\n"
                  "auth [success=done ignore=ignore default=die] {module} socket={socket} "
                  "try_first_pass\n"
                  "auth required pam_deny.so\n"
                  "account required pam_permit.so\n")

    def attempt(first, second):
        d = p.dialog(svc, "carol")
        d.expect("ECHO_OFF", EN["password"])      # pam_unix's
        d.answer(first)
        d.expect("ECHO_OFF", EN["password"])      # the module's, the first was wrong
        d.answer(second)
        return d.result()[0]

    check_eq("setup: no failures yet", failures(p, "carol"), 0)
    auth = attempt("wrong password 1", "wrong password 1")
    check_eq("the same wrong password at both prompts: refused, one failure",
             (auth, failures(p, "carol")), ("PAM_AUTH_ERR", 1))
    auth = attempt("wrong password 2", "wrong password 3")
    check_eq("two different wrong passwords: two guesses, two failures",
             (auth, failures(p, "carol")), ("PAM_AUTH_ERR", 3))
    auth = attempt("wrong password 4", STRONG)
    check_eq("the right one at the second prompt: signed in, the run of failures over",
             (auth, failures(p, "carol")), ("PAM_SUCCESS", 0))
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
