"""Verification of OIDC ID tokens for AssumeRoleWithWebIdentity.

Order of checks, so nothing about an unverified token steers key lookup:

1. parse the header ourselves; ``alg`` must be an asymmetric algorithm from a
   fixed list (``none`` and every HMAC alg are refused before any key lookup);
2. fetch keys for the *registered* provider (never the token's ``iss``);
3. verify with joserfc, only with JWKS keys whose type fits the alg;
4. then the claims: ``iss``, ``exp``, ``nbf``/``iat``, ``aud``, ``sub``.

Error codes: unverifiable/garbled/wrong-issuer/wrong-audience tokens ->
``InvalidIdentityToken`` (400); expired -> ``ExpiredTokenException`` with
AWS's observed message; keys unobtainable -> ``IDPCommunicationError``
(botocore retries it). Messages stay generic for signature problems; the
detail goes to the log.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from rolegate import jsonsafe
from rolegate.errors import ExpiredTokenException, InvalidIdentityToken
from rolegate.federation.jwks import JwksCache, PublicKey, is_loopback_host

log = logging.getLogger(__name__)

# WebIdentityToken is 4-20000 characters in the STS model.
MAX_TOKEN_CHARS = 20_000
# The asymmetric algorithms AWS documents (RS*, ES*) plus RSASSA-PSS.
RSA_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
EC_ALGS = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
ALLOWED_ALGS = RSA_ALGS | frozenset(EC_ALGS)

TAGS_CLAIM = "https://aws.amazon.com/tags"
SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity"
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
MAX_SUBJECT_CHARS = 255

# The STS API reference's description of InvalidIdentityToken.
MSG_INVALID = (
    "The web identity token that was passed could not be validated by AWS. "
    "Get a new identity token from the identity provider and then retry the request."
)
MSG_AUDIENCE = "Incorrect token audience"
MSG_ISSUER = "Incorrect token issuer"


@dataclass(frozen=True)
class WebIdentityClaims:
    """The verified facts of a web identity token."""

    issuer: str  # the iss claim, verbatim
    subject: str
    audience: str  # the client id that matched
    claims: dict[str, Any] = field(hash=False)  # every claim, as sent
    kid: str | None
    alg: str
    expires_at: int
    issued_at: int | None
    principal_tags: dict[str, str] = field(hash=False)
    transitive_tag_keys: tuple[str, ...]
    source_identity: str | None
    amr: tuple[str, ...]


# RFC 7515 §2: base64url without padding. Checked strictly, so that one
# signed token has one spelling: urlsafe_b64decode drops characters outside
# the alphabet, and every decoder ignores the unused low bits of the last
# character.
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_-]+")
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_UNUSED_BITS_MASK = {2: 0b1111, 3: 0b11}


def _canonical_segment(segment: str) -> bool:
    if len(segment) % 4 == 1 or not _SEGMENT_RE.fullmatch(segment):
        return False
    mask = _UNUSED_BITS_MASK.get(len(segment) % 4, 0)
    return not _B64URL.index(segment[-1]) & mask


def _b64url_json(segment: str) -> dict:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = jsonsafe.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidIdentityToken(MSG_INVALID) from exc
    if not isinstance(value, dict):
        raise InvalidIdentityToken(MSG_INVALID)
    return value


def _segments(token: str) -> list[str]:
    if not isinstance(token, str) or not 4 <= len(token) <= MAX_TOKEN_CHARS:
        raise InvalidIdentityToken(MSG_INVALID)
    parts = token.split(".")
    # Exactly a JWS compact serialisation; 5 parts would be a JWE.
    if len(parts) != 3 or not all(_canonical_segment(p) for p in parts):
        raise InvalidIdentityToken(MSG_INVALID)
    return parts


def find_issuer(token: str) -> str:
    """The unverified ``iss`` of a token, only to locate its provider."""
    payload = _b64url_json(_segments(token)[1])
    iss = payload.get("iss")
    if not isinstance(iss, str) or not iss:
        raise InvalidIdentityToken(MSG_INVALID)
    return iss


def provider_url_from_issuer(iss: str) -> str:
    """The IAM provider name for an issuer: the URL without ``https://``."""
    for scheme in ("https://", "http://"):
        if iss.startswith(scheme):
            return iss[len(scheme) :].rstrip("/")
    return iss.rstrip("/")


