"""The ASGI application: authenticate, route by service and Action,
authorise (inside handlers), render, audit.

A plain ASGI callable rather than a Starlette router: one endpoint serves
every action, and the per-request budget (DESIGN.md) leaves no room for a
routing layer. Sync work (store, crypto, policy) runs in a thread pool so the
event loop never blocks on the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from rolegate import authz, protocol, routing, sigv4, tokens
from rolegate.appstate import AppState, Settings, TestClock
from rolegate.audit import AuditWriter
from rolegate.audit.events import record as audit_record
from rolegate.context import CallContext, Principal
from rolegate.errors import (
    AccessDenied,
    AwsError,
    ExpiredToken,
    InternalFailure,
    InvalidClientTokenId,
    MissingAuthenticationToken,
)
from rolegate.requestid import new_uuid
from rolegate.routing import SERVICES, UNSIGNED_ACTIONS

log = logging.getLogger("rolegate.server")

MAX_BODY = 2 * 1024 * 1024  # a 100,000-char SAML assertion, form-encoded, fits
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
_STS_FOR_SESSION_TOKEN = frozenset({"AssumeRole", "GetCallerIdentity"})


def _load_handlers() -> dict[str, dict[str, Callable[..., Any]]]:
    import importlib

    out: dict[str, dict[str, Callable[..., Any]]] = {}
    for svc in SERVICES:
        try:
            mod = importlib.import_module(f"rolegate.{svc}")
            out[svc] = dict(getattr(mod, "HANDLERS", {}))
        except ImportError:
            log.warning("no handlers for %s", svc)
            out[svc] = {}
    with contextlib.suppress(ImportError):  # federation handlers live outside rolegate.sts
        out["sts"].update(importlib.import_module("rolegate.federation.handlers").HANDLERS)
    return out


class KeyRingSource:
    """The token key ring, read from the store and kept in step with it, so
    that ``rolegate keys rotate`` / ``retire`` and other nodes take effect here
    within ``REFRESH`` seconds.

    A request costs one clock read: at most once per ``REFRESH`` a request
    reads the keys' ids and retired flags (a few rows, nothing decrypted) and
    only a change reloads the ring. Retirement is a revocation, so it must
    not wait long; a key added elsewhere never blocks opening either (an
    unknown key id triggers a reload, see ``RolegateApp._open_token``).
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self.REFRESH = float(os.environ.get("ROLEGATE_KEYRING_REFRESH", "1"))
        self._lock = threading.Lock()
        self._ring: Any = None
        self._states: list[tuple[str, bool]] = []
        self._loaded = self._checked = 0.0
        self._load()

    def _load(self) -> None:
        # The states are read before the keys: a change landing between the
        # two reads then differs from them at the next check and reloads.
        states = self._store.sealing_key_states()
        rows = [r for r in self._store.sealing_keys() if r[3] is None]
        if not rows:
            key_id = "k" + secrets.token_hex(4)
            self._store.add_sealing_key(key_id, secrets.token_bytes(32))
            states = self._store.sealing_key_states()
            rows = [r for r in self._store.sealing_keys() if r[3] is None]
        # Newest key seals; every unretired key opens.
        rows.sort(key=lambda r: r[2], reverse=True)
        self._ring = tokens.KeyRing([(r[0], bytes(r[1])) for r in rows])
        self._states = states
        self._loaded = self._checked = time.monotonic()

    def ring(self) -> Any:
        if time.monotonic() - self._checked > self.REFRESH:
            self._check()
        return self._ring

    def _check(self) -> None:
        # One thread checks; the others keep the current ring meanwhile
        # rather than queueing behind a database read.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._checked = time.monotonic()
            if self._store.sealing_key_states() != self._states:
                self._load()
        finally:
            self._lock.release()

    def reload_if_stale(self, min_age: float = 2.0) -> bool:
        if time.monotonic() - self._loaded > min_age:
            with self._lock:
                self._load()
            return True
        return False


