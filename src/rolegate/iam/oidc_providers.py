"""IAM OpenID Connect providers: Create/Get/List/Delete, client ids,
thumbprints and tags (reference §5.2, §2.6). Store entity ``oidc-provider``:
name = the URL without its scheme (``host/path``); data ``{url, scheme,
client_ids, thumbprints, tags}``."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from rolegate.context import CallContext
from rolegate.errors import (
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from rolegate.federation.jwks import FetchError, presented_chain, thumbprint
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
    OIDC_KIND,
)

log = logging.getLogger(__name__)

OIDC_AUDIT_TYPE = "AWS::IAM::OIDCProvider"

# Quotas from the IAM user guide (reference §4.6).
MAX_OIDC_PROVIDERS = 100
MAX_CLIENT_IDS = 100
MAX_CLIENT_ID_LEN = 255
MAX_THUMBPRINTS = 5

_THUMBPRINT_RE = re.compile(r"^[0-9A-Fa-f]{40}$")


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
    return _name_from_arn(
        ctx,
        provider_arn,
        "oidc-provider/",
        f"OpenIDConnect Provider not found for arn {provider_arn}",
    )


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
}
