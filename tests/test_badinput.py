#!/usr/bin/python3
"""test_badinput.py - bad input everywhere: in the fields of requests, in
what a person types, in frames on the socket and in the config file.  Each
gets a clear error, and the helper keeps serving with its data whole.

(test_server.py has the frame headers, the body limit, a field longer than
its body, hundreds of idle connections, the per-user cap and the 10 s frame
deadline; test_config.py the config mistakes of each key.  This file adds
what they do not.)
"""
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire
from portaltest import (CHILD_ENV, EN, PORTALD, START_TIMEOUT, STRONG, Portal, ask_code,
                        check, check_eq, check_match, full_flow, run_tests, test)

LONG = "a" * 5000
NASTY = {
    "empty": "",
    "over-long": LONG,
    "NUL-bearing": "ali\0ce",
    "non-UTF-8": b"al\xffice",
    "CR/LF-bearing": "alice\r\nBcc: victim@example.org",
    "space-bearing": "alice smith",
}
BAD_ADDRESSES = {
    "header injection (CRLF)": "alice@example.org\r\nBcc: victim@example.org",
    "header injection (LF)": "alice@example.org\nSubject: pwned",
    "second recipient (comma)": "alice@example.org, victim@example.org",
    "angle brackets": "Alice <alice@example.org>",
    "quoted local part": "\"alice\"@example.org",
    "address literal": "alice@[127.0.0.1]",
    "comment": "alice(x)@example.org",
    "NUL-bearing": "alice@example.org\0victim@example.org",
    "non-UTF-8": b"alice@ex\xe9mple.org",
    "over-long": "a" * 250 + "@example.org",
    "empty": "",
    "no domain": "alice@",
}


def snapshot(p):
    """What must survive every refusal: who is managed with which address,
    and alice's whole record."""
    rc, out, err = p.ctl("user", "list")
    return [l.split()[:2] for l in out.splitlines()], p.ctl("user", "show", "alice")[1]


def serving(p):
    r = wire.call(p.socket, wire.request(wire.REQ_STATUS, (wire.TAG_USER, "alice")))
    return r.result == wire.RESULT_OK


def send(p, *fields, ftype):
    return wire.call(p.socket, wire.request(ftype, *fields))


