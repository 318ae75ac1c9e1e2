"""SSH public keys of IAM users (for CodeCommit): UploadSSHPublicKey,
GetSSHPublicKey, ListSSHPublicKeys, UpdateSSHPublicKey, DeleteSSHPublicKey.

A key is a store entity of kind ``ssh-public-key`` named (and identified)
by its SSHPublicKeyId (``APKA...``), with data::

    {"user_id": <the owner's AIDA id>, "body": <the key as uploaded>,
     "format": "SSH" | "PEM", "fingerprint": "aa:bb:...", "status": ...}

As with signing certificates, the owner is kept by user id so that a
rename carries the keys along. Public keys only: nothing secret is stored.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from rolegate import ids
from rolegate.context import CallContext
from rolegate.errors import AwsError, LimitExceeded, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.lookup import USER
from rolegate.iam.paging import paginate
from rolegate.iam.user_items import UserItems

KIND = "ssh-public-key"
ID_PREFIX = "APKA"
MAX_KEYS_PER_USER = 5  # IAM quota "SSH public keys per user"
# CodeCommit takes ssh-rsa keys of at least 2048 bits (IAM User Guide,
# "Use SSH keys and SSH with CodeCommit").
MIN_RSA_BITS = 2048
_PEM_MARKER = "-----BEGIN"
_SSH_PREFIXES = ("ssh-", "ecdsa-", "sk-")


class InvalidPublicKey(AwsError):
    code = "InvalidPublicKey"
    status = 400


class DuplicateSSHPublicKey(AwsError):
    code = "DuplicateSSHPublicKey"
    status = 400


class UnrecognizedPublicKeyEncoding(AwsError):
    code = "UnrecognizedPublicKeyEncoding"
    status = 400


def _invalid() -> InvalidPublicKey:
    # The model's description of the error; AWS's exact wording is not
    # recorded anywhere we could find.
    return InvalidPublicKey(
        "The request was rejected because the public key is malformed or otherwise invalid."
    )


def parse_public_key(body: str) -> tuple[rsa.RSAPublicKey, str]:
    """The RSA key in ``body`` (OpenSSH ``ssh-rsa`` line or PEM) and its format.

    Text in neither encoding -> UnrecognizedPublicKeyEncoding; a key that
    does not parse, is not RSA or is shorter than 2048 bits -> InvalidPublicKey.
    Never raises anything else.
    """
    text = body.strip()
    try:
        raw = text.encode("ascii")
        if text.startswith(_PEM_MARKER):
            fmt = "PEM"
            key: Any = serialization.load_pem_public_key(raw)
        elif text.startswith(_SSH_PREFIXES):
            fmt = "SSH"
            key = serialization.load_ssh_public_key(raw)
        else:
            raise UnrecognizedPublicKeyEncoding(
                "The public key encoding format is unsupported or unrecognized; "
                "use ssh-rsa or PEM format."
            )
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        raise _invalid() from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise _invalid()
    return key, fmt


def ssh_encoding(key: rsa.RSAPublicKey) -> str:
    """``ssh-rsa <base64>`` (no comment)."""
    return key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode("ascii")


def pem_encoding(key: rsa.RSAPublicKey) -> str:
    """The SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def fingerprint(key: rsa.RSAPublicKey) -> str:
    """The MD5 fingerprint of the SSH key blob, colon-separated lowercase hex
    (RFC 4716 section 4; what ``ssh-keygen -E md5 -l`` prints after ``MD5:``).

    AWS documents the Fingerprint as "the MD5 message digest of the SSH
    public key" and shows it in this form; that it is taken over the wire
    blob (rather than the DER key) is the RFC's definition, not confirmed
    against a recorded AWS response.
    """
    blob = base64.b64decode(ssh_encoding(key).split()[1])
    digest = hashlib.md5(blob, usedforsecurity=False).digest()
    return ":".join(f"{b:02x}" for b in digest)


def _not_found(key_id: str) -> NoSuchEntity:
    # AWS's wording (recorded by LocalStack against AWS).
    return NoSuchEntity(f"The Public Key with id {key_id} cannot be found.")


KEYS = UserItems(KIND, "SSHPublicKeyId", _not_found)


def keys_of(reader: Any, account_id: str, user_id: str) -> list[Any]:
    """The SSH-key entities of one user (``reader``: store or transaction)."""
    return KEYS.of(reader, account_id, user_id)