def build_state(settings: Settings) -> AppState:
    from rolegate.store import Store

    store = Store.open(data_dir=settings.data_dir, database_url=settings.database_url)
    try:
        from rolegate.iam.aws_managed import ensure_aws_managed_policies

        ensure_aws_managed_policies(store)
    except ImportError:  # pragma: no cover - during early development only
        log.warning("AWS managed policies not available")
    clock_file = os.environ.get("ROLEGATE_TEST_CLOCK_FILE")
    test_clock = None
    if clock_file:
        if not settings.is_loopback or settings.tls_cert:
            raise SystemExit(
                "ROLEGATE_TEST_CLOCK_FILE is for tests on loopback only; refusing to start"
            )
        log.warning("test clock enabled from %s", clock_file)
        test_clock = TestClock(clock_file)
    keys = KeyRingSource(store)
    state = AppState(
        store=store,
        key_ring=None,
        settings=settings,
        dev_allow_http_issuers=os.environ.get("ROLEGATE_DEV_ALLOW_HTTP_ISSUERS") == "1",
        test_clock=test_clock,
    )
    state.extra["keys"] = keys
    state.key_ring = keys.ring()
    sink: Any = store
    if os.environ.get("ROLEGATE_AUDIT_PROCESS") == "1":  # `rolegate serve` sets it
        from rolegate.audit.sink import ProcessSink

        sink = state.extra["audit_sink"] = ProcessSink(
            store, data_dir=settings.data_dir, database_url=settings.database_url
        )
    state.audit = AuditWriter(sink)
    try:
        from rolegate.federation.jwks import JwksCache

        state.jwks = JwksCache(allow_http_loopback=state.dev_allow_http_issuers)
    except ImportError:  # pragma: no cover
        state.jwks = None
    _settle_heap()
    return state


def _settle_heap() -> None:
    """Compile every service model now and move what start-up built out of
    the collector's sight.

    The models, compiled codecs and policy caches are a few hundred thousand
    long-lived objects. Left to the collector, each full collection walked
    them all: a 50-130 ms pause of the event loop, which every in-flight
    request felt. Frozen, a full collection sees only what requests made.
    """
    for name in SERVICES:
        protocol.get_service(name)
    gc.collect()
    gc.freeze()


