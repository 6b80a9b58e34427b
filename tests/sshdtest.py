"""sshdtest.py - the programs people really sign in with (Debian's sshd,
login and su, and a screen locker), around a Portal of portaltest.py.

  Sandbox   a private mount and PID namespace (unshare) for those programs,
            in which
              /etc/pam.d         is a copy of the machine's, with the test's
                                 service files (the samples of config/, or
                                 common-* written by pam-auth-update from
                                 config/pam-configs-portal);
              /run               is an empty tmpfs, /run/portald the Portal's
                                 socket folder (so the pam.d lines need no
                                 socket=), /run/sshd sshd's privsep folder;
              /dev/log           is a socket this object reads: the module's
                                 pam_syslog lines, which tests assert on;
              /var/log/{wtmp,btmp,lastlog,faillog}  empty files of its own.
            Nothing outside is changed, and the mounts and every process
            inside die with the namespace, even when the test is killed.
  Person    a throwaway account (sysuser.SystemUser, `pptest-`) one signs in
            to: /bin/sh as its shell, a unix password when given.
  Sshd      a private sshd on a loopback port, its own sshd_config and host
            key, keyboard-interactive; the PAM service `pptest-sshd`; options
            and authorized keys for other tests (key sign-in).
  Terminal  a program on a pty (python3-pexpect), driven as a person types.

These suites need root, and the normal build: an ASan-built module cannot
load into sshd, login or su (ASan must come first in the link order), so
tests/run.sh runs tests/test_e2e_*.py with build only; require() says why
it refuses to run otherwise.
"""
import atexit
import importlib.util
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

import portaltest as pt
import sysuser
from portaltest import Cleanup, TestError, wait_for
from ports import ReservedPort

SSHD = "/usr/sbin/sshd"
CONFIG = os.path.join(pt.ROOT, "config")
LOCKER = os.path.join(pt.PROGRAMS, "tests", "locker")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# What a session runs once signed in: the account's own shell prints who it is.
SIGNED_IN_COMMAND = "echo PPTEST-SIGNED-IN $(id -un)"
SIGNED_IN = r"PPTEST-SIGNED-IN ([\w-]+)"

# The module's password prompt at the start of its line (pam_unix's reads
# the same); ssh puts "\r(user@host) " in front of the prompts it shows.
PASSWORD_PROMPT = {"en": r"(?m)^\r?(?:\([^)\n]*\) )?Password",
                   "fr": r"(?m)^\r?(?:\([^)\n]*\) )?Mot de passe"}

# How long a terminal waits for what it expects to see.
STEP_TIMEOUT = pt.STEP_TIMEOUT


def asan_module():
    """Whether the module needs libasan (a SAN=1 build)."""
    try:
        with open(pt.MODULE, "rb") as f:
            return b"libasan.so" in f.read()
    except OSError:
        return False


def require():
    """Exit with one FAIL line saying why, unless these suites can run."""
    why = []
    if os.geteuid() != 0:
        why.append("they need root (they start sshd, login and su in a private namespace "
                   "and make throwaway accounts); CI runs make check as root")
    if asan_module():
        why.append("BUILD=%s is built with ASan, whose module cannot load into sshd, login "
                   "or su; run them with the normal build (tests/run.sh does)"
                   % os.environ.get("BUILD"))
    for prog in (SSHD, "/usr/bin/ssh", "/usr/bin/login", "/usr/bin/su", "/usr/bin/unshare",
                 "/usr/bin/setpriv", "/usr/sbin/pam-auth-update", pt.MODULE, pt.PORTALD, LOCKER):
        if not os.access(prog, os.X_OK) and not os.path.exists(prog):
            why.append("%s is missing (make deps; make test-programs)" % prog)
    if importlib.util.find_spec("pexpect") is None:
        why.append("python3-pexpect is missing (make deps)")
    if why:
        print("FAIL %s: cannot run: %s" % (os.path.basename(sys.argv[0]), "; ".join(why)),
              flush=True)
        sys.exit(1)


# ---- cleanup on signals --------------------------------------------------
# run_tests() empties Cleanup after each test; a signal in the middle of one
# does it at once, then hands over to the handler that was there before
# (sysuser's, which removes the accounts and dies of the signal).

