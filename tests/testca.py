"""testca.py - a certificate authority of a test's own, made with openssl.

TestCA(dir) makes a CA key and certificate in dir; server(name, sans)
makes a key and a certificate it signs for those names (DNS:localhost,
IP:127.0.0.1, ...).  Nothing leaves dir; the keys are throwaway.
"""
import os
import subprocess


def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


class TestCA:
    def __init__(self, dir, name="pam_portal test CA"):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)
        self.key = os.path.join(dir, "ca.key")
        self.cert = os.path.join(dir, "ca.pem")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2",
                 "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def server(self, stem, sans):
        """(certificate, key) for a server known by sans ("DNS:localhost")."""
        key = os.path.join(self.dir, stem + ".key")
        csr = os.path.join(self.dir, stem + ".csr")
        cert = os.path.join(self.dir, stem + ".pem")
        ext = os.path.join(self.dir, stem + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % ",".join(sans))
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", "/CN=" + sans[0].split(":", 1)[1])
        _openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                 "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
        os.chmod(key, 0o644)    # slapd reads it, as whatever user it runs as
        return cert, key