def _issuer_urls(provider_url: str, allow_http_loopback: bool) -> tuple[str, ...]:
    """The ``iss`` values that identify the registered provider."""
    bare = provider_url_from_issuer(provider_url)
    urls = ["https://" + bare]
    host = urlsplit("http://" + bare).hostname or ""
    if allow_http_loopback and is_loopback_host(host):
        urls.append("http://" + bare)
    return tuple(urls)


def _key_fits(key: PublicKey, alg: str) -> bool:
    # The alg/key pairing is checked here, not left to the library, so an RSA
    # key can never be used as an HMAC secret (HMAC algs never get this far)
    # and an EC key is only used with its own curve.
    if alg in RSA_ALGS:
        return isinstance(key, RSAKey)
    return isinstance(key, ECKey) and key.curve_name == EC_ALGS[alg]


def _int_claim(claims: dict, name: str, *, required: bool) -> int | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise InvalidIdentityToken(f"Missing {name} in token")
        return None
    # bool is an int subclass; "exp": true is not a time.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidIdentityToken(f"Invalid {name} in token")
    return int(value)


def _tags(claims: dict) -> tuple[dict[str, str], tuple[str, ...]]:
    raw = claims.get(TAGS_CLAIM)
    if raw is None:
        return {}, ()
    if not isinstance(raw, dict):
        raise InvalidIdentityToken("Invalid session tags in token")
    tags: dict[str, str] = {}
    principal = raw.get("principal_tags", {})
    if not isinstance(principal, dict):
        raise InvalidIdentityToken("Invalid session tags in token")
    for key, values in principal.items():
        # AWS's format puts each value in a list; the first one counts.
        if isinstance(values, list) and values and isinstance(values[0], str):
            tags[key] = values[0]
        elif isinstance(values, str):
            tags[key] = values
        else:
            raise InvalidIdentityToken("Invalid session tags in token")
    transitive = raw.get("transitive_tag_keys", [])
    if not isinstance(transitive, list) or not all(isinstance(k, str) for k in transitive):
        raise InvalidIdentityToken("Invalid session tags in token")
    return tags, tuple(transitive)


def _audience(claims: dict, client_ids: Sequence[str]) -> str:
    aud = claims.get("aud")
    if isinstance(aud, str):
        candidates = [aud]
    elif isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        candidates = list(aud)
    else:
        raise InvalidIdentityToken(MSG_AUDIENCE)
    azp = claims.get("azp")
    if claims.get("iss") in GOOGLE_ISSUERS and isinstance(azp, str):
        # AWS: for Google, azp (the client that asked) is the audience when set.
        candidates = [azp]
    for candidate in candidates:
        if candidate in client_ids:
            return candidate
    raise InvalidIdentityToken(MSG_AUDIENCE)


