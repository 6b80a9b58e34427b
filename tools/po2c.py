#!/usr/bin/python3
"""po2c.py -o OUT.c po/LL.po... - turn the translations of po/ into the C
tables common/i18n.c looks messages up in (see common/catalog.h).

The English text of a message is its msgid; each po/LL.po gives the other
language LL.  The module, portald and portalctl carry their translations
in these tables rather than reading .mo files at run time: a PAM module
must not call setlocale() in its host process or open more files as root,
and the language is chosen per sign-in by the configuration (`language`,
`lang=`), not by the locale.

Each table is sorted by msgid bytes (what strcmp orders) for a binary
search.  Entries marked fuzzy and those with an empty msgstr are left
out, as msgfmt leaves them out, so such a message shows in English; the
test tests/test_i18n_po.py makes sure there are none.  A po file that
cannot be read, or gives one msgid twice, stops the build.
"""
import argparse
import os
import re
import sys

ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r", "a": "\a", "b": "\b",
           "f": "\f", "v": "\v"}


class PoError(Exception):
    pass


def unquote(s, where):
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        raise PoError("%s: expected a quoted string, got %s" % (where, s))
    out, i, body = [], 0, s[1:-1]
    while i < len(body):
        c = body[i]
        if c == "\\":
            if i + 1 >= len(body) or body[i + 1] not in ESCAPES:
                raise PoError("%s: unknown escape in %s" % (where, s))
            out.append(ESCAPES[body[i + 1]])
            i += 2
        elif c == '"':
            raise PoError("%s: unescaped quote in %s" % (where, s))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_po(path):
    """The entries of a .po file, in order: dicts with msgid, msgstr,
    msgctxt (or None), flags (a set), comments (the #. and #: lines) and
    line (where the entry starts).  Obsolete (#~) entries are skipped;
    plural forms are not used by this project and refused."""
    entries, cur, field = [], None, None

    def finish():
        if cur is not None and "msgid" in cur:
            entries.append(cur)

    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            where = "%s:%d" % (path, n)
            if not line or line.startswith("#~"):
                continue
            if line.startswith("#"):
                if cur is not None and "msgstr" in cur:
                    finish()
                    cur = None
                if cur is None:
                    cur = {"msgctxt": None, "flags": set(), "comments": [], "line": n}
                if line.startswith("#,"):
                    cur["flags"].update(x.strip() for x in line[2:].split(","))
                else:
                    cur["comments"].append(line)
                continue
            m = re.match(r"(msgctxt|msgid|msgstr|msgid_plural|msgstr\[\d+\])\s+(.*)$", line)
            if m:
                key, rest = m.groups()
                if key.startswith(("msgid_plural", "msgstr[")):
                    raise PoError("%s: plural forms are not used here" % where)
                if key in ("msgctxt", "msgid") and cur is not None and "msgstr" in cur:
                    finish()
                    cur = None
                if cur is None:
                    cur = {"msgctxt": None, "flags": set(), "comments": [], "line": n}
                if key in cur and cur[key] is not None:
                    raise PoError("%s: %s given twice in one entry" % (where, key))
                cur[key] = unquote(rest, where)
                field = key
            elif line.startswith('"'):
                if cur is None or field is None:
                    raise PoError("%s: a string outside any entry" % where)
                cur[field] += unquote(line, where)
            else:
                raise PoError("%s: cannot read: %s" % (where, line))
    finish()
    for e in entries:
        if "msgstr" not in e:
            raise PoError("%s:%d: msgid without msgstr" % (path, e["line"]))
    return entries


def c_string(s):
    """s as a C string literal: UTF-8 kept as is, control characters and
    what C treats specially escaped, every "?" too (-std=c11 has trigraphs,
    which are replaced before escapes are read)."""
    out = []
    for c in s:
        if c == "\\" or c == '"':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or ord(c) == 0x7f:
            out.append("\\%03o" % ord(c))
        elif c == "?":
            out.append("\\?")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def catalogue(path):
    """(language, sorted [(msgid, msgstr)]) of one po file."""
    lang = os.path.splitext(os.path.basename(path))[0]
    if not re.fullmatch(r"[a-z]{2,3}", lang):
        raise PoError("%s: the file name must be a language code (fr.po)" % path)
    pairs, seen = [], set()
    for e in parse_po(path):
        key = (e["msgctxt"], e["msgid"])
        if e["msgid"] == "":
            continue  # the header
        if key in seen:
            raise PoError("%s:%d: msgid given twice: %r" % (path, e["line"], e["msgid"]))
        seen.add(key)
        if e["msgctxt"] is not None:
            raise PoError("%s:%d: msgctxt is not used here" % (path, e["line"]))
        if "fuzzy" in e["flags"] or e["msgstr"] == "":
            continue
        pairs.append((e["msgid"], e["msgstr"]))
    pairs.sort(key=lambda p: p[0].encode("utf-8"))
    return lang, pairs


def generate(pos):
    out = ["/* Generated by tools/po2c.py from %s: do not edit; edit the .po files. */"
           % " ".join(pos), '#include "catalog.h"', ""]
    langs = []
    for path in pos:
        lang, pairs = catalogue(path)
        langs.append(lang)
        out.append("static const struct i18n_pair pairs_%s[] = {" % lang)
        for msgid, msgstr in pairs:
            out.append("\t{ %s,\n\t  %s }," % (c_string(msgid), c_string(msgstr)))
        out.append("};")
        out.append("")
    out.append("const struct i18n_catalog i18n_catalogs[LANG_COUNT] = {")
    for lang in langs:
        out.append("\t[LANG_%s] = { pairs_%s, sizeof pairs_%s / sizeof pairs_%s[0] },"
                   % (lang.upper(), lang, lang, lang))
    out.append("};")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("po", nargs="+")
    args = ap.parse_args()
    try:
        text = generate(args.po)
    except (PoError, OSError, UnicodeDecodeError) as e:
        sys.exit("po2c: %s" % e)
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
