"""wire.py - portald's wire protocol spoken from Python, for tests that talk
to its socket directly (as a client the module would never be: a local
user, a fuzzer by hand).

The numbers are not copied here: they are read from the C header both
sides compile (PROTO_H) when this module is imported, so the tests speak
whatever the C speaks, in the C's own words: every name of every enum of
the header is a name of this module (wire.RESULT_OK, wire.TAG_USER,
wire.REQ_STATUS, wire.STATE_PENDING...), and so is every numeric #define
(PROTO_HEADER, PROTO_MAX_BODY, PROTO_IMPORT_BATCH...).
tests/test_wire.py checks every enum of the header is read and every value
read is the one the C compiler gives.
"""
import ast
import os
import re
import socket
import struct

from portaltest import STEP_TIMEOUT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO_H = os.path.join(ROOT, "common", "proto.h")


# ---- reading the header ------------------------------------------------------

def _integer(expr, known):
    """The value of a C integer expression of literals, earlier names,
    + - * / << >> | and parentheses."""
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", expr).replace("/", "//")

    def value(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id in known:
            return known[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        ops = {ast.Add: int.__add__, ast.Sub: int.__sub__, ast.Mult: int.__mul__,
               ast.FloorDiv: int.__floordiv__, ast.LShift: int.__lshift__,
               ast.RShift: int.__rshift__, ast.BitOr: int.__or__}
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](value(node.left), value(node.right))
        raise ValueError("%s: cannot read %r as an integer" % (PROTO_H, expr))
    return value(ast.parse(expr.strip(), mode="eval").body)


def _uncommented(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def read_enums(text):
    """{enum name: [(C name, value), ...]} in the order of the header."""
    enums = {}
    for name, body in re.findall(r"\benum\s+(\w+)\s*\{(.*?)\}\s*;", _uncommented(text), re.S):
        items, known, nxt = [], {}, 0
        for entry in (e.strip() for e in body.split(",")):
            if not entry:
                continue
            ident, _, expr = (s.strip() for s in entry.partition("="))
            nxt = _integer(expr, known) if expr else nxt
            items.append((ident, nxt))
            known[ident] = nxt
            nxt += 1
        enums[name] = items
    return enums


def read_defines(text):
    """{name: value} of the header's #defines that are integers."""
    out = {}
    for name, expr in re.findall(r"(?m)^\s*#\s*define\s+(\w+)[ \t]+(.+?)\s*$",
                                 _uncommented(text)):
        try:
            out[name] = _integer(expr, out)
        except (ValueError, SyntaxError):
            pass
    return out


with open(PROTO_H) as _f:
    _TEXT = _f.read()
ENUM_ITEMS = read_enums(_TEXT)
DEFINES = read_defines(_TEXT)
# Every name read, as the module's own: wire.RESULT_OK, wire.PROTO_PAGE...
NAMES = dict(DEFINES)
for _items in ENUM_ITEMS.values():
    NAMES.update(_items)
globals().update(NAMES)
RESULT_NAMES = {v: n for n, v in ENUM_ITEMS["proto_result"]}

MAGIC = b"PP"           # proto.c's magic, the first two bytes of every frame
VERSION = NAMES["PROTO_VERSION"]
HEADER = NAMES["PROTO_HEADER"]
MAX_BODY = NAMES["PROTO_MAX_BODY"]
_TAG_RESULT = NAMES["TAG_RESULT"]


# ---- frames ----------------------------------------------------------------------

def field(tag, data):
    if isinstance(data, str):
        data = data.encode()
    return bytes([tag]) + struct.pack(">H", len(data)) + data


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def header(ftype, length, version=VERSION, magic=MAGIC):
    """A frame's header announcing a body of that length."""
    return magic + bytes([version, ftype]) + struct.pack(">I", length)


def frame(ftype, body=b"", version=VERSION, magic=MAGIC):
    return header(ftype, len(body), version, magic) + body


def request(ftype, *fields):
    """A frame of type ftype with (tag, data) fields."""
    return frame(ftype, b"".join(field(t, d) for t, d in fields))


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


class Response:
    def __init__(self, ftype, fields):
        self.type = ftype
        self.fields = fields

    def get(self, tag):
        v = self.fields.get(tag)
        return v[0] if v else None

    @property
    def result(self):
        v = self.get(_TAG_RESULT)
        return struct.unpack(">I", v)[0] if v else None

    def u32(self, tag):
        v = self.get(tag)
        return struct.unpack(">I", v)[0] if v and len(v) == 4 else None

    def u64(self, tag):
        v = self.get(tag)
        return struct.unpack(">Q", v)[0] if v and len(v) == 8 else None

    def text(self, tag):
        v = self.get(tag)
        return None if v is None else v.decode("utf-8", "replace")

    def __repr__(self):
        return "Response(result=%s, fields=%r)" % (RESULT_NAMES.get(self.result, self.result),
                                                   self.fields)


def read_response(s):
    head = recv_exact(s, HEADER)
    if head[:3] != MAGIC + bytes([VERSION]):
        raise ValueError("bad response header %r" % head)
    return parse(head + recv_exact(s, struct.unpack(">I", head[4:])[0]))


def parse(frame):
    """A whole frame (a request or a response) as a Response."""
    head, body = frame[:HEADER], frame[HEADER:]
    fields, off = {}, 0
    while off < len(body):
        tag, flen = body[off], struct.unpack(">H", body[off + 1:off + 3])[0]
        fields.setdefault(tag, []).append(body[off + 3:off + 3 + flen])
        off += 3 + flen
    return Response(head[3], fields)


def connect(path, timeout=STEP_TIMEOUT):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def call(path, data, timeout=STEP_TIMEOUT):
    """Send raw bytes on a fresh connection; the response."""
    with connect(path, timeout) as s:
        s.sendall(data)
        return read_response(s)


def at_eof(s):
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
