#!/usr/bin/python3
"""check_deb_root.py DIR - install the package `make deb` built into DIR in
a clean Debian root and sign a member in through it (`make deb-test`).

The root is a debootstrap --variant=minbase of the machine's own Debian
release and mirror, made once and kept as DIR/minbase.tar (a minute and a
half; unpacking it again takes seconds); the package goes
in with apt (which brings its dependencies), as an administrator would.
Then, in the root (chroot, the machine's network, no systemd): the account
portald and its folder are there; portald, started as root with the
packaged configuration (only the mail server changed, to a loopback test
server), becomes portald; portalctl adds a member; the real libpam of the
root finds pam_portal.so by its bare name in a pam.d file of its own
(pptest-portal) and the member goes through the whole French conversation
of DESIGN.md, then signs in with the new password.  Last, apt purge takes
the database away and leaves the account.

Needs root and the network to the Debian mirror; leaves nothing behind
but DIR/minbase.tar (the root is removed, portald and the SMTP server are
stopped, also on failure).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import portaltest  # noqa: E402
from portaltest import (BUILD, FR, START_TIMEOUT, STRONG, Cleanup, Smtpd, check, check_eq,
                        check_match, full_flow, run_tests, sign_in, test, wait_for)

OUT = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(BUILD, "deb")
DEBS = sorted(f for f in os.listdir(OUT) if re.match(r"libpam-portal_.*\.deb$", f)) \
    if os.path.isdir(OUT) else []
TARBALL = os.path.join(OUT, "minbase.tar")


def run(*argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 900)
    return subprocess.run(list(argv), **kw)


def mirror_and_suite():
    """The first Debian mirror and suite of this machine's apt sources
    (deb822 or one-line form)."""
    for path in ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]:
        try:
            text = open(path).read()
        except OSError:
            continue
        m = re.search(r"(?m)^URIs:\s*(\S+)\s*\nSuites:\s*(\S+)", text) or \
            re.search(r"(?m)^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)\s+main", text)
        if m:
            return m.group(1), m.group(2)
    return None, None


class Root:
    """A fresh minbase root, unpacked from DIR/minbase.tar (debootstrap
    makes that once)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pptest-root-")
        Cleanup.add(lambda: shutil.rmtree(self.dir, ignore_errors=True))
        if not os.path.exists(TARBALL):
            mirror, suite = mirror_and_suite()
            if not mirror:
                raise portaltest.TestError("no Debian mirror in the apt sources")
            r = run("debootstrap", "--variant=minbase", suite, self.dir, mirror)
            if r.returncode != 0:
                raise portaltest.TestError("debootstrap: " + r.stdout[-2000:] + r.stderr[-2000:])
            run("tar", "-C", self.dir, "-cf", TARBALL + ".part", ".", check=True)
            os.replace(TARBALL + ".part", TARBALL)
        else:
            run("tar", "-C", self.dir, "-xf", TARBALL, check=True)
        # mkdtemp's 0700 (kept in the tarball) would bar every account but
        # root from the root's "/".
        os.chmod(self.dir, 0o755)
        shutil.copy("/etc/resolv.conf", self.path("/etc/resolv.conf"))

    def path(self, p):
        return os.path.join(self.dir, p.lstrip("/"))

    def run(self, *argv, env=None):
        e = env or {"LC_ALL": "C.UTF-8"}
        e.update({"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"})
        return run("chroot", self.dir, *argv, env=e)

    def passwd(self, name):
        for line in open(self.path("/etc/passwd")):
            f = line.rstrip("\n").split(":")
            if f[0] == name:
                return f
        return None


