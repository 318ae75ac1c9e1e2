"""Each operator family, IfExists, set qualifiers, missing keys and empty sets."""

import pytest

from rolegate.policy.conditions import OPERATORS, parse_date, split_operator

from .helpers import cond_allows

K = "test:Key"

# (operator, policy values, request value (None = absent), expected)
TABLE = [
    # strings
    ("StringEquals", "abc", "abc", True),
    ("StringEquals", "abc", "ABC", False),
    ("StringEquals", ["x", "abc"], "abc", True),
    ("StringEquals", "a*", "abc", False),
    ("StringEquals", "abc", None, False),
    ("StringNotEquals", "abc", "abd", True),
    ("StringNotEquals", ["abc", "abd"], "abd", False),
    ("StringNotEquals", "abc", None, True),
    ("StringEqualsIgnoreCase", "ABC", "abc", True),
    ("StringEqualsIgnoreCase", "ABC", "abd", False),
    ("StringNotEqualsIgnoreCase", "ABC", "abc", False),
    ("StringNotEqualsIgnoreCase", "ABC", None, True),
    ("StringLike", "a*c", "abbbc", True),
    ("StringLike", "a?c", "abc", True),
    ("StringLike", "a?c", "abbc", False),
    ("StringLike", "A*", "abc", False),
    ("StringLike", "a*", None, False),
    ("StringLike", "", "", True),
    ("StringNotLike", "a*", "bcd", True),
    ("StringNotLike", "a*", "abc", False),
    ("StringNotLike", "a*", None, True),
    # numbers
    ("NumericEquals", "10", "10.0", True),
    ("NumericEquals", "10", "11", False),
    ("NumericNotEquals", "10", "11", True),
    ("NumericNotEquals", "10", None, True),
    ("NumericLessThan", "10", "9.99", True),
    ("NumericLessThan", "10", "10", False),
    ("NumericLessThanEquals", "10", "10", True),
    ("NumericGreaterThan", "1.5", "2.25", True),
    ("NumericGreaterThan", "1.5", "1.5", False),
    ("NumericGreaterThanEquals", "-3", "-3", True),
    ("NumericLessThan", "10", "not-a-number", False),
    ("NumericLessThan", "10", None, False),
    ("NumericEquals", ["1", "2"], "2", True),
    # dates: ISO 8601 and epoch on either side
    ("DateLessThan", "2020-01-01T00:00:00Z", "2019-12-31T23:59:59Z", True),
    ("DateLessThan", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", False),
    ("DateLessThanEquals", "2020-01-01T00:00:00Z", "1577836800", True),
    ("DateGreaterThan", "1577836800", "2020-01-01T00:00:01Z", True),
    ("DateGreaterThanEquals", "2020-01-01", "2020-01-01T00:00:00+00:00", True),
    ("DateEquals", "2020-01-01T01:00:00+01:00", "2020-01-01T00:00:00Z", True),
    ("DateNotEquals", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z", True),
    ("DateNotEquals", "2020-01-01T00:00:00Z", None, True),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", None, False),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", "garbage", False),
    ("DateLessThan", "2020-01-01T00:00:00.500Z", "2020-01-01T00:00:00.250Z", True),
    # bool
    ("Bool", "true", "true", True),
    ("Bool", "true", "TRUE", True),
    ("Bool", "true", "false", False),
    ("Bool", "false", None, False),
    ("Bool", True, "true", True),
    # binary
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU=", True),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "T3RoZXI=", False),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", None, False),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "%%%", False),
    # IP v4 and v6
    ("IpAddress", "203.0.113.0/24", "203.0.113.77", True),
    ("IpAddress", "203.0.113.0/24", "203.0.114.1", False),
    ("IpAddress", "203.0.113.7", "203.0.113.7", True),
    ("IpAddress", "203.0.113.7", "203.0.113.8", False),
    ("IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5678:ffff::1", True),
    ("IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5679::1", False),
    ("IpAddress", "0.0.0.0/0", "::1", False),
    ("IpAddress", "203.0.113.0/24", "not-an-ip", False),
    ("IpAddress", "203.0.113.0/24", None, False),
    ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", True),
    ("NotIpAddress", "203.0.113.0/24", "203.0.113.1", False),
    ("NotIpAddress", "203.0.113.0/24", None, True),
    # ARN
    (
        "ArnEquals",
        "arn:aws:sns:us-east-1:111122223333:Topic",
        "arn:aws:sns:us-east-1:111122223333:Topic",
        True,
    ),
    (
        "ArnEquals",
        "arn:aws:sns:us-east-1:111122223333:topic",
        "arn:aws:sns:us-east-1:111122223333:Topic",
        False,
    ),
    ("ArnLike", "arn:aws:sns:*:111122223333:*", "arn:aws:sns:eu-west-1:111122223333:t:sub", True),
    ("ArnLike", "arn:aws:s*:*:111122223333:*", "arn:aws:sqs:eu-west-1:111122223333:q", True),
    ("ArnLike", "arn:aws:sns:*:111122223333:*", "arn:aws:sns:eu:west:111122223333:t", False),
    ("ArnLike", "arn:aws:sns:*:*:*", "not-an-arn", False),
    ("ArnLike", "arn:aws:sns:*:*:*", None, False),
    ("ArnNotEquals", "arn:aws:sns:*:1:*", "arn:aws:sns:us-east-1:2:t", True),
    ("ArnNotLike", "arn:aws:sns:*:1:*", "arn:aws:sns:us-east-1:1:t", False),
    ("ArnNotLike", "arn:aws:sns:*:1:*", None, True),
    # Null
    ("Null", "true", None, True),
    ("Null", "true", "x", False),
    ("Null", "false", "x", True),
    ("Null", "false", None, False),
    ("Null", "false", [], True),
]


