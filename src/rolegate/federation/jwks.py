"""OIDC discovery and a per-issuer JWKS cache (the one I/O part of federation).

``JwksCache`` resolves ``<issuer>/.well-known/openid-configuration`` ->
``jwks_uri`` -> JSON Web Key Set, keeps the keys per issuer for
``ttl_seconds``, and refetches early when a token names a ``kid`` it does not
know (key rotation), at most once per ``min_refetch_interval`` per issuer so
a stream of tokens with made-up kids cannot turn us into a request amplifier.

The clock is passed in (``now: float``, epoch seconds); the network is behind
``fetch(url) -> dict`` so tests and the server can inject their own.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, RSAKey

from rolegate import jsonsafe
from rolegate.errors import IDPCommunicationError, InvalidIdentityToken

log = logging.getLogger(__name__)

# fetch(url) -> JSON object; called as fetch(url, thumbprints) for a
# provider registered with thumbprints (see ``httpx_fetcher``).
Fetch = Callable[..., dict]
PublicKey = RSAKey | ECKey

# AWS's own message for an unreachable/unusable JWKS (IDPCommunicationError).
MSG_FETCH_FAILED = (
    "Couldn't retrieve verification key from your identity provider, please reference "
    "AssumeRoleWithWebIdentity documentation for requirements"
)
# AWS's answer when the IdP's certificate chain holds no configured thumbprint.
MSG_THUMBPRINT = "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
FETCH_TIMEOUT_SECONDS = 5.0
# Discovery documents and key sets are a few KiB; 512 KiB is generous and
# keeps a hostile endpoint from filling memory.
MAX_DOCUMENT_BYTES = 512 * 1024
# Enough for any real rotation scheme; bounds work per token without a kid.
MAX_KEYS_PER_ISSUER = 100
MIN_RSA_BITS = 2048
_EC_CURVES = frozenset({"P-256", "P-384", "P-521"})


class FetchError(Exception):
    """A fetch failed; becomes IDPCommunicationError at the cache boundary."""


class ThumbprintMismatch(FetchError):
    """The IdP's certificate is trusted neither by a CA nor by a thumbprint."""


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_fetch_url(url: str, *, allow_http_loopback: bool) -> None:
    """Only ``https://``, plus ``http://`` to loopback in dev mode."""
    parts = urlsplit(url)
    if not parts.hostname or parts.username or parts.password:
        raise FetchError(f"unusable URL {url!r}")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and allow_http_loopback and is_loopback_host(parts.hostname):
        return
    raise FetchError(f"refusing to fetch {url!r}: only https (or http to loopback in dev mode)")


