"""portaltest.py - what the end-to-end tests share.

Everything runs for real and in a scratch folder: a loopback SMTP server
(tests/smtpserver.py, on a port held for it: tests/ports.py), portald -f
with its own config, socket and database, and the PAM module loaded by
libpam through tests/pamconv with a service file in a temporary confdir
(pam_start_confdir): no root needed for PAM, nothing under /etc touched.

$BUILD (default "build") names the build to test, so the same tests run
against build/san (AddressSanitizer): every child gets ASAN_OPTIONS and
UBSAN_OPTIONS that make a sanitizer report fatal, and a child that dies
that way fails the test that ran it.

Waiting is always on an event (a port file, a socket accepting, a mail
file, a line of output, a process ending) in a loop bounded in time, on
the monotonic clock; the short pauses inside those loops are polling
intervals, not guesses at how long something takes.  Every time-out and
time bound grows with the slow builds (SLOW, bound()).  Mail is sent by
portald's background thread,
so mail is counted or read only once the outbox is idle:
Portal.mails() (and code_mails, wait_code) wait for that first, through
wait_outbox_idle().

A test file defines functions decorated with @test and ends with
`sys.exit(run_tests())`; checks print "PASS name" or "FAIL name: why".
"""
import email
import email.policy
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from ports import ReservedPort, unix_accepts
from reachable import build_for_everyone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
# The programs, where the throwaway accounts of some tests can run them
# too, wherever the checkout is (tests/reachable.py).
PROGRAMS = build_for_everyone(BUILD, ["portald", "portalctl", "pam_portal.so",
                                      "tests/pamconv", "tests/locker"])
PORTALD = os.path.join(PROGRAMS, "portald")
PORTALCTL = os.path.join(PROGRAMS, "portalctl")
MODULE = os.path.join(PROGRAMS, "pam_portal.so")
PAMCONV = os.path.join(PROGRAMS, "tests", "pamconv")
SMTPD = os.path.join(ROOT, "tests", "smtpserver.py")
PYTHON = "/usr/bin/python3"
SANITIZED = os.path.realpath(BUILD) != os.path.realpath(os.path.join(ROOT, "build"))

# VALGRIND=1 runs pamconv (and the module it loads) under valgrind: any
# memory error or leak makes it exit non-zero, which fails the dialog.
VALGRIND = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            "--error-exitcode=97"] if os.environ.get("VALGRIND") else []

# Sanitized code is several times slower (Argon2id above all), valgrind more.
SLOW = 4 if SANITIZED or VALGRIND else 1
START_TIMEOUT = 10 * SLOW
STEP_TIMEOUT = 30 * SLOW
MAIL_TIMEOUT = 30 * SLOW
POLL = 0.02
CTL_POLL = 0.2      # portalctl is a process: asked five times a second at most


def bound(seconds, cap=None):
    """A time bound for this build: seconds (what the normal build needs,
    with room to spare) times SLOW.  Where the regression the bound exists
    to catch costs a fixed time that no build stretches (a time-out of
    portald's, a floor under an answer), cap keeps the bound under it, so
    that the slow builds catch it too."""
    return seconds * SLOW if cap is None else min(seconds * SLOW, cap)

CHILD_ENV = dict(os.environ)
CHILD_ENV.update({
    "ASAN_OPTIONS": "abort_on_error=1:halt_on_error=1:detect_leaks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
    "LC_ALL": "C.UTF-8",
})
CHILD_ENV.pop("LANG", None)
CHILD_ENV.pop("LC_MESSAGES", None)


class TestError(Exception):
    """A failed expectation; the message says what and, for dialogs, shows
    the transcript."""


