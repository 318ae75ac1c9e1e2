"""Certificates for a loopback HTTPS identity provider in tests.

``self_signed()`` gives one certificate for 127.0.0.1 (or ``ip``) and localhost;
``ca_signed()`` a private CA and a server certificate it signed, served with
the CA in the chain, as an IdP behind an internal CA would.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class ServerCert:
    cert_file: Path  # the chain the server presents, leaf first (PEM)
    key_file: Path
    leaf_thumbprint: str
    ca_thumbprint: str | None = None


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _thumbprint(cert: x509.Certificate) -> str:
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def _build(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    ip: str = "127.0.0.1",
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca or subject == issuer:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(ip))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(directory: Path, name: str, certs: list[x509.Certificate], key: object) -> ServerCert:
    cert_file, key_file = directory / f"{name}.pem", directory / f"{name}.key"
    cert_file.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    key_file.write_bytes(
        key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ServerCert(cert_file, key_file, _thumbprint(certs[0]))


def self_signed(directory: Path, name: str = "idp", *, ip: str = "127.0.0.1") -> ServerCert:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _build(ip, key, ip, key, ca=False, ip=ip)
    return _write(directory, name, [cert], key)


def ca_signed(directory: Path, name: str = "idp-ca") -> ServerCert:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _build("rolegate test CA", ca_key, "rolegate test CA", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _build("127.0.0.1", key, "rolegate test CA", ca_key, ca=False)
    out = _write(directory, name, [leaf, ca], key)
    return ServerCert(out.cert_file, out.key_file, out.leaf_thumbprint, _thumbprint(ca))


def impostor(directory: Path, genuine: ServerCert, name: str = "impostor") -> ServerCert:
    """A server certificate from another CA, presented together with
    ``genuine``'s CA certificate (public, so anyone can show it)."""
    shown_ca = x509.load_pem_x509_certificates(genuine.cert_file.read_bytes())[-1]
    other_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _build("127.0.0.1", key, "rolegate test CA", other_key, ca=False)
    out = _write(directory, name, [leaf, shown_ca], key)
    return ServerCert(out.cert_file, out.key_file, out.leaf_thumbprint, _thumbprint(shown_ca))
