#!/usr/bin/python3
"""pgserver.py - a private PostgreSQL for a test: Debian's postgresql-15
binaries, a cluster made with initdb in a temporary folder, its UNIX socket
in that folder and no TCP (unless tcp=True: then on a loopback port held
for it, tests/ports.py), never the system's cluster.

initdb refuses to run as root: as root the cluster belongs to a throwaway
account (tests/sysuser.py) that owns the folder; as anyone else, to the
caller.  Everything (the server, the folder, the account) goes when the
test ends, when Python exits, and on SIGINT, SIGTERM or SIGHUP: the
servers are stopped first, since an account that still runs a process
cannot be removed.

  srv = PgServer()                 # initdb + start: ~0.6 s
  srv.template(sql)                # a template database holding sql
  db = srv.fresh()                 # a new database from it: milliseconds
  srv.conninfo(db)                 # "host=DIR port=N dbname=db user=portal"
  srv.psql(db, "SELECT 1")         # psql's output
  srv.stop(); srv.start()          # the same cluster again
  rep = srv.replica()              # a streaming standby (pg_basebackup -R)
  srv.remove()

Run as a program (`pgserver.py --serve [--replica]`) it starts a server
(and a standby), prints "CONNINFO <conninfo without a dbname>" and
"READY", fails over when it reads "failover", and stops and removes it
all when its standard input closes: the C unit tests start it so
(tests/unit_storage.c).
"""
import atexit
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sysuser  # noqa: E402  (its signal handlers are chained after ours)

BIN = "/usr/lib/postgresql/15/bin"
ROLE = "portal"             # the superuser initdb makes
START_TIMEOUT = 60
_servers = []


def available():
    return os.path.exists(os.path.join(BIN, "initdb"))


_shared = None


def shared():
    """The one server a test file's tests share, started when first asked
    for; removed at exit like every other."""
    global _shared
    if _shared is None:
        _shared = PgServer()
    return _shared


def _stop_all():
    for s in list(_servers):
        s.remove()


_previous = {}


def _on_signal(sig, frame):
    _stop_all()
    prev = _previous.get(sig)
    if callable(prev):
        prev(sig, frame)
    else:
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)


atexit.register(_stop_all)        # runs before sysuser's (atexit is LIFO)
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    _previous[_sig] = signal.getsignal(_sig)
    signal.signal(_sig, _on_signal)