def _body(entity: Any, encoding: str) -> str:
    stored = entity.data["body"]
    if encoding == entity.data.get("format"):
        return str(stored)
    key, _ = parse_public_key(stored)
    return ssh_encoding(key) if encoding == "SSH" else pem_encoding(key)


def _output(entity: Any, user_name: str, encoding: str | None = None) -> dict[str, Any]:
    return {
        "UserName": user_name,
        "SSHPublicKeyId": entity.name,
        "Fingerprint": entity.data["fingerprint"],
        "SSHPublicKeyBody": (entity.data["body"] if encoding is None else _body(entity, encoding)),
        "Status": entity.data["status"],
        "UploadDate": lookup.as_datetime(entity.created_at),
    }


def _metadata(entity: Any, user_name: str) -> dict[str, Any]:
    return {
        "UserName": user_name,
        "SSHPublicKeyId": entity.name,
        "Status": entity.data["status"],
        "UploadDate": lookup.as_datetime(entity.created_at),
    }


def upload_ssh_public_key(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    name = params["UserName"]
    lookup.authorize_entity(ctx, USER, "UploadSSHPublicKey", name)
    body = params["SSHPublicKeyBody"]
    key, fmt = parse_public_key(body)
    print_ = fingerprint(key)
    key_id = ids.new_unique_id(ID_PREFIX, lookup.rng(ctx))
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, name)
        mine = keys_of(tx, account, user.entity_id)
        if any(e.data.get("fingerprint") == print_ for e in mine):
            raise DuplicateSSHPublicKey(
                "The request was rejected because the SSH public key is already associated "
                "with the specified IAM user."
            )
        if len(mine) >= MAX_KEYS_PER_USER:
            # Quota name as the IAM quotas page lists it; AWS's exact message
            # for this limit is not recorded.
            raise LimitExceeded(f"Cannot exceed quota for PublicKeysPerUser: {MAX_KEYS_PER_USER}")
        # Serialise concurrent uploads on the user's version (quota check).
        tx.update(user, dict(user.data), now=ctx.now)
        entity = tx.insert(
            account,
            KIND,
            key_id,
            entity_id=key_id,
            # Not an AWS ARN (SSH keys have none); nothing looks keys up by it.
            arn=f"arn:aws:iam::{account}:ssh-public-key/{key_id}",
            path="/",
            data={
                "user_id": user.entity_id,
                "body": body.strip(),
                "format": fmt,
                "fingerprint": print_,
                "status": "Active",
            },
            now=ctx.now,
        )
    out = {"SSHPublicKey": _output(entity, user.name)}
    lookup.record_response(ctx, out)
    return out


def get_ssh_public_key(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    user = lookup.authorize_entity(ctx, USER, "GetSSHPublicKey", params["UserName"])
    entity = KEYS.owned(ctx.store, account, user, params["SSHPublicKeyId"])
    return {"SSHPublicKey": _output(entity, user.name, params["Encoding"])}


def list_ssh_public_keys(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    p = ctx.principal
    if not params.get("UserName") and p is not None and p.kind == "root":
        # The root has no IAM SSH keys (as ListAccessKeys answers for root).
        lookup.authorize(ctx, "ListSSHPublicKeys", p.arn, None)
        return {"SSHPublicKeys": [], "IsTruncated": False}
    name = lookup.caller_user_name(ctx, params)
    user = lookup.authorize_entity(ctx, USER, "ListSSHPublicKeys", name)
    # Sorted by key id, as AWS lists them (CodeCommit User Guide, SSH
    # troubleshooting: "listed alphabetically by key ID").
    page, extra = paginate(
        keys_of(ctx.store, account, user.entity_id), params, key=lambda e: str(e.name)
    )
    return {"SSHPublicKeys": [_metadata(e, user.name) for e in page], **extra}


HANDLERS: dict[str, Callable[..., Any]] = {
    "UploadSSHPublicKey": upload_ssh_public_key,
    "GetSSHPublicKey": get_ssh_public_key,
    "ListSSHPublicKeys": list_ssh_public_keys,
    "UpdateSSHPublicKey": KEYS.update_status_handler("UpdateSSHPublicKey"),
    "DeleteSSHPublicKey": KEYS.delete_handler("DeleteSSHPublicKey"),
}
