from __future__ import annotations

import json

import pytest

from rolegate.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
    ValidationError,
)
from tests.iam.conftest import ACCOUNT, OTHER_ACCOUNT, all_pages, allow, doc, trust


def test_create_get_role(iam):
    text = trust()
    r = iam(
        "CreateRole",
        RoleName="App",
        Path="/svc/",
        AssumeRolePolicyDocument=text,
        Description="the app",
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "core"}],
    )["Role"]
    assert r["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/svc/App"
    assert r["RoleId"].startswith("AROA") and len(r["RoleId"]) == 21
    assert r["AssumeRolePolicyDocument"] == text  # the exact text, as sent
    # CreateRole's answer leaves these out (recorded against AWS); GetRole has them.
    assert "MaxSessionDuration" not in r and "Description" not in r
    got = iam("GetRole", RoleName="app")["Role"]
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "the app"
    assert got["RoleName"] == "App"
    assert got["Tags"] == [{"Key": "team", "Value": "core"}]
    assert got["RoleLastUsed"] == {}
    assert iam.last.audit_resources[0]["type"] == "AWS::IAM::Role"


def test_role_defaults_and_errors(iam):
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    r = iam("GetRole", RoleName="r")["Role"]
    assert r["MaxSessionDuration"] == 3600 and r["Path"] == "/"
    assert "Description" not in r
    with pytest.raises(EntityAlreadyExists) as e:
        iam("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust())
    assert e.value.message == "Role with name R already exists."
    with pytest.raises(NoSuchEntity) as e:
        iam("GetRole", RoleName="nope")
    assert e.value.message == "The role with name nope cannot be found."
    for bad in (3599, 43201):
        with pytest.raises(ValidationError):
            iam(
                "CreateRole", RoleName="x", AssumeRolePolicyDocument=trust(), MaxSessionDuration=bad
            )


def test_trust_policy_validation(iam):
    with pytest.raises(MalformedPolicyDocument):
        iam("CreateRole", RoleName="x", AssumeRolePolicyDocument='{"Statement": [')
    # A trust policy must name a principal.
    with pytest.raises(MalformedPolicyDocument):
        iam(
            "CreateRole",
            RoleName="x",
            AssumeRolePolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole"}),
        )
    big = doc(
        *[
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "x" * 200}},
            }
            for _ in range(10)
        ]
    )
    with pytest.raises(LimitExceeded) as e:
        iam("CreateRole", RoleName="x", AssumeRolePolicyDocument=big)
    assert e.value.message == "Cannot exceed quota for ACLSizePerRole: 2048"


def test_trust_policy_allows_only_sts_actions(iam):
    who = {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}
    for i, action in enumerate(
        (
            "sts:AssumeRole",
            ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            "sts:AssumeRoleWithWebIdentity",
            "STS:assumerole",
            "sts:*",
            "sts:Assume*",
            "*",
        )
    ):
        text = doc({"Effect": "Allow", "Principal": who, "Action": action})
        iam("CreateRole", RoleName=f"ok{i}", AssumeRolePolicyDocument=text)
    for action in ("s3:GetObject", ["sts:AssumeRole", "iam:*"], "sts:BadAssumeRole"):
        text = doc({"Effect": "Allow", "Principal": who, "Action": action})
        with pytest.raises(MalformedPolicyDocument) as e:
            iam("CreateRole", RoleName="bad", AssumeRolePolicyDocument=text)
        assert e.value.message == (
            "Trust Policy statement actions can only be sts:AssumeRole, "
            "sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity"
        )
        with pytest.raises(MalformedPolicyDocument):
            iam("UpdateAssumeRolePolicy", RoleName="ok0", PolicyDocument=text)
    assert "bad" not in {r["RoleName"] for r in iam("ListRoles")["Roles"]}


