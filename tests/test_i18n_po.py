#!/usr/bin/python3
"""test_i18n_po.py - both languages everywhere, through gettext files.

Every message of the module, the mail and portalctl is written in English
in the code (its msgid) and translated in po/fr.po.  Checked here: the
catalogue po/pam_portal.pot lists exactly the messages of the code (what
`make pot` would make now); fr.po translates each of them (nothing empty,
nothing fuzzy, nothing left over); msgfmt --check accepts it; both
languages carry the same printf conversions in the same order, the same
{name} placeholders of the mail templates and the same line ends; the
generated C tables (tools/po2c.py) hold every translation and refuse a
broken file; and portalctl speaks French from the same tables.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from portaltest import (BUILD, CHILD_ENV, PORTALCTL, ROOT, Cleanup, check, check_eq, run_tests,
                        test)
import po2c  # noqa: E402

PO_DIR = os.path.join(ROOT, "po")
POT = os.path.join(PO_DIR, "pam_portal.pot")
LANGS = sorted(f[:-3] for f in os.listdir(PO_DIR) if f.endswith(".po"))


def scratch():
    d = tempfile.mkdtemp(prefix="portal-po-")
    Cleanup.add(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def messages(path):
    """msgid -> entry, the header left out."""
    return {e["msgid"]: e for e in po2c.parse_po(path) if e["msgid"]}


def conversions(s):
    """The printf conversions of s, in order ("%%" is not one)."""
    found = re.findall(r"%%|%[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t)?[a-zA-Z]", s)
    return [c for c in found if c != "%%"]


def placeholders(s):
    return sorted(re.findall(r"\{[a-z_]+\}", s))


@test
def languages():
    check_eq("po/ holds French", LANGS, ["fr"])


@test
def msgfmt_accepts_every_po():
    for lang in LANGS:
        r = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null",
                            os.path.join(PO_DIR, lang + ".po")],
                           capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
        check_eq("msgfmt --check %s.po" % lang, r.returncode, 0)
        check("msgfmt: %s.po has no untranslated or fuzzy message" % lang,
              re.fullmatch(r"\d+ translated messages?\.\n", r.stderr), r.stderr)


@test
def the_pot_lists_the_messages_of_the_code():
    d = scratch()
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "BUILD=" + d,
                        os.path.join(d, "gen", "pam_portal.pot")],
                       capture_output=True, text=True, timeout=120)
    check_eq("xgettext finds the messages without a warning",
             (r.returncode, r.stderr), (0, ""))
    fresh = messages(os.path.join(d, "gen", "pam_portal.pot"))
    committed = messages(POT)
    check("the code has messages", len(fresh) > 100, len(fresh))
    check_eq("po/pam_portal.pot is up to date with the code (make pot): new messages",
             sorted(set(fresh) - set(committed)), [])
    check_eq("po/pam_portal.pot is up to date with the code (make pot): gone messages",
             sorted(set(committed) - set(fresh)), [])


@test
def no_message_escapes_xgettext():
    """A message table written {"..."} rather than I18N("...") would never
    reach the translators."""
    bad = []
    for sub in ("common", "helper", "pam_portal", "portalctl"):
        for name in sorted(os.listdir(os.path.join(ROOT, sub))):
            if not name.endswith(".c"):
                continue
            with open(os.path.join(ROOT, sub, name), encoding="utf-8") as f:
                text = f.read()
            for m in re.finditer(r'struct i18n_text\s+\w+(\[\w*\])?\s*=\s*\{\s*(\.en\s*=\s*)?"',
                                 text):
                bad.append("%s/%s:%d" % (sub, name, text.count("\n", 0, m.start()) + 1))
            for m in re.finditer(r'=\s*\{\s*\.en\s*=\s*"([^"]+)"', text):
                bad.append("%s/%s:%d: %s" % (sub, name, text.count("\n", 0, m.start()) + 1,
                                             m.group(1)))
    check_eq("every message is written I18N(...), MSG(...) or PROMPT(...)", bad, [])


@test
def every_message_has_its_translation():
    pot = messages(POT)
    for lang in LANGS:
        po = messages(os.path.join(PO_DIR, lang + ".po"))
        check_eq("%s.po: every message of the code is there" % lang,
                 sorted(set(pot) - set(po)), [])
        check_eq("%s.po: no message the code no longer has" % lang,
                 sorted(set(po) - set(pot)), [])
        empty = [m for m, e in po.items() if not e["msgstr"].strip()]
        check_eq("%s.po: no empty translation" % lang, empty, [])
        fuzzy = [m for m, e in po.items() if "fuzzy" in e["flags"]]
        check_eq("%s.po: no fuzzy translation" % lang, fuzzy, [])
        # A word may be the same in both ("minute", "socket"); a sentence not.
        same = [m for m, e in po.items() if e["msgstr"] == m and " " in m.strip()]
        check_eq("%s.po: no sentence left in English" % lang, same, [])


@test
def both_languages_carry_the_same_placeholders():
    for lang in LANGS:
        po = messages(os.path.join(PO_DIR, lang + ".po"))
        bad_conv, bad_names, bad_ends = [], [], []
        for m, e in po.items():
            t = e["msgstr"]
            if conversions(m) != conversions(t):
                bad_conv.append((m, t))
            if placeholders(m) != placeholders(t):
                bad_names.append((m, t))
            # A prompt ends in a space; portalctl's lines end in "\n".
            if m.endswith("\n") != t.endswith("\n") or m.endswith(" ") != t.endswith(" ") \
                    or m.startswith(" ") != t.startswith(" "):
                bad_ends.append((m, t))
        check_eq("%s.po: the same printf conversions, in the same order" % lang, bad_conv, [])
        check_eq("%s.po: the same {name} placeholders" % lang, bad_names, [])
        check_eq("%s.po: the same leading space and line end" % lang, bad_ends, [])
    check_eq("the conversion check sees conversions",
             conversions("%lu added, %s: %u%% of %d"), ["%lu", "%s", "%u", "%d"])


@test
def the_generated_tables_hold_every_translation():
    d = scratch()
    out = os.path.join(d, "catalog.c")
    pos = [os.path.join(PO_DIR, l + ".po") for l in LANGS]
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "po2c.py"), "-o", out] + pos,
                       capture_output=True, text=True)
    check_eq("po2c.py makes the tables", (r.returncode, r.stderr), (0, ""))
    text = open(out, encoding="utf-8").read()
    for lang in LANGS:
        n = len(messages(os.path.join(PO_DIR, lang + ".po")))
        check_eq("the %s table has one pair a message" % lang,
                 len(re.findall(r"(?m)^\t\{ ", text.split("pairs_%s[]" % lang)[1].split("};")[0])),
                 n)
        lang_, pairs = po2c.catalogue(os.path.join(PO_DIR, lang + ".po"))
        ids = [p[0].encode() for p in pairs]
        check("the %s table is sorted as strcmp orders (for bsearch)" % lang, ids == sorted(ids))
    check("no trigraph can form in the tables", "??" not in text)

    # A broken file stops the build, with the line.
    bad = os.path.join(d, "fr.po")
    with open(bad, "w") as f:
        f.write('msgid "a"\nmsgstr "b"\n\nmsgid "a"\nmsgstr "c"\n')
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "po2c.py"), "-o", out, bad],
                       capture_output=True, text=True)
    check("po2c.py refuses a msgid given twice, saying where",
          r.returncode != 0 and "fr.po:4" in r.stderr, r.stderr)
    with open(bad, "w") as f:
        f.write('#, fuzzy\nmsgid "a"\nmsgstr "b"\n\nmsgid "c"\nmsgstr ""\n\nmsgid "d"\nmsgstr "e"\n')
    check_eq("po2c.py leaves out fuzzy and empty translations, as msgfmt does",
             po2c.catalogue(bad)[1], [("d", "e")])


@test
def portalctl_speaks_both_languages():
    for lang, want in (("fr_CA.UTF-8", "Usage : portalctl"), ("en_CA.UTF-8", "Usage: portalctl")):
        env = dict(CHILD_ENV, LANG=lang)
        env.pop("LC_ALL", None)
        r = subprocess.run([PORTALCTL, "--help"], capture_output=True, text=True, env=env)
        check("portalctl --help with LANG=%s says \"%s\"" % (lang, want),
              r.returncode == 0 and r.stdout.startswith(want), r.stdout[:80])


if __name__ == "__main__":
    sys.exit(run_tests())
