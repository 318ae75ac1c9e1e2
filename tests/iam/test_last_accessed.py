"""The access advisor (GenerateServiceLastAccessedDetails and its two Gets)
and ListPoliciesGrantingServiceAccess, at handler level: the services an
entity's policies allow, and when its calls (from the audit trail) last
used them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from rolegate.errors import AccessDenied, InvalidInput, NoSuchEntity, ValidationError

from .conftest import ACCOUNT, T0, Iam, allow, doc, trust


def _event(
    when: datetime,
    source: str,
    name: str,
    *,
    user: Any = None,
    role: Any = None,
    region: str = "eu-west-1",
    error: str | None = None,
) -> dict[str, Any]:
    """A CloudTrail record as rolegate's audit writer stores it."""
    if user is not None:
        ident = {
            "type": "IAMUser",
            "principalId": user.entity_id,
            "arn": user.arn,
            "accountId": ACCOUNT,
            "userName": user.name,
        }
    else:
        ident = {
            "type": "AssumedRole",
            "principalId": f"{role.entity_id}:s1",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.name}/s1",
            "accountId": ACCOUNT,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role.entity_id,
                    "arn": role.arn,
                    "accountId": ACCOUNT,
                    "userName": role.name,
                }
            },
        }
    ev: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": ident,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "recipientAccountId": ACCOUNT,
    }
    if error:
        ev["errorCode"] = error
    return ev


def _report(iam: Iam, arn: str, **params: Any) -> tuple[str, dict[str, Any]]:
    job = iam("GenerateServiceLastAccessedDetails", Arn=arn, **params)["JobId"]
    assert len(job) == 36
    return job, iam("GetServiceLastAccessedDetails", JobId=job)


def _by_ns(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["ServiceNamespace"]: s for s in out["ServicesLastAccessed"]}


@pytest.fixture
def alice(iam: Iam, store: Any) -> Any:
    iam("CreateUser", UserName="alice")
    iam(
        "PutUserPolicy",
        UserName="alice",
        PolicyName="sts-and-iam",
        PolicyDocument=allow(["sts:GetCallerIdentity", "iam:Get*"]),  # type: ignore[arg-type]
    )
    return store.get(ACCOUNT, "user", "alice")


def test_user_report_from_audit_trail(iam: Iam, store: Any, alice: Any) -> None:
    # Two sts calls (the newer one denied: attempts count) and an s3 call
    # the policies do not allow (not reported).
    store.append_events(
        [
            _event(T0 - timedelta(days=2), "sts", "GetCallerIdentity", user=alice),
            _event(
                T0 - timedelta(hours=1),
                "sts",
                "AssumeRole",
                user=alice,
                region="us-west-2",
                error="AccessDenied",
            ),
            _event(T0 - timedelta(hours=1), "s3", "ListBuckets", user=alice),
        ]
    )
    job, out = _report(iam, alice.arn)
    assert out["JobStatus"] == "COMPLETED" and out["JobType"] == "SERVICE_LEVEL"
    assert out["JobCreationDate"] <= out["JobCompletionDate"]
    assert out["IsTruncated"] is False
    services = _by_ns(out)
    assert list(services) == ["iam", "sts"]  # sorted by namespace
    sts = services["sts"]
    assert sts["ServiceName"] == "AWS Security Token Service"
    assert sts["LastAuthenticated"] == (T0 - timedelta(hours=1)).replace(microsecond=0)
    assert sts["LastAuthenticatedEntity"] == alice.arn
    assert sts["LastAuthenticatedRegion"] == "us-west-2"
    assert sts["TotalAuthenticatedEntities"] == 1
    assert services["iam"] == {
        "ServiceName": "AWS Identity and Access Management",
        "ServiceNamespace": "iam",
        "TotalAuthenticatedEntities": 0,
    }
    # The report is a snapshot: later calls do not change it.
    store.append_events([_event(T0, "iam", "GetUser", user=alice)])
    assert iam("GetServiceLastAccessedDetails", JobId=job) == out

    with_entities = iam(
        "GetServiceLastAccessedDetailsWithEntities", JobId=job, ServiceNamespace="sts"
    )
    assert with_entities["JobStatus"] == "COMPLETED"
    [entry] = with_entities["EntityDetailsList"]
    assert entry["EntityInfo"] == {
        "Arn": alice.arn,
        "Name": "alice",
        "Type": "USER",
        "Id": alice.entity_id,
        "Path": "/",
    }
    assert entry["LastAuthenticated"] == sts["LastAuthenticated"]


