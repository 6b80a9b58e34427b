#!/usr/bin/python3
"""test_canonical.py - the module asks portald about the account NSS
resolves a name to, never about a second spelling of it (issue 14,
finding 9).

Where NSS knows one account by several names (sssd's case_sensitive =
false: `ALICE` is `alice`), a member who types `PPFOLD-ALICE` is the
account `ppfold-alice` to pam_unix and to the session; a helper asked
about `PPFOLD-ALICE` finds no member, the module ignores the name and the
old password lets the member in past the portal.  Here NSS is real: the
PAM application (pamconv) runs in a private mount namespace (unshare -m)
whose /etc/nsswitch.conf reads "passwd: files pptestfold", a tiny NSS
module built with the tests (tests/nss_pptestfold.c, found by
LD_LIBRARY_PATH as glibc finds any NSS module) that answers a name in any
case with the account of its own spelling, its entries (and the crypt
hash of an old password, which pam_unix checks) in the environment.
Nothing of the machine's is changed.  Root needed (unshare -m, mount).
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import portaltest
from portaltest import (BUILD, EN, MODULE, STRONG, Portal, Probe, TestError, check, check_eq,
                        check_match, full_flow, run_tests, test)

NSS_DIR = os.path.join(BUILD, "tests")
OLD = "the old unix password 1"

# The member signs in with the lines of the README, pam_unix (Debian's
# common-auth) after them; the account group records PAM_USER.
STACK = """\
auth [success=done ignore=ignore default=die] {module} socket={socket}
auth required pam_unix.so nullok
account required pam_exec.so quiet {probe}
account required {module} socket={socket}
"""

# $0 the nsswitch.conf to put in place, then the command.
IN_NAMESPACE = 'mount --bind "$0" /etc/nsswitch.conf && exec "$@"'


class real_nss:
    """Dialogs started inside run with NSS folding case: pamconv in a
    mount namespace of its own where nsswitch.conf names pptestfold."""

    def __init__(self, p, entries):
        self.conf = os.path.join(p.dir, "nsswitch.conf")
        with open("/etc/nsswitch.conf") as f:
            lines = [l for l in f if not re.match(r"\s*passwd\s*:", l)]
        with open(self.conf, "w") as f:
            f.write("passwd: files pptestfold\n" + "".join(lines))
        self.entries = ",".join("%s:%d:%s" % e for e in entries)

    def __enter__(self):
        self.saved = (portaltest.VALGRIND, dict(portaltest.CHILD_ENV))
        portaltest.VALGRIND = ["unshare", "-m", "--", "/bin/sh", "-c", IN_NAMESPACE, self.conf]
        portaltest.CHILD_ENV.update({"PPTEST_FOLD": self.entries, "LD_LIBRARY_PATH": NSS_DIR})

    def __exit__(self, *exc):
        portaltest.VALGRIND = self.saved[0]
        portaltest.CHILD_ENV.clear()
        portaltest.CHILD_ENV.update(self.saved[1])


def crypt_hash(password):
    return subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password,
                          capture_output=True, text=True, check=True).stdout.strip()


@test
def the_helper_is_asked_about_the_account_nss_resolves():
    if os.geteuid() != 0:
        raise TestError("needs root (unshare -m, mount --bind): run make check as root")
    p = Portal()
    users = Probe(p, "pam_user", 'printf "%s\\n" "$PAM_USER" >> OUT')
    svc = p.stack("sshd", STACK.format(module=MODULE, socket=p.socket, probe=users.path))
    plain = p.service("plain")
    p.add_user("ppfold-alice", "alice@example.org")
    p.add_user("ppfold-bob", "bob@example.org")
    if full_flow(p, plain, "ppfold-alice", "alice@example.org")[0] != "PAM_AUTH_ERR":
        raise TestError("setup: ppfold-alice could not be made active")
    entries = [("ppfold-alice", 61001, crypt_hash(OLD)), ("ppfold-bob", 61002, "*")]
    with real_nss(p, entries):
        # NSS is what the test says it is: the other spelling is the account.
        d = p.dialog(svc, "PPFOLD-ALICE")
        d.expect("ECHO_OFF", EN["password"])
        d.answer(OLD)
        auth, _, _ = d.result()
        check_eq("another spelling, the old unix password: refused, the portal was asked",
                 auth, "PAM_AUTH_ERR")
        check_match("... about the account NSS names: ppfold-alice",
                    r"auth for ppfold-alice by uid 0 .*wrong password", p.log())

        d = p.dialog(svc, "PPFOLD-ALICE")
        d.expect("ECHO_OFF", EN["password"])
        d.answer(STRONG)
        auth, acct, _ = d.result()
        check_eq("another spelling, the portal password: signed in", (auth, acct),
                 ("PAM_SUCCESS", "PAM_SUCCESS"))
        check_eq("PAM_USER is left as the application gave it", (users.read() or b"").split()[-1:],
                 [b"PPFOLD-ALICE"])

        # A pending member coming in with a key (no auth): the account
        # group must still find them pending.
        d = p.dialog(svc, "PpFold-Bob", flags=("-k",))
        auth, acct, _ = d.result()
        check_eq("another spelling of a pending member, key sign-in: verification required",
                 acct, "PAM_NEW_AUTHTOK_REQD")

        # A name NSS does not know: as before, the name as typed.
        d = p.dialog(svc, "ppfold-nobody")
        before, _ = d.until("ECHO_OFF", EN["password"])
        d.answer(OLD)
        auth, _, _ = d.result()
        check("a name NSS does not know: not managed, pam_unix refuses it",
              auth in ("PAM_USER_UNKNOWN", "PAM_AUTH_ERR"), auth)
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
