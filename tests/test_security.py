#!/usr/bin/python3
"""test_security.py - least privilege and secrets, from outside.

Real clients run as a throwaway system account (tests/sysuser.py): what a
local user can and cannot ask portald.  portald is run both ways a system
runs it: started as root (it drops to `user`) and started as its account
(as systemd's User= does).  Then what an attacker on the machine would
look for: core dumps, descriptors leaking into children, files others can
read, symbolic links where one could be planted, a socket the module
should not trust, and secrets in the logs.
"""
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import portaltest
import wire
from portaltest import (CHILD_ENV, EN, MAIL_TIMEOUT, PORTALCTL, PORTALD, START_TIMEOUT,
                        STEP_TIMEOUT, STRONG, Cleanup, Portal, TestError, ask_code, check,
                        check_eq, check_match,
                        enter_code_and_password, full_flow, run_tests, sign_in, test, wait_for)
from sysuser import SystemUser

O_CLOEXEC = 0o2000000
ADMIN_COMMANDS = [["user", "add", "mallory", "m@example.org"], ["user", "del", "alice"],
                  ["user", "show", "alice"], ["user", "list"], ["user", "reset", "alice"],
                  ["user", "unlock", "alice"], ["import", "-"], ["outbox"], ["status"]]


def account():
    u = SystemUser()
    Cleanup.add(u.remove)
    return u


class running_as:
    """Dialogs started inside run as `user` (pamconv behind setpriv)."""

    def __init__(self, user):
        self.prefix = user.as_user([])

    def __enter__(self):
        self.saved = portaltest.VALGRIND
        portaltest.VALGRIND = self.prefix

    def __exit__(self, *exc):
        portaltest.VALGRIND = self.saved


def ctl_as(p, user, *args, input=None):
    r = subprocess.run(user.as_user([PORTALCTL, "-c", p.conf_path] + list(args)), input=input,
                       capture_output=True, text=True, env=CHILD_ENV, timeout=STEP_TIMEOUT)
    return r.returncode, r.stdout, r.stderr


def ready(p):
    """portald answers once it has opened everything and dropped what it
    drops: the socket alone accepts (into its backlog) before that."""
    rc, out, err = p.ctl("status")
    if rc != 0:
        raise TestError("portald not serving: %r" % err)


def field(out, label):
    m = re.search(r"(?m)^%s:\s*(.*)$" % re.escape(label), out)
    return m.group(1).strip() if m else None


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def start_as(p, user):
    """Start p's portald as `user` from the start (systemd's User=)."""
    p.stopping = False
    p.logf = open(p.log_path, "a")
    p.proc = subprocess.Popen(user.as_user([PORTALD, "-f", "-c", p.conf_path]),
                              stdout=p.logf, stderr=subprocess.STDOUT, env=CHILD_ENV)
    Cleanup.add(p.kill)
    wait_for("portald to accept connections", p.accepting, START_TIMEOUT)


def run_portald(conf):
    r = subprocess.run([PORTALD, "-f", "-c", conf], capture_output=True, text=True,
                       env=CHILD_ENV, timeout=START_TIMEOUT)
    return r.returncode, r.stdout + r.stderr


# ---- caller checks -----------------------------------------------------------

