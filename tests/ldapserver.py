"""ldapserver.py - a real slapd of a test's own (Debian's slapd package).

LdapServer() writes a slapd.conf in a scratch folder (back-mdb, the
memberof overlay, a test CA made by tests/testca.py for StartTLS), loads
a test directory with slapadd, and starts slapd in the foreground on an
ldapi:// socket in that folder, ldap:// (StartTLS) and ldaps:// on
loopback ports held for them (tests/ports.py).  Nothing of the machine's slapd is used or touched: not
/etc/ldap/slapd.d, not the service (keep it stopped).

slapd runs as the test's user (root in make check: slapd refuses nothing
to root) and dies with the test (PR_SET_PDEATHSIG), which removes the
folder when it ends, also when interrupted (Cleanup, SIGTERM handled).

The directory (dc=example,dc=org): people with uid and mail under
ou=people; the group cn=portal,ou=groups, whose members carry memberOf;
bob with two addresses; two entries with uid=twin (ou=people and
ou=staff); carol outside the group; an entry whose uid is "st*r"; the
reader cn=reader,dc=example,dc=org (password READER_PASSWORD) for simple
binds; root over ldapi:// (SASL EXTERNAL) may change anything.
"""
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

from ports import ReservedPort, unix_accepts
from testca import TestCA

BASE = "dc=example,dc=org"
GROUP = "cn=portal,ou=groups," + BASE
MEMBER_FILTER = "(memberOf=%s)" % GROUP
READER = "cn=reader," + BASE
READER_PASSWORD = "reader-secret-42"
SCHEMA = "/etc/ldap/schema"
# Root over ldapi://, as SASL EXTERNAL names it: the directory's manager.
ROOT_ID = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"

# name -> (ou, addresses, in the group)
PEOPLE = {
    "alice": ("people", ["alice@example.org"], True),
    "bob": ("people", ["bob@example.org", "bob.work@example.org"], True),
    "carol": ("people", ["carol@example.org"], False),
    "dave": ("people", ["dave@example.org"], True),
    "erin": ("people", ["erin@example.org"], True),
    "frank": ("people", ["frank@example.org"], True),
    "twin": ("people", ["twin1@example.org"], True),
    "twin@staff": ("staff", ["twin2@example.org"], True),
    "st*r": ("people", ["star@example.org"], True),
}

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def _sigterm(signum, frame):
    raise SystemExit(128 + signum)


def person_ldif(uid, ou, addrs, member):
    name = uid.split("@")[0]
    lines = ["dn: uid=%s,ou=%s,%s" % (name.replace("*", "\\2a"), ou, BASE),
             "objectClass: inetOrgPerson", "uid: " + name, "cn: " + name, "sn: " + name]
    lines += ["mail: " + a for a in addrs]
    if member:
        lines.append("memberOf: " + GROUP)
    return "\n".join(lines) + "\n\n"


def person_dn(uid):
    ou = PEOPLE.get(uid, ("people",))[0]
    return "uid=%s,ou=%s,%s" % (uid.split("@")[0].replace("*", "\\2a"), ou, BASE)