@pytest.mark.parametrize("op, values, value, expected", TABLE)
def test_operator(op, values, value, expected):
    ctx = {} if value is None else {K: value}
    assert cond_allows({op: {K: values}}, ctx) is expected


IF_EXISTS = [
    ("StringEqualsIfExists", "a", None, True),
    ("StringEqualsIfExists", "a", "b", False),
    ("StringEqualsIfExists", "a", "a", True),
    ("StringNotEqualsIfExists", "a", "a", False),
    ("NumericLessThanIfExists", "5", None, True),
    ("NumericLessThanIfExists", "5", "6", False),
    ("DateLessThanIfExists", "2020-01-01T00:00:00Z", None, True),
    ("BoolIfExists", "false", None, True),
    ("BoolIfExists", "false", "true", False),
    ("BinaryEqualsIfExists", "QQ==", None, True),
    ("IpAddressIfExists", "10.0.0.0/8", None, True),
    ("IpAddressIfExists", "10.0.0.0/8", "11.0.0.1", False),
    ("NotIpAddressIfExists", "10.0.0.0/8", "10.0.0.1", False),
    ("ArnLikeIfExists", "arn:aws:s3:::*", None, True),
    ("ArnLikeIfExists", "arn:aws:s3:::*", "arn:aws:sqs:::x", False),
    ("StringLikeIfExists", "t2.*", "t2.micro", True),
]


@pytest.mark.parametrize("op, values, value, expected", IF_EXISTS)
def test_if_exists(op, values, value, expected):
    ctx = {} if value is None else {K: value}
    assert cond_allows({op: {K: values}}, ctx) is expected


