"""AWS JSON 1.1 protocol (Organizations): ``X-Amz-Target: <prefix>.<Op>``.

The inverse of botocore's JSONSerializer and the input of its JSONParser:
members by name (or ``locationName``), timestamps as epoch seconds, blobs as
base64. A body that is not JSON or has a member of the wrong JSON type is a
``SerializationException``, as AWS's JSON services answer; constraint
violations are ``ValidationException`` with the Coral message format.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape

from rolegate.errors import AwsError
from rolegate.protocol.validation import display_name, join_path
from rolegate.protocol.xml import as_utc

SERIALIZATION_CODE = "SerializationException"
VALIDATION_CODE = "ValidationException"

# (json value, message path) -> python value; raises SerializationException.
JsonDecoder = Callable[[Any, str], Any]
# python value -> json-ready value
JsonEncoder = Callable[[Any], Any]


def _serialization_error(path: str, expected: str) -> AwsError:
    where = f" at '{path}'" if path else ""
    return AwsError(f"Expected {expected}{where}", code=SERIALIZATION_CODE, status=400)


def _identity(value: Any) -> Any:
    return value


class JsonCompiler:
    """Compiles JSON decoders and encoders for one service, memoised by name."""

    def __init__(self) -> None:
        self._decoders: dict[str, JsonDecoder] = {}
        self._encoders: dict[str, JsonEncoder] = {}

    # -- decoding -----------------------------------------------------------

    def decoder(self, shape: Shape) -> JsonDecoder:
        key = shape.name
        found = self._decoders.get(key)
        if found is not None:
            return found
        cell: list[JsonDecoder] = []
        self._decoders[key] = lambda value, path: cell[0](value, path)
        built = self._build_decoder(shape)
        cell.append(built)
        self._decoders[key] = built
        return built

    def _build_decoder(self, shape: Shape) -> JsonDecoder:
        kind = shape.type_name
        if kind == "structure":
            members = tuple(
                (
                    member.serialization.get("name", name),
                    name,
                    display_name(name),
                    self.decoder(member),
                )
                for name, member in shape.members.items()
            )

            def decode_structure(value: Any, path: str) -> Any:
                if not isinstance(value, dict):
                    raise _serialization_error(path, "a structure")
                out = {}
                for wire, name, display, decode in members:
                    v = value.get(wire)
                    if v is not None:
                        out[name] = decode(v, join_path(path, display))
                return out

            return decode_structure
        if kind == "list":
            element = self.decoder(shape.member)

            def decode_list(value: Any, path: str) -> Any:
                if not isinstance(value, list):
                    raise _serialization_error(path, "a list")
                return [
                    None if item is None else element(item, f"{path}.{i}.member")
                    for i, item in enumerate(value, 1)
                ]

            return decode_list
        if kind == "map":
            key_decoder = self.decoder(shape.key)
            value_decoder = self.decoder(shape.value)

            def decode_map(value: Any, path: str) -> Any:
                if not isinstance(value, dict):
                    raise _serialization_error(path, "a map")
                return {
                    key_decoder(k, path): None if v is None else value_decoder(v, f"{path}.{k}")
                    for k, v in value.items()
                }

            return decode_map
        if kind == "string":

            def decode_string(value: Any, path: str) -> Any:
                if not isinstance(value, str):
                    raise _serialization_error(path, "a string")
                return value

            return decode_string
        if kind == "boolean":

            def decode_boolean(value: Any, path: str) -> Any:
                if not isinstance(value, bool):
                    raise _serialization_error(path, "a boolean")
                return value

            return decode_boolean
        if kind in ("integer", "long"):
            bits = 31 if kind == "integer" else 63

            def decode_integer(value: Any, path: str) -> Any:
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                if (
                    not isinstance(value, int)
                    or isinstance(value, bool)
                    or not -(2**bits) <= value < 2**bits
                ):
                    raise _serialization_error(path, f"a {kind}")
                return value

            return decode_integer
        if kind in ("float", "double"):

            def decode_float(value: Any, path: str) -> Any:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise _serialization_error(path, "a number")
                return float(value)

            return decode_float
        if kind == "timestamp":

            def decode_timestamp(value: Any, path: str) -> Any:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise _serialization_error(path, "a timestamp in epoch seconds")
                try:
                    if not math.isfinite(value):
                        raise ValueError(value)
                    return datetime.fromtimestamp(value, UTC)
                except (ValueError, OverflowError, OSError):
                    raise _serialization_error(path, "a timestamp in epoch seconds") from None

            return decode_timestamp
        if kind == "blob":

            def decode_blob(value: Any, path: str) -> Any:
                if not isinstance(value, str):
                    raise _serialization_error(path, "base64 text")
                try:
                    return base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    raise _serialization_error(path, "base64 text") from None

            return decode_blob
        raise ValueError(f"unsupported shape type {kind!r} ({shape.name})")

    # -- encoding -----------------------------------------------------------

    def encoder(self, shape: Shape) -> JsonEncoder:
        key = shape.name
        found = self._encoders.get(key)
        if found is not None:
            return found
        cell: list[JsonEncoder] = []
        self._encoders[key] = lambda value: cell[0](value)
        built = self._build_encoder(shape)
        cell.append(built)
        self._encoders[key] = built
        return built

    def _build_encoder(self, shape: Shape) -> JsonEncoder:
        kind = shape.type_name
        if kind == "structure":
            members = tuple(
                (name, member.serialization.get("name", name), self.encoder(member))
                for name, member in shape.members.items()
            )

            def encode_structure(value: Any) -> Any:
                out = {}
                get = value.get
                for name, wire, encode in members:
                    v = get(name)
                    if v is not None:
                        out[wire] = encode(v)
                return out

            return encode_structure
        if kind == "list":
            element = self.encoder(shape.member)
            return lambda value: [element(item) for item in value]
        if kind == "map":
            value_encoder = self.encoder(shape.value)
            return lambda value: {str(k): value_encoder(v) for k, v in value.items()}
        if kind == "timestamp":
            return lambda value: as_utc(value).timestamp()
        if kind == "blob":
            return lambda value: base64.b64encode(
                value.encode("utf-8") if isinstance(value, str) else value
            ).decode("ascii")
        if kind == "boolean":
            return bool
        if kind in ("integer", "long"):
            return int
        if kind in ("float", "double"):
            return float
        return _identity
