#!/usr/bin/python3
"""bench.py - `make bench`: how fast pam_portal, portald and portalctl are.

Everything runs for real, as the end-to-end tests do (tests/portaltest.py):
portald on a scratch socket and database, the module loaded by libpam with
pam_start_confdir, a local SMTP server.  The timing programs are
bench/pambench.c (whole sign-ins through libpam) and bench/helperbench.c
(portald's socket, through the product's client.c).  Each figure is a
median with its 99th percentile over hundreds of runs, all made in this
one run, on this machine.

As root it installs libpam-google-authenticator and libpam-oath when they
are missing (for comparison rows) and makes a throwaway system user,
pptestbench, with a yescrypt password for the pam_unix row; the user is
removed at the end, also when interrupted.
"""
import ctypes
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("BUILD", "build")
sys.path.insert(0, os.path.join(ROOT, "tests"))
import ldapserver  # noqa: E402
import portaltest as pt  # noqa: E402
import wire  # noqa: E402

BENCH = os.path.join(pt.BUILD, "bench")
PAMBENCH = os.path.join(BENCH, "pambench")
HELPERBENCH = os.path.join(BENCH, "helperbench")
NOTHING = os.path.join(BENCH, "pam_nothing.so")
SOCKFLOOR = os.path.join(BENCH, "sockfloor")
SINK = os.path.join(ROOT, "bench", "smtpsink.py")
USER = "pptestbench"
PASSWORD = "bench horse battery staple 42!"
SIGNINS = int(os.environ.get("BENCH_SIGNINS", "300"))
IMPORT_USERS = int(os.environ.get("BENCH_IMPORT_USERS", "1000000"))
MAILS = 1000
ACTIVE = 20          # active users; the 200 concurrent sign-ins cycle over them
CONCURRENT = 200
STATUS_SECONDS = 4

# ---- figures ---------------------------------------------------------------


def pct(values, p):
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def ms(us):
    return "%.2f ms" % (us / 1000)


def fig(values):
    """median and p99 of microsecond figures, in ms."""
    return "%s (p99 %s)" % (ms(pct(values, 50)), ms(pct(values, 99)))


def table(title, head, rows):
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    print("\n" + title)
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, head))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join("%-*s" % (w, c) for w, c in zip(widths, r)))
    sys.stdout.flush()


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return "%d cores, %s, Linux %s, load average at start %s" % (
        os.cpu_count(), model, platform.release(), load)


def proc_status(pid, key):
    """A /proc/PID/status figure in MiB (VmRSS, VmHWM)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise pt.TestError("%s: exit %d: %s" % (" ".join(argv[:3]), p.returncode,
                                                 p.stderr[-800:]))
    return p.stdout


# ---- the machine's side: packages, the throwaway user ------------------------

def install_comparisons():
    """The other modules of the comparison rows; None for each missing."""
    pkgs = {"libpam-google-authenticator": "pam_google_authenticator.so",
            "libpam-oath": "pam_oath.so"}
    found = {}
    for pkg, so in pkgs.items():
        st = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                            capture_output=True, text=True).stdout
        if st != "install ok installed" and os.geteuid() == 0:
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", pkg],
                           capture_output=True, env=env)
            st = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                                capture_output=True, text=True).stdout
        found[so] = st == "install ok installed"
    return found


def yescrypt_hash(password):
    """A yescrypt string at libxcrypt's default cost (Debian's passwd)."""
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lib.crypt_gensalt(b"$y$", 0, None, 0)
    return lib.crypt(password.encode(), salt).decode(), lib


class ThrowawayUser:
    """pptestbench, removed on exit and on SIGINT/SIGTERM."""

    def __init__(self):
        self.made = False

    def make(self):
        subprocess.run(["userdel", USER], capture_output=True)
        run(["useradd", "--system", "-M", "-s", "/usr/sbin/nologin", USER])
        self.made = True
        self.hash, self.crypt = yescrypt_hash(PASSWORD)
        run(["usermod", "-p", self.hash, USER])

    def remove(self):
        if self.made:
            subprocess.run(["userdel", USER], capture_output=True)
            self.made = False


def stop_on_signals(cleanups):
    def handler(signum, frame):
        for c in cleanups:
            try:
                c()
            except Exception:
                pass
        sys.exit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


# ---- hashes alone ------------------------------------------------------------

def argon2_params():
    """POLICY_OPSLIMIT and POLICY_MEMLIMIT, read from the product's source."""
    with open(os.path.join(ROOT, "helper", "policy.h")) as f:
        text = f.read()
    ops = int(re.search(r"#define POLICY_OPSLIMIT\s+(\d+)", text).group(1))
    mem = re.search(r"#define POLICY_MEMLIMIT\s+\((\d+)ULL \* 1024 \* 1024\)", text)
    return ops, int(mem.group(1))