def wait_for(what, cond, timeout, interval=POLL):
    """Poll cond() every interval seconds until it returns something true;
    that value, or TestError after timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise TestError("timed out after %gs waiting for %s" % (timeout, what))
        time.sleep(interval)


def wait_seconds(what, since, seconds):
    """Wait until seconds have passed since `since` (a time.monotonic()
    reading): for portald's rules about time itself (a resend interval,
    the life of a code), where the event waited on is the clock."""
    wait_for(what, lambda: time.monotonic() >= since + seconds, seconds + STEP_TIMEOUT)


# ---- results ---------------------------------------------------------------

_failures = 0
_tests = []


def report(name, ok, why=""):
    global _failures
    if ok:
        print("PASS " + name, flush=True)
    else:
        _failures += 1
        print("FAIL %s: %s" % (name, " ".join(str(why).split("\n"))[:2000]), flush=True)
    return ok


def check(name, cond, why=""):
    """One line per check; why says what was seen when it fails."""
    return report(name, bool(cond), why or "condition false")


def check_eq(name, got, want):
    return report(name, got == want, "expected %r, got %r" % (want, got))


def check_match(name, regex, text):
    return report(name, re.search(regex, text or "", re.S) is not None,
                  "expected /%s/ in %r" % (regex, text))


def test(fn):
    _tests.append(fn)
    return fn


def run_tests():
    """Run the @test functions in order; a test that raises reports one
    FAIL under its name.  The exit status is 1 when anything failed."""
    only = sys.argv[1:]
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        try:
            fn()
        except TestError as e:
            report(fn.__name__, False, e)
        except Exception as e:  # a bug in the test or a crash under it
            report(fn.__name__, False, "%s: %s | %s" % (type(e).__name__, e,
                   traceback.format_exc().splitlines()[-3:]))
        finally:
            Cleanup.run()
    return 1 if _failures else 0


class Cleanup:
    """Things to stop when a test ends, whatever happened."""
    _stack = []

    @classmethod
    def add(cls, fn):
        cls._stack.append(fn)

    @classmethod
    def run(cls):
        while cls._stack:
            try:
                cls._stack.pop()()
            except Exception as e:
                report("cleanup", False, e)


# ---- a configuration without a helper running ---------------------------------

def scratch(prefix="portal-check-"):
    """A folder every account can reach (a throwaway one may run portald),
    with a db/ folder for the database, removed when the test ends."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    Cleanup.add(lambda: shutil.rmtree(d, ignore_errors=True))
    os.mkdir(os.path.join(d, "db"), 0o700)
    return d


def write_conf(d, **keys):
    """d/portald.conf with what a start needs and keys over it (None: left
    out); its path."""
    conf = {"cutover": "2023-10-30", "socket": os.path.join(d, "run", "portald.sock"),
            "database": os.path.join(d, "db", "portal.db"), "smtp_server": "127.0.0.1:25",
            "smtp_tls": "none", "user": "root"}
    conf.update(keys)
    path = os.path.join(d, "portald.conf")
    with open(path, "w") as f:
        f.write("".join("%s = %s\n" % kv for kv in conf.items() if kv[1] is not None))
    return path


# ---- the SMTP server -------------------------------------------------------

