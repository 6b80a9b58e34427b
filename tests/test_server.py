#!/usr/bin/python3
"""test_server.py - portald's socket, event loop and signals, from outside.

Starts the real portald -f with a config in a temp folder and speaks the
wire protocol to it directly.  Prints "PASS name" / "FAIL name: why" lines.

The binary is $PORTALD, else $BUILD/portald, else build/portald.
Synchronisation is on events (a log line, a reply, EOF), never on sleeps.
"""
import os
import queue
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire
from portaltest import ROOT, START_TIMEOUT, STEP_TIMEOUT, bound
from ports import ReservedPort
from wire import (PROTO_RESPONSE, REQ_DAEMON_STATUS, REQ_STATUS, RESULT_BAD_REQUEST, RESULT_BUSY,
                  RESULT_OK, TAG_RESULT, at_eof, frame)

PORTALD = os.environ.get("PORTALD") or os.path.join(
    ROOT, os.environ.get("BUILD", "build"), "portald")

MAX_CONNS = 512
MAX_CONNS_PER_UID = 32
NOBODY = 65534
FRAME_TIMEOUT = 10      # seconds a begun frame may take (portald(8))
# Where the daemons would send mail (they never have any): a port held
# with nobody listening, for the whole run.
NO_SMTP = ReservedPort()
failures = 0


def report(name, ok, why=""):
    global failures
    if ok:
        print("PASS " + name)
    else:
        failures += 1
        print("FAIL %s: %s" % (name, why))
    sys.stdout.flush()


def read_response(s):
    """(type, {tag: [data...]}) of the next frame on s."""
    r = wire.read_response(s)
    return r.type, r.fields


def result_of(fields):
    return struct.unpack(">I", fields[TAG_RESULT][0])[0] if TAG_RESULT in fields else None