def _on_signal(sig, frame):
    Cleanup.run()
    previous = _previous.get(sig)
    if callable(previous):
        previous(sig, frame)
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)


_previous = {}
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    _previous[_sig] = signal.signal(_sig, _on_signal)
atexit.register(Cleanup.run)


def run(argv, input=None):
    """Run a setup command that must work; its stdout."""
    p = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    if p.returncode != 0:
        raise TestError("%s: exit %d: %s" % (" ".join(argv), p.returncode, p.stderr.strip()))
    return p.stdout


# ---- accounts ------------------------------------------------------------

class Person(sysuser.SystemUser):
    """A throwaway account someone signs in to.  Its password in
    /etc/shadow (unix_password) is what pam_unix checks: for a managed
    user it is the old password that must never let them in."""

    def __init__(self, unix_password=None):
        super().__init__()
        Cleanup.add(self.remove)
        run(["usermod", "--shell", "/bin/sh", self.name])
        self.unix_password = unix_password
        if unix_password:
            run(["chpasswd"], input="%s:%s\n" % (self.name, unix_password))

    @property
    def address(self):
        return self.name + "@example.org"


# ---- the namespace -------------------------------------------------------

# $1 the sandbox folder, $2 the Portal's socket folder, then the command.
# Runs as PID 1 of a new PID namespace: when it ends, or unshare is killed
# (--kill-child), everything it started is killed with it.
NAMESPACE_SETUP = r'''
d=$1 run=$2; shift 2
ns=$(mktemp -d "$d/ns.XXXXXX")
mount --bind "$d/pam.d" /etc/pam.d
mkdir "$ns/up" "$ns/work"
for m in pts shm mqueue; do
	if mountpoint -q "/dev/$m"; then mkdir "$ns/$m"; mount --rbind "/dev/$m" "$ns/$m"; fi
done
mount -t overlay -o "lowerdir=/dev,upperdir=$ns/up,workdir=$ns/work" pptest /dev
for m in pts shm mqueue; do
	if [ -d "$ns/$m" ]; then mount --move "$ns/$m" "/dev/$m"; fi
done
rm -f /dev/log
: >/dev/log
mount --bind "$d/log.sock" /dev/log
mount -t tmpfs -o mode=0755 pptest /run
mkdir -m 0755 /run/sshd /run/portald
mount --bind "$run" /run/portald
for f in wtmp btmp lastlog faillog; do
	if [ -e "/var/log/$f" ]; then : >"$ns/$f"; mount --bind "$ns/$f" "/var/log/$f"; fi
done
exec "$@"
'''

# pam-auth-update writes common-* from the profiles; it keeps its state
# in /var/lib/pam and debconf's database: copies, in a namespace of its own.
PAM_AUTH_UPDATE = r'''
d=$1; shift
mount --bind "$d/pam.d" /etc/pam.d
mount --bind "$d/pam-configs" /usr/share/pam-configs
mount --bind "$d/var-lib-pam" /var/lib/pam
mount --bind "$d/debconf" /var/cache/debconf
exec "$@"
'''


def _module_lines(text, options):
    """Name the module by its build path and add options on every
    pam_portal line: the lines are otherwise used as written."""
    def fix(m):
        return m.group(0).replace("pam_portal.so", pt.MODULE) + (" " + options if options else "")
    return re.sub(r"(?m)^.*\bpam_portal\.so\b.*?(?=\s*$)", fix, text)


