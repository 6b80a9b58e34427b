#!/usr/bin/python3
"""test_mail.py - the mails as they reach a real SMTP server: the code mail
and the password-created notice, in French and in English.
"""
import base64
import email.utils
import quopri
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, FR, Portal, ask_code, check, check_eq, check_match, code_mails,
                        enter_code_and_password, run_tests, test)


def word_ok(word):
    """An encoded-word must stand on its own: no character cut in two."""
    charset, enc, text = word[2:-2].split("?")
    try:
        if enc.lower() == "b":
            data = base64.b64decode(text, validate=True)
        else:
            data = quopri.decodestring(text.replace("_", " ").encode(), header=True)
        data.decode(charset, "strict")
        return True
    except (ValueError, LookupError):
        return False


def headers_ok(tag, m, to, mail_from):
    """What every mail must carry."""
    check_match("%s: From is mail_from" % tag, re.escape(mail_from), m.header("From") or "")
    check_eq("%s: To is the address on file" % tag,
             email.utils.parseaddr(m.header("To") or "")[1], to)
    check_eq("%s: the envelope goes to the address on file" % tag, m.rcpt, [to])
    check("%s: a Subject" % tag, (m.header("Subject") or "").strip(), m.header("Subject"))
    date = m.header("Date")
    try:
        when = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        when = None
    check("%s: a valid Date, close to now" % tag, when and abs(when - time.time()) < 600, date)
    mid = m.header("Message-ID") or ""
    check_match("%s: a Message-ID <left@right>" % tag, r"^<[^<>@\s]+@[^<>@\s]+>$", mid.strip())
    ctype = m.raw_header("Content-Type") or ""
    check_match("%s: Content-Type text/plain; charset=UTF-8" % tag,
                r"(?i)^text/plain;\s*charset=\"?utf-8\"?", ctype)
    check_match("%s: MIME-Version 1.0" % tag, r"^1\.0", m.raw_header("MIME-Version") or "")
    words = re.findall(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=", m.raw.decode("ascii", "replace"))
    check("%s: every RFC 2047 word at most 75 characters" % tag,
          all(len(w) <= 75 for w in words), words)
    check("%s: every RFC 2047 word decodes to UTF-8 on its own" % tag,
          all(word_ok(w) for w in words), words)
    body = re.split(rb"\r?\n\r?\n", m.raw, 1)[1]
    check("%s: body lines at most 998 bytes (76 when quoted-printable)" % tag,
          all(len(l.rstrip(b"\r")) <= (76 if "quoted-printable" in
                                      (m.raw_header("Content-Transfer-Encoding") or "").lower()
                                      else 998) for l in body.split(b"\n")), body[:300])
    check("%s: headers are ASCII (non-ASCII encoded)" % tag,
          all(b < 128 for b in m.raw.split(b"\n\n")[0].split(b"\r\n\r\n")[0]), m.raw[:400])
    check("%s: the body is valid UTF-8 text" % tag, m.body.strip(), m.body)


def through_code(p, svc, user, addr, words):
    d = p.dialog(svc, user, rhost="client.example.net")
    code = ask_code(p, d, user, addr, words)
    return d, code, code_mails(p, addr)[-1]


@test
def code_mail_english():
    p = Portal(language="en", organization="Test College", mail_from="portal@test.example")
    p.add_user("alice", "alice@example.org")
    svc = p.service("login")
    d, code, m = through_code(p, svc, "alice", "alice@example.org", EN)
    headers_ok("en code mail", m, "alice@example.org", "portal@test.example")
    check_match("en code mail: the subject speaks of a code", r"(?i)code",
                m.header("Subject"))
    check_match("en code mail: the code on a line of its own", r"(?m)^\s*%s\s*$" % code, m.body)
    check_match("en code mail: how long it is valid", r"10 minutes", m.body)
    check_match("en code mail: what to do if you did not ask", r"(?i)did not ask|didn't ask",
                m.body)
    check_match("en code mail: the organization", r"Test College", m.body + m.header("From"))
    enter_code_and_password(d, code)
    d.expect("INFO", EN["created"])
    d.result()
    mails = p.mails("alice@example.org")
    check_eq("en: the code mail, then the notice", [x.code is None for x in mails], [False, True])
    n = mails[-1]
    headers_ok("en notice", n, "alice@example.org", "portal@test.example")
    check("en notice: no code in it", n.code is None, n.body)
    check_match("en notice: says the password was created", r"(?i)password", n.body)
    check_match("en notice: on which machine (the remote host)", r"client\.example\.net", n.body)
    check_match("en notice: what to do if it was not them", r"(?i)not you|was not|did not",
                n.body)
    check("en: two different Message-IDs", m.header("Message-ID") != n.header("Message-ID"),
          m.header("Message-ID"))
    p.stop_checked()


@test
def code_mail_french():
    p = Portal(language="fr", organization="Collège Test", mail_from="portail@test.example")
    p.add_user("benoit", "benoit@example.org")
    svc = p.service("login")
    d, code, m = through_code(p, svc, "benoit", "benoit@example.org", FR)
    headers_ok("fr code mail", m, "benoit@example.org", "portail@test.example")
    raw_subject = m.raw_header("Subject") or ""
    check_match("fr code mail: the subject is RFC 2047 encoded", r"(?i)=\?utf-8\?[bq]\?",
                raw_subject)
    check_match("fr code mail: the decoded subject is French",
                r"(?i)code de vérification", m.header("Subject"))
    check_match("fr code mail: the code on a line of its own", r"(?m)^\s*%s\s*$" % code, m.body)
    check_match("fr code mail: validity in French", r"10 minutes", m.body)
    check_match("fr code mail: what to do if you did not ask, in French",
                r"(?i)pas demandé", m.body)
    check_match("fr code mail: the organization with its accent", r"Collège Test",
                m.body + m.header("From"))
    enter_code_and_password(d, code, words=FR)
    d.expect("INFO", FR["created"])
    d.result()
    mails = p.mails("benoit@example.org")
    check_eq("fr: the code mail, then the notice", [x.code is None for x in mails], [False, True])
    n = mails[-1]
    headers_ok("fr notice", n, "benoit@example.org", "portail@test.example")
    check_match("fr notice: in French", r"mot de passe", n.body)
    check_match("fr notice: the remote host", r"client\.example\.net", n.body)
    p.stop_checked()


@test
def mail_language_follows_the_pam_line():
    p = Portal(language="fr")
    p.add_user("carl", "carl@example.org")
    d, code, m = through_code(p, p.service("en", "lang=en"), "carl", "carl@example.org", EN)
    check_match("lang=en: the code mail in English", r"(?i)did not ask|didn't ask", m.body)
    check("lang=en: no French in it", "demandé" not in m.body, m.body)
    d.answer("q")
    d.result()
    p.stop_checked()


@test
def mail_from_with_a_display_name():
    """mail_from as administrators write a From: the name is the display
    name (RFC 2047 words when it is not ASCII, a quoted string when it has
    punctuation), the envelope sender the address alone."""
    for conf, shown, raw in (
            ("Collège Exemple <portail@test.example>", "Collège Exemple", r"^=\?UTF-8\?B\?"),
            ('"Doe, Jane" <portail@test.example>', "Doe, Jane", r'^"Doe, Jane" <')):
        p = Portal(organization="Test College", mail_from=conf)
        p.add_user("dora", "dora@example.org")
        d, code, m = through_code(p, p.service("login"), "dora", "dora@example.org", EN)
        d.answer("q")
        d.result()
        headers_ok("mail_from %r" % conf, m, "dora@example.org", "portail@test.example")
        check_eq("mail_from %r: the From received" % conf,
                 email.utils.parseaddr(m.header("From")), (shown, "portail@test.example"))
        check_match("mail_from %r: the From as written" % conf, raw, m.raw_header("From"))
        check_eq("mail_from %r: the envelope sender is the address alone" % conf,
                 m.envelope["mail_from"], "portail@test.example")
        check_match("mail_from %r: the organization is still the one in the text" % conf,
                    r"Organization: Test College", m.body)
        p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
