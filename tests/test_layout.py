#!/usr/bin/python3
"""test_layout.py - what each program's code may include.

pam_portal.so runs inside sshd, login and su: it may reach the protocol,
the client and the languages of common/, and nothing of portald's.  The
Makefile compiles each folder's code with the include paths of its
INCLUDES_ line and no other; this holds those lines, and the code, to the
layout README.md describes:

  pam_portal/  its own headers and common/'s
  common/      its own headers
  helper/      its own and common/'s (portald)
  portalctl/   its own, common/'s, and the headers of the files of portald's
               it compiles too (CTL_FROM_HELPER: the configuration parser
               and the checks it makes)

A "..." include names a header found as the compiler finds it (the
including file's folder, then the -I folders in order), by its name alone:
a path such as "../helper/config.h" would step past the include paths.  A
<...> include never names a header of the project.  Last, the module's
sources and common/'s are compiled with -Icommon as the only include path
of the project.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import ROOT, check, check_eq, run_tests, test

# Whose headers each folder may include besides its own.
MAY_INCLUDE = {
    "pam_portal": ["common"],
    "common": [],
    "helper": ["common"],
    "portalctl": ["common", "helper"],
}


def makefile_lines():
    with open(os.path.join(ROOT, "Makefile")) as f:
        text = f.read().replace("\\\n", " ")
    return dict(re.findall(r"(?m)^(\w+)\s*:=\s*(.*)$", text))


def include_dirs(folder):
    """The -I folders of the project the Makefile compiles folder with."""
    return re.findall(r"-I(\S+)", makefile_lines().get("INCLUDES_" + folder, ""))


def borrowed_headers():
    """The headers of the portald files portalctl compiles too."""
    return {os.path.basename(c)[:-2] + ".h"
            for c in makefile_lines().get("CTL_FROM_HELPER", "").split()}


def sources(folder):
    d = os.path.join(ROOT, folder)
    return sorted(os.path.join(folder, n) for n in os.listdir(d) if n.endswith((".c", ".h")))


def includes(path):
    """(line number, '"' or '<', name) of every #include of a file."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return [(i, m.group(1), m.group(2)) for i, line in enumerate(f, 1)
                for m in [re.match(r'\s*#\s*include\s*([<"])([^">]+)[">]', line)] if m]


PROJECT_HEADERS = {n for folder in MAY_INCLUDE for n in os.listdir(os.path.join(ROOT, folder))
                   if n.endswith(".h")}


def where(folder, name):
    """The folder a quoted include of a file of folder finds name in, or None."""
    for d in [folder] + include_dirs(folder):
        if os.path.isfile(os.path.join(ROOT, d, name)):
            return d
    return None


@test
def each_folder_is_compiled_with_its_own_include_paths():
    for folder, others in MAY_INCLUDE.items():
        check_eq("the Makefile compiles %s/ with -I of %s only" % (folder, others or "its own"),
                 [d for d in include_dirs(folder) if d != folder], others)


@test
def every_include_reaches_only_what_its_folder_may():
    bad = []
    borrowed = borrowed_headers()
    check("portalctl compiles some of portald's files (CTL_FROM_HELPER)",
          "config.h" in borrowed, borrowed)
    for folder, others in MAY_INCLUDE.items():
        for path in sources(folder):
            for line, kind, name in includes(path):
                at = "%s:%d: %s" % (path, line, name)
                if kind == "<":
                    if name in PROJECT_HEADERS:
                        bad.append(at + ": a header of the project, in <...>")
                    continue
                if "/" in name:
                    bad.append(at + ": a path, past the include paths")
                    continue
                found = where(folder, name)
                if found is None:
                    owner = [d for d in MAY_INCLUDE if os.path.isfile(os.path.join(ROOT, d, name))]
                    bad.append(at + (": a header of %s/, out of its reach" % owner[0] if owner
                                     else ": found nowhere the compiler looks"))
                elif found != folder and found not in others:
                    bad.append(at + ": a header of %s/" % found)
                elif folder == "portalctl" and found == "helper" and name not in borrowed:
                    bad.append(at + ": of portald, but not of what portalctl compiles of it")
    check_eq("every #include of the product's code stays within what its folder may reach",
             bad, [])


@test
def the_module_compiles_with_common_alone():
    pam = subprocess.run(["pkg-config", "--cflags", "pam"], capture_output=True, text=True)
    flags = ["-std=c11", "-D_GNU_SOURCE", "-fsyntax-only", "-Icommon"] + pam.stdout.split()
    files = sources("pam_portal") + sources("common")
    r = subprocess.run(["cc"] + flags + [f for f in files if f.endswith(".c")], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    check_eq("pam_portal/*.c and common/*.c compile with -Icommon as the only include path",
             (r.returncode, r.stderr), (0, ""))


if __name__ == "__main__":
    sys.exit(run_tests())
