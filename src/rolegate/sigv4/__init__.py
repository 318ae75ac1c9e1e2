"""Server-side AWS Signature Version 4 verification, sans I/O.

The shell hands over the request exactly as received (:class:`HttpRequest`),
:func:`parse_auth` pulls the signing facts out of it (``Authorization`` header
or presigned query), the shell looks the access key up, and :func:`verify`
either returns ``None`` or raises. Nothing here reads the clock, the network
or the store: ``now`` and the secret are parameters (like h11's protocol core).

Errors are :mod:`rolegate.errors` kinds with AWS's wording:
``IncompleteSignature`` (400) for a structurally broken signature,
``SignatureDoesNotMatch`` (403) for scope, clock and signature failures.
Messages marked "observed" are strings real AWS endpoints have returned.

The canonicalisation follows the non-S3 rules (see docs reference §6):
dot-segments removed, the already-encoded path encoded again, query decoded,
re-encoded per RFC 3986 and sorted, header values trimmed and folded.

The package holds :mod:`.request` (the request, the claimed signing facts and
the constants), :mod:`.parse` (the ``Authorization`` header or presigned
query), :mod:`.canonical` (canonical request and string to sign), :mod:`.keys`
(signing keys and their cache) and :mod:`.verification` (:func:`verify`); the
public names are re-exported here.
"""

from __future__ import annotations

from rolegate.sigv4.canonical import (
    canonical_query,
    canonical_request,
    canonical_uri,
    string_to_sign,
)
from rolegate.sigv4.canonical import payload_hash as payload_hash
from rolegate.sigv4.keys import PreparedHmac as PreparedHmac
from rolegate.sigv4.keys import SigningKeyCache, signing_key
from rolegate.sigv4.parse import parse_auth
from rolegate.sigv4.request import (
    ALGORITHM,
    EMPTY_SHA256,
    MAX_CLOCK_SKEW,
    MAX_PRESIGN_EXPIRES,
    HttpRequest,
    SigV4Auth,
)
from rolegate.sigv4.request import TERMINATOR as TERMINATOR
from rolegate.sigv4.verification import verify

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "MAX_CLOCK_SKEW",
    "MAX_PRESIGN_EXPIRES",
    "HttpRequest",
    "SigV4Auth",
    "SigningKeyCache",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "parse_auth",
    "signing_key",
    "string_to_sign",
    "verify",
]