def test_trust_principal_shapes(iam):
    other = "999999999999"  # not hosted here: its users and roles can't be looked up
    good = (
        "*",
        other,
        f"arn:aws:iam::{other}:root",
        f"arn:aws:iam::{other}:user/team/someone",
        f"arn:aws:iam::{other}:role/r",
        f"arn:aws:sts::{other}:assumed-role/r/session",
        f"arn:aws:sts::{other}:federated-user/bob",
        "AROAEXAMPLEEXAMPLE123",  # what AWS shows once a named role is deleted
    )
    for i, who in enumerate(good):
        iam("CreateRole", RoleName=f"ok{i}", AssumeRolePolicyDocument=trust({"AWS": who}))
    bad = (
        "bogus",
        "12345",
        f"arn:aws:iam::{other}:user/ali*",
        "arn:aws:iam::*:root",
        f"arn:aws:iam::{other}:group/admins",
        f"arn:aws:s3:::{other}",
    )
    for who in bad:
        with pytest.raises(MalformedPolicyDocument) as e:
            iam("CreateRole", RoleName="bad", AssumeRolePolicyDocument=trust({"AWS": who}))
        assert e.value.message == f'Invalid principal in policy: "AWS":"{who}"'
    # Service principals: host names under a domain; AWS refuses the rest.
    for i, svc in enumerate(("ec2.amazonaws.com", "states.eu-west-1.amazonaws.com")):
        iam("CreateRole", RoleName=f"svc{i}", AssumeRolePolicyDocument=trust({"Service": svc}))
    for svc in ("ec2", "amazonaws.com"):
        with pytest.raises(MalformedPolicyDocument) as e:
            iam("CreateRole", RoleName="bad", AssumeRolePolicyDocument=trust({"Service": svc}))
        assert e.value.message == f'Invalid principal in policy: "SERVICE":"{svc}"'
    # Federated: a web identity provider's domain, or a SAML/OIDC provider ARN.
    for i, fed in enumerate(
        (
            "accounts.google.com",
            f"arn:aws:iam::{other}:saml-provider/corp",
            f"arn:aws:iam::{other}:oidc-provider/oidc.example.com/id/1",
        )
    ):
        iam("CreateRole", RoleName=f"fed{i}", AssumeRolePolicyDocument=trust({"Federated": fed}))
    for fed in ("bogus", f"arn:aws:iam::{other}:user/u"):
        with pytest.raises(MalformedPolicyDocument) as e:
            iam("CreateRole", RoleName="bad", AssumeRolePolicyDocument=trust({"Federated": fed}))
        assert e.value.message == (
            "Federated principals must be valid domain names or SAML metadata ARNs"
        )


