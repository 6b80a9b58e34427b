#!/usr/bin/python3
"""test_crash.py - whatever portald acknowledged survives `kill -9`.

A stream of real work runs against the helper (portalctl user add and
import, code conversations through the module, wrong codes up to a
lockout, passwords created) while another thread kills portald with
SIGKILL at random moments and starts it again at once.  Every answer a
client got is written down as it comes; at the end portald is killed
once more, started (it must open the database, recovering it if GDBM
says it must), and every acknowledged write is looked for:

  user added / imported     the user is in the directory
  code sent                 a code mail reaches the address (the outbox
                            picks up after the restart)
  wrong code, n tries left  the failures are counted (at least as many)
  locked                    the user is locked
  password created          the user is active and signs in with it

Delivery is at least once: a mail the server took just before the kill,
before portald wrote "sent" down, goes out again; the count of such
repeats is printed as a note, not judged.
"""
import concurrent.futures
import os
import random
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, SLOW, STRONG, Portal, TestError, check, run_tests,
                        sign_in, test, wait_for)

KILLS = 8
# Between two kills: short enough to land inside requests, long enough
# for conversations to get somewhere.
KILL_GAP = (0, 0.3)
STEP_WAIT = 30 * SLOW
MAIL_WAIT = 6 * SLOW


class Acks:
    """What the helper acknowledged, written down by the threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = set()       # added or imported
        self.codes = set()       # a code mail was queued for them
        self.failures = {}       # user -> wrong codes acknowledged
        self.locked = set()
        self.passwords = set()   # created with STRONG
        self.conversations = 0
        self.cut = 0             # conversations the kill ended
        self.granted = []        # anything but a created password that let someone in

    def count(self, what):
        with self.lock:
            return len(getattr(self, what))

    def add(self, what, user):
        with self.lock:
            getattr(self, what).add(user)


def messages_until_prompt(d):
    """Messages up to the next prompt: ([(kind, text)], prompt kind, prompt
    text); the prompt kind is "RESULT" when the conversation ended."""
    seen = []
    while True:
        k, t = d.read()
        if k in ("ECHO_ON", "ECHO_OFF", "RESULT"):
            return seen, k, t
        seen.append((k, t))


def said(seen, regex):
    return any(re.search(regex, t) for _, t in seen)


def finish(d, acks, ended_text=None):
    """Read to the end; a conversation cut short must not have let anyone in."""
    if ended_text is None:
        d.close_input()
        while True:
            k, t = d.read()
            if k == "RESULT":
                ended_text = t
                break
    d.proc.wait(timeout=30 * SLOW)
    with acks.lock:
        acks.conversations += 1
        if "authenticate=PAM_SUCCESS" in ended_text:
            acks.granted.append(ended_text)
        if "PAM_AUTHINFO_UNAVAIL" in ended_text:
            acks.cut += 1


def code_flow(p, svc, user, acks, wrong_only):
    """One pending user's conversation, as far as the helper lets it go."""
    addr = user + "@example.org"
    d = p.dialog(svc, user)
    seen, k, t = messages_until_prompt(d)
    if k == "RESULT":
        return finish(d, acks, t)
    d.answer(addr)
    seen, k, t = messages_until_prompt(d)
    if said(seen, EN["sent"]):
        acks.add("codes", user)
    if k == "RESULT":
        return finish(d, acks, t)
    if wrong_only:
        return wrong_codes(d, user, acks)
    # The outbox is never idle in this stream (other conversations queue
    # mail all the time, portald is killed under them): the code is
    # waited for as its mail file appearing, and nothing is counted here.
    try:
        code = wait_for("the code mail", lambda: [m.code for m in p.smtpd.mails(addr) if m.code],
                        MAIL_WAIT)[-1]
    except TestError:
        d.answer("q")
        return finish(d, acks)
    for answer in (code, "", STRONG, STRONG):
        d.answer(answer)
        seen, k, t = messages_until_prompt(d)
        if k == "RESULT":
            if said(seen, EN["created"]):
                acks.add("passwords", user)
            return finish(d, acks, t)
    d.answer("q")
    finish(d, acks)


