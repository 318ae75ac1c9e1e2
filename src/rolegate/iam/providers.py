"""IAM identity providers: OpenID Connect and SAML 2.0 (reference §5.2, §2.6-2.7).

These handlers only *register* providers. The federation code that later
verifies web-identity tokens and SAML assertions reads what is stored here
through ``rolegate.principals.providers`` (``oidc_provider_by_url``,
``saml_provider_facts``), so the expensive work (parsing SAML metadata,
extracting signing certificates) is done once, at registration, and bad
metadata is rejected up front.

Store entities (``docs/contracts.md``):
- ``oidc-provider``: name = the URL without its scheme (``host/path``);
  data ``{url, scheme, client_ids, thumbprints, tags}``.
- ``saml-provider``: name = the provider name;
  data ``{metadata, entity_id, certificates, valid_until, tags}``.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import string
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from rolegate import arn as arnlib
from rolegate.context import CallContext
from rolegate.errors import (
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from rolegate.federation.jwks import FetchError, presented_chain, thumbprint
from rolegate.federation.saml import parse_idp_metadata
from rolegate.iam import lookup
from rolegate.iam.lookup import as_datetime, iso, rng
from rolegate.iam.tags import clean_tags, list_output, merge_tags, remove_tags
from rolegate.principals.providers import (
    OIDC_KIND,
    SAML_KIND,
    valid_until,
)
from rolegate.store import Conflict

log = logging.getLogger(__name__)

OIDC_AUDIT_TYPE = "AWS::IAM::OIDCProvider"
SAML_AUDIT_TYPE = "AWS::IAM::SAMLProvider"

# Quotas from the IAM user guide (reference §4.6).
MAX_OIDC_PROVIDERS = 100
MAX_SAML_PROVIDERS = 100
MAX_CLIENT_IDS = 100
MAX_CLIENT_ID_LEN = 255
MAX_THUMBPRINTS = 5
# Metadata without validUntil never expires in practice; the brief fixes the
# reported horizon at 100 years.
DEFAULT_SAML_VALIDITY = timedelta(days=365 * 100)

_THUMBPRINT_RE = re.compile(r"^[0-9A-Fa-f]{40}$")


# --------------------------------------------------------------------------- shared bits


def _create_date(entity: Any) -> datetime:
    return as_datetime(entity.created_at)


def _new_entity_id(ctx: CallContext, prefix: str) -> str:
    # Providers have no AWS-visible id; the store still wants a unique one.
    alphabet = string.ascii_uppercase + string.digits
    r = rng(ctx)
    return prefix + "".join(r.choice(alphabet) for _ in range(17))


def _audit(ctx: CallContext, arn: str, rtype: str) -> None:
    ctx.audit_resources.append({"ARN": arn, "accountId": ctx.account_id, "type": rtype})


def _update(
    ctx: CallContext, kind: str, name: str, change: Callable[[dict[str, Any]], None]
) -> Any:
    """Read-modify-write one entity in a transaction (the store is optimistic on version)."""
    with ctx.store.transaction() as tx:
        entity = tx.get(ctx.account_id, kind, name)
        if entity is None:
            return None
        data = dict(entity.data)
        change(data)
        return tx.update(entity, data, now=ctx.now)


# --------------------------------------------------------------------------- OIDC


def _oidc_arn(account_id: str, url_without_scheme: str) -> str:
    return f"arn:aws:iam::{account_id}:oidc-provider/{url_without_scheme}"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_oidc_url(url: str, *, dev_allow_http: bool) -> tuple[str, str]:
    """Validate a provider URL; return ``(scheme, url_without_scheme)``.

    AWS accepts only ``https://host[/path]`` (no port, query or fragment). A
    development server started with ``ROLEGATE_DEV_ALLOW_HTTP_ISSUERS=1`` also
    accepts ``http`` and ports for *loopback* hosts, because a local test
    issuer listens on ``http://127.0.0.1:<random port>``; the scheme is kept so
    the federation code knows how to fetch the issuer's keys.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"Invalid Url: {url}") from None
    scheme = parts.scheme
    host = parts.hostname or ""
    if "://" not in url:
        # No scheme at all (recorded against AWS).
        raise ValidationError("Invalid Open ID Connect Provider URL")
    if scheme not in ("https", "http") or not url.startswith(f"{scheme}://") or not host:
        raise InvalidInput("The URL must begin with https://")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise InvalidInput("The URL must not contain a query or fragment.")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(f"Invalid Url: {url}")
    dev = dev_allow_http and _is_loopback(host)
    if scheme == "http" and not dev:
        raise InvalidInput("The URL must begin with https://")
    if port is not None and not dev:
        raise InvalidInput("The URL must not contain a port number.")
    rest = url[len(scheme) + 3 :]
    if not rest or any(ch.isspace() for ch in rest):
        raise InvalidInput(f"Invalid Url: {url}")
    return scheme, rest