class PgServer:
    """One cluster.  port names the socket (DIR/.s.PGSQL.PORT); with tcp it
    is also a loopback port."""

    def __init__(self, port=5432, tcp=False, _from=None):
        if not available():
            raise RuntimeError("postgresql-15 is not installed (make deps)")
        self.account = sysuser.SystemUser() if os.geteuid() == 0 else None
        self.dir = tempfile.mkdtemp(prefix="pgtest-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port, self.tcp, self.running, self.databases = port, tcp, False, 0
        if self.account:
            os.chown(self.dir, self.account.uid, self.account.gid)
        _servers.append(self)
        if _from is None:
            self._initdb()
        else:
            self._basebackup(_from)
        self.start()

    # ---- running its programs as the cluster's owner ----------------------
    def _as_owner(self, argv):
        return self.account.as_user(argv) if self.account else list(argv)

    def _run(self, argv, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", START_TIMEOUT)
        check = kw.pop("check", True)
        r = subprocess.run(self._as_owner(argv), cwd=self.dir, **kw)
        if r.returncode != 0 and check:
            raise RuntimeError("%s failed (%d): %s%s" % (os.path.basename(argv[0]), r.returncode,
                                                         r.stdout, r.stderr))
        return r

    def _initdb(self):
        self._run([os.path.join(BIN, "initdb"), "-D", self.data, "-U", ROLE, "-A", "trust",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# tests/pgserver.py\n"
                    "listen_addresses = '%s'\n" % ("127.0.0.1" if self.tcp else "") +
                    "unix_socket_directories = '%s'\n" % self.dir +
                    "port = %d\n" % self.port +
                    # No fsync: a test's data must survive a killed process,
                    # which the kernel's cache sees to, not a power cut.
                    "fsync = off\nfull_page_writes = off\n"
                    "wal_level = replica\nmax_wal_senders = 4\n"
                    "shared_buffers = 16MB\nmax_connections = 60\n")
        with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
            f.write("local replication all trust\n")

    def _basebackup(self, primary):
        self._run([os.path.join(BIN, "pg_basebackup"), "-D", self.data, "-R", "-X", "stream", "-c", "fast",
                   "-h", primary.dir, "-p", str(primary.port), "-U", ROLE])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("unix_socket_directories = '%s'\nport = %d\n" % (self.dir, self.port))

    # ---- start and stop -------------------------------------------------
    def start(self):
        self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-l",
                   os.path.join(self.dir, "log"), "-w", "-t", str(START_TIMEOUT), "start"])
        self.running = True

    def stop(self, mode="fast"):
        """fast: as a shutdown does; immediate: as a crash would."""
        if self.running:
            self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"],
                      check=False)
        self.running = False

    def promote(self):
        self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-w", "promote"])

    def remove(self):
        self.stop("immediate")
        if self in _servers:
            _servers.remove(self)
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.account:
            self.account.remove()
            self.account = None

    def replica(self, port=None):
        """A streaming standby of this server, running, in a folder of its own."""
        return PgServer(port=port or self.port + 1, _from=self)

    # ---- databases ----------------------------------------------------------
    def conninfo(self, db="postgres"):
        return "host=%s port=%d dbname=%s user=%s" % (self.dir, self.port, db, ROLE)

    def server_conninfo(self):
        """The conninfo without a database: add dbname=NAME."""
        return "host=%s port=%d user=%s" % (self.dir, self.port, ROLE)

    def psql(self, db, sql, check=True):
        r = self._run([os.path.join(BIN, "psql"), "-X", "-q", "-A", "-t", "-v",
                       "ON_ERROR_STOP=1", "-h", self.dir, "-p", str(self.port), "-U", ROLE,
                       "-d", db, "-c", sql], check=check)
        return r.stdout.strip()

    def template(self, sql, name="portal_template"):
        """A database holding sql, that fresh() copies."""
        self.psql("postgres", "CREATE DATABASE %s" % name)
        r = self._run([os.path.join(BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                       "-h", self.dir, "-p", str(self.port), "-U", ROLE, "-d", name],
                      input=sql)
        self.template_name = name
        return r

    def fresh(self, template=None):
        """A new database (a copy of the template, when there is one)."""
        self.databases += 1
        name = "t%d_%s" % (self.databases, secrets.token_hex(3))
        tmpl = template or getattr(self, "template_name", None)
        self.psql("postgres", "CREATE DATABASE %s%s" % (name, " TEMPLATE " + tmpl if tmpl else ""))
        return name


def serve(replica=False):
    """Run a server (and with replica a streaming standby of it) until
    standard input closes.  With a standby the conninfo names both, the
    primary first, with target_session_attrs=read-write, as a fleet's
    machines would; the line "failover" stops the primary and promotes
    the standby, then "DONE" is printed."""
    srv = PgServer()
    servers = [srv]
    try:
        info = srv.server_conninfo()
        if replica:
            rep = srv.replica()
            servers.append(rep)
            info = "host=%s,%s port=%d,%d user=%s target_session_attrs=read-write" % (
                srv.dir, rep.dir, srv.port, rep.port, ROLE)
        print("CONNINFO " + info, flush=True)
        print("READY", flush=True)
        for line in sys.stdin:
            if line.strip() == "failover" and replica:
                srv.stop("fast")
                rep.promote()
                print("DONE", flush=True)
    finally:
        for s in reversed(servers):
            s.remove()


if __name__ == "__main__":
    if sys.argv[1:] in (["--serve"], ["--serve", "--replica"]):
        serve(replica="--replica" in sys.argv)
    else:
        print(__doc__)
        sys.exit(2)