def verify_web_identity_token(
    token: str,
    *,
    provider_url: str,
    client_ids: Sequence[str],
    jwks: JwksCache,
    now: float,
    leeway: int = 60,
    thumbprints: Sequence[str] = (),
) -> WebIdentityClaims:
    """Verify an OIDC ID token issued by the registered ``provider_url``.

    ``provider_url`` is the provider as IAM stores it (no scheme); keys come
    from ``https://<provider_url>`` (``http://`` only for loopback hosts when
    ``jwks.allow_http_loopback``). ``now`` is epoch seconds. ``thumbprints``
    are the provider's, trusted when the IdP's certificate is not CA-signed.
    """
    header_b64, payload_b64, _sig = _segments(token)
    header = _b64url_json(header_b64)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
        # Covers "none", HS256/384/512 and anything exotic, before any lookup.
        log.info("web identity token refused: alg %r", alg)
        raise InvalidIdentityToken(MSG_INVALID)
    if "crit" in header:
        # RFC 7515 §4.1.11: we understand no extensions, so must refuse.
        raise InvalidIdentityToken(MSG_INVALID)
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidIdentityToken(MSG_INVALID)

    issuer_urls = _issuer_urls(provider_url, jwks.allow_http_loopback)
    unverified_iss = _b64url_json(payload_b64).get("iss")
    if not isinstance(unverified_iss, str) or unverified_iss.rstrip("/") not in issuer_urls:
        # Refusing early is safe (it only rejects) and keeps a token for some
        # other issuer, or an http:// issuer outside dev mode, off the network.
        raise InvalidIdentityToken(MSG_ISSUER)
    # Keys come from the registered provider's URL, never from elsewhere.
    key_issuer = unverified_iss.rstrip("/")
    candidates = [
        k for k in jwks.keys(key_issuer, kid, now=now, thumbprints=thumbprints) if _key_fits(k, alg)
    ]
    if not candidates:
        log.info("web identity token refused: no %s key with kid %r for %s", alg, kid, key_issuer)
        raise InvalidIdentityToken(MSG_INVALID)

    payload: bytes | None = None
    for key in candidates:
        try:
            payload = jws.deserialize_compact(token, key, algorithms=[alg]).payload
            break
        except (JoseError, ValueError) as exc:
            log.debug("signature check with kid %r failed: %s", key.kid, exc)
    if payload is None:
        log.info("web identity token refused: bad signature (kid %r)", kid)
        raise InvalidIdentityToken(MSG_INVALID)
    try:
        claims = jsonsafe.loads(payload)
    except ValueError as exc:
        raise InvalidIdentityToken(MSG_INVALID) from exc
    if not isinstance(claims, dict):
        raise InvalidIdentityToken(MSG_INVALID)

    iss = claims.get("iss")
    if not isinstance(iss, str) or iss.rstrip("/") not in issuer_urls:
        raise InvalidIdentityToken(MSG_ISSUER)

    now_s = int(now)
    exp = _int_claim(claims, "exp", required=True)
    assert exp is not None
    if now_s >= exp + leeway:
        # Observed AWS wording, including the missing space before the exp.
        raise ExpiredTokenException(
            f"Token expired: current date/time {now_s} must be before the expiration date/time{exp}"
        )
    nbf = _int_claim(claims, "nbf", required=False)
    if nbf is not None and nbf > now_s + leeway:
        raise InvalidIdentityToken("Token is not yet valid (nbf is in the future)")
    iat = _int_claim(claims, "iat", required=False)
    if iat is not None and iat > now_s + leeway:
        raise InvalidIdentityToken("Token issued in the future (iat)")

    audience = _audience(claims, client_ids)

    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > MAX_SUBJECT_CHARS:
        raise InvalidIdentityToken("Missing or invalid sub in token")

    tags, transitive = _tags(claims)
    source_identity = claims.get(SOURCE_IDENTITY_CLAIM)
    if source_identity is not None and not isinstance(source_identity, str):
        raise InvalidIdentityToken("Invalid source identity in token")
    amr_raw = claims.get("amr", ())
    if isinstance(amr_raw, str):
        amr: tuple[str, ...] = (amr_raw,)
    elif isinstance(amr_raw, list | tuple) and all(isinstance(a, str) for a in amr_raw):
        amr = tuple(amr_raw)
    else:
        raise InvalidIdentityToken("Invalid amr in token")

    return WebIdentityClaims(
        issuer=iss,
        subject=sub,
        audience=audience,
        claims=claims,
        kid=kid,
        alg=alg,
        expires_at=exp,
        issued_at=iat,
        principal_tags=tags,
        transitive_tag_keys=transitive,
        source_identity=source_identity,
        amr=amr,
    )