class Sandbox:
    """A private world for one test's sign-in programs (see the top)."""

    def __init__(self, portal):
        self.portal = portal
        self.dir = tempfile.mkdtemp(prefix="pptest-ns-")
        os.chmod(self.dir, 0o755)
        Cleanup.add(self.remove)
        self.pamd = os.path.join(self.dir, "pam.d")
        shutil.copytree("/etc/pam.d", self.pamd, symlinks=True)
        self.lines = []
        self.log_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.log_sock.bind(os.path.join(self.dir, "log.sock"))
        os.chmod(os.path.join(self.dir, "log.sock"), 0o666)   # lockers log as their user
        threading.Thread(target=self._read_log, daemon=True).start()

    def remove(self):
        self.log_sock.close()
        if os.environ.get("KEEP_TEST_DIRS"):
            print("# kept " + self.dir, flush=True)
            return
        shutil.rmtree(self.dir, ignore_errors=True)

    def _read_log(self):
        while True:
            try:
                data = self.log_sock.recv(8192)
            except OSError:
                return
            self.lines.append(data.decode("utf-8", "replace").rstrip("\n"))

    def log(self):
        """Everything logged to syslog inside so far."""
        return "\n".join(self.lines)

    def wait_log(self, regex, what=None):
        """The first syslog line matching regex, waited for."""
        def found():
            return next((l for l in list(self.lines) if re.search(regex, l)), None)
        try:
            return wait_for(what or "syslog /%s/" % regex, found, pt.STEP_TIMEOUT)
        except TestError as e:
            raise TestError("%s; syslog: %s" % (e, self.log()[-1500:]))

    def check_logged(self, name, regex):
        """One check: a syslog line matching regex comes (waited for)."""
        try:
            line = self.wait_log(regex)
        except TestError as e:
            return pt.report(name, False, e)
        return pt.report(name, True, line)

    def argv(self, argv, user=None):
        """argv run inside (as user, a Person, when given)."""
        if user is not None:
            argv = user.as_user(argv)
        return (["unshare", "--mount", "--propagation", "private", "--pid", "--fork",
                 "--kill-child", "--mount-proc", "--", "/bin/sh", "-ec", NAMESPACE_SETUP,
                 "sandbox", self.dir, self.portal.rundir] + list(argv))

    # -- PAM services --

    def service(self, name, text, options=""):
        """Write pam.d/NAME from text."""
        with open(os.path.join(self.pamd, name), "w") as f:
            f.write(_module_lines(text, options))

    def with_samples(self, name, stock, sample, options=""):
        """pam.d/NAME: the machine's pam.d/STOCK with each line of
        config/SAMPLE put above the @include of its group, as the sample
        tells the administrator to."""
        with open(os.path.join("/etc/pam.d", stock)) as f:
            lines = f.read().splitlines()
        with open(os.path.join(CONFIG, sample)) as f:
            ours = [l for l in f.read().splitlines() if l.strip() and not l.startswith("#")]
        for line in ours:
            group = line.split()[0]
            include = ["@include", "common-" + group]
            where = [i for i, l in enumerate(lines) if l.split()[:2] == include]
            if not where:
                raise TestError("/etc/pam.d/%s has no @include common-%s for: %s"
                                % (stock, group, line))
            lines.insert(where[0], line)
        self.service(name, "\n".join(lines) + "\n", options)

    def enable_profile(self, options=""):
        """common-* as `pam-auth-update --enable portal` writes them with
        config/pam-configs-portal installed beside Debian's profiles."""
        for src, dst in (("/usr/share/pam-configs", "pam-configs"),
                         ("/var/lib/pam", "var-lib-pam"), ("/var/cache/debconf", "debconf")):
            shutil.copytree(src, os.path.join(self.dir, dst), symlinks=True)
        shutil.copy(os.path.join(CONFIG, "pam-configs-portal"),
                    os.path.join(self.dir, "pam-configs", "portal"))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", PATH=PATH)
        p = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "/bin/sh",
                            "-ec", PAM_AUTH_UPDATE, "pam-auth-update", self.dir,
                            "pam-auth-update", "--package", "--enable", "portal"],
                           capture_output=True, text=True, env=env, timeout=STEP_TIMEOUT)
        if p.returncode != 0:
            raise TestError("pam-auth-update --enable portal: exit %d: %s"
                            % (p.returncode, p.stderr.strip()))
        for name in ("common-auth", "common-account", "common-password"):
            path = os.path.join(self.pamd, name)
            with open(path) as f:
                text = f.read()
            if "pam_portal.so" not in text:
                raise TestError("pam-auth-update left pam_portal out of %s:\n%s" % (name, text))
            self.service(name, text, options)

    def common(self, group):
        """The lines of common-GROUP as (control, module file name,
        arguments), to check."""
        with open(os.path.join(self.pamd, "common-" + group)) as f:
            lines = re.findall(r"(?m)^%s\s+(\[[^]]*\]|\S+)\s+(\S+)[ \t]*(.*?)\s*$" % group,
                               f.read())
        return [(c, os.path.basename(m), a) for c, m, a in lines]


