#!/usr/bin/python3
"""test_restart.py - the helper stops, dies or restarts while conversations
are open.

The module opens a connection for every request, so a conversation
waiting at a prompt while the helper restarts simply goes on with the new
one (the code and the reset ticket are on disk); a conversation whose
helper is gone, or dies under a request, is told the service is
unavailable and ends with PAM_AUTHINFO_UNAVAIL (PAM_PERM_DENIED at the
account stage): never a way in.  The next attempt works.
"""
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, STEP_TIMEOUT, STRONG, Portal, ask_code, check, check_eq, check_match,
                        full_flow, run_tests, sign_in, test, wait_code, wait_for)


def kill9(p):
    p.proc.send_signal(signal.SIGKILL)
    p.proc.wait()


def said(before):
    return " ".join(t for _, t in before)


@test
def restart_between_prompts_goes_on():
    """SIGTERM at the code prompt, SIGKILL at the password prompt: each
    time the helper comes back before the answer, and the conversation
    ends with the password created."""
    p = Portal()
    p.add_user("alice", "alice@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "alice")
    code = ask_code(p, d, "alice", "alice@example.org")
    check_eq("SIGTERM at the code prompt: portald stops", p.stop(), 0)
    p.start()
    d.answer(code)
    check_match("after the restart: the code is still good", EN["verified"], d.expect("INFO"))
    d.expect("ECHO_ON", EN["continue"])
    d.answer("")
    d.expect("ECHO_OFF", EN["new_password"])
    kill9(p)
    p.start()
    d.answer(STRONG)
    d.expect("ECHO_OFF", EN["again"])
    d.answer(STRONG)
    d.expect("INFO", EN["created"])
    auth, _, _ = d.result()
    check_eq("after SIGKILL at the password prompt: the reset ticket still works, "
             "the password is created", auth, "PAM_AUTH_ERR")
    check_eq("and alice signs in with it", sign_in(p, svc, "alice", STRONG)[0], "PAM_SUCCESS")
    p.stop_checked()


@test
def helper_gone_at_the_next_answer():
    p = Portal(resend_interval="0s")
    p.add_user("bob", "bob@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "bob")
    code = ask_code(p, d, "bob", "bob@example.org")
    kill9(p)
    d.answer(code)
    auth, acct, before = d.result()
    check_match("helper gone: the user is told the service is unavailable",
                r"(?i)unavailable.*try again later", said(before))
    check_eq("helper gone: PAM_AUTHINFO_UNAVAIL, nobody let in", (auth, acct),
             ("PAM_AUTHINFO_UNAVAIL", "-"))
    p.start()
    # A mail the SMTP server took just before the kill, before portald could
    # write down that it was sent, goes out again after the restart (at
    # least once): wait_code waits for the outbox to be idle, so that it is
    # not taken for the next attempt's mail.
    check_eq("helper back: the code mail of before the kill went out",
             wait_code(p, "bob@example.org", 1), code)
    auth, d = full_flow(p, svc, "bob", "bob@example.org")
    check_eq("helper back: the next attempt goes through (password created)", auth,
             "PAM_AUTH_ERR")
    check_eq("helper back: bob signs in", sign_in(p, svc, "bob", STRONG)[0], "PAM_SUCCESS")
    p.stop_checked()


@test
def helper_dies_under_a_request():
    """The helper is frozen (SIGSTOP) when the password is sent, then
    killed: the request in flight fails, and nothing was set."""
    p = Portal(resend_interval="0s")
    p.add_user("carol", "carol@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "carol")
    code = ask_code(p, d, "carol", "carol@example.org")
    d.answer(code)
    d.expect("INFO", EN["verified"])
    d.expect("ECHO_ON", EN["continue"])
    d.answer("")
    d.expect("ECHO_OFF", EN["new_password"])
    d.answer(STRONG)
    d.expect("ECHO_OFF", EN["again"])
    p.proc.send_signal(signal.SIGSTOP)
    d.answer(STRONG)
    # The request is in the frozen helper's queue: wait for the module's
    # connection to be there, then kill.
    wait_for("the module's connection to the frozen helper",
             lambda: open("/proc/net/unix").read().count(p.socket) >= 2, STEP_TIMEOUT)
    kill9(p)
    auth, _, before = d.result()
    check_eq("died under set-password: PAM_AUTHINFO_UNAVAIL", auth, "PAM_AUTHINFO_UNAVAIL")
    check("died under set-password: not told the password was created",
          not re.search(EN["created"], said(before)), said(before))
    p.start()
    check_match("back: carol is still pending (nothing half done)", r"(?m)^state:\s*pending",
                p.ctl("user", "show", "carol")[1])
    auth, _ = full_flow(p, svc, "carol", "carol@example.org")
    check_eq("back: the next attempt creates the password", auth, "PAM_AUTH_ERR")
    p.stop_checked()


@test
def helper_down_for_everyone():
    p = Portal()
    p.add_user("dan", "dan@example.org")
    p.add_user("eve", "eve@example.org")
    svc = p.service("login")
    acct = p.stack("acct", "auth required pam_permit.so\n"
                   "account required {module} socket={socket}\n")
    full_flow(p, svc, "dan", "dan@example.org")
    p.stop()
    auth, _, before = p.dialog(svc, "dan").result()
    check_eq("down: an active user gets no password prompt, PAM_AUTHINFO_UNAVAIL",
             auth, "PAM_AUTHINFO_UNAVAIL")
    check_match("down: and is told to try later (in the default language: the helper's "
                "is unknown)", r"(?i)unavailable|pas disponible", said(before))
    auth, _, _ = p.dialog(svc, "eve").result()
    check_eq("down: a pending user, PAM_AUTHINFO_UNAVAIL", auth, "PAM_AUTHINFO_UNAVAIL")
    d = p.dialog(acct, "eve", flags=["-k"])
    _, acct_result, _ = d.result()
    check_eq("down: account stage (an SSH key) refused: PAM_PERM_DENIED", acct_result,
             "PAM_PERM_DENIED")
    p.start()
    check_eq("up again: dan signs in", sign_in(p, svc, "dan", STRONG)[0], "PAM_SUCCESS")
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