class LdapServer:
    """tls: StartTLS on ldap:// with a certificate for names (127.0.0.1,
    what ldap points to; another name makes ldap a wrong one); size_limit: the server's limit
    on entries a search returns (paged searches may go on past it);
    extra: {uid: addresses} of more members of the group."""

    def __init__(self, cleanup, tls=True, size_limit=None, extra=None, names=("IP:127.0.0.1",)):
        signal.signal(signal.SIGTERM, _sigterm)
        self.dir = tempfile.mkdtemp(prefix="slapd-")
        os.chmod(self.dir, 0o755)
        cleanup(self.remove)
        self.proc = None
        self.log = None
        self.socket = os.path.join(self.dir, "ldapi")
        self.ldapi = "ldapi://" + urllib.parse.quote(self.socket, safe="")
        self.reserved = ReservedPort()
        self.port = self.reserved.port
        # An address, not "localhost": libldap checks that name as the
        # machine's own, and a fresh root may not resolve it at all.
        self.ldap = "ldap://127.0.0.1:%d" % self.port
        self.reserved_tls = ReservedPort() if tls else None
        self.ldaps = "ldaps://127.0.0.1:%d" % self.reserved_tls.port if tls else None
        self.ca = None
        if tls:
            self.ca = TestCA(os.path.join(self.dir, "ca"))
            self.cert, self.key = self.ca.server("server", list(names))
        self.write_config(size_limit)
        self.load(extra or {})
        cleanup(self.stop)
        self.start()

    def write_config(self, size_limit):
        tls = ("TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n"
               % (self.ca.cert, self.cert, self.key)) if self.ca else ""
        limit = ("sizelimit size.soft=%d size.hard=%d size.pr=%d size.prtotal=unlimited\n"
                 % (size_limit, size_limit, size_limit)) if size_limit else ""
        os.mkdir(os.path.join(self.dir, "db"), 0o700)
        self.conf = os.path.join(self.dir, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write("""include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
{tls}database mdb
maxsize 268435456
suffix "{base}"
rootdn "cn=admin,{base}"
directory {dir}/db
dbnosync
{limit}overlay memberof
access to attrs=userPassword by dn.exact="{root}" manage by anonymous auth by * none
access to * by dn.exact="{root}" manage by * read
""".format(schema=SCHEMA, dir=self.dir, tls=tls, base=BASE, limit=limit, root=ROOT_ID))

    def load(self, extra):
        ldif = ["dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n" % BASE]
        for ou in ("people", "staff", "groups", "many"):
            ldif.append("dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n" % (ou, BASE, ou))
        ldif.append("dn: %s\nobjectClass: person\ncn: reader\nsn: reader\nuserPassword: %s\n\n"
                    % (READER, READER_PASSWORD))
        members = []
        for uid, (ou, addrs, member) in PEOPLE.items():
            ldif.append(person_ldif(uid, ou, addrs, member))
            if member:
                members.append(person_dn(uid))
        for uid, addrs in extra.items():
            ldif.append(person_ldif(uid, "many", addrs, True).replace(
                "ou=many", "ou=many", 1))
            members.append("uid=%s,ou=many,%s" % (uid, BASE))
        ldif.append("dn: %s\nobjectClass: groupOfNames\ncn: portal\n%s\n\n"
                    % (GROUP, "\n".join("member: " + m for m in members)))
        path = os.path.join(self.dir, "data.ldif")
        with open(path, "w") as f:
            f.write("".join(ldif))
        p = subprocess.run(["slapadd", "-q", "-f", self.conf, "-l", path],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("slapadd: %s" % p.stderr[-2000:])

    def start(self):
        """slapd in the foreground; returns once the socket answers."""
        self.log = open(os.path.join(self.dir, "slapd.log"), "a")
        urls = "%s %s" % (self.ldapi, self.ldap) + (" " + self.ldaps if self.ldaps else "")
        self.proc = subprocess.Popen(["slapd", "-d", "0", "-f", self.conf, "-h", urls],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        end = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("slapd exited with %s: %s" % (self.proc.returncode,
                                                                  self.log_text()[-1500:]))
            if self._answers():
                break
            if time.monotonic() > end:
                raise RuntimeError("slapd did not answer within 20 s")
            time.sleep(0.02)
        self.reserved.release()
        if self.reserved_tls:
            self.reserved_tls.release()

    def _answers(self):
        if not unix_accepts(self.socket):
            return False
        try:
            for port in [self.port] + ([self.reserved_tls.port] if self.ldaps else []):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self):
        """SIGTERM, and the port held again, so that nothing else takes it
        and a connection to it is refused (a server that is down)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None
        if os.path.isdir(self.dir):
            self.reserved.hold()
            if self.reserved_tls:
                self.reserved_tls.hold()

    def remove(self):
        self.stop()
        self.reserved.release()
        if self.reserved_tls:
            self.reserved_tls.release()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "slapd.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def modify(self, ldif):
        """ldapmodify as the directory's manager (root, SASL EXTERNAL over ldapi)."""
        p = subprocess.run(["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi],
                           input=ldif, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("ldapmodify: %s" % p.stderr)

    def set_mail(self, uid, *addrs):
        self.modify("dn: %s\nchangetype: modify\nreplace: mail\n%s\n"
                    % (person_dn(uid), "\n".join("mail: " + a for a in addrs)))

    def leave_group(self, uid):
        self.modify("dn: %s\nchangetype: modify\ndelete: member\nmember: %s\n"
                    % (GROUP, person_dn(uid)))

    def search(self, *args):
        """ldapsearch over ldapi as the manager: (status, output)."""
        p = subprocess.run(["ldapsearch", "-LLL", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi,
                            "-b", BASE] + list(args), capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr
