#!/usr/bin/python3
"""test_ldap.py - members from the organisation's directory (directory =
ldap): a real slapd of the test's own (tests/ldapserver.py: ldapi:// in its
folder, ldap:// with StartTLS on a held loopback port, a test CA), the real
module through libpam, the real portald and SMTP server.

Who is managed is the directory's word (exactly one entry matching the
filter with the name; several: refused), the address on file is the
entry's, read at each request (several values: each is one); when the
directory cannot be reached the answer last read serves for
ldap_cache_ttl, then members are refused (fail closed), and portalctl
status says so.  TLS is required unless said otherwise, with the
certificate checked; a paged search lists more members than the server's
size limit; portalctl refuses to add or remove members the directory
holds, and shows how a name is looked up.
"""
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapserver as L
import wire
from portaltest import (BUILD, EN, PORTALD, STRONG, CHILD_ENV, Cleanup, Portal, TestError,
                        ask_code, bound, check, check_eq, check_match, code_mails,
                        enter_code_and_password, full_flow, run_tests, sign_in, test,
                        wait_for, wait_seconds)
from ports import ReservedPort
from testca import TestCA

DIRLOOKUP = os.path.join(BUILD, "tests", "dirlookup")


def directory(**kw):
    return L.LdapServer(Cleanup.add, **kw)


def over_ldapi(srv, **conf):
    """portald.conf keys for srv over its ldapi:// socket, SASL EXTERNAL."""
    keys = dict(directory="ldap", ldap_uri=srv.ldapi, ldap_sasl="external", ldap_base=L.BASE,
                ldap_filter=L.MEMBER_FILTER)
    keys.update(conf)
    return keys


def password_file(dir, password):
    path = os.path.join(dir, "ldap-password")
    with open(path, "w") as f:
        f.write(password + "\n")
    os.chmod(path, 0o600)
    return path


def over_starttls(srv, portal_dir, password=L.READER_PASSWORD, ca=None, **conf):
    """Keys for srv over ldap:// with StartTLS (required), its CA (or ca),
    and a simple bind as the reader."""
    keys = dict(directory="ldap", ldap_uri=srv.ldap, ldap_ca_file=ca or srv.ca.cert,
                ldap_bind_dn=L.READER, ldap_base=L.BASE, ldap_filter=L.MEMBER_FILTER,
                ldap_bind_password_file=password_file(portal_dir, password))
    keys.update(conf)
    return keys


def portal_with(make_keys, smtp=True, **conf):
    """A Portal whose configuration needs its own folder first (a password
    file in it): written, then started."""
    p = Portal(smtp=smtp, start=False)
    for k, v in make_keys(p.dir).items():
        p.conf[k] = v
    p.conf.update(conf)
    p.write_config()
    p.start()
    return p


def lookup(p, user):
    """portalctl directory lookup USER: (status, output)."""
    rc, out, err = p.ctl("directory", "lookup", user)
    return rc, out + err


def key_service(p):
    """auth refuses, account is the module's: what sshd runs after a key."""
    return p.stack("key", "auth required pam_deny.so\n"
                   "account required {module} socket={socket}\n")


def status_of(p, user):
    return p.dialog(p.service("deny-after"), user)


# ---- the whole flow ------------------------------------------------------------

@test
def pending_flow_from_the_directory():
    srv = directory()
    p = portal_with(lambda d: over_starttls(srv, d))
    svc = p.service("login")
    auth, d = full_flow(p, svc, "alice", "alice@example.org")
    check_eq("ldap over StartTLS: a member verifies the directory's address and creates a "
             "password (relogin)", auth, "PAM_AUTH_ERR")
    mails = code_mails(p, "alice@example.org")
    check_eq("ldap: the code went to the directory's address", len(mails), 1)
    auth, acct, _ = sign_in(p, svc, "alice", STRONG)
    check_eq("ldap: then the member signs in with the new password", (auth, acct),
             ("PAM_SUCCESS", "PAM_SUCCESS"))
    rc, out, _ = p.ctl("user", "show", "alice")
    check("ldap: user show says active, with the entry's DN",
          rc == 0 and re.search(r"(?m)^state:\s+active", out) and
          "uid=alice,ou=people,dc=example,dc=org" in out, out)
    rc, out, _ = p.ctl("status")
    check_match("ldap: status says the directory is reachable, and which server",
                r"(?m)^directory:\s+reachable \(ldap://127\.0\.0\.1:%d\)" % srv.port, out)
    p.stop_checked()


