"""Test material for the certificate and SSH-key actions: RSA/EC keys,
self-signed X.509 certificates (PEM) and OpenSSH public keys, generated with
``cryptography``. Keys are cached per label: RSA generation is the slow part.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID


@functools.cache
def rsa_key(label: str = "a", bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def ec_key(label: str = "a") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def certificate(
    key: Any,
    cn: str = "rolegate.test",
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    issuer_key: Any = None,
    issuer_cn: str | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    issuer_key = issuer_key or key
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn or cn)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=400))
        .not_valid_after(not_after or now + timedelta(days=400))
        .sign(issuer_key, hashes.SHA256())
    )


def cert_pem(key: Any = None, cn: str = "rolegate.test", **kw: Any) -> str:
    cert = certificate(key or rsa_key(), cn, **kw)
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key: Any, *, password: bytes | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode("ascii")


def ssh_public(key: Any, comment: str = "") -> str:
    line = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode("ascii")
    )
    return f"{line} {comment}" if comment else line


def pem_public(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


@functools.cache
def ed25519_key(label: str = "a") -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()
