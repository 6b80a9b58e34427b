#!/usr/bin/python3
"""test_chauthtok.py - passwd for portal users, through libpam.

pamconv -p plays passwd: pam_chauthtok alone, which libpam runs twice
(PAM_PRELIM_CHECK, then PAM_UPDATE_AUTHTOK) over the password lines of a
service file in a temporary folder, with the real helper and SMTP server.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, FR, STRONG, Portal, cancel_verification, check, check_eq,
                        check_match, full_flow, run_tests, sign_in, test, verification)

NEW = "a brand new passphrase for 2024"
HOST = "198.51.100.7"     # where a test's dialogs come from, when it matters (locks)

# Words of the password change, in both languages.
CHANGE_EN = {
    "current": r"^Current password: $",
    "new": r"(?i)^new password \(at least 15 characters\)",
    "again": EN["again"],
    "changed": r"(?i)password has been changed",
    "wrong": r"(?i)not your current password.*nothing was changed",
}
CHANGE_FR = {
    "current": r"^Mot de passe actuel : $",
    "new": r"^Nouveau mot de passe \(au moins 15 caractères\) : $",
    "again": FR["again"],
    "changed": r"mot de passe a été modifié",
}

# The line the README gives, then what an ignored module falls through to.
PASSWD = """password [success=done ignore=ignore default=die] {module} socket={socket} %s
password required pam_%s.so
"""


def passwd_service(p, name="passwd", options="", then="deny"):
    return p.stack(name, PASSWD % (options, then))


def active_user(p, user, addr, words=EN):
    """A user made active by the verification (through auth)."""
    p.add_user(user, addr)
    auth, _ = full_flow(p, p.service("login"), user, addr, STRONG, words)
    if auth != "PAM_AUTH_ERR":
        raise AssertionError("setup of %s: the verification ended with %s" % (user, auth))


def show(p, user):
    return p.ctl("user", "show", user)[1]


def passwd(p, svc, user, *flags):
    return p.dialog(svc, user, flags=("-p",) + flags)


def passwd_after(p, svc, user, current, words=CHANGE_EN):
    """passwd for an active user, once the current password is typed."""
    d = passwd(p, svc, user)
    d.expect("ECHO_OFF", words["current"])
    d.answer(current)
    return d


def new_twice(d, first, second=None, words=CHANGE_EN):
    """At the new-password prompt: first, then second (first again by
    default) at the prompt to confirm.  The new-password prompt."""
    prompt = d.expect("ECHO_OFF", words["new"])
    d.answer(first)
    d.expect("ECHO_OFF", words["again"])
    d.answer(first if second is None else second)
    return prompt


def new_refused(d, password, words=CHANGE_EN):
    """At the new-password prompt: a password the policy refuses, typed
    once (judged as soon as it is typed, never asked again).  The ERROR."""
    d.expect("ECHO_OFF", words["new"])
    d.answer(password)
    return d.expect("ERROR")


def pwquality_twice(d, password):
    """pam_pwquality's own prompts for the new password."""
    d.expect("ECHO_OFF", r"(?i)^new password: $")
    d.answer(password)
    d.expect("ECHO_OFF", r"(?i)^retype new password: $")
    d.answer(password)


@test
def active_user_changes_password():
    p = Portal()
    active_user(p, "alice", "alice@example.org")
    svc = passwd_service(p)
    login = p.service("login")

    d = passwd_after(p, svc, "alice", STRONG + "x")
    msg = d.expect("ERROR")
    check_match("passwd: a wrong current password is said, nothing changed",
                CHANGE_EN["wrong"], msg)
    d.result()
    check_eq("passwd: a wrong current password is PAM_AUTH_ERR, as pam_unix",
             d.password, "PAM_AUTH_ERR")
    check_match("passwd: the wrong current password counts as a failure",
                r"(?m)^consecutive failures:\s*1$", show(p, "alice"))

    d = passwd_after(p, svc, "alice", STRONG)
    check_match("passwd: the same policy as a first password (too short), said at once",
                r"(?i)too short.*15", new_refused(d, "too short"))
    check_match("passwd: the same policy (the user name)", r"(?i)user name",
                new_refused(d, "alice has a long password now"))
    prompt = d.transcript[-3]
    check_match("passwd: the new-password prompt states the least length", r"15", prompt)
    new_twice(d, NEW)
    d.expect("INFO", CHANGE_EN["changed"])
    d.result()
    check_eq("passwd: the change succeeds in the third round", d.password, "PAM_SUCCESS")
    check_match("passwd: the right current password ends the run of failures",
                r"(?m)^consecutive failures:\s*0$", show(p, "alice"))

    auth, acct, _ = sign_in(p, login, "alice", NEW)
    check_eq("passwd: the new password signs in", (auth, acct), ("PAM_SUCCESS", "PAM_SUCCESS"))
    auth, _, _ = sign_in(p, login, "alice", STRONG)
    check_eq("passwd: the old password no longer does", auth, "PAM_AUTH_ERR")

    mails = p.mails("alice@example.org")
    notices = [m for m in mails if m.code is None]
    check_eq("passwd: a notice mail for the creation and one for the change",
             len(notices), 2)
    p.stop_checked()