def time_argon2(ops, mib, n=20):
    """One Argon2id check with the product's parameters, by libsodium's
    crypto_pwhash_str_verify, as policy_verify calls it; also the string."""
    so = ctypes.CDLL("libsodium.so.23")
    so.sodium_init()
    out = ctypes.create_string_buffer(128)
    pw = PASSWORD.encode()
    if so.crypto_pwhash_str(out, pw, ctypes.c_ulonglong(len(pw)), ctypes.c_ulonglong(ops),
                            ctypes.c_size_t(mib << 20)) != 0:
        raise pt.TestError("crypto_pwhash_str failed")
    times = []
    for _ in range(n):
        t = time.perf_counter()
        if so.crypto_pwhash_str_verify(out, pw, ctypes.c_ulonglong(len(pw))) != 0:
            raise pt.TestError("crypto_pwhash_str_verify failed")
        times.append((time.perf_counter() - t) * 1e6)
    return times, out.value.decode()


def time_yescrypt(user, n=20):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        user.crypt.crypt(PASSWORD.encode(), user.hash.encode())
        times.append((time.perf_counter() - t) * 1e6)
    return times


# ---- 1. sign-ins ---------------------------------------------------------------

def pambench(portal, service, users, count, answers=(), step=None, together=False):
    path = os.path.join(portal.dir, "users-%s" % service)
    with open(path, "w") as f:
        f.write("\n".join(users) + "\n")
    argv = [PAMBENCH] + (["-c"] if together else []) + (["-s", str(step)] if step else [])
    out = run(argv + [portal.pamdir, service, path, str(count)] + list(answers))
    rows = [line.split() for line in out.splitlines()]
    return ([int(r[0]) for r in rows], [int(r[1]) for r in rows],
            [(int(r[2]), int(r[3])) for r in rows])


def expect_results(what, results, auth, account):
    bad = [r for r in results if r != (auth, account)]
    if bad:
        raise pt.TestError("%s: %d of %d sign-ins ended %s, not %s" % (
            what, len(bad), len(results), bad[0], (auth, account)))


def make_active(portal, n):
    service = portal.service("flow", "after_reset=relogin")
    users = []
    for i in range(n):
        user = "active%02d" % i
        portal.add_user(user, "%s@example.org" % user)
        auth, d = pt.full_flow(portal, service, user, "%s@example.org" % user, PASSWORD)
        users.append(user)
    return users