# ---- terminals -------------------------------------------------------------

class Terminal:
    """A program on a pty, driven as a person would: wait for what the
    screen shows, then type.  Failures show the end of the screen and of
    the syslog."""

    def __init__(self, argv, sandbox):
        import pexpect
        self.pexpect = pexpect
        self.sandbox = sandbox
        self.screen = io.StringIO()
        env = {"PATH": PATH, "TERM": "dumb", "LC_ALL": "C.UTF-8", "HOME": sandbox.dir}
        self.child = pexpect.spawn(argv[0], list(argv[1:]), env=env, encoding="utf-8",
                                   codec_errors="replace", timeout=STEP_TIMEOUT,
                                   dimensions=(40, 250))
        self.child.logfile_read = self.screen
        Cleanup.add(self.close)

    def fail(self, what):
        raise TestError("%s | screen: %r | syslog: %s" % (
            what, self.screen.getvalue()[-1200:], self.sandbox.log()[-1200:]))

    def expect(self, regex):
        """Wait until the screen shows regex; the match."""
        try:
            self.child.expect(regex)
        except self.pexpect.EOF:
            self.fail("the program ended before /%s/" % regex)
        except self.pexpect.TIMEOUT:
            self.fail("no /%s/ within %ds" % (regex, STEP_TIMEOUT))
        return self.child.match

    def prompt(self, regex):
        """Wait for a prompt matching regex to be shown whole (up to its
        colon, the last thing on the screen), so what is typed next is not
        lost to a terminal flush."""
        flags = re.match(r"(\(\?[a-z]+\))?(.*)", regex, re.S)
        return self.expect("%s(?:%s)[^\n]*:[ ]?$" % (flags.group(1) or "", flags.group(2)))

    def type(self, text):
        self.child.sendline(text)

    def password(self, password, lang="en"):
        """At the password prompt (the module's or pam_unix's), type it."""
        self.prompt(PASSWORD_PROMPT[lang])
        self.type(password)

    def signed_in(self, person):
        """The session ran as person."""
        who = self.expect(SIGNED_IN).group(1)
        if who != person.name:
            self.fail("signed in as %s, not %s" % (who, person.name))

    def ran_as(self, person):
        """The session ran as person, to its end: its exit status."""
        self.signed_in(person)
        return self.end()[1]

    def end(self):
        """Wait for the program to end; the screen since the last expect
        and the exit status."""
        try:
            self.child.expect(self.pexpect.EOF)
        except self.pexpect.TIMEOUT:
            self.fail("did not end within %ds" % STEP_TIMEOUT)
        rest = self.child.before
        self.child.close()
        return rest, self.child.exitstatus

    def close(self):
        if self.child.isalive():
            self.child.close(force=True)


def verify(term, portal, person, password=pt.STRONG, words=pt.EN):
    """A pending user's conversation of DESIGN.md at a terminal, up to and
    including the second typing of the new password."""
    before = len(pt.code_mails(portal, person.address))
    term.expect(words["intro"])
    term.prompt(words["email"])
    term.type(person.address)
    term.expect(words["sent"])
    term.prompt(words["code"])
    term.type(pt.wait_code(portal, person.address, before + 1))
    term.expect(words["verified"])
    term.prompt(words["continue"])
    term.type("")
    term.prompt(words["new_password"])
    term.type(password)
    term.prompt(words["again"])
    term.type(password)


def make_active(portal, person):
    """Take a pending member through the conversation by the libpam driver
    (pamconv): the setup of the tests that start from an active member."""
    auth, _ = pt.full_flow(portal, portal.service("conv"), person.name, person.address)
    if state(portal, person) != "active":
        raise TestError("setup: %s is not active after the conversation (%s)"
                        % (person.name, auth))


def state(portal, person):
    """What portalctl user show says of the state."""
    rc, out, err = portal.ctl("user", "show", person.name)
    if rc != 0:
        raise TestError("portalctl user show %s: %d %s" % (person.name, rc, err))
    m = re.search(r"(?im)^(?:state|état):\s*(\w+)", out)
    return m.group(1).lower() if m else out


# ---- sshd ------------------------------------------------------------------

