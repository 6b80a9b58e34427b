#!/usr/bin/python3
"""test_account.py - the account stage, through libpam: a pending user who
signed in without the portal (an SSH key: sshd skips the auth stage) must
still go through the verification before the session.

pamconv -k plays sshd after a public key: pam_acct_mgmt alone.  sshd then
runs passwd, another process with its own PAM handle (pamconv -p); login
and su instead call pam_chauthtok(PAM_CHANGE_EXPIRED_AUTHTOK) in the same
handle (pamconv -k -e).
"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, ROOT, STRONG, Portal, cancel_verification, check, check_eq,
                        check_match, full_flow, run_tests, sign_in, test, verification)

# The lines the README gives, from the sample that ships; each followed by
# a stand-in for its group's @include: what an ignored module falls
# through to (pam_unix fails users it does not know, passes known ones).
SAMPLE = os.path.join(ROOT, "config", "pam.d-sshd")
INCLUDED = {
    "auth": "auth required pam_deny.so",
    "account": "account required pam_permit.so",
    "password": "password required pam_deny.so",
}
# A line in the style of the LDAP modules', which ignore a directory that
# is down: the module must still refuse.
LDAP_STYLE = ("account [success=ok new_authtok_reqd=done ignore=ignore authinfo_unavail=ignore "
              "default=bad] pam_portal.so")


def sshd_service(p, name="sshd", auth="", account=None):
    """The sample's lines; auth: options for the auth line; account: a line
    to use instead of the sample's account line."""
    lines = []
    with open(SAMPLE) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            group = line.split()[0]
            if group == "account" and account:
                line = account
            options = " " + auth if group == "auth" and auth else ""
            lines += [line.replace("pam_portal.so", "{module} socket={socket}" + options),
                      INCLUDED[group]]
    if len(lines) != 6:
        raise AssertionError("%s: expected one line per group, got %r" % (SAMPLE, lines))
    return p.stack(name, "\n".join(lines) + "\n")


def pending_behind_sshd(user, auth="", **conf):
    """A helper (conf over the defaults) with user pending at
    user@example.org, and the sample's sshd stack (auth: options of its
    auth line): (the portal, the service)."""
    p = Portal(**conf)
    p.add_user(user, user + "@example.org")
    return p, sshd_service(p, auth=auth)


def key_sign_in(p, svc, user, *flags):
    """pam_acct_mgmt alone, as sshd after a public key."""
    return p.dialog(svc, user, flags=("-k",) + flags)


def verify(p, d, user, addr):
    """The whole verification, from its first message to the password."""
    intro, _ = verification(p, d, user, addr)
    check_match("verification: it starts with the intro (%s)" % user, EN["intro"], intro)


@test
def key_sign_in_of_a_pending_user():
    p, svc = pending_behind_sshd("alice")

    auth, acct, before = key_sign_in(p, svc, "alice").result()
    check_eq("key: no auth stage", auth, "-")
    check_eq("key: a pending user needs a new password", acct, "PAM_NEW_AUTHTOK_REQD")
    check("key: the user is told why", len(before) == 1 and before[0][0] == "INFO" and
          "verify your e-mail address" in before[0][1], before)
    check_eq("key: still pending after the account stage", p.state("alice"), "pending")

    # sshd runs passwd: another process, another PAM handle; nothing of the
    # account stage is left but what the helper knows.
    d = p.dialog(svc, "alice", flags=("-p",))
    verify(p, d, "alice", "alice@example.org")
    d.result()
    check_eq("key: passwd after it runs the verification and sets the password",
             d.password, "PAM_SUCCESS")

    auth, acct, before = key_sign_in(p, svc, "alice").result()
    check_eq("key: the next key sign-in passes the account stage, silently",
             (acct, before), ("PAM_SUCCESS", []))
    auth, acct, _ = sign_in(p, svc, "alice", STRONG)
    check_eq("key: the password set there signs in", (auth, acct),
             ("PAM_SUCCESS", "PAM_SUCCESS"))
    p.stop_checked()


@test
def login_changes_in_the_same_handle():
    p, svc = pending_behind_sshd("bruno")
    d = key_sign_in(p, svc, "bruno", "-e")
    d.expect("INFO", r"verify your e-mail address")
    verify(p, d, "bruno", "bruno@example.org")
    auth, acct, _ = d.result()
    check_eq("expired: account says a new password is needed", acct, "PAM_NEW_AUTHTOK_REQD")
    check_eq("expired: pam_chauthtok(PAM_CHANGE_EXPIRED_AUTHTOK) verifies and sets it",
             d.password, "PAM_SUCCESS")
    check_eq("expired: the user is active", p.state("bruno"), "active")

    p.add_user("carla", "carla@example.org")
    d = key_sign_in(p, svc, "carla", "-e")
    cancel_verification(d)
    check_eq("expired: a cancelled verification fails the change", d.password,
             "PAM_AUTHTOK_ERR")
    check_eq("expired: the cancelled user stays pending", p.state("carla"), "pending")
    p.stop_checked()


