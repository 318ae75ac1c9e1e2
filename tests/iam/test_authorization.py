"""Every handler asks the authoriser first, about the right resource, and a
denial leaves nothing behind (and reveals nothing about what exists)."""

from __future__ import annotations

import pytest

from rolegate.errors import AccessDenied
from tests.iam.conftest import ACCOUNT, allow, trust

RO = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def _denied(iam, action, **params):
    iam.auth.deny = {f"iam:{action}"}
    try:
        with pytest.raises(AccessDenied):
            iam(action, **params)
    finally:
        iam.auth.deny = set()
    return iam.auth.calls[-1]


def test_denied_creates_write_nothing(iam):
    call = _denied(iam, "CreateUser", UserName="u", Path="/p/")
    assert call[:2] == ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/p/u")
    assert iam("ListUsers")["Users"] == []
    call = _denied(iam, "CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    assert call[1] == f"arn:aws:iam::{ACCOUNT}:role/r"
    assert iam("ListRoles")["Roles"] == []
    _denied(iam, "CreateGroup", GroupName="g")
    assert iam("ListGroups")["Groups"] == []
    call = _denied(iam, "CreatePolicy", PolicyName="p", PolicyDocument=allow())
    assert call[1] == f"arn:aws:iam::{ACCOUNT}:policy/p"
    assert iam("ListPolicies", Scope="Local")["Policies"] == []


def test_denied_mutations_change_nothing(iam):
    iam("CreateUser", UserName="u")
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    arn = iam("CreatePolicy", PolicyName="p", PolicyDocument=allow())["Policy"]["Arn"]
    _denied(iam, "DeleteUser", UserName="u")
    _denied(iam, "PutUserPolicy", UserName="u", PolicyName="x", PolicyDocument=allow())
    _denied(iam, "AttachRolePolicy", RoleName="r", PolicyArn=RO)
    _denied(iam, "PutRolePermissionsBoundary", RoleName="r", PermissionsBoundary=RO)
    _denied(iam, "TagRole", RoleName="r", Tags=[{"Key": "a", "Value": "b"}])
    _denied(iam, "CreateAccessKey", UserName="u")
    _denied(iam, "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=allow(), SetAsDefault=True)
    _denied(iam, "DeletePolicy", PolicyArn=arn)
    _denied(
        iam,
        "UpdateAssumeRolePolicy",
        RoleName="r",
        PolicyDocument=trust({"Service": "ec2.amazonaws.com"}),
    )
    assert iam("GetUser", UserName="u")["User"]["UserName"] == "u"
    assert iam("ListUserPolicies", UserName="u")["PolicyNames"] == []
    assert iam("ListAccessKeys", UserName="u")["AccessKeyMetadata"] == []
    role = iam("GetRole", RoleName="r")["Role"]
    assert "Tags" not in role and "PermissionsBoundary" not in role
    assert role["AssumeRolePolicyDocument"] == trust()
    assert iam("ListAttachedRolePolicies", RoleName="r")["AttachedPolicies"] == []
    assert iam("GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"


def test_denial_comes_before_existence(iam):
    # A caller without permission cannot probe which names exist.
    call = _denied(iam, "GetRole", RoleName="ghost")
    assert call[1] == f"arn:aws:iam::{ACCOUNT}:role/ghost"
    _denied(iam, "GetPolicy", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/ghost")


@pytest.mark.parametrize(
    ("action", "params", "resource"),
    [
        ("ListUsers", {}, f"arn:aws:iam::{ACCOUNT}:user/"),
        ("ListRoles", {"PathPrefix": "/svc/"}, f"arn:aws:iam::{ACCOUNT}:role/svc/"),
        ("ListGroups", {}, f"arn:aws:iam::{ACCOUNT}:group/"),
        ("ListPolicies", {}, f"arn:aws:iam::{ACCOUNT}:policy/"),
        ("GetUser", {"UserName": "u"}, f"arn:aws:iam::{ACCOUNT}:user/team/u"),
        ("ListAccessKeys", {"UserName": "u"}, f"arn:aws:iam::{ACCOUNT}:user/team/u"),
        ("ListGroupsForUser", {"UserName": "u"}, f"arn:aws:iam::{ACCOUNT}:user/team/u"),
        ("GetPolicy", {"PolicyArn": RO}, RO),
        ("ListEntitiesForPolicy", {"PolicyArn": RO}, RO),
    ],
)
def test_resource_arns(iam, action, params, resource):
    iam("CreateUser", UserName="u", Path="/team/")
    iam(action, **params)
    assert iam.auth.calls[-1][:2] == (f"iam:{action}", resource)


def test_every_action_authorises(iam):
    """No IAM handler of this package answers without asking the authoriser."""
    from rolegate.iam import HANDLERS

    iam.auth.deny = {"*"}
    mine = [a for a, h in HANDLERS.items() if h.__module__.rsplit(".", 1)[-1] in _MINE]
    assert len(mine) > 60
    for action in mine:
        with pytest.raises(AccessDenied):
            iam(action, **_PARAMS)


_MINE = {"users", "groups", "access_keys", "roles", "policies", "inline", "attach", "tags"}
# Enough parameters for any action in this package to reach its authorise call.
_PARAMS = {
    "UserName": "u",
    "GroupName": "g",
    "RoleName": "r",
    "PolicyName": "p",
    "PolicyArn": RO,
    "PolicyDocument": allow(),
    "AssumeRolePolicyDocument": trust(),
    "PermissionsBoundary": RO,
    "AccessKeyId": "AKIAAAAAAAAAAAAAAAAA",
    "Status": "Inactive",
    "VersionId": "v1",
    "Tags": [{"Key": "a", "Value": "b"}],
    "TagKeys": ["a"],
    "Description": "d",
    "NewUserName": "u2",
    "NewGroupName": "g2",
}