@test
def outside_the_filter_ignored():
    srv = directory()
    p = Portal(**over_ldapi(srv))
    for user in ("carol", "nobody-at-all"):
        auth, acct, before = p.dialog(p.service("permit", then="permit"), user).result()
        check_eq("ldap: %s (not in the group) is ignored: PAM_IGNORE, silent" % user,
                 (auth, acct, before), ("PAM_SUCCESS", "PAM_SUCCESS", []))
    rc, out = lookup(p, "carol")
    check("directory lookup: carol not managed, the filter sent shown",
          rc == 0 and "not managed" in out and
          "(&(memberOf=cn=portal,ou=groups,dc=example,dc=org)(uid=carol))" in out, out)
    p.stop_checked()


@test
def address_changed_in_the_directory():
    srv = directory()
    p = Portal(resend_interval="0", **over_ldapi(srv))
    svc = p.service("login")
    d = p.dialog(svc, "dave")
    code = ask_code(p, d, "dave", "dave@example.org")
    check("ldap: a code to dave's address on file", code is not None)
    d.answer("q")
    d.result()
    srv.set_mail("dave", "dave.new@example.org")
    d = p.dialog(svc, "dave")
    d.until("ECHO_ON", EN["email"])
    d.answer("dave@example.org")
    said_old = d.expect("INFO", EN["sent"])
    d.expect("ECHO_ON", EN["code"])
    d.answer("q")
    d.result()
    check_eq("ldap: the old address gets no mail once the directory changed it",
             len(code_mails(p, "dave@example.org")), 1)
    d = p.dialog(svc, "dave")
    code = ask_code(p, d, "dave", "dave.new@example.org")
    check("ldap: the new address counts at once", code is not None)
    enter_code_and_password(d, code)
    d.expect("INFO", EN["created"])
    d.result()
    check_match("ldap: the old address was told the same words", EN["sent"], said_old)
    p.stop_checked()


@test
def second_address_of_a_person():
    srv = directory()
    p = Portal(resend_interval="0", **over_ldapi(srv))
    svc = p.service("login")
    for addr in ("bob.work@example.org", "bob@example.org"):
        d = p.dialog(svc, "bob")
        code = ask_code(p, d, "bob", addr)
        check("ldap: bob's address %s is on file, and gets the code" % addr, code is not None)
        d.answer("q")
        d.result()
    check_eq("ldap: each code went to the address typed, not to the other",
             [len(code_mails(p, a)) for a in ("bob.work@example.org", "bob@example.org")],
             [1, 1])
    rc, out, _ = p.ctl("user", "show", "bob")
    check("user show: both of bob's addresses",
          "bob@example.org" in out and "bob.work@example.org" in out, out)
    p.stop_checked()


@test
def ambiguous_entry_refused():
    srv = directory()
    p = Portal(**over_ldapi(srv))
    d = p.dialog(p.service("permit", "lang=en", then="permit"), "twin")
    auth, _, before = d.result()
    check_eq("ldap: two entries with uid=twin: refused (PAM_AUTHINFO_UNAVAIL), never a guess",
             auth, "PAM_AUTHINFO_UNAVAIL")
    check("ldap: the member is told the service is unavailable",
          any(re.search(EN["unavailable"], t) for _, t in before), before)
    check_match("ldap: portald logs it as ambiguous", r"status for twin .*ambiguous", p.log())
    rc, out = lookup(p, "twin")
    check("directory lookup: both entries shown",
          "uid=twin,ou=people" in out and "uid=twin,ou=staff" in out and "2 entries" in out,
          out)
    p.stop_checked()


# ---- names that mean something in a filter -------------------------------------------

