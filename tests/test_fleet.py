#!/usr/bin/env python3
"""Many machines, one portal (issue 15): three portalds, each its own
socket, configuration and host_name, on one private PostgreSQL
(tests/pgserver.py), the real module through libpam against each.

What one machine does to a member, the others see at once; a machine
whose key or policy differs from the others' is refused at start with
what differs; the database unreachable, a managed member's sign-in is
answered PAM_AUTHINFO_UNAVAIL within postgresql_timeout, and the machine
goes on by itself once it is back."""
import re
import shutil
import subprocess
import sys
import time

from portaltest import (CHILD_ENV, PORTALD, START_TIMEOUT, Portal, TestError, bound, check,
                        check_eq, check_match, run_tests, test, wait_for)
from pgserver import shared as server

TIMEOUT = 3          # postgresql_timeout of the machines, seconds


def fleet(n=3, **conf):
    """n machines on a fresh database, its schema made by the first."""
    srv = server()
    db = srv.fresh()
    machines = []
    for i in range(n):
        keys = dict({"store": "postgresql", "postgresql": srv.conninfo(db),
                     "postgresql_timeout": "%ds" % TIMEOUT,
                     "host_name": "machine-%c" % "abc"[i]}, **conf)
        p = Portal(smtp=False, start=False, **keys)
        if i == 0:
            rc, out, err = p.ctl("db", "init")
            if rc != 0:
                raise TestError("db init: " + err)
        else:
            # The machines share the key file (key_file: copied, as a keytab).
            shutil.copy(machines[0].conf["database"] + ".key", p.conf["database"] + ".key")
        p.start()
        machines.append(p)
    return srv, db, machines


def refused(p):
    """Start portald in the foreground, expecting it to stop: (status, log)."""
    r = subprocess.run([PORTALD, "-f", "-c", p.conf_path], capture_output=True, text=True,
                       env=CHILD_ENV, timeout=START_TIMEOUT)
    return r.returncode, r.stdout + r.stderr


def show(p, user):
    return p.ctl("user", "show", user)


@test
def one_member_one_state_on_every_machine():
    srv, db, (a, b, c) = fleet()
    check_eq("user add on machine A: exit 0", a.ctl("user", "add", "alice",
                                                    "alice@example.org")[0], 0)
    for name, p in (("B", b), ("C", c)):
        rc, out, err = show(p, "alice")
        check("machine %s sees the member A added, pending" % name,
              rc == 0 and re.search(r"(?m)^state:\s*pending", out), out + err)
    rc, out, err = b.ctl("user", "add", "alice", "alice@example.org")
    check("user add of the same member on B: refused, already managed", rc != 0, out + err)
    svc = c.service("portal", "lang=en")
    d = c.dialog(svc, "alice")
    d.expect("INFO", r"(?i)connected to the new portal")
    check("a sign-in on machine C asks the member A added for the address", True)
    check_eq("user del on C: exit 0", c.ctl("user", "del", "alice")[0], 0)
    rc, out, err = show(a, "alice")
    check("machine A: the member C removed is no longer managed", rc != 0, out + err)
    check_eq("the database has no row left", srv.psql(db, "SELECT count(*) FROM members"), "0")
    for p in (a, b, c):
        p.stop_checked()


@test
def a_machine_with_other_settings_is_refused():
    srv, db, (a,) = fleet(1)
    other = Portal(smtp=False, start=False, store="postgresql", postgresql=srv.conninfo(db),
                   postgresql_timeout="%ds" % TIMEOUT, host_name="machine-z",
                   cutover="2024-01-01")
    shutil.copy(a.conf["database"] + ".key", other.conf["database"] + ".key")
    rc, err = refused(other)
    check_eq("a machine with another cutover: refused, exit 1", rc, 1)
    check_match("... saying what differs, both values and who set them",
                r'cutover: this machine has "2024-01-01", the other machines "2023-10-30" '
                r'\(recorded by machine-a\)', err)
    stranger = Portal(smtp=False, start=False, store="postgresql", postgresql=srv.conninfo(db),
                      postgresql_timeout="%ds" % TIMEOUT, host_name="machine-y")
    rc, err = refused(stranger)
    check_eq("a machine with another key file: refused, exit 1", rc, 1)
    check_match("... saying the key differs", r"key_file: this machine has", err)
    check_eq("the settings recorded are the first machine's",
             srv.psql(db, "SELECT value, set_by FROM fleet_settings WHERE name = 'cutover'"),
             "2023-10-30|machine-a")
    a.stop_checked()


@test
def database_down_is_unavailable_then_back():
    srv, db, (a, b) = fleet(2)
    a.add_user("bob", "bob@example.org")
    svc = b.service("portal", "lang=en", then="permit")
    srv.stop()
    try:
        t0 = time.monotonic()
        auth, acct, before = b.dialog(svc, "bob").result()
        took = time.monotonic() - t0
        check_eq("database down: a managed member's sign-in is PAM_AUTHINFO_UNAVAIL, "
                 "not the permit below", auth, "PAM_AUTHINFO_UNAVAIL")
        # postgresql_timeout bounds each wait; a look-up reconnects once.
        check("... within the bound (2 x postgresql_timeout + slack)",
              took < bound(2 * TIMEOUT + 2), "%.1f s" % took)
        auth2, _, _ = b.dialog(svc, "bob").result()
        check_eq("... every time it is asked", auth2, "PAM_AUTHINFO_UNAVAIL")
        log = b.log()
        check_eq("the log says the database went once, not once a request",
                 len(re.findall(r"database unreachable", log)), 1)
    finally:
        srv.start()
    wait_for("machine B to answer from the database again",
             lambda: show(b, "bob")[0] == 0, bound(3 * TIMEOUT))
    d = b.dialog(svc, "bob")
    d.expect("INFO", r"(?i)connected to the new portal")
    check("database back: machine B goes on by itself, no restart", True)
    check_match("... and says so in its log", r"database reachable again", b.log())
    for p in (a, b):
        p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
