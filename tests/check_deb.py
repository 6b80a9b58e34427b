#!/usr/bin/python3
"""check_deb.py DIR - check the package `make deb` built into DIR: its
files, its conffiles, its dependencies, its maintainer scripts as
debhelper completed them (the account is made before the service is
enabled and started), and that lintian found no error.

Run by tools/make-deb.sh; prints PASS/FAIL lines like the other tests.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import ROOT, check, check_eq, check_match, run_tests, test

OUT = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "deb")
DEBS = glob.glob(os.path.join(OUT, "libpam-portal_*.deb"))
MULTIARCH = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], capture_output=True,
                           text=True).stdout.strip()


def deb_files(deb):
    """Files (not folders) of the package's data, path -> mode string."""
    out = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                         check=True).stdout
    files = {}
    for line in out.splitlines():
        mode, _, _, _, _, path = line.split(None, 5)
        if not mode.startswith("d"):
            files[path.lstrip(".")] = mode
    return files


def control(deb, name):
    with tempfile.TemporaryDirectory(prefix="portal-deb-") as d:
        subprocess.run(["dpkg-deb", "-e", deb, d], check=True)
        p = os.path.join(d, name)
        return open(p).read() if os.path.exists(p) else None


@test
def the_package_holds_what_make_install_puts():
    if not check_eq("one libpam-portal .deb in " + OUT, len(DEBS), 1):
        return
    files = deb_files(DEBS[0])
    man = ["/usr/share/man/man%s/%s.gz" % (f[-1], f)
           for f in os.listdir(os.path.join(ROOT, "man")) if re.search(r"\.[58]$", f)]
    samples = ["/usr/share/doc/libpam-portal/examples/" + f
               for f in os.listdir(os.path.join(ROOT, "config")) if f.startswith("pam.d-")]
    # dh_compress gzips the documents over 4 KiB.
    docs = ["README.md", "SECURITY.md"] + ["docs/" + f for f in os.listdir(os.path.join(ROOT, "docs"))
                                          if f.endswith(".md")]
    docs = ["/usr/share/doc/libpam-portal/" + f
            + (".gz" if os.path.getsize(os.path.join(ROOT, f)) > 4096 else "") for f in docs]
    want = sorted([
        "/lib/%s/security/pam_portal.so" % MULTIARCH,
        "/usr/sbin/portald", "/usr/sbin/portalctl",
        "/lib/systemd/system/portald.service", "/usr/lib/sysusers.d/portald.conf",
        "/etc/portald/portald.conf",
        "/usr/share/pam-configs/portal",
        "/usr/share/doc/libpam-portal/examples/portald.conf",
        "/usr/share/doc/libpam-portal/changelog.gz",
        "/usr/share/doc/libpam-portal/copyright",
    ] + man + samples + docs)
    check_eq("the package's files", sorted(files), want)
    check_eq("portald and portalctl are executable",
             [files["/usr/sbin/portald"], files["/usr/sbin/portalctl"]], ["-rwxr-xr-x"] * 2)
    unit = subprocess.run(["dpkg-deb", "--fsys-tarfile", DEBS[0]], capture_output=True,
                          check=True).stdout
    check("the packaged unit starts /usr/sbin/portald",
          b"ExecStart=/usr/sbin/portald -c /etc/portald/portald.conf" in unit)


@test
def the_package_ships_the_pam_auth_update_profile():
    if not DEBS:
        return
    with tempfile.TemporaryDirectory(prefix="portal-deb-") as d:
        subprocess.run(["dpkg-deb", "-x", DEBS[0], d], check=True)
        path = os.path.join(d, "usr/share/pam-configs/portal")
        shipped = open(path).read() if os.path.exists(path) else None
    with open(os.path.join(ROOT, "config", "pam-configs-portal")) as f:
        check_eq("/usr/share/pam-configs/portal is config/pam-configs-portal", shipped, f.read())
    check_match("the profile is not enabled by installing it", r"(?m)^Default: no$", shipped)


@test
def the_configuration_is_a_conffile():
    if DEBS:
        check_eq("conffiles", (control(DEBS[0], "conffiles") or "").split(),
                 ["/etc/portald/portald.conf"])


@test
def the_dependencies():
    if not DEBS:
        return
    fields = control(DEBS[0], "control")
    depends = re.search(r"(?m)^Depends: (.*)$", fields).group(1)
    for d in ("adduser", "cracklib-runtime", "libpam0g", "libsodium23", "libesmtp6",
              "libgdbm6", "libpwquality1", "libutf8proc2", "libzxcvbn0"):
        check_match("the package depends on " + d, r"(^|, )%s\b" % re.escape(d), depends)


@test
def the_postinst_makes_the_account_then_starts_the_service():
    if not DEBS:
        return
    postinst = control(DEBS[0], "postinst") or ""
    for name in ("postinst", "postrm", "prerm"):
        text = control(DEBS[0], name)
        if text is not None:
            r = subprocess.run(["sh", "-n"], input=text, text=True, capture_output=True)
            check_eq("%s: sh -n" % name, (r.returncode, r.stderr), (0, ""))
    account = postinst.find("adduser --system --group")
    enable = postinst.find("deb-systemd-helper enable 'portald.service'")
    start = postinst.find("deb-systemd-invoke $_dh_action 'portald.service'")
    check("postinst makes the account portald", account >= 0)
    check("postinst enables portald.service (dh_installsystemd)", enable >= 0)
    check("postinst starts portald.service (dh_installsystemd)", start >= 0)
    check("postinst makes the account before it enables and starts the service",
          0 <= account < enable and account < start)
    postrm = control(DEBS[0], "postrm") or ""
    check("postrm purge removes the database", "rm -rf /var/lib/portald" in postrm)
    check_match("postinst configure tells pam-auth-update of the profile",
                r'if \[ "\$1" = configure \]; then\n(?:[^\n]*\n)*?\tpam-auth-update --package\nfi',
                postinst)
    check_match("prerm remove takes the profile out of the common-* files",
                r'if \[ "\$1" = remove \]; then\n\tpam-auth-update --package --remove portal\n',
                control(DEBS[0], "prerm"))


@test
def lintian_has_no_error():
    report = os.path.join(OUT, "lintian.txt")
    if not check("lintian's report is there", os.path.exists(report)):
        return
    errors = [l for l in open(report).read().splitlines() if l.startswith("E: ")]
    check_eq("lintian: no error", errors, [])


if __name__ == "__main__":
    sys.exit(run_tests())
