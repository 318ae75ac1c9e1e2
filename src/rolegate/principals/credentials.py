"""Issuing temporary credentials: key id, secret, sealed session token.

Everything a later request needs to be authenticated and authorised travels
inside the sealed token (DESIGN.md principle 3), so issuing a session writes
nothing to the store.

Temporary access key ids encode the issuing account, as AWS's do (which is
what lets ``GetAccessKeyInfo`` answer for any ``ASIA`` key without a lookup):
``ASIA`` + 8 base32 characters holding the 12-digit account id (40 bits) + 8
random base32 characters. The id is not a secret and carries no authority;
the token is bound to it (``open_token(..., access_key_id=...)``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import random
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rolegate import tokens
from rolegate.context import CallContext
from rolegate.principals.entities import rng as lookup_rng
from rolegate.randpool import random_bytes

SESSION_KEY_PREFIX = "ASIA"
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def rng_of(ctx: CallContext) -> Any:
    """The CSPRNG the shell hands out (tests may inject one), else the system's."""
    return lookup_rng(ctx)


_TABLES: dict[str, bytes] = {}


def _chars(alphabet: str, data: bytes) -> str:
    # Masking a byte is unbiased: 256 is a multiple of both alphabet sizes
    # (32, 64). One C-level ``bytes.translate`` through a 256-entry table
    # (byte -> alphabet[byte & mask]) instead of a Python loop per character.
    table = _TABLES.get(alphabet)
    if table is None:
        mask = len(alphabet) - 1
        table = _TABLES[alphabet] = bytes(ord(alphabet[b & mask]) for b in range(256))
    return data.translate(table).decode("ascii")


def _random_parts(rng: Any, *parts: tuple[str, int]) -> list[str]:
    """Random strings of the given (alphabet, length) parts.

    With the system CSPRNG this is one draw from ``randpool`` for all parts:
    ``SystemRandom.choice`` costs a syscall per character (~10 µs each here,
    ~0.5 ms for a key id and a secret), far too much for the AssumeRole hot
    path. Any other rng (tests inject ``random.Random`` for reproducible ids)
    is used through ``choice``.
    """
    if isinstance(rng, random.SystemRandom):
        data = random_bytes(sum(n for _, n in parts))
        out, at = [], 0
        for alphabet, n in parts:
            out.append(_chars(alphabet, data[at : at + n]))
            at += n
        return out
    return ["".join(rng.choice(alphabet) for _ in range(n)) for alphabet, n in parts]


@functools.lru_cache(maxsize=4096)
def _account_part(account_id: str) -> str:
    acct = int(account_id).to_bytes(5, "big")  # 12 digits < 2**40
    return base64.b32encode(acct).decode("ascii")  # 5 bytes -> exactly 8 chars


def _key_id(account_id: str, tail: str) -> str:
    return SESSION_KEY_PREFIX + _account_part(account_id) + tail


def new_session_key_id(account_id: str, rng: Any) -> str:
    """``ASIA`` + account (8 base32 chars) + 8 random base32 chars = 20 chars."""
    return _key_id(account_id, _random_parts(rng, (_B32, 8))[0])


def account_of_session_key(access_key_id: str) -> str | None:
    """The account encoded in an ``ASIA`` key id issued by rolegate, else None."""
    if len(access_key_id) != 20 or not access_key_id.startswith(SESSION_KEY_PREFIX):
        return None
    try:
        raw = base64.b32decode(access_key_id[4:12])
    except (ValueError, binascii.Error):
        return None
    value = int.from_bytes(raw, "big")
    if value > 999_999_999_999:
        return None
    return f"{value:012d}"


def key_ring(ctx: CallContext) -> Any:
    """The current key ring: the server's refreshing source when there is one
    (so a key added by ``rolegate keys rotate`` seals at once), else the ring
    the state was built with."""
    app = ctx.app
    extra = getattr(app, "extra", None)
    source = extra.get("keys") if isinstance(extra, Mapping) else None
    if source is not None and hasattr(source, "ring"):
        return source.ring()
    return app.key_ring


