#!/usr/bin/python3
"""test_password.py - the new-password policy as the person meets it: each
refusal says why, as soon as the password is first typed, and asks again,
at most three rounds.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, FR, STRONG, Portal, check_eq, check_match, run_tests, sign_in, test,
                        to_new_password)


def attempt(d, first, second=None, words=EN):
    """At the new-password prompt: type it twice; the ERROR that follows."""
    d.answer(first)
    d.expect("ECHO_OFF", words["again"])
    d.answer(first if second is None else second)
    return d.expect("ERROR")


def refused(d, password):
    """At the new-password prompt: a password the policy refuses, typed
    once; the ERROR that follows at once, never asking for it again."""
    d.answer(password)
    return d.expect("ERROR")


@test
def policy_refusals():
    p = Portal(resend_interval="0")
    p.add_user("marguerite", "mlebrun@example.org")
    svc = p.service("login")

    d = p.dialog(svc, "marguerite")
    prompt = to_new_password(p, d, "marguerite", "mlebrun@example.org")
    check_match("policy: the prompt says the least length", r"at least 15 characters", prompt)
    msg = refused(d, "short pass 1")
    check_match("policy: too short, with the length", r"(?i)too short.*15", msg)
    d.expect("ECHO_OFF", EN["new_password"])
    msg = refused(d, "1234567890123456")
    check_match("policy: a common/systematic password is refused", r"(?i)common", msg)
    d.expect("ECHO_OFF", EN["new_password"])
    msg = attempt(d, STRONG, STRONG + "!")
    check_match("policy: the two entries differ", r"(?i)not the same", msg)
    msg = d.expect("ERROR")
    check_match("policy: after 3 rounds, given up, nothing changed",
                r"(?i)not created after 3.*nothing", msg)
    check_eq("policy: 3 rounds then PAM_AUTH_ERR", d.result()[0], "PAM_AUTH_ERR")
    out = p.ctl("user", "show", "marguerite")[1]
    check_match("policy: still pending, no password", r"(?m)^password set:\s*no$", out)

    d = p.dialog(svc, "marguerite")
    to_new_password(p, d, "marguerite", "mlebrun@example.org")
    msg = refused(d, "I am Marguerite and I like tea")
    check_match("policy: contains the user name (any case)", r"(?i)user name", msg)
    d.expect("ECHO_OFF", EN["new_password"])
    msg = refused(d, "write to mlebrun@example.org please")
    check_match("policy: contains the address", r"(?i)e-mail address", msg)
    d.expect("ECHO_OFF", EN["new_password"])
    good = "tenebreux lilas ; quatre-vingt-dix étés"   # UTF-8 counts in characters
    d.answer(good)
    d.expect("ECHO_OFF", EN["again"])
    d.answer(good)
    d.expect("INFO", EN["created"])
    check_eq("policy: the third round's good password is created", d.result()[0],
             "PAM_AUTH_ERR")
    check_eq("policy: and signs in", sign_in(p, svc, "marguerite", good)[0], "PAM_SUCCESS")
    p.stop_checked()


@test
def policy_local_part_and_min_length():
    p = Portal(resend_interval="0", password_min_length="8")
    p.add_user("jo", "joanne.smith@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "jo")
    prompt = to_new_password(p, d, "jo", "joanne.smith@example.org")
    check_match("min length 8: the prompt says 8", r"at least 8 characters", prompt)
    msg = refused(d, "xx joanne.smith yy")
    check_match("policy: the address's local part counts as the address",
                r"(?i)e-mail address", msg)
    d.expect("ECHO_OFF", EN["new_password"])
    # 8 characters, 16 bytes: the length is counted in characters
    msg = refused(d, "ÉéÈèÀàÙù"[:7])
    check_match("policy: 7 accented characters are too short", r"(?i)too short.*8", msg)
    d.expect("ECHO_OFF", EN["new_password"])
    good = "Ωmega ÿak 9"
    d.answer(good)
    d.expect("ECHO_OFF", EN["again"])
    d.answer(good)
    d.expect("INFO", EN["created"])
    check_eq("policy: a short user name ('jo') is not searched for", d.result()[0],
             "PAM_AUTH_ERR")
    check_eq("policy: the UTF-8 password signs in", sign_in(p, svc, "jo", good)[0],
             "PAM_SUCCESS")
    p.stop_checked()


@test
def policy_in_french():
    p = Portal(language="fr")
    p.add_user("remi", "remi@example.org")
    d = p.dialog(p.service("login"), "remi")
    prompt = to_new_password(p, d, "remi", "remi@example.org", FR)
    check_match("fr policy: the prompt", r"au moins 15 caractères", prompt)
    msg = refused(d, "court")
    check_match("fr policy: too short in French", r"trop court.*15", msg)
    d.expect("ECHO_OFF", FR["new_password"])
    msg = attempt(d, STRONG, "autre chose tout à fait", words=FR)
    check_match("fr policy: mismatch in French", r"pas identiques", msg)
    d.expect("ECHO_OFF", FR["new_password"])
    d.answer("")
    check_match("fr: empty password cancels", FR["cancelled"], d.expect("INFO"))
    check_eq("fr: cancelled", d.result()[0], "PAM_AUTH_ERR")
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