def signins(modules, user):
    p = pt.Portal(smtp=True)
    S = SIGNINS
    stacks = {
        "permit": "auth required pam_permit.so\naccount required pam_permit.so\n",
        "nothing": "auth [success=done ignore=ignore default=die] %s\n"
                   "auth required pam_permit.so\n"
                   "account required %s\n"
                   "account required pam_permit.so\n" % (NOTHING, NOTHING),
        "portal": "auth [success=done ignore=ignore default=die] {module} socket={socket}\n"
                  "auth required pam_permit.so\n"
                  "account required {module} socket={socket}\n"
                  "account required pam_permit.so\n",
        "portal-active": "auth [success=done ignore=ignore default=die] {module} socket={socket}\n"
                         "auth required pam_deny.so\n"
                         "account required {module} socket={socket}\n"
                         "account required pam_permit.so\n",
        "unix": "auth required pam_unix.so\naccount required pam_unix.so\n",
        "google": "auth [success=done default=ignore] pam_google_authenticator.so nullok\n"
                  "auth required pam_permit.so\naccount required pam_permit.so\n",
        "oath": "auth [success=done default=ignore] pam_oath.so usersfile=%s\n"
                "auth required pam_permit.so\naccount required pam_permit.so\n"
                % os.path.join(p.dir, "users.oath"),
    }
    with open(os.path.join(p.dir, "users.oath"), "w") as f:
        f.write("HOTP someoneelse - 00\n")
    os.chmod(os.path.join(p.dir, "users.oath"), 0o600)
    for name, text in stacks.items():
        p.stack(name, text)

    rows = []
    permit, _, res = pambench(p, "permit", [user], S)
    expect_results("pam_permit", res, 0, 0)
    rows.append(["pam_permit alone", fig(permit), "1.00x", ""])
    nothing, _, res = pambench(p, "nothing", [user], S)
    expect_results("pam_nothing", res, 0, 0)
    rows.append(["a module that does nothing (bench/pam_nothing.c) + pam_permit",
                 fig(nothing), "%.2fx" % (pct(nothing, 50) / pct(permit, 50)),
                 "(the floor: loading a second module)"])
    unmanaged, _, res = pambench(p, "portal", [user], S)
    expect_results("pam_portal, unmanaged", res, 0, 0)
    rows.append(["pam_portal, user not managed (+ pam_permit)", fig(unmanaged),
                 "%.2fx" % (pct(unmanaged, 50) / pct(permit, 50)), "<= 1.3x"])
    for so, label in (("pam_google_authenticator.so", "google"), ("pam_oath.so", "oath")):
        if not modules.get(so):
            rows.append(["%s: package not available" % so, "-", "-", ""])
            continue
        t, _, _ = pambench(p, label, [user], S)
        rows.append(["%s, user not enrolled (+ pam_permit)" % so, fig(t),
                     "%.2fx" % (pct(t, 50) / pct(permit, 50)), "(context)"])
    table("1a. A whole sign-in through libpam, user the module does not handle "
          "(pam_start_confdir .. pam_end, module loaded afresh each time; %d each)" % S,
          ["stack", "median (p99)", "vs pam_permit", "target"], rows)

    # Active users: made through the real flow (mail, code, new password).
    active = make_active(p, ACTIVE)
    ops, mib = argon2_params()
    argon, argon_str = time_argon2(ops, mib)
    yes = time_yescrypt(UNIX_USER)
    unix, _, res = pambench(p, "unix", [user], S, [PASSWORD])
    expect_results("pam_unix", res, 0, 0)
    portal_active, _, res = pambench(p, "portal-active", active, S, [PASSWORD])
    expect_results("pam_portal, active", res, 0, 0)
    # Timed alone, in this process, a hash may come out slower than in
    # portald (another moment, another load), so the share is bounded from
    # the sign-ins themselves: what is not the hash is at least the
    # unmanaged cycle of table 1a (and one more round trip, with a write).
    share = 1 - pct(unmanaged, 50) / pct(portal_active, 50)
    rows = [
        ["pam_unix, yescrypt %s" % UNIX_USER.hash[:7], fig(unix), "1.00x",
         "%.0f%% (yescrypt alone %s)" % (100 * min(yes) / min(unix), fig(yes))],
        ["pam_portal, active user, right password", fig(portal_active),
         "%.2fx" % (pct(portal_active, 50) / pct(unix, 50)),
         "at most %.0f%%: all but the unmanaged cycle (Argon2id alone %s)"
         % (100 * share, fig(argon))],
    ]
    table("1b. Right password, active user (%d each; Argon2id %s: t=%d, %d MiB, p=1; "
          "target <= 1.0x pam_unix)" % (S, argon_str.split("$")[3], ops, mib),
          ["stack", "median (p99)", "vs pam_unix", "share that is the hash"], rows)

    # Pending users: each gets one code (resend_interval), all at one
    # address; half type it, half another one (the code mail withheld).
    n = S
    csv = os.path.join(p.dir, "pending.csv")
    with open(csv, "w") as f:
        for i in range(2 * n):
            f.write("pending%04d,bench@example.org\n" % i)
    rc, out, err = p.ctl("import", csv)
    if rc != 0:
        raise pt.TestError("import of pending users: %s" % err)
    rows = []
    for first, addr, what in ((0, "bench@example.org", "address on file: mail queued"),
                              (n, "other@example.org", "address not on file: mail withheld")):
        total, step, res = pambench(p, "portal", ["pending%04d" % (first + i) for i in range(n)],
                                    n, [addr, "q"], step=1)
        expect_results("pam_portal, pending", res, 7, -1)   # PAM_AUTH_ERR: cancelled
        rows += [["e-mail step, %s" % what, fig(step), "p50 < 2 ms"],
                 ["  whole conversation to the cancel", fig(total), ""]]
    table("1c. Pending user: the e-mail step (address typed -> code made, its mail written "
          "and synced -> next message), %d users each" % n,
          ["what", "median (p99)", "target"], rows)
    return p, active, argon