def raw_lookup(conf_path, name):
    """dirlookup: the bytes of name sent to the directory as portald sends
    a user name: {status, filter, dn: [...], mail: [...]}."""
    out = subprocess.run([DIRLOOKUP, conf_path, name.hex()], capture_output=True,
                         env=CHILD_ENV, timeout=60)
    if out.returncode != 0:
        raise TestError("dirlookup %r: %s %s" % (name, out.returncode, out.stderr[-500:]))
    r = {"dn": [], "mail": []}
    for line in out.stdout.decode().splitlines():
        k, _, v = line.partition(" ")
        if k in ("dn", "mail"):
            r[k].append(v)
        else:
            r[k] = v
    return r


@test
def filter_injection_names():
    srv = directory()
    p = Portal(**over_ldapi(srv))
    # Through the module: such names never pass as a user name (as today).
    for name in ("*", "al*", "*)(uid=*", "alice)(|(uid=*", "a\\2a", "st*r"):
        auth, _, before = p.dialog(p.service("permit", then="permit"), name).result()
        check_eq("ldap: the name %r is not managed (PAM_IGNORE)" % name, (auth, before),
                 ("PAM_SUCCESS", []))
    # Straight to the directory, as portald would send them: never wider.
    for name in (b"*", b"al*", b"*)(uid=*", b"alice)(|(uid=*", b"alice)(uid=*", b"\\2a",
                 b"a\\", b"alice\x00", b"\x00", b"s*r", b"st*"):
        r = raw_lookup(p.conf_path, name)
        check_eq("directory: %r matches nothing (filter %s)" % (name, r.get("filter")),
                 (r["status"], r["dn"]), ("not-managed", []))
    r = raw_lookup(p.conf_path, b"st*r")
    check_eq("directory: 'st*r' matches exactly the entry named so", (r["status"], r["dn"]),
             ("managed", ["uid=st*r,ou=people,dc=example,dc=org"]))
    check_match("directory: the * of a name is sent as \\2a", r"\(uid=st\\2ar\)", r["filter"])
    r = raw_lookup(p.conf_path, b"Alice")
    check_eq("directory: 'Alice' is not alice (the directory ignores case, the portal not)",
             r["status"], "not-managed")
    p.stop_checked()


# ---- when the directory cannot be reached ------------------------------------------------

TTL = 4


@test
def directory_stopped_cache_then_fail_closed():
    srv = directory()
    p = Portal(ldap_cache_ttl="%ds" % TTL, **over_ldapi(srv))
    deny = p.service("deny-after")
    key = key_service(p)
    d = status_of(p, "alice")
    d.until("ECHO_ON", EN["email"])
    d.answer("q")
    d.result()
    read = time.monotonic()
    srv.stop()
    d = status_of(p, "alice")
    d.until("ECHO_ON", EN["email"])
    d.answer("q")
    auth, _, _ = d.result()
    check_eq("directory stopped: alice's answer read before serves from the cache",
             auth, "PAM_AUTH_ERR")
    rc, out, _ = p.ctl("user", "show", "alice")
    check("user show: says the answer is from the cache",
          rc == 0 and "from the cache" in out, out)
    auth, _, _ = status_of(p, "erin").result()
    check_eq("directory stopped: erin, never read, fails closed (PAM_AUTHINFO_UNAVAIL)",
             auth, "PAM_AUTHINFO_UNAVAIL")
    rc, out, _ = p.ctl("status")
    check("status: the directory is UNREACHABLE, and why",
          rc == 0 and re.search(r"(?m)^directory:\s+UNREACHABLE", out) and
          re.search(r"(?m)^note:\s+ldapi://.*(connect|Can't contact)", out), out)
    wait_seconds("the cache to be past", read, TTL + 1)
    auth, _, before = status_of(p, "alice").result()
    check_eq("directory stopped, cache past: alice fails closed (PAM_AUTHINFO_UNAVAIL)",
             auth, "PAM_AUTHINFO_UNAVAIL")
    _, acct, _ = p.dialog(key, "alice", flags=("-k",)).result()
    check_eq("directory stopped: a key sign-in is refused at account (PAM_PERM_DENIED)",
             acct, "PAM_PERM_DENIED")
    check_match("portald logs the directory unreachable", r"directory: cannot be reached",
                p.log())
    srv.start()
    rc, out, _ = p.ctl("status")
    check_match("status: the directory back, reachable again", r"(?m)^directory:\s+reachable",
                out)
    d = status_of(p, "alice")
    d.until("ECHO_ON", EN["email"])
    d.answer("q")
    check_eq("directory back: alice is asked for her address again", d.result()[0],
             "PAM_AUTH_ERR")
    p.stop_checked()


