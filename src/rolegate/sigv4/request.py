"""The request as received and the signing facts it claims, with SigV4's constants.

Shared by :mod:`.parse`, :mod:`.canonical` and :mod:`.verification`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# AWS allows 15 minutes of clock difference either way for STS and IAM.
MAX_CLOCK_SKEW = timedelta(minutes=15)
# Presigned URLs: X-Amz-Expires is 1..604800 seconds (7 days), as in S3/botocore.
MAX_PRESIGN_EXPIRES = 604800
# Echoing a hostile Authorization header back unbounded would let a client
# make us build arbitrarily large error bodies; AWS echoes it, we cap it.
_MAX_ECHO = 1024

_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AMZ_DATE_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z")  # ASCII digits only
# botocore's validate_region_name: a DNS label. Self-hosted deployments use
# names like "local", so no AWS-partition shape is required.
_REGION_RE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")
# RFC 3986 unreserved characters are the only ones left unencoded.
_UNRESERVED = "-_.~"

_Q_ALGORITHM = "X-Amz-Algorithm"
_Q_CREDENTIAL = "X-Amz-Credential"
_Q_DATE = "X-Amz-Date"
_Q_EXPIRES = "X-Amz-Expires"
_Q_SIGNED_HEADERS = "X-Amz-SignedHeaders"
_Q_SIGNATURE = "X-Amz-Signature"
_Q_TOKEN = "X-Amz-Security-Token"
# Order of the "must include" checks, as in AWS's presigned-URL errors.
_Q_REQUIRED = (_Q_ALGORITHM, _Q_CREDENTIAL, _Q_SIGNATURE, _Q_DATE, _Q_SIGNED_HEADERS, _Q_EXPIRES)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request as received, before any decoding.

    ``path`` is the raw request target path, still percent-encoded (ASGI
    ``raw_path``; non-ASCII bytes decoded as UTF-8 with ``surrogateescape`` so
    they round-trip). ``query`` is the raw query string without ``?``.
    ``headers`` keeps the received order and repeats.
    """

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    # Lower-cased name -> values in received order, built once: verification
    # looks headers up about ten times per request.
    _index: dict[str, list[str]] = field(init=False, repr=False, compare=False, hash=False)

    def __init__(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> None:
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError("body must be bytes")
        pairs = tuple((str(n), str(v)) for n, v in headers)
        index: dict[str, list[str]] = {}
        for name, value in pairs:
            index.setdefault(name.lower(), []).append(value)
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "query", query)
        object.__setattr__(self, "headers", pairs)
        object.__setattr__(self, "body", bytes(body))
        object.__setattr__(self, "_index", index)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower-case), or None."""
        values = self._index.get(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        """All values of header ``name`` (case-insensitive), in received order."""
        return list(self._index.get(name.lower(), ()))


@dataclass(frozen=True, slots=True)
class SigV4Auth:
    """The signing facts of one request, as the client claimed them."""

    access_key_id: str
    date: str  # YYYYMMDD from the credential scope
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: datetime  # aware UTC: X-Amz-Date, else the Date header
    amz_date_raw: str  # ISO 8601 basic form, as it enters the string to sign
    security_token: str | None
    presigned: bool
    expires: int | None  # X-Amz-Expires, presigned only

    @property
    def credential_scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"
