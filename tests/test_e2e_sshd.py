#!/usr/bin/python3
"""test_e2e_sshd.py - sign-in over ssh, for real: Debian's sshd on a
loopback port with keyboard-interactive, its PAM service written as
config/pam.d-sshd tells (the sample lines above the @includes of Debian's
own /etc/pam.d/sshd), the ssh client on a terminal typed into as a person
would, the codes read from the test SMTP server.  Needs root; see
sshdtest.py."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sshdtest as st
from portaltest import EN, FR, STRONG, Portal, check, check_eq, check_match, run_tests, test

OLD = "old shadow password 1"      # what pam_unix would accept


def setup(portal_conf=None, options="", **sshd_options):
    """A portal with a pending member, sshd in front of it."""
    p = Portal(**(portal_conf or {}))
    box = st.Sandbox(p)
    box.with_samples("pptest-sshd", "sshd", "pam.d-sshd", options)
    sshd = st.Sshd(box, **sshd_options)
    alice = st.Person(OLD)
    p.add_user(alice.name, alice.address)
    return p, box, sshd, alice


@test
def ssh_pending_flow_then_sign_in_again():
    p, box, sshd, alice = setup()
    t = sshd.ssh(alice)
    st.verify(t, p, alice)
    t.expect(EN["created"])
    # after_reset=relogin: the attempt fails, ssh asks again, the portal
    # now asks for the password just created
    t.password(STRONG)
    check_eq("ssh: the session after the verification ran and ended well", t.ran_as(alice), 0)
    check_eq("ssh: the member is active", st.state(p, alice), "active")
    box.check_logged("ssh: the module says in syslog a password was created to sign in again",
                     r"pam_portal\(pptest-sshd:auth\).*%s: portal password created "
                     r"\(to sign in again\)" % alice.name)
    # a new connection: the new password is all it takes
    t = sshd.ssh(alice)
    t.password(STRONG)
    check_eq("ssh: signed in again with the new password", t.ran_as(alice), 0)


@test
def ssh_pending_flow_continue_in_french():
    p, box, sshd, alice = setup({"language": "fr"}, "after_reset=continue")
    t = sshd.ssh(alice)
    st.verify(t, p, alice, words=FR)
    check_eq("ssh (fr, after_reset=continue): signed in at once", t.ran_as(alice), 0)
    t = sshd.ssh(alice)
    t.password(STRONG, "fr")
    check_eq("ssh (fr): signed in again with the new password", t.ran_as(alice), 0)


@test
def ssh_wrong_password():
    p, box, sshd, alice = setup()
    st.make_active(p, alice)
    # the old /etc/shadow password is wrong for a managed user: default=die
    # never lets pam_unix have a say
    t = sshd.ssh(alice, tries=1)
    t.password(OLD)
    screen, rc = t.end()
    check("ssh: the old unix password is refused", rc != 0 and "PPTEST-SIGNED-IN" not in screen,
          "exit %s, screen %r" % (rc, screen))
    check_match("ssh: ssh says permission denied", r"Permission denied", screen)
    box.check_logged("ssh: the module logs the wrong password",
                     r"pam_portal\(pptest-sshd:auth\).*%s: wrong password" % alice.name)
    t = sshd.ssh(alice)
    t.password(STRONG)
    check_eq("ssh: one wrong password locks nothing: the right one lets in",
             t.ran_as(alice), 0)


@test
def ssh_unmanaged_user_falls_through_to_pam_unix():
    p, box, sshd, _ = setup(options="debug")
    bob = st.Person("bob's unix password 7")
    t = sshd.ssh(bob)
    t.password(bob.unix_password)
    check_eq("ssh: a user outside the directory signs in with the unix password",
             t.ran_as(bob), 0)
    t = sshd.ssh(bob, tries=1)
    t.password("not bob's password")
    screen, rc = t.end()
    check("ssh: pam_unix refuses a wrong unix password", rc != 0 and "PPTEST" not in screen,
          "exit %s, screen %r" % (rc, screen))
    box.check_logged("ssh: pam_unix, not the portal, judged it",
                     r"pam_unix\(pptest-sshd:auth\): authentication failure.*user=%s" % bob.name)
    box.check_logged("ssh: the portal was asked about bob, and let him go by",
                     r"pam_portal\(pptest-sshd:auth\).*%s: not managed, ignored" % bob.name)
    check("ssh: the portal never judged bob's passwords",
          not re.search(r"pam_portal.*%s: (wrong|right|password)" % bob.name, box.log()),
          box.log())


@test
def ssh_key_sign_in_of_an_unmanaged_user():
    """The account line lets users outside the directory in with a key
    (sshd skips auth then: only account speaks)."""
    p, box, sshd, _ = setup()
    bob = st.Person()
    t = sshd.ssh(bob, auth="publickey", key=sshd.key_for(bob))
    check_eq("ssh: an SSH key lets a user outside the directory in", t.ran_as(bob), 0)


@test
def ssh_password_only_fails_closed():
    p, box, sshd, alice = setup(KbdInteractiveAuthentication="no", PasswordAuthentication="yes")
    t = sshd.ssh(alice, auth="password", tries=1)
    t.prompt(r"password")
    t.type(OLD)
    screen, rc = t.end()
    check("password-only sshd: a pending user is refused", rc != 0 and "PPTEST" not in screen,
          "exit %s, screen %r" % (rc, screen))
    line = box.wait_log(r"pam_portal\(pptest-sshd:auth\).*%s: the conversation cannot carry"
                        % alice.name)
    check_match("password-only sshd: the log says why", r"keyboard-interactive", line)
    check_eq("password-only sshd: no code was mailed", p.mails(alice.address), [])
    check_eq("password-only sshd: the member is still pending", st.state(p, alice), "pending")


if __name__ == "__main__":
    st.require()
    sys.exit(run_tests())