@test
def another_user_checks_only_its_own_password():
    u = account()
    p = Portal()
    p.add_user(u.name, "own@example.org")
    p.add_user("alice", "alice@example.org")
    svc = p.service("login")
    for name, addr in ((u.name, "own@example.org"), ("alice", "alice@example.org")):
        if full_flow(p, svc, name, addr)[0] != "PAM_AUTH_ERR":
            raise TestError("setup: %s could not be made active" % name)

    with running_as(u):
        auth, _, _ = sign_in(p, svc, u.name, STRONG)
        check_eq("non-root: its own right password signs in", auth, "PAM_SUCCESS")
        auth, _, _ = sign_in(p, svc, u.name, STRONG + "?")
        check_eq("non-root: its own wrong password refused", auth, "PAM_AUTH_ERR")
        check_eq("non-root: ... and counted as a failure",
                 field(p.ctl("user", "show", u.name)[1], "consecutive failures"), "1")
        d = p.dialog(svc, "alice")
        auth, _, before = d.result()
        check_eq("non-root acting for another user: refused (unavailable)", auth,
                 "PAM_AUTHINFO_UNAVAIL")
        check("non-root acting for another user: never asked for alice's password",
              all(k not in ("ECHO_ON", "ECHO_OFF") for k, _ in before), before)
    out = p.ctl("user", "show", "alice")[1]
    check_eq("non-root acting for another user: alice untouched (no failure counted)",
             field(out, "consecutive failures"), "0")
    check_match("the helper's log says who was refused",
                r"status for alice by uid %d .*permission denied" % u.uid, p.log())

    # A pending user at a screen locker cannot run the verification.
    p.ctl("user", "reset", u.name)
    mails = len(p.mails())
    with running_as(u):
        d = p.dialog(svc, u.name)
        d.until("ECHO_ON", EN["email"])
        d.answer("own@example.org")
        auth, _, before = d.result()
    check_eq("non-root, pending: the verification is refused", auth, "PAM_AUTHINFO_UNAVAIL")
    check_match("non-root, pending: said as unavailable", EN["unavailable"],
                " ".join(t for _, t in before))
    check_eq("non-root, pending: no code was mailed", len(p.mails()), mails)
    check_match("non-root, pending: the helper refused send-code",
                r"send-code for - by uid %d .*permission denied" % u.uid, p.log())

    before = p.ctl("user", "list")[1]
    for args in ADMIN_COMMANDS:
        rc, out, err = ctl_as(p, u, *args, input="mallory,m@example.org\n")
        check("non-root: portalctl %s refused with exit 1 and a clear word" % " ".join(args[:2]),
              rc == 1 and "permission denied: run portalctl as root" in err,
              "rc=%d out=%r err=%r" % (rc, out, err))
    check_eq("non-root: the directory is unchanged after every refused command",
             p.ctl("user", "list")[1], before)
    p.stop_checked()


@test
def another_user_on_the_raw_socket():
    """What the module would never send, sent by a local user directly."""
    u = account()
    p = Portal(smtp=False)
    p.add_user(u.name, "own@example.org")
    p.add_user("alice", "alice@example.org")
    asks = [
        ("status of another user", wire.request(wire.REQ_STATUS, (wire.TAG_USER, "alice"))),
        ("a code for itself", wire.request(wire.REQ_SEND_CODE, (wire.TAG_USER, u.name),
                                           (wire.TAG_EMAIL, "own@example.org"))),
        ("a code for another user", wire.request(wire.REQ_SEND_CODE, (wire.TAG_USER, "alice"),
                                                 (wire.TAG_EMAIL, "alice@example.org"))),
        ("a code check", wire.request(wire.REQ_VERIFY_CODE, (wire.TAG_USER, u.name),
                                      (wire.TAG_CODE, "123456"))),
        ("a password set with a ticket", wire.request(
            wire.REQ_SET_PASSWORD, (wire.TAG_USER, u.name), (wire.TAG_TICKET, bytes(32)),
            (wire.TAG_PASSWORD, STRONG))),
        ("another user's password", wire.request(wire.REQ_AUTH, (wire.TAG_USER, "alice"),
                                                 (wire.TAG_PASSWORD, STRONG))),
        ("user add", wire.request(wire.REQ_USER_ADD, (wire.TAG_USER, "mallory"),
                                  (wire.TAG_EMAIL, "m@example.org"))),
        ("user reset of itself", wire.request(wire.REQ_USER_RESET, (wire.TAG_USER, u.name))),
        ("user unlock of itself", wire.request(wire.REQ_USER_UNLOCK, (wire.TAG_USER, u.name))),
        ("user list", wire.request(wire.REQ_USER_LIST)),
        ("import", wire.request(wire.REQ_IMPORT,
                                (wire.TAG_ENTRY, wire.field(wire.TAG_LINE, wire.u64(1))
                                 + wire.field(wire.TAG_USER, "mallory")
                                 + wire.field(wire.TAG_EMAIL, "m@example.org")))),
        ("outbox", wire.request(wire.REQ_OUTBOX)),
        ("daemon status", wire.request(wire.REQ_DAEMON_STATUS)),
    ]
    got = {}
    os.seteuid(u.uid)        # SO_PEERCRED takes the effective uid at connect
    try:
        own = wire.call(p.socket, wire.request(wire.REQ_STATUS, (wire.TAG_USER, u.name)))
        for what, data in asks:
            got[what] = wire.call(p.socket, data).result
    finally:
        os.seteuid(0)
    check("raw socket, non-root: its own status is answered",
          own.result == wire.RESULT_OK and own.u32(wire.TAG_STATE) == wire.STATE_PENDING, own)
    for what, _ in asks:
        check_eq("raw socket, non-root: %s -> denied" % what, got[what], wire.RESULT_DENIED)
    check_eq("raw socket, non-root: nothing was added", p.ctl("user", "show", "mallory")[0], 1)
    check_match("raw socket, non-root: no code was made for it",
                r"(?m)^live code expires at:\s*none$", p.ctl("user", "show", u.name)[1])
    p.stop_checked()


