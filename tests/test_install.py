#!/usr/bin/python3
"""test_install.py - `make install` and `make uninstall` into a scratch
DESTDIR, the systemd unit (its hardening, and `systemd-analyze verify`),
the sysusers.d file, and the committed debian/ folder: what the package is
built from, its maintainer scripts run against stand-in commands.

Building the package itself (dpkg-buildpackage and lintian, close to a
minute) is `make deb`, which checks the result with tests/check_deb.py.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import (BUILD, ROOT, Cleanup, check, check_eq, check_match, run_tests,
                        test)

UNIT = os.path.join(ROOT, "config", "portald.service")


def scratch(prefix="portal-install-"):
    d = tempfile.mkdtemp(prefix=prefix)
    Cleanup.add(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def make(*args, destdir):
    # -o all: install the programs of $BUILD as they are, never rebuild them
    # here (with the flags of another build).
    return subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "-o", "all",
                           "BUILD=" + BUILD, "DESTDIR=" + destdir] + list(args),
                          capture_output=True, text=True, timeout=300)


def pkgvar(var, pkg):
    p = subprocess.run(["pkg-config", "--variable=" + var, pkg], capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else ""


PAMDIR = (pkgvar("securedir", "pam") or pkgvar("libdir", "pam") + "/security").lstrip("/")
UNITDIR = (pkgvar("systemdsystemunitdir", "systemd") or "/lib/systemd/system").lstrip("/")
SYSUSERSDIR = (pkgvar("sysusersdir", "systemd") or "/usr/lib/sysusers.d").lstrip("/")


def files_under(d):
    """Every file and symbolic link under d, relative, with its mode."""
    out = {}
    for top, dirs, files in os.walk(d):
        for name in files:
            p = os.path.join(top, name)
            out[os.path.relpath(p, d)] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def expected(prefix):
    p = prefix.lstrip("/")
    doc = p + "/share/doc/pam_portal/examples/"
    samples = [f for f in os.listdir(os.path.join(ROOT, "config")) if f.startswith("pam.d-")]
    man = {p + "/share/man/man%s/%s" % (f[-1], f): 0o644
           for f in os.listdir(os.path.join(ROOT, "man")) if re.search(r"\.[58]$", f)}
    want = {
        PAMDIR + "/pam_portal.so": 0o644,
        p + "/sbin/portald": 0o755,
        p + "/sbin/portalctl": 0o755,
        UNITDIR + "/portald.service": 0o644,
        SYSUSERSDIR + "/portald.conf": 0o644,
        "etc/portald/portald.conf": 0o644,
        doc + "portald.conf": 0o644,
    }
    want.update({doc + f: 0o644 for f in samples})
    docdir = p + "/share/doc/pam_portal/"
    want.update({docdir + f: 0o644 for f in ("README.md", "SECURITY.md")})
    want.update({docdir + "docs/" + f: 0o644
                 for f in os.listdir(os.path.join(ROOT, "docs")) if f.endswith(".md")})
    want.update(man)
    return want


def unit_settings(path):
    """The unit's [Service] settings: name -> list of values, in order."""
    section, out = None, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]":
                k, _, v = line.partition("=")
                out.setdefault(k, []).append(v)
    return out


@test
def install_puts_everything_in_place():
    d = scratch()
    r = make("PREFIX=/usr", "install", destdir=d)
    if not check_eq("install PREFIX=/usr succeeds", r.returncode, 0):
        print(r.stdout + r.stderr)
        return
    check_eq("install: every file where it belongs, with its mode", files_under(d),
             expected("/usr"))
    check("the module goes to libpam's module folder, multiarch (%s)" % PAMDIR,
          re.fullmatch(r"(usr/)?lib(/[a-z0-9_]+-linux-gnu[a-z0-9_]*)?/security", PAMDIR),
          PAMDIR)
    unit = unit_settings(os.path.join(d, UNITDIR, "portald.service"))
    check_eq("the unit starts the installed portald", unit.get("ExecStart"),
             ["/usr/sbin/portald -c /etc/portald/portald.conf"])
    with open(os.path.join(d, "etc/portald/portald.conf")) as a, \
            open(os.path.join(ROOT, "config/portald.conf")) as b:
        check("the configuration installed is the sample", a.read() == b.read())