def test_group_membership_and_earlier_namesake(iam: Iam, store: Any, alice: Any) -> None:
    iam("CreateGroup", GroupName="ops")
    iam(
        "AttachGroupPolicy",
        GroupName="ops",
        PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
    )
    iam("AddUserToGroup", GroupName="ops", UserName="alice")
    iam("CreateUser", UserName="bob")
    iam("AddUserToGroup", GroupName="ops", UserName="bob")
    bob = store.get(ACCOUNT, "user", "bob")
    ghost = type("U", (), {"entity_id": "AIDAOLDOLDOLDOLDOLD", "arn": alice.arn, "name": "alice"})
    store.append_events(
        [
            _event(T0 - timedelta(days=3), "organizations", "ListAccounts", user=bob),
            _event(T0 - timedelta(days=1), "iam", "ListUsers", user=bob),
            # An earlier user named alice: not this alice.
            _event(T0 - timedelta(hours=2), "iam", "ListRoles", user=ghost),
            _event(T0 - timedelta(hours=5), "iam", "GetUser", user=alice),
        ]
    )
    # The user's report covers its groups' policies ("*" = the served services).
    _, out = _report(iam, alice.arn)
    services = _by_ns(out)
    assert list(services) == ["iam", "organizations", "sts"]
    assert services["iam"]["LastAuthenticated"] == T0 - timedelta(hours=5)
    assert "LastAuthenticated" not in services["organizations"]

    # The group's: its members, the most recent first.
    job, out = _report(iam, f"arn:aws:iam::{ACCOUNT}:group/ops")
    services = _by_ns(out)
    assert services["iam"]["LastAuthenticatedEntity"] == alice.arn
    assert services["iam"]["TotalAuthenticatedEntities"] == 2
    assert services["organizations"]["LastAuthenticatedEntity"] == bob.arn
    assert services["sts"]["TotalAuthenticatedEntities"] == 0
    details = iam("GetServiceLastAccessedDetailsWithEntities", JobId=job, ServiceNamespace="iam")
    assert [d["EntityInfo"]["Name"] for d in details["EntityDetailsList"]] == ["alice", "bob"]
    details = iam("GetServiceLastAccessedDetailsWithEntities", JobId=job, ServiceNamespace="sts")
    assert [d["EntityInfo"]["Name"] for d in details["EntityDetailsList"]] == ["alice", "bob"]
    assert all("LastAuthenticated" not in d for d in details["EntityDetailsList"])
    # Paging over the entities.
    first = iam(
        "GetServiceLastAccessedDetailsWithEntities", JobId=job, ServiceNamespace="iam", MaxItems=1
    )
    assert first["IsTruncated"] is True
    rest = iam(
        "GetServiceLastAccessedDetailsWithEntities",
        JobId=job,
        ServiceNamespace="iam",
        Marker=first["Marker"],
    )
    assert [
        d["EntityInfo"]["Name"] for d in first["EntityDetailsList"] + rest["EntityDetailsList"]
    ] == [
        "alice",
        "bob",
    ]


def test_role_and_policy_reports(iam: Iam, store: Any) -> None:
    iam("CreateRole", RoleName="deployer", AssumeRolePolicyDocument=trust())
    arn = iam("CreatePolicy", PolicyName="deploy", PolicyDocument=allow("sts:*"))["Policy"]["Arn"]
    iam("AttachRolePolicy", RoleName="deployer", PolicyArn=arn)
    role = store.get(ACCOUNT, "role", "deployer")
    store.append_events(
        [
            _event(
                T0 - timedelta(minutes=3), "sts", "GetCallerIdentity", role=role, region="us-east-1"
            )
        ]
    )
    _, out = _report(iam, role.arn)
    assert list(_by_ns(out)) == ["sts"]
    assert _by_ns(out)["sts"]["LastAuthenticatedEntity"] == role.arn
    _, out = _report(iam, arn)
    assert _by_ns(out)["sts"]["TotalAuthenticatedEntities"] == 1
    assert _by_ns(out)["sts"]["LastAuthenticatedRegion"] == "us-east-1"


def test_action_level(iam: Iam, store: Any, alice: Any) -> None:
    store.append_events([_event(T0 - timedelta(minutes=1), "iam", "GetUser", user=alice)])
    _, out = _report(iam, alice.arn, Granularity="ACTION_LEVEL")
    assert out["JobType"] == "ACTION_LEVEL"
    services = _by_ns(out)
    actions = {a["ActionName"]: a for a in services["iam"]["TrackedActionsLastAccessed"]}
    assert "CreateUser" not in actions  # not allowed by iam:Get*
    assert actions["GetUser"]["LastAccessedEntity"] == alice.arn
    assert "LastAccessedTime" not in actions["GetRole"]
    # Action-level data is reported for IAM only, as AWS tracks it.
    assert "TrackedActionsLastAccessed" not in services["sts"]


