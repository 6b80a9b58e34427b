#!/usr/bin/python3
"""test_smtp_faults.py - the mail server misbehaves, through the real portald.

tests/smtpserver.py plays the server: down (its port held, nobody
listening), slow, answering 4xx or 5xx, dropping the connection in the
middle of a message, or offering no STARTTLS to a helper with smtp_tls =
required.  Each time the sign-in conversation goes on without waiting for
the mail; temporary failures are tried again while the code lives, then
given up; permanent ones are not tried again; the outcome is in portald's
log and in `portalctl outbox`; and a mail the server took is never sent
again, across restarts too.

The codes here live a few seconds (code_ttl), and the helper retries a
code mail at most a quarter of its life apart: real backoff, made short
by a short code, not by a knob for tests.
"""
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import portaltest
from portaltest import (CTL_POLL, EN, SLOW, Cleanup, Portal, TestError, bound, check,
                        check_eq, check_match, code_mails, report, wait_for)

_tests = []


def side(fn):
    _tests.append(fn)
    return fn


# Short enough to see several tries and the end, long enough for a
# sanitized build to answer a prompt in time.
TTL = 12
QUICK = 2.0 * SLOW      # "the conversation did not wait on the mail server"
BACKOFF_WAIT = TTL + 10 * SLOW      # a retry, or the end, is due within this
TEMPFAIL = "refuse 451 4.3.0 try again later"
PERMFAIL = "refuse 550 5.1.1 no such user here"


def evil_portal(mode="ok", down=False, **conf):
    """A portald sending to tests/smtpserver.py in that mode, or to its
    port while it is down (p.smtpd.up() starts it)."""
    conf.setdefault("code_ttl", "%ds" % TTL)
    return Portal(smtp={"mode": mode, "down": down}, resend_interval="0s", **conf)


def ask_code_at_once(p, svc, user, tag=None):
    """A pending user's conversation up to the code prompt, which must come
    at once whatever the mail server does (checked under `tag`)."""
    d = p.dialog(svc, user)
    d.until("ECHO_ON", EN["email"])
    t0 = time.monotonic()
    d.answer(user + "@example.org")
    d.expect("INFO", EN["sent"])
    d.expect("ECHO_ON", EN["code"])
    took = time.monotonic() - t0
    if tag:
        check("%s: the code prompt came at once (%.2f s)" % (tag, took), took < QUICK, took)
    return d


def outbox_line(p, user):
    """The newest `portalctl outbox` line for user, "" if none."""
    rc, out, _ = p.ctl("outbox")
    lines = [l for l in out.splitlines() if re.search(r"\s%s\s" % re.escape(user), l)]
    return lines[-1] if lines else ""


def wait_outbox(p, user, regex):
    """The user's outbox line once it matches."""
    try:
        return wait_for("the outbox line of %s to match /%s/" % (user, regex),
                        lambda: (lambda l: l if re.search(regex, l) else None)(
                            outbox_line(p, user)), BACKOFF_WAIT, CTL_POLL)
    except TestError as e:
        raise TestError("%s; it is %r" % (e, outbox_line(p, user)))


def attempts(line):
    """The ATTEMPTS column of an outbox line: the number before the date."""
    m = re.search(r"\s(\d+)\s+\d{4}-\d\d-\d\d \d\d:\d\d\s*$", line)
    return int(m.group(1)) if m else -1


def outcome(p, user, regex, tries, what, log=None):
    """Wait for the user's outbox line to match regex; check it counts
    `tries` attempts and, with log, that portald's log says so: the
    line "code for USER to USER@example.org " then log.  The line."""
    line = wait_outbox(p, user, regex)
    check_eq("%s: %d attempt(s) so far" % (what, tries), attempts(line), tries)
    if log:
        check_match("%s: the log says so" % what,
                    r"code for %s to %s@example\.org %s" % (user, user, log), p.log())
    return line


def cancel(d):
    d.answer("q")
    d.expect("INFO", EN["cancelled"])
    return d.result()[0]


