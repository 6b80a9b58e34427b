#!/usr/bin/python3
"""test_policy_unicode.py - a password is what a person reads, not the
bytes a keyboard happened to send (issue 14, finding 6), through libpam,
the real helper and SMTP server.

- Composed (NFC) and decomposed (NFD) accents are one password: made
  either way, it signs in typed either way.
- A password hashed before the change from decomposed bytes still signs
  in typed as before; that sign-in renews its hash (of the NFC form), and
  from then on the composed form signs in too.  A wrong password counts
  one failure, though two forms of it were tried.
- The user name and address are found in a new password however they are
  written: case, full-width letters, zero-width and other invisible
  characters, marks laid on the letters.
"""
import ctypes
import ctypes.util
import dbm.gnu
import os
import re
import struct
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, Portal, TestError, check, check_eq, check_match, full_flow,
                        run_tests, sign_in, test, to_new_password)

# 20 characters with four accents: "Noël chez Zoé à Sète, 1987"
PHRASE = "No\u00ebl chez Zo\u00e9 \u00e0 S\u00e8te, 1987"
NFC = unicodedata.normalize("NFC", PHRASE)
NFD = unicodedata.normalize("NFD", PHRASE)

REC_PWHASH = 100          # helper/record.h: TAG_PRIVATE, the first private tag
OPSLIMIT, MEMLIMIT = 2, 19 * 1024 * 1024     # helper/policy.h


def failures(p, user):
    m = re.search(r"(?m)^consecutive failures:\s*(\d+)$", p.ctl("user", "show", user)[1])
    return m and int(m.group(1))


@test
def composed_and_decomposed_are_one_password():
    check("the two forms differ as bytes", NFC.encode() != NFD.encode())
    p = Portal()
    login = p.service("login")
    for user, made, typed in (("camille", NFC, NFD), ("jules", NFD, NFC)):
        addr = user + "@example.org"
        p.add_user(user, addr)
        auth, _ = full_flow(p, login, user, addr, made)
        what = "made %s" % ("composed" if made is NFC else "decomposed")
        check_eq("%s: created" % what, auth, "PAM_AUTH_ERR")
        auth, acct, _ = sign_in(p, login, user, typed)
        check_eq("%s: signs in typed the other way" % what, (auth, acct),
                 ("PAM_SUCCESS", "PAM_SUCCESS"))
        auth, _, _ = sign_in(p, login, user, made)
        check_eq("%s: and the way it was made" % what, auth, "PAM_SUCCESS")
    p.stop_checked()


# ---- a hash made before the change -------------------------------------------

def sodium():
    lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
    if lib.sodium_init() < 0:
        raise TestError("sodium_init failed")
    lib.crypto_pwhash_str.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong,
                                      ctypes.c_ulonglong, ctypes.c_size_t]
    return lib


def argon2id(password_bytes):
    """The Argon2id string portald made before passwords were normalised:
    of the bytes as typed, with policy.h's parameters."""
    out = ctypes.create_string_buffer(128)
    if sodium().crypto_pwhash_str(out, password_bytes, len(password_bytes),
                                  OPSLIMIT, MEMLIMIT) != 0:
        raise TestError("crypto_pwhash_str failed")
    return out.value


def fields(body):
    out, off = [], 0
    while off < len(body):
        tag, n = body[off], struct.unpack(">H", body[off + 1:off + 3])[0]
        out.append((tag, body[off + 3:off + 3 + n]))
        off += 3 + n
    return out


def set_old_hash(p, user, hash_str):
    """With portald stopped: the user's record given hash_str, as an older
    portald would have left it (records are proto field bodies, store.h)."""
    db = dbm.gnu.open(p.conf["database"], "w")
    try:
        key = ("u:" + user).encode()
        old = fields(db[key])
        tags = [t for t, _ in old]
        if tags.count(REC_PWHASH) != 1:
            raise TestError("the record of %s has %d hash fields" % (user,
                                                                      tags.count(REC_PWHASH)))
        db[key] = b"".join(bytes([t]) + struct.pack(">H", len(v) if t != REC_PWHASH
                                                   else len(hash_str)) +
                           (hash_str if t == REC_PWHASH else v) for t, v in old)
        db.sync()
    finally:
        db.close()


def stored_hash(p, user):
    db = dbm.gnu.open(p.conf["database"], "r")
    try:
        return dict(fields(db[("u:" + user).encode()]))[REC_PWHASH]
    finally:
        db.close()