@test
def active_and_unmanaged():
    p, svc = pending_behind_sshd("dora")
    auth, _ = full_flow(p, svc, "dora", "dora@example.org")
    auth, acct, before = key_sign_in(p, svc, "dora").result()
    check_eq("active: PAM_SUCCESS, nothing said", (acct, before), ("PAM_SUCCESS", []))
    auth, acct, before = key_sign_in(p, svc, "nobody-here").result()
    check_eq("unmanaged: ignored, pam_permit decides, nothing said", (acct, before),
             ("PAM_SUCCESS", []))
    # Alone on its stack, an ignored module leaves libpam nothing to go on.
    alone = p.stack("alone", "account required {module} socket={socket}\n")
    acct = key_sign_in(p, alone, "nobody-here").result()[1]
    check("unmanaged: PAM_IGNORE alone is no success", acct != "PAM_SUCCESS", acct)
    p.stop_checked()


@test
def after_reset_continue_does_not_loop():
    p, svc = pending_behind_sshd("emile", auth="after_reset=continue")
    d = p.dialog(svc, "emile")
    verify(p, d, "emile", "emile@example.org")
    auth, acct, before = d.result()
    check_eq("continue: signed in by the verification", auth, "PAM_SUCCESS")
    check_eq("continue: the account stage that follows lets the user in",
             acct, "PAM_SUCCESS")
    check("continue: no second verification", not any("verify" in t for _, t in before),
          before)
    p.stop_checked()


@test
def account_after_auth_in_one_handle():
    """login, su and sshd's password sign-in run account right after auth,
    in one process: what auth has just established (not managed; active
    and the password right) is not asked of the helper again.  A pam_exec
    line stops portald (SIGSTOP) between the two stages: the account stage
    still ends at once, where asking would have waited for its time-out."""
    p = Portal()
    p.add_user("hugo", "hugo@example.org")
    full_flow(p, p.service("flow"), "hugo", "hugo@example.org")
    freeze = os.path.join(p.dir, "freeze.sh")
    with open(freeze, "w") as f:
        f.write("#!/bin/sh\nkill -STOP %d\n" % p.proc.pid)
    os.chmod(freeze, 0o755)
    svc = p.stack("frozen", "auth [success=ok ignore=ignore default=die] {module} socket={socket}\n"
                  "auth optional pam_exec.so quiet %s\n"
                  "auth required pam_permit.so\n"
                  "account required {module} socket={socket}\n"
                  "account required pam_permit.so\n" % freeze)
    try:
        for user, answers, what in (("nobody-here", [], "not managed"),
                                    ("hugo", [STRONG], "active, right password")):
            d = p.dialog(svc, user)
            for a in answers:
                d.expect("ECHO_OFF")
                d.answer(a)
            auth, acct, _ = d.result()
            check_eq("auth then account, one handle, %s: account not asked again "
                     "(portald stopped in between)" % what, (auth, acct),
                     ("PAM_SUCCESS", "PAM_SUCCESS"))
            os.kill(p.proc.pid, signal.SIGCONT)
    finally:
        os.kill(p.proc.pid, signal.SIGCONT)
    # In its own process (sshd after a key) account does ask.
    d = key_sign_in(p, svc, "hugo")
    check_eq("account alone still asks the helper (active)", d.result()[1], "PAM_SUCCESS")
    p.stop_checked()


@test
def locked_user_refused():
    # every wrong password locks, for 15 minutes
    p, svc = pending_behind_sshd("fanny", code_attempts="1")
    full_flow(p, svc, "fanny", "fanny@example.org")
    auth, _, _ = sign_in(p, svc, "fanny", "not the password")
    check_eq("locked: setup", p.state("fanny"), "locked")
    auth, acct, before = key_sign_in(p, svc, "fanny").result()
    check_eq("locked: refused at the account stage", acct, "PAM_PERM_DENIED")
    check("locked: the user is told for how long",
          len(before) == 1 and before[0][0] == "ERROR" and "15 minutes" in before[0][1], before)
    p.stop_checked()


@test
def helper_down_fails_closed():
    p, svc = pending_behind_sshd("gilles")
    ldap = sshd_service(p, "sshd-ldap-style", account=LDAP_STYLE)
    p.stop_checked()
    for name in (svc, ldap):
        auth, acct, before = key_sign_in(p, name, "gilles").result()
        check_eq("helper down (%s): refused, not through to pam_permit" % name,
                 acct, "PAM_PERM_DENIED")
        check("helper down (%s): the service is said to be unavailable" % name,
              len(before) == 1 and "pas disponible" in before[0][1], before)
    # root too: the module cannot tell who is managed without the helper
    acct = key_sign_in(p, svc, "root").result()[1]
    check_eq("helper down: every user is refused", acct, "PAM_PERM_DENIED")


@test
def account_in_french():
    p, svc = pending_behind_sshd("hana", language="fr")
    auth, acct, before = key_sign_in(p, svc, "hana").result()
    check_eq("french: a new password is needed", acct, "PAM_NEW_AUTHTOK_REQD")
    check("french: told why in French", len(before) == 1 and
          "vérifier votre adresse courriel" in before[0][1], before)
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