@side
def down_then_4xx_then_drop_then_taken():
    """One code mail through every temporary failure, then delivered once."""
    p = evil_portal(down=True)
    p.add_user("ann", "ann@example.org")
    d = ask_code_at_once(p, p.service("login"), "ann", "server down")
    outcome(p, "ann", r"queued: .*refused", 1, "server down: still queued",
            log=r"not sent \(attempt 1, next in \d+ s\).*refused")

    evil = p.smtpd
    evil.up(TEMPFAIL)
    evil.wait_events(1, "rcpt", "ann@example.org", BACKOFF_WAIT)
    outcome(p, "ann", r"queued: 451", 2, "451: tried again after the server came back")

    evil.set_mode("drop")
    evil.wait_events(1, "data", "ann@example.org", BACKOFF_WAIT)
    outcome(p, "ann", r"queued: (?!451)", 3, "dropped mid-message: still queued")

    evil.set_mode("ok")
    outcome(p, "ann", r"sent: 250", 4, "then taken at the fourth attempt", log="sent: 250")
    check_eq("then taken: exactly one mail arrived", len(code_mails(p, "ann@example.org")), 1)
    # The conversation waited at its prompt all along.
    check_eq("the conversation was never held up: cancelled normally", cancel(d),
             "PAM_AUTH_ERR")
    p.stop_checked()


@side
def temporary_failures_then_given_up():
    """451 for ever, and STARTTLS required from a server without it: tried
    while the code lives, then given up; both helpers run side by side."""
    p = evil_portal(TEMPFAIL)
    evil = p.smtpd
    p.add_user("ben", "ben@example.org")
    q = evil_portal("ok", smtp_tls="required")
    plain = q.smtpd
    q.add_user("cat", "cat@example.org")
    d = ask_code_at_once(p, p.service("login"), "ben", "451")
    e = ask_code_at_once(q, q.service("login"), "cat", "no STARTTLS")
    t0 = time.monotonic()

    line = wait_outbox(p, "ben", r"gave-up")
    given_up = time.monotonic() - t0
    tries = evil.events("rcpt", "ben@example.org")
    check("451: tried several times before giving up (%d)" % len(tries),
          len(tries) >= 3 and all(t[2] == "451" for t in tries), tries)
    check_eq("451: the outbox counts every attempt", attempts(line), len(tries))
    check_match("451: the outbox says given up, and the server's words",
                r"gave-up: 451 4\.3\.0 try again later", line)
    check("451: given up before the code died", given_up <= TTL + bound(1), given_up)
    check_match("451: the log says given up", r"code for ben to ben@example\.org gave-up: 451",
                p.log())
    check_match("451: the log shows the waits between tries",
                r"(?s)attempt 1, next in \d+ s.*attempt 2, next in \d+ s", p.log())

    line = wait_outbox(q, "cat", r"gave-up")
    check_match("no STARTTLS: given up, and why", r"gave-up: the server does not offer STARTTLS",
                line)
    check("no STARTTLS: tried more than once", attempts(line) >= 2, line)
    check_eq("no STARTTLS: nothing was ever sent in the clear",
             (plain.events("rcpt"), plain.mails()), ([], []))
    check_match("no STARTTLS: the log says so",
                r"code for cat to cat@example\.org gave-up: the server does not offer STARTTLS",
                q.log())
    check_eq("the conversations were never held up: cancelled normally",
             (cancel(d), cancel(e)), ("PAM_AUTH_ERR", "PAM_AUTH_ERR"))
    p.stop_checked()
    q.stop_checked("the second portald stops cleanly")


@side
def permanent_failure_not_retried():
    p = evil_portal(PERMFAIL)
    evil = p.smtpd
    p.add_user("dan", "dan@example.org")
    p.add_user("eve", "eve@example.org")
    svc = p.service("login")
    d = ask_code_at_once(p, svc, "dan", "550")
    outcome(p, "dan", r"failed: 550", 1, "550: failed, with the server's words",
            log=r"failed: 550 5\.1\.1 no such user here")
    # A later mail opens another session: dan's is not in it.
    e = ask_code_at_once(p, svc, "eve")
    wait_outbox(p, "eve", r"failed: 550")
    check_eq("550: never tried again", len(evil.events("rcpt", "dan@example.org")), 1)
    check_eq("550: the conversations go on (cancel)", (cancel(d), cancel(e)),
             ("PAM_AUTH_ERR", "PAM_AUTH_ERR"))
    p.stop_checked()


