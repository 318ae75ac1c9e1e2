"""GetAccountAuthorizationDetails: contents, filters and pagination."""

from __future__ import annotations

import json
from typing import Any

from .conftest import ACCOUNT, T0, Iam, all_pages, allow, trust

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def populate(iam: Iam) -> dict[str, Any]:
    iam("CreateUser", UserName="alice", Path="/eng/", Tags=[{"Key": "team", "Value": "red"}])
    iam("PutUserPolicy", UserName="alice", PolicyName="inline-a", PolicyDocument=allow("s3:Get*"))
    iam("CreateGroup", GroupName="devs")
    iam("AddUserToGroup", GroupName="devs", UserName="alice")
    iam(
        "PutGroupPolicy",
        GroupName="devs",
        PolicyName="g-inline",
        PolicyDocument=allow("ec2:Describe*"),
    )
    local = iam("CreatePolicy", PolicyName="boundary", PolicyDocument=allow("*"), Description="cap")
    local_arn = local["Policy"]["Arn"]
    iam("CreatePolicyVersion", PolicyArn=local_arn, PolicyDocument=allow("s3:*"), SetAsDefault=True)
    iam("PutUserPermissionsBoundary", UserName="alice", PermissionsBoundary=local_arn)
    iam("AttachGroupPolicy", GroupName="devs", PolicyArn=ADMIN_ARN)
    iam(
        "CreateRole",
        RoleName="deployer",
        AssumeRolePolicyDocument=trust(),
        Tags=[{"Key": "env", "Value": "prod"}],
    )
    iam("PutRolePolicy", RoleName="deployer", PolicyName="r-inline", PolicyDocument=allow("sqs:*"))
    iam("AttachRolePolicy", RoleName="deployer", PolicyArn=local_arn)
    return {"local_arn": local_arn}


def test_full_snapshot(iam: Iam) -> None:
    arns = populate(iam)
    local_arn = arns["local_arn"]
    out = iam("GetAccountAuthorizationDetails")
    assert iam.auth.calls[-1][:2] == ("iam:GetAccountAuthorizationDetails", "*")
    assert out["IsTruncated"] is False

    [user] = [u for u in out["UserDetailList"] if u["UserName"] == "alice"]
    assert user["Path"] == "/eng/"
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
    assert user["UserId"].startswith("AIDA")
    assert user["UserPolicyList"] == [
        {"PolicyName": "inline-a", "PolicyDocument": allow("s3:Get*")}
    ]
    assert user["GroupList"] == ["devs"]
    assert user["AttachedManagedPolicies"] == []
    assert user["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": local_arn,
    }
    assert user["Tags"] == [{"Key": "team", "Value": "red"}]

    [group] = out["GroupDetailList"]
    assert group["GroupName"] == "devs" and group["GroupId"].startswith("AGPA")
    assert group["GroupPolicyList"][0]["PolicyName"] == "g-inline"
    assert group["AttachedManagedPolicies"] == [
        {"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN_ARN}
    ]

    [role] = out["RoleDetailList"]
    assert role["RoleName"] == "deployer" and role["RoleId"].startswith("AROA")
    assert json.loads(role["AssumeRolePolicyDocument"]) == json.loads(trust())
    assert role["RolePolicyList"] == [{"PolicyName": "r-inline", "PolicyDocument": allow("sqs:*")}]
    assert role["AttachedManagedPolicies"] == [{"PolicyName": "boundary", "PolicyArn": local_arn}]
    assert role["InstanceProfileList"] == []
    assert role["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert role["RoleLastUsed"] == {}
    assert "PermissionsBoundary" not in role

    policies = {p["Arn"]: p for p in out["Policies"]}
    # Local policies, plus only the AWS managed policies this account uses.
    assert set(policies) == {local_arn, ADMIN_ARN}
    local = policies[local_arn]
    assert local["PolicyName"] == "boundary" and local["PolicyId"].startswith("ANPA")
    assert local["DefaultVersionId"] == "v2"
    assert local["AttachmentCount"] == 1
    assert local["PermissionsBoundaryUsageCount"] == 1
    assert local["Description"] == "cap"
    assert local["IsAttachable"] is True
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in local["PolicyVersionList"]] == [
        ("v2", True),
        ("v1", False),
    ]
    assert local["PolicyVersionList"][0]["Document"] == allow("s3:*")
    assert local["CreateDate"] >= T0
    assert policies[ADMIN_ARN]["AttachmentCount"] == 1
    assert policies[ADMIN_ARN]["PolicyVersionList"][0]["Document"]


def test_filters(iam: Iam) -> None:
    arns = populate(iam)
    # Every list is there, empty when not asked for (recorded against AWS).
    lists = {"UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"}
    out = iam("GetAccountAuthorizationDetails", Filter=["Role"])
    assert set(out) == lists | {"IsTruncated"}
    assert out["UserDetailList"] == out["GroupDetailList"] == out["Policies"] == []
    assert [r["RoleName"] for r in out["RoleDetailList"]] == ["deployer"]
    out = iam("GetAccountAuthorizationDetails", Filter=["LocalManagedPolicy"])
    assert [p["Arn"] for p in out["Policies"]] == [arns["local_arn"]]
    out = iam("GetAccountAuthorizationDetails", Filter=["AWSManagedPolicy"])
    assert [p["Arn"] for p in out["Policies"]] == [ADMIN_ARN]
    out = iam("GetAccountAuthorizationDetails", Filter=["User", "Group"])
    assert set(out) == lists | {"IsTruncated"} and out["RoleDetailList"] == []
    # AWS's own policies show no description here; a user without inline
    # policies has no UserPolicyList (both recorded against AWS).
    aws = iam("GetAccountAuthorizationDetails", Filter=["AWSManagedPolicy"])["Policies"][0]
    assert "Description" not in aws
    iam("CreateUser", UserName="plain")
    users = iam("GetAccountAuthorizationDetails", Filter=["User"])["UserDetailList"]
    assert "UserPolicyList" not in next(u for u in users if u["UserName"] == "plain")


def test_pagination_across_lists(iam: Iam) -> None:
    populate(iam)
    for i in range(3):
        iam("CreateUser", UserName=f"u{i}")
    everything = iam("GetAccountAuthorizationDetails")
    total = sum(
        len(everything[k])
        for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
    )
    seen: dict[str, list[Any]] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    marker = None
    pages = 0
    while True:
        page = iam(
            "GetAccountAuthorizationDetails", MaxItems=2, **({"Marker": marker} if marker else {})
        )
        pages += 1
        assert sum(len(page[k]) for k in seen) <= 2
        for k in seen:
            seen[k].extend(page[k])
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert pages == (total + 1) // 2
    for k in seen:
        assert seen[k] == everything[k]


def test_empty_account_with_all_pages(iam: Iam) -> None:
    users = all_pages(iam, "GetAccountAuthorizationDetails", "UserDetailList", Filter=["User"])
    assert users == []
