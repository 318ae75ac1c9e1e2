"""IAM server certificates (TLS certificates for CloudFront/ELB-style
consumers): UploadServerCertificate, GetServerCertificate,
ListServerCertificates, UpdateServerCertificate, DeleteServerCertificate
and the Tag/Untag/ListServerCertificateTags actions.

A certificate is a store entity of kind ``server-certificate`` named by its
ServerCertificateName (unique case-insensitively, like other IAM names),
with its path, ARN ``arn:aws:iam::<acct>:server-certificate/<path><name>``,
id ``ASCA...`` and data::

    {"body": <PEM>, "chain": <PEM> | None, "expiration": iso, "tags": [...]}

The private key: UploadServerCertificate requires it and checks that it
matches the certificate, and that is all. It is removed from the request
parameters before anything else happens (so the audit record never sees
it), never stored, never logged and never returned: AWS never returns it
either, so there is nothing it would be kept for.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from rolegate import ids
from rolegate.context import CallContext
from rolegate.errors import AwsError, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.lookup import EntityKind
from rolegate.iam.paging import paginate
from rolegate.iam.signing_certificates import MalformedCertificate, is_expired
from rolegate.iam.tags import clean_tags, entity_tag_handlers
from rolegate.store import Conflict

# IAM quota "Server certificates per account" (default 20).
MAX_SERVER_CERTIFICATES = 20
PRIVATE_KEY_PARAM = "PrivateKey"


class KeyPairMismatch(AwsError):
    code = "KeyPairMismatch"
    status = 400


class _ServerCertificateKind(EntityKind):
    def not_found(self, name: str) -> NoSuchEntity:
        # AWS's wording (recorded by LocalStack against AWS).
        return NoSuchEntity(f"The Server Certificate with name {name} cannot be found.")


SERVER_CERTIFICATE = _ServerCertificateKind(
    "server-certificate",
    "server certificate",
    "ServerCertificate",
    "ASCA",
    "ServerCertificateName",
    "AWS::IAM::ServerCertificate",
    0,
    0,
)


def _exists(name: str) -> EntityAlreadyExists:
    # AWS's wording (recorded by LocalStack against AWS).
    return EntityAlreadyExists(f"The Server Certificate with name {name} already exists.")


def _metadata(entity: Any) -> dict[str, Any]:
    return {
        "Path": entity.path,
        "ServerCertificateName": entity.name,
        "ServerCertificateId": entity.entity_id,
        "Arn": entity.arn,
        "UploadDate": lookup.as_datetime(entity.created_at),
        "Expiration": lookup.as_datetime(entity.data["expiration"]),
    }


def _load_certificates(text: str) -> list[x509.Certificate] | None:
    try:
        certs = x509.load_pem_x509_certificates(text.strip().encode("ascii"))
        for c in certs:
            c.public_key()
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        return None
    return certs or None


def _check_key_pair(cert: x509.Certificate, private_key_pem: str) -> None:
    """The private key must parse (unencrypted PEM) and belong to ``cert``.

    Errors say what is wrong without echoing any of the key.
    """
    try:
        key = serialization.load_pem_private_key(
            private_key_pem.strip().encode("ascii"), password=None
        )
        # What the key's public half is, in the form the certificate holds it.
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        # TypeError is also how an encrypted key without a password fails.
        raise MalformedCertificate(
            "Unable to parse the private key. Please ensure it is an unencrypted PEM private key."
        ) from None
    expected = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if not hmac.compare_digest(public, expected):
        raise KeyPairMismatch("Public key certificate and private key doesn't match.")


def upload_server_certificate(ctx: CallContext, params: dict) -> dict:
    # First of all: the private key leaves the parameters (which the audit
    # record is built from) and lives only in this frame.
    private_key = str(params.pop(PRIVATE_KEY_PARAM, "") or "")
    account = ctx.account_id
    name = params["ServerCertificateName"]
    path = params.get("Path") or "/"
    tags = clean_tags(params.get("Tags"))
    arn = SERVER_CERTIFICATE.arn(account, path, name)
    lookup.authorize(
        ctx,
        "UploadServerCertificate",
        arn,
        SERVER_CERTIFICATE.audit_type,
        context=lookup.tag_context(tags, "aws:RequestTag/"),
    )
    lookup.authorize_tag_on_create(ctx, "TagServerCertificate", arn, tags)
    body = params["CertificateBody"]
    certs = _load_certificates(body)
    if certs is None:
        raise MalformedCertificate(
            "Unable to parse certificate. Please ensure the certificate is in PEM format."
        )
    cert = certs[0]
    if is_expired(cert, ctx.now):
        raise MalformedCertificate("Certificate has expired.")
    chain = params.get("CertificateChain")
    if chain is not None and _load_certificates(chain) is None:
        raise MalformedCertificate(
            "Unable to parse certificate chain. Please ensure the chain is in PEM format."
        )
    if not private_key:
        # The model makes PrivateKey required; this only guards direct calls.
        raise MalformedCertificate("A private key is required.")
    _check_key_pair(cert, private_key)
    del private_key
    with ctx.store.transaction() as tx:
        if len(tx.list(account, SERVER_CERTIFICATE.kind)) >= MAX_SERVER_CERTIFICATES:
            raise LimitExceeded(
                f"Cannot exceed quota for ServerCertificatesPerAccount: {MAX_SERVER_CERTIFICATES}"
            )
        entity = lookup.insert_entity(
            tx,
            account,
            SERVER_CERTIFICATE.kind,
            name,
            entity_id=ids.new_unique_id(SERVER_CERTIFICATE.id_prefix, lookup.rng(ctx)),
            arn=arn,
            path=path,
            data={
                "body": body,
                "chain": chain,
                "expiration": lookup.iso(cert.not_valid_after_utc),
                "tags": tags,
            },
            now=ctx.now,
            exists=_exists(name),
        )
    out: dict[str, Any] = {"ServerCertificateMetadata": _metadata(entity)}
    if tags:
        out["Tags"] = tags
    lookup.record_response(ctx, out)
    return out


def get_server_certificate(ctx: CallContext, params: dict) -> dict:
    entity = lookup.authorize_entity(
        ctx, SERVER_CERTIFICATE, "GetServerCertificate", params["ServerCertificateName"]
    )
    out: dict[str, Any] = {
        "ServerCertificateMetadata": _metadata(entity),
        "CertificateBody": entity.data["body"],
        # AWS answers Tags even when there are none (recorded by LocalStack).
        "Tags": [dict(t) for t in entity.data.get("tags") or ()],
    }
    if entity.data.get("chain"):
        out["CertificateChain"] = entity.data["chain"]
    return {"ServerCertificate": out}


def list_server_certificates(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    prefix = params.get("PathPrefix") or "/"
    lookup.authorize(
        ctx, "ListServerCertificates", f"arn:aws:iam::{account}:server-certificate{prefix}", None
    )
    certs = ctx.store.list(account, SERVER_CERTIFICATE.kind, path_prefix=prefix)
    page, extra = paginate(certs, params, key=lambda e: e.name_key)
    return {"ServerCertificateMetadataList": [_metadata(e) for e in page], **extra}


def update_server_certificate(ctx: CallContext, params: dict) -> None:
    """Rename and/or move a certificate; as for users, AWS requires the
    permission on both the current and the new ARN."""
    account = ctx.account_id
    name = params["ServerCertificateName"]
    current = lookup.authorize_entity(ctx, SERVER_CERTIFICATE, "UpdateServerCertificate", name)
    new_name = params.get("NewServerCertificateName") or current.name
    new_path = params.get("NewPath") or current.path
    new_arn = SERVER_CERTIFICATE.arn(account, new_path, new_name)
    if new_arn != current.arn:
        lookup.authorize(ctx, "UpdateServerCertificate", new_arn, SERVER_CERTIFICATE.audit_type)
    with ctx.store.transaction() as tx:
        entity = lookup.require(tx, account, SERVER_CERTIFICATE, name)
        renamed = new_name.lower() != entity.name_key
        if renamed and tx.get(account, SERVER_CERTIFICATE.kind, new_name) is not None:
            raise _exists(new_name)
        try:
            tx.update(
                entity, dict(entity.data), name=new_name, path=new_path, arn=new_arn, now=ctx.now
            )
        except Conflict:
            raise _exists(new_name) from None
    return None


def delete_server_certificate(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    name = params["ServerCertificateName"]
    lookup.authorize_entity(ctx, SERVER_CERTIFICATE, "DeleteServerCertificate", name)
    with ctx.store.transaction() as tx:
        entity = lookup.require(tx, account, SERVER_CERTIFICATE, name)
        # Nothing in rolegate uses a server certificate, so the DeleteConflict
        # AWS answers for one still in use by a load balancer cannot arise.
        tx.delete(account, SERVER_CERTIFICATE.kind, entity.name)
    return None


HANDLERS: dict[str, Callable[..., Any]] = {
    "UploadServerCertificate": upload_server_certificate,
    "GetServerCertificate": get_server_certificate,
    "ListServerCertificates": list_server_certificates,
    "UpdateServerCertificate": update_server_certificate,
    "DeleteServerCertificate": delete_server_certificate,
    **entity_tag_handlers(SERVER_CERTIFICATE, __name__),
}
