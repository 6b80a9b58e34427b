#!/usr/bin/python3
"""test_makefile.py - the Makefile on a machine it has not seen before.

A build on a machine without the -dev packages says which Debian packages
are missing and how to get them, and compiles nothing (the libraries are
hidden from pkg-config: PKG_CONFIG_LIBDIR names an empty folder, or
PKG_CONFIG a program that is not there).  A program linked with other
flags than the ones pkg-config now gives is linked again: the module made
while pkg-config gave no -lpam (what a first `make demo` on a fresh machine
once left behind, never relinked after) gets libpam once pkg-config gives
it.  Objects compiled with other flags are compiled again, and nothing is
made again when nothing changed.

Each case builds the module alone, in a folder of its own and without
optimisation (CFLAGS=-O0): the same for both builds, so tests/run.sh runs
it once.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import ROOT, Cleanup, check, check_eq, check_match, run_tests, test

LIBRARY_PACKAGES = ["libpam0g-dev", "libsodium-dev", "libesmtp-dev", "libssl-dev",
                    "libpwquality-dev", "libutf8proc-dev"]


def scratch():
    d = tempfile.mkdtemp(prefix="portal-make-")
    Cleanup.add(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def make(build, *args, cflags="-O0", **env):
    """make BUILD=build ARGS with CFLAGS and env over the environment:
    (status, stdout, stderr)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("PKG_CONFIG")}
    e.update(CFLAGS=cflags, LC_ALL="C", **env)
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "BUILD=" + build]
                       + list(args), capture_output=True, text=True, env=e, timeout=300)
    return r.returncode, r.stdout, r.stderr


def needed(path):
    """The shared libraries a program or module says it needs."""
    r = subprocess.run(["readelf", "-d", path], capture_output=True, text=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", r.stdout)


def objects(build):
    return [os.path.join(top, f) for top, _, files in os.walk(build)
            for f in files if f.endswith(".o")]


def commands(out, what):
    """The compiler commands make printed that write an output matching what."""
    return [l for l in out.splitlines() if re.search(r"-o \S*%s" % what, l)]


@test
def without_the_libraries_make_names_the_packages():
    d = scratch()
    empty = os.path.join(d, "no-pc-files")
    os.mkdir(empty)
    module = os.path.join(d, "pam_portal.so")
    rc, out, err = make(d, module, PKG_CONFIG_LIBDIR=empty)
    check("libraries hidden: make fails", rc != 0, (rc, out, err))
    check_eq("libraries hidden: every missing -dev package is named",
             [p for p in LIBRARY_PACKAGES if not re.search(r"\b%s\b" % re.escape(p), err)], [])
    check_match("libraries hidden: it says `make deps` (as root) installs them",
                r"make deps.*as root.*install", err)
    check("libraries hidden: no screen of undefined references",
          "undefined reference" not in out + err, out + err)
    check_eq("libraries hidden: nothing was compiled", objects(d), [])
    check("libraries hidden: no module was left behind", not os.path.exists(module))

    rc, out, err = make(d, module, PKG_CONFIG=os.path.join(d, "no-such-pkg-config"))
    check("pkg-config missing: make fails, saying so",
          rc != 0 and re.search(r"missing Debian packages:.*\bpkg-config\b", err), err)
    check_eq("pkg-config missing: nothing was compiled", objects(d), [])


# pkg-config as it is, but the module's library left out of --libs.
WITHOUT_LIBPAM = '#!/bin/sh\npkg-config "$@" | sed "s/-lpam\\b//"\n'


@test
def changed_link_flags_relink():
    d = scratch()
    fake = os.path.join(d, "pkg-config-without-libpam")
    with open(os.open(fake, os.O_WRONLY | os.O_CREAT, 0o755), "w") as f:
        f.write(WITHOUT_LIBPAM)
    module = os.path.join(d, "pam_portal.so")
    rc, out, err = make(d, module, "PKG_CONFIG=" + fake)
    if not check_eq("the module builds with a pkg-config that gives no -lpam", rc, 0):
        print(out[-1500:] + err[-1500:])
        return
    check("... and is linked without libpam", "libpam.so.0" not in needed(module),
          needed(module))

    rc, out, err = make(d, module)
    check_eq("make with the real pkg-config", rc, 0)
    check_eq("the link flags changed: the module is linked again", len(commands(out, module)), 1)
    check_eq("... without compiling anything again", commands(out, r"\.o\b"), [])
    check("... now with libpam", "libpam.so.0" in needed(module), needed(module))

    rc, out, err = make(d, module)
    check_eq("nothing changed: nothing is made again", (rc, commands(out, "")), (0, []))

    rc, out, err = make(d, module, cflags="-O0 -DPPTEST_OTHER_FLAGS")
    compiled = commands(out, r"\.o\b")
    check("the compile flags changed: every object of the module is compiled again",
          len(compiled) >= 10 and all("-DPPTEST_OTHER_FLAGS" in c for c in compiled),
          compiled)
    check_eq("... and the module linked again", len(commands(out, module)), 1)


if __name__ == "__main__":
    sys.exit(run_tests())
