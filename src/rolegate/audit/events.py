"""Build CloudTrail records (reference §8) from a finished request.

Pure: everything comes from the CallContext and the outcome. Secrets never
reach a record: request parameters named in ``_SECRET_PARAMS`` are dropped,
and ``responseElements`` come only from what a handler put in
``ctx.audit_response`` (handlers leave secrets out), never from its result.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rolegate.context import CallContext
from rolegate.requestid import new_uuid

EVENT_VERSION = "1.08"

# Parameters that carry secrets or one-time proofs: never recorded.
_SECRET_PARAMS = frozenset(
    {
        "SAMLAssertion",
        "WebIdentityToken",
        "TokenCode",
        "AuthenticationCode1",
        "AuthenticationCode2",
        "SecretAccessKey",
        "Password",
        "NewPassword",
        "OldPassword",
        "EncodedMessage",
    }
)

_READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Simulate", "Decode")
_SOURCES = {
    "sts": "sts.amazonaws.com",
    "iam": "iam.amazonaws.com",
    "organizations": "organizations.amazonaws.com",
}


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


_TS_CACHE: dict[int, str] = {}


def _ts(t: datetime) -> str:
    """ISO 8601 seconds; formatted once per second (strftime showed in profiles)."""
    key = int(t.timestamp())
    out = _TS_CACHE.get(key)
    if out is None:
        if len(_TS_CACHE) > 64:
            _TS_CACHE.clear()
        out = _TS_CACHE[key] = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


# Values returned as they are, found by one ``type() in`` test: most request
# parameters and response elements are strings, so the isinstance chain and
# the recursion below run only for containers, datetimes and bytes.
_PLAIN = frozenset({str, int, bool, float, type(None)})

# Field names seen as keys -> camelCase; they come from a small fixed set
# (the API's shapes), but the map is bounded anyway.
_KEY_CACHE: dict[Any, str] = {}


def _key(k: Any) -> str:
    out = _KEY_CACHE.get(k)
    if out is None:
        if len(_KEY_CACHE) > 4096:
            _KEY_CACHE.clear()
        out = _KEY_CACHE[k] = _lower_first(str(k))
    return out


_EPOCH_CACHE: dict[int, str] = {}


def _epoch_ts(epoch: int) -> str:
    """ISO 8601 of an epoch second (a session's issue time), memoised like ``_ts``."""
    out = _EPOCH_CACHE.get(epoch)
    if out is None:
        if len(_EPOCH_CACHE) > 256:
            _EPOCH_CACHE.clear()
        out = _EPOCH_CACHE[epoch] = datetime.fromtimestamp(epoch, tz=UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    return out


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bytes):
        return "<binary>"
    if isinstance(value, Mapping):
        plain = _PLAIN
        return {_key(k): v if type(v) in plain else _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def request_parameters(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not params:
        return None
    plain = _PLAIN
    return {
        _key(k): v if type(v) in plain else _jsonable(v)
        for k, v in params.items()
        if k not in _SECRET_PARAMS
    }


def user_identity(ctx: CallContext) -> dict[str, Any]:
    p = ctx.principal
    if p is None or p.kind == "anonymous":
        fed = ctx.audit_extra.get("federated_identity")
        if fed:
            return dict(fed)
        return {"type": "Unknown"}
    ident: dict[str, Any] = {"principalId": p.user_id, "arn": p.arn, "accountId": p.account_id}
    if p.access_key_id:
        ident["accessKeyId"] = p.access_key_id
    s = p.session
    if p.kind == "root":
        ident["type"] = "Root"
    elif p.kind == "user":
        ident["type"] = "IAMUser"
        ident["userName"] = p.name
    elif p.kind == "assumed-role":
        ident["type"] = "AssumedRole"
    elif p.kind == "federated-user":
        ident["type"] = "FederatedUser"
    if s is not None:
        attrs = {
            "creationDate": _epoch_ts(s.issued_at),
            "mfaAuthenticated": "true" if s.mfa_authenticated else "false",
        }
        sc: dict[str, Any] = {"attributes": attrs}
        if p.kind == "assumed-role":
            sc["sessionIssuer"] = {
                "type": "Role",
                "principalId": s.role_id,
                "arn": s.role_arn,
                "accountId": s.account_id,
                "userName": s.role_name,
            }
        elif s.issuer:
            sc["sessionIssuer"] = dict(s.issuer)
        if s.source_identity:
            sc["sourceIdentity"] = s.source_identity
        fed = s.federation
        if fed and fed.get("provider"):
            # CloudTrail names the IdP behind a federated role session; the
            # SAML keys that persist into later requests are its attributes.
            sc["webIdFederationData"] = {
                "federatedProvider": fed["provider"],
                "attributes": {
                    k: v
                    for k, v in (fed.get("context_keys") or {}).items()
                    if not k.startswith("aws:")
                },
            }
        if p.kind == "user":  # GetSessionToken credentials act as the user
            ident["type"] = "IAMUser"
        ident["sessionContext"] = sc
    return ident


def build_events(
    ctx: CallContext,
    *,
    params: Mapping[str, Any] | None,
    error: tuple[str, str] | None,
    event_time: datetime,
    tls: bool = False,
) -> list[dict[str, Any]]:
    """One record, or one per recipient account for cross-account calls."""
    ident = user_identity(ctx)
    home = ctx.principal.account_id if ctx.principal is not None else None
    base: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": ident,
        "eventTime": _ts(event_time),
        "eventSource": _SOURCES.get(ctx.service, f"{ctx.service}.amazonaws.com"),
        "eventName": ctx.action or "Unknown",
        "awsRegion": ctx.region or "us-east-1",
        "sourceIPAddress": ctx.source_ip,
        "userAgent": (ctx.user_agent or "")[:1024],
        "requestParameters": request_parameters(params),
        "responseElements": None if error else _jsonable_or_none(ctx.audit_response),
        "requestID": ctx.request_id,
        "eventID": new_uuid(),
        "readOnly": (ctx.action or "").startswith(_READ_ONLY_PREFIXES),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "eventCategory": "Management",
    }
    if error:
        base["errorCode"], base["errorMessage"] = error
    if ctx.audit_resources:
        base["resources"] = list(ctx.audit_resources)
    if tls:
        base["tlsDetails"] = {"tlsVersion": "TLSv1.2", "clientProvidedHostHeader": ""}
    recipients = list(ctx.audit_extra.get("recipient_accounts") or [])
    if not recipients:
        base["recipientAccountId"] = ctx.audit_extra.get("recipient_account") or home or "unknown"
        return [base]
    shared = new_uuid()
    out = []
    for i, acct in enumerate(dict.fromkeys(recipients)):
        ev = dict(base)
        ev["eventID"] = base["eventID"] if i == 0 else new_uuid()
        ev["recipientAccountId"] = acct
        ev["sharedEventID"] = shared
        if acct != home and ctx.principal is not None:
            # The role's account sees the caller as an account, as CloudTrail does.
            ev["userIdentity"] = {
                "type": "AWSAccount",
                "principalId": ctx.principal.user_id,
                "accountId": ctx.principal.account_id,
            }
        out.append(ev)
    return out


def _jsonable_or_none(value: Mapping[str, Any] | None) -> Any:
    if value is None:
        return None
    plain = _PLAIN
    return {k: v if type(v) in plain else _jsonable(v) for k, v in value.items()}