def wrong_codes(d, user, acks):
    """Wrong codes (ten digits: no lucky guess) until locked or cut off."""
    while True:
        d.answer("0123456789")
        seen, k, t = messages_until_prompt(d)
        m = re.search(r"(\d+|one) tr(?:y|ies) left", " ".join(x for _, x in seen))
        if m:
            n = 1 if m.group(1) == "one" else int(m.group(1))
            with acks.lock:
                acks.failures[user] = max(acks.failures.get(user, 0), 3 - n)
        if said(seen, r"(?i)locked"):
            acks.add("locked", user)
        if k == "RESULT":
            return finish(d, acks, t)


def admin_work(p, acks, stop, tag):
    """portalctl user add and import, over and over until the killer is
    done: it waits for more users acknowledged before some kills, so a
    fixed number of operations could all be over (on a fast machine)
    before it asks."""
    n = 0
    while not stop.is_set():
        n += 1
        if n % 3:
            name = "%sa%d" % (tag, n)
            if p.ctl("user", "add", name, name + "@example.org")[0] == 0:
                acks.add("users", name)
            continue
        names = ["%si%d_%d" % (tag, n, i) for i in range(20)]
        csv = "".join("%s,%s@example.org\n" % (x, x) for x in names)
        if p.ctl("import", "-", input=csv)[0] == 0:
            for x in names:
                acks.add("users", x)


def fresh_users(p, users, acks, tag):
    """The users given, then new ones added one at a time: a stream that
    ran out of users would acknowledge nothing more, and the killer would
    wait in vain for its kind of progress (a wrong-code stream locks its
    hundred users in seconds on a fast machine)."""
    yield from users
    n = 0
    while True:
        n += 1
        name = "%s%d" % (tag, n)
        if p.ctl("user", "add", name, name + "@example.org")[0] == 0:
            acks.add("users", name)
            yield name


def flow_work(p, svc, users, acks, stop, wrong_only):
    for user in users:
        if stop.is_set():
            return
        code_flow(p, svc, user, acks, wrong_only)


def killer(p, acks, stop, kills):
    """Kill after some progress of each kind in turn (so that every kind
    of write is acknowledged between kills), at a random moment after it."""
    rnd = random.Random()
    kinds = ["codes", "failures", "passwords", "locked", "users"]
    for i in range(KILLS):
        kind = kinds[i % len(kinds)]
        seen = acks.count(kind)
        wait_for("more %s acknowledged" % kind, lambda: acks.count(kind) > seen,
                 STEP_WAIT)
        time.sleep(rnd.uniform(*KILL_GAP))   # a random moment, not a wait for an event
        p.proc.send_signal(signal.SIGKILL)
        p.proc.wait()
        kills.append(p.proc.returncode)
        p.start()
    stop.set()


