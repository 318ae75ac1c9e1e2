"""Registered identity providers as AssumeRoleWithSAML and
AssumeRoleWithWebIdentity read them (IAM's provider actions, which write
them, are ``rolegate.iam.providers``).

An OIDC provider is an entity of kind ``oidc-provider`` named by its URL
without scheme, ``{url, scheme, client_ids, thumbprints, tags}``; a SAML
provider one of kind ``saml-provider``, ``{metadata, entity_id,
certificates, valid_until, tags}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rolegate import arn as arnlib
from rolegate.principals.entities import as_datetime

OIDC_KIND = "oidc-provider"
SAML_KIND = "saml-provider"


def valid_until(entity: Any) -> datetime | None:
    value = entity.data.get("valid_until")
    return None if value is None else as_datetime(value)


def oidc_provider_by_url(
    store: Any, account_id: str, url_without_scheme: str
) -> dict[str, Any] | None:
    """The registered OIDC provider whose URL (without scheme) equals ``url_without_scheme``.

    For ``AssumeRoleWithWebIdentity``: pass the token's ``iss`` with its
    scheme removed. The match is exact (issuer URLs are case-sensitive).
    Returns ``{arn, url, scheme, issuer, client_ids, thumbprints, tags}`` or None.
    """
    entity = store.get(account_id, OIDC_KIND, url_without_scheme)
    if entity is None or entity.name != url_without_scheme:
        return None
    d = entity.data
    scheme = d.get("scheme", "https")
    return {
        "arn": entity.arn,
        "url": d.get("url", entity.name),
        "scheme": scheme,
        "issuer": f"{scheme}://{d.get('url', entity.name)}",
        "client_ids": list(d.get("client_ids", [])),
        "thumbprints": list(d.get("thumbprints", [])),
        "tags": {t["Key"]: t["Value"] for t in d.get("tags", [])},
    }


def saml_provider_facts(store: Any, account_id: str, name: str) -> dict[str, Any] | None:
    """What ``AssumeRoleWithSAML`` needs about a registered SAML provider.

    ``name`` is the provider name or its full ARN. Returns ``{arn, name,
    entity_id, certificates (PEM list), valid_until (datetime), metadata,
    tags}`` or None when no such provider exists in ``account_id``.
    """
    if name.startswith("arn:"):
        a = arnlib.try_parse(name)
        if a is None or a.account != account_id or not a.resource.startswith("saml-provider/"):
            return None
        name = a.resource[len("saml-provider/") :]
    entity = store.get(account_id, SAML_KIND, name)
    if entity is None:
        return None
    d = entity.data
    return {
        "arn": entity.arn,
        "name": entity.name,
        "entity_id": d.get("entity_id"),
        "certificates": list(d.get("certificates", [])),
        "valid_until": valid_until(entity),
        "metadata": d.get("metadata"),
        "tags": {t["Key"]: t["Value"] for t in d.get("tags", [])},
    }
