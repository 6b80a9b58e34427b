#!/usr/bin/python3
"""test_check.py - `portald -t`, and portald's command line.

portald -t reads the configuration and looks at the files it names (the
socket's directory and path, the database, its folder and its key, the
SMTP password file, the account to run as) as the start would, then
exits: 0 when portald could start, 1 and the reason when it could not, as
`sshd -t` does.  Each mistake is shown to be refused with the very reason
a real start gives, and nothing is made or changed by the check.  Then
the long options, as portalctl has them.
"""
import os
import re
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (CHILD_ENV, PORTALD, START_TIMEOUT, Cleanup, Portal, check, check_eq,
                        check_match, run_tests, scratch, test, wait_for, write_conf)
from sysuser import SystemUser


def portald(*args, user=None):
    argv = [PORTALD] + list(args)
    p = subprocess.run(user.as_user(argv) if user else argv, capture_output=True, text=True,
                       env=CHILD_ENV, timeout=START_TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def tree(d):
    """Every path under d with its mode, owner, size and, for links, target."""
    out = {}
    for top, dirs, files in os.walk(d):
        for n in dirs + files:
            p = os.path.join(top, n)
            st = os.lstat(p)
            out[os.path.relpath(p, d)] = (st.st_mode, st.st_uid, st.st_size,
                                          os.readlink(p) if stat.S_ISLNK(st.st_mode) else None)
    return out


def start_reason(conf, user=None):
    """What a real start says when it does not start (it must not)."""
    rc, out, err = portald("-f", "-c", conf, user=user)
    m = (re.search(r"(?m)^portald\[\d+\]: error: not started: (.*)$", err) or
         re.search(r"(?m)^portald: (.*)$", err))
    return rc, m.group(1) if m else err


def refused(what, d, conf, word, user=None, start_says=None):
    """-t refuses with exit 1 and the reason (containing word) that a real
    start gives (or, when its words differ, one with start_says in it),
    having changed nothing."""
    before = tree(d)
    rc, out, err = portald("-t", "-c", conf, user=user)
    check_eq("-t, %s: exit 1, nothing on stdout" % what, (rc, out), (1, ""))
    m = re.search(r"(?m)^portald: (.*)\n\Z", err)
    check_match("-t, %s: its last line says why" % what, re.escape(word), m and m.group(1))
    check_eq("-t, %s: nothing made or changed" % what, tree(d), before)
    rc, reason = start_reason(conf, user)
    if start_says:
        check("-t, %s: a real start refuses it too" % what, rc == 1 and start_says in reason,
              (rc, reason))
    else:
        check_eq("-t, %s: the reason a real start gives" % what, (rc, reason),
                 (1, m and m.group(1)))


@test
def a_good_configuration():
    d = scratch()
    conf = write_conf(d, mail_from='"Doe, Jane" <jane@example.org>')
    before = tree(d)
    check_eq("-t, first start to come (no socket folder, database, key yet): exit 0, silent",
             portald("-t", "-c", conf), (0, "", ""))
    check_eq("-t: made nothing", tree(d), before)
    check_eq("--test --config: the same", portald("--test", "--config", conf), (0, "", ""))

    p = Portal(smtp=False)
    # The socket accepts from early in the start; an answer comes once
    # everything is open (the key made, the database too).
    check_eq("portald serving", p.ctl("status")[0], 0)
    check_eq("-t with portald running on its socket, database and key: exit 0",
             portald("-t", "-c", p.conf_path), (0, "", ""))
    check("-t: the running portald is untouched", p.accepting())
    p.stop_checked()


@test
def what_the_start_would_refuse():
    d = scratch()
    refused("a bad mail_from", d, write_conf(d, mail_from="Example College"),
            "mail_from: 'Example College' is not an e-mail address; accepted:")
    refused("a user that does not exist", d, write_conf(d, user="pptest-nobody"),
            "user = pptest-nobody: no such account")
    refused("the database folder missing", d,
            write_conf(d, database=os.path.join(d, "nowhere", "portal.db")),
            "database folder %s: No such file or directory" % os.path.join(d, "nowhere"))

    d = scratch()
    conf = write_conf(d)
    db = os.path.join(d, "db", "portal.db")
    os.symlink("/etc/passwd", db)
    refused("the database a symbolic link", d, conf, "symbolic link")
    os.unlink(db)
    open(db, "w").close()
    os.chmod(db, 0o644)
    refused("the database open to others", d, conf, "open to group or others (mode 0644)")
    os.chmod(db, 0o600)
    os.chown(db, 65534, 65534)
    refused("the database of another account", d, conf, "must be owned by uid 0, not 65534")
    os.chown(db, 0, 0)

    key = db + ".key"
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o640)
    refused("the key file open to the group", d, conf, "the key file is open to group")
    os.chmod(key, 0o600)
    with open(key, "wb") as f:
        f.write(b"short")
    refused("a key file of 5 bytes", d, conf, "holds 5 bytes, not 32")
    os.unlink(key)
    refused("a database without its key (a new key would make its codes and mail "
            "unreadable)", d, conf, "%s: no key file, but the database %s made with it is there"
            % (key, db))
    os.unlink(db)
    other = os.path.join(d, "keys", "portal.key")
    refused("key_file in a folder that is not there", d, write_conf(d, key_file=other),
            "key file folder %s: No such file or directory" % os.path.dirname(other))

    pw = os.path.join(d, "smtp-password")
    conf = write_conf(d, smtp_user="portal", smtp_password_file=pw)
    refused("the SMTP password file missing", d, conf, "smtp_password_file %s: No such" % pw)
    with open(pw, "w") as f:
        f.write("secret\n")
    os.chmod(pw, 0o640)
    refused("the SMTP password file open to the group", d, conf, "(chmod 600)")

    d = scratch()
    conf = write_conf(d)
    open(os.path.join(d, "run"), "w").close()
    refused("the socket directory a file", d, conf, "socket directory %s/run: not a directory" % d)
    os.unlink(os.path.join(d, "run"))
    os.mkdir(os.path.join(d, "run"))
    open(os.path.join(d, "run", "portald.sock"), "w").close()
    refused("a file where the socket goes", d, conf, "exists and is not a socket")
    refused("the socket's directory two levels missing", d,
            write_conf(d, socket=os.path.join(d, "a", "b", "portald.sock")),
            "socket directory %s/a/b: No such file or directory" % d)


