"""Sealed session tokens: rolegate's Fernet.

A session token is the whole session: the temporary secret, who the session
is, when it ends and what narrows it, sealed with AES-256-GCM so any node
holding the key ring can check and read it with no database read.

Wire form (before base64url without padding)::

    format (1) | key id length n (1) | key id (n, ASCII) | nonce (12) | ciphertext + tag (16)

The header (format byte, key id) is bound as associated data together with a
domain label, so a session token can never be opened as an authorization
message (or the other way round) and a header cannot be swapped. The
plaintext is a msgpack array of the claims in a fixed order (compact: a
typical assumed-role token is 500-700 characters).

Like ``cryptography.fernet``: only :func:`seal` and :func:`seal_message` draw
randomness (a 12-byte nonce, unless one is passed); :func:`_seal_from_parts`
is deterministic so tests can pin exact tokens. Every failure to open is one
opaque :class:`InvalidSessionToken`; the reason is kept on the exception for
logs only. :class:`SessionExpired` is raised only after the token is proven
authentic, so it is never an oracle for forged input.

Random 96-bit nonces are safe for about 2**32 seals per key (NIST SP 800-38D);
rotate the sealing key (``rolegate keys rotate``) well before that.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import operator
import re
import struct
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgpack
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rolegate.errors import ExpiredToken, InvalidAuthorizationMessage, InvalidClientTokenId
from rolegate.randpool import random_bytes

__all__ = [
    "CLAIMS_VERSION",
    "KEY_ID_MAX_LENGTH",
    "KEY_LENGTH",
    "InvalidSessionToken",
    "KeyRing",
    "SessionClaims",
    "SessionExpired",
    "open_message",
    "open_token",
    "seal",
    "seal_message",
]

# "assumed-root": an AssumeRoot session, the root user of a member account narrowed
# by a root-task policy. Kinds are only ever added, so every token sealed
# before a kind existed still opens.
SessionKind = Literal["assumed-role", "federated-user", "session", "assumed-root"]
SESSION_KINDS: frozenset[str] = frozenset(
    {"assumed-role", "federated-user", "session", "assumed-root"}
)

CLAIMS_VERSION = 1
KEY_LENGTH = 32  # AES-256
KEY_ID_MAX_LENGTH = 16
NONCE_LENGTH = 12
TAG_LENGTH = 16

_FORMAT_TOKEN_V1 = 0x01
_FORMAT_MESSAGE_V1 = 0x02
_AAD_TOKEN = b"rolegate/session-token/v1\x00"
_AAD_MESSAGE = b"rolegate/authorization-message/v1\x00"

# Tokens travel in X-Amz-Security-Token; bound the work a hostile one causes.
# AWS's own tokens run to a few KB; ours are well under 2 KB.
MAX_TOKEN_CHARS = 16384
# DecodeAuthorizationMessage's EncodedMessage is at most 10240 characters.
MAX_MESSAGE_CHARS = 10240

_KEY_ID_RE = re.compile(rf"[A-Za-z0-9._-]{{1,{KEY_ID_MAX_LENGTH}}}")
# Tokens are base64url without padding: no '/', '+' or '=' for clients to mangle.
_URLSAFE_TO_STD = bytes.maketrans(b"-_", b"+/")
_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# The low bits of the last character that carry no data, by len(text) % 4
# (RFC 4648 §3.5: "pad bits ... MUST be set to zero by conforming encoders").
_UNUSED_BITS_MASK = {2: 0b1111, 3: 0b11}
_B64URL_VALUE = {c: i for i, c in enumerate(_B64URL_ALPHABET)}
_MIN_BLOB = 2 + 1 + NONCE_LENGTH + TAG_LENGTH


class InvalidSessionToken(InvalidClientTokenId):
    """Any token that cannot be opened: forged, altered, truncated, foreign.

    The client only ever sees AWS's generic message; ``reason`` is for logs.
    """

    def __init__(self, reason: str = "invalid") -> None:
        super().__init__("The security token included in the request is invalid.")
        self.reason = reason


class SessionExpired(ExpiredToken):
    """An authentic token past its expiry (AWS: ``ExpiredToken``, 403)."""

    def __init__(self, expires_at: int) -> None:
        super().__init__("The security token included in the request is expired")
        self.expires_at = expires_at


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionClaims:
    """Everything a session token asserts (docs/contracts.md, "session tokens")."""

    version: int = CLAIMS_VERSION
    access_key_id: str
    secret_access_key: str = field(repr=False)
    kind: SessionKind
    account_id: str
    arn: str
    user_id: str
    issued_at: int
    expires_at: int
    role_arn: str | None = None
    role_id: str | None = None
    role_name: str | None = None
    session_name: str | None = None
    user_arn: str | None = None
    user_name: str | None = None
    mfa_authenticated: bool = False
    mfa_auth_time: int | None = None
    session_policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None
    chain_depth: int = 0
    issuer: Mapping[str, Any] = field(default_factory=dict)
    federation: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in SESSION_KINDS:
            raise ValueError(f"kind must be one of {sorted(SESSION_KINDS)}, not {self.kind!r}")
        if self.expires_at <= self.issued_at:
            raise ValueError("expires_at must be later than issued_at")
        if self.chain_depth < 0:
            raise ValueError("chain_depth must be >= 0")
        # Callers build these from JSON-ish data; normalise lists to tuples
        # so claims stay immutable and compare equal after a round trip.
        if not isinstance(self.policy_arns, tuple):
            object.__setattr__(self, "policy_arns", tuple(self.policy_arns))
        if not isinstance(self.transitive_tag_keys, tuple):
            object.__setattr__(self, "transitive_tag_keys", tuple(self.transitive_tag_keys))
        tags = self.tags
        if not isinstance(tags, tuple) or any(not isinstance(t, tuple) for t in tags):
            object.__setattr__(self, "tags", tuple((str(k), str(v)) for k, v in tags))

    def expired(self, now: int) -> bool:
        return now >= self.expires_at


# Field order of the packed array. Append only; a reorder is a new CLAIMS_VERSION.
_FIELDS: tuple[str, ...] = (
    "version",
    "access_key_id",
    "secret_access_key",
    "kind",
    "account_id",
    "arn",
    "user_id",
    "issued_at",
    "expires_at",
    "role_arn",
    "role_id",
    "role_name",
    "session_name",
    "user_arn",
    "user_name",
    "mfa_authenticated",
    "mfa_auth_time",
    "session_policy",
    "policy_arns",
    "tags",
    "transitive_tag_keys",
    "source_identity",
    "chain_depth",
    "issuer",
    "federation",
)


_get_fields = operator.attrgetter(*_FIELDS)
_ISSUER_AT = _FIELDS.index("issuer")
_FEDERATION_AT = _FIELDS.index("federation")


def _pack_claims(claims: SessionClaims) -> bytes:
    values: tuple[Any, ...] | list[Any] = _get_fields(claims)
    if type(claims.issuer) is not dict or (
        claims.federation is not None and type(claims.federation) is not dict
    ):
        # msgpack packs plain dicts only; other Mappings are copied.
        values = list(values)
        values[_ISSUER_AT] = dict(claims.issuer)
        if claims.federation is not None:
            values[_FEDERATION_AT] = dict(claims.federation)
    try:
        packer = _tls.packer
    except AttributeError:
        packer = _tls.packer = msgpack.Packer(use_bin_type=True)
    packed: bytes = packer.pack(values)
    return packed


# One Packer per thread (Packer is not thread-safe): packb builds a new one
# on every call, about a fifth of the cost of packing the claims.
_tls = threading.local()


def _unpack_claims(data: bytes) -> SessionClaims:
    # use_list=False: arrays come back as tuples, which is what the claims
    # hold (tags as pairs, ARNs as tuples). Nested lists inside issuer or
    # federation also come back as tuples.
    values = msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=True)
    if type(values) is not tuple or len(values) != len(_FIELDS):
        raise ValueError("claims have the wrong shape")
    if values[0] != CLAIMS_VERSION:
        raise ValueError(f"unsupported claims version {values[0]!r}")
    # The claims were validated by SessionClaims() when sealed and the AEAD
    # tag proves they are unchanged, so skip __init__ (half the cost of open).
    # Slot descriptors set the fields directly, bypassing the frozen
    # __setattr__ guard (about twice as fast as object.__setattr__).
    claims = object.__new__(SessionClaims)
    for set_field, value in zip(_SLOT_SETTERS, values, strict=True):
        set_field(claims, value)
    return claims


_SLOT_SETTERS = tuple(SessionClaims.__dict__[name].__set__ for name in _FIELDS)


class KeyRing:
    """Sealing keys by id: the first seals, all open (like ``MultiFernet``).

    Keys are checked here, when the lifespan or CLI builds the ring, so a bad
    key fails at start-up rather than on the first request.
    """

    __slots__ = ("_aead", "_ids")

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        aead: dict[str, AESGCM] = {}
        for key_id, key in keys:
            if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
                raise ValueError(
                    f"key id must be 1-{KEY_ID_MAX_LENGTH} characters of [A-Za-z0-9._-], "
                    f"not {key_id!r}"
                )
            if not isinstance(key, bytes):
                raise TypeError(f"key {key_id!r} must be bytes")
            if len(key) != KEY_LENGTH:
                raise ValueError(f"key {key_id!r} must be {KEY_LENGTH} bytes, not {len(key)}")
            if key_id in aead:
                raise ValueError(f"duplicate key id {key_id!r}")
            aead[key_id] = AESGCM(key)
        self._aead = aead
        self._ids = tuple(aead)

    @property
    def primary_key_id(self) -> str:
        return self._ids[0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return self._ids

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._aead

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={self._ids!r})"  # never the key bytes

    def _cipher(self, key_id: str) -> AESGCM | None:
        return self._aead.get(key_id)


# --------------------------------------------------------------------------
# The envelope shared by tokens and messages


def _header(fmt: int, key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    return bytes((fmt, len(kid))) + kid


def _encode(blob: bytes) -> str:
    return base64.urlsafe_b64encode(blob).rstrip(b"=").decode("ascii")


def _seal_blob(
    fmt: int, aad_label: bytes, plaintext: bytes, ring: KeyRing, nonce: bytes, key_id: str
) -> str:
    if len(nonce) != NONCE_LENGTH:
        raise ValueError(f"nonce must be {NONCE_LENGTH} bytes")
    cipher = ring._cipher(key_id)
    if cipher is None:
        raise ValueError(f"key id {key_id!r} is not in the ring")
    header = _header(fmt, key_id)
    return _encode(header + nonce + cipher.encrypt(nonce, plaintext, aad_label + header))


def _open_blob(text: object, fmt: int, aad_label: bytes, ring: KeyRing, max_chars: int) -> bytes:
    """Decrypt or raise ``ValueError(reason)``; callers turn it into their one error."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    if len(text) > max_chars:
        raise ValueError("too long")
    # base64url only: '+', '/' and '=' are refused before the alphabet is
    # mapped to standard base64 for the (strict) C decoder.
    if "+" in text or "/" in text or "=" in text or not text.isascii():
        raise ValueError("not base64url")
    # A decoder ignores the unused low bits of the last character, so
    # without this check one token would have up to 16 accepted spellings;
    # a token must be exactly the string rolegate issued.
    mask = _UNUSED_BITS_MASK.get(len(text) % 4)
    if mask is not None and _B64URL_VALUE.get(text[-1], 0) & mask:
        raise ValueError("not canonical base64url")
    try:
        blob = binascii.a2b_base64(
            text.encode("ascii").translate(_URLSAFE_TO_STD) + b"=" * (-len(text) % 4),
            strict_mode=True,
        )
    except (binascii.Error, ValueError):
        raise ValueError("bad base64") from None
    if len(blob) < _MIN_BLOB:
        raise ValueError("truncated")
    if blob[0] != fmt:
        raise ValueError(f"format byte {blob[0]:#04x}")
    n = blob[1]
    if not 1 <= n <= KEY_ID_MAX_LENGTH or len(blob) < 2 + n + NONCE_LENGTH + TAG_LENGTH:
        raise ValueError("bad key id length")
    header = blob[: 2 + n]
    try:
        key_id = header[2:].decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("key id not ascii") from None
    cipher = ring._cipher(key_id)
    if cipher is None:
        raise ValueError(f"unknown key id {key_id!r}")
    nonce = blob[2 + n : 2 + n + NONCE_LENGTH]
    try:
        return cipher.decrypt(nonce, blob[2 + n + NONCE_LENGTH :], aad_label + header)
    except InvalidTag:
        raise ValueError(f"authentication failed under key {key_id!r}") from None


