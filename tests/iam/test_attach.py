from __future__ import annotations

import pytest

from rolegate.errors import InvalidInput, LimitExceeded, NoSuchEntity
from tests.iam.conftest import ACCOUNT, OTHER_ACCOUNT, all_pages, allow, trust

RO = "arn:aws:iam::aws:policy/ReadOnlyAccess"
KINDS = [("User", "UserName"), ("Group", "GroupName"), ("Role", "RoleName")]


def create(iam, kind, name):
    if kind == "Role":
        iam("CreateRole", RoleName=name, AssumeRolePolicyDocument=trust())
    else:
        iam(f"Create{kind}", **{f"{kind}Name": name})


def local(iam, name, path="/"):
    return iam("CreatePolicy", PolicyName=name, Path=path, PolicyDocument=allow())["Policy"]["Arn"]


@pytest.mark.parametrize(("kind", "param"), KINDS)
def test_attach_detach_list(iam, kind, param):
    create(iam, kind, "e")
    mine = local(iam, "mine", "/team/")
    iam(f"Attach{kind}Policy", **{param: "e"}, PolicyArn=RO)
    iam(f"Attach{kind}Policy", **{param: "E"}, PolicyArn=mine)
    iam(f"Attach{kind}Policy", **{param: "e"}, PolicyArn=RO)  # again: no-op
    got = iam(f"ListAttached{kind}Policies", **{param: "e"})["AttachedPolicies"]
    assert sorted((a["PolicyName"], a["PolicyArn"]) for a in got) == [
        ("ReadOnlyAccess", RO),
        ("mine", mine),
    ]
    only = iam(f"ListAttached{kind}Policies", **{param: "e"}, PathPrefix="/team/")[
        "AttachedPolicies"
    ]
    assert only == [{"PolicyName": "mine", "PolicyArn": mine}]
    assert iam("GetPolicy", PolicyArn=RO)["Policy"]["AttachmentCount"] == 1
    # The authoriser sees which policy is being attached.
    attach_calls = [c for c in iam.auth.calls if c[0] == f"iam:Attach{kind}Policy"]
    assert attach_calls[0][2]["iam:PolicyARN"] == RO
    iam(f"Detach{kind}Policy", **{param: "e"}, PolicyArn=RO)
    with pytest.raises(NoSuchEntity) as e:
        iam(f"Detach{kind}Policy", **{param: "e"}, PolicyArn=RO)
    assert e.value.message == f"Policy {RO} was not found."
    assert [
        a["PolicyName"]
        for a in iam(f"ListAttached{kind}Policies", **{param: "e"})["AttachedPolicies"]
    ] == ["mine"]


@pytest.mark.parametrize(("kind", "param"), KINDS)
def test_attach_errors(iam, kind, param):
    create(iam, kind, "e")
    for arn in (
        f"arn:aws:iam::{ACCOUNT}:policy/none",
        f"arn:aws:iam::{OTHER_ACCOUNT}:policy/none",
        "arn:aws:iam::aws:policy/NotAThing",
    ):
        with pytest.raises(NoSuchEntity) as e:
            iam(f"Attach{kind}Policy", **{param: "e"}, PolicyArn=arn)
        assert e.value.message == f"Policy {arn} does not exist or is not attachable."
    with pytest.raises(InvalidInput):
        iam(f"Attach{kind}Policy", **{param: "e"}, PolicyArn="arn:aws:iam::123456789012:role/x")
    with pytest.raises(NoSuchEntity) as e:
        iam(f"Attach{kind}Policy", **{param: "ghost"}, PolicyArn=RO)
    assert e.value.message == f"The {kind.lower()} with name ghost cannot be found."


@pytest.mark.parametrize(("kind", "param"), KINDS)
def test_attach_quota(iam, kind, param):
    create(iam, kind, "e")
    arns = [local(iam, f"p{i:02d}") for i in range(11)]
    for arn in arns[:10]:
        iam(f"Attach{kind}Policy", **{param: "e"}, PolicyArn=arn)
    with pytest.raises(LimitExceeded) as e:
        iam(f"Attach{kind}Policy", **{param: "e"}, PolicyArn=arns[10])
    assert e.value.message == f"Cannot exceed quota for PoliciesPer{kind}: 10"
    listed = all_pages(
        iam, f"ListAttached{kind}Policies", "AttachedPolicies", **{param: "e"}, MaxItems=3
    )
    assert [a["PolicyArn"] for a in listed] == arns[:10]


@pytest.mark.parametrize(("kind", "param"), [("User", "UserName"), ("Role", "RoleName")])
def test_permissions_boundary(iam, kind, param):
    create(iam, kind, "b")
    mine = local(iam, "bound")
    iam(f"Put{kind}PermissionsBoundary", **{param: "b"}, PermissionsBoundary=mine)
    got = iam(f"Get{kind}", **{param: "b"})[kind]
    assert got["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": mine,
    }
    assert iam("GetPolicy", PolicyArn=mine)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    iam(f"Put{kind}PermissionsBoundary", **{param: "b"}, PermissionsBoundary=RO)  # replace
    assert (
        iam(f"Get{kind}", **{param: "b"})[kind]["PermissionsBoundary"]["PermissionsBoundaryArn"]
        == RO
    )
    missing = f"arn:aws:iam::{ACCOUNT}:policy/none"
    with pytest.raises(NoSuchEntity) as e:
        iam(f"Put{kind}PermissionsBoundary", **{param: "b"}, PermissionsBoundary=missing)
    assert e.value.message == f"Scope ARN: {missing} does not exist or is not attachable."
    iam(f"Delete{kind}PermissionsBoundary", **{param: "b"})
    assert "PermissionsBoundary" not in iam(f"Get{kind}", **{param: "b"})[kind]
    iam(f"Delete{kind}PermissionsBoundary", **{param: "b"})  # idempotent
    with pytest.raises(NoSuchEntity):
        iam(f"Delete{kind}PermissionsBoundary", **{param: "ghost"})
