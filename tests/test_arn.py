import pytest

from rolegate import arn


@pytest.mark.parametrize(
    "text, fields",
    [
        ("arn:aws:iam::123456789012:user/alice", ("aws", "iam", "", "123456789012", "user/alice")),
        ("arn:aws:s3:::bucket/key:with:colons", ("aws", "s3", "", "", "bucket/key:with:colons")),
        (
            "arn:aws-cn:sns:cn-north-1:1:topic:sub",
            ("aws-cn", "sns", "cn-north-1", "1", "topic:sub"),
        ),
        ("arn:aws:iam::123456789012:root", ("aws", "iam", "", "123456789012", "root")),
        ("arn:aws:s3:::", ("aws", "s3", "", "", "")),
    ],
)
def test_parse_and_format_round_trip(text, fields):
    a = arn.parse(text)
    assert (a.partition, a.service, a.region, a.account, a.resource) == fields
    assert arn.format(a) == text == str(a)


@pytest.mark.parametrize(
    "bad", ["", "*", "arn:aws:s3", "arn:aws:s3::", "urn:aws:s3:::b", "arn::s3:::b", "arn:aws::::x"]
)
def test_parse_rejects_non_arns(bad):
    with pytest.raises(ValueError):
        arn.parse(bad)
    assert arn.try_parse(bad) is None


def test_non_string_is_value_error():
    with pytest.raises(ValueError):
        arn.parse(None)  # type: ignore[arg-type]


def test_arn_is_frozen_and_validated():
    a = arn.parse("arn:aws:iam::1:user/x")
    with pytest.raises(AttributeError):
        a.account = "2"  # type: ignore[misc]
    with pytest.raises(ValueError):
        arn.Arn("aws", "iam", "", "12:3", "x")


def test_helpers():
    assert arn.account_of("arn:aws:iam::123456789012:role/r") == "123456789012"
    assert arn.account_of("arn:aws:s3:::b") is None
    assert arn.account_of("nope") is None
    assert arn.is_account_id("123456789012")
    assert not arn.is_account_id("12345678901a")
    assert arn.root_arn("123456789012") == "arn:aws:iam::123456789012:root"
    assert arn.parse("arn:aws:iam::1:role/path/r").resource_type == "role"
    assert (
        arn.role_arn_from_session_arn("arn:aws:sts::123456789012:assumed-role/app/s1")
        == "arn:aws:iam::123456789012:role/app"
    )
    assert arn.role_arn_from_session_arn("arn:aws:iam::1:user/u") is None