class Mail:
    """One received message: raw bytes, parsed headers, decoded body."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.raw = f.read()
        meta = os.path.splitext(path)[0] + ".json"
        with open(meta) as f:
            self.envelope = json.load(f)
        self.msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        part = self.msg.get_body(preferencelist=("plain",)) or self.msg
        self.body = part.get_content().replace("\r\n", "\n")
        self.path = path

    @property
    def rcpt(self):
        return self.envelope["rcpt_tos"]

    @property
    def code(self):
        """The verification code: a line of digits (spaces allowed
        inside for readability), or None for a mail without one."""
        m = re.search(r"^[ \t]*(\d[\d ]{4,}\d)[ \t]*$", self.body, re.M)
        return m.group(1).replace(" ", "") if m else None

    def header(self, name):
        v = self.msg[name]
        return None if v is None else str(v)

    def raw_header(self, name):
        """The header as it travelled (before RFC 2047 decoding)."""
        head = self.raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        head = re.sub(rb"\r?\n[ \t]+", b" ", head)
        for line in head.splitlines():
            k, _, v = line.partition(b":")
            if k.strip().lower() == name.lower().encode():
                return v.strip().decode("ascii", "replace")
        return None


class Smtpd:
    """tests/smtpserver.py for one test, in dir: the mail it takes in
    dir/mail, its output in dir/smtpd.log.  Stopped when the test ends.

    mode: how it behaves (smtpserver.py's modes: "ok", "slow 2",
    "refuse 451 ...", "drop"); set_mode() changes it while it runs.
    down: no server yet, only its port, held so that connections are
    refused and nobody else takes it (ports.py); up() starts the server
    there.  tls: (certificate, key) files to offer STARTTLS with; auth:
    "USER:PASSWORD" it then requires; printing: show each mail on stdout."""

    def __init__(self, dir, mode="ok", down=False, tls=None, auth=None, printing=False):
        self.dir = dir
        self.maildir = os.path.join(dir, "mail")
        self.control = os.path.join(dir, "smtpd.control")
        self.options = ((["--tls", "%s:%s" % tls] if tls else []) +
                        (["--auth", auth] if auth else []) + (["--print"] if printing else []))
        self.proc = None
        self.log = None
        self.reserved = ReservedPort()
        self.port = self.reserved.port
        Cleanup.add(self.stop)
        if not down:
            self.up(mode)

    def up(self, mode="ok"):
        """Start the server on the held port, in that mode; once it
        listens, the port is its own."""
        self.set_mode(mode)
        port_file = os.path.join(self.dir, "smtpd.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.log = open(os.path.join(self.dir, "smtpd.log"), "a")
        self.proc = subprocess.Popen(
            [PYTHON, SMTPD, "--maildir", self.maildir, "--port", str(self.port),
             "--port-file", port_file, "--control", self.control] + self.options,
            stdout=self.log, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise TestError("smtpserver.py exited with %s" % self.proc.returncode)
            return os.path.exists(port_file)
        wait_for("smtpserver.py to listen", ready, START_TIMEOUT)
        self.reserved.release()

    def set_mode(self, words):
        """What the server does from its next command on."""
        tmp = self.control + ".tmp"
        with open(tmp, "w") as f:
            f.write(words + "\n")
        os.rename(tmp, self.control)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=START_TIMEOUT)
        if self.log is not None:
            self.log.close()
            self.log = None
        self.reserved.release()

    def mails(self, to=None):
        """Every mail received so far, oldest first (to: only those with
        that envelope recipient)."""
        try:
            names = sorted(n for n in os.listdir(self.maildir) if n.endswith(".eml"))
        except FileNotFoundError:
            return []
        out = [Mail(os.path.join(self.maildir, n)) for n in names]
        return [m for m in out if to is None or to in m.rcpt]

    def wait(self, n, to=None, timeout=None):
        """Wait until at least n mails (to that address) have arrived;
        returns them all.  For a server that is not the one portald
        sends to while portald runs (a test's own relay, a restarted
        portald): what portald sent is counted with Portal.mails()."""
        return wait_for("%d mail(s)%s" % (n, " to " + to if to else ""),
                        lambda: (lambda ms: ms if len(ms) >= n else None)(self.mails(to)),
                        timeout or MAIL_TIMEOUT)

    def events(self, kind=None, addr=None):
        """The lines of the server's events.log as word lists, oldest
        first: only those of that kind ("rcpt", "data", "auth"), naming
        that address."""
        try:
            with open(os.path.join(self.maildir, "events.log")) as f:
                lines = [l.split() for l in f]
        except FileNotFoundError:
            return []
        return [l for l in lines if (kind is None or l[0] == kind) and
                (addr is None or addr in l[1].split(","))]

    def wait_events(self, n, kind, addr=None, timeout=None):
        """At least n events of that kind (for that address); them all."""
        return wait_for("%d %s event(s)%s" % (n, kind, " for " + addr if addr else ""),
                        lambda: (lambda e: e if len(e) >= n else None)(self.events(kind, addr)),
                        timeout or MAIL_TIMEOUT)


# ---- portalctl and the outbox ----------------------------------------------

def portalctl(conf_path, *args, input=None):
    """Run portalctl with that configuration (None: its default), in
    English; (exit status, stdout, stderr).  A crash fails the test."""
    argv = [PORTALCTL] + (["-c", conf_path] if conf_path else []) + list(args)
    p = subprocess.run(argv, input=input, capture_output=True, text=True,
                       env=CHILD_ENV, timeout=STEP_TIMEOUT)
    if p.returncode < 0 or "Sanitizer" in p.stderr or "runtime error" in p.stderr:
        raise TestError("portalctl %s crashed (%s): %s" % (" ".join(args), p.returncode,
                                                           p.stderr[-1500:]))
    return p.returncode, p.stdout, p.stderr


def mails_waiting(status_out):
    """The "mails waiting" count of `portalctl status` (in English), or
    None when the output has none."""
    m = re.search(r"^mails waiting:\s*(\d+)\s*$", status_out or "", re.M)
    return int(m.group(1)) if m else None


def wait_outbox_idle(status, listing=None, timeout=None):
    """Wait until portald has no mail left to send, as `portalctl status`
    says (status() runs it: (exit status, stdout, stderr)).

    Idle means every mail queued so far is written down as sent (or
    failed for good).  portald writes "sent" down only once the server
    has answered 250 to the message, and tests/smtpserver.py stores a message
    before it answers, so by then every mail portald sent is in the
    maildir: counting after this never races the sender.  A mail put off
    for a retry keeps the outbox from being idle: the wait then fails,
    showing listing() (`portalctl outbox`), rather than count too early.
    Every mail a conversation queues is queued (and synced) before the
    conversation goes on, so once a step of it has been seen, its mail is
    in the outbox."""
    def idle():
        rc, out, err = status()
        if rc != 0:
            raise TestError("portalctl status failed (%d): %s" % (rc, err.strip()))
        return mails_waiting(out) == 0
    try:
        wait_for("the outbox to be idle", idle, timeout or MAIL_TIMEOUT)
    except TestError as e:
        raise TestError("%s; outbox: %s" % (e, listing()[1][-1500:] if listing else "?"))


# ---- portald ---------------------------------------------------------------

BASE_CONFIG = {
    "cutover": "2023-10-30",
    "organization": "Test College",
    "language": "en",
    "smtp_tls": "none",
    "mail_from": "portal@test.example",
}


class Portal:
    """A scratch folder with an SMTP server, a portald and PAM services.

    conf: config keys over BASE_CONFIG (None removes a key).  smtp: True
    for an SMTP server that takes every mail, a dict of Smtpd's arguments
    for one that misbehaves (mode, down...), False for tests that need
    none: portald's mail then goes to a port held with nobody listening
    (refused, and no other server can take it), where it waits."""

    def __init__(self, smtp=True, start=True, **conf):
        self.dir = tempfile.mkdtemp(prefix="portal-")
        os.chmod(self.dir, 0o755)
        Cleanup.add(self.remove)
        self.rundir = os.path.join(self.dir, "run")
        os.mkdir(self.rundir, 0o755)
        self.pamdir = os.path.join(self.dir, "pam.d")
        os.mkdir(self.pamdir, 0o755)
        self.socket = os.path.join(self.rundir, "portald.sock")
        self.conf_path = os.path.join(self.dir, "portald.conf")
        self.smtpd = None
        if smtp:
            self.smtpd = Smtpd(self.dir, **(smtp if isinstance(smtp, dict) else {}))
            port = self.smtpd.port
        else:
            nobody = ReservedPort()
            Cleanup.add(nobody.release)
            port = nobody.port
        self.conf = dict(BASE_CONFIG)
        self.conf["socket"] = self.socket
        self.conf["database"] = os.path.join(self.dir, "db", "portal.db")
        os.mkdir(os.path.join(self.dir, "db"), 0o700)
        self.conf["smtp_server"] = "127.0.0.1:%d" % port
        for k, v in conf.items():
            if v is None:
                self.conf.pop(k, None)
            else:
                self.conf[k] = v
        self.write_config()
        self.proc = None
        self.stopping = False
        self.log_path = os.path.join(self.dir, "portald.log")
        if start:
            self.start()

    def remove(self):
        if os.environ.get("KEEP_TEST_DIRS"):
            print("# kept " + self.dir, flush=True)
            return
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write("# written by tests/portaltest.py\n")
            for k, v in self.conf.items():
                f.write("%s = %s\n" % (k, v))

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self):
        self.stopping = False
        self.logf = open(self.log_path, "a")
        self.proc = subprocess.Popen([PORTALD, "-f", "-c", self.conf_path],
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=CHILD_ENV)
        Cleanup.add(self.kill)
        wait_for("portald to accept connections", self.accepting, START_TIMEOUT)

    def accepting(self):
        if self.proc.poll() is not None:
            raise TestError("portald exited with %s: %s" % (self.proc.returncode,
                                                            self.log()[-1500:]))
        return unix_accepts(self.socket)

    def stop(self):
        """SIGTERM; the exit status (0 expected)."""
        self.stopping = True
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.stopping = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise TestError("portald did not stop on SIGTERM within %ds" % START_TIMEOUT)
        self.logf.close()
        return rc

    def kill(self):
        """At the end of a test: a portald that died by itself (a crash,
        a sanitizer report) fails the test; one still running is killed."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        elif not self.stopping and self.proc.returncode != 0:
            report("portald kept running", False, "it exited with status %s: %s"
                   % (self.proc.returncode, self.log()[-2000:]))

    def stop_checked(self, name="portald stops cleanly on SIGTERM"):
        rc = self.stop()
        return report(name, rc == 0, "exit status %s; log: %s" % (rc, self.log()[-1500:]))

    # -- portalctl --

    def ctl(self, *args, input=None, conf=True):
        """Run portalctl; (exit status, stdout, stderr)."""
        return portalctl(self.conf_path if conf else None, *args, input=input)

    def wait_outbox_idle(self, timeout=None):
        """See wait_outbox_idle(): portald has nothing left to send."""
        wait_outbox_idle(lambda: self.ctl("status"), lambda: self.ctl("outbox"), timeout)

    def mails(self, to=None):
        """Every mail portald sent (to that address), oldest first, once
        it has nothing left to send: the count to check."""
        self.wait_outbox_idle()
        return self.smtpd.mails(to)

    def state(self, user):
        """The user's state as `portalctl user show` says it: pending,
        active, locked (None when it says none)."""
        m = re.search(r"(?m)^state:\s*(\w+)", self.ctl("user", "show", user)[1])
        return m and m.group(1)

    def wait_user(self, user, regex, timeout=None):
        """`portalctl user show USER` once it matches regex; its output."""
        return wait_for("portalctl user show %s to match /%s/" % (user, regex),
                        lambda: (lambda out: out if re.search(regex, out) else None)(
                            self.ctl("user", "show", user)[1]),
                        timeout or STEP_TIMEOUT, CTL_POLL)

    def add_user(self, user, addr):
        rc, out, err = self.ctl("user", "add", user, addr)
        if rc != 0:
            raise TestError("portalctl user add %s %s: %d %s" % (user, addr, rc, err))

    # -- PAM --

    def service(self, name, options="", then="deny", module=None, before=""):
        """Write pam.d/NAME: the module first, as the README tells, then
        pam_deny (then="deny": an ignored module fails the stack) or
        pam_permit (then="permit": an ignored module lets it succeed).
        before: lines to put above the module."""
        with open(os.path.join(self.pamdir, name), "w") as f:
            f.write(before)
            f.write("auth [success=done ignore=ignore default=die] %s socket=%s %s\n"
                    % (module or MODULE, self.socket, options))
            f.write("auth required pam_%s.so\n" % then)
            f.write("account required pam_permit.so\n")
        return name

    def stack(self, name, text):
        """Write pam.d/NAME from text, where {module} stands for the module
        and {socket} for the helper's socket."""
        with open(os.path.join(self.pamdir, name), "w") as f:
            f.write(text.format(module=MODULE, socket=self.socket))
        return name

    def dialog(self, service, user, rhost=None, flags=()):
        """flags: pamconv's -k (key sign-in), -p (passwd), -e (expired)."""
        return Dialog(self.pamdir, service, user, rhost, flags)


