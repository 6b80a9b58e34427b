#!/usr/bin/python3
"""test_man.py - the manual pages: each has the usual sections (NAME,
SYNOPSIS, DESCRIPTION, OPTIONS, FILES, EXAMPLES, SEE ALSO), renders with
no warning under `groff -man -ww -z`, is named as its file is, points only
to pages that exist; and they stay true to the code where the code can
say it: every key portald.conf accepts and every command and option of
portalctl and portald is in its page, and pam_portal(8) names, as
Linux-PAM's pages do, the module types the module provides.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portaltest import MODULE, ROOT, check, check_eq, run_tests, test

MAN = os.path.join(ROOT, "man")
PAGES = sorted(f for f in os.listdir(MAN) if re.search(r"\.[1-8]$", f))
SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES", "EXAMPLES", "SEE ALSO"]


def read(*path):
    with open(os.path.join(*path), encoding="utf-8") as f:
        return f.read()


def sections(text):
    return [m.strip('"') for m in re.findall(r'(?m)^\.SH\s+(.+?)\s*$', text)]


def section(text, name):
    """The source of one section, up to the next .SH."""
    m = re.search(r'(?ms)^\.SH\s+"?%s"?\s*$(.*?)(?=^\.SH|\Z)' % re.escape(name), text)
    return m.group(1) if m else ""


@test
def every_page_has_the_usual_sections():
    check_eq("the manual pages", PAGES,
             ["pam_portal.8", "portalctl.8", "portald.8", "portald.conf.5"])
    for page in PAGES:
        got = sections(read(MAN, page))
        missing = [s for s in SECTIONS if s not in got]
        check_eq("%s has %s" % (page, ", ".join(SECTIONS)), missing, [])
        order = [s for s in got if s in SECTIONS]
        check_eq("%s: the sections in the usual order" % page, order, SECTIONS)
        for s in SECTIONS:
            body = re.sub(r"(?m)^\.(PP|TP|br)\s*$", "", section(read(MAN, page), s)).strip()
            check("%s: %s is not empty" % (page, s), body, s)


@test
def every_page_renders_without_warning():
    if not shutil.which("groff"):
        check("groff is installed (make deps)", False)
        return
    for page in PAGES:
        r = subprocess.run(["groff", "-man", "-ww", "-z", os.path.join(MAN, page)],
                           capture_output=True, text=True, timeout=60)
        check_eq("groff -man -ww -z %s prints nothing" % page,
                 (r.returncode, r.stdout + r.stderr), (0, ""))
    # The check can fail: a page with a mistake groff warns of.
    r = subprocess.run(["groff", "-man", "-ww", "-z"], input=".TH X 8\n.SH NAME\n.BOGUS x\n",
                       capture_output=True, text=True, timeout=60)
    check("groff -ww does warn of a bad request (the check above can fail)", r.stderr, r)


@test
def names_and_references():
    for page in PAGES:
        name, sec = page.rsplit(".", 1)
        text = read(MAN, page)
        th = re.search(r"(?m)^\.TH\s+(\S+)\s+(\S+)", text)
        check_eq("%s: .TH names it" % page, th and (th.group(1), th.group(2)),
                 (name.upper(), sec))
        check("%s: NAME is \"%s \\- what it is\"" % (page, name),
              re.match(r"\s*%s \\- \S" % re.escape(name), section(text, "NAME")))
        for ref, rsec in re.findall(r"\.BR\s+(\S+)\s+\((\d)\)", text):
            if ref.startswith(("pam_portal", "portal")):
                check("%s: the page it names, %s(%s), exists" % (page, ref, rsec),
                      os.path.exists(os.path.join(MAN, "%s.%s" % (ref, rsec))))


# What libpam calls, by module type: the functions a module provides.
TYPE_FUNCTIONS = {
    "auth": {"pam_sm_authenticate", "pam_sm_setcred"},
    "account": {"pam_sm_acct_mgmt"},
    "password": {"pam_sm_chauthtok"},
    "session": {"pam_sm_open_session", "pam_sm_close_session"},
}


def plain(troff):
    """The text of a troff source, as it reads: requests and font changes
    taken out (.BR and the like join their words)."""
    text = re.sub(r"(?m)^\.(?:BR|RB|IR|RI|BI|IB)\s+(.*)$", lambda m: m.group(1).replace(" ", ""),
                  troff)
    text = re.sub(r"(?m)^\.[A-Z]+\s?", "", text)
    return " ".join(re.sub(r"\\f[BIRP]|\\&", "", text).split())


@test
def the_module_page_says_which_module_types_it_provides():
    """As Linux-PAM's own pages do (pam_unix(8)): a section between OPTIONS
    and RETURN VALUES, naming the types whose functions the module, as
    built, gives libpam."""
    page = read(MAN, "pam_portal.8")
    got = sections(page)
    where = [s for s in got if s in ("OPTIONS", "MODULE TYPES PROVIDED", "RETURN VALUES")]
    check_eq("pam_portal.8: MODULE TYPES PROVIDED, after OPTIONS, before RETURN VALUES",
             where, ["OPTIONS", "MODULE TYPES PROVIDED", "RETURN VALUES"])
    first = plain(section(page, "MODULE TYPES PROVIDED")).split(". ")[0]
    named = {t for t in TYPE_FUNCTIONS if re.search(r"\b%s\b" % t, first)}
    m = re.search(r"(?i)\bmodule types?\b.*\b(?:is|are) provided$", first)
    check("pam_portal.8: its first sentence says which are provided (%r)" % first, m, first)
    r = subprocess.run(["nm", "-D", "--defined-only", MODULE], capture_output=True, text=True,
                       timeout=60)
    exported = set(re.findall(r"(?m)\s(pam_sm_\w+)$", r.stdout))
    check("the module's pam_sm_ functions are read (nm -D %s)" % MODULE,
          r.returncode == 0 and exported, r.stderr)
    built = {t for t, fns in TYPE_FUNCTIONS.items() if fns <= exported}
    check_eq("pam_portal.8: the types named are those the module provides", sorted(named),
             sorted(built))
    check_eq("the module provides each type whole or not at all (%s)" % sorted(exported),
             sorted(exported), sorted(set().union(*(TYPE_FUNCTIONS[t] for t in built))))


def config_keys():
    """The keys helper/config.c accepts."""
    return re.findall(r'\{\s*"([a-z_]+)",\s*parse_', read(ROOT, "helper", "config.c"))


@test
def the_configuration_page_names_every_key():
    keys = config_keys()
    check("config.c names its keys", len(keys) >= 18, keys)
    options = section(read(MAN, "portald.conf.5"), "OPTIONS")
    for k in keys:
        check("portald.conf(5) OPTIONS documents %s" % k,
              re.search(r"(?m)^\.B %s$" % k, options) or
              re.search(r"(?m)^\.BR? %s(,|$| )" % k, options))


@test
def the_program_pages_name_every_command_and_option():
    ctl = read(MAN, "portalctl.8")
    src = read(ROOT, "portalctl", "portalctl.c")
    table = re.search(r"(?s)\} commands\[\] = \{(.*?)\n\};", src)
    commands = re.findall(r'\{\s*(?:"(\w+)"|NULL),\s*"(\w+)",', table.group(1) if table else "")
    check("portalctl.c names its commands", len(commands) >= 9, commands)
    for group, name in commands:
        words = (group + " " + name).strip()
        check("portalctl(8) documents \"%s\"" % words,
              re.search(r"(?m)^\.BI?R? \"?%s\b" % re.escape(words), ctl), words)
    for opt in re.findall(r'\{\s*"([a-z-]+)",\s*(?:no|required)_argument', src):
        check("portalctl(8) documents --%s" % opt, "\\-\\-" + opt in ctl)
    portald = read(MAN, "portald.8")
    src = read(ROOT, "helper", "portald.c")
    getopt = re.search(r'getopt_long\([^"]*"([^"]+)"', src)
    letters = getopt.group(1).replace(":", "") if getopt else ""
    check("portald.c's getopt letters are found", letters, letters)
    options = section(portald, "OPTIONS")
    for letter in letters:
        check("portald(8) OPTIONS documents -%s" % letter,
              re.search(r"(?m)^\.B[IR]? \\-%s\b" % letter, options))
    longs = re.findall(r'\{\s*"([a-z-]+)",\s*(?:no|required)_argument', src)
    check("portald.c's long options are found", len(longs) >= 5, longs)
    for opt in longs:
        check("portald(8) OPTIONS documents --%s" % opt, "\\-\\-" + opt in options)


if __name__ == "__main__":
    sys.exit(run_tests())