class RolegateApp:
    def __init__(self, settings: Settings | None = None, *, state: AppState | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.state = state
        self.handlers = _load_handlers()
        self._proxy_hops = proxy_hops(os.environ.get("ROLEGATE_TRUST_PROXY", ""))
        self._pool = ThreadPoolExecutor(max_workers=int(os.environ.get("ROLEGATE_THREADS", "16")))

    # -- ASGI ---------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        if self.state is None:  # servers without lifespan support
            self.state = await asyncio.get_running_loop().run_in_executor(
                self._pool, build_state, self.settings
            )
        path = scope.get("path", "/")
        if path == "/healthz":
            ok = await asyncio.get_running_loop().run_in_executor(self._pool, self._healthy)
            await _send(
                send,
                200 if ok else 503,
                [(b"content-type", b"text/plain")],
                b"ok\n" if ok else b"store unreachable\n",
            )
            return
        body = bytearray()
        more = True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
            if len(body) > MAX_BODY:
                await _send(
                    send, 413, [(b"content-type", b"text/plain")], b"request body too large\n"
                )
                return
        raw = bytes(body)
        if _runs_inline(raw, scope.get("query_string", b"")):
            # Yield once before the work. uvloop reads every ready socket,
            # then runs the tasks that reading started; a request arriving
            # just after that read waited for the whole batch and then ran
            # at the end of the next one: two rounds of 64 requests, the
            # p99 at twice the median. Yielding lets the loop poll again
            # before the batch runs, so a late arrival joins this round.
            # A bare app doing 200 us of work per request, 64 connections
            # (bench/bench_loop_order.py, three runs): median p99/p50 2.03,
            # 1.90, 1.96 without; 1.48, 1.85, 1.76 with. Without, no round of
            # 12 went under 1.88; with, half did, down to 1.13. Throughput
            # within noise.
            await asyncio.sleep(0)
            status, headers, out = self.process(scope, raw)
        else:
            status, headers, out = await asyncio.get_running_loop().run_in_executor(
                self._pool, self.process, scope, raw
            )
        await _send(send, status, headers, out)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                try:
                    if self.state is None:
                        self.state = await asyncio.get_running_loop().run_in_executor(
                            self._pool, build_state, self.settings
                        )
                except BaseException as e:  # report and stop: a server without a store is useless
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(self._pool, self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        if self.state is not None:
            if self.state.audit is not None:
                self.state.audit.close()
            sink = self.state.extra.get("audit_sink")
            if sink is not None:
                sink.close()
            self.state.store.close()

    def _healthy(self) -> bool:
        try:
            return bool(self.state and self.state.store.ping())
        except Exception:
            return False

    # -- one request ----------------------------------------------------------
    def process(
        self, scope: dict[str, Any], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        state = self.state
        assert state is not None
        request_id = new_uuid()
        now = state.now()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        method = scope.get("method", "GET")
        raw_path = scope.get("raw_path") or quote(scope.get("path", "/")).encode()
        query = scope.get("query_string", b"").decode("latin-1")
        # One header index, shared by routing and SigV4 verification.
        req = sigv4.HttpRequest(
            method=method,
            path=raw_path.decode("utf-8", "surrogateescape")
            if isinstance(raw_path, bytes)
            else raw_path,
            query=query,
            headers=headers,
            body=body,
        )
        client = scope.get("client") or ("127.0.0.1", 0)
        source_ip, secure = client[0], scope.get("scheme") == "https"
        if self._proxy_hops:
            hops = self._proxy_hops
            source_ip = _forwarded(req.header_values("x-forwarded-for"), hops) or source_ip
            proto = _forwarded(req.header_values("x-forwarded-proto"), hops) or ""
            secure = proto.lower() == "https"
        ctx = CallContext(
            service="sts",
            action="",
            principal=None,
            request_id=request_id,
            now=now,
            region="us-east-1",
            source_ip=source_ip,
            user_agent=req.header("user-agent") or "",
            store=state.store,
            app=state,
            authorize_fn=authz.authorize,
            secure=secure,
        )
        params: dict[str, Any] | None = None
        error: tuple[str, str] | None = None
        json_protocol = False
        extra_headers: list[tuple[bytes, bytes]] = []
        try:
            auth = sigv4.parse_auth(req)
            # The scope's service, never a header: see rolegate.routing.
            ctx.service = routing.service_of(auth)
            route = routing.read(req, auth, ctx.service, method, body)
            ctx.action, json_protocol = route.action, route.json
            if auth is None:
                if (ctx.service, ctx.action) not in UNSIGNED_ACTIONS:
                    raise MissingAuthenticationToken("Request is missing Authentication Token")
                ctx.principal = Principal(
                    kind="anonymous", arn="", account_id="", user_id="anonymous"
                )
            else:
                ctx.region = auth.region
                ctx.principal = self._authenticate(req, auth, ctx)
            routing.check(route)
            handler = self.handlers.get(ctx.service, {}).get(ctx.action)
            if handler is None:
                raise routing.unknown_operation(route)
            self._check_session_limits(ctx)
            if json_protocol:
                params = protocol.decode_json_request(ctx.service, ctx.action, body)
            else:
                params = protocol.decode_request(ctx.service, ctx.action, route.params)
            result = handler(ctx, params)
            if json_protocol:
                out = protocol.encode_json_response(ctx.service, ctx.action, result)
                ctype = b"application/x-amz-json-1.1"
            else:
                out = protocol.encode_response(ctx.service, ctx.action, result, request_id)
                ctype = b"text/xml"
            status = 200
        except routing.NotServed as e:
            error = (e.code, e.message)
            status, nhdrs, out = routing.not_served(e, req, body, request_id)
            ctype, extra_headers = nhdrs[0][1], nhdrs[1:]
        except AwsError as e:
            error = (e.code, e.message)
            status, ctype_s, out = protocol.encode_error(
                ctx.service if ctx.service in SERVICES else "sts", e, request_id
            )
            ctype = ctype_s.encode() if isinstance(ctype_s, str) else ctype_s
        except Exception:  # a bug: log it, answer 500, never a traceback
            log.exception("internal failure in %s:%s", ctx.service, ctx.action)
            e2 = InternalFailure("We encountered an internal error. Please try again.")
            error = (e2.code, e2.message)
            status, ctype_s, out = protocol.encode_error(
                ctx.service if ctx.service in SERVICES else "sts", e2, request_id
            )
            ctype = ctype_s.encode() if isinstance(ctype_s, str) else ctype_s
        try:
            state.audit.submit(
                audit_record(
                    ctx,
                    params=params,
                    error=error,
                    event_time=now,
                    tls=bool(state.settings.tls_cert),
                )
            )
        except Exception:
            log.exception("audit submit failed")
        hdrs = [
            (b"content-type", ctype),
            (b"x-amzn-requestid", request_id.encode()),
            *extra_headers,
        ]
        return status, hdrs, out

    def _authenticate(self, req: Any, auth: Any, ctx: CallContext) -> Principal:
        state = self.state
        assert state is not None
        akid = auth.access_key_id
        now = ctx.now
        if akid.startswith("ASIA"):
            token = auth.security_token
            if not token:
                raise InvalidClientTokenId(_INVALID_TOKEN)
            claims = self._open_token(token, akid, int(now.timestamp()))
            sigv4.verify(
                req,
                auth,
                claims.secret_access_key,
                now,
                service=auth.service,
                key_cache=state.extra.setdefault("sigv4_cache", sigv4.SigningKeyCache()),
            )
            if claims.expires_at <= int(now.timestamp()):
                raise ExpiredToken(_EXPIRED_TOKEN)
            return _principal_from_claims(claims, akid)
        rec = state.store.lookup_access_key(akid)
        if rec is None or rec.status != "Active":
            raise InvalidClientTokenId(_INVALID_TOKEN)
        sigv4.verify(
            req,
            auth,
            rec.secret,
            now,
            service=auth.service,
            key_cache=state.extra.setdefault("sigv4_cache", sigv4.SigningKeyCache()),
        )
        # The key's owner by unique id, never by name: a key of a deleted
        # user must not sign for a later user of the same name.
        user = state.store.get_by_id(rec.user_id)
        if user is None or user.kind != "user" or user.account_id != rec.account_id:
            raise InvalidClientTokenId(_INVALID_TOKEN)
        try:
            state.store.note_key_used(akid, now, auth.service, auth.region)
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

    def _open_token(self, token: str, akid: str, now: int) -> Any:
        keys: KeyRingSource = self.state.extra["keys"]  # type: ignore[union-attr]
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

    @staticmethod
    def _check_session_limits(ctx: CallContext) -> None:
        """Which APIs each kind of temporary credential may call (reference §2.1)."""
        p = ctx.principal
        s = p.session if p is not None else None
        if s is None:
            return
        if ctx.service == "sts" and ctx.action in ("GetSessionToken", "GetFederationToken"):
            raise AccessDenied(f"Cannot call {ctx.action} with session credentials")
        if s.kind == "session":
            if ctx.service != "sts" and not s.mfa_authenticated:
                raise InvalidClientTokenId(_INVALID_TOKEN)
            if ctx.service == "sts" and ctx.action not in _STS_FOR_SESSION_TOKEN:
                raise AccessDenied(f"Cannot call {ctx.action} with session credentials")
        elif s.kind == "federated-user":
            if ctx.service != "sts" or ctx.action != "GetCallerIdentity":
                raise AccessDenied(
                    f"User: {p.arn} is not authorized to perform: {ctx.service}:{ctx.action} "  # type: ignore[union-attr]
                    "because federated users cannot call this API"
                )


_INLINE_MARKERS = (b"Action=GetCallerIdentity", b"Action=AssumeRole&")
_NEEDS_IO_MARKERS = (b"TokenCode=", b"SerialNumber=")


def _runs_inline(body: bytes, query: bytes) -> bool:
    """Whether a request may run on the event loop rather than the pool.

    GetCallerIdentity and AssumeRole without MFA read only the store's
    in-process cache (usage notes are deferred), so a thread hop would cost
    more than the work; with the GIL a pool adds no parallelism anyway. A
    cache miss can still read the database from the loop for a moment; the
    bound is one query per ``cache_ttl``. Everything that writes (IAM
    changes, MFA codes claimed once) goes to the pool. A false positive only
    changes where the request runs, never what it does.
    """
    head = body[:64] if body else query[:256]
    if not any(m in head for m in _INLINE_MARKERS):
        return False
    return not any(m in body or m in query for m in _NEEDS_IO_MARKERS)


def _principal_from_claims(c: Any, akid: str) -> Principal:
    """The caller a session token speaks for."""
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


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": headers + [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def proxy_hops(setting: str) -> int:
    """How many reverse proxies in front of rolegate to believe (``ROLEGATE_TRUST_PROXY``).

    Unset or ``0``: none, and ``X-Forwarded-*`` are ignored (a client could
    otherwise choose its own ``aws:SourceIp`` and ``aws:SecureTransport``).
    ``1`` (or any N): the address the N-th proxy from us appended.
    """
    setting = setting.strip()
    return int(setting) if setting.isascii() and setting.isdigit() else 0


def _forwarded(values: list[str], hops: int) -> str | None:
    """The entry the ``hops``-th trusted proxy recorded in an ``X-Forwarded-*``
    header, given its ``values`` in received order.

    Proxies append to ``X-Forwarded-For``, so its left part is whatever the
    client sent: the trustworthy entry is counted from the right. None when
    the chain is shorter than the proxies we were told about.
    """
    entries = [part.strip() for v in values for part in v.split(",")]
    entries = [e for e in entries if e]
    return entries[-hops] if len(entries) >= hops else None


def app_factory() -> RolegateApp:
    """uvicorn factory for ``--workers N``: settings come from the environment."""
    return RolegateApp(Settings.from_env())