@test
def kill9_in_a_stream_of_flows():
    p = Portal(code_length=10, code_attempts=3, resend_interval="0s", codes_per_hour=100)
    svc = p.service("login")
    pool = ["u%03d" % i for i in range(300)]
    p.ctl("import", "-", input="".join("%s,%s@example.org\n" % (u, u) for u in pool))
    acks = Acks()
    acks.users.update(pool)
    stop = threading.Event()
    kills = []
    errors = []

    def guarded(fn, *args):
        def run():
            try:
                fn(*args)
            except Exception as e:   # reported below, under the test's name
                errors.append("%s: %s" % (fn.__name__, e))
                stop.set()
        return threading.Thread(target=run, daemon=True)

    threads = [guarded(killer, p, acks, stop, kills),
               guarded(admin_work, p, acks, stop, "c"),
               guarded(flow_work, p, svc, fresh_users(p, pool[0:100], acks, "fa"), acks, stop,
                       False),
               guarded(flow_work, p, svc, fresh_users(p, pool[100:200], acks, "fb"), acks, stop,
                       False),
               guarded(flow_work, p, svc, fresh_users(p, pool[200:300], acks, "fw"), acks, stop,
                       True)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120 * SLOW)
    print("# the stream ran %.1f s" % (time.monotonic() - t0))
    check("no thread of the stream broke", not errors, errors)
    check("portald was killed %d times" % KILLS,
          len(kills) == KILLS and all(rc == -signal.SIGKILL for rc in kills), kills)
    check("conversations ran, and some were cut by the kills",
          acks.conversations >= 10 and acks.cut >= 1,
          "%d conversations, %d cut" % (acks.conversations, acks.cut))
    check("no conversation cut short let anyone in", not acks.granted, acks.granted)

    # Once more at rest, then everything acknowledged must be there.
    p.proc.send_signal(signal.SIGKILL)
    p.proc.wait()
    p.start()
    check("the database opens after the kills (recovered if it had to be)",
          p.accepting(), p.log()[-1500:])
    recovered = re.findall(r"database recovered[^\n]*", p.log())
    check("a recovery, if any, lost no key", all(" 0 lost" in r for r in recovered), recovered)

    rc, out, err = p.ctl("user", "list")
    listed = set(re.findall(r"(?m)^(\S+)\s+\S+@example\.org", out))
    missing = sorted(acks.users - listed)
    check("every user added or imported is there (%d)" % len(acks.users),
          rc == 0 and not missing, "missing %s; %s" % (missing[:20], err))

    try:
        mails = p.mails()
    except TestError as e:      # said, then what did arrive is counted
        check("the outbox empties once portald runs again", False, e)
        mails = p.smtpd.mails()
    codes = {}
    for m in mails:
        if m.code:
            for to in m.rcpt:
                codes[to] = codes.get(to, 0) + 1
    undelivered = sorted(u for u in acks.codes if not codes.get(u + "@example.org"))
    check("every code mail acknowledged is delivered (%d)" % len(acks.codes),
          acks.codes and not undelivered, "not delivered: %s; outbox: %s"
          % (undelivered, p.ctl("outbox")[1][-1500:]))
    repeats = sum(max(0, codes.get(u + "@example.org", 0) - 1) for u in acks.codes)
    print("# %d code mails sent again after a kill (at least once delivery)" % repeats)

    bad = []
    for user, n in sorted(acks.failures.items()):
        out = p.ctl("user", "show", user)[1]
        m = re.search(r"(?m)^consecutive failures:\s*(\d+)", out)
        if not m or int(m.group(1)) < n:
            bad.append((user, n, m and m.group(1)))
    check("every wrong code acknowledged is counted (%d users)" % len(acks.failures),
          acks.failures and not bad, bad)
    not_locked = [u for u in sorted(acks.locked)
                  if not re.search(r"(?m)^state:\s*locked", p.ctl("user", "show", u)[1])]
    check("every lockout acknowledged holds (%d)" % len(acks.locked), not not_locked,
          not_locked)
    # Argon2id takes a while, more so under a sanitizer: a few at once.
    with concurrent.futures.ThreadPoolExecutor(4) as pool_:
        results = list(pool_.map(lambda u: (u, sign_in(p, svc, u, STRONG)[0]),
                                 sorted(acks.passwords)))
    lost = [(u, auth) for u, auth in results if auth != "PAM_SUCCESS"]
    check("every password acknowledged signs in (%d)" % len(acks.passwords),
          acks.passwords and not lost, lost)
    print("# %d conversations, %d cut by a kill; %d users, %d codes, %d with wrong codes, "
          "%d locked, %d passwords acknowledged"
          % (acks.conversations, acks.cut, len(acks.users), len(acks.codes),
             len(acks.failures), len(acks.locked), len(acks.passwords)))
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
