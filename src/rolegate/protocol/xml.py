"""XML responses and errors for the AWS Query protocol.

Output shapes are compiled once into closures that append text fragments, so
a response is a ``"".join`` of precomputed tags and escaped values (~1 µs for
AssumeRole versus ~50 µs through ``xml.etree``). What botocore's QueryParser
expects (botocore/parsers.py): ``<OpResponse><OpResult>`` members by name,
lists as ``<member>`` children (or repeated elements when ``flattened``),
maps as ``<entry><key/><value/></entry>``, booleans ``true``/``false``,
timestamps ISO 8601, blobs base64. IAM's ``policyDocumentType`` members are
URL-encoded JSON, which botocore's ``json_decode_policies`` handler unquotes
and parses.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from botocore.model import Shape

# IAM's one shape for policy documents (botocore/handlers.py _decode_policy_types).
POLICY_DOCUMENT_SHAPE = "policyDocumentType"

# "&<>" need entities; "\r" too, because XML parsers turn CR (and CRLF) into
# LF, so a literal one would not round-trip. The rest cannot appear in XML
# 1.0 at all, even as references: they become U+FFFD.
_XML_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_REPLACEMENTS = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def _replace_special(match: re.Match[str]) -> str:
    return _XML_REPLACEMENTS.get(match.group(), "\ufffd")


# The same set restricted to ASCII: a small charset scans faster, and most
# values (ARNs, ids, tokens) are ASCII (``str.isascii`` is O(1) in CPython).
_XML_SPECIAL_ASCII = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f]")


# Every ASCII byte that needs nothing: deleting these from a long ASCII value
# (``bytes.translate``, a C table loop) leaves nothing when it is clean. For
# session tokens (~1 KB) that is ~5x faster than a regex scan.
_SAFE_ASCII = bytes(b for b in range(128) if _XML_SPECIAL_ASCII.match(chr(b)) is None)
_LONG = 64


def xml_text(value: object) -> str:
    """Escape text content; the common case (nothing to escape) is one scan.

    Also the encoder of string members, so a non-str value is str()-ed here.
    """
    if type(value) is not str:
        value = str(value)
    if value.isascii():
        if len(value) > _LONG:
            if not value.encode("ascii").translate(None, _SAFE_ASCII):
                return value
        elif _XML_SPECIAL_ASCII.search(value) is None:
            return value
    elif _XML_SPECIAL.search(value) is None:
        return value
    return _XML_SPECIAL.sub(_replace_special, value)


def as_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is UTC:
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    raise TypeError(f"not a timestamp: {value!r}")


def format_timestamp(value: Any) -> str:
    """ISO 8601 UTC with ``Z``; milliseconds only when there are any (as AWS)."""
    if isinstance(value, str):
        return value  # already rendered by the handler
    if isinstance(value, datetime):
        return _format_datetime(value)
    return _format_datetime(as_utc(value))


# Concurrent requests share expiry and creation times to the second, so the
# rendering (~2 µs) is worth caching.
@lru_cache(maxsize=1024)
def _format_datetime(value: datetime) -> str:
    d = as_utc(value).replace(tzinfo=None)
    if d.microsecond >= 1000:
        return d.isoformat(timespec="milliseconds") + "Z"
    return d.isoformat(timespec="seconds") + "Z"


def _encode_policy_document(value: Any) -> str:
    # Handlers return JSON text (docs/contracts.md); tolerate a dict.
    if not isinstance(value, str):
        value = json.dumps(value, separators=(",", ":"))
    # safe="" leaves only [A-Za-z0-9_.~-]: nothing needs XML escaping after.
    return quote(value, safe="")


def _encode_boolean(value: Any) -> str:
    return "true" if value else "false"


def _encode_integer(value: Any) -> str:
    return str(int(value))


def _encode_float(value: Any) -> str:
    return repr(float(value))


def _encode_blob(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


_SCALAR_ENCODERS: dict[str, Callable[[Any], str]] = {
    "string": xml_text,
    "boolean": _encode_boolean,
    "integer": _encode_integer,
    "long": _encode_integer,
    "float": _encode_float,
    "double": _encode_float,
    "timestamp": format_timestamp,
    "blob": _encode_blob,
}

# (value, out) -> None, appending fragments to ``out``.
Appender = Callable[[Any, list[str]], None]
# A compiled shape: (is_scalar, encoder). Scalars: value -> text; the rest: Appender.
Compiled = tuple[bool, Any]


class XmlEncoderCompiler:
    """Compiles XML encoders for one service's output shapes, memoised by name."""

    def __init__(self) -> None:
        self._memo: dict[str, Compiled] = {}

    def compile(self, shape: Shape) -> Compiled:
        key = shape.name
        found = self._memo.get(key)
        if found is not None:
            return found
        kind = shape.type_name
        if kind not in ("structure", "list", "map"):
            if kind == "string" and shape.name == POLICY_DOCUMENT_SHAPE:
                compiled: Compiled = (True, _encode_policy_document)
            else:
                compiled = (True, _SCALAR_ENCODERS[kind])
            self._memo[key] = compiled
            return compiled
        cell: list[Appender] = []

        def forward(value: Any, out: list[str]) -> None:
            cell[0](value, out)

        self._memo[key] = (False, forward)
        if kind == "structure":
            built = self._structure(shape)
        elif kind == "list":
            built = self._list(shape)
        else:
            built = self._map(shape)
        cell.append(built)
        self._memo[key] = (False, built)
        return self._memo[key]

    def _element_name(self, member: Shape, name: str) -> str:
        if member.type_name == "list" and member.serialization.get("flattened"):
            flat: str = member.member.serialization.get("name") or member.serialization.get(
                "name", name
            )
            return flat
        wire: str = member.serialization.get("name", name)
        return wire

    def _structure(self, shape: Shape) -> Appender:
        plan = []
        for name, member in shape.members.items():
            tag = self._element_name(member, name)
            flattened = member.type_name == "list" and bool(member.serialization.get("flattened"))
            # A flattened list repeats its elements under the member's tag.
            is_scalar, encoder = self.compile(member.member if flattened else member)
            plan.append((name, f"<{tag}>", f"</{tag}>", is_scalar, flattened, encoder))
        members = tuple(plan)

        def encode_structure(value: Any, out: list[str]) -> None:
            get = value.get
            for name, open_tag, close_tag, is_scalar, flattened, encoder in members:
                v = get(name)
                if v is None:
                    continue
                if flattened:
                    for item in v:
                        if is_scalar:
                            out.append(open_tag + encoder(item) + close_tag)
                        else:
                            out.append(open_tag)
                            encoder(item, out)
                            out.append(close_tag)
                elif is_scalar:
                    out.append(open_tag + encoder(v) + close_tag)
                else:
                    out.append(open_tag)
                    encoder(v, out)
                    out.append(close_tag)

        return encode_structure

    def _list(self, shape: Shape) -> Appender:
        # Only reached for wrapped lists: structures expand flattened ones.
        tag = shape.member.serialization.get("name", "member")
        open_tag, close_tag = f"<{tag}>", f"</{tag}>"
        is_scalar, encoder = self.compile(shape.member)

        def encode_list(value: Any, out: list[str]) -> None:
            for item in value:
                if is_scalar:
                    out.append(open_tag + encoder(item) + close_tag)
                else:
                    out.append(open_tag)
                    encoder(item, out)
                    out.append(close_tag)

        return encode_list

    def _map(self, shape: Shape) -> Appender:
        key_tag = shape.key.serialization.get("name") or "key"
        value_tag = shape.value.serialization.get("name") or "value"
        entry_open = "" if shape.serialization.get("flattened") else "<entry>"
        entry_close = "" if shape.serialization.get("flattened") else "</entry>"
        _, key_encoder = self.compile(shape.key)
        value_is_scalar, value_encoder = self.compile(shape.value)

        def encode_map(value: Any, out: list[str]) -> None:
            for k, v in value.items():
                out.append(f"{entry_open}<{key_tag}>{key_encoder(k)}</{key_tag}>")
                if v is not None:
                    if value_is_scalar:
                        out.append(f"<{value_tag}>{value_encoder(v)}</{value_tag}>")
                    else:
                        out.append(f"<{value_tag}>")
                        value_encoder(v, out)
                        out.append(f"</{value_tag}>")
                out.append(entry_close)

        return encode_map