# ---- least privilege ---------------------------------------------------------

def check_files_of(tag, p, uid):
    ready(p)
    db = p.conf["database"]
    for what, path in (("database", db), ("key file", db + ".key")):
        st = os.lstat(path)
        check("%s: the %s belongs to uid %d, mode 0600" % (tag, what, uid),
              st.st_uid == uid and stat.S_IMODE(st.st_mode) == 0o600,
              "uid %d mode %o" % (st.st_uid, stat.S_IMODE(st.st_mode)))
    st = os.lstat(p.socket)
    check("%s: the socket belongs to uid %d" % (tag, uid), st.st_uid == uid, st.st_uid)


def check_hardened(tag, p, uid):
    ready(p)
    pid = p.proc.pid
    s = proc_status(pid)
    check_eq("%s: real, effective, saved uid" % tag, s["Uid"].split()[:3], [str(uid)] * 3)
    check_eq("%s: no capability left" % tag, int(s["CapEff"], 16), 0)
    check_eq("%s: no_new_privs" % tag, s.get("NoNewPrivs"), "1")
    # A process that is not dumpable has its /proc entries owned by root,
    # whatever its uid; a dumpable one's belong to its uid.
    check("%s: not dumpable (prctl PR_SET_DUMPABLE 0)" % tag,
          os.stat("/proc/%d/status" % pid).st_uid == 0, os.stat("/proc/%d/status" % pid).st_uid)
    with open("/proc/%d/limits" % pid) as f:
        core = [l.split()[4:6] for l in f if l.startswith("Max core file size")]
    check_eq("%s: RLIMIT_CORE 0 (soft and hard)" % tag, core, [["0", "0"]])
    # AddressSanitizer turns mlock into nothing: there, nothing to see.
    with open("/proc/%d/maps" % pid) as f:
        asan = "libasan" in f.read()
    check("%s: the keys are in locked memory (VmLck)" % tag,
          asan or int(s["VmLck"].split()[0]) > 0, s.get("VmLck"))


@test
def started_as_root_drops_to_user():
    u = account()
    p = Portal(user=u.name)
    pid = p.proc.pid
    ready(p)
    check_match("from root: says whom it runs as", r"running as %s \(uid %d\)" % (u.name, u.uid),
                p.log())
    s = proc_status(pid)
    check_eq("from root: gid and groups are the account's",
             (s["Gid"].split()[:3], s["Groups"].split()), ([str(u.gid)] * 3, [str(u.gid)]))
    check_hardened("from root", p, u.uid)
    check_files_of("from root", p, u.uid)
    p.add_user("alice", "alice@example.org")
    svc = p.service("login")
    check_eq("from root: a whole flow works after the drop",
             full_flow(p, svc, "alice", "alice@example.org")[0], "PAM_AUTH_ERR")
    check_eq("from root: and the password signs in", sign_in(p, svc, "alice", STRONG)[0],
             "PAM_SUCCESS")
    p.stop_checked("from root: stops cleanly")
    # The files it gave away open as they are at the next start.
    p.start()
    check_eq("from root: restarts on its own files", p.ctl("user", "show", "alice")[0], 0)
    p.stop_checked("from root: stops cleanly again")


