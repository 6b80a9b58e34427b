#!/usr/bin/python3
"""test_e2e_locker.py - a screen locker: a program running as the user,
not root, checks that user's own password (tests/locker.c: pam_start,
pam_authenticate, pam_setcred as swaylock or xscreensaver do) through a
service that includes common-auth, where pam-auth-update put pam_portal
from config/pam-configs-portal.  pam_portal asks portald as the caller's
uid, and portald answers a caller other than root about its own user
name only; pam_unix checks through unix_chkpwd.  Needs root to set up;
see sshdtest.py."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sshdtest as st
from portaltest import (CHILD_ENV, PAMCONV, STRONG, STEP_TIMEOUT, Portal, check, check_eq,
                        check_match, run_tests, test)

# A screen locker's service, as Debian's lockers ship it.
LOCKER_SERVICE = "auth include common-auth\n"


def setup():
    p = Portal()
    box = st.Sandbox(p)
    box.enable_profile()
    box.service("pptest-locker", LOCKER_SERVICE)
    return p, box


def active_member(p):
    alice = st.Person("old shadow password 1")
    p.add_user(alice.name, alice.address)
    st.make_active(p, alice)
    return alice


def unlock(box, person, password):
    """The locker, run as person, given password: (exit status, output)."""
    r = subprocess.run(box.argv([st.LOCKER, "pptest-locker"], person), input=password + "\n",
                       capture_output=True, text=True, timeout=STEP_TIMEOUT, env=CHILD_ENV)
    return r.returncode, r.stdout + r.stderr


@test
def locker_checks_its_own_portal_password():
    p, box = setup()
    alice = active_member(p)
    rc, out = unlock(box, alice, STRONG)
    check("locker: the portal password unlocks", rc == 0 and "unlocked" in out, out)
    check_match("locker: the helper was asked by the user's own uid",
                r"auth for %s by uid %d .*: ok" % (alice.name, alice.uid), p.log())
    rc, out = unlock(box, alice, alice.unix_password)
    check("locker: the old unix password does not unlock", rc == 1 and "still locked" in out, out)
    box.check_logged("locker: the module logs the wrong password",
                     r"pam_portal\(pptest-locker:auth\).*%s: wrong password" % alice.name)


@test
def locker_of_a_user_outside_the_directory_uses_unix_chkpwd():
    p, box = setup()
    bob = st.Person("bob's unix password 7")
    rc, out = unlock(box, bob, bob.unix_password)
    check("locker: pam_unix (unix_chkpwd) unlocks for a user outside the directory",
          rc == 0 and "unlocked" in out, out)
    rc, out = unlock(box, bob, "not bob's password")
    check("locker: and stays locked on a wrong unix password", rc == 1, out)
    box.check_logged("locker: pam_unix judged it",
                     r"pam_unix\(pptest-locker:auth\): authentication failure.*user=%s" % bob.name)


@test
def non_root_checks_no_one_else():
    """A program of carol's asking about alice: the helper refuses, and
    the module fails closed without asking for anything."""
    p, box = setup()
    alice = active_member(p)
    carol = st.Person()
    r = subprocess.run(box.argv([PAMCONV, "/etc/pam.d", "pptest-locker", alice.name], carol),
                       input=STRONG + "\n", capture_output=True, text=True,
                       timeout=STEP_TIMEOUT, env=CHILD_ENV)
    check_match("non-root: another user's password cannot be checked",
                r"RESULT authenticate=PAM_AUTHINFO_UNAVAIL", r.stdout)
    check("non-root: nothing was asked", "ECHO_OFF" not in r.stdout, r.stdout)
    check_match("non-root: the helper refused carol's uid",
                r"status for %s by uid %d .*: " % (alice.name, carol.uid), p.log())
    box.check_logged("non-root: the module says why",
                     r"pam_portal\(pptest-locker:auth\).*%s: the helper refused to answer"
                     % alice.name)


@test
def locker_of_a_pending_user_fails_closed():
    """The verification is for sshd, login and su (root): a locker
    cannot carry it, and nothing changes."""
    p, box = setup()
    dora = st.Person("old shadow password 1")
    p.add_user(dora.name, dora.address)
    rc, out = unlock(box, dora, dora.unix_password)
    check("locker, pending user: stays locked", rc == 1 and "still locked" in out, out)
    # a locker answers every prompt with what was typed, the address one too
    check("locker, pending user: what was typed is in no log",
          dora.unix_password not in p.log() + box.log(), p.log() + box.log())
    check_eq("locker, pending user: no code was mailed", p.mails(dora.address), [])
    check_eq("locker, pending user: still pending", st.state(p, dora), "pending")


if __name__ == "__main__":
    st.require()
    sys.exit(run_tests())