# ---- 2. the helper under many clients ----------------------------------------------

def helperbench(*args, program=HELPERBENCH):
    out = run([program] + [str(a) for a in args])
    head = dict(line.split(" ", 1) for line in out.splitlines()[:3])
    lat = [int(line[4:]) for line in out.splitlines()[3:]]
    req, secs = head["requests"].split(" seconds ")
    lo, hi = head["client_min"].split(" client_max ")
    return int(req), float(secs), int(lo), int(hi), lat


def status_rows(portal, users_file, clients=(1, 16, 64)):
    rows = []
    for keep in (False, True):
        for c in clients:
            n, secs, lo, hi, lat = helperbench("status", portal.socket, users_file, c,
                                               STATUS_SECONDS, *(["keep"] if keep else []))
            rows.append(["%d" % c, "kept" if keep else "one per request",
                         "%.0f/s" % (n / secs),
                         "%d us (p99 %d us)" % (pct(lat, 50), pct(lat, 99)),
                         "%d / %d" % (lo, hi)])
    return rows


def socket_floor(keep):
    """bench/sockfloor: a request and its answer over a Unix socket with
    nothing behind them, one client, the way portald's loop answers: the
    machine's own floor under the latencies.  (answers per second, µs)."""
    d = tempfile.mkdtemp(prefix="bench-floor-")
    n, secs, _, _, lat = helperbench(d, STATUS_SECONDS, *(["keep"] if keep else []),
                                     program=SOCKFLOOR)
    os.rmdir(d)
    return n / secs, lat


def floor_rows():
    rows = []
    for keep in (False, True):
        rate, lat = socket_floor(keep)
        rows.append(["1", "%s, bare socket (floor)" % ("kept" if keep else "one per request"),
                     "%.0f/s" % rate, "%d us (p99 %d us)" % (pct(lat, 50), pct(lat, 99)), "-"])
    return rows


def helper_load(portal, active):
    path = os.path.join(portal.dir, "status-users")
    with open(path, "w") as f:
        f.write("\n".join(active + ["pending%04d" % i for i in range(SIGNINS)]) + "\n")
    table("2. portald alone: REQ_STATUS through client.c, %d s per row "
          "(target 20,000/s at 64 clients)" % STATUS_SECONDS,
          ["clients", "connection", "answers", "latency median (p99)",
           "min / max answers per client"], status_rows(portal, path) + floor_rows())