@test
def removed_member_stops_being_managed():
    srv = directory()
    p = Portal(**over_ldapi(srv))
    rc, out = lookup(p, "frank")
    check("frank is a member", rc == 0 and "managed (exactly one" in out, out)
    srv.leave_group("frank")
    auth, _, before = p.dialog(p.service("permit", then="permit"), "frank").result()
    check_eq("ldap: frank out of the group is not managed at once", (auth, before),
             ("PAM_SUCCESS", []))
    p.stop_checked()


def refused_with(p, name, pattern):
    """A member's sign-in while the directory refuses portald: fail closed,
    nothing mailed, and the reason in the log and in directory lookup."""
    auth, _, _ = status_of(p, "alice").result()
    check_eq("%s: alice fails closed (PAM_AUTHINFO_UNAVAIL)" % name, auth,
             "PAM_AUTHINFO_UNAVAIL")
    rc, out = lookup(p, "alice")
    check("%s: directory lookup says why (%s)" % (name, pattern),
          rc == 1 and re.search(pattern, out), out)
    check_match("%s: the log says why" % name, pattern, p.log())
    check_eq("%s: nothing mailed" % name, p.mails(), [])


@test
def wrong_bind_password():
    srv = directory()
    p = portal_with(lambda d: over_starttls(srv, d, password="not-the-password"))
    refused_with(p, "wrong bind password", r"bind refused: Invalid credentials")
    p.stop_checked()


@test
def untrusted_certificate_wrong_name_plain_server():
    srv = directory()
    other = TestCA(os.path.join(srv.dir, "other-ca"), name="someone else's CA")
    p = portal_with(lambda d: over_starttls(srv, d, ca=other.cert))
    refused_with(p, "untrusted certificate", r"TLS refused")
    p.stop_checked()
    elsewhere = directory(names=["DNS:ldap.example.org"])
    p = portal_with(lambda d: over_starttls(elsewhere, d))
    refused_with(p, "certificate for another name", r"TLS refused")
    p.stop_checked()
    plain = directory(tls=False)
    p = portal_with(lambda d: over_starttls(plain, d, ca=srv.ca.cert))
    refused_with(p, "server without TLS, ldap_tls required", r"StartTLS failed")
    p.stop_checked()


@test
def ldaps_uri():
    srv = directory()
    p = portal_with(lambda d: over_starttls(srv, d, ldap_uri=srv.ldaps))
    rc, out = lookup(p, "bob")
    check("ldaps://: a member and both addresses, over TLS from the start",
          rc == 0 and "managed (exactly one" in out and "bob.work@example.org" in out, out)
    p.stop_checked()
    other = TestCA(os.path.join(srv.dir, "other-ca"), name="someone else's CA")
    p = portal_with(lambda d: over_starttls(srv, d, ldap_uri=srv.ldaps, ca=other.cert))
    refused_with(p, "ldaps:// with an untrusted certificate", r"TLS refused")
    p.stop_checked()


@test
def failover_to_the_next_uri():
    srv = directory()
    dead = ReservedPort()
    Cleanup.add(dead.release)
    p = portal_with(lambda d: over_starttls(
        srv, d, ldap_uri="ldap://127.0.0.1:%d %s" % (dead.port, srv.ldap)))
    rc, out = lookup(p, "alice")
    check("failover: the first URI refused, the second answers",
          rc == 0 and "managed (exactly one" in out, out)
    p.stop_checked()