class Probe:
    """A script for pam_exec in a portal's folder, to see what a module
    after pam_portal is given: `shell` (sh) with OUT standing for the file
    it writes; read() is what it wrote (None before it ran)."""

    def __init__(self, portal, name, shell):
        self.path = os.path.join(portal.dir, name + ".sh")
        self.out = os.path.join(portal.dir, name + ".out")
        with open(self.path, "w") as f:
            f.write("#!/bin/sh\n" + shell.replace("OUT", "'%s'" % self.out) + "\n")
        os.chmod(self.path, 0o755)

    def read(self):
        try:
            with open(self.out, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None


# ---- the PAM conversation --------------------------------------------------

class Dialog:
    """pamconv as a child: read its messages, answer its prompts.

    Every message is a (kind, text) pair, kind one of ECHO_ON, ECHO_OFF,
    INFO, ERROR; the transcript keeps them and the answers ("> text")."""

    def __init__(self, confdir, service, user, rhost=None, flags=()):
        argv = (VALGRIND + [PAMCONV] + list(flags) + (["-R", rhost] if rhost else []) +
                [confdir, service, user])
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=CHILD_ENV)
        Cleanup.add(self.kill)
        self.lines = queue.Queue()
        self.transcript = []
        self.result_line = None
        self.stderr = b""
        threading.Thread(target=self._reader, daemon=True).start()
        self.err_thread = threading.Thread(target=self._err_reader, daemon=True)
        self.err_thread.start()

    def _reader(self):
        for line in self.proc.stdout:
            self.lines.put(line.decode("utf-8", "replace").rstrip("\n"))
        self.lines.put(None)

    def _err_reader(self):
        self.stderr = self.proc.stderr.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def text(self):
        return "\n".join(self.transcript)

    def fail(self, what):
        tail = self.transcript[-12:]
        err = ""
        if self.proc.poll() is not None:
            self.err_thread.join(timeout=5)
            err = self.stderr.decode("utf-8", "replace")[-1500:]
        raise TestError("%s | transcript: %s%s" % (what, " / ".join(tail),
                                                    " | stderr: " + err if err else ""))

    def read(self):
        """The next message as (kind, text)."""
        try:
            line = self.lines.get(timeout=STEP_TIMEOUT)
        except queue.Empty:
            self.fail("no message within %ds" % STEP_TIMEOUT)
        if line is None:
            self.proc.wait(timeout=STEP_TIMEOUT)
            self.fail("pamconv ended (status %s) without a RESULT" % self.proc.returncode)
        if line.startswith("RESULT "):
            self.result_line = line
            self.transcript.append(line)
            return ("RESULT", line[len("RESULT "):])
        kind, _, text = line.partition(" ")
        text = text.replace("\\n", "\n")
        self.transcript.append("%s %s" % (kind, text))
        return kind, text

    def expect(self, kind, regex=None):
        """The next message must be of this kind (and match); its text."""
        k, t = self.read()
        if k != kind or (regex and not re.search(regex, t, re.S)):
            self.fail("expected %s%s, got %s %r" % (kind, " /%s/" % regex if regex else "", k, t))
        return t

    def until(self, kind, regex=None):
        """Read messages up to the first of this kind (matching); returns
        (the messages before it, its text).  A RESULT on the way fails."""
        before = []
        while True:
            k, t = self.read()
            if k == kind and (not regex or re.search(regex, t, re.S)):
                return before, t
            if k == "RESULT":
                self.fail("ended before %s%s" % (kind, " /%s/" % regex if regex else ""))
            before.append((k, t))

    def answer(self, text):
        self.transcript.append("> " + ("*" * len(text) if self._secret() else text))
        try:
            self.proc.stdin.write(text.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.fail("pamconv stopped reading")

    def _secret(self):
        return any(l.startswith("ECHO_OFF") for l in self.transcript[-1:])

    def conv_error(self):
        self.transcript.append("> !CONV_ERR")
        self.proc.stdin.write(b"!CONV_ERR\n")
        self.proc.stdin.flush()

    def close_input(self):
        self.proc.stdin.close()

    def result(self):
        """Read to the end: (authenticate result, account result), and
        the messages that came before as [(kind, text)]; the result of
        pam_chauthtok, when it ran, is left in self.password."""
        before = []
        while True:
            k, t = self.read()
            if k == "RESULT":
                break
            if k in ("ECHO_ON", "ECHO_OFF"):
                self.fail("a prompt came where the end was expected")
            before.append((k, t))
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=STEP_TIMEOUT)
        m = re.match(r"authenticate=(\S+) account=(\S+)(?: password=(\S+))?$", t)
        if rc != 0 or not m:
            self.fail("pamconv exit status %s, result %r" % (rc, t))
        self.before_result = before
        self.password = m.group(3)
        return m.group(1), m.group(2), before


