"""Instance profiles, account aliases and the account summary through boto3
against a real ``rolegate serve``."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def test_instance_profile_lifecycle(server: Server) -> None:
    iam = server.client("iam")
    account = server.client("sts").get_caller_identity()["Account"]
    role = iam.create_role(RoleName="ec2-app", AssumeRolePolicyDocument=TRUST)["Role"]
    p = iam.create_instance_profile(
        InstanceProfileName="app-profile", Path="/ec2/", Tags=[{"Key": "env", "Value": "prod"}]
    )["InstanceProfile"]
    assert p["Arn"] == f"arn:aws:iam::{account}:instance-profile/ec2/app-profile"
    assert p["InstanceProfileId"].startswith("AIPA") and p["Roles"] == []

    iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="ec2-app")
    got = iam.get_instance_profile(InstanceProfileName="app-profile")["InstanceProfile"]
    (inner,) = got["Roles"]
    assert inner["RoleId"] == role["RoleId"]
    # The trust policy comes back decoded, as for GetRole.
    assert inner["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}]

    iam.create_role(RoleName="ec2-other", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="ec2-other")
    assert code(e.value) == "LimitExceeded"
    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName="nope", RoleName="ec2-other")
    assert code(e.value) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.delete_instance_profile(InstanceProfileName="app-profile")
    assert code(e.value) == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="ec2-app")
    assert code(e.value) == "DeleteConflict"
    assert "instance profile" in e.value.response["Error"]["Message"]

    for_role = iam.list_instance_profiles_for_role(RoleName="ec2-app")["InstanceProfiles"]
    assert [x["InstanceProfileName"] for x in for_role] == ["app-profile"]
    listed = iam.list_instance_profiles(PathPrefix="/ec2/")["InstanceProfiles"]
    assert [x["InstanceProfileName"] for x in listed] == ["app-profile"]
    details = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    by_name = {r["RoleName"]: r for r in details}
    assert [x["InstanceProfileName"] for x in by_name["ec2-app"]["InstanceProfileList"]] == [
        "app-profile"
    ]

    iam.tag_instance_profile(
        InstanceProfileName="app-profile", Tags=[{"Key": "owner", "Value": "ops"}]
    )
    iam.untag_instance_profile(InstanceProfileName="app-profile", TagKeys=["env"])
    tags = iam.list_instance_profile_tags(InstanceProfileName="app-profile")["Tags"]
    assert tags == [{"Key": "owner", "Value": "ops"}]

    iam.remove_role_from_instance_profile(InstanceProfileName="app-profile", RoleName="ec2-app")
    iam.delete_instance_profile(InstanceProfileName="app-profile")
    iam.delete_role(RoleName="ec2-app")
    with pytest.raises(ClientError) as e:
        iam.get_instance_profile(InstanceProfileName="app-profile")
    assert code(e.value) == "NoSuchEntity"
    # boto3's paginator drives Marker/MaxItems.
    for i in range(3):
        iam.create_instance_profile(InstanceProfileName=f"pg-{i}", Path="/pg/")
    pages = iam.get_paginator("list_instance_profiles").paginate(
        PathPrefix="/pg/", PaginationConfig={"PageSize": 2}
    )
    names = [x["InstanceProfileName"] for page in pages for x in page["InstanceProfiles"]]
    assert names == ["pg-0", "pg-1", "pg-2"]


def test_account_alias_and_summary(server: Server) -> None:
    iam = server.client("iam")
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.create_account_alias(AccountAlias="rolegate-e2e")
    assert iam.list_account_aliases()["AccountAliases"] == ["rolegate-e2e"]
    with pytest.raises(ClientError) as e:
        iam.create_account_alias(AccountAlias="Bad_Alias")
    assert code(e.value) == "ValidationError"
    with pytest.raises(ClientError) as e:
        iam.delete_account_alias(AccountAlias="not-mine")
    assert code(e.value) == "NoSuchEntity"
    iam.delete_account_alias(AccountAlias="rolegate-e2e")
    assert iam.list_account_aliases()["AccountAliases"] == []

    before = iam.get_account_summary()["SummaryMap"]
    iam.create_user(UserName="summary-user")
    after = iam.get_account_summary()["SummaryMap"]
    assert after["Users"] == before["Users"] + 1
    assert after["UsersQuota"] == 5000 and after["InstanceProfilesQuota"] == 1000
    assert after["AccountMFAEnabled"] == 0