@test
def install_follows_prefix():
    d = scratch()
    r = make("PREFIX=/usr/local", "install", destdir=d)
    check_eq("install PREFIX=/usr/local succeeds", r.returncode, 0)
    check_eq("install PREFIX=/usr/local: the same files under /usr/local", files_under(d),
             expected("/usr/local"))
    unit = unit_settings(os.path.join(d, UNITDIR, "portald.service"))
    check_eq("the unit starts /usr/local/sbin/portald", unit.get("ExecStart"),
             ["/usr/local/sbin/portald -c /etc/portald/portald.conf"])


@test
def install_keeps_an_existing_configuration():
    d = scratch()
    conf = os.path.join(d, "etc/portald/portald.conf")
    os.makedirs(os.path.dirname(conf))
    with open(conf, "w") as f:
        f.write("cutover = 2024-01-01\n")
    r = make("PREFIX=/usr", "install", destdir=d)
    check_eq("install over an existing configuration succeeds", r.returncode, 0)
    with open(conf) as f:
        check_eq("install keeps the administrator's portald.conf", f.read(),
                 "cutover = 2024-01-01\n")


@test
def uninstall_leaves_nothing():
    d = scratch()
    make("PREFIX=/usr", "install", destdir=d)
    check("before uninstall there is something to remove", files_under(d))
    r = make("PREFIX=/usr", "uninstall", destdir=d)
    check_eq("uninstall succeeds", r.returncode, 0)
    check_eq("uninstall leaves no file behind", files_under(d), {})
    check("uninstall removes /etc/portald", not os.path.exists(os.path.join(d, "etc/portald")))
    check("uninstall removes the documentation folder",
          not os.path.exists(os.path.join(d, "usr/share/doc/pam_portal")))


@test
def uninstall_keeps_an_edited_configuration():
    d = scratch()
    make("PREFIX=/usr", "install", destdir=d)
    conf = os.path.join(d, "etc/portald/portald.conf")
    with open(conf, "a") as f:
        f.write("language = en\n")
    r = make("PREFIX=/usr", "uninstall", destdir=d)
    check_eq("uninstall with an edited configuration succeeds", r.returncode, 0)
    check_eq("uninstall keeps only the edited portald.conf", list(files_under(d)),
             ["etc/portald/portald.conf"])
    check_match("uninstall says why it kept it", r"keeping .*portald\.conf: it was edited",
                r.stdout)


# What the unit must hold: its account, its folders, and the hardening.
HARDENING = {
    "User": "portald", "Group": "portald",
    "RuntimeDirectory": "portald", "StateDirectory": "portald",
    "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "SystemCallFilter": "@system-service", "MemoryDenyWriteExecute": "yes",
    "LimitCORE": "0", "ExecReload": "/bin/kill -HUP $MAINPID",
}


@test
def unit_is_hardened():
    unit = unit_settings(UNIT)
    for k, v in HARDENING.items():
        check_eq("unit: %s=%s" % (k, v), v in unit.get(k, []), True)
    # The module trusts the socket only in a folder others cannot write.
    check("unit: the socket's folder is writable by its owner only",
          unit.get("RuntimeDirectoryMode", ["0755"])[-1] in ("0755", "0750", "0700"))
    # PrivateUsers= would map every caller but root to nobody, and portald
    # tells callers apart by SO_PEERCRED.
    check("unit: no PrivateUsers (portald must see its callers' uids)",
          "PrivateUsers" not in unit)


def analyze_verify(unit_text, destdir, name="portald.service"):
    d = scratch("portal-unit-")
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(unit_text)
    env = dict(os.environ, MANPATH=os.path.join(destdir, "usr/share/man"))
    return subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                          text=True, env=env, timeout=60)


@test
def systemd_accepts_the_unit():
    if not shutil.which("systemd-analyze"):
        check("systemd-analyze is installed (make deps)", False)
        return
    d = scratch()
    make("PREFIX=/usr", "install", destdir=d)
    with open(os.path.join(d, UNITDIR, "portald.service")) as f:
        # verify checks that the program exists: the one just installed.
        text = f.read().replace("/usr/sbin/portald", os.path.join(d, "usr/sbin/portald"))
    r = analyze_verify(text, d)
    check_eq("systemd-analyze verify accepts portald.service",
             (r.returncode, r.stdout + r.stderr), (0, ""))
    r = analyze_verify(text.replace("ProtectSystem=strict", "ProtectSystem=sometimes"), d)
    check("systemd-analyze verify does complain of a bad unit (the check above can fail)",
          r.returncode != 0 or "protect system" in r.stdout + r.stderr, r.stdout + r.stderr)


