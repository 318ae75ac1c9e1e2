"""X.509 signing certificates of IAM users: UploadSigningCertificate,
ListSigningCertificates, UpdateSigningCertificate, DeleteSigningCertificate,
and the certificate parsing shared with server certificates.

A certificate is a store entity of kind ``signing-certificate`` named (and
identified) by its CertificateId, with data::

    {"user_id": <the owner's AIDA id>, "body": <PEM as uploaded>,
     "status": "Active" | "Inactive", "fingerprint": <SHA-256 of the DER>}

The owner is kept by user *id*, not name, so UpdateUser's rename carries
the certificates along without touching them (and a user deleted and
re-created under the same name does not inherit anything: DeleteUser
refuses while certificates remain). The body is public material; nothing
secret is stored.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from rolegate.context import CallContext
from rolegate.errors import AwsError, LimitExceeded, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.lookup import USER
from rolegate.iam.paging import paginate
from rolegate.iam.user_items import UserItems

KIND = "signing-certificate"
MAX_CERTIFICATES_PER_USER = 2  # IAM quota "Signing certificates per user"
# AWS's CertificateIds are long uppercase alphanumerics (the model asks for
# 24-128 ``\w``); 32 characters, as other emulators use, is an assumption:
# the exact length AWS draws could not be confirmed.
CERTIFICATE_ID_LENGTH = 32
_ID_ALPHABET = string.ascii_uppercase + string.digits


class MalformedCertificate(AwsError):
    code = "MalformedCertificate"
    status = 400


class DuplicateCertificate(AwsError):
    code = "DuplicateCertificate"
    status = 409


def parse_pem_certificate(body: str) -> x509.Certificate | None:
    """The first certificate of a PEM text, or None if there is none usable.

    Parsing is strict and total: any input either gives a certificate whose
    public key cryptography understands, or None (never an exception).
    """
    try:
        cert = x509.load_pem_x509_certificate(body.strip().encode("ascii"))
        cert.public_key()  # an unsupported key algorithm fails here, not later
        cert.not_valid_after_utc  # noqa: B018 - a bad validity field fails here too
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        return None
    return cert


def is_expired(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_after_utc <= now


def der_fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _new_id(ctx: CallContext) -> str:
    r = lookup.rng(ctx)
    return "".join(r.choice(_ID_ALPHABET) for _ in range(CERTIFICATE_ID_LENGTH))


def _not_found(cert_id: str) -> NoSuchEntity:
    # AWS's wording (recorded by LocalStack against AWS).
    return NoSuchEntity(f"The Certificate with id {cert_id} cannot be found.")


CERTIFICATES = UserItems(KIND, "CertificateId", _not_found)


def certificates_of(reader: Any, account_id: str, user_id: str) -> list[Any]:
    """The signing-certificate entities of one user (``reader``: store or transaction)."""
    return CERTIFICATES.of(reader, account_id, user_id)


def _output(entity: Any, user_name: str) -> dict[str, Any]:
    return {
        "UserName": user_name,
        "CertificateId": entity.name,
        "CertificateBody": entity.data["body"],
        "Status": entity.data["status"],
        "UploadDate": lookup.as_datetime(entity.created_at),
    }


def upload_signing_certificate(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    name = lookup.caller_user_name(ctx, params)
    lookup.authorize_entity(ctx, USER, "UploadSigningCertificate", name)
    body = params["CertificateBody"]
    cert = parse_pem_certificate(body)
    if cert is None:
        # AWS echoes the body in this message (recorded by LocalStack).
        raise MalformedCertificate(f"Certificate {body} is malformed.")
    if is_expired(cert, ctx.now):
        raise MalformedCertificate("Certificate has expired.")
    fingerprint = der_fingerprint(cert)
    cert_id = _new_id(ctx)
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, name)
        existing = tx.list(account, KIND)
        if any(e.data.get("fingerprint") == fingerprint for e in existing):
            raise DuplicateCertificate("A duplicate certificate already exists.")
        if sum(1 for e in existing if e.data.get("user_id") == user.entity_id) >= (
            MAX_CERTIFICATES_PER_USER
        ):
            # AWS's wording (recorded by LocalStack against AWS).
            raise LimitExceeded(
                f"Cannot exceed quota for CertificatesPerUser: {MAX_CERTIFICATES_PER_USER}"
            )
        # Bump the user's version: of two concurrent uploads one loses with
        # ConcurrentModification instead of both passing the quota check.
        tx.update(user, dict(user.data), now=ctx.now)
        entity = tx.insert(
            account,
            KIND,
            cert_id,
            entity_id=cert_id,
            # Not an AWS ARN (signing certificates have none); the column
            # needs a value and nothing looks certificates up by it.
            arn=f"arn:aws:iam::{account}:signing-certificate/{cert_id}",
            path="/",
            data={
                "user_id": user.entity_id,
                "body": body,
                "status": "Active",
                "fingerprint": fingerprint,
            },
            now=ctx.now,
        )
    out = {"Certificate": _output(entity, user.name)}
    lookup.record_response(ctx, out)
    return out


def list_signing_certificates(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    p = ctx.principal
    if not params.get("UserName") and p is not None and p.kind == "root":
        # Root signing certificates are not IAM-user certificates; rolegate
        # keeps none (as ListAccessKeys answers for root keys).
        lookup.authorize(ctx, "ListSigningCertificates", p.arn, None)
        return {"Certificates": [], "IsTruncated": False}
    name = lookup.caller_user_name(ctx, params)
    user = lookup.authorize_entity(ctx, USER, "ListSigningCertificates", name)
    certs = certificates_of(ctx.store, account, user.entity_id)
    page, extra = paginate(certs, params, key=lambda e: str(e.name))
    return {"Certificates": [_output(e, user.name) for e in page], **extra}


HANDLERS: dict[str, Callable[..., Any]] = {
    "UploadSigningCertificate": upload_signing_certificate,
    "ListSigningCertificates": list_signing_certificates,
    "UpdateSigningCertificate": CERTIFICATES.update_status_handler("UpdateSigningCertificate"),
    "DeleteSigningCertificate": CERTIFICATES.delete_handler("DeleteSigningCertificate"),
}