def test_paging_and_errors(iam: Iam, alice: Any) -> None:
    iam("PutUserPolicy", UserName="alice", PolicyName="all", PolicyDocument=allow("*"))
    job, _ = _report(iam, alice.arn)
    first = iam("GetServiceLastAccessedDetails", JobId=job, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["ServicesLastAccessed"]) == 2
    rest = iam("GetServiceLastAccessedDetails", JobId=job, Marker=first["Marker"])
    assert [s["ServiceNamespace"] for s in rest["ServicesLastAccessed"]] == ["sts"]
    with pytest.raises(ValidationError):
        iam("GetServiceLastAccessedDetails", JobId=job, Marker="!!")

    with pytest.raises(NoSuchEntity):
        iam("GetServiceLastAccessedDetails", JobId="00000000-0000-4000-8000-000000000000")
    with pytest.raises(NoSuchEntity):
        iam("GenerateServiceLastAccessedDetails", Arn=f"arn:aws:iam::{ACCOUNT}:user/nobody")
    with pytest.raises(NoSuchEntity):
        iam("GenerateServiceLastAccessedDetails", Arn=f"arn:aws:iam::{ACCOUNT}:policy/nothing")
    with pytest.raises(NoSuchEntity):  # another account's user is not visible
        iam("GenerateServiceLastAccessedDetails", Arn="arn:aws:iam::210987654321:user/alice")
    for bad in ("not-an-arn-at-all-xx", f"arn:aws:iam::{ACCOUNT}:mfa/x", "arn:aws:s3:::bucket/key"):
        with pytest.raises(InvalidInput):
            iam("GenerateServiceLastAccessedDetails", Arn=bad)
    # A job is its account's: expired after the retention period.
    iam.now += timedelta(days=31)
    with pytest.raises(NoSuchEntity):
        iam("GetServiceLastAccessedDetails", JobId=job)


def test_authorisation(iam: Iam, alice: Any) -> None:
    job = iam("GenerateServiceLastAccessedDetails", Arn=alice.arn)["JobId"]
    assert ("iam:GenerateServiceLastAccessedDetails", alice.arn, {}) in iam.auth.calls
    iam.auth.deny.add("iam:GenerateServiceLastAccessedDetails")
    # AccessDenied before NoSuchEntity: existence is not disclosed.
    with pytest.raises(AccessDenied):
        iam("GenerateServiceLastAccessedDetails", Arn=f"arn:aws:iam::{ACCOUNT}:user/nobody")
    iam.auth.deny = {
        "iam:GetServiceLastAccessedDetails",
        "iam:GetServiceLastAccessedDetailsWithEntities",
    }
    with pytest.raises(AccessDenied):
        iam("GetServiceLastAccessedDetails", JobId=job)
    with pytest.raises(AccessDenied):
        iam("GetServiceLastAccessedDetailsWithEntities", JobId=job, ServiceNamespace="iam")
    iam.auth.deny = {"iam:ListPoliciesGrantingServiceAccess"}
    with pytest.raises(AccessDenied):
        iam("ListPoliciesGrantingServiceAccess", Arn=alice.arn, ServiceNamespaces=["iam"])


def test_list_policies_granting_service_access(iam: Iam, alice: Any) -> None:
    iam("CreateGroup", GroupName="readers")
    iam("AddUserToGroup", GroupName="readers", UserName="alice")
    iam(
        "PutGroupPolicy", GroupName="readers", PolicyName="s3-read", PolicyDocument=allow("s3:Get*")
    )
    iam(
        "PutGroupPolicy",
        GroupName="readers",
        PolicyName="not-iam",
        PolicyDocument=doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
    )
    iam("AttachUserPolicy", UserName="alice", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    out = iam(
        "ListPoliciesGrantingServiceAccess",
        Arn=alice.arn,
        ServiceNamespaces=["iam", "s3", "codecommit"],
    )
    assert out["IsTruncated"] is False
    got = {e["ServiceNamespace"]: e["Policies"] for e in out["PoliciesGrantingServiceAccess"]}
    assert got["iam"] == [
        {
            "PolicyName": "sts-and-iam",
            "PolicyType": "INLINE",
            "EntityType": "USER",
            "EntityName": "alice",
        },
        {
            "PolicyName": "IAMReadOnlyAccess",
            "PolicyType": "MANAGED",
            "PolicyArn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
        },
    ]
    assert [p["PolicyName"] for p in got["s3"]] == ["not-iam", "s3-read"]
    assert got["s3"][0]["EntityType"] == "GROUP" and got["s3"][0]["EntityName"] == "readers"
    assert [p["PolicyName"] for p in got["codecommit"]] == ["not-iam"]
    with pytest.raises(InvalidInput):  # a policy is not an identity here
        iam(
            "ListPoliciesGrantingServiceAccess",
            Arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess",
            ServiceNamespaces=["iam"],
        )
    with pytest.raises(NoSuchEntity):
        iam(
            "ListPoliciesGrantingServiceAccess",
            Arn=f"arn:aws:iam::{ACCOUNT}:role/none",
            ServiceNamespaces=["iam"],
        )


def test_sts_preferences_in_account_summary(iam: Iam) -> None:
    assert iam("GetAccountSummary")["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    assert iam("SetSecurityTokenServicePreferences", GlobalEndpointTokenVersion="v2Token") == {}
    assert ("iam:SetSecurityTokenServicePreferences", "*", {}) in iam.auth.calls
    assert iam("GetAccountSummary")["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    iam("SetSecurityTokenServicePreferences", GlobalEndpointTokenVersion="v1Token")
    assert iam("GetAccountSummary")["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    with pytest.raises(ValidationError):
        iam("SetSecurityTokenServicePreferences", GlobalEndpointTokenVersion="v3Token")
    iam.auth.deny.add("iam:SetSecurityTokenServicePreferences")
    with pytest.raises(AccessDenied):
        iam("SetSecurityTokenServicePreferences", GlobalEndpointTokenVersion="v2Token")
