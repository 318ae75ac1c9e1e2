from __future__ import annotations

import pytest

from rolegate.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
)
from tests.iam.conftest import ACCOUNT, all_pages, trust

LIMIT_MSG = "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
IN_PROFILE_MSG = "Cannot delete entity, must remove roles from instance profile first."


def _role(iam, name="web"):
    return iam("CreateRole", RoleName=name, AssumeRolePolicyDocument=trust())["Role"]


def test_create_get_delete(iam):
    p = iam(
        "CreateInstanceProfile",
        InstanceProfileName="Web",
        Path="/app/",
        Tags=[{"Key": "team", "Value": "core"}],
    )["InstanceProfile"]
    assert p["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/app/Web"
    assert p["InstanceProfileId"].startswith("AIPA") and len(p["InstanceProfileId"]) == 21
    assert p["Roles"] == [] and p["Path"] == "/app/"
    assert p["Tags"] == [{"Key": "team", "Value": "core"}]
    # Created with Tags: iam:TagInstanceProfile too, both with the request's tags.
    assert [c[0] for c in iam.auth.calls[-2:]] == [
        "iam:CreateInstanceProfile",
        "iam:TagInstanceProfile",
    ]
    assert all(c[2]["aws:RequestTag/team"] == "core" for c in iam.auth.calls[-2:])
    assert iam.last.audit_resources == [
        {"ARN": p["Arn"], "accountId": ACCOUNT, "type": "AWS::IAM::InstanceProfile"}
    ]
    assert iam.last.audit_response["instanceProfile"]["instanceProfileName"] == "Web"

    got = iam("GetInstanceProfile", InstanceProfileName="web")["InstanceProfile"]
    assert got["InstanceProfileName"] == "Web" and got["Arn"] == p["Arn"]
    assert iam.auth.calls[-1][:2] == ("iam:GetInstanceProfile", p["Arn"])

    with pytest.raises(EntityAlreadyExists):
        iam("CreateInstanceProfile", InstanceProfileName="WEB")

    iam("DeleteInstanceProfile", InstanceProfileName="Web")
    with pytest.raises(NoSuchEntity, match="Instance Profile Web cannot be found."):
        iam("GetInstanceProfile", InstanceProfileName="Web")
    with pytest.raises(NoSuchEntity):
        iam("DeleteInstanceProfile", InstanceProfileName="Web")


def test_access_denied_before_existence(iam):
    iam.auth.deny.add("iam:GetInstanceProfile")
    with pytest.raises(AccessDenied):
        iam("GetInstanceProfile", InstanceProfileName="nope")
    iam.auth.deny.add("iam:CreateInstanceProfile")
    with pytest.raises(AccessDenied):
        iam("CreateInstanceProfile", InstanceProfileName="x")
    iam.auth.deny.clear()
    with pytest.raises(NoSuchEntity):
        iam("GetInstanceProfile", InstanceProfileName="x")


def test_role_membership(iam):
    role = _role(iam)
    iam("CreateInstanceProfile", InstanceProfileName="p1")
    with pytest.raises(NoSuchEntity, match="The role with name ghost cannot be found."):
        iam("AddRoleToInstanceProfile", InstanceProfileName="p1", RoleName="ghost")
    with pytest.raises(NoSuchEntity, match="Instance Profile nope cannot be found."):
        iam("AddRoleToInstanceProfile", InstanceProfileName="nope", RoleName="web")

    iam("AddRoleToInstanceProfile", InstanceProfileName="p1", RoleName="WEB")
    actions = [c[:2] for c in iam.auth.calls[-2:]]
    assert actions == [
        ("iam:AddRoleToInstanceProfile", f"arn:aws:iam::{ACCOUNT}:instance-profile/p1"),
        ("iam:PassRole", role["Arn"]),
    ]
    got = iam("GetInstanceProfile", InstanceProfileName="p1")["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == ["web"]
    assert got["Roles"][0]["RoleId"] == role["RoleId"]
    assert got["Roles"][0]["AssumeRolePolicyDocument"] == role["AssumeRolePolicyDocument"]
    # An embedded role has these members only; an untagged profile shows
    # "Tags": [] (both recorded against AWS).
    assert set(got["Roles"][0]) == {
        "Path",
        "RoleName",
        "RoleId",
        "Arn",
        "CreateDate",
        "AssumeRolePolicyDocument",
    }
    assert got["Tags"] == []

    _role(iam, "other")
    with pytest.raises(LimitExceeded, match=LIMIT_MSG):
        iam("AddRoleToInstanceProfile", InstanceProfileName="p1", RoleName="other")
    with pytest.raises(LimitExceeded, match=LIMIT_MSG):
        iam("AddRoleToInstanceProfile", InstanceProfileName="p1", RoleName="web")

    with pytest.raises(DeleteConflict, match=IN_PROFILE_MSG):
        iam("DeleteInstanceProfile", InstanceProfileName="p1")
    with pytest.raises(DeleteConflict, match=IN_PROFILE_MSG):
        iam("DeleteRole", RoleName="web")

    iam("CreateInstanceProfile", InstanceProfileName="p0")
    iam("AddRoleToInstanceProfile", InstanceProfileName="p0", RoleName="web")
    listed = iam("ListInstanceProfilesForRole", RoleName="web")
    assert [p["InstanceProfileName"] for p in listed["InstanceProfiles"]] == ["p0", "p1"]
    assert listed["IsTruncated"] is False
    page = iam("ListInstanceProfilesForRole", RoleName="web", MaxItems=1)
    assert page["IsTruncated"] is True
    assert (
        all_pages(
            iam, "ListInstanceProfilesForRole", "InstanceProfiles", RoleName="web", MaxItems=1
        )
        == listed["InstanceProfiles"]
    )
    assert iam("ListInstanceProfilesForRole", RoleName="other")["InstanceProfiles"] == []
    with pytest.raises(NoSuchEntity):
        iam("ListInstanceProfilesForRole", RoleName="ghost")

    with pytest.raises(NoSuchEntity):
        iam("RemoveRoleFromInstanceProfile", InstanceProfileName="p1", RoleName="other")
    iam("RemoveRoleFromInstanceProfile", InstanceProfileName="p1", RoleName="web")
    iam("RemoveRoleFromInstanceProfile", InstanceProfileName="p0", RoleName="web")
    assert iam("GetInstanceProfile", InstanceProfileName="p1")["InstanceProfile"]["Roles"] == []
    iam("AddRoleToInstanceProfile", InstanceProfileName="p1", RoleName="other")
    iam("DeleteRole", RoleName="web")
    iam("DeleteInstanceProfile", InstanceProfileName="p0")


def test_list_instance_profiles(iam):
    for name, path in (("c", "/"), ("a", "/x/"), ("B", "/x/y/")):
        iam(
            "CreateInstanceProfile",
            InstanceProfileName=name,
            Path=path,
            Tags=[{"Key": "k", "Value": "v"}],
        )
    out = iam("ListInstanceProfiles")
    assert [p["InstanceProfileName"] for p in out["InstanceProfiles"]] == ["a", "B", "c"]
    assert "Tags" not in out["InstanceProfiles"][0]
    assert iam.auth.calls[-1][:2] == (
        "iam:ListInstanceProfiles",
        f"arn:aws:iam::{ACCOUNT}:instance-profile/",
    )
    x = iam("ListInstanceProfiles", PathPrefix="/x/")["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in x] == ["a", "B"]
    pages = all_pages(iam, "ListInstanceProfiles", "InstanceProfiles", MaxItems=2)
    assert [p["InstanceProfileName"] for p in pages] == ["a", "B", "c"]


def test_tags(iam):
    iam("CreateInstanceProfile", InstanceProfileName="p", Tags=[{"Key": "A", "Value": "1"}])
    iam("TagInstanceProfile", InstanceProfileName="p", Tags=[{"Key": "a", "Value": "2"}])
    iam("TagInstanceProfile", InstanceProfileName="p", Tags=[{"Key": "b", "Value": "3"}])
    assert iam.auth.calls[-1][0] == "iam:TagInstanceProfile"
    assert iam("ListInstanceProfileTags", InstanceProfileName="p")["Tags"] == [
        {"Key": "a", "Value": "2"},
        {"Key": "b", "Value": "3"},
    ]
    iam("UntagInstanceProfile", InstanceProfileName="p", TagKeys=["A"])
    assert iam("ListInstanceProfileTags", InstanceProfileName="p")["Tags"] == [
        {"Key": "b", "Value": "3"}
    ]
    with pytest.raises(NoSuchEntity):
        iam("TagInstanceProfile", InstanceProfileName="q", Tags=[{"Key": "a", "Value": "1"}])


def test_authorization_details_list_role_profiles(iam):
    _role(iam)
    iam("CreateInstanceProfile", InstanceProfileName="p1", Path="/ec2/")
    iam("AddRoleToInstanceProfile", InstanceProfileName="p1", RoleName="web")
    out = iam("GetAccountAuthorizationDetails", Filter=["Role"])
    (role,) = out["RoleDetailList"]
    (profile,) = role["InstanceProfileList"]
    assert profile["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/ec2/p1"
    assert [r["RoleName"] for r in profile["Roles"]] == ["web"]


def test_every_action_authorises_first(iam):
    """Each instance-profile and account action asks the authoriser before anything else."""
    from rolegate.iam import HANDLERS

    mine = [
        a
        for a, h in HANDLERS.items()
        if h.__module__.rsplit(".", 1)[-1] in {"instance_profiles", "account"}
    ]
    assert len(mine) == 14
    iam.auth.deny = {"*"}
    params = {
        "InstanceProfileName": "p",
        "RoleName": "r",
        "Tags": [{"Key": "a", "Value": "b"}],
        "TagKeys": ["a"],
        "AccountAlias": "abc",
    }
    for action in mine:
        with pytest.raises(AccessDenied):
            iam(action, **params)
        assert iam.auth.calls[-1][0] == f"iam:{action}"
