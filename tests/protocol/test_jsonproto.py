"""Organizations (JSON 1.1) round trips against botocore's JSONSerializer/JSONParser."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegate.errors import AwsError
from rolegate.protocol import decode_json_request, encode_error, encode_json_response, get_service

from .strategies import strategy_for

ORG_OPS = sorted(get_service("organizations").operation_names)
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def serialize_json(action: str, params: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    model = get_service("organizations").model.operation_model(action)
    request = create_serializer("json", include_validation=False).serialize_to_request(
        params, model
    )
    return request["headers"], request["body"]


@pytest.mark.parametrize("action", ORG_OPS)
@SETTINGS
@given(data=st.data())
def test_request_round_trip(action: str, data: st.DataObject) -> None:
    shape = get_service("organizations").model.operation_model(action).input_shape
    params = data.draw(strategy_for(shape, whole_seconds=True)) if shape is not None else {}
    headers, body = serialize_json(action, params)
    assert headers["X-Amz-Target"] == f"AWSOrganizationsV20161128.{action}"
    assert decode_json_request("organizations", action, body, validate=False) == params


@pytest.mark.parametrize("action", ORG_OPS)
@SETTINGS
@given(data=st.data())
def test_response_round_trip(action: str, data: st.DataObject) -> None:
    op = get_service("organizations").model.operation_model(action)
    shape = op.output_shape
    result = data.draw(strategy_for(shape, output=True)) if shape is not None else None
    body = encode_json_response("organizations", action, result)
    parsed = create_parser("json").parse(
        {"body": body, "headers": {"x-amzn-requestid": "r"}, "status_code": 200}, shape
    )
    parsed.pop("ResponseMetadata", None)
    assert parsed == (result or {})


def test_organizations_constraint_violations_are_invalid_input() -> None:
    # As AWS answers DescribeAccount with a malformed AccountId (observed:
    # "InvalidInputException ... You provided a value that does not match the
    # required pattern."), with the model's Reason code beside the message.
    body = json.dumps({"AccountId": "12"}).encode()
    with pytest.raises(AwsError) as info:
        decode_json_request("organizations", "DescribeAccount", body)
    assert info.value.code == "InvalidInputException"
    assert info.value.status == 400
    assert info.value.message == "You provided a value that does not match the required pattern."
    assert info.value.fields == {"Reason": "INVALID_PATTERN"}
    status, _, out = encode_error("organizations", info.value, "rid")
    assert status == 400
    assert json.loads(out) == {
        "__type": "InvalidInputException",
        "message": "You provided a value that does not match the required pattern.",
        "Reason": "INVALID_PATTERN",
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "INPUT_REQUIRED"),
        ({"AccountId": "1" * 13}, "MAX_LENGTH_EXCEEDED"),
        ({"AccountId": "12345678901x"}, "INVALID_PATTERN"),
    ],
)
def test_organizations_reasons(body: dict[str, str], reason: str) -> None:
    with pytest.raises(AwsError) as info:
        decode_json_request("organizations", "DescribeAccount", json.dumps(body).encode())
    assert info.value.fields == {"Reason": reason}


def test_list_accounts_max_results_over_the_limit() -> None:
    with pytest.raises(AwsError) as info:
        decode_json_request("organizations", "ListAccounts", b'{"MaxResults": 21}')
    assert (info.value.code, info.value.fields) == (
        "InvalidInputException",
        {"Reason": "MAX_VALUE_EXCEEDED"},
    )


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b"\xff", b'{"AccountId": 5}', b"1", b'{"AccountId": ["x"]}'],
)
def test_bad_json_is_a_serialization_exception(body: bytes) -> None:
    with pytest.raises(AwsError) as info:
        decode_json_request("organizations", "DescribeAccount", body)
    assert info.value.code in ("SerializationException",)
    assert info.value.status == 400


def test_empty_body_means_no_parameters() -> None:
    assert decode_json_request("organizations", "DescribeOrganization", b"") == {}


def test_unknown_operation() -> None:
    with pytest.raises(AwsError) as info:
        decode_json_request("organizations", "Nope", b"{}")
    assert info.value.code == "UnknownOperationException"


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=120)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["AccountId", "Tags", "Key", "Value", "Name", "ParentId", "x"]),
                inner,
                max_size=3,
            )
        ),
        max_leaves=10,
    ).map(lambda v: json.dumps(v).encode())
)
def test_any_body_decodes_or_raises_aws_error(body: bytes) -> None:
    for action in ("CreateOrganizationalUnit", "TagResource", "DescribeAccount"):
        try:
            decode_json_request("organizations", action, body)
        except AwsError as exc:
            assert exc.status == 400
