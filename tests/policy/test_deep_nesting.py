"""Deeply nested documents: refused as AWS's syntax error, never a RecursionError (a 500)."""

from __future__ import annotations

import json

import pytest

from rolegate.errors import MalformedPolicyDocument
from rolegate.policy import PolicyKind, compile_cached, parse_policy
from rolegate.policy.cli import main
from rolegate.policy.document import SYNTAX_MSG
from rolegate.policy.jsontext import MAX_DEPTH, PolicyJsonTooDeep, check_depth, loads

HEAD = '{"Version":"2012-10-17","Statement":'


def nested_statement(depth: int) -> str:
    return HEAD + "[" * depth + "]" * depth + "}"


def nested_condition(depth: int) -> str:
    value = "[" * depth + '"v"' + "]" * depth
    return (
        HEAD + '[{"Effect":"Allow","Action":"*","Resource":"*",'
        '"Condition":{"StringEquals":{"k":' + value + "}}}]}"
    )


def nested_principal(depth: int) -> str:
    value = '{"AWS":' * depth + '"*"' + "}" * depth
    return HEAD + '[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":' + value + "}]}"


DEPTHS = [40, 900, 1_000, 5_000, 15_000]  # 15,000 levels still fit MAX_DOCUMENT_CHARS
KINDS = list(PolicyKind)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("build", [nested_statement, nested_condition, nested_principal])
def test_deep_text_is_a_syntax_error(kind, depth, build):
    with pytest.raises(MalformedPolicyDocument) as e:
        parse_policy(build(depth), kind)
    assert e.value.message == SYNTAX_MSG
    assert e.value.code == "MalformedPolicyDocument" and e.value.status == 400


@pytest.mark.parametrize("kind", KINDS)
def test_deep_bytes_and_compile_cached(kind):
    with pytest.raises(MalformedPolicyDocument):
        parse_policy(nested_statement(5_000).encode(), kind)
    with pytest.raises(MalformedPolicyDocument):
        compile_cached(nested_condition(5_000), kind, "p", "user")


def deep_mapping(depth: int) -> dict:
    value: object = "v"
    for _ in range(depth):
        value = [value]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"k": value}},
            }
        ],
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("depth", [40, 5_000])
def test_deep_mapping_is_a_syntax_error(kind, depth):
    with pytest.raises(MalformedPolicyDocument) as e:
        parse_policy(deep_mapping(depth), kind)
    assert e.value.message == SYNTAX_MSG


def test_ordinary_depths_still_parse():
    ok = deep_mapping(0)
    ok["Statement"][0]["Condition"]["StringEquals"]["k"] = ["a", "b"]
    assert parse_policy(ok, PolicyKind.IDENTITY).statements[0].conditions[0].values == ("a", "b")
    assert parse_policy(json.dumps(ok), PolicyKind.IDENTITY)


def test_loads_and_check_depth_are_iterative():
    text = "[" * 50_000 + "]" * 50_000
    with pytest.raises(PolicyJsonTooDeep):
        loads(text)
    assert isinstance(PolicyJsonTooDeep(MAX_DEPTH), ValueError)
    value: list = []
    for _ in range(100_000):  # deeper than any recursion limit
        value = [value]
    with pytest.raises(PolicyJsonTooDeep):
        check_depth(value)
    check_depth([[["x"]]], 3)
    with pytest.raises(PolicyJsonTooDeep):
        check_depth([[["x"]]], 2)
    assert loads('{"a": [1, {"b": "[[[["}]}') == {"a": [1, {"b": "[[[["}]}


def test_cli_refuses_deep_case_and_deep_policy(tmp_path, capsys):
    deep_case = tmp_path / "case.json"
    deep_case.write_text('{"policies":' + "[" * 5_000 + "]" * 5_000 + "}")
    assert main(["evaluate", str(deep_case)]) == 1
    assert "nested" in capsys.readouterr().err
    case = {
        "policies": {"identity": [deep_mapping(20)]},
        "request": {"principal": "p", "action": "s3:GetObject", "resource": "*"},
    }
    deep_case.write_text(json.dumps(case))
    assert main(["evaluate", str(deep_case)]) == 1
    assert capsys.readouterr().err.strip() == SYNTAX_MSG
    deep_policy = tmp_path / "policy.json"
    deep_policy.write_text(nested_condition(5_000))
    assert main(["validate", str(deep_policy)]) == 1
    assert SYNTAX_MSG in capsys.readouterr().out
