#!/usr/bin/python3
"""test_keyfile.py - the key file and what a copy of the database gives
(issue 14, finding 4).

- key_file puts the keys outside the database folder; a database without
  its key, or with a key that is not its own, is refused at start with the
  reason, and nothing is changed (putting the key back starts it again).
- A copy of the database folder with its key, taken while a member's code
  is live: every code of the 10^6 is tried offline, as the old format
  allowed in about a second, and none matches, because a code is hashed
  with the handle of its request, which is not on disk.  (The check is
  real: the test finds the hash of a code whose handle it knows.)
- "Too soon": after a wait answer, a code stolen from the member's mailbox
  cannot be typed in another conversation while the member's own request
  is in flight.

The key derivation is libsodium's crypto_kdf (BLAKE2b, the subkey id as
its salt, the context as its personalisation), redone here with hashlib.
"""
import hashlib
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire
from portaltest import (CHILD_ENV, EN, PORTALD, STEP_TIMEOUT, Portal, ask_code, check, check_eq,
                        check_match, enter_code_and_password, run_tests, test, wait_code)

KDF_CONTEXT = b"portald_"
SUBKEY_CODE = 1


def code_key(master):
    """portald's code subkey, as crypto_kdf_derive_from_key makes it."""
    return hashlib.blake2b(b"", digest_size=32, key=master,
                           salt=struct.pack("<Q", SUBKEY_CODE) + bytes(8),
                           person=KDF_CONTEXT + bytes(8)).digest()


def windows(data, n=32):
    """Every n bytes of data, at every offset: the hashes a file may hold."""
    return {data[i:i + n] for i in range(len(data) - n + 1)}


def portald(p, flag):
    """portald -f (a start that is to fail) or -t on p's configuration:
    (exit status, what it said)."""
    r = subprocess.run([PORTALD, flag, "-c", p.conf_path], capture_output=True, text=True,
                       env=CHILD_ENV, timeout=STEP_TIMEOUT)
    return r.returncode, r.stdout + r.stderr


@test
def key_file_outside_the_database_folder():
    p = Portal(start=False)
    keys = os.path.join(p.dir, "keys")
    os.mkdir(keys, 0o700)
    p.conf["key_file"] = os.path.join(keys, "portal.key")
    p.write_config()
    p.start()
    p.add_user("alice", "alice@example.org")
    st = os.stat(p.conf["key_file"])
    check("key_file: the key is made where it says, 32 bytes, mode 0600",
          st.st_size == 32 and st.st_mode & 0o7777 == 0o600, st)
    check("... and not beside the database",
          not os.path.exists(p.conf["database"] + ".key"), os.listdir(os.path.dirname(
              p.conf["database"])))
    d = p.dialog(p.service("login"), "alice")
    enter_code_and_password(d, ask_code(p, d, "alice", "alice@example.org"))
    check_match("... and a whole verification works with it", EN["created"], d.expect("INFO"))
    d.result()
    p.stop_checked()


@test
def a_database_without_its_key_is_refused():
    p = Portal()
    p.add_user("alice", "alice@example.org")
    p.stop()
    key = p.conf["database"] + ".key"
    saved = key + ".saved"
    os.rename(key, saved)
    with open(p.conf["database"], "rb") as f:
        before = f.read()
    rc, said = portald(p, "-f")
    check("database without its key: portald refuses to start (exit 1)", rc == 1, said)
    check("... and says which file is missing and what to do",
          key in said and "no key file" in said and "key_file" in said, said)
    rc, said = portald(p, "-t")
    check("... portald -t says so too", rc == 1 and key in said, said)
    check("... no new key was made", not os.path.exists(key), os.listdir(os.path.dirname(key)))
    with open(p.conf["database"], "rb") as f:
        check("... and the database is as it was", f.read() == before)
    os.rename(saved, key)
    p.start()
    check_match("the key put back: portald starts, the member is there",
                r"(?m)^user:\s*alice$", p.ctl("user", "show", "alice")[1])
    p.stop_checked()