# --------------------------------------------------------------------------
# Session tokens


def _seal_from_parts(
    claims: SessionClaims, ring: KeyRing, now: int, nonce: bytes, key_id: str
) -> str:
    """Deterministic sealing: the given nonce and key. Tests pin tokens with it."""
    del now  # v1 tokens carry their own issued_at/expires_at; see seal()
    return _seal_blob(_FORMAT_TOKEN_V1, _AAD_TOKEN, _pack_claims(claims), ring, nonce, key_id)


def seal(claims: SessionClaims, ring: KeyRing, now: int, *, nonce: bytes | None = None) -> str:
    """Seal ``claims`` under the ring's first key; a fresh random nonce unless given.

    ``now`` is the sealing time, taken for symmetry with :func:`open_token`
    and for later formats; v1 stores the claims' own ``issued_at``.
    """
    if nonce is None:
        nonce = random_bytes(NONCE_LENGTH)
    return _seal_from_parts(claims, ring, now, nonce, ring.primary_key_id)


def open_token(token: str, ring: KeyRing, now: int, *, access_key_id: str) -> SessionClaims:
    """Open and check a session token presented with ``access_key_id``.

    Raises :class:`InvalidSessionToken` for anything not sealed by this ring,
    or sealed for another access key id; :class:`SessionExpired` for an
    authentic token at or past ``expires_at``.
    """
    try:
        plaintext = _open_blob(token, _FORMAT_TOKEN_V1, _AAD_TOKEN, ring, MAX_TOKEN_CHARS)
    except ValueError as e:
        raise InvalidSessionToken(str(e)) from None
    try:
        claims = _unpack_claims(plaintext)
    except (ValueError, TypeError, KeyError, msgpack.UnpackException) as e:
        # Authentic but unreadable: a sealing bug or a format we do not know.
        raise InvalidSessionToken(f"unreadable claims: {e}") from None
    # A token is only good with the key id it was issued for; otherwise a
    # stolen token could ride on another key's signature.
    if not hmac.compare_digest(
        claims.access_key_id.encode("utf-8"), str(access_key_id).encode("utf-8", "replace")
    ):
        raise InvalidSessionToken("access key id does not match the token")
    if claims.expired(now):
        raise SessionExpired(claims.expires_at)
    return claims


# --------------------------------------------------------------------------
# Authorization messages (DecodeAuthorizationMessage)

_MESSAGE_PREFIX = struct.Struct(">q")


def seal_message(payload: bytes, ring: KeyRing, now: int, nonce: bytes | None = None) -> str:
    """Seal an encoded authorization-failure message; only this deployment can read it."""
    if not isinstance(payload, bytes):
        raise TypeError("payload must be bytes")
    if nonce is None:
        nonce = random_bytes(NONCE_LENGTH)
    plaintext = _MESSAGE_PREFIX.pack(int(now)) + payload
    return _seal_blob(_FORMAT_MESSAGE_V1, _AAD_MESSAGE, plaintext, ring, nonce, ring.primary_key_id)


def open_message(text: str, ring: KeyRing) -> bytes:
    """Open a sealed message, or raise ``InvalidAuthorizationMessageException`` (400)."""
    try:
        plaintext = _open_blob(text, _FORMAT_MESSAGE_V1, _AAD_MESSAGE, ring, MAX_MESSAGE_CHARS)
    except ValueError:
        raise InvalidAuthorizationMessage("The encoded message is invalid.") from None
    return plaintext[_MESSAGE_PREFIX.size :]