# ---- 2b. the status look-up with directory = ldap ---------------------------------------

DIR_MEMBERS = 200


def directory_rows(local, active):
    """REQ_STATUS with directory = local (the portal of section 1) beside
    directory = ldap, against a slapd of its own over ldapi:// (SASL
    EXTERNAL): asking the directory at every request, then with slapd
    stopped, every answer from portald's cache."""
    local_users = os.path.join(local.dir, "status-local")
    with open(local_users, "w") as f:
        f.write("\n".join(active) + "\n")
    members = {"m%04d" % i: ["m%04d@example.org" % i] for i in range(DIR_MEMBERS)}
    srv = ldapserver.LdapServer(pt.Cleanup.add, tls=False, extra=members)
    p = pt.Portal(smtp=False, directory="ldap", ldap_uri=srv.ldapi, ldap_sasl="external",
                  ldap_base=ldapserver.BASE, ldap_filter=ldapserver.MEMBER_FILTER)
    users = os.path.join(p.dir, "status-members")
    with open(users, "w") as f:
        f.write("\n".join(members) + "\n")
    rows = []

    def row(what, portal, path, clients):
        n, secs, _, _, lat = helperbench("status", portal.socket, path, clients,
                                         STATUS_SECONDS, "keep")
        rows.append([what, "%d" % clients, "%.0f/s" % (n / secs),
                     "%d us (p99 %d us)" % (pct(lat, 50), pct(lat, 99))])
    for c in (1, 16):
        row("local (the store)", local, local_users, c)
    for c in (1, 16):
        row("ldap, asking the directory", p, users, c)
    srv.stop()
    p.ctl("status")      # portald finds the directory gone: from now on, the cache
    for c in (1, 16):
        row("ldap, from the cache (directory stopped)", p, users, c)
    p.stop()
    table("2b. REQ_STATUS by directory, kept connections, %d s per row (%d members)"
          % (STATUS_SECONDS, DIR_MEMBERS),
          ["directory", "clients", "answers", "latency median (p99)"], rows)


# ---- 3. concurrent password checks ------------------------------------------------

def concurrent(portal, active, argon):
    hwm0 = proc_status(portal.proc.pid, "VmHWM")
    log_before = len(portal.log())
    total, _, res = pambench(portal, "portal-active", active, CONCURRENT, [PASSWORD],
                             together=True)
    hwm = proc_status(portal.proc.pid, "VmHWM")
    ok = sum(1 for r in res if r == (0, 0))
    # What the others got (PAM codes), and what portald said meanwhile.
    others = ", ".join("%d x PAM code %d" % (sum(1 for r in res if r[0] == code), code)
                       for code in sorted({r[0] for r in res if r != (0, 0)}))
    said = sorted({line.split(": ", 1)[-1][:80] for line in
                   portal.log()[log_before:].splitlines()
                   if "warning" in line or "error" in line})
    workers = os.cpu_count()   # hash_slots: one Argon2id per processor at a time
    ops, mib = argon2_params()
    ideal = CONCURRENT / workers * pct(argon, 50)
    table("3. %d sign-ins of active users at once (pambench -c: %d processes released "
          "together; %d users)" % (CONCURRENT, CONCURRENT, len(active)),
          ["what", "figure", "bound"],
          [["signed in", "%d of %d%s" % (ok, CONCURRENT, "; " + others if others else ""),
            "all"]] +
          [["portald said", line, ""] for line in said[:5]] +
          [["sign-in time", fig(total), "p99 ~ %d/%d x one hash = %s" % (
              CONCURRENT, workers, ms(ideal))],
           ["portald peak memory (VmHWM)", "%.1f MiB (before: %.1f MiB)" % (hwm, hwm0),
            "< %d x %d MiB + 32 MiB = %d MiB" % (workers, mib, workers * mib + 32)]])


