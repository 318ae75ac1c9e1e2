from __future__ import annotations

import pytest

from rolegate.errors import InvalidInput, LimitExceeded, NoSuchEntity
from tests.iam.conftest import ACCOUNT, all_pages, allow, trust


def setup(iam, kind):
    if kind == "User":
        iam("CreateUser", UserName="t")
        return {"UserName": "t"}
    if kind == "Role":
        iam("CreateRole", RoleName="t", AssumeRolePolicyDocument=trust())
        return {"RoleName": "t"}
    arn = iam("CreatePolicy", PolicyName="t", PolicyDocument=allow())["Policy"]["Arn"]
    return {"PolicyArn": arn}


# Policies' tag keys are case-sensitive: test_policy_tag_keys_are_case_sensitive.
@pytest.mark.parametrize("kind", ["User", "Role"])
def test_tag_untag_list(iam, kind):
    target = setup(iam, kind)
    iam(
        f"Tag{kind}",
        **target,
        Tags=[{"Key": "CostCenter", "Value": "1"}, {"Key": "env", "Value": ""}],
    )
    iam(
        f"Tag{kind}", **target, Tags=[{"Key": "costcenter", "Value": "2"}]
    )  # keys are case-insensitive
    tags = iam(f"List{kind}Tags", **target)
    assert tags == {
        "Tags": [{"Key": "costcenter", "Value": "2"}, {"Key": "env", "Value": ""}],
        "IsTruncated": False,
    }
    assert iam.auth.calls[-1][0] == f"iam:List{kind}Tags"
    iam(f"Untag{kind}", **target, TagKeys=["COSTCENTER", "missing"])
    assert iam(f"List{kind}Tags", **target)["Tags"] == [{"Key": "env", "Value": ""}]
    with pytest.raises(InvalidInput):
        iam(f"Tag{kind}", **target, Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])


@pytest.mark.parametrize("kind", ["User", "Role", "Policy"])
def test_tag_limit_and_paging(iam, kind):
    target = setup(iam, kind)
    iam(f"Tag{kind}", **target, Tags=[{"Key": f"k{i:02d}", "Value": str(i)} for i in range(50)])
    with pytest.raises(LimitExceeded):
        iam(f"Tag{kind}", **target, Tags=[{"Key": "one-more", "Value": "x"}])
    # Overwriting an existing key is not "more" (for policies only in the
    # same case: their keys are case-sensitive).
    key = "k00" if kind == "Policy" else "K00"
    iam(f"Tag{kind}", **target, Tags=[{"Key": key, "Value": "new"}])
    keys = [t["Key"] for t in all_pages(iam, f"List{kind}Tags", "Tags", **target, MaxItems=7)]
    assert len(keys) == 50 and keys[0] == key


def test_tag_context_reaches_the_authoriser(iam):
    iam(
        "CreateRole",
        RoleName="r",
        AssumeRolePolicyDocument=trust(),
        Tags=[{"Key": "team", "Value": "a"}],
    )
    create_ctx = iam.auth.calls[-1][2]
    assert create_ctx["aws:RequestTag/team"] == "a" and create_ctx["aws:TagKeys"] == ["team"]
    iam("GetRole", RoleName="r")
    assert iam.auth.calls[-1] == (
        "iam:GetRole",
        f"arn:aws:iam::{ACCOUNT}:role/r",
        {"aws:ResourceTag/team": "a"},
    )
    iam("UntagRole", RoleName="r", TagKeys=["team"])
    assert iam.auth.calls[-1][2]["aws:TagKeys"] == ["team"]


def test_tags_on_missing_entities(iam):
    with pytest.raises(NoSuchEntity):
        iam("TagUser", UserName="ghost", Tags=[{"Key": "a", "Value": "b"}])
    with pytest.raises(NoSuchEntity):
        iam("ListRoleTags", RoleName="ghost")
    with pytest.raises(NoSuchEntity):
        iam(
            "TagPolicy",
            PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/ghost",
            Tags=[{"Key": "a", "Value": "b"}],
        )


DUPLICATE = "Duplicate tag keys found. Please note that Tag keys are case insensitive."


@pytest.mark.parametrize(
    "op, target",
    [
        ("TagUser", {"UserName": "u"}),
        ("TagRole", {"RoleName": "r"}),
        ("TagInstanceProfile", {"InstanceProfileName": "ip"}),
    ],
)
def test_duplicate_tag_message_everywhere(iam, op, target):
    iam("CreateUser", UserName="u")
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    iam("CreateInstanceProfile", InstanceProfileName="ip")
    with pytest.raises(InvalidInput) as e:
        iam(op, **target, Tags=[{"Key": "k", "Value": ""}, {"Key": "K", "Value": ""}])
    assert e.value.message == DUPLICATE


def test_policy_tag_keys_are_case_sensitive(iam):
    # Unlike users' and roles', a customer managed policy's "a" and "A" are
    # two tags (recorded against AWS).
    doc = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}'
    arn = iam(
        "CreatePolicy",
        PolicyName="p",
        PolicyDocument=doc,
        Tags=[{"Key": "a", "Value": "lower"}, {"Key": "A", "Value": "upper"}],
    )["Policy"]["Arn"]
    assert iam("ListPolicyTags", PolicyArn=arn)["Tags"] == [
        {"Key": "A", "Value": "upper"},
        {"Key": "a", "Value": "lower"},
    ]
    iam("UntagPolicy", PolicyArn=arn, TagKeys=["a"])
    assert iam("ListPolicyTags", PolicyArn=arn)["Tags"] == [{"Key": "A", "Value": "upper"}]
    with pytest.raises(InvalidInput) as e:
        iam("TagPolicy", PolicyArn=arn, Tags=[{"Key": "0", "Value": ""}, {"Key": "0", "Value": ""}])
    # without the case note, as AWS answers CreatePolicy and TagPolicy (recorded
    # 2026, LocalStack's test_iam_policies snapshot, TestPolicyTags)
    assert e.value.message == "Duplicate tag keys found."
    with pytest.raises(InvalidInput) as e:
        iam(
            "CreatePolicy",
            PolicyName="q",
            PolicyDocument=doc,
            Tags=[{"Key": "0", "Value": ""}, {"Key": "0", "Value": ""}],
        )
    assert e.value.message == "Duplicate tag keys found."
    with pytest.raises(InvalidInput) as e:
        iam(
            "TagRole",
            RoleName="nobody",
            Tags=[{"Key": "k", "Value": ""}, {"Key": "K", "Value": ""}],
        )
    assert e.value.message.endswith("Please note that Tag keys are case insensitive.")