@test
def silent_directory_bounded_and_not_in_the_loop():
    """A server that takes the connection and never answers: the look-up
    waits in a worker, at most ldap_timeout an attempt (two: the kept
    connection, then a new one), while portald answers everything else."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    Cleanup.add(silent.close)
    timeout = 2
    p = Portal(directory="ldap", ldap_uri="ldap://127.0.0.1:%d" % silent.getsockname()[1],
               ldap_tls="none", ldap_base=L.BASE, ldap_timeout="%ds" % timeout)
    answer = {}

    def look_up():
        t0 = time.monotonic()
        with wire.connect(p.socket, timeout=60) as s:
            s.sendall(wire.request(wire.REQ_STATUS, (wire.TAG_USER, "alice")))
            answer["result"] = wire.read_response(s).result
        answer["seconds"] = time.monotonic() - t0
    t = threading.Thread(target=look_up)
    t.start()
    silent.settimeout(30)
    held, _ = silent.accept()      # portald's worker has connected: it is waiting now
    Cleanup.add(held.close)
    t0 = time.monotonic()
    with wire.connect(p.socket) as s:
        s.sendall(wire.request(wire.REQ_OUTBOX))
        r = wire.read_response(s)
    other = time.monotonic() - t0
    check("a silent directory: another request is answered meanwhile (%.3f s)" % other,
          r.result == wire.RESULT_OK and other < bound(0.5, timeout) and t.is_alive(),
          (r.result, other, t.is_alive()))
    t.join(60)
    check("a silent directory: the look-up fails closed within 2 x ldap_timeout (%.1f s)"
          % answer.get("seconds", -1),
          answer.get("result") == wire.RESULT_UNAVAILABLE and
          answer["seconds"] < 2 * timeout + bound(2), answer)
    p.stop_checked()


# ---- portalctl ------------------------------------------------------------------------

MANY = 5000


@test
def user_list_pages_past_the_size_limit():
    extra = {"m%04d" % i: ["m%04d@example.org" % i] for i in range(MANY)}
    srv = directory(size_limit=500, extra=extra)
    rc, out = srv.search("-x", "-H", srv.ldapi, L.MEMBER_FILTER, "uid")
    rc, out = subprocess.run(["ldapsearch", "-LLL", "-x", "-H", srv.ldapi, "-b", L.BASE,
                              L.MEMBER_FILTER, "uid"], capture_output=True, text=True) \
        .returncode, None
    check_eq("slapd: a search without paging stops at the size limit (sizeLimitExceeded)",
             rc, 4)
    p = Portal(**over_ldapi(srv))
    rc, out, err = p.ctl("user", "list")
    names = [l.split()[0] for l in out.splitlines()[1:]]
    want = sorted(list(extra) + ["alice", "bob", "dave", "erin", "frank", "twin", "twin"])
    check_eq("user list: every member of the directory, past the limit of 500 (paging)",
             (rc, len(names)), (0, len(want)))
    check_eq("user list: exactly the members", sorted(names), want)
    check_match("user list: a member with the directory's address and portal state",
                r"(?m)^m4999\s+m4999@example\.org\s+pending\s+never$", out)
    rc, out, err = p.ctl("user", "list", "--state", "active")
    check_eq("user list --state active: none yet", (rc, out), (0, ""))
    p.stop_checked()


@test
def portalctl_refuses_to_change_members():
    srv = directory()
    p = Portal(**over_ldapi(srv))
    csv = os.path.join(p.dir, "members.csv")
    with open(csv, "w") as f:
        f.write("zoe,zoe@example.org\n")
    for args in (("user", "add", "zoe", "zoe@example.org"), ("user", "del", "alice"),
                 ("import", csv)):
        rc, out, err = p.ctl(*args)
        check("portalctl %s: refused, naming the directory as the source" % args[0] +
              (" " + args[1] if args[0] == "user" else ""),
              rc == 1 and "directory = ldap" in err and "come from the directory" in err, err)
    with wire.connect(p.socket) as s:
        s.sendall(wire.request(wire.REQ_USER_ADD, (wire.TAG_USER, "zoe"),
                               (wire.TAG_EMAIL, "zoe@example.org")))
        r = wire.read_response(s)
    check_eq("portald itself refuses user add with directory = ldap", r.result,
             wire.RESULT_DENIED)
    rc, out = lookup(p, "zoe")
    check("nothing was added", "not managed" in out, out)
    check_eq("directory lookup is root's: refused to another account",
             as_nobody(p.socket, wire.request(wire.REQ_DIRECTORY_LOOKUP,
                                              (wire.TAG_USER, "nobody"))),
             wire.RESULT_DENIED)
    p.stop_checked()


def as_nobody(socket_path, frame):
    """The result of one request sent by a child running as nobody."""
    pid = os.fork()
    if pid == 0:
        code = 255
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            with wire.connect(socket_path) as s:
                s.sendall(frame)
                code = wire.read_response(s).result
        finally:
            os._exit(code)
    return os.waitpid(pid, 0)[1] >> 8


@test
def directory_lookup_output():
    srv = directory()
    p = Portal(**over_ldapi(srv))
    rc, out = lookup(p, "bob")
    check_eq("directory lookup bob: exit 0", rc, 0)
    for what, regex in (("the filter sent", r"(?m)^filter sent:\s+\(&\(memberOf=cn=portal,"
                         r"ou=groups,dc=example,dc=org\)\(uid=bob\)\)$"),
                        ("the result", r"(?m)^result:\s+managed"),
                        ("the entry", r"(?m)^entry:\s+uid=bob,ou=people,dc=example,dc=org$"),
                        ("both addresses", r"(?m)^e-mail:\s+bob@example\.org\n"
                         r"e-mail:\s+bob\.work@example\.org$")):
        check_match("directory lookup bob: %s" % what, regex, out)
    rc, out, err = portal_local_lookup()
    check("directory lookup with directory = local: the store's member",
          rc == 0 and "managed" in out and "local" in out, out + err)
    rc, out, err = p.ctl("directory", "lookup", "a*")
    check("directory lookup a*: refused as a user name, before asking", rc == 1 and
          "not a valid user name" in err, err)
    p.stop_checked()


def portal_local_lookup():
    p = Portal()
    p.add_user("alice", "alice@example.org")
    r = p.ctl("directory", "lookup", "alice")
    p.stop_checked()
    return r


# ---- configuration ------------------------------------------------------------------------

@test
def configuration_mistakes():
    srv = directory()
    good = over_ldapi(srv)
    cases = [
        ({"ldap_tls": "maybe"}, r"ldap_tls: 'maybe' must be required, starttls or none"),
        ({"directory": "nis"}, r"directory: 'nis' must be local or ldap"),
        ({"ldap_uri": "http://x"}, r"ldap_uri: .*not an ldap://, ldaps:// or ldapi:// URI"),
        ({"ldap_uri": None}, r"ldap_uri: missing"),
        ({"ldap_base": None}, r"ldap_base: missing"),
        ({"ldap_uri": srv.ldap}, r"ldap_sasl: external is for ldapi:// URIs only"),
        ({"ldap_sasl": None, "ldap_bind_dn": L.READER}, r"ldap_bind_password_file: missing"),
        ({"ldap_filter": "uid=x"}, r"ldap_filter: .*in parentheses"),
        ({"ldap_filter": "(&(uid=x)"}, r"ldap_filter: .*unbalanced"),
        ({"ldap_timeout": "0"}, r"ldap_timeout: '0' must be between 1s and 300s"),
        ({"ldap_mail_attribute": "e mail"}, r"ldap_mail_attribute: .*attribute name"),
        ({"ldap_ca_file": "relative.pem"}, r"ldap_ca_file: .*absolute path"),
    ]
    for change, message in cases:
        conf = dict(good)
        conf.update(change)
        p = Portal(start=False, **conf)
        r = subprocess.run([PORTALD, "-t", "-c", p.conf_path], capture_output=True, text=True,
                           env=CHILD_ENV, timeout=60)
        check("portald -t %s: refused with FILE:LINE: KEY: why" % change,
              r.returncode == 1 and re.search(re.escape(p.conf_path) + r":\d+: " + message,
                                              r.stderr), r.stderr)
    p = Portal(start=False, ldap_ca_file=os.path.join(srv.dir, "missing.pem"),
               **dict(good, ldap_uri=srv.ldap, ldap_sasl=None))
    r = subprocess.run([PORTALD, "-t", "-c", p.conf_path], capture_output=True, text=True,
                       env=CHILD_ENV, timeout=60)
    check("portald -t: an ldap_ca_file that cannot be read stops it",
          r.returncode == 1 and "ldap_ca_file" in r.stderr, r.stderr)
    p = Portal(start=False, **good)
    r = subprocess.run([PORTALD, "-t", "-c", p.conf_path], capture_output=True, text=True,
                       env=CHILD_ENV, timeout=60)
    check_eq("portald -t: the good configuration passes", (r.returncode, r.stderr), (0, ""))


sys.exit(run_tests())