def _validate_client_ids(ids: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for cid in ids or ():
        if not 1 <= len(cid) <= MAX_CLIENT_ID_LEN:
            raise InvalidInput(f"Client ID '{cid}' must be 1 to 255 characters long.")
        if cid not in out:  # duplicates in the request collapse, as in AWS
            out.append(cid)
    if len(out) > MAX_CLIENT_IDS:
        raise LimitExceeded(
            f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
        )
    return out


def _validate_thumbprints(prints: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for tp in prints or ():
        if not _THUMBPRINT_RE.match(tp):
            raise InvalidInput(f"Thumbprint '{tp}' must be 40 hexadecimal characters.")
        if tp.lower() not in (o.lower() for o in out):
            out.append(tp)
    if len(out) > MAX_THUMBPRINTS:
        raise InvalidInput(f"Thumbprint list must contain fewer than {MAX_THUMBPRINTS} entries.")
    return out


def _oidc_name_from_arn(ctx: CallContext, provider_arn: str) -> str:
    """The stored name (URL without scheme) named by an OIDC provider ARN."""
    a = arnlib.try_parse(provider_arn)
    if a is None or a.service != "iam" or not a.resource.startswith("oidc-provider/"):
        raise InvalidInput(f"ARN {provider_arn} is not valid.")
    name = a.resource[len("oidc-provider/") :]
    if not name or a.account != ctx.account_id:
        raise NoSuchEntity(f"OpenIDConnect Provider not found for arn {provider_arn}")
    return name


def _oidc_entity(ctx: CallContext, provider_arn: str) -> Any:
    name = _oidc_name_from_arn(ctx, provider_arn)
    entity = ctx.store.get(ctx.account_id, OIDC_KIND, name)
    # Names are looked up case-insensitively, but issuer URLs are case-sensitive.
    if entity is None or entity.name != name:
        raise NoSuchEntity(f"OpenIDConnect Provider not found for arn {provider_arn}")
    return entity


# How long CreateOpenIDConnectProvider waits for the IdP's TLS handshake.
_THUMBPRINT_TIMEOUT = 3.0


def _retrieved_thumbprint(url_without_scheme: str) -> list[str]:
    """What IAM stores when ThumbprintList is left out: the thumbprint of the
    top intermediate CA of the IdP's server certificate, i.e. the last
    certificate its server presents (botocore's model documents this).

    An IdP that cannot be reached now gets none; its certificate must then be
    CA-signed when tokens are checked (fail closed later, not here).
    """
    host = url_without_scheme.split("/", 1)[0]
    try:
        chain = presented_chain(host, 443, timeout=_THUMBPRINT_TIMEOUT)
    except FetchError as exc:
        log.info("no thumbprint retrieved for %s: %s", host, exc)
        return []
    return [thumbprint(chain[-1])] if chain else []


def _authorize_create(
    ctx: CallContext, kind: str, provider_arn: str, tags: list[dict[str, str]]
) -> None:
    """``iam:Create<kind>`` and, with Tags, ``iam:Tag<kind>`` on the new
    provider, both with the request's tags as condition keys."""
    ctx.authorize(
        f"iam:Create{kind}",
        provider_arn,
        context=lookup.tag_context(tags, "aws:RequestTag/") or None,
    )
    lookup.authorize_tag_on_create(ctx, f"Tag{kind}", provider_arn, tags)


def create_open_id_connect_provider(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    url = params["Url"]
    scheme, name = parse_oidc_url(
        url, dev_allow_http=bool(getattr(ctx.app, "dev_allow_http_issuers", False))
    )
    provider_arn = _oidc_arn(ctx.account_id, name)
    tags = clean_tags(params.get("Tags"))
    _authorize_create(ctx, "OpenIDConnectProvider", provider_arn, tags)
    client_ids = _validate_client_ids(params.get("ClientIDList"))
    thumbprints = _validate_thumbprints(params.get("ThumbprintList"))
    if not thumbprints and scheme == "https":
        thumbprints = _retrieved_thumbprint(name)
    data = {
        "url": name,
        "scheme": scheme,
        "client_ids": client_ids,
        "thumbprints": thumbprints,
        "tags": tags,
    }
    with ctx.store.transaction() as tx:
        if tx.get(ctx.account_id, OIDC_KIND, name) is not None:
            raise EntityAlreadyExists(f"Provider with url {url} already exists.")
        if len(tx.list(ctx.account_id, OIDC_KIND)) >= MAX_OIDC_PROVIDERS:
            raise LimitExceeded(
                f"Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_OIDC_PROVIDERS}"
            )
        _insert(
            ctx,
            tx,
            ctx.account_id,
            OIDC_KIND,
            name,
            "AOIP",
            provider_arn,
            data,
            f"Provider with url {url} already exists.",
        )
    _audit(ctx, provider_arn, OIDC_AUDIT_TYPE)
    ctx.audit_response = {"openIDConnectProviderArn": provider_arn}
    out: dict[str, Any] = {"OpenIDConnectProviderArn": provider_arn}
    if tags:
        out["Tags"] = tags
    return out


def _insert(
    ctx: CallContext,
    tx: Any,
    account_id: str,
    kind: str,
    name: str,
    prefix: str,
    arn: str,
    data: dict[str, Any],
    dup_message: str,
) -> Any:
    try:
        return tx.insert(
            account_id,
            kind,
            name,
            entity_id=_new_entity_id(ctx, prefix),
            arn=arn,
            path="/",
            data=data,
            now=ctx.now,
        )
    except Conflict:
        # Lost a race with a concurrent create of the same name.
        raise EntityAlreadyExists(dup_message) from None


def get_open_id_connect_provider(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    provider_arn = params["OpenIDConnectProviderArn"]
    _oidc_name_from_arn(ctx, provider_arn)
    ctx.authorize("iam:GetOpenIDConnectProvider", provider_arn)
    entity = _oidc_entity(ctx, provider_arn)
    _audit(ctx, provider_arn, OIDC_AUDIT_TYPE)
    d = entity.data
    out: dict[str, Any] = {
        "Url": d.get("url", entity.name),
        "ClientIDList": list(d.get("client_ids", [])),
        "ThumbprintList": list(d.get("thumbprints", [])),
        "CreateDate": _create_date(entity),
        "Tags": [dict(t) for t in d.get("tags", [])],
    }
    return out


def list_open_id_connect_providers(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:ListOpenIDConnectProviders", "*")
    entities = ctx.store.list(ctx.account_id, OIDC_KIND)
    return {"OpenIDConnectProviderList": [{"Arn": e.arn} for e in entities]}


def delete_open_id_connect_provider(ctx: CallContext, params: dict[str, Any]) -> None:
    provider_arn = params["OpenIDConnectProviderArn"]
    name = _oidc_name_from_arn(ctx, provider_arn)
    ctx.authorize("iam:DeleteOpenIDConnectProvider", provider_arn)
    # The API reference calls this idempotent, but AWS answers an absent
    # provider with NoSuchEntity (recorded against AWS); clients see that.
    with ctx.store.transaction() as tx:
        entity = tx.get(ctx.account_id, OIDC_KIND, name)
        if entity is None or entity.name != name:
            raise NoSuchEntity(f"OpenId connect Provider {provider_arn} cannot be found.")
        tx.delete(ctx.account_id, OIDC_KIND, name)
    _audit(ctx, provider_arn, OIDC_AUDIT_TYPE)
    return None


def _oidc_change(
    ctx: CallContext, provider_arn: str, action: str, change: Callable[[dict[str, Any]], None]
) -> None:
    name = _oidc_name_from_arn(ctx, provider_arn)
    ctx.authorize(f"iam:{action}", provider_arn)
    _oidc_entity(ctx, provider_arn)  # exact-case check before writing
    if _update(ctx, OIDC_KIND, name, change) is None:
        raise NoSuchEntity(f"OpenIDConnect Provider not found for arn {provider_arn}")
    _audit(ctx, provider_arn, OIDC_AUDIT_TYPE)


def add_client_id_to_open_id_connect_provider(ctx: CallContext, params: dict[str, Any]) -> None:
    client_id = _validate_client_ids([params["ClientID"]])[0]

    def change(data: dict[str, Any]) -> None:
        ids = list(data.get("client_ids", []))
        if client_id in ids:  # idempotent, per the API reference
            return
        if len(ids) >= MAX_CLIENT_IDS:
            raise LimitExceeded(
                f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
            )
        data["client_ids"] = [*ids, client_id]

    _oidc_change(
        ctx, params["OpenIDConnectProviderArn"], "AddClientIDToOpenIDConnectProvider", change
    )


def remove_client_id_from_open_id_connect_provider(
    ctx: CallContext, params: dict[str, Any]
) -> None:
    client_id = params["ClientID"]

    def change(data: dict[str, Any]) -> None:
        # Removing an absent client id is not an error (API reference).
        data["client_ids"] = [c for c in data.get("client_ids", []) if c != client_id]

    _oidc_change(
        ctx, params["OpenIDConnectProviderArn"], "RemoveClientIDFromOpenIDConnectProvider", change
    )


def update_open_id_connect_provider_thumbprint(ctx: CallContext, params: dict[str, Any]) -> None:
    prints = _validate_thumbprints(params.get("ThumbprintList"))

    def change(data: dict[str, Any]) -> None:
        data["thumbprints"] = prints

    _oidc_change(
        ctx, params["OpenIDConnectProviderArn"], "UpdateOpenIDConnectProviderThumbprint", change
    )


# --------------------------------------------------------------------------- SAML


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
    a = arnlib.try_parse(provider_arn)
    if a is None or a.service != "iam" or not a.resource.startswith("saml-provider/"):
        raise InvalidInput(f"ARN {provider_arn} is not valid.")
    name = a.resource[len("saml-provider/") :]
    if not name or a.account != ctx.account_id:
        raise NoSuchEntity(f"Manifest not found for arn {provider_arn}")
    return name


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


def _tag_handlers(
    noun: str,
    arn_param: str,
    change: Callable[..., Any],
    name_from_arn: Callable[[CallContext, str], Any],
    entity_of: Callable[[CallContext, str], Any],
    audit_type: str,
) -> dict[str, Callable[..., Any]]:
    """Tag<noun>, Untag<noun> and List<noun>Tags for one kind of provider."""

    def tag(ctx: CallContext, params: dict[str, Any]) -> None:
        new = clean_tags(params.get("Tags"))

        def apply(data: dict[str, Any]) -> None:
            data["tags"] = merge_tags(list(data.get("tags", [])), new)

        change(ctx, params[arn_param], f"Tag{noun}", apply)

    def untag(ctx: CallContext, params: dict[str, Any]) -> None:
        keys = list(params.get("TagKeys") or [])

        def apply(data: dict[str, Any]) -> None:
            data["tags"] = remove_tags(list(data.get("tags", [])), keys)

        change(ctx, params[arn_param], f"Untag{noun}", apply)

    def list_tags(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        provider_arn = params[arn_param]
        name_from_arn(ctx, provider_arn)
        ctx.authorize(f"iam:List{noun}Tags", provider_arn)
        entity = entity_of(ctx, provider_arn)
        _audit(ctx, provider_arn, audit_type)
        return list_output(list(entity.data.get("tags") or []), params)

    return {f"Tag{noun}": tag, f"Untag{noun}": untag, f"List{noun}Tags": list_tags}


HANDLERS: dict[str, Callable[[CallContext, dict[str, Any]], dict[str, Any] | None]] = {
    "CreateOpenIDConnectProvider": create_open_id_connect_provider,
    "GetOpenIDConnectProvider": get_open_id_connect_provider,
    "ListOpenIDConnectProviders": list_open_id_connect_providers,
    "DeleteOpenIDConnectProvider": delete_open_id_connect_provider,
    "AddClientIDToOpenIDConnectProvider": add_client_id_to_open_id_connect_provider,
    "RemoveClientIDFromOpenIDConnectProvider": remove_client_id_from_open_id_connect_provider,
    "UpdateOpenIDConnectProviderThumbprint": update_open_id_connect_provider_thumbprint,
    **_tag_handlers(
        "OpenIDConnectProvider",
        "OpenIDConnectProviderArn",
        _oidc_change,
        _oidc_name_from_arn,
        _oidc_entity,
        OIDC_AUDIT_TYPE,
    ),
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
