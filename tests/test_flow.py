#!/usr/bin/python3
"""test_flow.py - the sign-in conversation end to end, through libpam.

The real pam_portal.so in a PAM service file of a temporary folder, the
real portald, a real SMTP server on loopback; the code is read from the
mail that server received.
"""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (EN, FR, STRONG, Portal, ask_code, check, check_eq, check_match,
                        enter_code_and_password, full_flow, run_tests, sign_in, test,
                        wait_code)


def show(portal, user):
    rc, out, err = portal.ctl("user", "show", user)
    return out if rc == 0 else "exit %d: %s" % (rc, err)


@test
def pending_flow_then_password():
    p = Portal()
    p.add_user("alice", "alice@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "alice", rhost="client.example.net")
    intro = d.expect("INFO")
    check_match("flow: the intro names the cutover date", r"30 October 2023", intro)
    check_match("flow: the intro says why (new portal)", EN["intro"], intro)
    prompt = d.expect("ECHO_ON", EN["email"])
    check_match("flow: the address prompt names the organization", r"Test College", prompt)
    check_match("flow: the address prompt offers q", r"\bq\b", prompt)
    d.answer("alice@example.org")
    sent = d.expect("INFO", EN["sent"])
    check_match("flow: the code-sent message says how long it is valid", r"10 minutes", sent)
    d.expect("ECHO_ON", EN["code"])
    code = wait_code(p, "alice@example.org", 1)
    check("flow: the mail carries a 6-digit code", code and len(code) == 6, repr(code))
    enter_code_and_password(d, code)
    created = d.expect("INFO", EN["created"])
    check_match("flow: after_reset=relogin says to sign in again", r"(?i)sign in again", created)
    auth, acct, _ = d.result()
    check_eq("flow: the verification ends with PAM_AUTH_ERR (relogin)", auth, "PAM_AUTH_ERR")
    check("flow: the user is active after the flow",
          "active" in show(p, "alice"), show(p, "alice"))

    auth, acct, d2 = sign_in(p, svc, "alice", STRONG)
    check_eq("sign-in: the new password is accepted", auth, "PAM_SUCCESS")
    check_eq("sign-in: account management runs after it", acct, "PAM_SUCCESS")
    check("sign-in: only the password prompt, nothing else",
          [l for l in d2.transcript if not l.startswith(("RESULT", ">"))] ==
          [d2.transcript[0]] and d2.transcript[0].startswith("ECHO_OFF"), d2.text())

    mails = p.mails("alice@example.org")
    check("flow: a notice mail follows the password creation, and nothing else",
          [m.code is None for m in mails] == [False, True], [m.body for m in mails])
    # A second session in a new handle works as well: nothing was one-shot.
    auth, _, _ = sign_in(p, svc, "alice", STRONG)
    check_eq("sign-in: a second sign-in succeeds", auth, "PAM_SUCCESS")
    p.stop_checked()


@test
def wrong_password():
    p = Portal()
    p.add_user("bob", "bob@example.org")
    svc = p.service("login")
    auth, _ = full_flow(p, svc, "bob", "bob@example.org")
    check_eq("wrong password: setup flow", auth, "PAM_AUTH_ERR")
    auth, acct, d = sign_in(p, svc, "bob", STRONG + "x")
    check_eq("wrong password: PAM_AUTH_ERR", auth, "PAM_AUTH_ERR")
    check_eq("wrong password: account not run", acct, "-")
    check_match("wrong password: counted as a failure", r"(?m)^consecutive failures:\s*1$",
                show(p, "bob"))
    auth, _, _ = sign_in(p, svc, "bob", STRONG[:-1])
    check_eq("wrong password: a prefix of the password is refused", auth, "PAM_AUTH_ERR")
    auth, _, _ = sign_in(p, svc, "bob", STRONG)
    check_eq("wrong password: the right one still works after", auth, "PAM_SUCCESS")
    check_match("wrong password: success clears the failures",
                r"(?m)^consecutive failures:\s*0$", show(p, "bob"))
    p.stop_checked()


@test
def unmanaged_user_ignored():
    p = Portal()
    p.add_user("alice", "alice@example.org")
    deny = p.service("deny-after", then="deny")
    permit = p.service("permit-after", then="permit")
    d = p.dialog(deny, "nobody-here")
    auth, acct, before = d.result()
    check_eq("unmanaged: no message or prompt at all", before, [])
    check_eq("unmanaged: PAM_IGNORE falls through to pam_deny", auth, "PAM_AUTH_ERR")
    d = p.dialog(permit, "nobody-here")
    auth, acct, before = d.result()
    check_eq("unmanaged: PAM_IGNORE falls through to pam_permit", auth, "PAM_SUCCESS")
    check_eq("unmanaged: then account management runs", acct, "PAM_SUCCESS")
    check_eq("unmanaged: silent on the permit stack too", before, [])
    # root is never managed unless added: same path as any unknown name
    auth, _, before = p.dialog(permit, "root").result()
    check_eq("unmanaged: root falls through", (auth, before), ("PAM_SUCCESS", []))
    # ... whereas a managed user never reaches pam_permit on a failure
    d = p.dialog(permit, "alice")
    d.until("ECHO_ON", EN["email"])
    d.answer("q")
    auth, _, _ = d.result()
    check_eq("managed: a cancelled verification does not fall through to pam_permit",
             auth, "PAM_AUTH_ERR")
    p.stop_checked()


@test
def email_not_on_file():
    # resend_interval 0: the second attempt may ask for a code at once
    p = Portal(resend_interval="0")
    p.add_user("carol", "carol@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "carol")
    d.until("ECHO_ON", EN["email"])
    d.answer("someone.else@example.org")
    wrong_msgs, _ = d.until("ECHO_ON", EN["code"])
    d.answer("q")
    d.expect("INFO", EN["cancelled"])
    d.result()

    d = p.dialog(svc, "carol")
    d.until("ECHO_ON", EN["email"])
    d.answer("carol@example.org")
    right_msgs, _ = d.until("ECHO_ON", EN["code"])
    check_eq("not on file: the same messages as for the address on file",
             wrong_msgs, right_msgs)
    check("not on file: the message is the code-sent one",
          any(k == "INFO" and re.search(EN["sent"], t) for k, t in right_msgs), right_msgs)
    # A mail to the wrong address would have been queued first: once the
    # outbox is idle, it would have been sent too.
    code = wait_code(p, "carol@example.org", 1)
    mails = p.mails()
    check_eq("not on file: exactly one mail was sent, to the address on file",
             [m.rcpt for m in mails], [["carol@example.org"]])
    check("not on file: nothing to the address typed",
          not p.mails("someone.else@example.org"), "a mail went out")
    d.answer(code)
    d.expect("INFO", EN["verified"])
    d.expect("ECHO_ON", EN["continue"])
    d.answer("q")
    d.expect("INFO", EN["cancelled"])
    auth, _, _ = d.result()
    check_eq("not on file: the real code then works", auth, "PAM_AUTH_ERR")
    p.stop_checked()


@test
def after_reset_continue():
    p = Portal()
    p.add_user("dave", "dave@example.org")
    svc = p.service("cont", "after_reset=continue")
    d = p.dialog(svc, "dave")
    code = ask_code(p, d, "dave", "dave@example.org")
    enter_code_and_password(d, code)
    msg = d.expect("INFO", EN["created"])
    check("continue: no 'sign in again' in the message", "again" not in msg, msg)
    auth, acct, _ = d.result()
    check_eq("continue: PAM_SUCCESS right after the password is created", auth, "PAM_SUCCESS")
    check_eq("continue: account management runs", acct, "PAM_SUCCESS")
    auth, _, _ = sign_in(p, svc, "dave", STRONG)
    check_eq("continue: the password works afterwards", auth, "PAM_SUCCESS")
    p.stop_checked()


@test
def helper_down():
    p = Portal(smtp=False, start=False)
    svc = p.service("permit-after", "lang=en", then="permit")
    d = p.dialog(svc, "alice")
    auth, acct, before = d.result()
    check_eq("helper down (no socket): PAM_AUTHINFO_UNAVAIL, not the permit below",
             auth, "PAM_AUTHINFO_UNAVAIL")
    check("helper down (no socket): an error message says the service is unavailable",
          len(before) == 1 and before[0][0] == "ERROR" and "unavailable" in before[0][1],
          before)
    # A helper that was there and stopped leaves no way in either.
    p.start()
    p.add_user("alice", "alice@example.org")
    check_eq("helper down: portald stops with status 0", p.stop(), 0)
    auth, _, before = p.dialog(svc, "alice").result()
    check_eq("helper stopped: PAM_AUTHINFO_UNAVAIL", auth, "PAM_AUTHINFO_UNAVAIL")
    check("helper stopped: the unavailable message",
          [k for k, _ in before] == ["ERROR"], before)
    # ... and it comes back with its data.
    p.start()
    d = p.dialog(svc, "alice")
    d.until("ECHO_ON", EN["email"])
    d.answer("")
    auth, _, _ = d.result()
    check_eq("helper restarted: the user is still pending (empty answer cancels)",
             auth, "PAM_AUTH_ERR")
    p.stop_checked()


@test
def survives_kill_9():
    """What the helper acknowledged is on disk: a created password and a
    failure count outlive kill -9."""
    p = Portal()
    p.add_user("lea", "lea@example.org")
    svc = p.service("login")
    full_flow(p, svc, "lea", "lea@example.org")
    check_eq("kill -9: a wrong password first", sign_in(p, svc, "lea", "wrong " + STRONG)[0],
             "PAM_AUTH_ERR")
    p.proc.kill()
    p.proc.wait()
    p.start()
    out = p.ctl("user", "show", "lea")[1]
    check_match("kill -9: the user is still active", r"(?m)^state:\s*active", out)
    check_match("kill -9: the failure is still counted", r"(?m)^consecutive failures:\s*1$", out)
    check_eq("kill -9: the password still signs in", sign_in(p, svc, "lea", STRONG)[0],
             "PAM_SUCCESS")
    p.stop_checked()


@test
def change_address_and_cancel():
    p = Portal(resend_interval="0")
    p.add_user("erin", "erin@example.org")
    svc = p.service("login")

    # e at the code prompt: back to the address
    d = p.dialog(svc, "erin")
    ask_code(p, d, "erin", "erin@example.org")
    d.answer("e")
    d.expect("ECHO_ON", EN["email"])
    d.answer("erin.new@example.org")
    d.until("ECHO_ON", EN["code"])
    d.answer("q")
    msg = d.expect("INFO", EN["cancelled"])
    auth, _, _ = d.result()
    check_eq("e then q: PAM_AUTH_ERR", auth, "PAM_AUTH_ERR")
    check_match("e then q: the cancel message says nothing changed", r"(?i)nothing", msg)
    out = p.ctl("user", "show", "erin")[1]
    check_match("e: the address on file is unchanged", r"(?m)^e-mail:\s*erin@example\.org$", out)
    check_match("q: the user is still pending", r"(?m)^state:\s*pending", out)
    check_match("q: no password", r"(?m)^password set:\s*no$", out)

    # e at the continue prompt, after a right code
    d = p.dialog(svc, "erin")
    code = ask_code(p, d, "erin", "erin@example.org")
    d.answer(code)
    d.expect("INFO", EN["verified"])
    d.expect("ECHO_ON", EN["continue"])
    d.answer("x")
    d.expect("ECHO_ON", EN["continue"])   # not a choice: asked again
    d.answer("E")
    d.expect("ECHO_ON", EN["email"])
    d.answer("q")
    d.expect("INFO", EN["cancelled"])
    auth, _, _ = d.result()
    check_eq("e after verification: back to the address, then q cancels", auth, "PAM_AUTH_ERR")
    out = p.ctl("user", "show", "erin")[1]
    check_match("e after verification: address unchanged",
                r"(?m)^e-mail:\s*erin@example\.org$", out)
    check_match("e after verification: still no password", r"(?m)^password set:\s*no$", out)

    # q at the continue prompt and an empty password both cancel
    d = p.dialog(svc, "erin")
    code = ask_code(p, d, "erin", "erin@example.org")
    d.answer(code)
    d.expect("INFO", EN["verified"])
    d.expect("ECHO_ON", EN["continue"])
    d.answer("q")
    d.expect("INFO", EN["cancelled"])
    check_eq("q at the continue prompt: PAM_AUTH_ERR", d.result()[0], "PAM_AUTH_ERR")
    d = p.dialog(svc, "erin")
    code = ask_code(p, d, "erin", "erin@example.org")
    d.answer(code)
    d.expect("INFO", EN["verified"])
    d.expect("ECHO_ON", EN["continue"])
    d.answer("")
    d.expect("ECHO_OFF", EN["new_password"])
    d.answer("")
    d.expect("INFO", EN["cancelled"])
    check_eq("empty new password: cancels", d.result()[0], "PAM_AUTH_ERR")
    check_match("after every cancel: still pending",
                r"(?m)^state:\s*pending", p.ctl("user", "show", "erin")[1])
    p.stop_checked()


@test
def conversation_failure():
    p = Portal()
    p.add_user("frank", "frank@example.org")
    svc = p.service("login")
    d = p.dialog(svc, "frank")
    d.until("ECHO_ON", EN["email"])
    d.conv_error()
    auth, _, before = d.result()
    check_eq("conversation error: fails closed", auth, "PAM_AUTH_ERR")
    check("conversation error: not taken for a cancel (no message after it)",
          before == [], before)
    d = p.dialog(svc, "frank")
    d.until("ECHO_ON", EN["email"])
    d.close_input()
    auth, _, _ = d.result()
    check_eq("no input at all: fails closed", auth, "PAM_AUTH_ERR")
    check("conversation error: no code was asked for", not p.mails(), "mail sent")
    p.stop_checked()


@test
def languages():
    # language = fr in the config, nothing on the PAM line: French
    p = Portal(language="fr")
    p.add_user("gina", "gina@example.org")
    p.add_user("hugo", "hugo@example.org")
    fr = p.service("fr")
    en = p.service("en", "lang=en")
    d = p.dialog(fr, "gina")
    intro = d.expect("INFO")
    check_match("fr: the intro in French, with the date in French",
                r"nouveau portail.*30 octobre 2023", intro)
    prompt = d.expect("ECHO_ON")
    check_match("fr: the address prompt in French", r"Adresse courriel.*Test College.*q", prompt)
    check("fr: French prompts end with ' : '", prompt.endswith(" : "), repr(prompt))
    d.answer("gina@example.org")
    sent = d.expect("INFO", FR["sent"])
    check_match("fr: validity in French", r"10 minutes", sent)
    d.expect("ECHO_ON", FR["code"])
    code = wait_code(p, "gina@example.org", 1)
    enter_code_and_password(d, code, words=FR)
    d.expect("INFO", FR["created"])
    check_eq("fr: the whole flow in French", d.result()[0], "PAM_AUTH_ERR")
    auth, _, d = sign_in(p, fr, "gina", STRONG, words=FR)
    check_eq("fr: password sign-in", auth, "PAM_SUCCESS")
    check_match("fr: the password prompt in French", r"^Mot de passe", d.transcript[0][9:])

    # lang=en on the PAM line wins over language = fr
    d = p.dialog(en, "hugo")
    intro = d.expect("INFO")
    check_match("lang=en over language=fr: English intro", r"new portal.*30 October 2023", intro)
    prompt = d.expect("ECHO_ON")
    check_match("lang=en over language=fr: English prompt", EN["email"], prompt)
    check("English prompts end with ': '", prompt.endswith(": ") and not prompt.endswith(" : "),
          repr(prompt))
    d.answer("q")
    msg = d.expect("INFO")
    check_match("lang=en: English cancel message", EN["cancelled"], msg)
    d.result()
    p.stop_checked()

    # and the other way round
    p = Portal(language="en")
    p.add_user("ines", "ines@example.org")
    d = p.dialog(p.service("fr", "lang=fr"), "ines")
    check_match("lang=fr over language=en: French intro", FR["intro"], d.expect("INFO"))
    check_match("lang=fr over language=en: French prompt", FR["email"], d.expect("ECHO_ON"))
    d.answer("q")
    check_match("lang=fr: French cancel message", FR["cancelled"], d.expect("INFO"))
    d.result()
    d = p.dialog(p.service("en"), "ines")
    check_match("language=en: English intro", EN["intro"], d.expect("INFO"))
    d.until("ECHO_ON")
    d.answer("q")
    d.result()
    p.stop_checked()


@test
def cutover_moved_forward():
    """Dormant-account re-verification: moving the cutover past a user's
    last sign-in makes them pending again (SIGHUP re-reads the config)."""
    p = Portal()
    p.add_user("kim", "kim@example.org")
    svc = p.service("login")
    full_flow(p, svc, "kim", "kim@example.org")
    check_match("cutover: active after the flow", r"(?m)^state:\s*active",
                p.ctl("user", "show", "kim")[1])
    tomorrow = time.localtime(time.time() + 86400)
    p.conf["cutover"] = time.strftime("%Y-%m-%d", tomorrow)
    p.write_config()
    p.proc.send_signal(signal.SIGHUP)
    shown = p.wait_user("kim", r"(?m)^state:\s*pending")     # the new cutover taken
    check_match("cutover moved: dormant since the cutover", r"(?m)^state:\s*pending.*dormant",
                shown)
    d = p.dialog(svc, "kim")
    intro = d.expect("INFO")
    check_match("cutover moved: the intro names the new date",
                r"%d %s %d" % (tomorrow.tm_mday, time.strftime("%B", tomorrow),
                               tomorrow.tm_year), intro)
    # (A cutover in the future keeps everyone pending until that day, so
    # the verification itself is not taken to the end here.)
    d.until("ECHO_ON", EN["email"])
    d.answer("q")
    check_eq("cutover moved: the old password no longer signs in", d.result()[0],
             "PAM_AUTH_ERR")
    p.stop_checked()


@test
def first_pass_options():
    # pam_unix above the module asks for the password (even for a user it
    # does not know) and leaves it for the modules below.
    p = Portal()
    p.add_user("ptfirst", "ptfirst@example.org")
    full_flow(p, p.service("login"), "ptfirst", "ptfirst@example.org")
    unix = "auth optional pam_unix.so\n"
    use = p.service("use", "use_first_pass", before=unix)
    try_ = p.service("try", "try_first_pass", before=unix)
    d = p.dialog(use, "ptfirst")
    d.expect("ECHO_OFF")
    d.answer(STRONG)
    auth, _, before = d.result()
    check_eq("use_first_pass: the earlier password signs in", auth, "PAM_SUCCESS")
    check_eq("use_first_pass: asked once only", before, [])
    d = p.dialog(use, "ptfirst")
    d.expect("ECHO_OFF")
    d.answer("not the password at all")
    auth, _, before = d.result()
    check_eq("use_first_pass: a wrong earlier password fails, not asked again",
             (auth, before), ("PAM_AUTH_ERR", []))
    d = p.dialog(try_, "ptfirst")
    d.expect("ECHO_OFF")
    d.answer("not the password at all")
    d.expect("ECHO_OFF", EN["password"])
    d.answer(STRONG)
    check_eq("try_first_pass: a wrong earlier password, then asked again",
             d.result()[0], "PAM_SUCCESS")
    d = p.dialog(try_, "ptfirst")
    d.expect("ECHO_OFF")
    d.answer(STRONG)
    auth, _, before = d.result()
    check_eq("try_first_pass: the right earlier password, no second prompt",
             (auth, before), ("PAM_SUCCESS", []))
    p.stop_checked()


@test
def bad_pam_option():
    p = Portal()
    p.add_user("alice", "alice@example.org")
    d = p.dialog(p.service("typo", "use_frist_pass", then="permit"), "alice")
    auth, _, before = d.result()
    check("unknown pam.d option: fails closed, not PAM_SUCCESS through pam_permit",
          auth not in ("PAM_SUCCESS", "PAM_IGNORE"), auth)
    check_eq("unknown pam.d option: PAM_SERVICE_ERR", auth, "PAM_SERVICE_ERR")
    check_eq("unknown pam.d option: no conversation", before, [])
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
