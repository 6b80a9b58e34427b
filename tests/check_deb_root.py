#!/usr/bin/python3
"""check_deb_root.py DIR - install the package `make deb` built into DIR in
a clean Debian root and sign a member in through it (`make deb-test`).

The root is a debootstrap --variant=minbase of the machine's own Debian
release and mirror (tools/minbase.sh, kept as build/minbase.tar); the
package goes in with apt (which brings its dependencies), as an
administrator would.  Then, in the root (chroot, the machine's network, no
systemd): the account portald and its folder are there; portald, started
as root with the packaged configuration (only the mail server changed, to
a loopback test server), becomes portald; portalctl adds a member;
`pam-auth-update --enable portal` puts the packaged profile in the root's
common-auth, common-account and common-password, and the member, an
account of the root, goes through the whole French conversation of
DESIGN.md by the root's real libpam, in a service that only includes
those, then signs in with the new password.  Last, apt purge takes the
module out of the common-* files, the database away, and leaves the
account.

Needs root and the network to the Debian mirror; leaves nothing behind
but build/minbase.tar (the root is removed, portald and the SMTP server
are stopped, also on failure).
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
from portaltest import (BUILD, FR, ROOT, START_TIMEOUT, STRONG, Cleanup, Smtpd,
                        TestError, check, check_eq, check_match, full_flow, run_tests, sign_in,
                        test, wait_for)

OUT = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(BUILD, "deb")
DEBS = sorted(f for f in os.listdir(OUT) if re.match(r"libpam-portal_.*\.deb$", f)) \
    if os.path.isdir(OUT) else []
TARBALL = os.path.join(BUILD, "minbase.tar")
MINBASE = os.path.join(ROOT, "tools", "minbase.sh")
MEMBER = "alice"
ADDRESS = "alice@example.org"
# Every group of the service goes through what pam-auth-update wrote.
SERVICE = "@include common-auth\n@include common-account\n@include common-password\n"


def run(*argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 900)
    return subprocess.run(list(argv), **kw)


class Root:
    """A fresh minbase root (tools/minbase.sh)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pptest-root-")
        Cleanup.add(lambda: shutil.rmtree(self.dir, ignore_errors=True))
        r = run("bash", MINBASE, TARBALL, self.dir)
        if r.returncode != 0:
            raise portaltest.TestError("tools/minbase.sh: " + r.stdout[-2000:] + r.stderr[-2000:])

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


def install(root):
    """apt-get install the package in root; whether it went in."""
    shutil.copy(os.path.join(OUT, DEBS[0]), root.path("/tmp/"))
    r = root.run("sh", "-c", "apt-get update -q && apt-get install -y -q "
                 "--no-install-recommends /tmp/" + DEBS[0])
    if not check_eq("apt-get install ./%s in a clean root" % DEBS[0], r.returncode, 0):
        print(r.stdout[-3000:] + r.stderr[-3000:])
        return False
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
    for group in ("auth", "account", "password"):
        check("installing the profile (Default: no) leaves common-%s without the module" % group,
              "pam_portal" not in open(root.path("/etc/pam.d/common-" + group)).read())
    return True


def start_portald(root, smtpd, scratch):
    """portald from the packaged configuration, as an administrator without
    systemd starts it (as root), with only the mail server changed to
    smtpd; the process, or None when it did not start."""
    conf_path = root.path("/etc/portald/portald.conf")
    conf = open(conf_path).read()
    conf = re.sub(r"(?m)^#smtp_server = .*$", "smtp_server = 127.0.0.1:%d" % smtpd.port, conf)
    conf = re.sub(r"(?m)^#smtp_tls = .*$", "smtp_tls = none", conf)
    open(conf_path, "w").write(conf)

    log = open(os.path.join(scratch, "portald.log"), "w")
    portald = subprocess.Popen(["chroot", root.dir, "/usr/sbin/portald", "-f", "-c",
                                "/etc/portald/portald.conf"], stdout=log,
                               stderr=subprocess.STDOUT)

    def stop():
        if portald.poll() is None:
            portald.send_signal(signal.SIGTERM)
            portald.wait(timeout=START_TIMEOUT)
    Cleanup.add(stop)
    sock = root.path("/run/portald/portald.sock")
    wait_for("portald's socket", lambda: os.path.exists(sock) or portald.poll() is not None,
             START_TIMEOUT)
    if not check("portald starts from the packaged configuration", portald.poll() is None,
                 open(log.name).read()):
        return None

    pw = root.passwd("portald")

    def uids():
        with open("/proc/%d/status" % portald.pid) as f:
            return [l.split()[1:] for l in f if l.startswith("Uid:")][0]
    # It gives root up once its files are open, just after the socket.
    try:
        wait_for("portald to become portald", lambda: pw and uids() == [pw[2]] * 4,
                 START_TIMEOUT)
    except TestError:
        pass
    check_eq("portald runs as portald (real, effective, saved, fs uid)", uids(),
             [pw[2]] * 4 if pw else None)
    check_eq("its socket is portald's", os.stat(sock).st_uid, int(pw[2]) if pw else -1)
    return portald


