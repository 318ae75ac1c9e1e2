"""Organizations handlers: create an organization and accounts, and the
OrganizationAccountAccessRole that trusts the management account."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from rolegate.errors import AccessDenied, AwsError
from tests.sts.conftest import A, B, World, allow, role_arn, root


def org(world: World, principal: Any, action: str, **params: Any) -> Any:
    return world.call("organizations", action, principal, **params)


def codes(e: pytest.ExceptionInfo[AwsError]) -> str:
    return e.value.code


@pytest.fixture
def managed(world: World) -> Iterator[World]:
    org(world, root(A), "CreateOrganization", FeatureSet="ALL")
    yield world


def test_describe_before_and_after_create(world: World) -> None:
    with pytest.raises(AwsError) as e:
        org(world, root(A), "DescribeOrganization")
    assert codes(e) == "AWSOrganizationsNotInUseException"
    out = org(world, root(A), "CreateOrganization", FeatureSet="ALL")["Organization"]
    assert out["Id"].startswith("o-") and len(out["Id"]) == 12
    assert out["MasterAccountId"] == A
    assert out["MasterAccountEmail"] == "main@example.com"
    assert out["FeatureSet"] == "ALL"
    assert out["Arn"] == f"arn:aws:organizations::{A}:organization/{out['Id']}"
    assert org(world, root(A), "DescribeOrganization")["Organization"] == out
    with pytest.raises(AwsError) as e:
        org(world, root(A), "CreateOrganization")
    assert codes(e) == "AlreadyInOrganizationException"


def test_create_account_makes_a_role_trusting_the_management_account(managed: World) -> None:
    world = managed
    status = org(world, root(A), "CreateAccount", Email="prod@example.com", AccountName="prod")[
        "CreateAccountStatus"
    ]
    assert status["State"] == "SUCCEEDED" and status["Id"].startswith("car-")
    new = status["AccountId"]
    assert len(new) == 12 and new.isdigit() and new not in (A, B)
    again = org(world, root(A), "DescribeCreateAccountStatus", CreateAccountRequestId=status["Id"])
    assert again["CreateAccountStatus"] == status

    role = world.store.get(new, "role", "OrganizationAccountAccessRole")
    assert role is not None
    assert role.arn == role_arn(new, "OrganizationAccountAccessRole")
    trust_doc = json.loads(role.data["assume_role_policy"])
    assert trust_doc["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{A}:root"}
    assert list(role.data["attached_policies"]) == ["arn:aws:iam::aws:policy/AdministratorAccess"]

    # An administrator of the management account can assume it and act there.
    admin = world.user(A, "admin", allow("*"))
    creds = world.assume(admin, role.arn, "ops")["Credentials"]
    assert world.last.audit_extra["recipient_accounts"] == [A, new]
    there = world.principal(creds)
    assert world.sts(there, "GetCallerIdentity")["Account"] == new
    assert world.allowed(there, "iam:CreateUser", f"arn:aws:iam::{new}:user/x")
    world.call("iam", "CreateUser", there, UserName="prod-user")
    assert world.store.get(new, "user", "prod-user") is not None
    # Without an identity policy a management-account user is refused (the trust names the account).
    nobody = world.user(A, "nobody")
    with pytest.raises(AccessDenied):
        world.assume(nobody, role.arn, "xx")
    # A user of an unrelated account is refused too.
    stranger = world.user(B, "stranger", allow("*"))
    with pytest.raises(AccessDenied):
        world.assume(stranger, role.arn, "xx")


def test_custom_role_name_duplicate_email_and_validation(managed: World) -> None:
    world = managed
    st = org(
        world,
        root(A),
        "CreateAccount",
        Email="dev@example.com",
        AccountName="dev",
        RoleName="Admin",
    )["CreateAccountStatus"]
    assert world.store.get(st["AccountId"], "role", "Admin") is not None
    dup = org(world, root(A), "CreateAccount", Email="DEV@example.com", AccountName="dev2")[
        "CreateAccountStatus"
    ]
    assert dup["State"] == "FAILED" and dup["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    assert "AccountId" not in dup
    for bad in ({"Email": "nope", "AccountName": "x"}, {"Email": "a@b.co", "AccountName": ""}):
        with pytest.raises(AwsError) as e:
            org(world, root(A), "CreateAccount", **bad)
        assert codes(e) == "InvalidInputException"
    with pytest.raises(AwsError) as e:
        org(world, root(A), "DescribeCreateAccountStatus", CreateAccountRequestId="car-00000000")
    assert codes(e) == "CreateAccountStatusNotFoundException"


def test_list_and_describe_accounts(managed: World) -> None:
    world = managed
    made = []
    for i in range(3):
        st = org(world, root(A), "CreateAccount", Email=f"a{i}@example.com", AccountName=f"acct{i}")
        made.append(st["CreateAccountStatus"]["AccountId"])
    seen: list[str] = []
    token = None
    while True:
        extra = {"NextToken": token} if token else {}
        page = org(world, root(A), "ListAccounts", MaxResults=2, **extra)
        seen.extend(a["Id"] for a in page["Accounts"])
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted([A, *made])  # B is not in the organization
    acct = org(world, root(A), "DescribeAccount", AccountId=made[0])["Account"]
    assert acct["Name"] == "acct0" and acct["Email"] == "a0@example.com"
    assert acct["JoinedMethod"] == "CREATED" and acct["Status"] == "ACTIVE"
    mgmt = org(world, root(A), "DescribeAccount", AccountId=A)["Account"]
    assert mgmt["JoinedMethod"] == "INVITED"
    with pytest.raises(AwsError) as e:
        org(world, root(A), "DescribeAccount", AccountId=B)
    assert codes(e) == "AccountNotFoundException"
    with pytest.raises(AwsError) as e:
        org(world, root(A), "ListAccounts", NextToken="garbage")
    assert codes(e) == "InvalidInputException"
    # Members see the organization but cannot manage it.
    member = root(made[0])
    assert org(world, member, "DescribeOrganization")["Organization"]["MasterAccountId"] == A
    with pytest.raises(AwsError) as e:
        org(world, member, "ListAccounts")
    assert codes(e) == "AccessDeniedException"
    # Outsiders are not in an organization.
    with pytest.raises(AwsError) as e:
        org(world, root(B), "ListAccounts")
    assert codes(e) == "AWSOrganizationsNotInUseException"


def test_organizations_actions_are_authorised(managed: World) -> None:
    world = managed
    reader = world.user(A, "reader", allow(["organizations:Describe*", "organizations:List*"]))
    org(world, reader, "DescribeOrganization")
    org(world, reader, "ListAccounts")
    with pytest.raises(AwsError) as e:
        org(world, reader, "CreateAccount", Email="x@example.com", AccountName="x")
    assert codes(e) == "AccessDeniedException"
    assert "organizations:CreateAccount" in e.value.message