SETS = [
    # ForAnyValue: some request value matches; absent/empty => false
    ("ForAnyValue:StringEquals", ["a", "b"], ["c", "b"], True),
    ("ForAnyValue:StringEquals", ["a", "b"], ["c", "d"], False),
    ("ForAnyValue:StringEquals", ["a"], None, False),
    ("ForAnyValue:StringEquals", ["a"], [], False),
    ("ForAnyValue:StringEquals", ["a"], "a", True),
    ("ForAnyValue:StringEqualsIfExists", ["a"], None, True),
    ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "c"], True),
    ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "b"], False),
    ("ForAnyValue:StringLike", ["team-*"], ["x", "team-a"], True),
    ("ForAnyValue:NumericLessThan", "5", ["9", "4"], True),
    ("ForAnyValue:IpAddress", "10.0.0.0/8", ["1.1.1.1", "10.1.1.1"], True),
    # ForAllValues: every request value matches; absent/empty => true
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], True),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "c"], False),
    ("ForAllValues:StringEquals", ["a"], None, True),
    ("ForAllValues:StringEquals", ["a"], [], True),
    ("ForAllValues:StringLike", ["team-*", "owner"], ["team-a", "owner"], True),
    ("ForAllValues:StringNotEquals", ["a"], ["b", "c"], True),
    ("ForAllValues:StringNotEquals", ["a"], ["b", "a"], False),
    ("ForAllValues:StringEqualsIgnoreCase", ["A"], ["a", "A"], True),
    ("ForAllValues:ArnLike", ["arn:aws:s3:::b/*"], ["arn:aws:s3:::b/1", "arn:aws:s3:::c/1"], False),
    # plain operators on multivalued keys: any value; negated: none may match
    ("StringEquals", ["a"], ["b", "a"], True),
    ("StringNotEquals", ["a"], ["b", "a"], False),
    ("StringEquals", ["a"], [], False),
    ("StringNotEquals", ["a"], [], True),
]


@pytest.mark.parametrize("op, values, value, expected", SETS)
def test_set_qualifiers(op, values, value, expected):
    ctx = {} if value is None else {K: value}
    assert cond_allows({op: {K: values}}, ctx) is expected


def test_operators_and_keys_and_together():
    c = {"StringEquals": {"a": "1", "b": "2"}, "Bool": {"c": "true"}}
    assert cond_allows(c, {"a": "1", "b": "2", "c": "true"})
    assert not cond_allows(c, {"a": "1", "b": "2", "c": "false"})
    assert not cond_allows(c, {"a": "1", "c": "true"})


def test_key_names_case_insensitive_incl_tag_part():
    c = {"StringEquals": {"aws:PrincipalTag/Team": "blue"}}
    assert cond_allows(c, {"AWS:principaltag/TEAM": "blue"})
    assert not cond_allows(c, {"aws:PrincipalTag/Team": "BLUE"})


def test_context_value_types_normalised():
    assert cond_allows({"Bool": {"k": "true"}}, {"k": True})
    assert cond_allows({"NumericEquals": {"k": "3"}}, {"k": 3})
    assert cond_allows({"ForAllValues:StringEquals": {"k": ["a"]}}, {"k": ("a",)})


def test_operator_table_complete():
    families = {s.family for s in OPERATORS.values()}
    assert families == {
        "str_eq",
        "str_eq_ic",
        "str_like",
        "num",
        "date",
        "bool",
        "binary",
        "ip",
        "arn",
        "null",
    }
    assert len(OPERATORS) == 27
    for name in OPERATORS:
        assert split_operator(name)[1].name == name
        assert split_operator(f"ForAnyValue:{name}")[0] == "ForAnyValue"
        if name != "Null":
            assert split_operator(f"ForAllValues:{name}IfExists")[2] is True
    assert split_operator("NullIfExists") is None
    assert split_operator("stringequals") is None
    assert split_operator("StringEqualsIfExistsIfExists") is None


def test_parse_date_forms():
    assert (
        parse_date("1577836800") == parse_date("2020-01-01T00:00:00Z") == parse_date("2020-01-01")
    )
    assert parse_date("2020-01-01T00:00:00.5Z") - parse_date("2020-01-01T00:00:00Z") == parse_date(
        "0.5"
    )
    assert parse_date("nope") is None


