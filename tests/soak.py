#!/usr/bin/python3
"""soak.py - a bounded mixed load on the real helper (make soak).

    SOAK_TIME=180 SOAK_CONVERSATIONS=200 BUILD=build python3 tests/soak.py

SOAK_CONVERSATIONS conversations run at once (each a pamconv process
through libpam and the module), for SOAK_TIME seconds, against one
portald and a local SMTP server (tests/smtpserver.py), of every kind:

  verify     a pending user: address, code from the mail, password twice
  signin     an active user with the right password
  badpass    an active user with a wrong one (then the right one, so that
             nobody stays locked)
  wrongcode  a pending user: address, a wrong code, cancel
  resend     a pending user: address, r, cancel
  elsewhere  a pending user who types an address not on file (no mail)
  cancel     a pending user who cancels at the address
  admin      portalctl status, user show, outbox

At the end it waits for the outbox to empty, then reports conversations
completed and errors per kind, mails queued (as `portalctl outbox` and the
conversations count them) against mails delivered, mails delivered twice,
and portald's VmRSS and VmHWM at the start and at the end.  The last line
is "N passed, N failed" over its checks: nothing lost, nothing sent twice,
no error, memory that did not keep growing.
"""
import collections
import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, STRONG, Mail, Portal, TestError, check, enter_code_and_password,
                        run_tests, test)
import portaltest

SOAK_TIME = float(os.environ.get("SOAK_TIME", "180"))
CONVERSATIONS = int(os.environ.get("SOAK_CONVERSATIONS", "200"))
POOL = int(os.environ.get("SOAK_USERS", "20000"))
KINDS = {"verify": 3, "signin": 4, "badpass": 1, "wrongcode": 1, "resend": 1,
         "elsewhere": 1, "cancel": 1, "admin": 1}
# A conversation under this load can wait long for an Argon2id slot.
portaltest.STEP_TIMEOUT = 120
MAIL_WAIT = 120


def memory(pid):
    """VmRSS and VmHWM of a process, in kB."""
    with open("/proc/%d/status" % pid) as f:
        text = f.read()
    return {k: int(re.search(r"%s:\s+(\d+) kB" % k, text).group(1)) for k in ("VmRSS", "VmHWM")}


class Mailbox:
    """The SMTP server's mail, read once each, by recipient: workers wait
    on a condition instead of each listing the folder."""

    def __init__(self, maildir):
        self.maildir = maildir
        self.seen = set()
        self.by_rcpt = collections.defaultdict(list)
        self.ids = collections.Counter()
        self.cond = threading.Condition()
        self.stop = threading.Event()
        self.scanner = threading.Thread(target=self._scan, daemon=True)
        self.scanner.start()

    def _scan_once(self):
        try:
            names = sorted(n for n in os.listdir(self.maildir)
                           if n.endswith(".eml") and n not in self.seen)
        except FileNotFoundError:
            names = []
        for n in names:
            m = Mail(os.path.join(self.maildir, n))
            with self.cond:
                self.seen.add(n)
                self.ids[m.header("Message-ID")] += 1
                for r in m.rcpt:
                    self.by_rcpt[r].append(m.code)
                self.cond.notify_all()

    def _scan(self):
        while not self.stop.wait(0.05):    # polling interval of the folder
            self._scan_once()

    def settle(self):
        """Stop the scanning and take in what it has not seen yet: once
        the outbox is idle, every mail portald sent is in the folder."""
        self.stop.set()
        self.scanner.join()
        self._scan_once()

    def codes(self, addr):
        with self.cond:
            return [c for c in self.by_rcpt[addr] if c]

    def wait_code(self, addr, n):
        end = time.monotonic() + MAIL_WAIT
        with self.cond:
            while True:
                codes = [c for c in self.by_rcpt[addr] if c]
                if len(codes) >= n:
                    return codes[n - 1]
                left = end - time.monotonic()
                if left <= 0:
                    raise TestError("no code mail %d for %s" % (n, addr))
                self.cond.wait(left)

    def count(self):
        with self.cond:
            return len(self.seen)


