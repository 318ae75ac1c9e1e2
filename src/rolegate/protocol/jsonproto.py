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
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.model import Shape

from rolegate.errors import AwsError
from rolegate.protocol.validation import display_name, join_path, raise_validation
from rolegate.protocol.xml import as_utc

if TYPE_CHECKING:
    from rolegate.protocol.models import ServiceSpec

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


def decode_json_request(
    service: str | ServiceSpec, action: str, body: bytes, *, validate: bool = True
) -> dict[str, Any]:
    """Decode a JSON 1.1 request body for ``action`` into boto3's input dict.

    An empty body counts as ``{}``. Raises ``SerializationException`` (400)
    for a body that is not a JSON object or a member of the wrong type, and
    ``ValidationError`` with code ``ValidationException`` for constraints.
    """
    from rolegate.protocol.models import get_service

    spec = get_service(service) if isinstance(service, str) else service
    op = spec.operation(action)
    if not body.strip():
        document: Any = {}
    else:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise AwsError(
                "The request body is not valid JSON", code=SERIALIZATION_CODE, status=400
            ) from None
    if not isinstance(document, dict):
        raise AwsError(
            "The request body must be a JSON object", code=SERIALIZATION_CODE, status=400
        )
    if op.json_decoder is None:
        return {}
    try:
        result: dict[str, Any] = op.json_decoder(document, "")
    except RecursionError:
        raise AwsError(
            "The request is nested too deeply", code=SERIALIZATION_CODE, status=400
        ) from None
    if validate and op.validator is not None:
        errors: list[str] = []
        op.validator(result, "", "", errors)
        if errors and spec.name in _INPUT_ERROR_SERVICES:
            raise input_error(errors[0])
        raise_validation(errors, code=VALIDATION_CODE)
    return result


# Organizations answers a constraint violation with InvalidInputException,
# a Reason code and the model's text for that reason, not with the generic
# ValidationException (observed: DescribeAccount with a malformed AccountId:
# "InvalidInputException ... You provided a value that does not match the
# required pattern.").
_INPUT_ERROR_SERVICES = frozenset({"organizations"})
_INPUT_REASONS = (
    (
        "Member must not be null",
        "INPUT_REQUIRED",
        "You must include a value for all required parameters.",
    ),
    (
        "Member must have length greater",
        "MIN_LENGTH_EXCEEDED",
        "You provided a string parameter that is shorter than allowed.",
    ),
    (
        "Member must have length less",
        "MAX_LENGTH_EXCEEDED",
        "You provided a string parameter that is longer than allowed.",
    ),
    (
        "Member must have value greater",
        "MIN_VALUE_EXCEEDED",
        "You provided a numeric parameter that has a smaller value than allowed.",
    ),
    (
        "Member must have value less",
        "MAX_VALUE_EXCEEDED",
        "You provided a numeric parameter that has a larger value than allowed.",
    ),
    ("Member must satisfy enum value set", "INVALID_ENUM", "You specified an invalid value."),
    (
        "Member must satisfy regular expression pattern",
        "INVALID_PATTERN",
        "You provided a value that does not match the required pattern.",
    ),
)


def input_error(violation: str) -> AwsError:
    """Organizations' ``InvalidInputException`` for one constraint violation."""
    reason, message = next(
        ((r, m) for needle, r, m in _INPUT_REASONS if needle in violation),
        ("INVALID_INPUT", "You provided invalid values for one or more of the request parameters."),
    )
    err = AwsError(message, code="InvalidInputException", status=400)
    err.fields = {"Reason": reason}
    return err


def encode_json_response(
    service: str | ServiceSpec, action: str, result: dict[str, Any] | None
) -> bytes:
    """Render ``result`` as the JSON 1.1 response body (``{}`` when no output)."""
    from rolegate.protocol.models import get_service

    spec = get_service(service) if isinstance(service, str) else service
    op = spec.operation(action)
    if op.json_encoder is None or not result:
        return b"{}"
    return json.dumps(op.json_encoder(result), separators=(",", ":")).encode("utf-8")
