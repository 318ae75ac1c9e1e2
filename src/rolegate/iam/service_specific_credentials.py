"""Service-specific credentials (a user name and password for one service,
e.g. CodeCommit's Git over HTTPS or Amazon Keyspaces):
CreateServiceSpecificCredential, ListServiceSpecificCredentials,
ResetServiceSpecificCredential, UpdateServiceSpecificCredential,
DeleteServiceSpecificCredential.

A credential is a store entity of kind ``service-specific-credential`` named
(and identified) by its ServiceSpecificCredentialId (``ACCA...``), with
data::

    {"user_id": <the owner's AIDA id>, "service": "codecommit.amazonaws.com",
     "service_user_name": "<user>-at-<account>", "status": "Active",
     "password": <scrypt hash text>, "expiration": iso | None}

The ServicePassword is a secret. It exists in clear only in the Create and
Reset responses (never in the audit record); the store keeps only its
salted scrypt hash (``login_profiles.hash_password``). Nothing in rolegate
verifies these passwords today (no CodeCommit or Keyspaces here); the hash
is kept so that a service that does can check them without rolegate ever
having stored one in plaintext.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from rolegate import ids
from rolegate.context import CallContext
from rolegate.errors import AwsError, InvalidInput, LimitExceeded, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.login_profiles import hash_password
from rolegate.iam.lookup import USER
from rolegate.iam.paging import paginate
from rolegate.iam.user_items import UserItems

KIND = "service-specific-credential"
ID_PREFIX = "ACCA"
MAX_PER_USER_PER_SERVICE = 2  # IAM quota, per user and service
# The services that take service-specific credentials with a user name and
# password (IAM User Guide, id_credentials_service-specific_creds).
# Bedrock's API keys, the third kind, answer with an alias and a secret
# instead and are not offered here.
SUPPORTED_SERVICES = frozenset({"codecommit.amazonaws.com", "cassandra.amazonaws.com"})
PASSWORD_BYTES = 32  # AWS's passwords are 44 Base64 characters: 32 bytes


class ServiceNotSupported(AwsError):
    code = "NotSupportedService"
    status = 404


def _new_password() -> str:
    # Always the OS CSPRNG (never the injectable test RNG): this is a secret.
    return base64.b64encode(secrets.token_bytes(PASSWORD_BYTES)).decode("ascii")


def _not_found(cred_id: str) -> NoSuchEntity:
    # Modelled on the recorded wording for certificates and SSH keys; AWS's
    # exact message for this entity could not be confirmed.
    return NoSuchEntity(f"The Service Specific Credential with id {cred_id} cannot be found.")


CREDENTIALS = UserItems(KIND, "ServiceSpecificCredentialId", _not_found)


def credentials_of(reader: Any, account_id: str, user_id: str) -> list[Any]:
    """The credential entities of one user (``reader``: store or transaction)."""
    return CREDENTIALS.of(reader, account_id, user_id)


def _check_service(service: str) -> str:
    if service not in SUPPORTED_SERVICES:
        raise ServiceNotSupported(
            f"No such service {service} is supported for Service-Specific Credentials"
        )
    return service


def _metadata(entity: Any, user_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "UserName": user_name,
        "Status": entity.data["status"],
        "ServiceUserName": entity.data["service_user_name"],
        "CreateDate": lookup.as_datetime(entity.created_at),
        "ServiceSpecificCredentialId": entity.name,
        "ServiceName": entity.data["service"],
    }
    if entity.data.get("expiration"):
        out["ExpirationDate"] = lookup.as_datetime(entity.data["expiration"])
    return out


def _with_password(entity: Any, user_name: str, password: str) -> dict[str, Any]:
    return {**_metadata(entity, user_name), "ServicePassword": password}


def _respond(ctx: CallContext, entity: Any, user_name: str, password: str) -> dict:
    # The audit record gets the metadata only, never the password.
    lookup.record_response(ctx, {"ServiceSpecificCredential": _metadata(entity, user_name)})
    return {"ServiceSpecificCredential": _with_password(entity, user_name, password)}


def create_service_specific_credential(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    name = params["UserName"]
    lookup.authorize_entity(ctx, USER, "CreateServiceSpecificCredential", name)
    service = _check_service(params["ServiceName"])
    days = params.get("CredentialAgeDays")
    password = _new_password()
    hashed = hash_password(password)  # the slow part, outside the transaction
    cred_id = ids.new_unique_id(ID_PREFIX, lookup.rng(ctx))
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, name)
        same_service = [
            e for e in credentials_of(tx, account, user.entity_id) if e.data["service"] == service
        ]
        if len(same_service) >= MAX_PER_USER_PER_SERVICE:
            raise LimitExceeded(
                "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: "
                f"{MAX_PER_USER_PER_SERVICE}"
            )
        # Serialise concurrent creates on the user's version (quota check).
        tx.update(user, dict(user.data), now=ctx.now)
        entity = tx.insert(
            account,
            KIND,
            cred_id,
            entity_id=cred_id,
            # Not an AWS ARN (these credentials have none); nothing looks
            # them up by it.
            arn=f"arn:aws:iam::{account}:service-specific-credential/{cred_id}",
            path="/",
            data={
                "user_id": user.entity_id,
                "service": service,
                # AWS's form (AWS CLI example): "<user>-at-<account>", fixed at
                # creation.
                "service_user_name": f"{user.name}-at-{account}",
                "status": "Active",
                "password": hashed,
                "expiration": (
                    lookup.iso(ctx.now + timedelta(days=int(days))) if days is not None else None
                ),
            },
            now=ctx.now,
        )
    return _respond(ctx, entity, user.name, password)


def list_service_specific_credentials(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    service = params.get("ServiceName")
    if service:
        _check_service(service)
    p = ctx.principal
    if params.get("AllUsers"):
        if params.get("UserName"):
            raise InvalidInput("Cannot specify both UserName and AllUsers.")
        lookup.authorize(
            ctx, "ListServiceSpecificCredentials", f"arn:aws:iam::{account}:user/*", None
        )
        names = {u.entity_id: u.name for u in ctx.store.list(account, USER.kind)}
        creds = [e for e in ctx.store.list(account, KIND) if e.data.get("user_id") in names]
    elif not params.get("UserName") and p is not None and p.kind == "root":
        # The root has no service-specific credentials in rolegate.
        lookup.authorize(ctx, "ListServiceSpecificCredentials", p.arn, None)
        return {"ServiceSpecificCredentials": [], "IsTruncated": False}
    else:
        user_name = lookup.caller_user_name(ctx, params)
        user = lookup.authorize_entity(ctx, USER, "ListServiceSpecificCredentials", user_name)
        names = {user.entity_id: user.name}
        creds = credentials_of(ctx.store, account, user.entity_id)
    if service:
        creds = [e for e in creds if e.data["service"] == service]
    page, extra = paginate(
        creds, params, key=lambda e: f"{names[e.data['user_id']].lower()}\x00{e.name}"
    )
    return {
        "ServiceSpecificCredentials": [_metadata(e, names[e.data["user_id"]]) for e in page],
        **extra,
    }


def reset_service_specific_credential(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    cred_id = params["ServiceSpecificCredentialId"]
    name = lookup.caller_user_name(ctx, params)
    lookup.authorize_entity(ctx, USER, "ResetServiceSpecificCredential", name)
    password = _new_password()
    hashed = hash_password(password)
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, name)
        entity = CREDENTIALS.owned(tx, account, user, cred_id)
        entity = tx.update(entity, {**entity.data, "password": hashed}, now=ctx.now)
    return _respond(ctx, entity, user.name, password)


HANDLERS: dict[str, Callable[..., Any]] = {
    "CreateServiceSpecificCredential": create_service_specific_credential,
    "ListServiceSpecificCredentials": list_service_specific_credentials,
    "ResetServiceSpecificCredential": reset_service_specific_credential,
    "UpdateServiceSpecificCredential": CREDENTIALS.update_status_handler(
        "UpdateServiceSpecificCredential"
    ),
    "DeleteServiceSpecificCredential": CREDENTIALS.delete_handler(
        "DeleteServiceSpecificCredential"
    ),
}