@side
def slow_server():
    # The code lives 10 minutes here: the slow server is what is tested.
    p = evil_portal("slow 2", code_ttl="10m")
    evil = p.smtpd
    for u in ("fay", "gil"):
        p.add_user(u, u + "@example.org")
    svc = p.service("login")
    d = ask_code_at_once(p, svc, "fay", "slow server")
    # While the helper is stuck in fay's session, another sign-in goes on.
    evil.wait_events(1, "rcpt", "fay@example.org", TTL)
    e = ask_code_at_once(p, svc, "gil", "slow server: another conversation meanwhile")
    for u, dl in (("fay", d), ("gil", e)):
        line = wait_outbox(p, u, r"sent: 250")
        check_eq("slow server: %s's mail sent once" % u,
                 (attempts(line), len(code_mails(p, u + "@example.org"))), (1, 1))
        dl.answer(code_mails(p, u + "@example.org")[0].code)
        check_match("slow server: %s's code works" % u, EN["verified"], dl.expect("INFO"))
        dl.expect("ECHO_ON", EN["continue"])
        cancel(dl)
    p.stop_checked()


def sent_once(p, user, what):
    """The user's mail reached the server once, and was sent once."""
    addr = user + "@example.org"
    check_eq("%s: %s's mail was not sent again" % (what, user),
             (len(p.smtpd.events("data", addr)), len(code_mails(p, addr))), (1, 1))


@side
def never_sent_twice_after_the_handoff():
    p = evil_portal("ok")
    users = ["hal", "ida", "jon"]
    for u in users:
        p.add_user(u, u + "@example.org")
    svc = p.service("login")
    d = ask_code_at_once(p, svc, "hal")
    wait_outbox(p, "hal", r"sent: 250")
    cancel(d)
    for how, nxt in (("SIGTERM", "ida"), ("SIGKILL", "jon")):
        if how == "SIGTERM":
            check_eq("portald stops on SIGTERM", p.stop(), 0)
        else:
            p.proc.send_signal(signal.SIGKILL)
            p.proc.wait()
        p.start()
        # A new mail opens a session after the restart: anything left
        # queued would go in it too.
        d = ask_code_at_once(p, svc, nxt)
        wait_outbox(p, nxt, r"sent: 250")
        cancel(d)
        sent_once(p, "hal", "after " + how)
    check_match("the outbox still says hal's mail was sent once", r"sent: 250.*\s1\s",
                outbox_line(p, "hal"))
    p.stop_checked()


@side
def taken_mid_session_is_not_sent_again():
    """Two mails in one session with a slow server; portald is killed after
    the server took the first, while it is still sending the second: the
    first was written down when it was taken and is not sent again."""
    p = evil_portal(down=True)
    svc = p.service("login")
    ds = []
    for u in ("kim", "lea"):
        p.add_user(u, u + "@example.org")
        ds.append(ask_code_at_once(p, svc, u))
        wait_outbox(p, u, r"queued: .*refused")
    evil = p.smtpd
    evil.up("slow 2")
    first = evil.wait_events(1, "data", timeout=BACKOFF_WAIT)[0][1]
    user = first.split("@")[0]
    other = "lea" if user == "kim" else "kim"
    wait_outbox(p, user, r"sent: 250")
    check_eq("the second message is still on its way when portald is killed",
             evil.events("data", other + "@example.org"), [])
    p.proc.send_signal(signal.SIGKILL)
    p.proc.wait()
    p.start()
    wait_outbox(p, other, r"sent: 250")
    sent_once(p, user, "the message taken before the kill")
    for d in ds:
        cancel(d)
    p.stop_checked()


def side_by_side():
    """The tests here mostly wait for backoff, so they run at once, each in
    a thread of its own (each with its own portald and server); what they
    started is stopped when all are done.  Arguments name tests to run."""
    threads = []
    for fn in _tests:
        if sys.argv[1:] and fn.__name__ not in sys.argv[1:]:
            continue

        def one(fn=fn):
            try:
                fn()
            except TestError as e:
                report(fn.__name__, False, e)
            except Exception as e:   # a bug in the test or a crash under it
                report(fn.__name__, False, "%s: %s" % (type(e).__name__, e))
        threads.append(threading.Thread(target=one))
        threads[-1].start()
    for t in threads:
        t.join()
    Cleanup.run()
    return 1 if portaltest._failures else 0


if __name__ == "__main__":
    sys.exit(side_by_side())
