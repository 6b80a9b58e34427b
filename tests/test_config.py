#!/usr/bin/python3
"""test_config.py - portald.conf: every mistake is refused at start with
exit status 1 and a message naming the file, the line and the key; every
key of the table is accepted; the defaults are those of DESIGN.md.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (CHILD_ENV, FR, PORTALCTL, PORTALD, START_TIMEOUT, Cleanup, Portal,
                        check, check_eq, check_match, run_tests, test)


def scratch():
    d = tempfile.mkdtemp(prefix="portal-conf-")
    Cleanup.add(lambda: __import__("shutil").rmtree(d, ignore_errors=True))
    return d


def good_lines(d):
    return ["# test configuration",
            "socket = %s/portald.sock" % d,
            "database = %s/portal.db" % d,
            "cutover = 2023-10-30",
            "smtp_tls = none"]


def run_portald(conf):
    p = subprocess.run([PORTALD, "-f", "-c", conf], capture_output=True, text=True,
                       env=CHILD_ENV, timeout=START_TIMEOUT)
    return p.returncode, p.stderr + p.stdout


BAD = [
    # (what, the bad line, the key named)
    ("unknown key", "colour = blue", "colour"),
    ("bad duration", "code_ttl = 10x", "code_ttl"),
    ("negative duration", "lockout = -5m", "lockout"),
    ("code_length 5", "code_length = 5", "code_length"),
    ("code_length 11", "code_length = 11", "code_length"),
    ("bad date", "cutover = 2023-02-30", "cutover"),
    ("not a date", "cutover = 30/10/2023", "cutover"),
    ("bad language", "language = de", "language"),
    ("bad smtp_tls", "smtp_tls = maybe", "smtp_tls"),
    ("password_min_length 7", "password_min_length = 7", "password_min_length"),
    ("bad smtp_server port", "smtp_server = mail.example.org:99999", "smtp_server"),
    ("bad mail_from", "mail_from = not an address", "mail_from"),
    ("relative database path", "database = portal.db", "database"),
    ("a number with junk", "code_attempts = 5 tries", "code_attempts"),
]


@test
def config_errors():
    d = scratch()
    for what, line, key in BAD:
        conf = os.path.join(d, "bad.conf")
        lines = good_lines(d)
        # the bad line replaces its good self, or comes last
        lines = [l for l in lines if not l.startswith(key + " ")] + [line]
        lineno = len(lines)
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        rc, err = run_portald(conf)
        check_eq("config %s: exit 1" % what, rc, 1)
        check_match("config %s: names file:line: key" % what,
                    r"%s:%d: %s\b" % (re.escape(conf), lineno, re.escape(key)), err)
        check("config %s: no socket left behind" % what,
              not os.path.exists(os.path.join(d, "portald.sock")), "socket exists")

    conf = os.path.join(d, "nocutover.conf")
    with open(conf, "w") as f:
        f.write("\n".join(l for l in good_lines(d) if not l.startswith("cutover")) + "\n")
    rc, err = run_portald(conf)
    check_eq("config missing cutover: exit 1", rc, 1)
    check_match("config missing cutover: names the file and the key",
                r"%s:.*cutover" % re.escape(conf), err)

    conf = os.path.join(d, "twice.conf")
    with open(conf, "w") as f:
        f.write("\n".join(good_lines(d) + ["language = en", "language = fr"]) + "\n")
    rc, err = run_portald(conf)
    check_eq("config key given twice: exit 1", rc, 1)
    check_match("config key given twice: the second line", r"twice\.conf:7: language", err)

    rc, err = run_portald(os.path.join(d, "absent.conf"))
    check_eq("config file missing: exit 1", rc, 1)
    check_match("config file missing: named", r"absent\.conf", err)

    # portalctl reads the same file and says the same
    conf = os.path.join(d, "bad.conf")
    with open(conf, "w") as f:
        f.write("\n".join(good_lines(d) + ["colour = blue"]) + "\n")
    p = subprocess.run([PORTALCTL, "-c", conf, "status"], capture_output=True, text=True,
                       env=CHILD_ENV, timeout=START_TIMEOUT)
    check_eq("portalctl with a bad config: exit 1", p.returncode, 1)
    check_match("portalctl with a bad config: file:line: key", r"bad\.conf:6: colour", p.stderr)


@test
def every_key_accepted():
    d = scratch()
    pwfile = os.path.join(d, "smtp-password")
    with open(pwfile, "w") as f:
        f.write("secret\n")
    os.chmod(pwfile, 0o600)
    p = Portal(smtp=False, start=False, organization="Collège Boréal", language="fr",
               code_length="8", code_ttl="15m", code_attempts="4", resend_interval="30s",
               codes_per_hour="6", lockout="2h", password_min_length="12",
               max_failures="10", smtp_server="localhost:2525", smtp_tls="none",
               smtp_user="portal", smtp_password_file=pwfile,
               mail_from="no-reply@example.org")
    p.start()
    check("every key: portald starts", p.accepting(), p.log())
    p.add_user("zoe", "zoe@example.org")
    d = p.dialog(p.service("login"), "zoe")
    d.expect("INFO")
    check_match("every key: organization (UTF-8) in the prompt", r"Collège Boréal",
                d.expect("ECHO_ON", FR["email"]))
    d.answer("zoe@example.org")
    check_match("every key: code_ttl 15m", r"15 minutes", d.expect("INFO", FR["sent"]))
    d.expect("ECHO_ON")
    d.answer("r")
    check_match("every key: resend_interval 30s", r"\b(30|29|28) secondes", d.expect("ERROR"))
    d.expect("ECHO_ON")
    d.answer("q")
    d.result()
    p.stop_checked("every key: portald stops cleanly")


@test
def defaults():
    p = Portal(smtp=False, language=None, organization=None, smtp_tls=None,
               smtp_server=None, mail_from=None)
    p.add_user("yan", "yan@example.org")
    d = p.dialog(p.service("login"), "yan")
    check_match("defaults: language fr", FR["intro"], d.expect("INFO"))
    d.expect("ECHO_ON", FR["email"])
    d.answer("yan@example.org")
    check_match("defaults: code_ttl 10m", r"10 minutes", d.expect("INFO"))
    d.expect("ECHO_ON")
    d.answer("r")
    check_match("defaults: resend_interval 60s", r"\b(60|59|58) secondes|1 minute",
                d.expect("ERROR"))
    d.expect("ECHO_ON")
    d.answer("q")
    d.result()
    p.stop_checked("defaults: portald stops cleanly")


if __name__ == "__main__":
    sys.exit(run_tests())