class Soak:
    def __init__(self):
        self.p = Portal(resend_interval="0s", codes_per_hour=100, code_attempts=5,
                        max_failures=10000, lockout="1s")
        self.svc = self.p.service("login")
        self.lock = threading.Lock()
        self.pending = list("s%05d" % i for i in range(POOL))
        random.shuffle(self.pending)
        self.active = []
        self.done = collections.Counter()
        self.errors = collections.Counter()
        self.samples = []
        self.queued = 0          # mails the conversations were told were sent
        self.mail = Mailbox(self.p.smtpd.maildir)
        self.mine = threading.local()

    def dialog(self, user):
        """A conversation that its worker stops, whatever happened to it."""
        d = self.p.dialog(self.svc, user)
        self.mine.dialogs.append(d)
        return d

    def take_pending(self):
        with self.lock:
            return self.pending.pop() if self.pending else None

    def take_active(self):
        with self.lock:
            return random.choice(self.active) if self.active else None

    def error(self, kind, why):
        with self.lock:
            self.errors[kind] += 1
            if sum(self.errors.values()) <= 10:
                print("# error in %s: %s" % (kind, str(why)[:600]), flush=True)

    # -- the kinds --

    def address(self, user, addr=None):
        d = self.dialog(user)
        d.until("ECHO_ON", EN["email"])
        d.answer(addr or user + "@example.org")
        d.expect("INFO", EN["sent"])
        d.expect("ECHO_ON", EN["code"])
        if addr is None:
            with self.lock:
                self.queued += 1
        return d

    def cancel_at(self, d):
        d.answer("q")
        d.expect("INFO", EN["cancelled"])
        if d.result()[0] != "PAM_AUTH_ERR":
            raise TestError("a cancelled conversation did not end in PAM_AUTH_ERR")

    def k_verify(self, user):
        d = self.address(user)
        enter_code_and_password(d, self.mail.wait_code(user + "@example.org", 1))
        d.expect("INFO", EN["created"])
        if d.result()[0] != "PAM_AUTH_ERR":
            raise TestError("after_reset=relogin: expected PAM_AUTH_ERR")
        with self.lock:
            self.queued += 1     # the notice
            self.active.append(user)

    def sign_in(self, user, password):
        d = self.dialog(user)
        d.expect("ECHO_OFF", EN["password"])
        d.answer(password)
        return d.result()[0]

    def k_signin(self, user):
        auth = self.sign_in(user, STRONG)
        if auth != "PAM_SUCCESS":
            raise TestError("right password: %s" % auth)

    def k_badpass(self, user):
        auth = self.sign_in(user, "not the password at all 123")
        if auth != "PAM_AUTH_ERR":
            raise TestError("wrong password: %s" % auth)

    def k_wrongcode(self, user):
        d = self.address(user)
        d.answer("00000000")      # eight digits: never a six-digit code
        d.expect("ERROR", r"(?i)not a verification code|not right")
        d.expect("ECHO_ON", EN["code"])
        self.cancel_at(d)

    def k_resend(self, user):
        d = self.address(user)
        d.answer("r")
        d.expect("INFO", r"(?i)new verification code has been sent")
        d.expect("ECHO_ON", EN["code"])
        with self.lock:
            self.queued += 1
        self.cancel_at(d)

    def k_elsewhere(self, user):
        self.cancel_at(self.address(user, "someone.else@example.net"))

    def k_cancel(self, user):
        d = self.dialog(user)
        d.until("ECHO_ON", EN["email"])
        d.answer("q")
        d.expect("INFO", EN["cancelled"])
        d.result()

    def k_admin(self, user):
        for args in (("status",), ("user", "show", user), ("outbox",)):
            if self.p.ctl(*args)[0] != 0:
                raise TestError("portalctl %s failed" % " ".join(args))

    # -- the load --

    def one(self, kind):
        needs_active = kind in ("signin", "badpass")
        user = self.take_active() if needs_active else self.take_pending()
        if user is None:
            kind, user = "verify", self.take_pending()
            if user is None:
                return
        try:
            getattr(self, "k_" + kind)(user)
            with self.lock:
                self.done[kind] += 1
        except TestError as e:
            self.error(kind, e)
        finally:
            for d in self.mine.dialogs:
                d.kill()
            self.mine.dialogs = []

    def worker(self, end, seed):
        rnd = random.Random(seed)
        self.mine.dialogs = []
        kinds = [k for k, w in KINDS.items() for _ in range(w)]
        while time.monotonic() < end:
            self.one(rnd.choice(kinds))

    def sampler(self, end):
        while time.monotonic() < end:
            self.samples.append((time.monotonic(), memory(self.p.proc.pid)))
            time.sleep(min(10, max(0.1, end - time.monotonic())))

    def run(self):
        rc, _, err = self.p.ctl("import", "-", input="".join(
            "%s,%s@example.org\n" % (u, u) for u in self.pending))
        check("soak: %d users imported" % POOL, rc == 0, err)
        start_mem = memory(self.p.proc.pid)
        t0 = time.monotonic()
        end = t0 + SOAK_TIME
        threads = [threading.Thread(target=self.worker, args=(end, i))
                   for i in range(CONVERSATIONS)]
        threads.append(threading.Thread(target=self.sampler, args=(end,)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ran = time.monotonic() - t0
        mid_mem = memory(self.p.proc.pid)

        # The outbox empties, then the mail is counted.
        try:
            self.p.wait_outbox_idle(timeout=MAIL_WAIT)
        except TestError as e:   # said, then counted as it is
            check("soak: the outbox empties after the load", False, e)
        statuses = collections.Counter(
            m for m in
            re.findall(r"(?m)^[0-9a-f]{24}\s+\S+\s+\S+\s+([a-z-]+)",
                       self.p.ctl("outbox")[1]))
        self.mail.settle()
        delivered = self.mail.count()
        twice = sum(n - 1 for n in self.mail.ids.values() if n > 1)
        replaced = len(re.findall(r"expired: replaced", self.p.ctl("outbox")[1]))
        end_mem = memory(self.p.proc.pid)

        total = sum(self.done.values())
        print("# soak: %.0f s, %d conversations at once" % (ran, CONVERSATIONS))
        print("# conversations completed: %d (%s)" % (total, ", ".join(
            "%s %d" % (k, self.done[k]) for k in KINDS)))
        print("# errors: %d (%s)" % (sum(self.errors.values()), dict(self.errors)))
        print("# mails queued: %d (outbox: %s); delivered: %d; replaced by a newer code before "
              "sending: %d; delivered twice: %d" % (self.queued, dict(statuses), delivered,
                                                    replaced, twice))
        print("# portald memory: start VmRSS %d kB VmHWM %d kB; end of load VmRSS %d kB "
              "VmHWM %d kB; after the outbox emptied VmRSS %d kB VmHWM %d kB"
              % (start_mem["VmRSS"], start_mem["VmHWM"], mid_mem["VmRSS"], mid_mem["VmHWM"],
                 end_mem["VmRSS"], end_mem["VmHWM"]))
        for t, m in self.samples:
            print("#   t=%4.0f s VmRSS %d kB" % (t - t0, m["VmRSS"]))
        check("soak: conversations completed", total > 0, total)
        check("soak: no conversation failed", not self.errors, dict(self.errors))
        check("soak: no mail lost (queued = delivered + replaced)",
              self.queued == delivered + replaced and statuses.get("queued", 0) == 0,
              "queued %d, delivered %d, replaced %d, outbox %s"
              % (self.queued, delivered, replaced, dict(statuses)))
        check("soak: no mail delivered twice", twice == 0, twice)
        # A leak shows once the load is gone: portald idle again should
        # hold about what it held idle before (Argon2id's buffers come and
        # go with the hashes, so samples under load are only shown).
        growth = end_mem["VmRSS"] - start_mem["VmRSS"]
        check("soak: memory flat: idle VmRSS grew %d kB over the run" % growth,
              growth < 16384, (start_mem, end_mem))
        self.p.stop_checked("soak: portald stops cleanly")


@test
def soak():
    Soak().run()


if __name__ == "__main__":
    sys.exit(run_tests())