@test
def as_the_account_it_runs_as():
    """Run as an account (systemd's User=), -t checks what that account can
    do: a database folder it cannot write in is refused, as the start
    refuses it.  Started as root, an SMTP password file may belong to
    the account it becomes (it did not before: only root's was taken)."""
    u = SystemUser()
    Cleanup.add(u.remove)
    d = scratch()
    os.chmod(os.path.join(d, "db"), 0o755)
    conf = write_conf(d, user=u.name, socket=os.path.join(d, "db", "portald.sock"))
    refused("as %s, a socket directory of root" % u.name, d, conf,
            "socket directory %s/db: Permission denied" % d, user=u,
            start_says="Permission denied")
    os.mkdir(os.path.join(d, "run"), 0o755)
    os.chown(os.path.join(d, "run"), u.uid, u.gid)
    conf = write_conf(d, user=u.name)
    refused("as %s, a database folder of root" % u.name, d, conf,
            "database folder %s/db: Permission denied" % d, user=u)

    pw = os.path.join(d, "smtp-password")
    with open(pw, "w") as f:
        f.write("secret\n")
    os.chmod(pw, 0o600)
    os.chown(pw, u.uid, u.gid)
    conf = write_conf(d, user=u.name, smtp_user="portal", smtp_password_file=pw)
    check_eq("-t as root, portald to become %s, its own SMTP password file: exit 0" % u.name,
             portald("-t", "-c", conf), (0, "", ""))
    p = Portal(smtp=False, start=False, user=u.name, smtp_user="portal",
               smtp_password_file=pw)
    os.chown(os.path.dirname(p.conf["database"]), u.uid, u.gid)
    p.start()
    check("started as root, portald takes an SMTP password file of the account it becomes",
          p.ctl("status")[0] == 0, p.log())
    p.stop_checked()


@test
def long_options():
    rc, out, err = portald("--help")
    check_eq("--help: exit 0, nothing on stderr", (rc, err), (0, ""))
    for opt in ("--config FILE", "--foreground", "--test", "--help", "--version"):
        check_match("--help names %s" % opt, re.escape(opt), out)
    check_eq("-h: the same", portald("-h"), (rc, out, err))
    rc, out, err = portald("--version")
    check("--version: 'portald VERSION', exit 0", rc == 0 and re.match(r"portald \d+\.\d+", out),
          out)
    rc, out, err = portald("--bogus")
    check("an unknown option: exit 2, named, with a hint to --help",
          rc == 2 and "unknown option: --bogus" in err and "--help" in err, err)
    rc, out, err = portald("--config")
    check("--config without a value: exit 2, said", rc == 2 and "--config" in err, err)
    rc, out, err = portald("-t", "extra")
    check("an argument portald does not take: exit 2", rc == 2 and "extra" in err, err)
    env = dict(CHILD_ENV, LC_ALL="fr_CA.UTF-8")
    p = subprocess.run([PORTALD, "--help"], capture_output=True, text=True, env=env,
                       timeout=START_TIMEOUT)
    check_match("--help in French when the locale is French", r"fichier de configuration",
                p.stdout)

    p = Portal(smtp=False, start=False)
    p.logf = open(p.log_path, "a")
    p.proc = subprocess.Popen([PORTALD, "--foreground", "--config", p.conf_path],
                              stdout=p.logf, stderr=subprocess.STDOUT, env=CHILD_ENV)
    Cleanup.add(p.kill)
    # The socket accepts from early in the start; "listening" is logged at its end.
    check("--foreground --config: portald runs, logging to stderr",
          wait_for("portald to log that it listens", lambda: p.proc.poll() is None and
                   re.search(r"portald\[\d+\]: info: portald .* listening", p.log()),
                   START_TIMEOUT), p.log())
    p.stop_checked("--foreground: portald stops cleanly")


if __name__ == "__main__":
    sys.exit(run_tests())