def httpx_fetcher(
    client: httpx.Client | None = None,
    *,
    timeout: float = FETCH_TIMEOUT_SECONDS,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Fetch:
    """A ``fetch(url, thumbprints=()) -> dict`` over httpx: JSON only, capped,
    no redirects.

    Redirects are not followed so a redirect cannot step around the URL
    policy (https, or loopback http in dev mode) that the cache enforces.

    TLS is verified against the CA bundle (certifi's, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR``). When that fails and the provider was registered with
    thumbprints, the certificate the server presents is trusted as AWS
    trusts an IdP outside its root CAs: one certificate of the chain must
    have a configured thumbprint (SHA-1 of its DER, as the IAM guide has
    users compute it), and that certificate becomes the only trust anchor of
    a second, fully verified connection (chain and host name), so a server
    that merely *shows* a pinned certificate without its key gets nowhere.
    """
    own = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def get(c: httpx.Client, url: str) -> dict:
        try:
            with c.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise FetchError(f"GET {url} -> HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchError(f"GET {url}: document larger than {max_bytes} bytes")
        except httpx.HTTPError as exc:
            if _certificate_rejected(exc):
                raise _CertificateRejected(f"GET {url}: {exc}") from exc
            raise FetchError(f"GET {url}: {type(exc).__name__}: {exc}") from exc
        try:
            document = jsonsafe.loads(bytes(body))
        except ValueError as exc:
            raise FetchError(f"GET {url}: not JSON") from exc
        if not isinstance(document, dict):
            raise FetchError(f"GET {url}: not a JSON object")
        return document

    def fetch(url: str, thumbprints: Sequence[str] = ()) -> dict:
        try:
            return get(own, url)
        except _CertificateRejected as exc:
            if not thumbprints:
                raise FetchError(str(exc)) from exc
        context = pinned_context(url, thumbprints, timeout=timeout)
        with httpx.Client(verify=context, timeout=timeout, follow_redirects=False) as pinned:
            try:
                return get(pinned, url)
            except _CertificateRejected as exc:
                raise ThumbprintMismatch(str(exc)) from exc

    return fetch


class _CertificateRejected(FetchError):
    """TLS certificate verification failed (as opposed to any other failure)."""


def _certificate_rejected(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # httpx -> httpcore -> ssl
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def thumbprint(der: bytes) -> str:
    """A certificate's thumbprint as IAM takes it: hex SHA-1 of its DER form."""
    return hashlib.sha1(der, usedforsecurity=False).hexdigest()


def presented_chain(host: str, port: int, *, timeout: float) -> list[bytes]:
    """The certificates (DER) a TLS server presents, unverified: only to be
    matched against thumbprints, never trusted as they come."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            probe.wrap_socket(raw, server_hostname=host) as tls,
        ):
            # Public from Python 3.13; 3.11 and 3.12 have it on the C object
            # (SSLSocket._sslobj, private, so not in typeshed).
            getter = getattr(tls, "get_unverified_chain", None) or tls._sslobj.get_unverified_chain  # type: ignore[attr-defined]
            chain = getter() or []
    except (OSError, ValueError) as exc:
        raise FetchError(f"TLS to {host}:{port}: {exc}") from exc
    return [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]


def pinned_context(url: str, thumbprints: Sequence[str], *, timeout: float) -> ssl.SSLContext:
    """A client context whose only trust anchors are the certificates that
    ``url``'s server presents and whose thumbprints are configured."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    wanted = {t.lower() for t in thumbprints}
    anchors = [
        der
        for der in presented_chain(host, parts.port or 443, timeout=timeout)
        if thumbprint(der) in wanted
    ]
    if not anchors:
        raise ThumbprintMismatch(f"no certificate of {host}'s chain has a configured thumbprint")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies chain and host name
    # The anchor may be an intermediate (the IAM guide pins the top
    # intermediate CA): let verification stop there.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    for der in anchors:
        context.load_verify_locations(cadata=der)
    return context


def import_jwks(document: dict) -> tuple[PublicKey, ...]:
    """The usable public signing keys of a JWKS; everything else is skipped.

    Symmetric (``oct``) keys are never loaded: an HMAC secret published in a
    JWKS is not a secret, and refusing them here rules out RSA/HMAC confusion
    at the source. Private key material is dropped (only public parts kept).
    """
    raw_keys = document.get("keys")
    if not isinstance(raw_keys, list):
        raise FetchError("JWKS has no 'keys' list")
    keys: list[PublicKey] = []
    for raw in raw_keys[:MAX_KEYS_PER_ISSUER]:
        if not isinstance(raw, dict) or raw.get("use", "sig") != "sig":
            continue
        kty = raw.get("kty")
        if kty not in ("RSA", "EC"):
            continue
        if kty == "EC" and raw.get("crv") not in _EC_CURVES:
            continue
        public = {k: v for k, v in raw.items() if k not in ("d", "p", "q", "dp", "dq", "qi", "oth")}
        try:
            key = JWKRegistry.import_key(public)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            log.info("skipping unusable JWK kid=%r: %s", raw.get("kid"), exc)
            continue
        if isinstance(key, RSAKey):
            if key.raw_value.key_size < MIN_RSA_BITS:
                continue
        elif not isinstance(key, ECKey):
            continue
        keys.append(key)
    return tuple(keys)


_PIN_FAILURE = "thumbprint: "


@dataclass
class _Entry:
    keys: tuple[PublicKey, ...] = ()
    fetched_at: float | None = None  # last successful fetch
    attempted_at: float | None = None  # last attempt, successful or not
    error: str | None = None  # last failure, for logs


class JwksCache:
    """Per-issuer JWKS cache with TTL and rate-limited refetch. Thread-safe."""

    def __init__(
        self,
        fetch: Fetch | None = None,
        *,
        ttl_seconds: float = 300,
        min_refetch_interval: float = 10,
        allow_http_loopback: bool = False,
    ) -> None:
        self._fetch = fetch or httpx_fetcher()
        self.ttl_seconds = ttl_seconds
        self.min_refetch_interval = min_refetch_interval
        self.allow_http_loopback = allow_http_loopback
        self._entries: dict[str, _Entry] = {}
        # One lock per issuer, so a slow IdP only delays its own tokens; the
        # global lock only guards the dicts.
        self._locks: dict[str, threading.Lock] = {}
        self._global = threading.Lock()
        self.fetch_count = 0  # JWKS fetches performed (for tests and metrics)

    def _lock_for(self, issuer: str) -> threading.Lock:
        with self._global:
            lock = self._locks.get(issuer)
            if lock is None:
                lock = self._locks[issuer] = threading.Lock()
                self._entries[issuer] = _Entry()
            return lock

    def keys(
        self, issuer: str, kid: str | None, *, now: float, thumbprints: Sequence[str] = ()
    ) -> tuple[PublicKey, ...]:
        """Keys of ``issuer`` that may have signed a token with ``kid``.

        With a ``kid``: the keys with that kid (normally one), refetching the
        set first if the kid is unknown and the rate limit allows. Without a
        ``kid``: all keys. ``thumbprints`` are the registered provider's (see
        ``httpx_fetcher``); keys fetched under one list are not served under
        another. Raises ``IDPCommunicationError`` when the keys cannot be
        obtained at all, ``InvalidIdentityToken`` when the IdP's certificate
        matches neither a CA nor a thumbprint; an empty tuple means "no such
        key".
        """
        issuer = issuer.rstrip("/")
        pins = tuple(sorted({t.lower() for t in thumbprints}))
        slot = issuer if not pins else f"{issuer} {','.join(pins)}"
        with self._lock_for(slot):
            entry = self._entries[slot]
            fresh = entry.fetched_at is not None and now - entry.fetched_at < self.ttl_seconds
            if not fresh:
                self._refresh(issuer, entry, now, stale_ok=True, pins=pins)
            matching = _select(entry.keys, kid)
            if kid is not None and not matching and self._may_refetch(entry, now):
                # Unknown kid: the IdP may have rotated. Refetch once.
                self._refresh(issuer, entry, now, stale_ok=True, pins=pins)
                matching = _select(entry.keys, kid)
            return matching

    def _may_refetch(self, entry: _Entry, now: float) -> bool:
        return entry.attempted_at is None or now - entry.attempted_at >= self.min_refetch_interval

    def _refresh(
        self, issuer: str, entry: _Entry, now: float, *, stale_ok: bool, pins: tuple[str, ...] = ()
    ) -> None:
        if not self._may_refetch(entry, now):
            if entry.fetched_at is None:
                # Failed moments ago: fail fast instead of hammering the IdP.
                if entry.error and entry.error.startswith(_PIN_FAILURE):
                    raise InvalidIdentityToken(MSG_THUMBPRINT)
                raise IDPCommunicationError(MSG_FETCH_FAILED)
            return  # keep what we have until the rate limit allows a refetch
        entry.attempted_at = now
        try:
            keys = self._load(issuer, pins)
        except ThumbprintMismatch as exc:
            # Never served from stale keys: the IdP's identity is in doubt.
            entry.error = f"{_PIN_FAILURE}{exc}"
            entry.keys, entry.fetched_at = (), None
            log.warning("JWKS fetch for %s: %s", issuer, exc)
            raise InvalidIdentityToken(MSG_THUMBPRINT) from exc
        except FetchError as exc:
            entry.error = str(exc)
            log.warning("JWKS fetch for %s failed: %s", issuer, exc)
            if stale_ok and entry.fetched_at is not None and entry.keys:
                # Serve the last good keys for up to one more TTL: a brief
                # IdP outage should not fail every login.
                if now - entry.fetched_at < 2 * self.ttl_seconds:
                    return
            raise IDPCommunicationError(MSG_FETCH_FAILED) from exc
        entry.keys = keys
        entry.fetched_at = now
        entry.error = None

    def _get(self, url: str, pins: tuple[str, ...]) -> dict:
        # Fetchers that know nothing of thumbprints (tests' fakes) are called
        # with the URL alone when there are none.
        return self._fetch(url, pins) if pins else self._fetch(url)

    def _load(self, issuer: str, pins: tuple[str, ...] = ()) -> tuple[PublicKey, ...]:
        discovery_url = issuer + "/.well-known/openid-configuration"
        check_fetch_url(discovery_url, allow_http_loopback=self.allow_http_loopback)
        document = self._get(discovery_url, pins)
        # OIDC Discovery §4.3: the document's issuer must be the one we asked.
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise FetchError(f"discovery issuer {document.get('issuer')!r} != {issuer!r}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise FetchError("discovery document has no jwks_uri")
        check_fetch_url(jwks_uri, allow_http_loopback=self.allow_http_loopback)
        self.fetch_count += 1
        return import_jwks(self._get(jwks_uri, pins))

    def invalidate(self, issuer: str | None = None) -> None:
        """Forget cached keys (one issuer, or all), e.g. after UpdateOpenIDConnectProvider."""
        with self._global:
            wanted = issuer.rstrip("/") if issuer else None
            for name in list(self._entries):
                # Slots are "issuer" or "issuer thumbprints".
                if wanted is None or name.partition(" ")[0] == wanted:
                    self._entries[name] = _Entry()


def _select(keys: tuple[PublicKey, ...], kid: str | None) -> tuple[PublicKey, ...]:
    if kid is None:
        return keys
    return tuple(k for k in keys if k.kid == kid)
