#!/usr/bin/python3
"""test_e2e_login.py - sign-in with Debian's login(1) on a terminal: the
service `login` is Debian's own /etc/pam.d/login with the lines of
config/pam.d-login above its @includes, in a private namespace (login's
service name is fixed; the machine's file is never touched).  Needs root;
see sshdtest.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sshdtest as st
from portaltest import EN, FR, STRONG, Portal, check_eq, run_tests, test


def setup(portal_conf=None):
    p = Portal(**(portal_conf or {}))
    box = st.Sandbox(p)
    box.with_samples("login", "login", "pam.d-login")
    alice = st.Person("old shadow password 1")
    p.add_user(alice.name, alice.address)
    return p, box, alice


def login(box, person):
    """login(1) on a terminal, the user name already typed at its prompt."""
    t = st.Terminal(box.argv(["/bin/login", person.name]), box)
    return t


def shell(t, person):
    """In the shell login started: prove who it is, and leave."""
    t.type(st.SIGNED_IN_COMMAND)
    t.signed_in(person)
    t.type("exit")
    return t.end()[1]


@test
def login_pending_flow_in_french_then_sign_in_again():
    p, box, alice = setup({"language": "fr"})
    t = login(box, alice)
    st.verify(t, p, alice, words=FR)
    t.expect(FR["created"])
    # after_reset=relogin: login says the sign-in failed and asks again
    t.expect(r"Login incorrect")
    t.prompt(r"login")
    t.type(alice.name)
    t.password(STRONG, "fr")
    check_eq("login (fr): the shell after signing in again ended well", shell(t, alice), 0)
    check_eq("login: the member is active", st.state(p, alice), "active")
    box.check_logged("login: syslog names the service and the outcome",
                     r"pam_portal\(login:auth\).*%s: portal password created" % alice.name)


@test
def login_wrong_password_then_right():
    p, box, alice = setup()
    t = login(box, alice)
    st.verify(t, p, alice)
    t.expect(EN["created"])
    t.prompt(r"login")
    t.type(alice.name)
    t.prompt(st.PASSWORD_PROMPT["en"])
    t.type(alice.unix_password)           # the old /etc/shadow one
    t.expect(r"Login incorrect")
    box.check_logged("login: the old unix password is a wrong password",
                     r"pam_portal\(login:auth\).*%s: wrong password" % alice.name)
    t.prompt(r"login")
    t.type(alice.name)
    t.password(STRONG)
    check_eq("login: the new password opens the shell", shell(t, alice), 0)


if __name__ == "__main__":
    st.require()
    sys.exit(run_tests())
