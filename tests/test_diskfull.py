#!/usr/bin/python3
"""test_diskfull.py - the database on a full file system.

The database lives on a small tmpfs mounted for the test (root needed,
as in CI), which is then filled.  A write must be refused with a clear
"try later" (RESULT_STORAGE: the module says the service is unavailable and
to try again later; portalctl says the same), before GDBM has touched the
file; reads go on (user show, user list, outbox, status); nothing is left
half written; once there is room again everything works, the database
opens without a recovery, and every user is there.

The mount is removed at the end, also when the test is interrupted.
"""
import atexit
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, STRONG, Cleanup, Portal, ask_code, check, check_eq, check_match,
                        full_flow, run_tests, test)

SIZE = "4m"


class Mount:
    """A tmpfs of SIZE under /tmp, unmounted and removed however the test
    ends (normal end, exception, SIGINT or SIGTERM)."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="pptest-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % SIZE,
                        "pptest-full", self.path], check=True)
        Cleanup.add(self.remove)
        atexit.register(self.remove)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._signalled)

    def _signalled(self, sig, frame):
        self.remove()
        sys.exit(128 + sig)

    def remove(self):
        if self.path and os.path.ismount(self.path):
            subprocess.run(["umount", "-l", self.path])
        if self.path and os.path.isdir(self.path):
            os.rmdir(self.path)
        self.path = None

    def fill(self):
        """Write a filler until the file system says it is full."""
        fd = os.open(os.path.join(self.path, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\xff" * 65536)
        except OSError as e:
            full = e.errno == 28
        finally:
            os.close(fd)
        return full

    def free(self):
        os.unlink(os.path.join(self.path, "filler"))


def show(p, user):
    rc, out, err = p.ctl("user", "show", user)
    return out if rc == 0 else "exit %d: %s" % (rc, err)


@test
def database_on_a_full_disk():
    if os.geteuid() != 0:
        check("a tmpfs can be mounted (the test runs as root, as in CI)", False,
              "not root: run make check as root")
        return
    m = Mount()
    p = Portal(start=False, database=os.path.join(m.path, "portal.db"))
    p.start()
    svc = p.service("login")
    members = ["m%03d" % i for i in range(100)]
    rc, _, err = p.ctl("import", "-", input="".join("%s,%s@example.org\n" % (u, u)
                                                      for u in members))
    check_eq("before: 100 members imported", (rc, err), (0, ""))
    p.add_user("alice", "alice@example.org")
    p.add_user("bob", "bob@example.org")
    auth, _ = full_flow(p, svc, "bob", "bob@example.org")
    check_eq("before: bob has a password", auth, "PAM_AUTH_ERR")
    alice_before = show(p, "alice")
    bob_before = show(p, "bob")
    files_before = sorted(os.listdir(m.path))

    check("the file system is full", m.fill())

    d = p.dialog(svc, "alice")
    d.until("ECHO_ON", EN["email"])
    d.answer("alice@example.org")
    auth, _, before = d.result()
    said = " ".join(t for _, t in before)
    check_match("full: the pending user is told to try again later",
                r"(?i)unavailable.*try again later", said)
    check("full: and not told a code was sent", not re.search(EN["sent"], said), said)
    check_eq("full: PAM_AUTHINFO_UNAVAIL", auth, "PAM_AUTHINFO_UNAVAIL")

    d = p.dialog(svc, "bob")
    d.expect("ECHO_OFF", EN["password"])
    d.answer(STRONG)
    auth, _, before = d.result()
    check_eq("full: an active user's sign-in (it records the sign-in) is refused, "
             "never let in", auth, "PAM_AUTHINFO_UNAVAIL")
    check_match("full: and told to try again later", r"(?i)try again later",
                " ".join(t for _, t in before))

    rc, out, err = p.ctl("user", "add", "carl", "carl@example.org")
    check("full: portalctl user add fails and says try again later",
          rc == 1 and re.search(r"(?i)try again later", err), (rc, err))
    rc, out, err = p.ctl("import", "-", input="dora,dora@example.org\n")
    check_eq("full: an import fails", rc, 1)

    check_eq("full: reads go on: user show", show(p, "alice"), alice_before)
    rc, out, _ = p.ctl("user", "list")
    check("full: reads go on: user list", rc == 0 and len(out.splitlines()) == 103, out[-300:])
    rc, out, _ = p.ctl("status")
    check_match("full: reads go on: status", r"pending users:\s+101", out)
    check_eq("full: reads go on: outbox", p.ctl("outbox")[0], 0)
    check_match("full: the log says why", r"database write u:\S+: refused: \d+ bytes free",
                p.log())
    check("full: GDBM was never left needing a recovery", "needs recovery" not in p.log(),
          p.log()[-1500:])
    check_eq("full: nothing half written (the records as before)",
             (show(p, "alice"), show(p, "bob")), (alice_before, bob_before))
    check_eq("full: no stray file beside the database",
             sorted(x for x in os.listdir(m.path) if x != "filler"), files_before)

    m.free()
    d = p.dialog(svc, "alice")
    code = ask_code(p, d, "alice", "alice@example.org")
    check("room again: alice gets her code", code, code)
    d.answer("q")
    d.result()
    check_eq("room again: user add works", p.ctl("user", "add", "carl", "carl@example.org")[0], 0)
    p.stop_checked()
    p.start()
    rc, out, _ = p.ctl("user", "list")
    names = set(re.findall(r"(?m)^(\S+)\s+\S+@example\.org", out))
    check("after a restart: every user is there",
          names >= set(members) | {"alice", "bob", "carl"} and "dora" not in names,
          sorted(set(members) | {"alice", "bob", "carl"} - names))
    check("after a restart: no recovery was needed", "needs recovery" not in p.log(),
          p.log()[-1500:])
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