class Daemon:
    """portald -f in a temp folder; its stderr is collected line by line."""

    def __init__(self, tmp, name="d"):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "portald.conf")
        # The socket's own directory does not exist yet: portald makes it.
        self.sock = os.path.join(self.dir, "run", "portald.sock")
        self.write_conf()
        self.proc = None
        self.lines = queue.Queue()
        self.log = []

    def write_conf(self, extra="", socket_path=None, org="Test College"):
        with open(self.conf, "w") as f:
            f.write("cutover = 2023-10-30\norganization = %s\n"
                    "language = en\nsocket = %s\ndatabase = %s\n"
                    "smtp_server = 127.0.0.1:%d\nmail_from = portal@example.org\n%s"
                    % (org, socket_path or self.sock, os.path.join(self.dir, "portal.db"),
                       NO_SMTP.port, extra))

    def start(self):
        self.lines = queue.Queue()
        self.proc = subprocess.Popen([PORTALD, "-f", "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._reader, args=(self.proc, self.lines),
                         daemon=True).start()
        return self.wait_log("listening on", START_TIMEOUT) is not None

    @staticmethod
    def _reader(proc, lines):
        for line in proc.stderr:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    def wait_log(self, text, timeout=STEP_TIMEOUT):
        """The first new log line containing text, or None (timeout or exit)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                self.lines.put(None)
                return None
            self.log.append(line)
            if text in line:
                return line

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A blocking connect waits (up to SO_SNDTIMEO) while the listen
        # backlog is full; a Python timeout would make it fail with EAGAIN.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", STEP_TIMEOUT, 0))
        s.connect(self.sock)
        s.settimeout(STEP_TIMEOUT)
        return s

    def request(self, s, ftype=REQ_DAEMON_STATUS, body=b""):
        s.sendall(frame(ftype, body))
        return read_response(s)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def run(args):
    """portald with args, in English whatever the caller's locale."""
    env = dict(os.environ, LC_ALL="C.UTF-8")
    p = subprocess.run([PORTALD] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=STEP_TIMEOUT, env=env)
    return p.returncode, p.stdout + p.stderr


def test_usage(tmp):
    rc, out = run(["-V"])
    report("portald -V prints the version", rc == 0 and out.startswith("portald "), out)
    rc, out = run(["-h"])
    report("portald -h prints usage and exits 0", rc == 0 and "Usage: portald" in out, out)
    rc, out = run(["-x"])
    report("unknown option is bad usage (exit 2), named, with a hint to --help",
           rc == 2 and "unknown option: -x" in out and "portald --help" in out,
           "rc=%d %r" % (rc, out))
    rc, out = run(["-f", "extra"])
    report("stray argument is bad usage (exit 2)", rc == 2, "rc=%d" % rc)
    missing = os.path.join(tmp, "nope.conf")
    rc, out = run(["-f", "-c", missing])
    report("missing config file: exit 1 naming the file",
           rc == 1 and missing in out, "rc=%d %r" % (rc, out))
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("cutover = 2023-10-30\ncode_length = 99\n")
    rc, out = run(["-f", "-c", bad])
    report("bad config key: exit 1 naming file, line and key",
           rc == 1 and bad + ":2" in out and "code_length" in out, "rc=%d %r" % (rc, out))


def test_basics(d):
    st = os.lstat(d.sock)
    report("socket is a socket, mode 0666",
           stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o666,
           oct(st.st_mode))
    dst = os.stat(os.path.dirname(d.sock))
    report("missing socket directory made with mode 0755",
           stat.S_IMODE(dst.st_mode) == 0o755, oct(dst.st_mode))

    with d.connect() as s:
        ftype, fields = d.request(s)
        report("daemon status answered with a response frame",
               ftype == PROTO_RESPONSE and result_of(fields) == RESULT_OK,
               "type %d result %r" % (ftype, result_of(fields)))
        ftype, fields = d.request(s)
        report("second request on the same connection answered",
               ftype == PROTO_RESPONSE and result_of(fields) == RESULT_OK, repr(fields))
        # Two requests in one write: both answered, in order.
        s.sendall(frame(REQ_DAEMON_STATUS) * 2)
        ok = all(result_of(read_response(s)[1]) == RESULT_OK for _ in range(2))
        report("pipelined requests both answered", ok)

    # Status look-ups are answered by the event loop itself, not a worker:
    # the same, on a connection kept for several, and mixed with others.
    status = frame(REQ_STATUS, wire.field(wire.TAG_USER, b"nobody-here"))
    with d.connect() as s:
        got = []
        for data in (status, status, frame(REQ_DAEMON_STATUS), status):
            s.sendall(data)
            ftype, fields = read_response(s)
            got.append(result_of(fields))
        report("status look-ups, one connection, one after another: all answered",
               got == [RESULT_OK] * 4, repr(got))
        s.sendall(status * 3)
        got = [result_of(read_response(s)[1]) for _ in range(3)]
        report("pipelined status look-ups all answered", got == [RESULT_OK] * 3, repr(got))

    for name, data in [("garbage header", b"GARBAGE!"),
                       ("wrong version", frame(REQ_DAEMON_STATUS, version=9)),
                       ("body over the limit", wire.header(REQ_DAEMON_STATUS, 1 << 20)),
                       ("field longer than the body",
                        frame(REQ_DAEMON_STATUS, bytes([2, 0, 50]) + b"x"))]:
        with d.connect() as s:
            s.sendall(data)
            try:
                ftype, fields = read_response(s)
                res = result_of(fields)
                report(name + ": bad request, then closed",
                       res == RESULT_BAD_REQUEST and at_eof(s), "result %r" % res)
            except (EOFError, OSError, ValueError) as e:
                report(name + ": bad request, then closed", False, str(e))
    with d.connect() as s:
        ftype, fields = d.request(s)
        report("still serving after bad requests", result_of(fields) == RESULT_OK)


def test_second_instance(d):
    rc, out = run(["-f", "-c", d.conf])
    report("second portald on a live socket refuses to start",
           rc == 1 and "already running" in out, "rc=%d %r" % (rc, out))
    with d.connect() as s:
        report("first portald unharmed by the second",
               result_of(d.request(s)[1]) == RESULT_OK)


def test_connection_cap(tmp):
    """A fresh daemon, so no other connection is open.  511 idle or half-sent
    connections do not stall a request; past the cap, RESULT_BUSY and close."""
    d = Daemon(tmp, "cap")
    if not d.start():
        report("connection cap: portald started", False, "\n".join(d.log))
        d.stop()
        return
    idle = []
    try:
        for i in range(MAX_CONNS - 1):
            s = d.connect()
            if i % 5 == 0:
                s.sendall(b"PP\x01")      # a frame begun and never finished
            idle.append(s)
        with d.connect() as s:
            t0 = time.monotonic()
            res = result_of(d.request(s)[1])
            took = time.monotonic() - t0
            # Held up by the half-sent frames, it would wait for their time-out.
            report("request answered beside %d idle connections" % len(idle),
                   res == RESULT_OK and took < bound(5, cap=FRAME_TIMEOUT - 1),
                   "result %r after %.1f s" % (res, took))
            # The cap is full now (511 + this one): more are refused.
            busy = 0
            past = 44
            for _ in range(past):
                with d.connect() as extra:
                    try:
                        if result_of(read_response(extra)[1]) == RESULT_BUSY and at_eof(extra):
                            busy += 1
                    except (EOFError, OSError, ValueError):
                        pass
            report("connections past the cap get RESULT_BUSY and are closed",
                   busy == past, "%d of %d" % (busy, past))
        res = result_of(d.request(idle[1])[1])
        report("an idle connection is still served after the refusals", res == RESULT_OK)
    finally:
        for s in idle:
            s.close()
        d.stop()


def test_per_user_cap(d):
    """One user other than root cannot take every slot: past its share it
    gets RESULT_BUSY, and root is still served."""
    if os.geteuid() != 0:
        return      # needs root to connect as another user
    # nobody must be able to reach the socket; SO_PEERCRED takes the euid.
    for path in (os.path.dirname(d.dir), d.dir):
        os.chmod(path, 0o711)
    mine = []
    try:
        os.seteuid(NOBODY)
        for _ in range(MAX_CONNS_PER_UID):
            mine.append(d.connect())
        res = result_of(d.request(mine[0])[1])
        with d.connect() as extra:
            try:
                busy = result_of(read_response(extra)[1]) == RESULT_BUSY and at_eof(extra)
            except (EOFError, OSError, ValueError):
                busy = False
    finally:
        os.seteuid(0)
    # Daemon status is for root: the answer may be a refusal, but an answer.
    report("a user's own connections are answered", res not in (None, RESULT_BUSY),
           "result %r" % res)
    report("a user past %d connections gets RESULT_BUSY" % MAX_CONNS_PER_UID, busy)
    with d.connect() as s:
        report("root is served while a user holds its share",
               result_of(d.request(s)[1]) == RESULT_OK)
    for s in mine:
        s.close()


def test_frame_timeout(d):
    """A frame begun and not finished is dropped FRAME_TIMEOUT after its
    first byte: not before, and not much later."""
    late = FRAME_TIMEOUT + bound(5)
    with d.connect() as s:
        s.settimeout(late + STEP_TIMEOUT)
        s.sendall(b"PP")
        t0 = time.monotonic()
        try:
            closed = at_eof(s)
        except TimeoutError:
            closed = False
        took = time.monotonic() - t0
        report("unfinished frame closed after %d s" % FRAME_TIMEOUT,
               closed and FRAME_TIMEOUT - 1 <= took < late,
               "closed=%r after %.1f s" % (closed, took))


def test_reload(d):
    d.write_conf("code_length = 99\n")
    d.proc.send_signal(signal.SIGHUP)
    line = d.wait_log("reload")
    report("SIGHUP with a broken file: logged, old config kept",
           line is not None and "code_length" in line, repr(line))
    other = os.path.join(d.dir, "elsewhere.sock")
    d.write_conf(socket_path=other, org="Renamed College")
    d.proc.send_signal(signal.SIGHUP)
    line = d.wait_log("socket changed")
    done = d.wait_log("configuration reloaded")
    report("SIGHUP changing the socket: reloaded, restart asked for it",
           line is not None and done is not None and os.path.exists(d.sock)
           and not os.path.exists(other), "\n".join(d.log[-5:]))
    with d.connect() as s:
        report("serving after reloads", result_of(d.request(s)[1]) == RESULT_OK)


def test_stop(d):
    # A connection left open must not hold the stop up.
    s = d.connect()
    rc = d.stop()
    report("SIGTERM: exit 0", rc == 0, "rc=%r" % rc)
    report("SIGTERM: logs stopped", d.wait_log("stopped") is not None, "\n".join(d.log))
    report("SIGTERM: socket removed", not os.path.exists(d.sock))
    report("SIGTERM: open connection closed", at_eof(s))
    s.close()


def test_stale(tmp):
    d = Daemon(tmp, "stale")
    started = d.start()
    d.stop(signal.SIGKILL)
    left = os.path.exists(d.sock)
    again = started and left and d.start()
    report("socket left by a killed portald is replaced on start",
           again and any("removed the stale socket" in l for l in d.log), "\n".join(d.log))
    if again:
        with d.connect() as s:
            report("restarted portald serves", result_of(d.request(s)[1]) == RESULT_OK)
    d.stop()
    os.makedirs(os.path.dirname(d.sock), exist_ok=True)
    with open(d.sock, "w"):
        pass
    rc, out = run(["-f", "-c", d.conf])
    report("a file that is not a socket at the path is not replaced",
           rc == 1 and "not a socket" in out and os.path.isfile(d.sock), "rc=%d %r" % (rc, out))


def main():
    if not os.access(PORTALD, os.X_OK):
        report("portald binary present", False, PORTALD + " not built")
        return 1
    with tempfile.TemporaryDirectory(prefix="portald-test-") as tmp:
        test_usage(tmp)
        test_connection_cap(tmp)
        test_stale(tmp)
        d = Daemon(tmp)
        if not d.start():
            report("portald starts and listens", False, "\n".join(d.log))
            d.stop()
            return 1
        timeout_thread = threading.Thread(target=test_frame_timeout, args=(d,))
        timeout_thread.start()
        try:
            test_basics(d)
            test_second_instance(d)
            test_per_user_cap(d)
            test_reload(d)
            timeout_thread.join()
        finally:
            test_stop(d)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
