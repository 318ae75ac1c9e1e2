"""Build CloudTrail records (reference §8) from a finished request.

Pure: everything comes from the CallContext and the outcome. Secrets never
reach a record: ``responseElements`` come only from what a handler put in
``ctx.audit_response``, never from its result, and :func:`record` hides
whatever the service model marks sensitive in the parameters and that
response, and any echo of it in the error message or the resources
(rolegate.audit.redact), before the record leaves the request's thread.

Two steps: :func:`record` copies from the finished request what its events
need (cheap: references and a few tuples, secrets already dropped), and
:func:`expand` builds the CloudTrail events from that record. The request's
worker does only the first; ``rolegate serve``'s audit child process does
the second (rolegate.audit.sink), on the core the worker leaves idle.
Building the events was ~12 us of AssumeRole's ~180 us in the worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from rolegate.audit.redact import redact, scrub, scrub_resources
from rolegate.context import CallContext
from rolegate.requestid import new_uuid

EVENT_VERSION = "1.08"

_READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Simulate", "Decode")
_SOURCES = {
    "sts": "sts.amazonaws.com",
    "iam": "iam.amazonaws.com",
    "organizations": "organizations.amazonaws.com",
}


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


_TS_CACHE: dict[int, str] = {}


def _ts(t: float) -> str:
    """ISO 8601 seconds of an epoch time; formatted once per second (strftime
    showed in profiles)."""
    key = int(t)
    out = _TS_CACHE.get(key)
    if out is None:
        if len(_TS_CACHE) > 64:
            _TS_CACHE.clear()
        out = _TS_CACHE[key] = datetime.fromtimestamp(key, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
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
    return {_key(k): v if type(v) in plain else _jsonable(v) for k, v in params.items()}


class AuditRecord(NamedTuple):
    """What the events of one finished request are built from.

    Plain data only: it is pickled to the audit child process. ``principal``
    is ``(kind, user_id, arn, account_id, access_key_id, name)``; ``session``
    holds the session facts CloudTrail shows (never its secret).
    """

    principal: tuple[str, str, str, str, str | None, str | None] | None
    session: dict[str, Any] | None
    service: str
    action: str
    region: str
    source_ip: str
    user_agent: str
    request_id: str
    params: Mapping[str, Any] | None
    error: tuple[str, str] | None
    event_time: float
    tls: bool
    response: Mapping[str, Any] | None
    resources: list[dict[str, str]] | None
    federated_identity: Mapping[str, Any] | None
    recipient_accounts: list[str] | None
    recipient_account: str | None


def _session_facts(s: Any) -> dict[str, Any]:
    return {
        "issued_at": s.issued_at,
        "mfa_authenticated": s.mfa_authenticated,
        "role_id": s.role_id,
        "role_arn": s.role_arn,
        "role_name": s.role_name,
        "account_id": s.account_id,
        "issuer": s.issuer,
        "source_identity": s.source_identity,
        "federation": s.federation,
    }


def record(
    ctx: CallContext,
    *,
    params: Mapping[str, Any] | None,
    error: tuple[str, str] | None,
    event_time: datetime,
    tls: bool = False,
) -> AuditRecord:
    """The request's :class:`AuditRecord`, secrets already hidden: it is
    pickled to the audit child process as it is."""
    p = ctx.principal
    if p is None or p.kind == "anonymous":
        principal = session = None
    else:
        principal = (p.kind, p.user_id, p.arn, p.account_id, p.access_key_id, p.name)
        session = None if p.session is None else _session_facts(p.session)
    # The response is redacted on failures too: its secrets, if a handler
    # set any before failing, are still scrubbed from the error message.
    clean = redact(ctx.service, ctx.action, params, ctx.audit_response)
    resources = ctx.audit_resources or None
    if clean.secrets:
        if error:
            error = (error[0], scrub(error[1], clean.secrets))
        resources = scrub_resources(resources, clean.secrets)
    extra = ctx.audit_extra
    return AuditRecord(
        principal,
        session,
        ctx.service,
        ctx.action,
        ctx.region,
        ctx.source_ip,
        ctx.user_agent,
        ctx.request_id,
        clean.params,
        error,
        event_time.timestamp(),
        tls,
        None if error else clean.response,
        resources,
        extra.get("federated_identity") if extra else None,
        extra.get("recipient_accounts") if extra else None,
        extra.get("recipient_account") if extra else None,
    )


def user_identity(r: AuditRecord) -> dict[str, Any]:
    if r.principal is None:
        return dict(r.federated_identity) if r.federated_identity else {"type": "Unknown"}
    kind, user_id, arn, account_id, access_key_id, name = r.principal
    ident: dict[str, Any] = {"principalId": user_id, "arn": arn, "accountId": account_id}
    if access_key_id:
        ident["accessKeyId"] = access_key_id
    s = r.session
    if kind == "root":
        ident["type"] = "Root"
    elif kind == "user":
        ident["type"] = "IAMUser"
        ident["userName"] = name
    elif kind == "assumed-role":
        ident["type"] = "AssumedRole"
    elif kind == "federated-user":
        ident["type"] = "FederatedUser"
    if s is not None:
        attrs = {
            "creationDate": _epoch_ts(s["issued_at"]),
            "mfaAuthenticated": "true" if s["mfa_authenticated"] else "false",
        }
        sc: dict[str, Any] = {"attributes": attrs}
        if kind == "assumed-role":
            sc["sessionIssuer"] = {
                "type": "Role",
                "principalId": s["role_id"],
                "arn": s["role_arn"],
                "accountId": s["account_id"],
                "userName": s["role_name"],
            }
        elif s["issuer"]:
            sc["sessionIssuer"] = dict(s["issuer"])
        if s["source_identity"]:
            sc["sourceIdentity"] = s["source_identity"]
        fed = s["federation"]
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
        if kind == "user":  # GetSessionToken credentials act as the user
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
    return expand(record(ctx, params=params, error=error, event_time=event_time, tls=tls))


def expand(r: AuditRecord) -> list[dict[str, Any]]:
    """The CloudTrail events of one request (:func:`build_events`' second step)."""
    ident = user_identity(r)
    home = r.principal[3] if r.principal is not None else None
    action = r.action
    base: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": ident,
        "eventTime": _ts(r.event_time),
        "eventSource": _SOURCES.get(r.service, f"{r.service}.amazonaws.com"),
        "eventName": action or "Unknown",
        "awsRegion": r.region or "us-east-1",
        "sourceIPAddress": r.source_ip,
        "userAgent": (r.user_agent or "")[:1024],
        "requestParameters": request_parameters(r.params),
        "responseElements": None if r.error else _jsonable_or_none(r.response),
        "requestID": r.request_id,
        "eventID": new_uuid(),
        "readOnly": (action or "").startswith(_READ_ONLY_PREFIXES),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "eventCategory": "Management",
    }
    if r.error:
        base["errorCode"], base["errorMessage"] = r.error
    if r.resources:
        base["resources"] = list(r.resources)
    if r.tls:
        base["tlsDetails"] = {"tlsVersion": "TLSv1.2", "clientProvidedHostHeader": ""}
    recipients = list(r.recipient_accounts or [])
    if not recipients:
        base["recipientAccountId"] = r.recipient_account or home or "unknown"
        return [base]
    shared = new_uuid()
    out = []
    for i, acct in enumerate(dict.fromkeys(recipients)):
        ev = dict(base)
        ev["eventID"] = base["eventID"] if i == 0 else new_uuid()
        ev["recipientAccountId"] = acct
        ev["sharedEventID"] = shared
        if acct != home and r.principal is not None:
            # The role's account sees the caller as an account, as CloudTrail does.
            ev["userIdentity"] = {
                "type": "AWSAccount",
                "principalId": r.principal[1],
                "accountId": r.principal[3],
            }
        out.append(ev)
    return out


def _jsonable_or_none(value: Mapping[str, Any] | None) -> Any:
    if value is None:
        return None
    plain = _PLAIN
    return {k: v if type(v) in plain else _jsonable(v) for k, v in value.items()}