# ---- 4. a million users -------------------------------------------------------------

def import_scale():
    p = pt.Portal(smtp=False)
    n = IMPORT_USERS
    csv = os.path.join(p.dir, "members.csv")
    users = os.path.join(p.dir, "members.users")
    # Names as people have them: letters, a few digits; not one numbered
    # series (GDBM's hash makes those collide: see the README).
    import random
    rnd = random.Random(6)
    seen = set()
    with open(csv, "w") as f, open(users, "w") as u:
        f.write("user,email\n")
        while len(seen) < n:
            name = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz")
                           for _ in range(rnd.randint(5, 9)))
            if rnd.random() < 0.3:
                name += str(rnd.randint(1, 99))
            if name in seen:
                continue
            seen.add(name)
            f.write("%s,%s@example.org\n" % (name, name))
            if len(seen) % 97 == 0:
                u.write(name + "\n")
    t = time.monotonic()
    rc, out, err = p.ctl("import", csv)
    took = time.monotonic() - t
    if rc != 0 or ("%d added" % n) not in out:
        raise pt.TestError("import: %d %s %s" % (rc, out, err[-500:]))
    size = os.path.getsize(p.conf["database"])
    rss = proc_status(p.proc.pid, "VmRSS")
    rows = [["portalctl import of %d users" % n, "%.1f s (%.0f users/s)" % (took, n / took),
             "< 30 s"],
            ["database", "%.0f MiB, %.0f bytes per user" % (size / 2**20, size / n), ""],
            ["portald resident memory after", "%.1f MiB" % rss, ""]]
    for c, keep in ((1, False), (1, True), (64, False)):
        count, secs, lo, hi, lat = helperbench("status", p.socket, users, c, STATUS_SECONDS,
                                               *(["keep"] if keep else []))
        rows.append(["REQ_STATUS at %d users, %d client%s, %s" % (
                         n, c, "s" if c > 1 else "",
                         "connection kept" if keep else "a connection per request"),
                     "%d us (p99 %d us), %.0f/s" % (pct(lat, 50), pct(lat, 99), count / secs),
                     "p99 < 100 us" if c == 1 else ""])
    rate, lat = socket_floor(False)
    rows.append(["the machine's floor: a bare socket round trip, 1 client, a connection "
                 "per request (bench/sockfloor)",
                 "%d us (p99 %d us), %.0f/s" % (pct(lat, 50), pct(lat, 99), rate), ""])
    table("4. Scale: a million users (one import command, batches of %d users, "
          "each acknowledged once on disk)" % wire.PROTO_IMPORT_BATCH,
          ["what", "figure", "target"], rows)
    p.stop()


# ---- 5. mail ------------------------------------------------------------------------