# AWS secrets are 40 characters of the Base64 alphabet (as rolegate.ids makes them).
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
SECRET_LENGTH = 40


def new_secret(rng: Any) -> str:
    return _random_parts(rng, (_SECRET_ALPHABET, SECRET_LENGTH))[0]


def new_key_pair(account_id: str, rng: Any) -> tuple[str, str]:
    """A session access key id and its secret, from one draw of randomness."""
    tail, secret = _random_parts(rng, (_B32, 8), (_SECRET_ALPHABET, SECRET_LENGTH))
    return _key_id(account_id, tail), secret


@dataclass(frozen=True, slots=True)
class Issued:
    claims: Any  # rolegate.tokens.SessionClaims
    token: str

    @property
    def expiration(self) -> datetime:
        return datetime.fromtimestamp(self.claims.expires_at, tz=UTC)

    def credentials(self) -> dict[str, Any]:
        """The ``Credentials`` output shape."""
        return {
            "AccessKeyId": self.claims.access_key_id,
            "SecretAccessKey": self.claims.secret_access_key,
            "SessionToken": self.token,
            "Expiration": self.expiration,
        }

    def audit_credentials(self) -> dict[str, str]:
        """CloudTrail's ``responseElements.credentials``: never the secret."""
        return {
            "accessKeyId": self.claims.access_key_id,
            "sessionToken": self.token,
            "expiration": _cloudtrail_epoch(self.claims.expires_at),
        }


def cloudtrail_time(dt: datetime) -> str:
    """CloudTrail's format for ``credentials.expiration``: "Oct 2, 2019, 11:12:29 PM"."""
    dt = dt.astimezone(UTC)
    hour = dt.hour % 12 or 12
    return (
        f"{dt.strftime('%b')} {dt.day}, {dt.year}, "
        f"{hour}:{dt.minute:02d}:{dt.second:02d} {'AM' if dt.hour < 12 else 'PM'}"
    )


_CT_CACHE: dict[int, str] = {}


def _cloudtrail_epoch(epoch: int) -> str:
    """``cloudtrail_time`` of an epoch second, memoised: sessions issued in
    the same second expire in the same second, and strftime shows in profiles."""
    out = _CT_CACHE.get(epoch)
    if out is None:
        if len(_CT_CACHE) > 256:
            _CT_CACHE.clear()
        out = _CT_CACHE[epoch] = cloudtrail_time(datetime.fromtimestamp(epoch, tz=UTC))
    return out


def issue(ctx: CallContext, *, account_id: str, duration: int, fields: Mapping[str, Any]) -> Issued:
    """Mint a key id and secret, build the claims and seal them.

    ``fields`` holds the claim fields that depend on the kind of session
    (kind, arn, user_id, role_*, tags, ...); the credential fields, times and
    version are filled in here.
    """
    access_key_id, secret = new_key_pair(account_id, rng_of(ctx))
    now = int(ctx.now.timestamp())
    claims = tokens.SessionClaims(
        **{
            "access_key_id": access_key_id,
            "secret_access_key": secret,
            "account_id": account_id,
            "issued_at": now,
            "expires_at": now + duration,
            **fields,
        }
    )
    token = tokens.seal(claims, key_ring(ctx), now)
    return Issued(claims, token)


def claim_defaults() -> dict[str, Any]:
    """Claim fields every kind of session sets, at their neutral values."""
    return {
        "role_arn": None,
        "role_id": None,
        "role_name": None,
        "session_name": None,
        "user_arn": None,
        "user_name": None,
        "mfa_authenticated": False,
        "mfa_auth_time": None,
        "session_policy": None,
        "policy_arns": (),
        "tags": (),
        "transitive_tag_keys": (),
        "source_identity": None,
        "chain_depth": 0,
        "issuer": {},
        "federation": None,
    }
