"""The ASGI shell: lifespan, ``/healthz``, reading the body (at most
``MAX_BODY``), and running each request through :mod:`rolegate.pipeline`,
on the event loop or in the thread pool (:func:`_runs_inline`).

A plain ASGI callable rather than a Starlette router: one endpoint serves
every action, and the per-request budget (DESIGN.md) leaves no room for a
routing layer. Sync work (store, crypto, policy) runs in a thread pool so the
event loop never blocks on the database; the few requests that only read
in-process caches run inline.
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

from rolegate import pipeline, protocol, tokens
from rolegate.appstate import AppState, Settings, TestClock
from rolegate.audit import AuditWriter
from rolegate.context import CallContext

# Kept importable here for the tests that build the principal a token speaks for.
from rolegate.pipeline import principal_from_claims as _principal_from_claims  # noqa: F401
from rolegate.routing import SERVICES

log = logging.getLogger("rolegate.server")

MAX_BODY = 2 * 1024 * 1024  # a 100,000-char SAML assertion, form-encoded, fits


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
    unknown key id triggers a reload, see ``pipeline.open_session_token``).
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
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _send(
                    send, 413, [(b"content-type", b"text/plain")], b"request body too large\n"
                )
                return
            chunks.append(chunk)
            more = msg.get("more_body", False)
        raw = b"".join(chunks)  # one chunk (the usual case): that chunk, not a copy
        state = self.state
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
            status, headers, out = pipeline.run(state, self.handlers, self._proxy_hops, scope, raw)
        else:
            status, headers, out = await asyncio.get_running_loop().run_in_executor(
                self._pool, pipeline.run, state, self.handlers, self._proxy_hops, scope, raw
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
    def process(self, scope: dict[str, Any], body: bytes) -> pipeline.Response:
        """One request through :func:`rolegate.pipeline.run`: ``(status, headers, body)``."""
        assert self.state is not None
        return pipeline.run(self.state, self.handlers, self._proxy_hops, scope, body)

    @staticmethod
    def _check_session_limits(ctx: CallContext) -> None:
        """Which APIs each kind of temporary credential may call (:func:`pipeline.session_limits`)."""
        pipeline.session_limits(ctx.service, ctx.action, ctx.principal)


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
    # Spelled out rather than any() over tuples of markers: no generator per
    # request (~0.5 us less on every request served).
    if b"Action=GetCallerIdentity" not in head and b"Action=AssumeRole&" not in head:
        return False
    return not (
        b"TokenCode=" in body
        or b"SerialNumber=" in body
        or b"TokenCode=" in query
        or b"SerialNumber=" in query
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


def app_factory() -> RolegateApp:
    """uvicorn factory for ``--workers N``: settings come from the environment."""
    return RolegateApp(Settings.from_env())