# ---- the conversation of DESIGN.md, step by step ---------------------------

# Prompts and messages by their stable parts, in both languages.
EN = {
    "intro": r"new portal",
    "email": r"e-mail address",
    "sent": r"(?i)code has been sent",
    "code": r"(?i)verification code.*\br\b.*\be\b.*\bq\b",
    "verified": r"(?i)verified",
    "continue": r"(?i)enter.*\be\b.*\bq\b",
    "new_password": r"(?i)new password.*\d+",
    "again": r"(?i)again",
    "created": r"(?i)password has been created",
    "cancelled": r"(?i)nothing was changed",
    "password": r"(?i)password",
    "unavailable": r"(?i)unavailable",
}
FR = {
    "intro": r"nouveau portail",
    "email": r"[Aa]dresse courriel",
    "sent": r"code de vérification y a été envoyé",
    "code": r"Code de vérification.*\br\b.*\be\b.*\bq\b",
    "verified": r"vérifié",
    "continue": r"Entrée.*\be\b.*\bq\b",
    "new_password": r"nouveau mot de passe.*\d+",
    "again": r"de nouveau",
    "created": r"mot de passe a été créé",
    "cancelled": r"rien n'a été modifié",
    "password": r"[Mm]ot de passe",
    "unavailable": r"pas disponible",
}

