"""One request decoded and one response or error encoded, by service and
action: the entry points over the codecs ``models`` compiles (Query decoder,
JSON decoder, validator, XML and JSON encoders) for every operation.

Kept apart from ``query``, ``jsonproto`` and ``xml``, which hold the
compilers ``models`` imports, so that nothing here is imported back by them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rolegate import jsonsafe
from rolegate.errors import AwsError
from rolegate.protocol.jsonproto import SERIALIZATION_CODE, VALIDATION_CODE
from rolegate.protocol.models import ServiceSpec, get_service
from rolegate.protocol.validation import raise_validation
from rolegate.protocol.xml import xml_text

# --------------------------------------------------------------------------- Query


def decode_request(
    service: str | ServiceSpec,
    action: str,
    params: Mapping[str, str],
    *,
    validate: bool = True,
) -> dict[str, Any]:
    """Decode the flat Query parameters of ``action`` into boto3's input dict.

    ``params`` is the request's ``name -> value`` mapping (``dict(parse_form(body))``:
    the last of repeated names wins). Unknown parameters, ``Action`` and
    ``Version`` are ignored. Raises ``InvalidAction`` for an action the
    service does not have and one ``ValidationError`` listing every
    malformed or constraint-violating member, worded as AWS words it.
    ``validate=False`` skips the model constraints (type errors still raise).
    """
    spec = get_service(service) if isinstance(service, str) else service
    op = spec.operation(action)
    if op.query_decoder is None:
        return {}
    errors: list[str] = []
    result: dict[str, Any] = op.query_decoder(params, "", "", errors)
    if validate and op.validator is not None:
        # Type errors come first, then the constraints of what did decode.
        op.validator(result, "", "", errors)
    raise_validation(errors)
    return result


# --------------------------------------------------------------------------- JSON 1.1


def decode_json_request(
    service: str | ServiceSpec, action: str, body: bytes, *, validate: bool = True
) -> dict[str, Any]:
    """Decode a JSON 1.1 request body for ``action`` into boto3's input dict.

    An empty body counts as ``{}``. Raises ``SerializationException`` (400)
    for a body that is not a JSON object or a member of the wrong type, and
    ``ValidationError`` with code ``ValidationException`` for constraints.
    """
    spec = get_service(service) if isinstance(service, str) else service
    op = spec.operation(action)
    if not body.strip():
        document: Any = {}
    else:
        try:
            # jsonsafe: nesting bounded, and no lone surrogate in any string
            # (it would parse, then break whatever first encodes it: the
            # store, a token, the audit trail).
            document = jsonsafe.loads(body)
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
    spec = get_service(service) if isinstance(service, str) else service
    op = spec.operation(action)
    if op.json_encoder is None or not result:
        return b"{}"
    return json.dumps(op.json_encoder(result), separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- XML and errors


def encode_response(
    service: str | ServiceSpec, action: str, result: dict[str, Any] | None, request_id: str
) -> bytes:
    """Render ``action``'s boto3-shaped ``result`` as the Query XML response.

    Members are written in model order; absent (or None) members and keys the
    model does not know are left out. Operations without an output shape
    render only ``ResponseMetadata``.
    """
    spec = get_service(service) if isinstance(service, str) else service
    op = spec.operation(action)
    out = [op.xml_open]
    if op.xml_encoder is not None:
        if result:
            op.xml_encoder(result, out)
        out.append(op.xml_result_close)
    out.append(xml_text(request_id))
    out.append(op.xml_close)
    return "".join(out).encode("utf-8")


QUERY_ERROR_CONTENT_TYPE = "text/xml"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
# When no service is known yet (the request could not be routed), errors use
# STS's envelope: botocore only reads Code and Message from it.
_FALLBACK_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"


def encode_error(
    service: str | ServiceSpec | None, err: AwsError, request_id: str
) -> tuple[int, str, bytes]:
    """``(status, content_type, body)`` for an AwsError in the service's protocol.

    Query (STS, IAM): ``<ErrorResponse>`` with ``Type`` Sender (4xx) or
    Receiver (5xx). JSON 1.1 (Organizations): ``{"__type", "message"}``; the
    caller also sends the request id as the ``x-amzn-RequestId`` header.
    """
    spec = get_service(service) if isinstance(service, str) else service
    if spec is not None and spec.protocol == "json":
        doc = {"__type": err.code, "message": err.message}
        if err.fields:
            doc.update(err.fields)
        body = json.dumps(doc).encode("utf-8")
        return err.status, JSON_CONTENT_TYPE, body
    namespace = spec.namespace if spec is not None and spec.namespace else _FALLBACK_NAMESPACE
    kind = "Sender" if err.status < 500 else "Receiver"
    body_text = (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type>'
        f"<Code>{xml_text(err.code)}</Code><Message>{xml_text(err.message)}</Message></Error>"
        f"<RequestId>{xml_text(request_id)}</RequestId></ErrorResponse>"
    )
    return err.status, QUERY_ERROR_CONTENT_TYPE, body_text.encode("utf-8")
