"""IAM SAML 2.0 providers: Create/Update/Get/List/Delete and tags (reference
§5.2, §2.7). Store entity ``saml-provider``: name = the provider name; data
``{metadata, entity_id, certificates, valid_until, tags}``. Metadata is parsed
once, here, so bad metadata is rejected at registration."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import (
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
)
from rolegate.federation.saml import parse_idp_metadata
from rolegate.iam.lookup import iso
from rolegate.iam.provider_common import (
    _audit,
    _authorize_create,
    _create_date,
    _insert,
    _name_from_arn,
    _tag_handlers,
    _update,
)
from rolegate.iam.tags import clean_tags
from rolegate.principals.providers import (
    SAML_KIND,
    valid_until,
)

SAML_AUDIT_TYPE = "AWS::IAM::SAMLProvider"

# Quota from the IAM user guide (reference §4.6).
MAX_SAML_PROVIDERS = 100
# Metadata without validUntil never expires in practice; the brief fixes the
# reported horizon at 100 years.
DEFAULT_SAML_VALIDITY = timedelta(days=365 * 100)


def _saml_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:saml-provider/{name}"


def parse_saml_metadata(document: str, now: datetime) -> dict[str, Any]:
    """Entity id, signing certificates (base64 DER) and validity of IdP metadata.

    Parsing is ``rolegate.federation.saml.parse_idp_metadata`` (safe lxml
    parser: no DTDs, entities or network), so registration accepts exactly
    the metadata that AssumeRoleWithSAML can later verify against. Bad
    documents raise ``InvalidInput`` "Could not parse metadata...".
    """
    meta = parse_idp_metadata(document)
    return {
        "entity_id": meta.entity_id,
        "certificates": list(meta.signing_certificates),
        "valid_until": meta.valid_until or now + DEFAULT_SAML_VALIDITY,
    }


def _saml_name_from_arn(ctx: CallContext, provider_arn: str) -> str:
    return _name_from_arn(
        ctx, provider_arn, "saml-provider/", f"Manifest not found for arn {provider_arn}"
    )


def _saml_entity(ctx: CallContext, provider_arn: str) -> Any:
    name = _saml_name_from_arn(ctx, provider_arn)
    entity = ctx.store.get(ctx.account_id, SAML_KIND, name)
    if entity is None:
        raise NoSuchEntity(f"Manifest not found for arn {provider_arn}")
    return entity


def _reject_encryption_options(params: Mapping[str, Any]) -> None:
    # rolegate does not decrypt assertions; accepting the options silently
    # would let an IdP encrypt assertions that then always fail.
    if params.get("AddPrivateKey") or params.get("AssertionEncryptionMode") == "Required":
        raise InvalidInput("Encrypted SAML assertions are not supported.")


def create_saml_provider(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["Name"]
    provider_arn = _saml_arn(ctx.account_id, name)
    tags = clean_tags(params.get("Tags"))
    _authorize_create(ctx, "SAMLProvider", provider_arn, tags)
    _reject_encryption_options(params)
    document = params["SAMLMetadataDocument"]
    facts = parse_saml_metadata(document, ctx.now)
    data = {
        "metadata": document,
        "entity_id": facts["entity_id"],
        "certificates": facts["certificates"],
        "valid_until": iso(facts["valid_until"]),
        "tags": tags,
    }
    dup = f"SAMLProvider {name} already exists."
    with ctx.store.transaction() as tx:
        if tx.get(ctx.account_id, SAML_KIND, name) is not None:
            raise EntityAlreadyExists(dup)
        if len(tx.list(ctx.account_id, SAML_KIND)) >= MAX_SAML_PROVIDERS:
            raise LimitExceeded(
                f"Cannot exceed quota for SAMLProvidersPerAccount: {MAX_SAML_PROVIDERS}"
            )
        _insert(ctx, tx, ctx.account_id, SAML_KIND, name, "ASMP", provider_arn, data, dup)
    _audit(ctx, provider_arn, SAML_AUDIT_TYPE)
    ctx.audit_response = {"sAMLProviderArn": provider_arn}
    out: dict[str, Any] = {"SAMLProviderArn": provider_arn}
    if tags:
        out["Tags"] = tags
    return out


def update_saml_provider(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    provider_arn = params["SAMLProviderArn"]
    name = _saml_name_from_arn(ctx, provider_arn)
    ctx.authorize("iam:UpdateSAMLProvider", provider_arn)
    _reject_encryption_options(params)
    document = params.get("SAMLMetadataDocument")
    facts = parse_saml_metadata(document, ctx.now) if document else None

    def change(data: dict[str, Any]) -> None:
        if facts is not None:
            data["metadata"] = document
            data["entity_id"] = facts["entity_id"]
            data["certificates"] = facts["certificates"]
            data["valid_until"] = iso(facts["valid_until"])

    if _update(ctx, SAML_KIND, name, change) is None:
        raise NoSuchEntity(f"Manifest not found for arn {provider_arn}")
    _audit(ctx, provider_arn, SAML_AUDIT_TYPE)
    ctx.audit_response = {"sAMLProviderArn": provider_arn}
    return {"SAMLProviderArn": provider_arn}


def get_saml_provider(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    provider_arn = params["SAMLProviderArn"]
    _saml_name_from_arn(ctx, provider_arn)
    ctx.authorize("iam:GetSAMLProvider", provider_arn)
    entity = _saml_entity(ctx, provider_arn)
    _audit(ctx, provider_arn, SAML_AUDIT_TYPE)
    d = entity.data
    return {
        # A stable id per provider (AWS assigns one at creation).
        "SAMLProviderUUID": str(
            uuid.uuid5(uuid.NAMESPACE_URL, entity.arn + "#" + entity.entity_id)
        ),
        "SAMLMetadataDocument": d["metadata"],
        "CreateDate": _create_date(entity),
        "ValidUntil": valid_until(entity),
        "Tags": [dict(t) for t in d.get("tags", [])],
        # rolegate decrypts no SAML assertions: encryption is allowed, never
        # required, and no private keys are held.
        "AssertionEncryptionMode": "Allowed",
        "PrivateKeyList": [],
    }


def list_saml_providers(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:ListSAMLProviders", "*")
    entities = ctx.store.list(ctx.account_id, SAML_KIND)
    return {
        "SAMLProviderList": [
            {
                "Arn": e.arn,
                "ValidUntil": valid_until(e),
                "CreateDate": _create_date(e),
            }
            for e in entities
        ]
    }


def delete_saml_provider(ctx: CallContext, params: dict[str, Any]) -> None:
    provider_arn = params["SAMLProviderArn"]
    name = _saml_name_from_arn(ctx, provider_arn)
    ctx.authorize("iam:DeleteSAMLProvider", provider_arn)
    with ctx.store.transaction() as tx:
        if not tx.delete(ctx.account_id, SAML_KIND, name):
            raise NoSuchEntity(f"Manifest not found for arn {provider_arn}")
    _audit(ctx, provider_arn, SAML_AUDIT_TYPE)
    return None


def _saml_change(
    ctx: CallContext, provider_arn: str, action: str, change: Callable[[dict[str, Any]], None]
) -> None:
    name = _saml_name_from_arn(ctx, provider_arn)
    ctx.authorize(f"iam:{action}", provider_arn)
    if _update(ctx, SAML_KIND, name, change) is None:
        raise NoSuchEntity(f"Manifest not found for arn {provider_arn}")
    _audit(ctx, provider_arn, SAML_AUDIT_TYPE)


HANDLERS: dict[str, Callable[[CallContext, dict[str, Any]], dict[str, Any] | None]] = {
    "CreateSAMLProvider": create_saml_provider,
    "UpdateSAMLProvider": update_saml_provider,
    "GetSAMLProvider": get_saml_provider,
    "ListSAMLProviders": list_saml_providers,
    "DeleteSAMLProvider": delete_saml_provider,
    **_tag_handlers(
        "SAMLProvider",
        "SAMLProviderArn",
        _saml_change,
        _saml_name_from_arn,
        _saml_entity,
        SAML_AUDIT_TYPE,
    ),
}