STRONG = "correct horse battery staple 42!"


def ask_code(portal, d, user, addr, words=EN, mails_before=None):
    """From the start of a pending user's conversation to the code
    prompt: the intro, the address, the code mail.  Returns the code."""
    if mails_before is None:
        mails_before = len(code_mails(portal, addr))
    d.until("ECHO_ON", words["email"])
    d.answer(addr)
    d.expect("INFO", words["sent"])
    d.expect("ECHO_ON", words["code"])
    return wait_code(portal, addr, mails_before + 1)


def to_new_password(portal, d, user, addr, words=EN):
    """From the start of a pending user's conversation to the new-password
    prompt: the code mailed, typed, Enter to continue.  That prompt."""
    code = ask_code(portal, d, user, addr, words)
    d.answer(code)
    d.expect("INFO", words["verified"])
    d.expect("ECHO_ON", words["continue"])
    d.answer("")
    return d.expect("ECHO_OFF", words["new_password"])


def code_mails(portal, addr):
    """The mails to addr that carry a code (not the notices), once the
    outbox is idle."""
    return [m for m in portal.mails(addr) if m.code]


def wait_code(portal, addr, n):
    """The code of the n-th code mail to addr, once the outbox is idle:
    the conversation has said the code was sent, so it was queued."""
    codes = code_mails(portal, addr)
    if len(codes) < n:
        raise TestError("code mail %d to %s: only %d code mail(s) were sent"
                        % (n, addr, len(codes)))
    return codes[n - 1].code


