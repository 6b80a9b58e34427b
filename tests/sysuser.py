"""sysuser.py - throwaway system accounts for tests that run a client (or
portald) as someone other than root.

SystemUser() makes `pptest-XXXXXX` with useradd --system (no home, no
shell) and removes it, with its group, when the test ends, when Python
exits, and on SIGINT, SIGTERM or SIGHUP (the handlers remove it, then let
the signal do what it would have done).  as_user(argv) is the argv that
runs a program as it (setpriv: that uid and gid, no other group).
"""
import atexit
import os
import pwd
import secrets
import signal
import subprocess

_made = []


def _remove_all():
    while _made:
        name = _made.pop()
        subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)


def _on_signal(sig, frame):
    _remove_all()
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)


atexit.register(_remove_all)
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


class SystemUser:
    def __init__(self):
        if os.geteuid() != 0:
            raise PermissionError("making a system account needs root")
        self.name = "pptest-" + secrets.token_hex(3)
        _made.append(self.name)
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", self.name],
                       check=True, capture_output=True)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid

    def as_user(self, argv):
        return ["setpriv", "--reuid=%d" % self.uid, "--regid=%d" % self.gid,
                "--clear-groups", "--"] + list(argv)

    def remove(self):
        if self.name in _made:
            _made.remove(self.name)
            subprocess.run(["userdel", self.name], capture_output=True)
            subprocess.run(["groupdel", self.name], capture_output=True)
