"""One request's way through rolegate, top to bottom.

    read -> sign -> parse -> authenticate -> route -> decode -> authorise
         -> handler -> encode -> audit

:func:`run` chains the steps. Each step is a small function of what the
steps before it made, and returns the next value (a ``NamedTuple``: typed,
immutable and as cheap to build as a tuple) or raises one
:class:`rolegate.errors.AwsError`. Nothing is rendered on the way: an error
is data until :func:`run` hands it to :func:`encode_error`, the one place
every refusal becomes bytes, in the envelope of its protocol (Query XML,
JSON 1.1, or the not-served envelopes of :func:`rolegate.routing.not_served`).
Anything else raised is a bug: :func:`refusal` logs its traceback once and
answers ``InternalFailure`` (500), never the traceback.

Why ``sign`` comes before ``parse``: the credential scope names the service,
and the service names the protocol the body is parsed in (a JSON service's
body is not a form).

The order is also the order of AWS's refusals, and the CloudTrail record
says how far a request got: ``eventSource`` is STS until ``sign`` read a
scope, ``eventName`` empty until ``parse`` read an operation, ``awsRegion``
the scope's from ``authenticate`` on, the caller once authenticated, the
request parameters once decoded.

server.py owns the ASGI shell (lifespan, health, reading the body, running
inline or in the pool) and calls :func:`run`; nothing here touches a socket.
The budget per request is tight (docs/design.md): the steps are plain calls,
with no layer of indirection between them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote

from rolegate import authz, protocol, routing, sigv4, tokens
from rolegate.appstate import AppState
from rolegate.audit.events import record as audit_record
from rolegate.context import CallContext, Principal, PrincipalKind
from rolegate.errors import (
    AccessDenied,
    AwsError,
    ExpiredToken,
    InternalFailure,
    InvalidClientTokenId,
    MissingAuthenticationToken,
)
from rolegate.requestid import new_uuid
from rolegate.routing import UNSIGNED_ACTIONS, Route

log = logging.getLogger("rolegate.pipeline")

Handler = Callable[[CallContext, dict[str, Any]], Any]  # returns the output dict or None
Handlers = Mapping[str, Mapping[str, Handler]]  # service -> Action -> handler
Headers = list[tuple[bytes, bytes]]

_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
_INTERNAL = "We encountered an internal error. Please try again."
# What GetSessionToken credentials may call in STS (reference §2.1).
_STS_FOR_SESSION_TOKEN = frozenset({"AssumeRole", "GetCallerIdentity"})
_ANONYMOUS = Principal(kind="anonymous", arn="", account_id="", user_id="anonymous")
_DEFAULT_REGION = "us-east-1"  # until authentication reads the scope's
_XML, _JSON = b"text/xml", b"application/x-amz-json-1.1"


# -- the values between the steps ---------------------------------------------


class Response(NamedTuple):
    """What the ASGI shell sends: ``(status, headers, body)``."""

    status: int
    headers: Headers
    body: bytes


class RawRequest(NamedTuple):
    """read: the request as received, and when and from where it came."""

    http: sigv4.HttpRequest  # method, raw path and query, headers, the whole body
    request_id: str
    now: datetime  # the request's clock: every step and the handler read this one
    source_ip: str  # the peer's, or a trusted proxy's X-Forwarded-For entry
    secure: bool  # TLS (aws:SecureTransport)
    user_agent: str


class Signed(NamedTuple):
    """sign: the signing facts the client claims, not yet verified."""

    auth: sigv4.SigV4Auth | None  # None: unsigned
    service: str  # the credential scope's (STS when unsigned), one rolegate serves


class Routed(NamedTuple):
    """route: an operation the model has, rolegate serves, and the caller's
    kind of credential may call."""

    route: Route  # the service's spec, the Action, the protocol, the Query parameters
    handler: Handler


class KeySource(Protocol):
    """The token key ring, kept in step with the store (server.KeyRingSource)."""

    def ring(self) -> tokens.KeyRing: ...

    def reload_if_stale(self, min_age: float = 2.0) -> bool: ...


# -- the pipeline ---------------------------------------------------------------


def run(
    state: AppState, handlers: Handlers, proxy_hops: int, scope: Mapping[str, Any], body: bytes
) -> Response:
    """One request, from its ASGI scope and body to the response to send."""
    raw = read(scope, body, state.now(), proxy_hops)
    signed: Signed | None = None
    parsed: Route | None = None
    principal: Principal | None = None
    params: dict[str, Any] | None = None  # the input shape, once decoded
    ctx: CallContext | None = None
    error: AwsError | None = None
    try:
        signed = sign(raw)
        parsed = parse(raw, signed)
        principal = authenticate(raw, signed, parsed, state)
        routed = route(parsed, principal, handlers)
        params = decode(routed, raw.http.body)
        authorise(routed, params, principal)
        ctx = context(raw, signed, parsed, principal, state)
        response = encode(routed, routed.handler(ctx, params), raw.request_id)
    except Exception as exc:
        error = refusal(exc, signed, parsed)
        response = encode_error(error, raw, signed)
    if ctx is None:
        ctx = context(raw, signed, parsed, principal, state)
    audit(state, ctx, params, error, raw.now)
    return response


# -- read -----------------------------------------------------------------------


def read(scope: Mapping[str, Any], body: bytes, now: datetime, proxy_hops: int) -> RawRequest:
    """The request as an :class:`~rolegate.sigv4.HttpRequest` (one header
    index, shared by routing and verification) and where it came from.

    ``X-Forwarded-*`` count only behind ``proxy_hops`` trusted proxies
    (``ROLEGATE_TRUST_PROXY``): a client could otherwise choose its own
    ``aws:SourceIp`` and ``aws:SecureTransport``.
    """
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ())]
    raw_path = scope.get("raw_path") or quote(scope.get("path", "/")).encode()
    http = sigv4.HttpRequest(
        scope.get("method", "GET"),
        raw_path.decode("utf-8", "surrogateescape") if isinstance(raw_path, bytes) else raw_path,
        scope.get("query_string", b"").decode("latin-1"),
        headers,
        body,
    )
    client = scope.get("client") or ("127.0.0.1", 0)
    source_ip, secure = client[0], scope.get("scheme") == "https"
    if proxy_hops:
        source_ip = forwarded(http.header_values("x-forwarded-for"), proxy_hops) or source_ip
        proto = forwarded(http.header_values("x-forwarded-proto"), proxy_hops) or ""
        secure = proto.lower() == "https"
    return RawRequest(http, new_uuid(), now, source_ip, secure, http.header("user-agent") or "")


def forwarded(values: list[str], hops: int) -> str | None:
    """The entry the ``hops``-th trusted proxy recorded in an ``X-Forwarded-*``
    header, given its ``values`` in received order.

    Proxies append to ``X-Forwarded-For``, so its left part is whatever the
    client sent: the trustworthy entry is counted from the right. None when
    the chain is shorter than the proxies we were told about.
    """
    entries = [part.strip() for v in values for part in v.split(",")]
    entries = [e for e in entries if e]
    return entries[-hops] if len(entries) >= hops else None


# -- sign and parse ---------------------------------------------------------------


def sign(raw: RawRequest) -> Signed:
    """The SigV4 facts (``IncompleteSignature`` when present but unusable)
    and the service their credential scope names (``NotServed`` for one
    rolegate does not serve). The scope's service, never a header: see
    :mod:`rolegate.routing`."""
    auth = sigv4.parse_auth(raw.http)
    return Signed(auth, routing.service_of(auth))


def parse(raw: RawRequest, signed: Signed) -> Route:
    """The operation the request names, from signed data only, with its
    Query parameters (a malformed form body is refused here); a JSON body is
    read by :func:`decode`."""
    http = raw.http
    return routing.read(http, signed.auth, signed.service, http.method, http.body)


# -- authenticate -----------------------------------------------------------------


def authenticate(raw: RawRequest, signed: Signed, parsed: Route, state: AppState) -> Principal:
    """The caller: a long-term key's IAM user or a session token's principal,
    the signature verified; anonymous for the actions AWS takes unsigned."""
    auth = signed.auth
    if auth is None:
        if (parsed.service, parsed.action) not in UNSIGNED_ACTIONS:
            raise MissingAuthenticationToken("Request is missing Authentication Token")
        return _ANONYMOUS
    extra = state.extra
    key_cache = extra.get("sigv4_cache")
    if key_cache is None:
        key_cache = extra.setdefault("sigv4_cache", sigv4.SigningKeyCache())
    akid, now = auth.access_key_id, raw.now
    if akid.startswith("ASIA"):
        token = auth.security_token
        if not token:
            raise InvalidClientTokenId(_INVALID_TOKEN)
        claims = open_session_token(extra["keys"], token, akid, int(now.timestamp()))
        sigv4.verify(
            raw.http, auth, claims.secret_access_key, now, service=auth.service, key_cache=key_cache
        )
        if claims.expires_at <= int(now.timestamp()):
            raise ExpiredToken(_EXPIRED_TOKEN)
        return principal_from_claims(claims, akid)
    store = state.store
    rec = store.lookup_access_key(akid)
    if rec is None or rec.status != "Active":
        raise InvalidClientTokenId(_INVALID_TOKEN)
    sigv4.verify(raw.http, auth, rec.secret, now, service=auth.service, key_cache=key_cache)
    # The key's owner by unique id, never by name: a key of a deleted
    # user must not sign for a later user of the same name.
    user = store.get_by_id(rec.user_id)
    if user is None or user.kind != "user" or user.account_id != rec.account_id:
        raise InvalidClientTokenId(_INVALID_TOKEN)
    try:
        store.note_key_used(akid, now, auth.service, auth.region)
    except Exception:
        log.exception("note_key_used failed")
    return Principal(
        kind="user",
        arn=user.arn,
        account_id=rec.account_id,
        user_id=user.entity_id,
        name=user.name,
        access_key_id=akid,
    )


def open_session_token(keys: KeySource, token: str, akid: str, now: int) -> tokens.SessionClaims:
    """The claims ``token`` seals, or the one refusal a client sees for any
    bad token (the detail stays here: telling them apart is an oracle)."""
    for attempt in range(2):
        try:
            return tokens.open_token(token, keys.ring(), now, access_key_id=akid)
        except tokens.SessionExpired:
            # Authentic but past its expiry (tokens checks authenticity first).
            raise ExpiredToken(_EXPIRED_TOKEN) from None
        except tokens.InvalidSessionToken:
            # A key added by another node or by `keys rotate` may be newer
            # than our ring: reload once, then give up.
            if attempt == 0 and keys.reload_if_stale():
                continue
            raise InvalidClientTokenId(_INVALID_TOKEN) from None
    raise InvalidClientTokenId(_INVALID_TOKEN)


def principal_from_claims(c: tokens.SessionClaims, akid: str) -> Principal:
    """The caller a session token speaks for."""
    kind: PrincipalKind
    if c.kind == "assumed-root" or (not c.user_name and (c.user_arn or c.arn).endswith(":root")):
        # The account root: an AssumeRoot session (narrowed by its task
        # policy: authz.authorize evaluates a root session's policies rather
        # than letting the root do anything) or the root's GetSessionToken
        # credentials.
        kind, arn, user_id, name = "root", c.user_arn or c.arn, c.account_id, None
    elif c.kind == "assumed-role":
        kind, arn, user_id, name = "assumed-role", c.arn, c.user_id, c.role_name
    elif c.kind == "federated-user":
        kind, arn, user_id = "federated-user", c.arn, c.user_id
        name = c.session_name or c.user_name
    else:
        kind, arn, user_id, name = "user", c.user_arn or c.arn, c.user_id, c.user_name
    return Principal(
        kind=kind,
        arn=arn,
        account_id=c.account_id,
        user_id=user_id,
        name=name,
        access_key_id=akid,
        session=c,
    )


# -- route ------------------------------------------------------------------------


def route(parsed: Route, principal: Principal, handlers: Handlers) -> Routed:
    """The operation, checked: the model has it (and the Query ``Version``
    is the model's), rolegate serves it, and the caller's kind of
    credential may call it."""
    routing.check(parsed)
    service, action = parsed.spec.name, parsed.action
    handler = handlers.get(service, {}).get(action)
    if handler is None:
        raise routing.unknown_operation(parsed)
    if principal.session is not None:
        session_limits(service, action, principal)
    return Routed(parsed, handler)


def session_limits(service: str, action: str, principal: Principal | None) -> None:
    """Which APIs each kind of temporary credential may call (reference §2.1).

    Refused before the input is read, as AWS does: GetSessionToken
    credentials without MFA are not even valid at IAM."""
    s = principal.session if principal is not None else None
    if s is None:
        return
    if service == "sts" and action in ("GetSessionToken", "GetFederationToken"):
        raise AccessDenied(f"Cannot call {action} with session credentials")
    if s.kind == "session":
        if service != "sts" and not s.mfa_authenticated:
            raise InvalidClientTokenId(_INVALID_TOKEN)
        if service == "sts" and action not in _STS_FOR_SESSION_TOKEN:
            raise AccessDenied(f"Cannot call {action} with session credentials")
    elif s.kind == "federated-user":
        if service != "sts" or action != "GetCallerIdentity":
            assert principal is not None
            raise AccessDenied(
                f"User: {principal.arn} is not authorized to perform: {service}:{action} "
                "because federated users cannot call this API"
            )


# -- decode and authorise ---------------------------------------------------------


def decode(routed: Routed, body: bytes) -> dict[str, Any]:
    """The input shape as boto3 takes it, decoded and validated by the
    model's compiled codecs: from the Query parameters, or the JSON body."""
    r = routed.route
    if r.json:
        return protocol.decode_json_request(r.spec, r.action, body)
    return protocol.decode_request(r.spec, r.action, r.params)


def authorise(routed: Routed, params: dict[str, Any], principal: Principal) -> None:
    """Whether ``principal`` may make the ``routed`` call with these decoded
    ``params``: returns, or raises ``AccessDenied``.

    The authorisation table (``rolegate.authorization``: operation ->
    action, resource ARN templates from the decoded input, condition keys,
    extra checks) plugs in here, evaluated by ``authz`` over the caller's
    policies. Until it does, this step passes every request on and handlers
    authorise themselves (``ctx.authorize(action, resource)``), because
    only they know the resources. The checks on the kind of credential run
    earlier, in :func:`route` (:func:`session_limits`), because AWS refuses
    them before it reads the input.
    """


# -- handler ----------------------------------------------------------------------


def context(
    raw: RawRequest,
    signed: Signed | None,
    parsed: Route | None,
    principal: Principal | None,
    state: AppState,
) -> CallContext:
    """The handler's :class:`CallContext` (and the audit's, for a request
    refused before its handler ran: it says how far the request got)."""
    region = _DEFAULT_REGION
    if signed is not None and parsed is not None and signed.auth is not None:
        region = signed.auth.region
    return CallContext(
        service=signed.service if signed is not None else "sts",
        action=parsed.action if parsed is not None else "",
        principal=principal,
        request_id=raw.request_id,
        now=raw.now,
        region=region,
        source_ip=raw.source_ip,
        user_agent=raw.user_agent,
        store=state.store,
        app=state,
        authorize_fn=authz.authorize,
        secure=raw.secure,
    )


# -- encode -----------------------------------------------------------------------


def encode(routed: Routed, result: dict[str, Any] | None, request_id: str) -> Response:
    """The handler's output shape in the operation's protocol."""
    r = routed.route
    if r.json:
        body, ctype = protocol.encode_json_response(r.spec, r.action, result), _JSON
    else:
        body, ctype = protocol.encode_response(r.spec, r.action, result, request_id), _XML
    return Response(
        200, [(b"content-type", ctype), (b"x-amzn-requestid", request_id.encode())], body
    )


def refusal(exc: Exception, signed: Signed | None, parsed: Route | None) -> AwsError:
    """The AwsError a failed step raised, as it is; anything else is a bug:
    its traceback is logged here, once, and the client gets InternalFailure."""
    if isinstance(exc, AwsError):
        return exc
    log.error(
        "internal failure in %s:%s",
        signed.service if signed is not None else "sts",
        parsed.action if parsed is not None else "",
        exc_info=exc,
    )
    return InternalFailure(_INTERNAL)


def encode_error(error: AwsError, raw: RawRequest, signed: Signed | None) -> Response:
    """``error`` in the envelope the client's parser reads: the served
    service's protocol (STS's until the scope named one), or, for a service
    rolegate does not serve, what that service's SDK parses."""
    rid = raw.request_id
    if isinstance(error, routing.NotServed):
        status, headers, body = routing.not_served(error, raw.http, raw.http.body, rid)
        return Response(
            status, [headers[0], (b"x-amzn-requestid", rid.encode()), *headers[1:]], body
        )
    status, ctype, body = protocol.encode_error(
        signed.service if signed is not None else "sts", error, rid
    )
    return Response(
        status, [(b"content-type", ctype.encode()), (b"x-amzn-requestid", rid.encode())], body
    )


# -- audit ------------------------------------------------------------------------


def audit(
    state: AppState,
    ctx: CallContext,
    params: dict[str, Any] | None,
    error: AwsError | None,
    now: datetime,
) -> None:
    """Submit the request's CloudTrail record: who, what, how far it got
    (``ctx``), its parameters if they decoded, and its error. A failure to
    submit is logged, never answered."""
    try:
        state.audit.submit(
            audit_record(
                ctx,
                params=params,
                error=(error.code, error.message) if error is not None else None,
                event_time=now,
                tls=bool(state.settings.tls_cert),
            )
        )
    except Exception:
        log.exception("audit submit failed")
