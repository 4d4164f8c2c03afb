"""Test certificates made at test time with the ``openssl`` CLI: a private CA and a server certificate.

The ``cryptography`` package is not a dependency of facmon, and the openssl binary is (Debian package
``openssl``), so no new Python package is needed. Keys are EC P-256 (generated in milliseconds), valid for
two days; the server certificate names 127.0.0.1 (IP SAN) and localhost, what the fixtures connect to.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.services import ServiceError, TlsFiles, require_binary

OPENSSL = "/usr/bin/openssl"
_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_SERVER_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_tls_files(directory: Path, openssl: str = OPENSSL) -> TlsFiles:
    """A fresh CA (``ca.crt``) and a server key and certificate signed by it, in ``directory``."""
    binary = require_binary(openssl, "openssl")
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(ca_file=directory / "ca.crt", cert_file=directory / "server.crt",
                     key_file=directory / "server.key")
    ca_key, csr, extensions = directory / "ca.key", directory / "server.csr", directory / "server.ext"
    extensions.write_text(_SERVER_EXTENSIONS)
    _run(binary, "req", "-x509", *_EC_KEY, "-keyout", str(ca_key), "-out", str(files.ca_file), "-days", "2",
         "-subj", f"/CN=facmon test CA {directory.name}",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _run(binary, "req", "-new", *_EC_KEY, "-keyout", str(files.key_file), "-out", str(csr),
         "-subj", "/CN=localhost")
    _run(binary, "x509", "-req", "-in", str(csr), "-CA", str(files.ca_file), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(files.cert_file), "-days", "2", "-extfile", str(extensions))
    return files


def _run(binary: str, *args: str) -> None:
    result = subprocess.run([binary, *args], stdin=subprocess.DEVNULL, capture_output=True, check=False,
                            timeout=60)
    if result.returncode != 0:
        raise ServiceError(f"openssl {args[0]} failed with code {result.returncode}: "
                           f"{result.stderr.decode(errors='replace').strip()}")
