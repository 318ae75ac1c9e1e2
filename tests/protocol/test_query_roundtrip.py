"""Round trips against botocore itself.

Requests: boto3-shaped input -> botocore QuerySerializer -> form body ->
parse_form -> decode_request must give the input back, for every STS and
IAM operation. Responses: output dict -> encode_response -> botocore
QueryParser (plus IAM's policy-document handler) must give the output back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSRequest
from botocore.handlers import json_decode_policies
from botocore.model import Shape
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegate.protocol import decode_request, encode_response, get_service, parse_form

from .strategies import strategy_for

QUERY_OPS = [
    (service, op)
    for service in ("sts", "iam")
    for op in sorted(get_service(service).operation_names)
]
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def serialize_query(service: str, action: str, params: dict[str, Any]) -> bytes:
    """The exact body botocore would send for these parameters."""
    model = get_service(service).model.operation_model(action)
    request = create_serializer("query", include_validation=False).serialize_to_request(
        params, model
    )
    prepared = AWSRequest(method="POST", url="https://example/", data=request["body"]).prepare()
    body = prepared.body
    return body.encode() if isinstance(body, str) else body


def parse_query_response(service: str, action: str, body: bytes, status: int = 200) -> dict:
    model = get_service(service).model.operation_model(action)
    parsed = create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": status}, model.output_shape
    )
    if service == "iam":
        json_decode_policies(parsed, model)  # what boto3 runs after every IAM call
    return parsed


def _as_handler_output(value: Any, shape: Shape) -> Any:
    """Generated policy documents are dicts; handlers return them as JSON text."""
    kind = shape.type_name
    if kind == "string" and shape.name == "policyDocumentType":
        return json.dumps(value)
    if kind == "structure":
        return {k: _as_handler_output(v, shape.members[k]) for k, v in value.items()}
    if kind == "list":
        return [_as_handler_output(v, shape.member) for v in value]
    if kind == "map":
        return {k: _as_handler_output(v, shape.value) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("service", "action"), QUERY_OPS)
@SETTINGS
@given(data=st.data())
def test_request_round_trip(service: str, action: str, data: st.DataObject) -> None:
    shape = get_service(service).model.operation_model(action).input_shape
    params = data.draw(strategy_for(shape)) if shape is not None else {}
    body = serialize_query(service, action, params)
    decoded = decode_request(service, action, dict(parse_form(body)), validate=False)
    assert decoded == params


@pytest.mark.parametrize(("service", "action"), QUERY_OPS)
@SETTINGS
@given(data=st.data())
def test_response_round_trip(service: str, action: str, data: st.DataObject) -> None:
    shape = get_service(service).model.operation_model(action).output_shape
    result = data.draw(strategy_for(shape, output=True)) if shape is not None else None
    handler_result = _as_handler_output(result, shape) if shape is not None else None
    body = encode_response(service, action, handler_result, "req-1")
    parsed = parse_query_response(service, action, body)
    assert parsed.pop("ResponseMetadata")["RequestId"] == "req-1"
    assert parsed == (result or {})


def test_assume_role_wire_example() -> None:
    """The request boto3 1.44.8 was observed sending (reference §1.1)."""
    body = (
        b"Action=AssumeRole&Version=2011-06-15"
        b"&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=ss"
        b"&Tags.member.1.Key=a&Tags.member.1.Value=b&TransitiveTagKeys.member.1=a"
        b"&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fp"
        b"&DurationSeconds=900"
    )
    assert decode_request("sts", "AssumeRole", dict(parse_form(body))) == {
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "RoleSessionName": "ss",
        "Tags": [{"Key": "a", "Value": "b"}],
        "TransitiveTagKeys": ["a"],
        "PolicyArns": [{"arn": "arn:aws:iam::123456789012:policy/p"}],
        "DurationSeconds": 900,
    }


def test_empty_list_and_unknown_params() -> None:
    params = {"Action": "UntagRole", "RoleName": "r", "TagKeys": "", "Bogus.member.1": "x"}
    assert decode_request("iam", "UntagRole", params) == {"RoleName": "r", "TagKeys": []}


def test_assume_role_response_xml_shape() -> None:
    result = {
        "Credentials": {
            "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
            "SecretAccessKey": "secret",
            "SessionToken": "tok+/=",
            "Expiration": datetime(2026, 11, 28, 2, 21, 55, tzinfo=UTC),
        },
        "AssumedRoleUser": {
            "AssumedRoleId": "AROA3XFRBF535EXAMPLE:John",
            "Arn": "arn:aws:sts::123456789012:assumed-role/demo/John",
        },
        "PackedPolicySize": 6,
        "SourceIdentity": "DevUser123",
    }
    body = encode_response("sts", "AssumeRole", result, "c6104cbe")
    text = body.decode()
    assert text.startswith(
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
    )
    assert "<Expiration>2026-11-28T02:21:55Z</Expiration>" in text
    assert text.endswith(
        "</AssumeRoleResult><ResponseMetadata><RequestId>c6104cbe</RequestId>"
        "</ResponseMetadata></AssumeRoleResponse>"
    )
    parsed = parse_query_response("sts", "AssumeRole", body)
    parsed.pop("ResponseMetadata")
    assert parsed == result


def test_no_output_operation_renders_only_metadata() -> None:
    body = encode_response("iam", "DeleteRole", None, "rid")
    assert body == (
        b'<DeleteRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        b"<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteRoleResponse>"
    )
    parsed = parse_query_response("iam", "DeleteRole", body)
    assert parsed.pop("ResponseMetadata")["RequestId"] == "rid"
    assert parsed == {}


def test_policy_documents_are_url_encoded() -> None:
    doc = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}'
    result = {"RoleName": "r", "PolicyName": "p", "PolicyDocument": doc}
    body = encode_response("iam", "GetRolePolicy", result, "rid")
    assert b"<PolicyDocument>%7B%22Version%22%3A%20%222012-10-17%22" in body
    parsed = parse_query_response("iam", "GetRolePolicy", body)
    assert parsed["PolicyDocument"] == json.loads(doc)


def test_nested_policy_documents_in_lists_are_url_encoded() -> None:
    doc = '{"Version":"2012-10-17"}'
    result = {
        "RoleDetailList": [
            {
                "RoleName": "r",
                "AssumeRolePolicyDocument": doc,
                "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": doc}],
            }
        ],
        "IsTruncated": False,
    }
    body = encode_response("iam", "GetAccountAuthorizationDetails", result, "rid")
    assert b"{" not in body
    parsed = parse_query_response("iam", "GetAccountAuthorizationDetails", body)
    role = parsed["RoleDetailList"][0]
    assert role["AssumeRolePolicyDocument"] == {"Version": "2012-10-17"}
    assert role["RolePolicyList"][0]["PolicyDocument"] == {"Version": "2012-10-17"}


def test_text_escaping_and_carriage_returns_survive() -> None:
    result = {
        "User": {
            "UserName": "u",
            "Path": "/",
            "UserId": "AIDA",
            "Arn": "a<&>\r\n\x01b",
            "CreateDate": datetime(2020, 1, 1, 0, 0, 0, 123000, tzinfo=UTC),
        }
    }
    body = encode_response("iam", "GetUser", result, "rid")
    parsed = parse_query_response("iam", "GetUser", body)
    assert parsed["User"]["Arn"] == "a<&>\r\n\ufffdb"  # C0 controls cannot be XML 1.0
    assert parsed["User"]["CreateDate"] == result["User"]["CreateDate"]
    assert b"2020-01-01T00:00:00.123Z" in body


def test_unknown_result_keys_and_none_are_omitted() -> None:
    body = encode_response(
        "sts", "GetCallerIdentity", {"Account": "1", "UserId": None, "Junk": "x"}, "r"
    )
    assert b"Junk" not in body and b"UserId" not in body
    assert b"<Account>1</Account>" in body


def test_get_request_query_string() -> None:
    from rolegate.protocol import parse_query_string

    pairs = parse_query_string("Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Date=1")
    assert decode_request("sts", "GetCallerIdentity", dict(pairs)) == {}