@test
def started_as_its_account():
    u = account()
    p = Portal(start=False, user=u.name)
    # What systemd's RuntimeDirectory= and StateDirectory= make.
    for d in (p.rundir, os.path.dirname(p.conf["database"])):
        os.chown(d, u.uid, u.gid)
    start_as(p, u)
    check_hardened("as its account", p, u.uid)
    check_files_of("as its account", p, u.uid)
    p.add_user("alice", "alice@example.org")
    svc = p.service("login")
    check_eq("as its account: the module trusts its socket; a whole flow works",
             full_flow(p, svc, "alice", "alice@example.org")[0], "PAM_AUTH_ERR")
    rc, out, err = ctl_as(p, u, "user", "show", "alice")
    check_eq("as its account: its own uid may administer", rc, 0)
    p.stop_checked("as its account: stops cleanly")
    check("as its account: removed its socket", not os.path.exists(p.socket))

    other = account()
    p.conf["user"] = other.name
    p.write_config()
    r = subprocess.run(u.as_user([PORTALD, "-f", "-c", p.conf_path]), capture_output=True,
                       text=True, env=CHILD_ENV, timeout=START_TIMEOUT)
    check("user = another account, started as this one: exit 1, says what to do",
          r.returncode == 1 and "start it as root or as %s" % other.name in r.stderr,
          "rc=%d %r" % (r.returncode, r.stderr))


@test
def user_that_does_not_exist():
    p = Portal(smtp=False, start=False, user="pptest-nobody")
    rc, out = run_portald(p.conf_path)
    check("user = an unknown account: exit 1 naming it",
          rc == 1 and "user = pptest-nobody" in out and "no such account" in out, out)
    check("user = an unknown account: nothing left listening", not os.path.exists(p.socket))


