"""The AWS wire protocols rolegate speaks: Query (STS, IAM) and JSON 1.1
(Organizations), driven by botocore's service models.

Requests come in as form bodies or JSON and leave as boto3-shaped dicts;
results go back out as XML or JSON; :class:`rolegate.errors.AwsError` becomes
the service's error envelope. Nothing here does I/O.
"""

from rolegate.protocol.codec import (
    decode_json_request,
    decode_request,
    encode_error,
    encode_json_response,
    encode_response,
)
from rolegate.protocol.form import parse_form, parse_query_string
from rolegate.protocol.models import OperationSpec, ServiceSpec, get_service

__all__ = [
    "OperationSpec",
    "ServiceSpec",
    "decode_json_request",
    "decode_request",
    "encode_error",
    "encode_json_response",
    "encode_response",
    "get_service",
    "parse_form",
    "parse_query_string",
]
