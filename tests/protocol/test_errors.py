"""Error envelopes, parsed by botocore into the right Code and Message."""

from __future__ import annotations

import json

import pytest
from botocore.parsers import create_parser

from rolegate.errors import (
    AccessDenied,
    AwsError,
    InternalFailure,
    MalformedPolicyDocument,
    NoSuchEntity,
)
from rolegate.protocol import encode_error, get_service


@pytest.mark.parametrize(
    ("service", "err"),
    [
        ("sts", AccessDenied("User: arn:aws:iam::1:user/u is not authorized <&>")),
        ("sts", MalformedPolicyDocument("bad policy")),
        ("iam", NoSuchEntity("The role with name r cannot be found.")),
        ("iam", InternalFailure("boom")),
    ],
)
def test_query_errors_parse_in_botocore(service: str, err: AwsError) -> None:
    status, content_type, body = encode_error(service, err, "req-9")
    assert status == err.status
    assert content_type == "text/xml"
    kind = "Sender" if err.status < 500 else "Receiver"
    assert f"<Type>{kind}</Type>".encode() in body
    assert body.startswith(
        f'<ErrorResponse xmlns="{get_service(service).namespace}"><Error>'.encode()
    )
    op = get_service(service).model.operation_model("AssumeRole" if service == "sts" else "GetRole")
    parsed = create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": status}, op.output_shape
    )
    assert parsed["Error"]["Code"] == err.code
    assert parsed["Error"]["Message"] == err.message
    assert parsed["ResponseMetadata"]["RequestId"] == "req-9"


def test_error_before_routing_uses_a_query_envelope() -> None:
    status, content_type, body = encode_error(None, AccessDenied("no"), "r")
    assert (status, content_type) == (403, "text/xml")
    assert b"<Code>AccessDenied</Code>" in body


def test_json_errors_parse_in_botocore() -> None:
    err = AwsError("You don't have permissions.", code="AccessDeniedException", status=403)
    status, content_type, body = encode_error("organizations", err, "req-1")
    assert (status, content_type) == (403, "application/x-amz-json-1.1")
    assert json.loads(body) == {"__type": "AccessDeniedException", "message": err.message}
    op = get_service("organizations").model.operation_model("DescribeOrganization")
    parsed = create_parser("json").parse(
        {"body": body, "headers": {"x-amzn-requestid": "req-1"}, "status_code": status},
        op.output_shape,
    )
    assert parsed["Error"] == {"Code": "AccessDeniedException", "Message": err.message}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"
