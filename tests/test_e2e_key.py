#!/usr/bin/python3
"""test_e2e_key.py - a pending member who signs in to a real sshd with an
SSH key.  sshd skips PAM auth then, so the account line of
config/pam.d-sshd answers PAM_NEW_AUTHTOK_REQD; sshd runs passwd on the
terminal (only with a tty: ssh -tt), and the password line of passwd's
own PAM service runs the verification: address, the code read from the
test SMTP server, the new password twice.  The member is then active and
signs in over keyboard-interactive with that password.  Needs root; see
sshdtest.py."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sshdtest as st
from portaltest import EN, STRONG, Portal, check, check_eq, code_mails, run_tests, test

OLD = "old shadow password 1"      # what pam_unix would accept

# pam.d/passwd in the sandbox: the module above Debian's common-password
# (pam_unix), as config/pam.d-sshd tells for /etc/pam.d/passwd.
PASSWD_SERVICE = ("password [success=done ignore=ignore default=die] pam_portal.so\n"
                  "@include common-password\n")


def setup():
    """A portal with a pending member, sshd in front of it, passwd's service."""
    p = Portal()
    box = st.Sandbox(p)
    box.with_samples("pptest-sshd", "sshd", "pam.d-sshd")
    box.service("passwd", PASSWD_SERVICE)
    sshd = st.Sshd(box)
    alice = st.Person(OLD)
    p.add_user(alice.name, alice.address)
    return p, box, sshd, alice


@test
def key_sign_in_of_a_pending_member_runs_the_verification_in_passwd():
    p, box, sshd, alice = setup()
    key = sshd.key_for(alice)
    t = sshd.ssh(alice, auth="publickey", key=key, options=("RequestTTY=force",))
    st.verify(t, p, alice)
    t.expect(EN["created"])
    check_eq("key: passwd ends well after the verification", t.end()[1], 0)
    check("key: no session ran before the verification", "PPTEST-SIGNED-IN" not in
          t.screen.getvalue(), t.screen.getvalue()[-1200:])
    box.check_logged("key: the account stage asks for the verification",
                     r"pam_portal\(pptest-sshd:account\).*%s: pending, signed in without the "
                     r"portal: verification required" % alice.name)
    box.check_logged("key: passwd's password stage ran the verification",
                     r"pam_portal\(passwd:chauthtok\).*%s: portal password created" % alice.name)
    check_eq("key: the member is active", st.state(p, alice), "active")
    check_eq("key: one code mail was sent", len(code_mails(p, alice.address)), 1)

    # the key is still enough, now with no verification in the way
    t = sshd.ssh(alice, auth="publickey", key=key)
    check_eq("key: the active member signs in with the key", t.ran_as(alice), 0)

    # keyboard-interactive: the new password lets in, the old unix one does not
    t = sshd.ssh(alice)
    t.password(STRONG)
    check_eq("key: the new password signs in over keyboard-interactive", t.ran_as(alice), 0)
    t = sshd.ssh(alice, tries=1)
    t.password(OLD)
    screen, rc = t.end()
    check("key: the old unix password is refused", rc != 0 and "PPTEST-SIGNED-IN" not in screen,
          "exit %s, screen %r" % (rc, screen))


@test
def key_sign_in_without_a_tty_is_refused():
    """No tty, no passwd: sshd ends the session, the member stays pending."""
    p, box, sshd, alice = setup()
    t = sshd.ssh(alice, auth="publickey", key=sshd.key_for(alice))
    rc = t.end()[1]
    check("no tty: no session ran", rc != 0 and "PPTEST-SIGNED-IN" not in t.screen.getvalue(),
          "exit %s, screen %r" % (rc, t.screen.getvalue()[-1200:]))
    check("no tty: sshd says a password change is required",
          re.search(r"(?i)password change required", t.screen.getvalue()),
          t.screen.getvalue()[-1200:])
    check_eq("no tty: no code was mailed", p.mails(alice.address), [])
    check_eq("no tty: the member is still pending", st.state(p, alice), "pending")


if __name__ == "__main__":
    st.require()
    sys.exit(run_tests())