def enable_profile(root):
    """pam-auth-update --enable portal in the root, as the README says."""
    r = root.run("pam-auth-update", "--enable", "portal")
    check_eq("pam-auth-update --enable portal in the root", (r.returncode, r.stderr), (0, ""))
    # auth and password: a Primary module of a higher priority than
    # pam_unix; account: Additional, after pam_unix's block.
    for group, first, then in (("auth", "pam_portal.so", "pam_unix.so"),
                               ("account", "pam_unix.so", "pam_portal.so"),
                               ("password", "pam_portal.so", "pam_unix.so")):
        with open(root.path("/etc/pam.d/common-" + group)) as f:
            modules = re.findall(r"(?m)^%s\s+(?:\[[^]]*\]|\S+)\s+(\S+)" % group, f.read())
        check("common-%s: %s, then %s" % (group, first, then),
              first in modules and then in modules and
              modules.index(first) < modules.index(then), modules)
    with open(root.path("/etc/pam.d/pptest-portal"), "w") as f:
        f.write(SERVICE)


def pamconv_in(root, scratch):
    """Dialogs run the test's pamconv inside the root, with its libpam."""
    shutil.copy(portaltest.PAMCONV, root.path("/usr/local/bin/pamconv"))
    wrapper = os.path.join(scratch, "pamconv-in-root")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nexec chroot %s /usr/local/bin/pamconv "$@"\n' % root.dir)
    os.chmod(wrapper, 0o755)
    portaltest.PAMCONV = wrapper


class Installed:
    """What full_flow needs of a Portal: the root's PAM services, the mail."""

    def __init__(self, root, smtpd):
        self.root = root
        self.smtpd = smtpd

    def ctl(self, *args):
        r = self.root.run("portalctl", *args)
        return r.returncode, r.stdout, r.stderr

    def dialog(self, service, user):
        return portaltest.Dialog("/etc/pam.d", service, user)

    def mails(self, to=None):
        """The mail sent, once the packaged portald has none waiting."""
        portaltest.wait_outbox_idle(lambda: self.ctl("status"), lambda: self.ctl("outbox"))
        return self.smtpd.mails(to)


@test
def the_package_installs_and_a_member_signs_in():
    if not check_eq("one libpam-portal .deb in " + OUT, len(DEBS), 1):
        return
    if not check_eq("run as root (chroot, debootstrap)", os.geteuid(), 0):
        return
    root = Root()
    if not install(root):
        return
    scratch = tempfile.mkdtemp(prefix="pptest-smtp-")
    Cleanup.add(lambda: shutil.rmtree(scratch, ignore_errors=True))
    smtpd = Smtpd(scratch)
    portald = start_portald(root, smtpd, scratch)
    if portald is None:
        return

    # The member: an account of the root, and in the portal's directory.
    r = root.run("useradd", "--shell", "/bin/sh", MEMBER)
    check_eq("useradd %s in the root" % MEMBER, (r.returncode, r.stderr), (0, ""))
    r = root.run("portalctl", "user", "add", MEMBER, ADDRESS)
    check_eq("portalctl user add in the root", r.returncode, 0)
    r = root.run("portalctl", "user", "show", MEMBER, env={"LANG": "fr_CA.UTF-8"})
    check_match("portalctl speaks French with LANG=fr_CA", r"(?m)^état:\s+pending", r.stdout)

    # The root's libpam finds the module by its bare name, in the lines
    # pam-auth-update wrote from the packaged profile.
    enable_profile(root)
    pamconv_in(root, scratch)
    site = Installed(root, smtpd)
    auth, d = full_flow(site, "pptest-portal", MEMBER, ADDRESS, words=FR)
    check_eq("through common-*: the whole conversation in French, then sign in again "
             "(after_reset=relogin)", auth, "PAM_AUTH_ERR")
    auth, acct, d = sign_in(site, "pptest-portal", MEMBER, STRONG, words=FR)
    check_eq("through common-*: alice signs in with her new password", (auth, acct),
             ("PAM_SUCCESS", "PAM_SUCCESS"))
    check("the notice of the new password went to alice",
          [m for m in site.mails(ADDRESS) if not m.code])
    portald.send_signal(signal.SIGTERM)
    portald.wait(timeout=START_TIMEOUT)

    r = root.run("apt-get", "purge", "-y", "-q", "libpam-portal")
    check_eq("apt-get purge libpam-portal", r.returncode, 0)
    for group in ("auth", "account", "password"):
        check("prerm took pam_portal out of common-%s" % group,
              "pam_portal" not in open(root.path("/etc/pam.d/common-" + group)).read())
    check("purge removes /var/lib/portald", not os.path.exists(root.path("/var/lib/portald")))
    check("purge removes /etc/portald/portald.conf",
          not os.path.exists(root.path("/etc/portald/portald.conf")))
    check("purge keeps the account portald", root.passwd("portald"))


if __name__ == "__main__":
    sys.exit(run_tests())
