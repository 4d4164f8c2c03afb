"""A private CA, the broker's server certificate and one client certificate per account, with ``cryptography``.

For mutual TLS with Mosquitto's ``require_certificate true`` and ``use_identity_as_username true``: the
client certificate's common name is the broker username, so the same ACL applies as with passwords. Keys
are EC P-256. Existing files are kept (a device keeps its certificate across runs); a missing one is issued.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate and its key on disk."""

    cert_file: Path
    key_file: Path


class CertificateAuthority:
    """The CA in ``directory`` (``ca.crt``, ``ca.key``), created on first use, and what it issues."""

    def __init__(self, directory: Path, days: int, now: dt.datetime) -> None:
        self.directory, self.days, self.now = directory, days, now
        self.cert_file, self.key_file = directory / "ca.crt", directory / "ca.key"
        if self.cert_file.exists() != self.key_file.exists():
            raise ConfigError(f"{directory}: ca.crt and ca.key must both exist or both be absent")
        if not self.cert_file.exists():
            self._create()
        self._cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigError(f"{self.key_file}: expected an EC private key")
        self._key = key

    def _create(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "facmon device CA")])
        cert = (self._builder(name, name, key.public_key(), self.days * 2)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(_usage(cert_sign=True), critical=True)
                .sign(key, hashes.SHA256()))
        _write(self.key_file, _key_pem(key), private=True)
        _write(self.cert_file, cert.public_bytes(serialization.Encoding.PEM))

    def issue_server(self, cert_file: Path, key_file: Path, names: Iterable[str]) -> Issued:
        """The broker's certificate for ``names`` (host names and IP addresses), unless it exists."""
        names = list(names)
        sans: list[x509.GeneralName] = [_general_name(name) for name in names]
        return self._issue(cert_file, key_file, names[0] if names else "facmon broker",
                           ExtendedKeyUsageOID.SERVER_AUTH, x509.SubjectAlternativeName(sans) if sans else None)

    def issue_client(self, cert_file: Path, key_file: Path, username: str) -> Issued:
        """A client certificate whose common name is ``username``, unless it exists."""
        return self._issue(cert_file, key_file, username, ExtendedKeyUsageOID.CLIENT_AUTH, None)

    def _issue(self, cert_file: Path, key_file: Path, common_name: str, purpose: x509.ObjectIdentifier,
               sans: x509.SubjectAlternativeName | None) -> Issued:
        if cert_file.exists() and key_file.exists():
            return Issued(cert_file, key_file)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        builder = (self._builder(subject, self._cert.subject, key.public_key(), self.days)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(_usage(cert_sign=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False))
        if sans is not None:
            builder = builder.add_extension(sans, critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        _write(key_file, _key_pem(key), private=True)
        _write(cert_file, cert.public_bytes(serialization.Encoding.PEM))
        return Issued(cert_file, key_file)

    def _builder(self, subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
                 days: int) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(self.now - dt.timedelta(minutes=5))
                .not_valid_after(self.now + dt.timedelta(days=days)))


def common_name(cert_file: Path) -> str:
    """The common name of a PEM certificate (the broker username of a client certificate)."""
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not cert_sign, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=not cert_sign, key_cert_sign=cert_sign,
                         crl_sign=cert_sign, encipher_only=False, decipher_only=False)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600 if private else 0o644)
    path.write_bytes(data)
