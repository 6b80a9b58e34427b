"""wire.py - common/proto.h spoken from Python, for tests that talk to
portald's socket directly (as a client the module would never be: a local
user, a fuzzer by hand).  Only what those tests need.
"""
import socket
import struct

PROTO_RESPONSE = 1
REQ_STATUS, REQ_SEND_CODE, REQ_VERIFY_CODE, REQ_SET_PASSWORD, REQ_AUTH = 10, 11, 12, 13, 14
(REQ_USER_ADD, REQ_USER_DEL, REQ_USER_SHOW, REQ_USER_LIST, REQ_USER_RESET,
 REQ_USER_UNLOCK, REQ_IMPORT, REQ_OUTBOX, REQ_DAEMON_STATUS) = range(30, 39)

F_RESULT, F_USER, F_EMAIL, F_CODE, F_PASSWORD, F_TICKET, F_STATE = 1, 2, 3, 4, 5, 6, 7
F_LANG, F_TTL, F_WAIT, F_UNTIL, F_TRIES = 10, 11, 12, 13, 14
F_HOST, F_ENTRY, F_LINE, F_DETAIL = 17, 18, 20, 27

(R_OK, R_BAD_REQUEST, R_DENIED, R_INVALID, R_NOT_FOUND, R_EXISTS, R_LOCKED, R_WAIT,
 R_CODE_WRONG, R_CODE_EXPIRED, R_CODE_DEAD, R_TICKET, R_POLICY, R_PASSWORD, R_STATE,
 R_STORAGE, R_BUSY, R_INTERNAL, R_PARTIAL) = range(19)

HEADER = 8
MAX_BODY = 64 * 1024


def field(tag, data):
    if isinstance(data, str):
        data = data.encode()
    return bytes([tag]) + struct.pack(">H", len(data)) + data


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def frame(ftype, body=b"", version=1, magic=b"PP"):
    return magic + bytes([version, ftype]) + struct.pack(">I", len(body)) + body


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
        v = self.get(F_RESULT)
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
        return "Response(result=%r, fields=%r)" % (self.result, self.fields)


def read_response(s):
    head = recv_exact(s, HEADER)
    if head[:3] != b"PP\x01":
        raise ValueError("bad response header %r" % head)
    body = recv_exact(s, struct.unpack(">I", head[4:])[0])
    fields, off = {}, 0
    while off < len(body):
        tag, flen = body[off], struct.unpack(">H", body[off + 1:off + 3])[0]
        fields.setdefault(tag, []).append(body[off + 3:off + 3 + flen])
        off += 3 + flen
    return Response(head[3], fields)


def connect(path, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def call(path, data, timeout=30):
    """Send raw bytes on a fresh connection; the response."""
    with connect(path, timeout) as s:
        s.sendall(data)
        return read_response(s)


def at_eof(s):
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
