"""Decoding AWS Query requests: the exact inverse of botocore's QuerySerializer.

``QuerySerializer`` (botocore/serialize.py) flattens an operation's input into
``name=value`` pairs: structure members as ``A.B``, lists as
``Name.member.N`` (1-based; ``flattened`` lists drop the ``member`` level),
maps as ``Name.entry.N.key`` / ``.value``, an empty list as ``Name=``,
booleans as ``true``/``false``, timestamps as ISO 8601 and blobs as base64.
Here the same shapes are compiled once into closures that rebuild the
boto3-shaped input dict; no botocore ``Shape`` is touched per request.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape

from rolegate.protocol.validation import (
    INVALID,
    display_name,
    node_path,
    violation,
)

# List indexes are 1-based; an index above this is rejected. No model list
# allows more than 256 elements, and the cap keeps a body like
# ``Tags.member.99999999.Key=x`` from meaning anything. Elements are kept in
# index order without allocating up to the largest index.
MAX_LIST_INDEX = 1000

_SCALAR, _LIST, _MAP, _STRUCT = range(4)

# Java's int and long ranges: Coral rejects what does not fit.
_INT_RANGES = {
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,20}")
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class Malformed(Exception):
    """A scalar could not be converted; ``constraint`` ends the message item."""

    def __init__(self, constraint: str):
        super().__init__(constraint)
        self.constraint = constraint


ScalarDecoder = Callable[[str], Any]
# (flat sub-parameters, parent path, name or list position, error items) -> value
CompoundDecoder = Callable[[Mapping[str, str], str, Any, list[str]], Any]


def _make_int(kind: str) -> ScalarDecoder:
    lo, hi = _INT_RANGES[kind]
    constraint = (
        "Member must be a valid integer" if kind == "integer" else "Member must be a valid long"
    )

    def decode_int(text: str) -> int:
        if _INTEGER_TEXT.fullmatch(text) is None:
            raise Malformed(constraint)
        value = int(text)
        if not lo <= value <= hi:
            raise Malformed(constraint)
        return value

    return decode_int


def _decode_float(text: str) -> float:
    if _FLOAT_TEXT.fullmatch(text) is None:
        raise Malformed("Member must be a valid number")
    value = float(text)
    if not math.isfinite(value):
        raise Malformed("Member must be a valid number")
    return value


def _decode_boolean(text: str) -> bool:
    # botocore sends exactly "true"/"false"; Java's parser ignores case.
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise Malformed("Member must be a boolean ('true' or 'false')")


def decode_timestamp_text(text: str) -> datetime:
    """ISO 8601 (what QuerySerializer sends) or epoch seconds -> aware UTC."""
    try:
        if _FLOAT_TEXT.fullmatch(text):
            return datetime.fromtimestamp(float(text), UTC)
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise Malformed("Member must be a valid ISO 8601 timestamp") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _decode_blob(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed("Member must be valid base64") from None


def _scalar_decoder(shape: Shape) -> ScalarDecoder | None:
    """None means "the text is the value" (strings), saving a call."""
    kind = shape.type_name
    if kind == "string":
        return None
    if kind in _INT_RANGES:
        return _make_int(kind)
    if kind in ("float", "double"):
        return _decode_float
    if kind == "boolean":
        return _decode_boolean
    if kind == "timestamp":
        return decode_timestamp_text
    if kind == "blob":
        return _decode_blob
    raise ValueError(f"unsupported scalar shape type {kind!r} ({shape.name})")


# Canonical decimal indexes only ("1".."MAX"): one dict lookup, and "01",
# "+1", "1_0" or "١" are not indexes botocore would ever send.
_INDEXES = {str(i): i for i in range(1, MAX_LIST_INDEX + 1)}


def _bad_index(text: str, path: str) -> str:
    return violation(text, path, f"Member must have a list index between 1 and {MAX_LIST_INDEX}")


# A compiled shape: (kind, decoder, sensitive). Scalars carry a ScalarDecoder
# (or None for strings); the rest a CompoundDecoder.
Compiled = tuple[int, Any, bool]


class QueryDecoderCompiler:
    """Compiles Query decoders for one service's shapes, memoised by name.

    A compound decoder is ``decode(flat, parent, name, errors)``: ``flat``
    holds the parameters below this node with its prefix removed
    (``{"member.1.Key": "a"}`` for ``Tags``); ``parent``/``name`` locate the
    node for error messages (see ``validation.node_path``), built only when
    needed.
    """

    def __init__(self) -> None:
        self._memo: dict[str, Compiled] = {}

    def compile(self, shape: Shape) -> Compiled:
        key = shape.name
        found = self._memo.get(key)
        if found is not None:
            return found
        kind = shape.type_name
        sensitive = bool(shape.metadata.get("sensitive"))
        if kind not in ("structure", "list", "map"):
            compiled: Compiled = (_SCALAR, _scalar_decoder(shape), sensitive)
            self._memo[key] = compiled
            return compiled
        # Compound shapes may be recursive: publish a forwarder first.
        cell: list[CompoundDecoder] = []

        def forward(flat: Mapping[str, str], parent: str, name: Any, errors: list[str]) -> Any:
            return cell[0](flat, parent, name, errors)

        code = {"structure": _STRUCT, "list": _LIST, "map": _MAP}[kind]
        self._memo[key] = (code, forward, sensitive)
        if kind == "structure":
            built = self._structure(shape)
        elif kind == "list":
            built = self._list(shape)
        else:
            built = self._map(shape)
        cell.append(built)
        compiled = (code, built, sensitive)
        self._memo[key] = compiled
        return compiled

    def _structure(self, shape: Shape) -> CompoundDecoder:
        # Scalars are looked up by their whole key; compound members by the
        # first dotted part. "Name=" for a list member means an empty list.
        scalars: dict[str, tuple[str, ScalarDecoder | None, str, bool]] = {}
        compounds: dict[str, tuple[str, str, CompoundDecoder]] = {}
        empty_lists: dict[str, str] = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                # QuerySerializer replaces the last name with the member's.
                wire = member.member.serialization.get("name") or wire
            code, decoder, sensitive = self.compile(member)
            if code == _SCALAR:
                scalars[wire] = (name, decoder, display_name(name), sensitive)
            else:
                compounds[wire] = (name, display_name(name), decoder)
                if code == _LIST:
                    empty_lists[wire] = name

        def decode_structure(
            flat: Mapping[str, str], parent: str, here_name: Any, errors: list[str]
        ) -> Any:
            out: dict[str, Any] = {}
            groups: dict[str, dict[str, str]] | None = None
            for key, value in flat.items():
                if "." in key:
                    head, _, rest = key.partition(".")
                    if head not in compounds:
                        continue
                    if groups is None:
                        groups = {head: {rest: value}}
                    else:
                        group = groups.get(head)
                        if group is None:
                            groups[head] = {rest: value}
                        else:
                            group[rest] = value
                    continue
                entry = scalars.get(key)
                if entry is not None:
                    decoder = entry[1]
                    if decoder is None:
                        out[entry[0]] = value
                        continue
                    try:
                        out[entry[0]] = decoder(value)
                    except Malformed as exc:
                        path = node_path(
                            node_path(parent, here_name) if here_name != "" else parent, entry[2]
                        )
                        errors.append(violation(value, path, exc.constraint, sensitive=entry[3]))
                        out[entry[0]] = INVALID
                elif key in empty_lists:
                    out.setdefault(empty_lists[key], [])
                # else: Action, Version, X-Amz-*, unknown names: ignored like AWS
            if groups is not None:
                here = node_path(parent, here_name) if here_name != "" else parent
                for head, group in groups.items():
                    name, display, decode_group = compounds[head]
                    out[name] = decode_group(group, here, display, errors)
            return out

        return decode_structure

    def _list(self, shape: Shape) -> CompoundDecoder:
        flattened = bool(shape.serialization.get("flattened"))
        member_name = shape.member.serialization.get("name", "member")
        code, decoder, sensitive = self.compile(shape.member)
        scalar = code == _SCALAR
        # How many leading parts name the element: "N" or "member.N".
        skip = 1 if flattened else 2
        indexes = _INDEXES

        def decode_list(flat: Mapping[str, str], parent: str, name: Any, errors: list[str]) -> Any:
            items: dict[int, Any] = {}
            bad: list[str] | None = None
            for key, value in flat.items():
                # "member.N" or "member.N.rest" ("N[.rest]" when flattened)
                parts = key.split(".", skip)
                if not flattened and (parts[0] != member_name or len(parts) == 1):
                    continue
                index = indexes.get(parts[skip - 1])
                if index is None:
                    if bad is None:
                        bad = []
                    bad.append(parts[skip - 1])
                    continue
                if scalar:
                    if len(parts) == skip:
                        items[index] = value
                else:
                    group = items.get(index)
                    if group is None:
                        group = items[index] = {}
                    if len(parts) > skip:
                        group[parts[skip]] = value
            here = node_path(parent, name)
            if bad is not None:
                for text in sorted(set(bad)):
                    errors.append(_bad_index(text, here))
            # Index order; gaps close up (botocore never leaves any).
            ordered = [items[i] for i in sorted(items)] if len(items) > 1 else list(items.values())
            if scalar and decoder is None:
                return ordered
            out = []
            position = 0
            for raw in ordered:
                position += 1
                if not scalar:
                    out.append(decoder(raw, here, position, errors))
                    continue
                try:
                    out.append(decoder(raw))
                except Malformed as exc:
                    path = node_path(here, position)
                    errors.append(violation(raw, path, exc.constraint, sensitive=sensitive))
                    out.append(INVALID)
            return out

        return decode_list

    def _map(self, shape: Shape) -> CompoundDecoder:
        flattened = bool(shape.serialization.get("flattened"))
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        key_code, key_decoder, _ = self.compile(shape.key)
        value_code, value_decoder, value_sensitive = self.compile(shape.value)
        if key_code != _SCALAR:
            raise ValueError(f"map keys must be scalars ({shape.name})")

        def decode_map(flat: Mapping[str, str], parent: str, name: Any, errors: list[str]) -> Any:
            here = node_path(parent, name)
            entries: dict[int, dict[str, str]] = {}
            bad: set[str] = set()
            for key, value in flat.items():
                if flattened:
                    index_text, dot, rest = key.partition(".")
                else:
                    head, dot, tail = key.partition(".")
                    if head != "entry" or not dot:
                        continue
                    index_text, dot, rest = tail.partition(".")
                index = _INDEXES.get(index_text)
                if index is None:
                    bad.add(index_text)
                    continue
                if dot:
                    entry = entries.get(index)
                    if entry is None:
                        entry = entries[index] = {}
                    entry[rest] = value
            for text in sorted(bad):
                errors.append(_bad_index(text, here))
            out: dict[Any, Any] = {}
            for position, index in enumerate(sorted(entries), 1):
                entry = entries[index]
                entry_path = f"{here}.{position}"
                raw_key = entry.get(key_name)
                if raw_key is None:
                    errors.append(violation(None, f"{entry_path}.key", "Member must not be null"))
                    continue
                try:
                    key = raw_key if key_decoder is None else key_decoder(raw_key)
                except Malformed as exc:
                    errors.append(violation(raw_key, f"{entry_path}.key", exc.constraint))
                    continue
                if value_code == _SCALAR:
                    raw_value = entry.get(value_name)
                    if raw_value is None:
                        out[key] = None
                    elif value_decoder is None:
                        out[key] = raw_value
                    else:
                        try:
                            out[key] = value_decoder(raw_value)
                        except Malformed as exc:
                            errors.append(
                                violation(
                                    raw_value,
                                    f"{entry_path}.value",
                                    exc.constraint,
                                    sensitive=value_sensitive,
                                )
                            )
                            out[key] = INVALID
                else:
                    prefix = value_name + "."
                    sub = {k[len(prefix) :]: v for k, v in entry.items() if k.startswith(prefix)}
                    out[key] = value_decoder(sub, entry_path, "value", errors)
            return out

        return decode_map
