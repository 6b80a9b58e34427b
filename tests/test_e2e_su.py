#!/usr/bin/python3
"""test_e2e_su.py - su(1) from another user, with pam_portal where Debian's
pam-auth-update puts it: common-auth, common-account and common-password
written from config/pam-configs-portal beside Debian's own profiles, and
Debian's /etc/pam.d/su as it is (all in a private namespace).  Needs
root; see sshdtest.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sshdtest as st
from portaltest import EN, STRONG, Portal, check, check_eq, run_tests, test


def setup(options=""):
    """A portal with a pending member, the profile enabled, and someone
    else at a terminal to run su."""
    p = Portal()
    box = st.Sandbox(p)
    box.enable_profile(options)
    alice = st.Person("old shadow password 1")
    p.add_user(alice.name, alice.address)
    carol = st.Person()
    return p, box, alice, carol


def su(box, caller, person):
    """`su person -c COMMAND` typed by caller at a terminal."""
    return st.Terminal(box.argv(["su", person.name, "-c", st.SIGNED_IN_COMMAND], caller), box)


@test
def profile_puts_the_module_next_to_pam_unix():
    """What pam-auth-update wrote, read as an administrator would."""
    p, box, _, _ = setup()
    auth = box.common("auth")
    check_eq("profile: common-auth, the root skip, pam_portal, then pam_unix's primary block",
             auth[:5], [
                 ("[success=1 default=ignore]", "pam_succeed_if.so", "quiet uid eq 0"),
                 ("[success=2 ignore=ignore default=die]", "pam_portal.so", ""),
                 ("[success=1 default=ignore]", "pam_unix.so", "nullok try_first_pass"),
                 ("requisite", "pam_deny.so", ""),
                 ("required", "pam_permit.so", "")])
    check_eq("profile: common-password, after pam_pwquality and taking its password",
             box.common("password")[:4], [
                 ("requisite", "pam_pwquality.so", "retry=3"),
                 ("[success=1 default=ignore]", "pam_succeed_if.so", "quiet uid eq 0"),
                 ("[success=2 ignore=ignore default=die]", "pam_portal.so", "use_authtok"),
                 ("[success=1 default=ignore]", "pam_unix.so",
                  "obscure use_authtok try_first_pass yescrypt")])
    check_eq("profile: common-account, required after pam_unix's block",
             box.common("account")[-2:], [
                 ("[success=1 default=ignore]", "pam_succeed_if.so", "quiet uid eq 0"),
                 ("required", "pam_portal.so", "")])


@test
def su_pending_flow_continue_then_again():
    p, box, alice, carol = setup("after_reset=continue")
    t = su(box, carol, alice)
    st.verify(t, p, alice)
    t.expect(EN["created"])
    check_eq("su: after the verification (after_reset=continue) the command ran",
             t.ran_as(alice), 0)
    box.check_logged("su: syslog names the service and the outcome",
                     r"pam_portal\(su:auth\).*%s: portal password created \(signed in\)"
                     % alice.name)
    t = su(box, carol, alice)
    t.password(STRONG)
    check_eq("su: again, with the new password", t.ran_as(alice), 0)
    t = su(box, carol, alice)
    t.password(alice.unix_password)
    screen, rc = t.end()
    check("su: the old unix password is refused",
          rc != 0 and "PPTEST" not in screen and "Authentication failure" in screen,
          "exit %s, screen %r" % (rc, screen))


@test
def su_unmanaged_user_falls_through_to_pam_unix():
    p, box, _, carol = setup()
    bob = st.Person("bob's unix password 7")
    t = su(box, carol, bob)
    t.password(bob.unix_password)
    check_eq("su: a user outside the directory, by the unix password", t.ran_as(bob), 0)


if __name__ == "__main__":
    st.require()
    sys.exit(run_tests())