def tcp_fds(pid):
    """portald's descriptors that are TCP connections."""
    inodes = set()
    for name in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, name)) as f:
                inodes.update(l.split()[9] for l in list(f)[1:])
        except FileNotFoundError:
            pass
    fds = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            m = re.match(r"socket:\[(\d+)\]$", os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except FileNotFoundError:
            continue
        if m and m.group(1) in inodes:
            fds.append(fd)
    return fds


@test
def every_fd_close_on_exec():
    p = Portal()
    p.add_user("alice", "alice@example.org")
    svc = p.service("login")
    full_flow(p, svc, "alice", "alice@example.org")
    p.wait_outbox_idle()                      # the code and the notice went out
    # The outbox is idle once the server has taken the last message; the
    # session's QUIT comes after.  libesmtp makes its socket without
    # close-on-exec (portald cannot ask it to, and never runs a program):
    # the descriptors are looked at once that session is closed.
    wait_for("portald's SMTP session to be closed", lambda: not tcp_fds(p.proc.pid),
             MAIL_TIMEOUT)
    # A connection open, a frame half-sent, while we look.
    s = wire.connect(p.socket)
    s.sendall(b"PP\x01")
    wait_for("the connection to be accepted",
             lambda: len(os.listdir("/proc/%d/fd" % p.proc.pid)) > 8, STEP_TIMEOUT)
    leaks = []
    for fd in os.listdir("/proc/%d/fd" % p.proc.pid):
        if int(fd) <= 2:
            continue
        try:
            with open("/proc/%d/fdinfo/%s" % (p.proc.pid, fd)) as f:
                flags = int(re.search(r"flags:\s*(\d+)", f.read()).group(1), 8)
            target = os.readlink("/proc/%d/fd/%s" % (p.proc.pid, fd))
        except FileNotFoundError:
            continue        # closed while we looked
        if not flags & O_CLOEXEC:
            leaks.append("%s -> %s" % (fd, target))
    s.close()
    check("every descriptor of portald is close-on-exec", not leaks, leaks)
    p.stop_checked()


# ---- files -----------------------------------------------------------------

@test
def planted_symlinks_refused():
    d = tempfile.mkdtemp(prefix="portal-link-")
    Cleanup.add(lambda: __import__("shutil").rmtree(d, ignore_errors=True))
    target = os.path.join(d, "elsewhere")
    with open(target, "w") as f:
        f.write("not yours\n")
    for what, name, word in (("database", "portal.db", "symbolic link"),
                             ("key file", "portal.db.key", "symbolic link")):
        p = Portal(smtp=False, start=False)
        path = p.conf["database"] if name == "portal.db" else p.conf["database"] + ".key"
        os.symlink(target, path)
        rc, out = run_portald(p.conf_path)
        check("%s is a symbolic link: portald refuses it, exit 1" % what,
              rc == 1 and path in out and word in out, "rc=%d %r" % (rc, out))
        with open(target) as f:
            check_eq("%s is a symbolic link: the target is untouched" % what, f.read(),
                     "not yours\n")

    p = Portal(smtp=False, start=False)
    pw = os.path.join(d, "smtp-password")
    with open(pw, "w") as f:
        f.write("secret\n")
    os.chmod(pw, 0o600)
    link = os.path.join(p.dir, "smtp-password")
    os.symlink(pw, link)
    p.conf.update(smtp_user="portal", smtp_password_file=link)
    p.write_config()
    rc, out = run_portald(p.conf_path)
    check("SMTP password file is a symbolic link: refused, exit 1",
          rc == 1 and "smtp_password_file" in out, "rc=%d %r" % (rc, out))

    p = Portal(smtp=False, start=False)
    os.symlink(target, p.socket)
    rc, out = run_portald(p.conf_path)
    check("socket path is a symbolic link: not replaced, exit 1",
          rc == 1 and "not a socket" in out and os.path.islink(p.socket), "rc=%d %r" % (rc, out))


@test
def files_readable_only_by_the_helper():
    p = Portal(smtp=False)
    check_files_of("root-run", p, 0)
    p.stop()
    db = p.conf["database"]
    os.chmod(db, 0o644)
    rc, out = run_portald(p.conf_path)
    check("database readable by others: refused, exit 1, says the mode",
          rc == 1 and "0644" in out and db in out, "rc=%d %r" % (rc, out))
    os.chmod(db, 0o600)
    pw = os.path.join(p.dir, "smtp-password")
    with open(pw, "w") as f:
        f.write("secret\n")
    os.chmod(pw, 0o640)
    p.conf.update(smtp_user="portal", smtp_password_file=pw)
    p.write_config()
    rc, out = run_portald(p.conf_path)
    check("SMTP password file readable by the group: refused, exit 1",
          rc == 1 and "chmod 600" in out, "rc=%d %r" % (rc, out))


# ---- whom the module trusts --------------------------------------------------

def fake_helper(path, owner_uid, listen_uid):
    """A socket at path owned by owner_uid, listening as listen_uid (the
    uid its clients see), that never answers: the module must not even
    ask it."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.lchown(path, owner_uid, -1)
    os.seteuid(listen_uid)
    try:
        s.listen(8)
    finally:
        os.seteuid(0)
    Cleanup.add(s.close)
    return s


@test
def module_refuses_an_untrusted_socket():
    u, v = account(), account()
    p = Portal(smtp=False)
    p.add_user("alice", "alice@example.org")
    cases = []
    # A directory anyone may write (as /tmp): a socket there could be anyone's.
    open_dir = os.path.join(p.dir, "open")
    os.mkdir(open_dir)
    os.chmod(open_dir, 0o1777)
    cases.append(("in a directory others can write", fake_helper(
        os.path.join(open_dir, "s.sock"), u.uid, u.uid), os.path.join(open_dir, "s.sock")))
    # The socket of one account, the listener another.
    mine = os.path.join(p.dir, "mine")
    os.mkdir(mine, 0o755)
    os.chown(mine, u.uid, u.gid)
    cases.append(("whose listener is not its owner", fake_helper(
        os.path.join(mine, "s.sock"), u.uid, v.uid), os.path.join(mine, "s.sock")))
    # Someone else's socket in an account's directory.
    cases.append(("of another account in an account's directory", fake_helper(
        os.path.join(mine, "t.sock"), v.uid, v.uid), os.path.join(mine, "t.sock")))
    link = os.path.join(p.rundir, "link.sock")
    os.symlink(p.socket, link)
    cases.append(("reached through a symbolic link", None, link))
    for i, (what, _, path) in enumerate(cases):
        svc = p.service("untrusted%d" % i, "socket=" + path)
        auth, _, before = p.dialog(svc, "alice").result()
        check_eq("module: a socket %s is not trusted (unavailable)" % what, auth,
                 "PAM_AUTHINFO_UNAVAIL")
    p.stop_checked()


# ---- secrets -------------------------------------------------------------------

# Runs a command with a private /dev whose "log" is our datagram socket, so
# syslog() of portald and of the module (pam_syslog) comes to the test and
# nothing of the machine's /dev/log (if it has one) is touched.
LOG_NS = r'''
set -e
dev=$1; sock=$2; shift 2
mount -t tmpfs -o mode=0755 pptest-dev "$dev"
for n in null zero full random urandom tty; do
	[ -e /dev/$n ] || continue
	: > "$dev/$n"; mount --bind /dev/$n "$dev/$n"
done
ln -s /proc/self/fd "$dev/fd"
: > "$dev/log"; mount --bind "$sock" "$dev/log"
mount --rbind "$dev" /dev
exec "$@"
'''


class Syslog:
    def __init__(self, dir):
        self.path = os.path.join(dir, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.lines = []
        # Read all along: a datagram socket's queue is short, and a full
        # one would block every syslog() call.
        threading.Thread(target=self._read, daemon=True).start()
        Cleanup.add(self.sock.close)

    def _read(self):
        while True:
            try:
                self.lines.append(self.sock.recv(65536).decode("utf-8", "replace"))
            except OSError:
                return

    def wrap(self, argv, dev):
        os.makedirs(dev, exist_ok=True)
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", LOG_NS, "sh",
                dev, self.path] + list(argv)

    def text(self):
        return "\n".join(self.lines)


@test
def secrets_never_in_logs():
    p = Portal(start=False)
    log = Syslog(p.dir)
    # portald without -f: its log goes to syslog.
    p.logf = open(p.log_path, "a")
    p.proc = subprocess.Popen(log.wrap([PORTALD, "-c", p.conf_path], os.path.join(p.dir, "d1")),
                              stdout=p.logf, stderr=subprocess.STDOUT, env=CHILD_ENV)
    Cleanup.add(p.kill)
    wait_for("portald to accept connections", p.accepting, START_TIMEOUT)
    p.add_user("alice", "alice@example.org")
    svc = p.service("login", "debug")
    saved = portaltest.VALGRIND
    portaltest.VALGRIND = log.wrap([], os.path.join(p.dir, "d2"))
    try:
        d = p.dialog(svc, "alice")
        code = ask_code(p, d, "alice", "alice@example.org")
        d.answer(code[::-1] if code[::-1] != code else "000000")   # a wrong one too
        d.expect("ERROR")
        d.expect("ECHO_ON", EN["code"])
        enter_code_and_password(d, code)
        d.expect("INFO", EN["created"])
        d.result()
        auth, _, _ = sign_in(p, svc, "alice", STRONG)
        sign_in(p, svc, "alice", STRONG + "-wrong")
    finally:
        portaltest.VALGRIND = saved
    check_eq("secrets: the flow went through", auth, "PAM_SUCCESS")
    p.wait_outbox_idle()
    p.stop()
    text = log.text()
    check_match("secrets: syslog got portald's lines", r"portald\[\d+\].*send-code for alice", text)
    check_match("secrets: syslog got the module's lines", r"pam_portal", text)
    with open(p.conf["database"] + ".key", "rb") as f:
        key = f.read()
    everything = text + "\n" + p.log()
    secrets = {"the code": code, "the password": STRONG, "the wrong password": STRONG + "-wrong",
               "the key (hex)": key.hex(), "the key (base64)":
               __import__("base64").b64encode(key).decode()}
    for what, value in secrets.items():
        check("secrets: %s is in no log line" % what, value not in everything,
              "found in the logs")
    raw = everything.encode("utf-8", "surrogateescape")
    check("secrets: the key's raw bytes are in no log", key not in raw)


if __name__ == "__main__":
    sys.exit(run_tests())