@test
def a_decomposed_password_hashed_before_the_change_still_signs_in():
    p = Portal()
    login = p.service("login")
    p.add_user("lea", "lea@example.org")
    auth, _ = full_flow(p, login, "lea", "lea@example.org", NFD)
    check_eq("setup: created", auth, "PAM_AUTH_ERR")
    p.stop()
    old = argon2id(NFD.encode())
    set_old_hash(p, "lea", old)
    p.start()

    auth, _, _ = sign_in(p, login, "lea", NFC)
    check_eq("old decomposed hash: the composed form cannot match it yet", auth, "PAM_AUTH_ERR")
    check_eq("... one failure counted", failures(p, "lea"), 1)
    wrong = unicodedata.normalize("NFD", "No\u00ebl chez Zo\u00e9 \u00e0 S\u00e8te, 1988")
    auth, _, _ = sign_in(p, login, "lea", wrong)
    check_eq("a wrong decomposed password (two forms tried) is refused", auth, "PAM_AUTH_ERR")
    check_eq("... and counts one failure, not two", failures(p, "lea"), 2)

    p.stop()
    check_eq("setup: the stored hash is still the old one", stored_hash(p, "lea"), old)
    p.start()
    auth, acct, _ = sign_in(p, login, "lea", NFD)
    check_eq("old decomposed hash: typed as before, it signs in", (auth, acct),
             ("PAM_SUCCESS", "PAM_SUCCESS"))
    check_eq("... the run of failures ends", failures(p, "lea"), 0)
    p.stop()
    check("... and the hash was renewed", stored_hash(p, "lea") != old)
    p.start()
    auth, _, _ = sign_in(p, login, "lea", NFC)
    check_eq("renewed: now the composed form signs in too", auth, "PAM_SUCCESS")
    auth, _, _ = sign_in(p, login, "lea", NFD)
    check_eq("renewed: and the decomposed one still does", auth, "PAM_SUCCESS")
    check("the helper's log never shows the password", "chez" not in p.log(), p.log()[-800:])
    p.stop_checked()


# ---- the user name and address, however written ---------------------------------

ZWSP, ZWJ, WJ, SHY = "\u200b", "\u200d", "\u2060", "\u00ad"


def fullwidth(s):
    return "".join(chr(ord(c) + 0xfee0) if "!" <= c <= "~" else c for c in s)


def underlined(s):
    return "".join(c + "\u0332" for c in s)


# Each hides "marguerite" or "mlebrun" from a search of the bytes.
HIDDEN_NAME = [
    ("a zero-width space", "tundra margue%srite wave orbit" % ZWSP),
    ("full-width letters", "tundra %s wave orbit" % fullwidth("marguerite")),
    ("full-width capitals", "tundra %s wave orbit" % fullwidth("MARGUERITE")),
    ("a soft hyphen and a word joiner", "tundra mar%sgue%srite wave orbit" % (SHY, WJ)),
    ("a combining low line on every letter", "tundra %s wave" % underlined("marguerite")),
]
HIDDEN_ADDRESS = [
    ("a zero-width joiner in the local part", "tundra mle%sbrun wave orbit" % ZWJ),
    ("the local part in full-width", "tundra %s wave orbit" % fullwidth("mlebrun")),
]


@test
def name_and_address_found_however_written():
    p = Portal(resend_interval="0")
    p.add_user("marguerite", "mlebrun@example.org")
    login = p.service("login")
    cases = [(w, t, r"(?i)user name") for w, t in HIDDEN_NAME] + \
            [(w, t, r"(?i)e-mail address") for w, t in HIDDEN_ADDRESS]
    # three refusals a conversation (NEWPW_ROUNDS), so a few conversations
    for start in range(0, len(cases), 3):
        d = p.dialog(login, "marguerite")
        to_new_password(p, d, "marguerite", "mlebrun@example.org")
        batch = cases[start:start + 3]
        for i, (what, password, said) in enumerate(batch):
            d.answer(password)
            check_match("the name or address hidden by %s: refused at once, saying why" % what,
                        said, d.expect("ERROR"))
            if i < 2:
                d.expect("ECHO_OFF", EN["new_password"])
        if len(batch) == 3:
            d.expect("ERROR", r"(?i)not created after 3")
        else:
            d.answer("")
            d.expect("INFO", EN["cancelled"])
        d.result()
    check_match("none of them was taken", r"(?m)^password set:\s*no$",
                p.ctl("user", "show", "marguerite")[1])
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