def test_trust_principal_must_exist_in_hosted_accounts(iam):
    missing = f"arn:aws:iam::{ACCOUNT}:user/ghost"
    with pytest.raises(MalformedPolicyDocument) as e:
        iam("CreateRole", RoleName="x", AssumeRolePolicyDocument=trust({"AWS": missing}))
    assert e.value.message == f'Invalid principal in policy: "AWS":"{missing}"'
    iam("CreateUser", UserName="ghost")
    text = trust({"AWS": [missing, f"arn:aws:iam::{ACCOUNT}:root", "999999999999"]})
    iam("CreateRole", RoleName="x", AssumeRolePolicyDocument=text)
    assert iam("GetRole", RoleName="x")["Role"]["AssumeRolePolicyDocument"] == text
    # The path is part of the ARN: a user at another path is another principal.
    with pytest.raises(MalformedPolicyDocument):
        iam(
            "UpdateAssumeRolePolicy",
            RoleName="x",
            PolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/p/ghost"}),
        )
    # Roles are checked too; unhosted accounts and services are not.
    with pytest.raises(MalformedPolicyDocument):
        iam(
            "UpdateAssumeRolePolicy",
            RoleName="x",
            PolicyDocument=trust({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:role/none"}),
        )
    iam(
        "UpdateAssumeRolePolicy",
        RoleName="x",
        PolicyDocument=trust({"AWS": "arn:aws:iam::999999999999:role/none"}),
    )
    iam(
        "UpdateAssumeRolePolicy",
        RoleName="x",
        PolicyDocument=trust({"Service": "ec2.amazonaws.com"}),
    )
    iam(
        "UpdateAssumeRolePolicy",
        RoleName="x",
        PolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"}),
    )


def test_update_role(iam):
    iam("CreateRole", RoleName="u", AssumeRolePolicyDocument=trust(), Description="old")
    assert iam("UpdateRole", RoleName="u", MaxSessionDuration=43200) == {}
    r = iam("GetRole", RoleName="u")["Role"]
    assert r["MaxSessionDuration"] == 43200 and r["Description"] == "old"
    iam("UpdateRole", RoleName="u", Description="new")
    assert iam("GetRole", RoleName="u")["Role"]["MaxSessionDuration"] == 43200
    out = iam("UpdateRoleDescription", RoleName="u", Description="newer")["Role"]
    assert out["Description"] == "newer"
    assert "MaxSessionDuration" not in out and "RoleLastUsed" not in out  # as AWS answers
    new_trust = trust({"Service": "lambda.amazonaws.com"})
    iam("UpdateAssumeRolePolicy", RoleName="u", PolicyDocument=new_trust)
    assert iam("GetRole", RoleName="u")["Role"]["AssumeRolePolicyDocument"] == new_trust
    with pytest.raises(MalformedPolicyDocument):
        iam("UpdateAssumeRolePolicy", RoleName="u", PolicyDocument=allow())
    with pytest.raises(NoSuchEntity):
        iam("UpdateRole", RoleName="missing", Description="x")


def test_list_roles(iam):
    for i in range(5):
        iam(
            "CreateRole",
            RoleName=f"role{i}",
            Path="/a/" if i < 3 else "/b/",
            AssumeRolePolicyDocument=trust(),
            Tags=[{"Key": "k", "Value": "v"}],
        )
    roles = all_pages(iam, "ListRoles", "Roles", MaxItems=2)
    assert [r["RoleName"] for r in roles] == [f"role{i}" for i in range(5)]
    assert all("Tags" not in r and "RoleLastUsed" not in r for r in roles)
    assert all(json.loads(r["AssumeRolePolicyDocument"]) for r in roles)
    assert [r["RoleName"] for r in iam("ListRoles", PathPrefix="/b/")["Roles"]] == [
        "role3",
        "role4",
    ]


def test_delete_role_conflicts(iam):
    iam("CreateRole", RoleName="d", AssumeRolePolicyDocument=trust())
    iam("PutRolePolicy", RoleName="d", PolicyName="p", PolicyDocument=allow())
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteRole", RoleName="d")
    assert e.value.message == "Cannot delete entity, must delete policies first."
    iam("DeleteRolePolicy", RoleName="d", PolicyName="p")
    iam("AttachRolePolicy", RoleName="d", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteRole", RoleName="d")
    assert e.value.message == "Cannot delete entity, must detach all policies first."
    iam("DetachRolePolicy", RoleName="d", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    # A boundary does not block deletion.
    iam(
        "PutRolePermissionsBoundary",
        RoleName="d",
        PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    iam("DeleteRole", RoleName="D")
    with pytest.raises(NoSuchEntity):
        iam("DeleteRole", RoleName="d")


def test_role_last_used_is_rendered(iam, store):
    iam("CreateRole", RoleName="used", AssumeRolePolicyDocument=trust())
    with store.transaction() as tx:
        e = tx.get(ACCOUNT, "role", "used")
        tx.update(
            e, {**e.data, "last_used": {"date": "2026-03-04T05:06:07+00:00", "region": "eu-west-1"}}
        )
    last = iam("GetRole", RoleName="used")["Role"]["RoleLastUsed"]
    assert last["Region"] == "eu-west-1" and last["LastUsedDate"].year == 2026