@test
def change_gives_up_after_three_rounds():
    p = Portal()
    active_user(p, "bruno", "bruno@example.org")
    svc = passwd_service(p)
    d = passwd_after(p, svc, "bruno", STRONG)
    new_refused(d, "short")
    new_twice(d, NEW, NEW + "!")
    d.expect("ERROR")
    new_refused(d, "1234567890123456")
    msg = d.expect("ERROR")
    check_match("give up: said after 3 rounds", r"(?i)not changed.*3", msg)
    d.result()
    check_eq("give up: PAM_AUTHTOK_ERR", d.password, "PAM_AUTHTOK_ERR")
    auth, _, _ = sign_in(p, p.service("login"), "bruno", STRONG)
    check_eq("give up: the old password still signs in", auth, "PAM_SUCCESS")

    d = passwd_after(p, svc, "bruno", STRONG)
    d.expect("ECHO_OFF", CHANGE_EN["new"])
    d.answer("")
    check_match("cancel: an empty new password cancels", EN["cancelled"], d.expect("INFO"))
    d.result()
    check_eq("cancel: PAM_AUTHTOK_ERR", d.password, "PAM_AUTHTOK_ERR")
    p.stop_checked()


@test
def wrong_current_passwords_lock():
    # a lock after each run of 2 failures, as for sign-ins, of where they
    # come from: every dialog here from one remote host
    p = Portal(code_attempts="2")
    active_user(p, "carla", "carla@example.org")
    svc = passwd_service(p)
    for i in range(2):
        d = p.dialog(svc, "carla", rhost=HOST, flags=("-p",))
        d.expect("ECHO_OFF", CHANGE_EN["current"])
        d.answer("not the password %d" % i)
        before = d.result()[2]
        if i == 0:
            check_eq("lock: the first wrong current password", d.password, "PAM_AUTH_ERR")
    check_eq("lock: the second wrong one locks, as at sign-in", d.password, "PAM_PERM_DENIED")
    check_match("lock: it says for how long", r"(?i)locked.*15 minutes", str(before))
    check_eq("lock: the user is locked", p.state("carla"), "locked")
    d = p.dialog(svc, "carla", rhost=HOST, flags=("-p",))
    msg = d.expect("ERROR")
    check_match("lock: passwd is refused at once, no prompt", r"(?i)locked", msg)
    d.result()
    check_eq("lock: PAM_PERM_DENIED", d.password, "PAM_PERM_DENIED")
    d = p.dialog(p.service("login"), "carla", rhost=HOST)
    d.expect("ECHO_OFF", EN["password"])     # at a sign-in, said after the password
    d.answer("not the password 0")
    auth, _, after = d.result()
    check("lock: sign-in refused too, told it is locked",
          auth == "PAM_AUTH_ERR" and re.search(r"(?i)locked", str(after)), (auth, after))
    p.stop_checked()


@test
def use_authtok_after_pam_pwquality():
    p = Portal()
    active_user(p, "dora", "dora@example.org")
    svc = p.stack("passwd-pwq", "password requisite pam_pwquality.so\n" +
                  PASSWD % ("use_authtok", "deny"))
    d = passwd_after(p, svc, "dora", STRONG)
    pwquality_twice(d, NEW)
    d.expect("INFO", CHANGE_EN["changed"])
    before = d.result()[2]
    check_eq("use_authtok: the password pam_pwquality asked for is stored", d.password,
             "PAM_SUCCESS")
    check("use_authtok: this module asked no new password of its own",
          not any(k.startswith("ECHO") for k, _ in before), d.text())
    auth, _, _ = sign_in(p, p.service("login"), "dora", NEW)
    check_eq("use_authtok: the new password signs in", auth, "PAM_SUCCESS")

    # Good enough for pam_pwquality, too short for the portal: said, not asked again.
    d = passwd_after(p, svc, "dora", NEW)
    pwquality_twice(d, "Vq7#kLp2!mRz")
    check_match("use_authtok: the portal's policy still applies", r"(?i)too short",
                d.expect("ERROR"))
    d.result()
    check_eq("use_authtok: refused without another prompt", d.password, "PAM_AUTHTOK_ERR")

    svc = passwd_service(p, "passwd-alone", "use_authtok")
    d = passwd_after(p, svc, "dora", NEW)
    before = d.result()[2]
    check_eq("use_authtok: no earlier module, no new password: PAM_AUTHTOK_ERR",
             (d.password, before), ("PAM_AUTHTOK_ERR", []))
    auth, _, _ = sign_in(p, p.service("login"), "dora", NEW)
    check_eq("use_authtok: the password is unchanged after both", auth, "PAM_SUCCESS")
    p.stop_checked()


