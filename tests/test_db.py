#!/usr/bin/python3
"""test_db.py - the PostgreSQL side of the configuration, against a real
server (tests/pgserver.py: a private cluster in a temporary folder, its
socket there, removed at the end): `portalctl db schema` and `db init`
(made, idempotent, two at once, refused when the schema is newer than
the program), and `portald -t` with `store = postgresql` (the database
reached and its schema checked, said plainly when it cannot be: no
schema, a newer one, nobody listening, a wrong password, a password file
others can read, a conninfo libpq cannot parse, each `FILE:LINE: KEY:`).
A portald started with `store = postgresql` refuses, saying why, until
its requests are served from the database.
"""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (CHILD_ENV, PORTALCTL, PORTALD, START_TIMEOUT, bound, check, check_eq,
                        check_match, run_tests, scratch, test, write_conf)
from pgserver import shared as server



def pg_conf(d, **keys):
    return write_conf(d, **dict({"store": "postgresql", "postgresql_timeout": "3s"}, **keys))


def run(argv, timeout=None):
    p = subprocess.run(argv, capture_output=True, text=True, env=CHILD_ENV,
                       timeout=timeout or START_TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def ctl(conf, *args):
    return run([PORTALCTL, "-c", conf] + list(args))


def check_t(conf):
    return run([PORTALD, "-t", "-c", conf])


def fresh(init=True):
    """A new database and the configuration of a machine using it."""
    srv = server()
    db = srv.fresh()
    d = scratch("portal-db-")
    conf = pg_conf(d, postgresql=srv.conninfo(db))
    if init:
        rc, out, err = ctl(conf, "db", "init")
        if rc != 0:
            raise RuntimeError("db init: " + err)
    return srv, db, d, conf


@test
def schema_is_printed_and_is_what_init_makes():
    rc, out, err = run([PORTALCTL, "db", "schema"])
    check_eq("db schema: exit 0", (rc, err), (0, ""))
    for table in ("schema_version", "members", "member_locks", "outbox"):
        check("db schema: CREATE TABLE %s" % table, "CREATE TABLE" in out and
              (" %s (" % table) in out, out[:200])
    check_match("db schema: the keyed hash of a code, never a code column",
                r"code_hash\s+bytea", out)
    check("db schema: no column holds a code or a mail in the clear",
          not any(w in out for w in (" code text", " code integer", " message text", " body ")))
    check_match("db schema: one waiting code mail per member",
                r"UNIQUE INDEX outbox_one_waiting_code ON outbox \(member\)\s+WHERE kind = 'code' "
                r"AND status = 'queued'", out)
    srv = server()
    db = srv.fresh()
    srv._run(["/usr/lib/postgresql/15/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
              srv.dir, "-p", str(srv.port), "-U", "portal", "-d", db], input=out)
    d = scratch("portal-db-")
    rc, out, err = check_t(pg_conf(d, postgresql=srv.conninfo(db)))
    check_eq("the printed SQL, run by a DBA with psql, makes a schema portald -t takes",
             (rc, err), (0, ""))


@test
def init_makes_the_schema_once():
    srv, db, d, conf = fresh(init=False)
    rc, out, err = ctl(conf, "db", "init")
    check_eq("db init on an empty database: made", (rc, out.strip(), err),
             (0, "The schema was made: version 2.", ""))
    rc, out, err = ctl(conf, "db", "init")
    check_eq("db init again: nothing to do", (rc, out.strip()),
             (0, "The schema is up to date: version 2; nothing was changed."))
    check_eq("one version row", srv.psql(db, "SELECT version, compatible_from FROM schema_version"),
             "1|1\n2|1")
    rc, out, err = check_t(conf)
    check_eq("portald -t: the database reached, its schema usable", (rc, err), (0, ""))


@test
def two_inits_at_once_take_turns():
    srv, db, d, conf = fresh(init=False)
    results = []
    threads = [threading.Thread(target=lambda: results.append(ctl(conf, "db", "init")))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check_eq("both exit 0", sorted(r[0] for r in results), [0, 0])
    check_eq("one made it, the other found it done",
             sorted(r[1].strip() for r in results),
             ["The schema is up to date: version 2; nothing was changed.",
              "The schema was made: version 2."])


@test
def a_schema_newer_than_the_program_is_refused():
    srv, db, d, conf = fresh()
    srv.psql(db, "INSERT INTO schema_version (version, compatible_from) VALUES (3, 1)")
    rc, out, err = check_t(conf)
    check_eq("a newer schema that only added (compatible from 1): portald -t takes it",
             (rc, err), (0, ""))
    rc, out, err = ctl(conf, "db", "init")
    check_eq("db init on it: exit 1", rc, 1)
    check_match("db init says both versions and that nothing changed",
                r"schema is version 3, newer than this program's \(2\).*nothing was changed", err)
    srv.psql(db, "INSERT INTO schema_version (version, compatible_from) VALUES (4, 4)")
    rc, out, err = check_t(conf)
    check_eq("a schema this program cannot use: portald -t exit 1", rc, 1)
    check_match("... saying so, with the versions, and what to do",
                r"schema is version 4, which programs that know version 4 or later can use; "
                r"this one knows version 2: upgrade pam_portal", err)


@test
def no_schema_says_to_run_init():
    srv, db, d, conf = fresh(init=False)
    rc, out, err = check_t(conf)
    check_eq("no schema: portald -t exit 1", rc, 1)
    check_match("... saying to run portalctl db init", r"no pam_portal schema: run `portalctl db "
                r"init`", err)


@test
def an_unreachable_database_is_said_plainly_and_soon():
    d = scratch("portal-db-")
    conf = pg_conf(d, postgresql="host=%s/nowhere port=5432 dbname=portal connect_timeout=2" % d)
    t0 = time.monotonic()
    rc, out, err = check_t(conf)
    took = time.monotonic() - t0
    check_eq("nobody listening: portald -t exit 1", rc, 1)
    check_match("... the database cannot be reached, and libpq's why",
                r"postgresql: the database cannot be reached: cannot connect: .*nowhere.*"
                r"No such file or directory", err)
    check("... within the bound, not a hang (%.1f s)" % took, took < bound(5))
    rc, out, err = ctl(conf, "db", "init")
    check_match("db init says the same", r"(?s)^portalctl: cannot connect: .*No such file", err)


@test
def passwords_come_from_a_root_only_file():
    srv = server()
    db = srv.fresh()
    srv.psql("postgres", "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
             "'portald_app') THEN CREATE ROLE portald_app LOGIN PASSWORD 'right horse'; END IF; "
             "END$$")
    hba = os.path.join(srv.data, "pg_hba.conf")
    with open(hba) as f:
        rules = f.read()
    if "portald_app" not in rules:
        with open(hba, "w") as f:
            f.write("local all portald_app scram-sha-256\n" + rules)
        srv.psql("postgres", "SELECT pg_reload_conf()")
    d = scratch("portal-db-")
    pw = os.path.join(d, "pg-password")
    info = "host=%s port=%d dbname=%s user=portald_app" % (srv.dir, srv.port, db)
    conf = pg_conf(d, postgresql=info, postgresql_password_file=pw)
    with open(pw, "w") as f:
        f.write("wrong horse\n")
    os.chmod(pw, 0o600)
    rc, out, err = check_t(conf)
    check_eq("a wrong password: exit 1", rc, 1)
    check_match("... libpq's reason", r"password authentication failed for user \"portald_app\"",
                err)
    with open(pw, "w") as f:
        f.write("right horse\n")
    os.chmod(pw, 0o644)
    rc, out, err = check_t(conf)
    check_match("a password file others can read: refused, naming it",
                r"postgresql_password_file %s: group or others can read it" % pw, err)
    os.chmod(pw, 0o600)
    # The schema made by its owner; the daemon's role given only the rows.
    ctl(pg_conf(d, postgresql=srv.conninfo(db)), "db", "init")
    srv.psql(db, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
             "TO portald_app")
    conf = pg_conf(d, postgresql=info, postgresql_password_file=pw)
    rc, out, err = check_t(conf)
    check_eq("the right password from the file, a role with only the rows: portald -t exit 0",
             (rc, err), (0, ""))


@test
def configuration_mistakes_name_the_line():
    d = scratch("portal-db-")
    for keys, want in [
            ({"store": "mongodb"}, r"store: 'mongodb' must be gdbm or postgresql"),
            ({"postgresql": "host=/x dbnme=portal"},
             r"postgresql: 'host=/x dbnme=portal' invalid connection option \"dbnme\""),
            ({"postgresql": "postgresql://[::1"}, r"postgresql: .* matching \"\]\" in IPv6"),
            ({"postgresql_timeout": "0"}, r"postgresql_timeout: '0' must be between 1s and 60s"),
            ({"host_name": "a b"}, r"host_name: 'a b' must be a host name"),
    ]:
        conf = pg_conf(d, **dict({"postgresql": "dbname=portal"}, **keys))
        with open(conf) as f:
            key = list(keys)[0]
            line = [n for n, text in enumerate(f, 1) if text.startswith(key + " =")][0]
        rc, out, err = check_t(conf)
        check_eq("%s: exit 1" % keys, rc, 1)
        check_match("%s: FILE:LINE: KEY: what is wrong" % keys,
                    r"^portald: %s:%d: %s" % (conf, line, want), err)
    conf = pg_conf(d, postgresql=None)
    rc, out, err = check_t(conf)
    check_match("store = postgresql without a conninfo: said",
                r"^portald: %s: postgresql: needed when store = postgresql" % conf, err)


if __name__ == "__main__":
    sys.exit(run_tests())