@test
def bad_fields():
    p = Portal(smtp=False, resend_interval="0", codes_per_hour="100")
    p.add_user("alice", "alice@example.org")
    p.add_user("bob", "bob@example.org")
    before = snapshot(p)
    for what, name in NASTY.items():
        for req, extra in ((wire.REQ_STATUS, ()),
                           (wire.REQ_SEND_CODE, ((wire.TAG_EMAIL, "x@example.org"),)),
                           (wire.REQ_USER_ADD, ((wire.TAG_EMAIL, "x@example.org"),))):
            r = send(p, (wire.TAG_USER, name), *extra, ftype=req)
            check("user name %s (request %d): refused, the field named" % (what, req),
                  r.result in (wire.RESULT_INVALID, wire.RESULT_BAD_REQUEST)
                  and r.text(wire.TAG_DETAIL) == "user",
                  r)
    for what, addr in BAD_ADDRESSES.items():
        r = send(p, (wire.TAG_USER, "mallory"), (wire.TAG_EMAIL, addr), ftype=wire.REQ_USER_ADD)
        check("user add, address %s: refused, 'email' named" % what,
              r.result == wire.RESULT_INVALID and r.text(wire.TAG_DETAIL) == "email", r)
        r = send(p, (wire.TAG_USER, "alice"), (wire.TAG_EMAIL, addr), ftype=wire.REQ_SEND_CODE)
        check("send-code, address %s: refused, 'email' named, no code made" % what,
              r.result == wire.RESULT_INVALID and r.text(wire.TAG_DETAIL) == "email", r)
    entries = b"".join(wire.field(wire.TAG_ENTRY, wire.field(wire.TAG_LINE, wire.u64(i + 1)) +
                                  wire.field(wire.TAG_USER, "imp%d" % i) +
                                  wire.field(wire.TAG_EMAIL, a))
                       for i, a in enumerate(BAD_ADDRESSES.values()))
    r = wire.call(p.socket, wire.frame(wire.REQ_IMPORT, entries))
    check("import of injecting addresses: every line refused by number",
          r.result == wire.RESULT_PARTIAL
          and len(r.fields.get(wire.TAG_ENTRY, [])) == len(BAD_ADDRESSES)
          and r.u64(wire.TAG_COUNT) == 0, r)

    # Codes: never a crash, never a match, each costs a try like any wrong code.
    handle = send(p, (wire.TAG_USER, "bob"), (wire.TAG_EMAIL, "bob@example.org"),
                  ftype=wire.REQ_SEND_CODE).get(wire.TAG_REQUEST) or b""
    for what, code in (("letters", "12ab56"), ("over-long", "1" * 5000), ("empty", ""),
                       ("NUL-bearing", "123\x00456"), ("CR/LF", "123456\r\n"),
                       ("non-UTF-8", b"\xff\xfe\xfd\xfc\xfb\xfa")):
        r = send(p, (wire.TAG_USER, "bob"), (wire.TAG_CODE, code), (wire.TAG_REQUEST, handle),
                 ftype=wire.REQ_VERIFY_CODE)
        check("code %s: wrong (or dead), never right" % what,
              r.result in (wire.RESULT_CODE_WRONG, wire.RESULT_CODE_DEAD, wire.RESULT_LOCKED), r)
    # Passwords at sign-in: no crash, never accepted.
    for what, pw in (("empty", ""), ("over-long", "p" * 5000), ("NUL-bearing", STRONG + "\0x"),
                     ("non-UTF-8", b"\xff" * 20), ("CR/LF", STRONG + "\r\n")):
        r = send(p, (wire.TAG_USER, "alice"), (wire.TAG_PASSWORD, pw), ftype=wire.REQ_AUTH)
        check("password %s at sign-in: refused with a clear answer" % what,
              r.result in (wire.RESULT_STATE, wire.RESULT_INVALID, wire.RESULT_PASSWORD), r)
    # Fields of the wrong shape.
    for what, data in (
            ("a u32 field of 3 bytes",
             wire.request(wire.REQ_USER_LIST, (wire.TAG_STATE, b"\0\0\1"))),
            ("a state out of range",
             wire.request(wire.REQ_USER_LIST, (wire.TAG_STATE, wire.u32(99)))),
            ("an unknown tag", wire.request(wire.REQ_STATUS, (99, "x"), (wire.TAG_USER, "alice"))),
            ("the user twice", wire.request(wire.REQ_STATUS, (wire.TAG_USER, "alice"),
                                             (wire.TAG_USER, "bob"))),
            ("an unknown request type", wire.request(77, (wire.TAG_USER, "alice"))),
            ("a ticket of 5 bytes", wire.request(wire.REQ_SET_PASSWORD, (wire.TAG_USER, "alice"),
                                                 (wire.TAG_TICKET, b"12345"),
                                                 (wire.TAG_PASSWORD, STRONG)))):
        r = wire.call(p.socket, data)
        check("%s: a clear answer, no crash" % what,
              r.result is not None and r.result != wire.RESULT_OK
              or what in ("an unknown tag", "the user twice"), r)
    check("after all of it: still serving", serving(p))
    after = snapshot(p)
    check_eq("after all of it: the directory is as it was (list)", after[0], before[0])
    check_eq("after all of it: alice's record is as it was", after[1], before[1])
    p.stop_checked()


@test
def bad_frames():
    p = Portal(smtp=False)
    p.add_user("alice", "alice@example.org")
    before = snapshot(p)
    rng = random.Random(20231030)
    junk_ok = 0
    for _ in range(200):
        s = wire.connect(p.socket)
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        s.sendall(data)
        s.shutdown(1)      # then nothing more: junk, or a truncated frame
        try:
            r = wire.read_response(s)
            junk_ok += r.result == wire.RESULT_BAD_REQUEST and wire.at_eof(s)
        except (EOFError, OSError):
            junk_ok += 1   # closed without a word: a truncated frame it never got
        s.close()
    check_eq("200 connections of random junk: each refused or dropped", junk_ok, 200)
    # Truncated: the header promises more than comes, then the peer leaves.
    s = wire.connect(p.socket)
    s.sendall(wire.request(wire.REQ_STATUS, (wire.TAG_USER, "alice"))[:-3])
    s.close()
    # A whole frame, sent a byte at a time: slow is fine while it is in time.
    data = wire.request(wire.REQ_STATUS, (wire.TAG_USER, "alice"))
    with wire.connect(p.socket) as s:
        for b in data:
            s.sendall(bytes([b]))
            time.sleep(0.05)
        r = wire.read_response(s)
    check_eq("a frame trickled in byte by byte (under the deadline): answered", r.result,
             wire.RESULT_OK)
    # The largest frame allowed, all of it one field of junk.
    big = wire.frame(wire.REQ_STATUS, wire.field(wire.TAG_USER, "x" * 65000) +
                     wire.field(wire.TAG_USER, "y" * (wire.MAX_BODY - 65003 - 3)))
    r = wire.call(p.socket, big)
    check("the largest frame, junk inside: refused, field named",
          r.result == wire.RESULT_INVALID and r.text(wire.TAG_DETAIL) == "user", r)
    # One field more than the decoder takes (PROTO_MAX_FIELDS).
    many = wire.frame(wire.REQ_STATUS, wire.field(99, b"") * 1101)
    r = wire.call(p.socket, many)
    check_eq("1101 fields: bad request", r.result, wire.RESULT_BAD_REQUEST)
    check("after junk frames: still serving", serving(p))
    check_eq("after junk frames: the directory is whole", snapshot(p), before)
    p.stop_checked()