@test
def the_package_installs_and_a_member_signs_in():
    if not check_eq("one libpam-portal .deb in " + OUT, len(DEBS), 1):
        return
    if not check_eq("run as root (chroot, debootstrap)", os.geteuid(), 0):
        return
    root = Root()
    shutil.copy(os.path.join(OUT, DEBS[0]), root.path("/tmp/"))
    r = root.run("sh", "-c", "apt-get update -q && apt-get install -y -q "
                 "--no-install-recommends /tmp/" + DEBS[0])
    if not check_eq("apt-get install ./%s in a clean root" % DEBS[0], r.returncode, 0):
        print(r.stdout[-3000:] + r.stderr[-3000:])
        return

    pw = root.passwd("portald")
    check("postinst made the system account portald, home /var/lib/portald, no shell",
          pw and int(pw[2]) < 1000 and pw[5] == "/var/lib/portald" and pw[6].endswith("nologin"),
          pw)
    st = os.stat(root.path("/var/lib/portald"))
    check_eq("/var/lib/portald is portald's alone",
             (st.st_uid, oct(st.st_mode & 0o777)), (int(pw[2]) if pw else -1, "0o700"))
    r = root.run("dpkg-query", "-W", "-f=${Conffiles}", "libpam-portal")
    check_match("/etc/portald/portald.conf is a conffile", r"/etc/portald/portald\.conf", r.stdout)
    r = root.run("ldd", "/usr/sbin/portald", "/lib/%s/security/pam_portal.so" %
                 run("dpkg-architecture", "-qDEB_HOST_MULTIARCH").stdout.strip())
    check("the programs find every library they need in the root",
          r.returncode == 0 and "not found" not in r.stdout, r.stdout)

    # The administrator's edit: the mail server (a loopback test server).
    smtp_dir = tempfile.mkdtemp(prefix="pptest-smtp-")
    Cleanup.add(lambda: shutil.rmtree(smtp_dir, ignore_errors=True))
    smtpd = Smtpd(smtp_dir)
    Cleanup.add(smtpd.stop)
    conf_path = root.path("/etc/portald/portald.conf")
    conf = open(conf_path).read()
    conf = re.sub(r"(?m)^#smtp_server = .*$", "smtp_server = 127.0.0.1:%d" % smtpd.port, conf)
    conf = re.sub(r"(?m)^#smtp_tls = .*$", "smtp_tls = none", conf)
    open(conf_path, "w").write(conf)

    # portald as an administrator without systemd starts it: as root.
    log = open(os.path.join(smtp_dir, "portald.log"), "w")
    portald = subprocess.Popen(["chroot", root.dir, "/usr/sbin/portald", "-f", "-c",
                                "/etc/portald/portald.conf"], stdout=log,
                               stderr=subprocess.STDOUT)

    def stop():
        if portald.poll() is None:
            portald.send_signal(signal.SIGTERM)
            portald.wait(timeout=10)
    Cleanup.add(stop)
    sock = root.path("/run/portald/portald.sock")
    wait_for("portald's socket", lambda: os.path.exists(sock) or portald.poll() is not None,
             START_TIMEOUT)
    if not check("portald starts from the packaged configuration", portald.poll() is None,
                 open(log.name).read()):
        return

    def uids():
        with open("/proc/%d/status" % portald.pid) as f:
            return [l.split()[1:] for l in f if l.startswith("Uid:")][0]
    # It gives root up once its files are open, just after the socket.
    try:
        wait_for("portald to become portald", lambda: pw and uids() == [pw[2]] * 4,
                 START_TIMEOUT)
    except portaltest.TestError:
        pass
    check_eq("portald runs as portald (real, effective, saved, fs uid)", uids(),
             [pw[2]] * 4 if pw else None)
    check_eq("its socket is portald's", os.stat(sock).st_uid, int(pw[2]) if pw else -1)

    r = root.run("portalctl", "user", "add", "alice", "alice@example.org")
    check_eq("portalctl user add in the root", r.returncode, 0)
    r = root.run("portalctl", "user", "show", "alice", env={"LANG": "fr_CA.UTF-8"})
    check_match("portalctl speaks French with LANG=fr_CA", r"(?m)^état:\s+pending", r.stdout)

    # The root's libpam finds the module by its bare name, in its own folder.
    with open(root.path("/etc/pam.d/pptest-portal"), "w") as f:
        f.write("auth [success=done ignore=ignore default=die] pam_portal.so\n"
                "auth requisite pam_deny.so\n"
                "account required pam_portal.so\n"
                "account required pam_permit.so\n")
    shutil.copy(portaltest.PAMCONV, root.path("/usr/local/bin/pamconv"))
    wrapper = os.path.join(smtp_dir, "pamconv-in-root")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nexec chroot %s /usr/local/bin/pamconv "$@"\n' % root.dir)
    os.chmod(wrapper, 0o755)
    portaltest.PAMCONV = wrapper

    def ctl(*args):
        r = root.run("portalctl", *args)
        return r.returncode, r.stdout, r.stderr

    class Installed:
        """What full_flow needs of a Portal: PAM services and the mail."""
        def __init__(self):
            self.smtpd = smtpd

        def dialog(self, service, user):
            return portaltest.Dialog("/etc/pam.d", service, user)

        def mails(self, to=None):
            """The mail sent, once the packaged portald has none waiting."""
            portaltest.wait_outbox_idle(lambda: ctl("status"), lambda: ctl("outbox"))
            return smtpd.mails(to)

    site = Installed()
    auth, d = full_flow(site, "pptest-portal", "alice", "alice@example.org", words=FR)
    check_eq("the whole conversation in French, then sign in again (after_reset=relogin)",
             auth, "PAM_AUTH_ERR")
    auth, acct, d = sign_in(site, "pptest-portal", "alice", STRONG, words=FR)
    check_eq("alice signs in with her new password", (auth, acct), ("PAM_SUCCESS", "PAM_SUCCESS"))
    notices = [m for m in site.mails("alice@example.org") if not m.code]
    check("the notice of the new password went to alice", notices)
    stop()

    r = root.run("apt-get", "purge", "-y", "-q", "libpam-portal")
    check_eq("apt-get purge libpam-portal", r.returncode, 0)
    check("purge removes /var/lib/portald", not os.path.exists(root.path("/var/lib/portald")))
    check("purge removes /etc/portald/portald.conf",
          not os.path.exists(root.path("/etc/portald/portald.conf")))
    check("purge keeps the account portald", root.passwd("portald"))


if __name__ == "__main__":
    sys.exit(run_tests())