@test
def a_key_that_is_not_the_databases_is_refused():
    p = Portal()
    p.add_user("alice", "alice@example.org")
    p.stop()
    key = p.conf["database"] + ".key"
    os.rename(key, key + ".saved")
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    rc, said = portald(p, "-f")
    check("another key: portald refuses to start (exit 1), saying why",
          rc == 1 and key in said and "not the key of this database" in said, said)
    os.replace(key + ".saved", key)
    p.start()
    check_match("its own key put back: portald starts, the member is there",
                r"(?m)^user:\s*alice$", p.ctl("user", "show", "alice")[1])
    p.stop_checked()


@test
def a_copy_of_the_database_folder_gives_no_code():
    p = Portal()
    p.add_user("alice", "alice@example.org")
    p.add_user("bob", "bob@example.org")
    d = p.dialog(p.service("login"), "alice")
    code = ask_code(p, d, "alice", "alice@example.org")
    # bob's request is the test's own: it knows the handle.
    r = wire.call(p.socket, wire.request(wire.REQ_SEND_CODE, (wire.TAG_USER, "bob"),
                                         (wire.TAG_EMAIL, "bob@example.org")))
    handle = r.get(wire.TAG_REQUEST) or b""
    bob_code = wait_code(p, "bob@example.org", 1)
    backup = os.path.join(p.dir, "backup")
    shutil.copytree(os.path.dirname(p.conf["database"]), backup)
    with open(os.path.join(backup, "portal.db"), "rb") as f:
        held = windows(f.read())
    with open(os.path.join(backup, "portal.db.key"), "rb") as f:
        key = code_key(f.read())
    found = [c for c in ("%06d" % i for i in range(1000000))
             if hashlib.blake2b(b"alice\0" + c.encode(), key=key, digest_size=32).digest()
             in held]
    check_eq("a copy of the database folder, with its key: no code of the 10^6 matches "
             "a hash in it", found, [])
    check("... the check is real: the hash of a code whose handle is known is found",
          len(handle) == wire.PORTAL_REQUEST_LEN and hashlib.blake2b(
              b"bob\0code\0" + handle + bob_code.encode(), key=key, digest_size=32).digest()
          in held, handle)
    check("... and no handle is on disk", handle not in open(os.path.join(
        backup, "portal.db"), "rb").read())
    enter_code_and_password(d, code)
    check_match("the member's own code still works", EN["created"], d.expect("INFO"))
    d.result()
    p.stop_checked()


@test
def too_soon_gives_no_way_in_for_a_stolen_code():
    """resend_interval 1 h: the member asks for a code; someone who has
    read it from the mailbox starts a conversation of their own, types the
    address (too soon: no new code) and the stolen code."""
    p = Portal(resend_interval="1h")
    p.add_user("carol", "carol@example.org")
    svc = p.service("login")
    member = p.dialog(svc, "carol", rhost="192.0.2.10")
    code = ask_code(p, member, "carol", "carol@example.org")
    thief = p.dialog(svc, "carol", rhost="203.0.113.7")
    thief.until("ECHO_ON", EN["email"])
    thief.answer("carol@example.org")
    said = thief.expect("ERROR")
    check_match("too soon: the other conversation is told the code works only where it was "
                "asked for", r"(?i)already sent.*another conversation.*only there", said)
    prompt = thief.expect("ECHO_ON", EN["code"])
    check_match("... and the prompt says no code was asked for here", r"(?i)none asked for here",
                prompt)
    thief.answer(code)
    check_match("... the stolen code is refused there", r"(?i)no longer works",
                thief.expect("ERROR"))
    thief.expect("ECHO_ON", EN["code"])
    thief.answer("q")
    thief.expect("INFO", EN["cancelled"])
    check_eq("... no sign-in, no password", thief.result()[0], "PAM_AUTH_ERR")
    enter_code_and_password(member, code)
    check_match("the member's own conversation goes on with it", EN["created"],
                member.expect("INFO"))
    member.result()
    check_eq("one code mail in all", len(p.mails("carol@example.org")) -
             len([m for m in p.mails("carol@example.org") if not m.code]), 1)
    p.stop_checked()


if __name__ == "__main__":
    sys.exit(run_tests())
