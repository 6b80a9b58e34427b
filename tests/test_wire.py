#!/usr/bin/python3
"""test_wire.py - the wire numbers have one source, the C header.

tests/wire.py reads them from common/proto.h when it is imported, under
their C names.  Here: every enum of the header is read, every name and
value wire.py read is the one the C compiler gives (a small C program that
includes the header prints them), and no test keeps numbers of its own
beside them.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire
from portaltest import ROOT, STEP_TIMEOUT, check, check_eq, run_tests, test


def compiled_values(names):
    """{name: value} as the C compiler sees proto.h, for those names."""
    prints = "".join('\tprintf("%s %%lld\\n", (long long)(%s));\n' % (n, n) for n in names)
    src = "#include <stdio.h>\n#include \"%s\"\nint main(void)\n{\n%s\treturn 0;\n}\n" % (
        os.path.basename(wire.PROTO_H), prints)
    with tempfile.TemporaryDirectory(prefix="test_wire-") as tmp:
        exe = os.path.join(tmp, "values")
        p = subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-I",
                            os.path.dirname(wire.PROTO_H), "-x", "c", "-", "-o", exe],
                           input=src, capture_output=True, text=True, timeout=STEP_TIMEOUT)
        if p.returncode != 0:
            return {"cc failed": p.stderr}
        out = subprocess.run([exe], capture_output=True, text=True, timeout=STEP_TIMEOUT).stdout
    return {n: int(v) for n, v in (line.split() for line in out.splitlines())}


@test
def every_enum_of_the_header_is_read():
    with open(wire.PROTO_H) as f:
        declared = re.findall(r"(?m)^\s*enum\s+(\w+)\s*\{", f.read())
    check("proto.h declares enums (%s)" % ", ".join(declared), len(declared) >= 6, declared)
    check_eq("wire.py read each of them", sorted(wire.ENUM_ITEMS), sorted(declared))
    for enum, items in wire.ENUM_ITEMS.items():
        check("%s: every one of its %d names is a name of wire.py, the C's, with its value"
              % (enum, len(items)),
              items and all(getattr(wire, n, None) == v for n, v in items), items)


@test
def the_values_are_the_compilers():
    items = [i for enum in wire.ENUM_ITEMS.values() for i in enum] + list(wire.DEFINES.items())
    got = compiled_values([n for n, _ in items])
    check_eq("every enum value and #define wire.py read (%d) is the C compiler's" % len(items),
             {n: got.get(n) for n, _ in items}, dict(items))
    # The reader is not taken on trust: implicit values, expressions, names.
    enums = wire.read_enums("enum e { A_X = 3, /* c */ A_Y, A_Z = A_Y + (1 << 2) };")
    check_eq("read_enums: counts on from the last value, reads expressions",
             enums, {"e": [("A_X", 3), ("A_Y", 4), ("A_Z", 8)]})
    check_eq("the message types include the password change (once missing here)",
             wire.REQ_CHANGE_PASSWORD, got.get("REQ_CHANGE_PASSWORD"))


@test
def no_test_keeps_numbers_of_its_own():
    """A test that wrote REQ_STATUS = 10 (or a frame's type byte by hand)
    would go on speaking the old protocol after a change to proto.h."""
    # the prefixes of the header's names: PROTO_, REQ_, TAG_, RESULT_...
    prefixes = "|".join(sorted({n[:n.index("_") + 1] for n in wire.NAMES if "_" in n}))
    name = r"(?:%s)[A-Z_]+[ \t]*" % prefixes
    # NAME = 1, or (NAME, NAME,\n NAME) = range(3), indented or not
    assign = re.compile(r"(?m)^[ \t]*\(?[ \t]*(?:%s,\s*)*%s\)?[ \t]*=(?!=)" % (name, name))
    by_hand = re.compile(r"PP\\x0?1\\x[0-9a-fA-F]{2}")
    sources = [f for f in sorted(glob.glob(os.path.join(ROOT, "tests", "*.py")) +
                                 glob.glob(os.path.join(ROOT, "bench", "*.py")))
               if os.path.basename(f) not in ("wire.py", "test_wire.py")]
    for path in sources:
        with open(path) as f:
            text = f.read()
        name = os.path.relpath(path, ROOT)
        check_eq("%s: no wire number of its own" % name,
                 assign.findall(text) + by_hand.findall(text), [])
    # The check can fail: the copy test_server.py once had.
    check("... the check finds a copy",
          assign.search("RESULT_OK, RESULT_BAD_REQUEST, RESULT_BUSY = 0, 1, 16\n")
          and assign.search("(REQ_USER_ADD,\n REQ_DAEMON_STATUS) = range(30, 39)\n")
          and not assign.search("from wire import (RESULT_OK,\n    REQ_STATUS)\n")
          and by_hand.search(r'b"PP\x01\x26"'))


if __name__ == "__main__":
    sys.exit(run_tests())
