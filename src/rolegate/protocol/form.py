"""``application/x-www-form-urlencoded`` parsing for Query requests.

A dedicated parser instead of ``urllib.parse.parse_qsl``: the same bytes that
SigV4 hashes are parsed here, strictly (a malformed ``%`` escape or invalid
UTF-8 is the client's error, not something to guess around), and about five
times faster, mostly thanks to a small cache of decoded pieces: field names
and many values (``Action=AssumeRole``, ``Version=2011-06-15``) repeat on
every request.
"""

from __future__ import annotations

import binascii
import re

from rolegate.errors import AwsError

# AWS answers an unparseable query string with MalformedQueryString.
MALFORMED_CODE = "MalformedQueryString"

# A request never needs more fields than this (the largest IAM inputs carry a
# few hundred); the cap bounds the work a hostile body can cause.
MAX_FORM_FIELDS = 10_000

# Only short pieces are cached: they are the ones that repeat (names, action,
# version, ARNs), and long ones (SAML assertions, policies) must not linger in
# memory or crowd the cache.
CACHEABLE_PIECE_BYTES = 128
_CACHE_SIZE = 4096

# "%" not followed by two hex digits.
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _malformed(message: str) -> AwsError:
    return AwsError(message, code=MALFORMED_CODE, status=400)


# Runs of escapes in a long piece are unescaped together, at C speed: a
# 2 MiB body of %XX cost ~0.4 s of CPU one escape at a time (a cheap way to
# burn a worker), ~10 ms by runs. Short pieces keep the loop, which is faster
# for the few escapes of an ARN.
_ESCAPE_RUN = re.compile(rb"(?:%[0-9A-Fa-f]{2})+")
_BY_RUNS_FROM = 512


def _unescape_run(match: re.Match[bytes]) -> bytes:
    return binascii.unhexlify(match[0].replace(b"%", b""))


def _decode_piece(raw: bytes) -> str:
    """Decode one name or value: ``+`` is a space, ``%XX`` a byte, UTF-8."""
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        bad = _BAD_ESCAPE.search(raw)
        if bad is not None:
            snippet = raw[bad.start() : bad.start() + 3].decode("ascii", "replace")
            raise _malformed(f"Malformed percent-encoding {snippet!r} in the request")
        if len(raw) >= _BY_RUNS_FROM:
            raw = _ESCAPE_RUN.sub(_unescape_run, raw)
        else:
            chunks = raw.split(b"%")
            out = bytearray(chunks[0])
            for chunk in chunks[1:]:
                out.append(int(chunk[:2], 16))
                out += chunk[2:]
            raw = bytes(out)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("The request contains invalid UTF-8 after percent-decoding") from None


def _decode_pair(piece: bytes) -> tuple[str, str]:
    name, _, value = piece.partition(b"=")
    return _decode_piece(name), _decode_piece(value)


# Decoded short pieces ("Action=AssumeRole" -> ("Action", "AssumeRole")): one
# dict lookup per piece on the hot path. Emptied when full rather than LRU:
# cheaper, and a burst of unique values costs one refill.
_pieces: dict[bytes, tuple[str, str]] = {}

# Fields whose values are secrets or one-time proofs are never cached: a
# password or MFA code must not outlive its request in process memory.
_NEVER_CACHED = (
    b"Password=",
    b"NewPassword=",
    b"OldPassword=",
    b"TokenCode=",
    b"AuthenticationCode1=",
    b"AuthenticationCode2=",
    b"X-Amz-Security-Token=",
    b"X-Amz-Signature=",
)


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """Parse a form body into (name, value) pairs, in order, duplicates kept.

    Empty pieces (``a=1&&b=2``) are skipped and a piece without ``=`` is a
    name with an empty value, as browsers and botocore agree. Raises
    :class:`AwsError` ``MalformedQueryString`` (400) for bad escapes, invalid
    UTF-8 or more than :data:`MAX_FORM_FIELDS` fields.
    """
    if not body:
        return []
    pieces = body.split(b"&")
    if len(pieces) > MAX_FORM_FIELDS:
        raise _malformed(f"The request has more than {MAX_FORM_FIELDS} parameters")
    cache = _pieces
    out: list[tuple[str, str]] = []
    append = out.append
    for piece in pieces:
        pair = cache.get(piece)
        if pair is None:
            if not piece:
                continue
            pair = _decode_pair(piece)
            if len(piece) <= CACHEABLE_PIECE_BYTES and not piece.startswith(_NEVER_CACHED):
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[piece] = pair
        append(pair)
    return out


def parse_query_string(qs: str | bytes) -> list[tuple[str, str]]:
    """Parse a URL query string (GET requests, presigned URLs) like a body.

    ASGI gives the raw query string as bytes; a ``str`` is taken as UTF-8.
    """
    if isinstance(qs, str):
        try:
            qs = qs.encode("utf-8")
        except UnicodeEncodeError:
            raise _malformed("The query string is not valid Unicode") from None
    return parse_form(qs)