@test
def sysusers_makes_the_account():
    if not shutil.which("systemd-sysusers"):
        check("systemd-sysusers is installed (make deps)", False)
        return
    root = scratch("portal-sysusers-")
    os.makedirs(os.path.join(root, "etc"))
    r = subprocess.run(["systemd-sysusers", "--root=" + root,
                        os.path.join(ROOT, "config", "portald.sysusers")],
                       capture_output=True, text=True, timeout=60)
    check_eq("systemd-sysusers reads config/portald.sysusers", r.returncode, 0)
    with open(os.path.join(root, "etc", "passwd")) as f:
        entry = [l.split(":") for l in f.read().splitlines() if l.startswith("portald:")]
    check("sysusers makes the system account portald, home /var/lib/portald, no shell",
          len(entry) == 1 and int(entry[0][2]) < 1000 and entry[0][5] == "/var/lib/portald"
          and entry[0][6].endswith("nologin"), entry)


# ---- debian/ -----------------------------------------------------------------

DEBIAN = os.path.join(ROOT, "debian")


def read(*path):
    with open(os.path.join(*path)) as f:
        return f.read()


def control_fields():
    """debian/control as a list of paragraphs of field -> value."""
    paras = []
    for block in read(DEBIAN, "control").strip().split("\n\n"):
        fields, last = {}, None
        for line in block.splitlines():
            if line[:1] in " \t" and last:
                fields[last] += "\n" + line.strip()
            else:
                last, _, v = line.partition(":")
                fields[last] = v.strip()
        paras.append(fields)
    return paras


@test
def debian_control_matches_the_build():
    src, binary = control_fields()
    deps = {d.strip().split()[0] for d in src["Build-Depends"].replace("\n", " ").split(",")}
    check_match("debhelper compat level 13", r"debhelper-compat \(= 13\)", src["Build-Depends"])
    text = read(ROOT, "tests", "install-deps.sh")
    libs = set(re.findall(r"\b(lib[a-z0-9-]+-dev)\b", text.split("DICT=")[0])) - \
        {"libclang-rt-14-dev"}  # the fuzzers' runtime, not the package's
    check("install-deps.sh names the libraries", len(libs) >= 5, libs)
    check_eq("Build-Depends names every library install-deps.sh installs, and pkg-config",
             sorted((libs | {"pkg-config"}) - deps), [])
    check_eq("the binary package is libpam-portal", binary.get("Package"), "libpam-portal")
    for d in ("${shlibs:Depends}", "adduser", "cracklib-runtime"):
        check("the package depends on " + d, d in binary.get("Depends", ""))


@test
def debian_rules_and_changelog():
    rules = os.path.join(DEBIAN, "rules")
    check("debian/rules is executable", os.access(rules, os.X_OK))
    text = read(rules)
    check_match("debian/rules runs dh", r"(?m)^\tdh \$@", text)
    check_match("debian/rules installs with the Makefile, PREFIX=/usr",
                r"dh_auto_install -- PREFIX=/usr", text)
    check_match("debian/rules puts the module in the multiarch PAM folder",
                r"PAMDIR=/lib/\$\(DEB_HOST_MULTIARCH\)/security", text)
    version = re.search(r'PORTAL_VERSION "([^"]+)"', read(ROOT, "common", "version.h")).group(1)
    p = subprocess.run(["dpkg-parsechangelog", "-l", os.path.join(DEBIAN, "changelog"),
                        "-S", "Version"], capture_output=True, text=True)
    check_eq("debian/changelog's version is portald's", p.stdout.strip(), version)
    check_eq("source format", read(DEBIAN, "source", "format").strip(), "3.0 (native)")
    check_match("debian/copyright is machine-readable",
                r"^Format: https://www\.debian\.org/doc/packaging-manuals/copyright-format/1\.0/",
                read(DEBIAN, "copyright"))