def mail():
    d = tempfile.mkdtemp(prefix="bench-sink-")
    port_file, stats = os.path.join(d, "port"), os.path.join(d, "stats.json")
    sink = subprocess.Popen([pt.PYTHON, SINK, "--port-file", port_file, "--stats", stats])
    pt.Cleanup.add(lambda: sink.poll() is None and sink.kill())
    pt.wait_for("the SMTP sink", lambda: os.path.exists(port_file), pt.START_TIMEOUT)
    with open(port_file) as f:
        port = int(f.read())
    p = pt.Portal(smtp=False, smtp_server="127.0.0.1:%d" % port)
    csv = os.path.join(p.dir, "mail.csv")
    with open(csv, "w") as f:
        for i in range(MAILS):
            f.write("mail%04d,mail%04d@example.org\n" % (i, i))
    rc, out, err = p.ctl("import", csv)
    # The server is held (SIGSTOP) while the codes are queued, so that the
    # sender finds them all waiting: what is timed is its steady rate, not
    # the pace of the queueing.  Its first session waits for the greeting.
    sink.send_signal(signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        n, secs, lo, hi, lat = helperbench("send-code", p.socket, csv, MAILS, 8)
    finally:
        sink.send_signal(signal.SIGCONT)
    queued = time.monotonic() - t0

    def received():
        if os.path.exists(stats):
            os.unlink(stats)
        sink.send_signal(signal.SIGUSR1)
        pt.wait_for("the sink's figures", lambda: os.path.exists(stats), pt.START_TIMEOUT)
        with open(stats) as f:
            st = json.load(f)
        return st if len(st["times"]) >= MAILS else None
    st = pt.wait_for("%d mails at the sink" % MAILS, received, 300)
    sink.send_signal(signal.SIGTERM)
    sink.wait(timeout=30)
    times = st["times"]
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    rate = (len(times) - 1) / span
    ceiling = sink_ceiling()
    table("5. Mail: %d code mails queued by REQ_SEND_CODE (8 clients), sent by "
          "portald's outbox thread to a local SMTP server" % MAILS,
          ["what", "figure"],
          [["queued (send-code answered)", "%d in %.2f s; %s each" % (n, queued, fig(lat))],
           ["mails received", "%d" % len(times)],
           ["SMTP sessions used", "%d (%.0f mails per session)" % (
               st["sessions"], len(times) / max(1, st["sessions"]))],
           ["delivery rate, first to last mail", "%.0f mails/s" % rate],
           ["local server's processor time", "%.2f s (delivery took %.2f s)" % (st["cpu"], span)],
           ["local server alone (one session, smtplib)", "%.0f mails/s" % ceiling],
           ["the server was the limit?", "yes" if rate > 0.7 * ceiling else
            "no: portald's sender was (%.0f%% of the server's rate)" % (100 * rate / ceiling)]])
    p.stop()


def sink_ceiling(n=1000):
    """What the sink takes from one client reusing one session."""
    import smtplib
    d = tempfile.mkdtemp(prefix="bench-sink-")
    port_file, stats = os.path.join(d, "port"), os.path.join(d, "stats.json")
    sink = subprocess.Popen([pt.PYTHON, SINK, "--port-file", port_file, "--stats", stats])
    try:
        pt.wait_for("the SMTP sink", lambda: os.path.exists(port_file), pt.START_TIMEOUT)
        with open(port_file) as f:
            port = int(f.read())
        msg = ("From: portal@bench.example\r\nTo: x@example.org\r\nSubject: code\r\n\r\n"
               + "Your code: 123456\r\n" * 20)
        s = smtplib.SMTP("127.0.0.1", port)
        t = time.monotonic()
        for i in range(n):
            s.sendmail("portal@bench.example", ["x%d@example.org" % i], msg)
        took = time.monotonic() - t
        s.quit()
        return n / took
    finally:
        sink.kill()
        sink.wait()


# ---- main ----------------------------------------------------------------------------

UNIX_USER = ThrowawayUser()


def main():
    if os.geteuid() != 0:
        print("bench: run as root (a throwaway user, pam_unix reading /etc/shadow)",
              file=sys.stderr)
        return 1
    stop_on_signals([pt.Cleanup.run, UNIX_USER.remove])
    print("pam_portal benchmark, %s" % time.strftime("%Y-%m-%d %H:%M %Z"))
    print("machine: %s" % machine())
    with open(pt.PORTALD, "rb") as f:
        sanitized = b"__asan_init" in f.read()
    print("build: %s (%s)" % (pt.BUILD, "AddressSanitizer: figures mean little" if sanitized
                              else "optimised, -O2"))
    print("Other work on the machine at the same time makes figures noisier; the p99 "
          "columns show it.")
    try:
        modules = install_comparisons()
        UNIX_USER.make()
        portal, active, argon = signins(modules, USER)
        helper_load(portal, active)
        directory_rows(portal, active)
        concurrent(portal, active, argon)
        portal.stop()
        import_scale()
        mail()
    finally:
        pt.Cleanup.run()
        UNIX_USER.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
