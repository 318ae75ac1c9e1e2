"""Validation messages in AWS's exact format (reference §1.5)."""

from __future__ import annotations

import pytest

from rolegate.errors import AwsError, InvalidAction, ValidationError
from rolegate.protocol import decode_request

ROLE = "arn:aws:iam::123456789012:role/demo"


def message(service: str, action: str, params: dict[str, str]) -> str:
    with pytest.raises(ValidationError) as info:
        decode_request(service, action, params)
    assert info.value.code == "ValidationError"
    assert info.value.status == 400
    return info.value.message


def test_session_name_with_a_space() -> None:
    assert message("sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "a b"}) == (
        "1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    )


def test_duration_too_long() -> None:
    params = {"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": "50000"}
    assert message("sts", "AssumeRole", params) == (
        "1 validation error detected: Value '50000' at 'durationSeconds' failed to satisfy "
        "constraint: Member must have value less than or equal to 43200"
    )


def test_duration_too_short() -> None:
    params = {"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": "20"}
    assert message("sts", "AssumeRole", params).endswith(
        "Value '20' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )


def test_missing_role_arn() -> None:
    assert message("sts", "AssumeRole", {"RoleSessionName": "s1"}) == (
        "1 validation error detected: Value null at 'roleArn' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_two_errors_at_once_in_model_order() -> None:
    params = {"RoleSessionName": "x" * 65}
    assert message("sts", "AssumeRole", params) == (
        "2 validation errors detected: "
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null; "
        f"Value '{'x' * 65}' at 'roleSessionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64"
    )


def test_length_minimum() -> None:
    assert message("sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "a"}).endswith(
        "Value 'a' at 'roleSessionName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2"
    )


def test_tag_paths_are_list_paths() -> None:
    params = {
        "RoleArn": ROLE,
        "RoleSessionName": "s1",
        "Tags.member.1.Key": "ok",
        "Tags.member.1.Value": "fine",
        "Tags.member.2.Key": "bad!",
        "Tags.member.2.Value": "v",
    }
    assert message("sts", "AssumeRole", params) == (
        "1 validation error detected: Value 'bad!' at 'tags.2.member.key' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"
    )


def test_unicode_tags_are_letters() -> None:
    params = {
        "RoleArn": ROLE,
        "RoleSessionName": "s1",
        "Tags.member.1.Key": "Ünïcødé 名前 ٣",
        "Tags.member.1.Value": "\u3000",  # ideographic space is \p{Z}
    }
    decoded = decode_request("sts", "AssumeRole", params)
    assert decoded["Tags"] == [{"Key": "Ünïcødé 名前 ٣", "Value": "\u3000"}]


def test_word_class_is_ascii_like_java() -> None:
    # Python's \w would accept "é"; Java's (and AWS's) does not.
    assert "roleSessionName" in message(
        "sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "café"}
    )


def test_too_many_tags() -> None:
    params = {"RoleArn": ROLE, "RoleSessionName": "s1"}
    for i in range(1, 52):
        params[f"Tags.member.{i}.Key"] = f"k{i}"
        params[f"Tags.member.{i}.Value"] = "v"
    text = message("sts", "AssumeRole", params)
    assert text.startswith("1 validation error detected: Value '[{Key=k1, Value=v}, ")
    assert text.endswith(
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    )


def test_enum() -> None:
    params = {"UserName": "u", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Paused"}
    assert message("iam", "UpdateAccessKey", params) == (
        "1 validation error detected: Value 'Paused' at 'status' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"
    )


def test_iam_path_pattern_with_alternation_must_fully_match() -> None:
    assert (
        decode_request("iam", "CreateUser", {"UserName": "u", "Path": "/a/b/"})["Path"] == "/a/b/"
    )
    text = message("iam", "CreateUser", {"UserName": "u", "Path": "/a/b"})
    assert "at 'path' failed to satisfy constraint: Member must satisfy regular" in text


def test_sensitive_values_are_not_echoed() -> None:
    params = {"UserName": "u", "Password": "secret\u0100"}
    text = message("iam", "CreateLoginProfile", params)
    assert text == (
        "1 validation error detected: Value at 'password' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
    )


def test_malformed_integer_and_boolean() -> None:
    params = {"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": "12x"}
    assert message("sts", "AssumeRole", params) == (
        "1 validation error detected: Value '12x' at 'durationSeconds' failed to satisfy "
        "constraint: Member must be a valid integer"
    )
    bad_bool = {"UserName": "u", "Password": "p4ssw0rd!", "PasswordResetRequired": "yes"}
    assert message("iam", "CreateLoginProfile", bad_bool).endswith(
        "at 'passwordResetRequired' failed to satisfy constraint: "
        "Member must be a boolean ('true' or 'false')"
    )


def test_integer_outside_java_int_is_malformed_not_a_crash() -> None:
    params = {"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": "9" * 30}
    assert "Member must be a valid integer" in message("sts", "AssumeRole", params)


def test_huge_list_index_is_rejected() -> None:
    params = {"RoleArn": ROLE, "RoleSessionName": "s1", "Tags.member.99999999.Key": "k"}
    text = message("sts", "AssumeRole", params)
    assert "Value '99999999' at 'tags'" in text


def test_sparse_indexes_keep_order_without_allocating() -> None:
    params = {"RoleName": "r", "TagKeys.member.7": "b", "TagKeys.member.3": "a"}
    assert decode_request("iam", "UntagRole", params)["TagKeys"] == ["a", "b"]


def test_validate_false_skips_constraints_but_not_types() -> None:
    assert decode_request("sts", "AssumeRole", {"RoleSessionName": "a b"}, validate=False) == {
        "RoleSessionName": "a b"
    }
    with pytest.raises(ValidationError):
        decode_request("sts", "AssumeRole", {"DurationSeconds": "x"}, validate=False)


def test_unknown_action() -> None:
    with pytest.raises(InvalidAction) as info:
        decode_request("sts", "NoSuchThing", {})
    assert info.value.status == 400
    assert info.value.message == "Could not find operation NoSuchThing for version 2011-06-15"


def test_error_message_is_bounded() -> None:
    params = {f"TagKeys.member.{i}": "bad!" * 40 for i in range(1, 1001)}
    params["RoleName"] = "r"
    with pytest.raises(AwsError) as info:
        decode_request("iam", "UntagRole", params)
    # 1000 keys each too long and off-pattern, plus the list over its maximum of 50.
    assert info.value.message.startswith("2001 validation errors detected: ")
    assert info.value.message.count("failed to satisfy") <= 100


def test_tagged_union_needs_exactly_one_member() -> None:
    """PolicyIdentifier is a tagged union (botocore 1.44.18's IAM model)."""
    base = {"PolicySourceArn": "arn:aws:iam::123456789012:user/u", "ActionNames.member.1": "s3:*"}
    two = dict(base)
    two["PolicyExclusionList.member.1.PolicyType"] = "INLINE"
    two["PolicyExclusionList.member.1.PolicyArn"] = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    text = message("iam", "SimulatePrincipalPolicy", two)
    assert "'policyExclusionList.1.member' failed to satisfy constraint" in text
    assert "exactly one of its members set" in text
    one = dict(base)
    one["PolicyExclusionList.member.1.PolicyArn"] = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    decoded = decode_request("iam", "SimulatePrincipalPolicy", one)
    assert decoded["PolicyExclusionList"] == [
        {"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    ]
