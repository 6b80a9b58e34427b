#!/usr/bin/python3
"""test_policy_strength.py - a realistic strength estimate (zxcvbn, on the
password's skeleton: unicode.h) refuses common and patterned passwords
(issue 14, finding 6) and takes the passphrases members really use,
through libpam, the real helper and SMTP server, in English and French.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, FR, STRONG, Portal, check, check_eq, check_match, full_flow,
                        run_tests, sign_in, test, to_new_password)

# Finding 6 of issue 14: all four were taken.
ISSUE = ["passwordpassword", "qwertyuiopasdfg", "iloveyouiloveyou", "Password!Password!"]
# The same, as a French member would type them, or hidden from a byte-wise
# estimate (accents, full-width letters).
MORE = ["motdepassemotdepasse", "azertyuiopqsdfgh", "p\u00e4ssw\u00f6rdp\u00e4ssw\u00f6rd",
        "".join(chr(ord(c) + 0xfee0) for c in "passwordpassword"), "summer2024summer2024",
        "jetaimejetaimejetaime"]
GUESSABLE_EN = r"(?i)too easy to guess.*common words.*keyboard.*repeated.*few words"
GUESSABLE_FR = r"trop facile à deviner.*mots courants.*clavier.*répétés.*quelques mots"

# What members really use: four random words, a French sentence with
# accents, a line of a poem with punctuation.
TAKEN = ["cheval bleu fourchette nuage", "J'aime les cr\u00eapes au beurre sal\u00e9",
         "Les sanglots longs des violons de l'automne", "orange river piano cloud"]


def three_refused(p, user, addr, passwords, said, words=EN):
    """A conversation to the new-password prompt, then three passwords the
    estimate refuses: each said why at once, then given up."""
    d = p.dialog(p.service("login"), user)
    to_new_password(p, d, user, addr, words)
    for i, pw in enumerate(passwords):
        d.answer(pw)
        check_match("easy to guess: %r refused at once, in words a member reads" % pw,
                    said, d.expect("ERROR"))
        if i < 2:
            d.expect("ECHO_OFF", words["new_password"])
    d.expect("ERROR")          # given up after three rounds
    return d.result()[0]


@test
def common_and_patterned_passwords_refused():
    p = Portal(resend_interval="0")
    p.add_user("theo", "theo@example.org")
    rounds = [ISSUE[:3], ISSUE[3:] + MORE[:2], MORE[2:5]]
    for batch in rounds:
        check_eq("easy to guess: nothing created", three_refused(
            p, "theo", "theo@example.org", batch, GUESSABLE_EN), "PAM_AUTH_ERR")
    check_match("easy to guess: still no password", r"(?m)^password set:\s*no$",
                p.ctl("user", "show", "theo")[1])
    check_match("the helper's log says why, never the password",
                r"check-password for theo .*new password refused: easy to guess", p.log())
    check("... and never the password", all(pw not in p.log() for pw in ISSUE + MORE))
    p.stop_checked()


@test
def refused_in_french():
    p = Portal(language="fr", resend_interval="0")
    p.add_user("remi", "remi@example.org")
    check_eq("fr: nothing created", three_refused(
        p, "remi", "remi@example.org", [MORE[5], MORE[0], ISSUE[3]], GUESSABLE_FR, FR),
        "PAM_AUTH_ERR")
    p.stop_checked()


@test
def passphrases_members_use_are_taken():
    p = Portal(resend_interval="0")
    login = p.service("login")
    for i, pw in enumerate(TAKEN):
        user, addr = "member%d" % i, "member%d@example.org" % i
        p.add_user(user, addr)
        auth, _ = full_flow(p, login, user, addr, pw)
        check_eq("taken at the first try: %r" % pw, auth, "PAM_AUTH_ERR")
        auth, acct, _ = sign_in(p, login, user, pw)
        check_eq("... and signs in", (auth, acct), ("PAM_SUCCESS", "PAM_SUCCESS"))
    p.stop_checked()


PASSWD = """password [success=done ignore=ignore default=die] {module} socket={socket}
password required pam_deny.so
"""


@test
def the_same_rule_for_a_changed_password():
    p = Portal()
    p.add_user("ines", "ines@example.org")
    auth, _ = full_flow(p, p.service("login"), "ines", "ines@example.org")
    check_eq("setup: active", auth, "PAM_AUTH_ERR")
    svc = p.stack("passwd", PASSWD)
    d = p.dialog(svc, "ines", flags=("-p",))
    d.expect("ECHO_OFF", r"^Current password: $")
    d.answer(STRONG)
    for pw in ISSUE[:2]:
        d.expect("ECHO_OFF", r"(?i)^new password")
        d.answer(pw)
        check_match("passwd: %r refused at once as easy to guess" % pw, GUESSABLE_EN,
                    d.expect("ERROR"))
    d.expect("ECHO_OFF", r"(?i)^new password")
    d.answer(TAKEN[0])
    d.expect("ECHO_OFF", EN["again"])
    d.answer(TAKEN[0])
    d.expect("INFO", r"(?i)password has been changed")
    d.result()
    check_eq("passwd: a passphrase is taken in the third round", d.password, "PAM_SUCCESS")
    check_eq("passwd: and signs in", sign_in(p, p.service("login"), "ines", TAKEN[0])[0],
             "PAM_SUCCESS")
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
