from __future__ import annotations

import pytest

from rolegate.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
)
from tests.iam.conftest import ACCOUNT, OTHER_ACCOUNT, T0, all_pages, allow, doc, trust

ARN = f"arn:aws:iam::{ACCOUNT}:policy/team/getter"


def make(iam, name="getter", path="/team/", **kw):
    return iam("CreatePolicy", PolicyName=name, Path=path, PolicyDocument=allow("iam:Get*"), **kw)[
        "Policy"
    ]


def test_create_get_policy(iam):
    p = make(iam, Description="reads", Tags=[{"Key": "a", "Value": "b"}])
    assert p["Arn"] == ARN and p["PolicyId"].startswith("ANPA")
    assert p["DefaultVersionId"] == "v1" and p["AttachmentCount"] == 0
    assert p["PermissionsBoundaryUsageCount"] == 0 and p["IsAttachable"] is True
    # CreatePolicy's answer leaves the description out; GetPolicy has it
    # (recorded against AWS).
    assert "Description" not in p and p["Tags"] == [{"Key": "a", "Value": "b"}]
    assert p["CreateDate"] == T0 and p["UpdateDate"] == T0
    got = iam("GetPolicy", PolicyArn=ARN)["Policy"]
    assert got["PolicyName"] == "getter" and got["Path"] == "/team/"
    assert got["Description"] == "reads"
    iam("CreatePolicy", PolicyName="bare", PolicyDocument=allow("iam:Get*"))
    bare = iam("GetPolicy", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/bare")["Policy"]
    assert bare["Tags"] == []
    with pytest.raises(EntityAlreadyExists) as e:
        make(iam, name="GETTER", path="/other/")  # unique per account, whatever the path
    assert (
        e.value.message == "A policy called GETTER already exists. Duplicate names are not allowed."
    )


def test_policy_document_checks(iam):
    with pytest.raises(MalformedPolicyDocument):
        iam("CreatePolicy", PolicyName="p", PolicyDocument="{nope")
    with pytest.raises(MalformedPolicyDocument):  # identity policies name no principal
        iam("CreatePolicy", PolicyName="p", PolicyDocument=trust())
    big = doc(
        *[
            {
                "Effect": "Allow",
                "Action": f"s3:GetObject{i:04d}",
                "Resource": "arn:aws:s3:::b/" + "x" * 100,
            }
            for i in range(60)
        ]
    )
    with pytest.raises(LimitExceeded) as e:
        iam("CreatePolicy", PolicyName="p", PolicyDocument=big)
    assert e.value.message == "Cannot exceed quota for PolicySize: 6144"


def test_get_policy_errors(iam):
    with pytest.raises(NoSuchEntity) as e:
        iam("GetPolicy", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/none")
    assert e.value.message == f"Policy arn:aws:iam::{ACCOUNT}:policy/none was not found."
    with pytest.raises(InvalidInput):
        iam("GetPolicy", PolicyArn="arn:aws:s3:::bucket")
    make(iam)
    # Same name under another path is not the same policy.
    with pytest.raises(NoSuchEntity):
        iam("GetPolicy", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/getter")
    # Another account's policies are invisible.
    with pytest.raises(NoSuchEntity):
        iam("GetPolicy", PolicyArn=f"arn:aws:iam::{OTHER_ACCOUNT}:policy/team/getter")


def test_versions(iam):
    make(iam)
    v2 = iam("CreatePolicyVersion", PolicyArn=ARN, PolicyDocument=allow("iam:List*"))[
        "PolicyVersion"
    ]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"] is False
    assert "Document" not in v2  # as AWS answers; GetPolicyVersion has it
    got2 = iam("GetPolicyVersion", PolicyArn=ARN, VersionId="v2")["PolicyVersion"]
    assert got2["Document"] == allow("iam:List*")
    v3 = iam(
        "CreatePolicyVersion", PolicyArn=ARN, PolicyDocument=allow("iam:*"), SetAsDefault=True
    )["PolicyVersion"]
    assert v3["IsDefaultVersion"] is True
    assert iam("GetPolicy", PolicyArn=ARN)["Policy"]["DefaultVersionId"] == "v3"
    assert iam("GetPolicy", PolicyArn=ARN)["Policy"]["UpdateDate"] == v3["CreateDate"]
    got = iam("GetPolicyVersion", PolicyArn=ARN, VersionId="v1")["PolicyVersion"]
    assert got["Document"] == allow("iam:Get*") and got["IsDefaultVersion"] is False
    listed = iam("ListPolicyVersions", PolicyArn=ARN)["Versions"]
    assert [v["VersionId"] for v in listed] == ["v3", "v2", "v1"]
    assert all("Document" not in v for v in listed)

    iam("CreatePolicyVersion", PolicyArn=ARN, PolicyDocument=allow())
    iam("CreatePolicyVersion", PolicyArn=ARN, PolicyDocument=allow())
    with pytest.raises(LimitExceeded) as e:
        iam("CreatePolicyVersion", PolicyArn=ARN, PolicyDocument=allow())
    assert e.value.message == (
        "A managed policy can have up to 5 versions. Before you create a new version, "
        "you must delete an existing version."
    )
    with pytest.raises(DeleteConflict) as e:
        iam("DeletePolicyVersion", PolicyArn=ARN, VersionId="v3")
    assert e.value.message == "Cannot delete the default version of a policy."
    iam("DeletePolicyVersion", PolicyArn=ARN, VersionId="v1")
    # Version ids are never reused.
    assert (
        iam("CreatePolicyVersion", PolicyArn=ARN, PolicyDocument=allow())["PolicyVersion"][
            "VersionId"
        ]
        == "v6"
    )
    with pytest.raises(NoSuchEntity):
        iam("GetPolicyVersion", PolicyArn=ARN, VersionId="v1")
    with pytest.raises(NoSuchEntity):
        iam("SetDefaultPolicyVersion", PolicyArn=ARN, VersionId="v1")
    iam("SetDefaultPolicyVersion", PolicyArn=ARN, VersionId="v2")
    assert iam("GetPolicy", PolicyArn=ARN)["Policy"]["DefaultVersionId"] == "v2"
    page = iam("ListPolicyVersions", PolicyArn=ARN, MaxItems=2)
    rest = iam("ListPolicyVersions", PolicyArn=ARN, Marker=page["Marker"])
    assert [v["VersionId"] for v in page["Versions"] + rest["Versions"]] == [
        "v6",
        "v5",
        "v4",
        "v3",
        "v2",
    ]


def test_delete_policy_rules(iam):
    make(iam)
    iam("CreateUser", UserName="u")
    iam("AttachUserPolicy", UserName="u", PolicyArn=ARN)
    with pytest.raises(DeleteConflict) as e:
        iam("DeletePolicy", PolicyArn=ARN)
    assert e.value.message == "Cannot delete a policy attached to entities."
    iam("DetachUserPolicy", UserName="u", PolicyArn=ARN)
    iam("PutUserPermissionsBoundary", UserName="u", PermissionsBoundary=ARN)
    with pytest.raises(DeleteConflict):
        iam("DeletePolicy", PolicyArn=ARN)
    iam("DeleteUserPermissionsBoundary", UserName="u")
    iam("CreatePolicyVersion", PolicyArn=ARN, PolicyDocument=allow(), SetAsDefault=True)
    with pytest.raises(DeleteConflict):
        iam("DeletePolicy", PolicyArn=ARN)
    iam("DeletePolicyVersion", PolicyArn=ARN, VersionId="v1")
    iam("DeletePolicy", PolicyArn=ARN)
    with pytest.raises(NoSuchEntity):
        iam("GetPolicy", PolicyArn=ARN)


def test_aws_managed_policies_are_read_only(iam):
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert iam("GetPolicy", PolicyArn=arn)["Policy"]["PolicyName"] == "AdministratorAccess"
    for action, extra in (
        ("DeletePolicy", {}),
        ("CreatePolicyVersion", {"PolicyDocument": allow()}),
        ("SetDefaultPolicyVersion", {"VersionId": "v1"}),
        ("DeletePolicyVersion", {"VersionId": "v1"}),
        ("TagPolicy", {"Tags": [{"Key": "a", "Value": "b"}]}),
    ):
        with pytest.raises(AccessDenied):
            iam(action, PolicyArn=arn, **extra)


def test_list_policies_scopes_and_filters(iam):
    make(iam, name="local1", path="/")
    make(iam, name="local2", path="/x/")
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    iam("AttachRolePolicy", RoleName="r", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/local1")
    iam("AttachRolePolicy", RoleName="r", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam(
        "PutRolePermissionsBoundary",
        RoleName="r",
        PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:policy/x/local2",
    )

    local = iam("ListPolicies", Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local] == ["local1", "local2"]
    assert all("Tags" not in p and "Description" not in p for p in local)
    aws = {p["PolicyName"] for p in iam("ListPolicies", Scope="AWS")["Policies"]}
    assert {
        "AdministratorAccess",
        "ReadOnlyAccess",
        "IAMFullAccess",
        "IAMReadOnlyAccess",
        "PowerUserAccess",
        "AWSOrganizationsFullAccess",
    } <= aws
    assert "local1" not in aws
    everything = all_pages(iam, "ListPolicies", "Policies", MaxItems=3)
    assert {p["PolicyName"] for p in everything} == aws | {"local1", "local2"}
    assert len(everything) == len(aws) + 2

    attached = iam("ListPolicies", OnlyAttached=True)["Policies"]
    assert {p["PolicyName"] for p in attached} == {"ReadOnlyAccess", "local1", "local2"}
    counts = {
        p["PolicyName"]: (p["AttachmentCount"], p["PermissionsBoundaryUsageCount"])
        for p in attached
    }
    assert counts == {"ReadOnlyAccess": (1, 0), "local1": (1, 0), "local2": (0, 1)}
    perms = iam("ListPolicies", OnlyAttached=True, PolicyUsageFilter="PermissionsPolicy")[
        "Policies"
    ]
    assert {p["PolicyName"] for p in perms} == {"ReadOnlyAccess", "local1"}
    bounds = iam("ListPolicies", PolicyUsageFilter="PermissionsBoundary")["Policies"]
    assert [p["PolicyName"] for p in bounds] == ["local2"]
    assert [
        p["PolicyName"] for p in iam("ListPolicies", Scope="Local", PathPrefix="/x/")["Policies"]
    ] == ["local2"]


def test_list_entities_for_policy(iam):
    make(iam)
    iam("CreateUser", UserName="u1")
    iam("CreateUser", UserName="u2", Path="/p/")
    iam("CreateGroup", GroupName="g")
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    for kind, name in (("User", "u1"), ("User", "u2"), ("Group", "g"), ("Role", "r")):
        iam(f"Attach{kind}Policy", **{f"{kind}Name": name}, PolicyArn=ARN)
    out = iam("ListEntitiesForPolicy", PolicyArn=ARN)
    assert [u["UserName"] for u in out["PolicyUsers"]] == ["u1", "u2"]
    assert [g["GroupName"] for g in out["PolicyGroups"]] == ["g"]
    assert [r["RoleName"] for r in out["PolicyRoles"]] == ["r"]
    assert out["PolicyRoles"][0]["RoleId"].startswith("AROA")
    only_users = iam("ListEntitiesForPolicy", PolicyArn=ARN, EntityFilter="User", PathPrefix="/p/")
    assert [u["UserName"] for u in only_users["PolicyUsers"]] == ["u2"]
    assert only_users["PolicyRoles"] == [] and only_users["PolicyGroups"] == []
    page = iam("ListEntitiesForPolicy", PolicyArn=ARN, MaxItems=3)
    assert page["IsTruncated"] is True
    assert iam("GetPolicy", PolicyArn=ARN)["Policy"]["AttachmentCount"] == 4
    # A policy-kind filter matches no user, group or role (recorded against AWS).
    for kind in ("LocalManagedPolicy", "AWSManagedPolicy"):
        none = iam("ListEntitiesForPolicy", PolicyArn=ARN, EntityFilter=kind)
        assert none["PolicyUsers"] == none["PolicyGroups"] == none["PolicyRoles"] == []


def test_missing_policy_messages_follow_aws(iam):
    # AWS words "no such policy" differently per action (recorded against AWS).
    ghost = f"arn:aws:iam::{ACCOUNT}:policy/TestNonExistingPolicy"
    for action, extra, message in (
        ("GetPolicy", {}, f"Policy {ghost} was not found."),
        (
            "GetPolicyVersion",
            {"VersionId": "v1"},
            f"Policy {ghost} version v1 does not exist or is not attachable.",
        ),
        (
            "SetDefaultPolicyVersion",
            {"VersionId": "v1"},
            f"Policy {ghost} version v1 does not exist or is not attachable.",
        ),
        ("ListEntitiesForPolicy", {}, f"Policy {ghost} does not exist or is not attachable."),
    ):
        with pytest.raises(NoSuchEntity) as e:
            iam(action, PolicyArn=ghost, **extra)
        assert e.value.message == message, action
