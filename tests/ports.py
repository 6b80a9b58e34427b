"""ports.py - loopback TCP ports nobody else can take.

A port a test picked by binding port 0 and closing is free again at once:
another suite, or the kernel for an outgoing connection, may take it before
the server meant for it starts.  ReservedPort holds its port instead, with
a socket bound (SO_REUSEADDR) and never listening:

  - a connection to it is refused: a server that is down;
  - the kernel gives the port to nobody else, neither to a bind to port 0
    nor to an outgoing connection, and a bind without SO_REUSEADDR fails;
  - a server that binds with SO_REUSEADDR (tests/smtpserver.py does) can
    still listen on it.  So: hold, start the server on the port, release
    once it listens; hold() again as soon as it stops, for a server that
    must come back on the same port.
"""
import socket


class ReservedPort:
    def __init__(self):
        self.sock = None
        self.port = 0
        self.hold()

    def hold(self):
        """Take the port (a new one the first time); OSError if somebody
        took it while it was released."""
        if self.sock is not None:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", self.port))
        except OSError:
            s.close()
            raise
        self.sock = s
        self.port = s.getsockname()[1]

    def release(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def unix_accepts(path):
    """Whether a server accepts connections on the UNIX socket path (a
    server that has started listening), without sending it anything."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()