def create_password(d, password=STRONG, words=EN):
    """At the continue prompt after the code: Enter, the password twice."""
    d.answer("")
    d.expect("ECHO_OFF", words["new_password"])
    d.answer(password)
    d.expect("ECHO_OFF", words["again"])
    d.answer(password)


def enter_code_and_password(d, code, password=STRONG, words=EN):
    """At the code prompt: the right code, continue, the password twice."""
    d.answer(code)
    d.expect("INFO", words["verified"])
    d.expect("ECHO_ON", words["continue"])
    create_password(d, password, words)


def verification(portal, d, user, addr, password=STRONG, words=EN):
    """A pending user's whole verification, from its first message to the
    password created: (the first message, the one saying it was created)."""
    intro = d.expect("INFO")
    code = ask_code(portal, d, user, addr, words)
    enter_code_and_password(d, code, password, words)
    return intro, d.expect("INFO", words["created"])


def cancel_verification(d, words=EN):
    """At the start of a pending user's conversation: q at the address
    prompt, then the end.  The message that says nothing was changed."""
    d.until("ECHO_ON", words["email"])
    d.answer("q")
    said = d.expect("INFO", words["cancelled"])
    d.result()
    return said


def full_flow(portal, service, user, addr, password=STRONG, words=EN):
    """A pending user through the whole conversation (after_reset=relogin):
    returns the authenticate result and the transcript."""
    d = portal.dialog(service, user)
    code = ask_code(portal, d, user, addr, words)
    enter_code_and_password(d, code, password, words)
    d.expect("INFO", words["created"])
    auth, _, _ = d.result()
    return auth, d


def sign_in(portal, service, user, password, words=EN, rhost=None, flags=()):
    """An active user's password sign-in; (authenticate, account, dialog)."""
    d = portal.dialog(service, user, rhost, flags)
    d.expect("ECHO_OFF", words["password"])
    d.answer(password)
    auth, acct, _ = d.result()
    return auth, acct, d