@test
def bad_typing():
    """What a person may type at the prompts (through the module)."""
    p = Portal(resend_interval="0")
    p.add_user("alice", "alice@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "alice")
    d.until("ECHO_ON", EN["email"])
    for what, addr in (("CR inside", "alice@example.org\rBcc: x@y.org"),
                       ("angle brackets", "<alice@example.org>"),
                       ("over-long", "a" * 3000 + "@example.org"),
                       ("non-UTF-8", "al\udcffice@example.org"),
                       ("a second address", "alice@example.org,victim@example.org")):
        d.answer(addr.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                 if "\udcff" in addr else addr)
        check_match("typed address %s: 'not an e-mail address', asked again" % what,
                    r"(?i)not an e-mail address", d.expect("ERROR"))
        d.expect("ECHO_ON", EN["email"])
    d.answer("alice@example.org")
    d.expect("INFO", EN["sent"])
    d.expect("ECHO_ON", EN["code"])
    for what, code in (("letters", "abcdef"), ("over-long", "1" * 3000), ("punctuation", "1;2")):
        d.answer(code)
        check_match("typed code %s: 'not a verification code', asked again" % what,
                    r"(?i)not a verification code", d.expect("ERROR"))
        d.expect("ECHO_ON", EN["code"])
    d.answer("q")
    check_eq("bad typing: then cancelled cleanly", d.result()[0], "PAM_AUTH_ERR")
    check_eq("bad typing: no mail to any address that was not on file",
             {tuple(m.rcpt) for m in p.mails()}, {("alice@example.org",)})
    for what, name in (("with a newline", "alice\nroot"), ("over-long", "a" * 300),
                       ("with a space", "alice smith")):
        auth, _, before = p.dialog(p.service("permit", then="permit"), name).result()
        check("user name %s: not the module's (PAM_IGNORE), nothing said" % what,
              auth == "PAM_SUCCESS" and before == [], (auth, before))
    p.stop_checked()


@test
def bad_passwords_typed():
    p = Portal(resend_interval="0")
    p.add_user("bob", "bob@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "bob")
    code = ask_code(p, d, "bob", "bob@example.org")
    d.answer(code)
    d.expect("INFO", EN["verified"])
    d.expect("ECHO_ON", EN["continue"])
    d.answer("")
    d.expect("ECHO_OFF", EN["new_password"])
    d.answer("x" * 5000)
    check_match("a 5000-character password: too long, said so at once", r"(?i)too long",
                d.expect("ERROR"))
    d.expect("ECHO_OFF", EN["new_password"])
    d.answer("")
    d.expect("INFO", EN["cancelled"])
    check_eq("over-long password: nothing created", d.result()[0], "PAM_AUTH_ERR")
    check_eq("the helper still serves", full_flow(p, svc, "bob", "bob@example.org")[0],
             "PAM_AUTH_ERR")
    p.stop_checked()


@test
def config_with_every_kind_of_error():
    p = Portal(smtp=False, start=False)
    good = open(p.conf_path, "rb").read()
    cases = [
        ("a NUL byte", b"organization = Test\0College\n", "NUL"),
        ("a line over 1024 bytes", b"organization = " + b"x" * 2000 + b"\n", "longer than"),
        ("no '='", b"cutover 2023-10-30\n", "key = value"),
        ("a key with no value", b"smtp_user =\n", "no value"),
        ("a control character in a value", b"smtp_user = Evil\x1b[31m\n", "control"),
        ("a bad user", b"user = root;rm\n", "user"),
        ("CR/LF line ends", b"language = en\r\nlanguage = fr\r\n", "twice"),
    ]
    for what, line, word in cases:
        with open(p.conf_path, "wb") as f:
            f.write(good + line)
        r = subprocess.run([PORTALD, "-f", "-c", p.conf_path], capture_output=True,
                           env=CHILD_ENV, timeout=START_TIMEOUT)
        err = r.stderr.decode("utf-8", "replace")
        check("config with %s: exit 1, file:line and what is wrong" % what,
              r.returncode == 1 and p.conf_path + ":" in err and word in err,
              "rc=%d %r" % (r.returncode, err))


if __name__ == "__main__":
    sys.exit(run_tests())