SSHD_OPTIONS = {
    "ListenAddress": "127.0.0.1",
    "PidFile": "none",
    "UsePAM": "yes",
    "KbdInteractiveAuthentication": "yes",
    "PasswordAuthentication": "no",
    "PubkeyAuthentication": "yes",
    "PermitRootLogin": "no",
    "AllowUsers": "pptest-*",
    # the keys live in the scratch folder, under /tmp (mode 1777)
    "StrictModes": "no",
    "UseDNS": "no",
    "PrintMotd": "no",
    "PrintLastLog": "no",
    "LogLevel": "VERBOSE",
}


class Sshd:
    """Debian's sshd on a loopback port, run as /…/pptest-sshd so that its
    PAM service is pptest-sshd.  options: sshd_config keywords over
    SSHD_OPTIONS (e.g. KbdInteractiveAuthentication="no")."""

    def __init__(self, sandbox, **options):
        self.sandbox = sandbox
        self.dir = os.path.join(sandbox.dir, "sshd")
        os.mkdir(self.dir, 0o755)
        self.keys = os.path.join(self.dir, "authorized_keys")
        os.mkdir(self.keys, 0o755)
        self.options = dict(SSHD_OPTIONS, **options)
        self.options["HostKey"] = os.path.join(self.dir, "host_key")
        self.options["AuthorizedKeysFile"] = os.path.join(self.keys, "%u")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.options["HostKey"]])
        self.program = os.path.join(self.dir, "pptest-sshd")
        os.symlink(SSHD, self.program)
        self.proc = None
        self.log_path = os.path.join(self.dir, "sshd.log")
        self.start()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def start(self):
        """On a port held for it (ports.py): sshd binds its listener with
        SO_REUSEADDR, so it takes the port while the test still holds it,
        and nobody else can take it in between."""
        Cleanup.add(self.stop)
        held = ReservedPort()
        Cleanup.add(held.release)
        self.port = held.port
        conf = os.path.join(self.dir, "sshd_config")
        with open(conf, "w") as f:
            f.write("Port %d\n" % self.port)
            f.writelines("%s %s\n" % kv for kv in self.options.items())
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                self.sandbox.argv([self.program, "-D", "-e", "-f", conf]),
                stdout=log, stderr=subprocess.STDOUT, env={"PATH": PATH})
        ready = wait_for("sshd to listen on port %d" % self.port, self._ready, pt.START_TIMEOUT)
        held.release()
        if ready == "exited" or self.proc.poll() is not None:
            raise TestError("sshd exited with %s: %s" % (self.proc.returncode,
                                                         self.log()[-1500:]))

    def _ready(self):
        """True once sshd says its banner; "exited" when it ended."""
        if self.proc.poll() is not None:
            return "exited"
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                return s.recv(64).startswith(b"SSH-2.0-")
        except OSError:
            return False

    def stop(self):
        """Kill unshare (it ignores SIGTERM while it waits for its child):
        its child, sshd, dies with it (--kill-child), and the kernel then
        kills whatever else lives in the namespace, the sessions too."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def authorize(self, person, public_key):
        """Let person in with this public key (one authorized_keys line)."""
        with open(os.path.join(self.keys, person.name), "a") as f:
            f.write(public_key.strip() + "\n")

    def key_for(self, person):
        """A new key pair authorized for person; the private key's path."""
        path = os.path.join(self.dir, "id_" + person.name)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", person.name, "-f", path])
        with open(path + ".pub") as f:
            self.authorize(person, f.read())
        return path

    def ssh(self, person, auth="keyboard-interactive", tries=3, key=None,
            command=SIGNED_IN_COMMAND, options=()):
        """`ssh person@127.0.0.1 command` on a terminal, offering only the
        methods of auth (with key: the private key for publickey); options:
        more `-o` settings of the client."""
        argv = ["ssh", "-F", "/dev/null", "-p", str(self.port),
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=" + os.path.join(self.dir, "known_hosts"),
                "-o", "PreferredAuthentications=" + auth,
                "-o", "NumberOfPasswordPrompts=%d" % tries,
                "-o", "IdentitiesOnly=yes"]
        argv += ["-i", key] if key else ["-o", "PubkeyAuthentication=no"]
        for o in options:
            argv += ["-o", o]
        return Terminal(argv + ["%s@127.0.0.1" % person.name, command], self.sandbox)
