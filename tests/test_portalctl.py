#!/usr/bin/python3
"""test_portalctl.py - every portalctl command against a real portald, and
the exit codes of the contract: 0 success, 1 failure, 2 bad usage.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, SLOW, STRONG, Portal, ask_code, check, check_eq, check_match,
                        full_flow, run_tests, sign_in, test)


def field(out, label):
    """The value of `label: value` in user show / status output."""
    m = re.search(r"(?m)^%s:\s*(.*)$" % re.escape(label), out)
    return m.group(1).strip() if m else None


def rows(out):
    """The rows of a table (the header line dropped), as lists of cells
    (cells are separated by two spaces or more)."""
    lines = [l for l in out.splitlines() if l.strip()]
    return [re.split(r"\s{2,}", l.strip()) for l in lines[1:]]


@test
def user_commands():
    # resend_interval 0: the reset below comes seconds after the first code
    p = Portal(resend_interval="0")
    ctl = p.ctl
    rc, out, err = ctl("user", "add", "alice", "alice@example.org")
    check_eq("add: exit 0", rc, 0)
    check_match("add: says so", r"alice.*alice@example\.org", out)
    rc, out, err = ctl("user", "add", "alice", "other@example.org")
    check_eq("add twice: exit 1", rc, 1)
    check("add twice: a message on stderr", err.strip() != "", err)
    rc, out, err = ctl("user", "add", "bob", "not-an-address")
    check_eq("add with a bad address: exit 1", rc, 1)
    check_match("add with a bad address: names it", r"not-an-address", err)
    rc, out, err = ctl("user", "add", "-bad name", "x@example.org")
    check("add with a bad user name: exit 1 or 2", rc in (1, 2), (rc, err))
    rc, out, err = ctl("user", "add", "bob")
    check_eq("add with one argument: usage, exit 2", rc, 2)
    ctl("user", "add", "bob", "Bob@Example.org")

    rc, out, err = ctl("user", "show", "alice")
    check_eq("show: exit 0", rc, 0)
    check_eq("show: the user", field(out, "user"), "alice")
    check_eq("show: the address", field(out, "e-mail"), "alice@example.org")
    check_match("show: pending, never signed in", r"^pending", field(out, "state") or "")
    check_eq("show: last sign-in never", field(out, "last sign-in"), "never")
    check_eq("show: no password", field(out, "password set"), "no")
    rc, out, err = ctl("user", "show", "nobody")
    check_eq("show an unknown user: exit 1", rc, 1)
    check_match("show an unknown user: says who", r"nobody", err)

    rc, out, err = ctl("user", "list")
    check_eq("list: exit 0", rc, 0)
    check_match("list: a header", r"^USER\s+EMAIL\s+STATE", out)
    check_eq("list: one row per user", sorted(r[:3] for r in rows(out)),
             [["alice", "alice@example.org", "pending"], ["bob", "Bob@Example.org", "pending"]])

    svc = p.service("login")
    auth, _ = full_flow(p, svc, "alice", "alice@example.org")
    rc, out, err = ctl("user", "list", "--state", "active")
    check_eq("list --state active: exit 0", rc, 0)
    check_eq("list --state active: only alice", [r[0] for r in rows(out)], ["alice"])
    rc, out, err = ctl("user", "list", "--state=pending")
    check_eq("list --state=pending: only bob", [r[0] for r in rows(out)], ["bob"])
    rc, out, err = ctl("user", "list", "--state", "locked")
    check_eq("list --state locked with none: exit 0", rc, 0)
    check("list --state locked with none: says so, no table", out == "" and "locked" in err,
          (out, err))
    rc, out, err = ctl("user", "list", "--state", "sleepy")
    check_eq("list --state with a bad state: exit 2", rc, 2)
    rc, out, err = ctl("user", "list", "extra")
    check_eq("list with a stray argument: exit 2", rc, 2)

    out = ctl("user", "show", "alice")[1]
    check_match("show after the flow: active", r"^active", field(out, "state") or "")
    check_eq("show after the flow: password set", field(out, "password set"), "yes")
    check("show after the flow: a last sign-in time", field(out, "last sign-in") != "never", out)

    # reset: back through the whole verification
    rc, out, err = ctl("user", "reset", "alice")
    check_eq("reset: exit 0", rc, 0)
    out = ctl("user", "show", "alice")[1]
    check_match("reset: pending, reset by an administrator", r"pending.*reset",
                field(out, "state") or "")
    check_eq("reset: the password is gone", field(out, "password set"), "no")
    d = p.dialog(svc, "alice")
    check_match("reset: the intro says an administrator asked", r"(?i)administrator",
                d.expect("INFO"))
    code = ask_code(p, d, "alice", "alice@example.org")
    d.answer(code)
    d.expect("INFO", EN["verified"])
    d.expect("ECHO_ON", EN["continue"])
    d.answer("")
    new = STRONG + " again"
    d.expect("ECHO_OFF")
    d.answer(new)
    d.expect("ECHO_OFF")
    d.answer(new)
    d.expect("INFO", EN["created"])
    d.result()
    check_eq("reset: the old password no longer works", sign_in(p, svc, "alice", STRONG)[0],
             "PAM_AUTH_ERR")
    check_eq("reset: the new one does", sign_in(p, svc, "alice", new)[0], "PAM_SUCCESS")
    rc, _, _ = ctl("user", "reset", "nobody")
    check_eq("reset an unknown user: exit 1", rc, 1)

    rc, out, err = ctl("user", "del", "bob")
    check_eq("del: exit 0", rc, 0)
    check_eq("del: gone from show", ctl("user", "show", "bob")[0], 1)
    check_eq("del again: exit 1", ctl("user", "del", "bob")[0], 1)
    d = p.dialog(p.service("permit", then="permit"), "bob")
    check_eq("del: the user is no longer managed (ignored by the module)",
             d.result()[:2], ("PAM_SUCCESS", "PAM_SUCCESS"))
    check_eq("del with no argument: exit 2", ctl("user", "del")[0], 2)
    p.stop_checked()


@test
def lock_and_unlock():
    # code_attempts 2: two wrong codes lock
    p = Portal(code_attempts="2", lockout="1h")
    p.add_user("carol", "carol@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "carol")
    code = ask_code(p, d, "carol", "carol@example.org")
    bad = code[:-1] + str((int(code[-1]) + 1) % 10)
    d.answer(bad)
    d.expect("ERROR")
    d.expect("ECHO_ON")
    d.answer(bad)
    check_match("lockout: said with its length", r"(?i)locked.*(60 minutes|1 hour)", d.expect("ERROR"))
    d.result()
    rc, out, err = p.ctl("user", "list", "--state", "locked")
    check_eq("lockout: list --state locked shows the user", [r[0] for r in rows(out)],
             ["carol"])
    check_match("lockout: show says until when", r"^locked.*until",
                field(p.ctl("user", "show", "carol")[1], "state") or "")
    rc, out, err = p.ctl("user", "unlock", "carol")
    check_eq("unlock: exit 0", rc, 0)
    check_match("unlock: says so", r"carol", out)
    out = p.ctl("user", "show", "carol")[1]
    check_match("unlock: pending again", r"^pending", field(out, "state") or "")
    check_eq("unlock: failures cleared", field(out, "consecutive failures"), "0")
    check_eq("unlock an unknown user: exit 1", p.ctl("user", "unlock", "nobody")[0], 1)
    d = p.dialog(svc, "carol")
    d.until("ECHO_ON", EN["email"])
    d.answer("q")
    check_eq("unlock: the conversation is offered again", d.result()[0], "PAM_AUTH_ERR")
    p.stop_checked()


@test
def import_csv():
    p = Portal()
    p.add_user("existing", "existing@example.org")
    csv = os.path.join(p.dir, "members.csv")
    with open(csv, "w") as f:
        f.write("ann,ann@example.org\n"            # 1 good
                "this line has no comma\n"        # 2 bad: one field
                "ben,not-an-address\n"            # 3 bad address
                "\n"                              # 4 blank: skipped
                "cid,cid@example.org\n"           # 5 good
                "existing,existing@example.org\n"  # 6 already there, same address
                "existing,other@example.org\n"    # 7 already there, other address
                "bad name,bn@example.org\n"       # 8 bad user name
                "dee,dee@example.org,extra\n"     # 9 three fields
                "\"eve\",\"eve@example.org\"\n")   # 10 good, quoted
    rc, out, err = p.ctl("import", csv)
    check_eq("import with bad lines: exit 1", rc, 1)
    for n in (2, 3, 7, 8, 9):
        check_match("import: bad line %d reported by number" % n, r"members\.csv:%d\b" % n, err)
    for n in (1, 4, 5, 6, 10):
        check("import: good line %d not reported" % n,
              not re.search(r"members\.csv:%d\b" % n, err), err)
    check_match("import: a summary", r"3 added.*1 unchanged.*5 refused", out)
    users = sorted(r[0] for r in rows(p.ctl("user", "list")[1]))
    check_eq("import: exactly the good lines were imported", users,
             ["ann", "cid", "eve", "existing"])
    check_eq("import: the refused other address did not replace the one on file",
             field(p.ctl("user", "show", "existing")[1], "e-mail"), "existing@example.org")
    check_eq("import: the refused bad address left no user behind",
             p.ctl("user", "show", "ben")[0], 1)

    rc, out, err = p.ctl("import", "-", input="fay,fay@example.org\ngus,gus@example.org\n")
    check_eq("import from stdin: exit 0", rc, 0)
    check_match("import from stdin: 2 added", r"2 added", out)
    rc, out, err = p.ctl("import", "-", input="fay,fay@example.org\n")
    check_eq("import of the same line again: exit 0 (unchanged)", rc, 0)
    check_match("import again: unchanged", r"0 added.*1 unchanged", out)
    rc, _, err = p.ctl("import", os.path.join(p.dir, "missing.csv"))
    check_eq("import of a missing file: exit 1", rc, 1)
    check_eq("import without a file: exit 2", p.ctl("import")[0], 2)

    # A large file goes in quickly, in batches, all of it.
    big = os.path.join(p.dir, "big.csv")
    n = 5000
    with open(big, "w") as f:
        for i in range(n):
            f.write("member%05d,member%05d@example.org\n" % (i, i))
    start = time.monotonic()
    rc, out, err = p.ctl("import", big)
    took = time.monotonic() - start
    check_eq("import of %d lines: exit 0" % n, rc, 0)
    check_match("import of %d lines: all added" % n, r"\b%d added" % n, out)
    check("import of %d lines: quick (%.1fs)" % (n, took), took < 20 * SLOW, took)
    status = p.ctl("status")[1]
    check_eq("import: status counts every pending user", field(status, "pending users"),
             str(n + 6))
    p.stop_checked()


@test
def outbox_and_status():
    p = Portal()
    rc, out, err = p.ctl("outbox")
    check_eq("outbox empty: exit 0", rc, 0)
    check_match("outbox empty: says so", r"(?i)empty", err)
    p.add_user("alice", "alice@example.org")
    p.add_user("bob", "bob@example.org")
    svc = p.service("login")
    full_flow(p, svc, "alice", "alice@example.org")
    p.wait_outbox_idle()                   # the code, then the notice
    rc, out, err = p.ctl("outbox")
    check_eq("outbox: exit 0", rc, 0)
    check_match("outbox: a header", r"^ID\s+USER\s+TO\s+STATUS", out)
    sent = [r for r in rows(out) if "alice@example.org" in r]
    check("outbox: the two mails to alice are listed", len(sent) == 2, out)
    check("outbox: shown as sent",
          all(re.search(r"(?i)sent", " ".join(r)) for r in sent), out)
    check("outbox: no code in the listing",
          not any(m.code and m.code in out for m in p.mails()), out)

    rc, out, err = p.ctl("status")
    check_eq("status: exit 0", rc, 0)
    check_match("status: version", r"\d+\.\d+", field(out, "portald version") or "")
    check_eq("status: socket", field(out, "socket"), p.socket)
    check_eq("status: pending users", field(out, "pending users"), "1")
    check_eq("status: active users", field(out, "active users"), "1")
    check_eq("status: locked users", field(out, "locked users"), "0")
    check_eq("status: mails waiting", field(out, "mails waiting"), "0")
    check_eq("status with an argument: exit 2", p.ctl("status", "now")[0], 2)
    p.stop_checked()


@test
def usage_and_failures():
    p = Portal(smtp=False)
    ctl = p.ctl
    check_eq("unknown command: exit 2", ctl("frobnicate")[0], 2)
    check_eq("unknown user subcommand: exit 2", ctl("user", "frobnicate", "x")[0], 2)
    check_eq("no command: exit 2", ctl()[0], 2)
    check_eq("unknown option: exit 2", ctl("--frob", "status")[0], 2)
    check_eq("-c without a value: exit 2", ctl("-c", conf=False)[0], 2)
    rc, out, _ = ctl("--help")
    check_eq("--help: exit 0", rc, 0)
    for cmd in ("user add", "user del", "user show", "user list", "user reset", "user unlock",
                "import", "outbox", "status"):
        check_match("--help lists %s" % cmd, re.escape(cmd), out)
    missing = os.path.join(p.dir, "nope.conf")
    rc, out, err = p.ctl("-c", missing, "status", conf=False)
    check_eq("missing config file: exit 1", rc, 1)
    check_match("missing config file: named", re.escape(missing), err)
    check_eq("status: exit 0 while portald runs", ctl("status")[0], 0)
    check_eq("portald stops", p.stop(), 0)
    rc, out, err = ctl("status")
    check_eq("portald down: exit 1", rc, 1)
    check_match("portald down: says it cannot reach it", re.escape(p.socket), err)
    check_eq("portald down: user add exit 1", ctl("user", "add", "x", "x@example.org")[0], 1)


if __name__ == "__main__":
    sys.exit(run_tests())