def stub_run(script, args, commands):
    """Run a maintainer script with PATH holding only stand-ins for the
    commands it may call; each records its arguments.  Returns (status,
    the calls in order as "name arg arg")."""
    d = scratch("portal-maint-")
    log = os.path.join(d, "calls")
    for name, status in commands.items():
        with open(os.path.join(d, name), "w") as f:
            f.write('#!/bin/sh\necho "%s $*" >>%s\nexit %d\n' % (name, log, status))
        os.chmod(os.path.join(d, name), 0o755)
    r = subprocess.run(["/bin/sh", script] + args, env={"PATH": d}, capture_output=True,
                       text=True, timeout=30)
    calls = read(log).splitlines() if os.path.exists(log) else []
    return r.returncode, calls


@test
def debian_postinst_makes_the_account():
    script = os.path.join(DEBIAN, "libpam-portal.postinst")
    check_eq("postinst: sh -n", subprocess.run(["sh", "-n", script]).returncode, 0)
    check("postinst leaves room for debhelper's part (#DEBHELPER#)",
          "\n#DEBHELPER#\n" in read(script))
    commands = {"adduser": 0, "dpkg-statoverride": 1, "chown": 0, "chmod": 0,
                "pam-auth-update": 0}
    rc, calls = stub_run(script, ["configure", ""], commands)
    check_eq("postinst configure: makes the account, then its folder the account's own, "
             "then tells pam-auth-update of the profile",
             (rc, calls), (0, ["adduser --system --group --quiet --home /var/lib/portald portald",
                               "dpkg-statoverride --list /var/lib/portald",
                               "chown portald:portald /var/lib/portald",
                               "chmod 0700 /var/lib/portald",
                               "pam-auth-update --package"]))
    rc, calls = stub_run(script, ["configure", ""], dict(commands, **{"dpkg-statoverride": 0}))
    check_eq("postinst configure: a dpkg-statoverride of the folder is respected",
             (rc, [c.split()[0] for c in calls]),
             (0, ["adduser", "dpkg-statoverride", "pam-auth-update"]))
    rc, calls = stub_run(script, ["configure", ""], dict(commands, **{"pam-auth-update": 1}))
    check("postinst fails when pam-auth-update fails", rc != 0, calls)
    rc, calls = stub_run(script, ["configure", ""], {"adduser": 1})
    check("postinst fails when the account cannot be made", rc != 0 and len(calls) == 1, calls)
    rc, calls = stub_run(script, ["abort-upgrade"], {"adduser": 0})
    check_eq("postinst abort-upgrade: nothing to do", (rc, calls), (0, []))


@test
def debian_prerm_takes_the_profile_out_on_remove_only():
    script = os.path.join(DEBIAN, "libpam-portal.prerm")
    check_eq("prerm: sh -n", subprocess.run(["sh", "-n", script]).returncode, 0)
    rc, calls = stub_run(script, ["remove"], {"pam-auth-update": 0})
    check_eq("prerm remove: pam_portal leaves the common-* files before the module goes",
             (rc, calls), (0, ["pam-auth-update --package --remove portal"]))
    for args in (["upgrade", "0.1.1"], ["deconfigure", "in-favour", "other", "1.0"],
                 ["failed-upgrade", "0.1.0"]):
        rc, calls = stub_run(script, args, {"pam-auth-update": 0})
        check_eq("prerm %s: the profile and the administrator's choice stay" % args[0],
                 (rc, calls), (0, []))


@test
def debian_postrm_purges_the_database_only():
    script = os.path.join(DEBIAN, "libpam-portal.postrm")
    check_eq("postrm: sh -n", subprocess.run(["sh", "-n", script]).returncode, 0)
    rc, calls = stub_run(script, ["purge"], {"rm": 0, "deluser": 0, "userdel": 0})
    check_eq("postrm purge: removes /var/lib/portald, keeps the account",
             (rc, calls), (0, ["rm -rf /var/lib/portald /run/portald"]))
    rc, calls = stub_run(script, ["remove"], {"rm": 0})
    check_eq("postrm remove: keeps the database", (rc, calls), (0, []))


if __name__ == "__main__":
    sys.exit(run_tests())