# --- variables ---------------------------------------------------------------------

VARS = [
    # (condition value, context, request value, expected)
    ("${aws:username}", {"aws:username": "alice"}, "alice", True),
    ("${aws:username}", {"aws:username": "alice"}, "bob", False),
    ("${AWS:UserName}", {"aws:username": "alice"}, "alice", True),
    ("${aws:userid}", {"aws:userid": "AIDAEXAMPLE"}, "AIDAEXAMPLE", True),
    ("${aws:PrincipalTag/Team}", {"aws:principaltag/team": "blue"}, "blue", True),
    ("home/${aws:username}/x", {"aws:username": "alice"}, "home/alice/x", True),
    ("${aws:PrincipalTag/team, 'company-wide'}", {}, "company-wide", True),
    ("${aws:PrincipalTag/team,'dflt'}", {"aws:PrincipalTag/team": "red"}, "red", True),
    ("${*}", {}, "*", True),
    ("${*}", {}, "x", False),
    ("${?}", {}, "?", True),
    ("${$}", {}, "$", True),
    ("a${$}{b}", {}, "a${b}", True),
    ("${aws:username}", {}, "", False),
    ("${aws:username}", {"aws:username": ["a", "b"]}, "a", False),
    ("${aws:username}", {"aws:username": ["a"]}, "a", True),
    ("${not closed", {}, "${not closed", True),
]


@pytest.mark.parametrize("value, ctx, req, expected", VARS)
def test_variables_in_string_equals(value, ctx, req, expected):
    assert cond_allows({"StringEquals": {K: value}}, {**ctx, K: req}) is expected


def test_variable_value_is_literal_in_like():
    # a '*' arriving through a variable is not a wildcard
    c = {"StringLike": {K: "pre-${aws:username}"}}
    assert cond_allows(c, {"aws:username": "*", K: "pre-*"})
    assert not cond_allows(c, {"aws:username": "*", K: "pre-x"})
    assert cond_allows({"StringLike": {K: "${*}*"}}, {K: "*abc"})
    assert not cond_allows({"StringLike": {K: "${*}*"}}, {K: "abc"})


def test_unresolved_variable_positive_false_negated_true():
    assert not cond_allows({"StringEquals": {K: "${aws:PrincipalTag/x}"}}, {K: "v"})
    assert cond_allows({"StringNotEquals": {K: "${aws:PrincipalTag/x}"}}, {K: "v"})
    assert not cond_allows({"StringLike": {K: "${aws:PrincipalTag/x}"}}, {K: "v"})
    assert cond_allows({"StringNotLike": {K: "${aws:PrincipalTag/x}*"}}, {K: "v"})
    assert not cond_allows({"ArnLike": {K: "arn:aws:s3:::${aws:username}"}}, {K: "arn:aws:s3:::v"})
    assert cond_allows({"ArnNotLike": {K: "arn:aws:s3:::${aws:username}"}}, {K: "arn:aws:s3:::v"})


def test_variables_in_arn_and_bool():
    assert cond_allows(
        {"ArnLike": {K: "arn:aws:iam::*:user/${aws:username}"}},
        {"aws:username": "al", K: "arn:aws:iam::1:user/al"},
    )
    assert cond_allows({"Bool": {K: "${test:flag}"}}, {"test:flag": "true", K: "true"})


def test_variables_literal_under_2008():
    c = {"StringEquals": {K: "${aws:username}"}}
    assert not cond_allows(c, {"aws:username": "alice", K: "alice"}, version=None)
    assert cond_allows(c, {"aws:username": "alice", K: "${aws:username}"}, version=None)


def test_no_variables_in_numeric():
    from rolegate.errors import MalformedPolicyDocument

    with pytest.raises(MalformedPolicyDocument):
        cond_allows({"NumericEquals": {K: "${aws:EpochTime}"}}, {})
