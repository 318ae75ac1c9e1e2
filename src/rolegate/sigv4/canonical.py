"""The canonical request and the string to sign (non-S3 rules, docs reference §6):
dot-segments removed, the already-encoded path encoded again, query decoded,
re-encoded per RFC 3986 and sorted, header values trimmed and folded."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote

from rolegate.sigv4.parse import _split_query
from rolegate.sigv4.request import (
    _Q_SIGNATURE,
    _UNRESERVED,
    ALGORITHM,
    EMPTY_SHA256,
    HttpRequest,
    SigV4Auth,
)


@lru_cache(maxsize=1024)
def canonical_uri(path: str) -> str:
    """The canonical URI of a raw (already percent-encoded) path.

    Empty and ``.`` segments are dropped and ``..`` pops one, like botocore's
    non-S3 normalisation (a trailing slash survives unless the path ended in a
    dot-segment). The result is then percent-encoded again: non-S3 services
    sign the double-encoded path, so ``%`` becomes ``%25``.
    """
    if path == "/" or not path:
        return "/"
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "" or segment == ".":
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    normalized = "/" + "/".join(kept)
    if kept and path.endswith("/"):
        normalized += "/"
    return quote(normalized, safe="/" + _UNRESERVED, errors="surrogateescape")


def canonical_query(query: str) -> str:
    """Decode, re-encode (RFC 3986), sort; ``X-Amz-Signature`` is left out."""
    if not query:
        return ""
    encoded = sorted(
        (
            quote(name, safe=_UNRESERVED, errors="surrogateescape"),
            quote(value, safe=_UNRESERVED, errors="surrogateescape"),
        )
        for name, value in _split_query(query)
        if name != _Q_SIGNATURE
    )
    return "&".join(f"{n}={v}" for n, v in encoded)


def _canonical_headers(req: HttpRequest, signed_headers: Sequence[str]) -> str:
    index = req._index
    lines = []
    for name in signed_headers:
        # Trim and fold every whitespace run (obs-fold newlines included);
        # repeated headers are joined with commas in received order.
        values = index.get(name, ())
        lines.append(f"{name}:{','.join([' '.join(v.split()) for v in values])}\n")
    return "".join(lines)


def payload_hash(req: HttpRequest) -> str:
    """What the client signed as the payload hash: ``x-amz-content-sha256`` or sha256(body)."""
    claimed = req._index.get("x-amz-content-sha256")
    if claimed:
        return claimed[0].strip()
    return hashlib.sha256(req.body).hexdigest() if req.body else EMPTY_SHA256


def canonical_request(
    req: HttpRequest,
    signed_headers: SigV4Auth | Sequence[str],
    *,
    payload_sha256: str | None = None,
) -> str:
    """The SigV4 canonical request for ``req`` over ``signed_headers``."""
    names = (
        signed_headers.signed_headers
        if isinstance(signed_headers, SigV4Auth)
        else tuple(h.lower() for h in signed_headers)
    )
    return "\n".join(
        (
            req.method,
            canonical_uri(req.path),
            canonical_query(req.query),
            _canonical_headers(req, names),
            ";".join(names),
            payload_sha256 if payload_sha256 is not None else payload_hash(req),
        )
    )


def string_to_sign(canonical: str, amz_date: str, scope: str) -> str:
    """``AWS4-HMAC-SHA256\\n<amz date>\\n<scope>\\n<hex sha256(canonical request)>``."""
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"