@test
def use_first_pass_without_earlier_password():
    p = Portal()
    active_user(p, "emile", "emile@example.org")
    d = passwd(p, passwd_service(p, options="use_first_pass"), "emile")
    before = d.result()[2]
    check_eq("use_first_pass: nothing asked, no current password from earlier: "
             "PAM_AUTHTOK_RECOVERY_ERR", (d.password, before),
             ("PAM_AUTHTOK_RECOVERY_ERR", []))
    check_match("use_first_pass: no failure counted", r"(?m)^consecutive failures:\s*0$",
                show(p, "emile"))
    p.stop_checked()


@test
def unmanaged_and_expired_ignored():
    p = Portal()
    active_user(p, "fanny", "fanny@example.org")
    for then, want in (("deny", "PAM_AUTHTOK_ERR"), ("permit", "PAM_SUCCESS")):
        svc = passwd_service(p, "passwd-" + then, then=then)
        d = passwd(p, svc, "nobody-here")
        before = d.result()[2]
        check_eq("unmanaged: PAM_IGNORE, silent, falls through to pam_%s" % then,
                 (d.password, before), (want, []))
    # An active user's portal password never expires: with
    # PAM_CHANGE_EXPIRED_AUTHTOK what expired is pam_unix's business.
    d = passwd(p, "passwd-permit", "fanny", "-e")
    before = d.result()[2]
    check_eq("expired only: an active user is ignored, nothing asked",
             (d.password, before), ("PAM_SUCCESS", []))
    p.stop_checked()


@test
def pending_user_runs_the_verification():
    p = Portal()
    p.add_user("gilles", "gilles@example.org")
    svc = passwd_service(p)
    d = passwd(p, svc, "gilles")
    intro, msg = verification(p, d, "gilles", "gilles@example.org")
    check_match("pending passwd: the verification starts with the intro", EN["intro"], intro)
    check("pending passwd: no sign-in-again words in passwd", "again" not in msg, msg)
    d.result()
    check_eq("pending passwd: PAM_SUCCESS", d.password, "PAM_SUCCESS")
    check_eq("pending passwd: the user is active", p.state("gilles"), "active")
    auth, _, _ = sign_in(p, p.service("login"), "gilles", STRONG)
    check_eq("pending passwd: the password signs in", auth, "PAM_SUCCESS")

    p.add_user("hana", "hana@example.org")
    d = passwd(p, svc, "hana")
    check_match("pending passwd: q cancels", EN["cancelled"], cancel_verification(d))
    check_eq("pending passwd: cancelled is PAM_AUTHTOK_ERR", d.password, "PAM_AUTHTOK_ERR")
    p.stop_checked()


@test
def change_in_french():
    p = Portal(language="fr")
    active_user(p, "ines", "ines@example.org", FR)
    d = passwd_after(p, passwd_service(p), "ines", STRONG, CHANGE_FR)
    new_twice(d, NEW, words=CHANGE_FR)
    d.expect("INFO", CHANGE_FR["changed"])
    d.result()
    check_eq("french: the change succeeds", d.password, "PAM_SUCCESS")
    p.stop_checked()


@test
def helper_down():
    p = Portal()
    active_user(p, "jules", "jules@example.org")
    svc = passwd_service(p, then="permit")
    p.stop_checked()
    d = passwd(p, svc, "jules")
    msg = d.expect("ERROR")
    # without the helper, the language is the pam.d line's or French
    check_match("helper down: the service is said to be unavailable", FR["unavailable"], msg)
    d.result()
    check_eq("helper down: PAM_AUTHINFO_UNAVAIL, not through to pam_permit",
             d.password, "PAM_AUTHINFO_UNAVAIL")


if __name__ == "__main__":
    sys.exit(run_tests())
