"""The policy simulator: decisions, matched statements with positions,
boundaries, context keys, resource policies and pagination."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rolegate.errors import InvalidInput, NoSuchEntity
from rolegate.iam.simulate import context_from_entries, statement_positions

from .conftest import ACCOUNT, OTHER_ACCOUNT, Iam, allow, doc, trust

ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def one(out: dict[str, Any]) -> dict[str, Any]:
    [result] = out["EvaluationResults"]
    return result


@pytest.fixture
def alice(iam: Iam) -> Iam:
    iam("CreateUser", UserName="alice")
    iam("PutUserPolicy", UserName="alice", PolicyName="s3-read", PolicyDocument=allow("s3:Get*"))
    return iam


def simulate(iam: Iam, actions: list[str], **params: Any) -> dict[str, Any]:
    return iam("SimulatePrincipalPolicy", PolicySourceArn=ALICE, ActionNames=actions, **params)


def test_allowed_with_matched_statement(alice: Iam) -> None:
    r = one(simulate(alice, ["s3:GetObject"]))
    assert r["EvalActionName"] == "s3:GetObject"
    assert r["EvalResourceName"] == "*"
    assert r["EvalDecision"] == "allowed"
    assert r["MatchedStatements"] == [
        {
            "SourcePolicyId": "s3-read",
            "SourcePolicyType": "user",
            "StartPosition": {"Line": 1, "Column": 41},
            "EndPosition": {"Line": 1, "Column": 98},
        }
    ]
    assert r["MissingContextValues"] == []
    assert "ResourceSpecificResults" not in r
    assert alice.auth.calls[-1][:2] == ("iam:SimulatePrincipalPolicy", ALICE)
    assert alice.last.audit_resources[0]["ARN"] == ALICE


def test_positions_point_at_the_statement(alice: Iam) -> None:
    text = allow("s3:Get*")
    r = one(simulate(alice, ["s3:GetObject"]))
    start = r["MatchedStatements"][0]["StartPosition"]["Column"]
    end = r["MatchedStatements"][0]["EndPosition"]["Column"]
    statement = text[start - 1 : end - 1]
    assert json.loads(statement) == {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}


def test_implicit_deny(alice: Iam) -> None:
    r = one(simulate(alice, ["s3:PutObject"]))
    assert r["EvalDecision"] == "implicitDeny"
    assert r["MatchedStatements"] == []


def test_explicit_deny_from_group(alice: Iam) -> None:
    iam = alice
    iam("CreateGroup", GroupName="auditors")
    iam("AddUserToGroup", GroupName="auditors", UserName="alice")
    deny = doc({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret/*"})
    iam("PutGroupPolicy", GroupName="auditors", PolicyName="no-secret", PolicyDocument=deny)
    out = simulate(
        iam, ["s3:GetObject"], ResourceArns=["arn:aws:s3:::secret/x", "arn:aws:s3:::public/x"]
    )
    secret, public = out["EvaluationResults"]
    assert secret["EvalResourceName"] == "arn:aws:s3:::secret/x"
    assert secret["EvalDecision"] == "explicitDeny"
    assert [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in secret["MatchedStatements"]] == [
        ("no-secret", "group")
    ]
    assert public["EvalDecision"] == "allowed"
    # Same account, with a resource ARN: details present but empty (as AWS).
    assert public["EvalDecisionDetails"] == {}
    assert public["ResourceSpecificResults"][0]["EvalResourceDecision"] == "allowed"
    assert "EvalDecisionDetails" not in public["ResourceSpecificResults"][0]  # as AWS

    # The group itself can be simulated too.
    group_arn = f"arn:aws:iam::{ACCOUNT}:group/auditors"
    r = one(
        iam(
            "SimulatePrincipalPolicy",
            PolicySourceArn=group_arn,
            ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::secret/x"],
        )
    )
    assert r["EvalDecision"] == "explicitDeny"


def test_managed_policy_on_role(iam: Iam) -> None:
    iam("CreateRole", RoleName="deployer", AssumeRolePolicyDocument=trust())
    arn = iam("CreatePolicy", PolicyName="deploy", PolicyDocument=allow("ec2:*"))["Policy"]["Arn"]
    iam("AttachRolePolicy", RoleName="deployer", PolicyArn=arn)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/deployer"
    out = iam(
        "SimulatePrincipalPolicy",
        PolicySourceArn=role_arn,
        ActionNames=["ec2:RunInstances", "s3:GetObject"],
    )
    ec2, s3 = out["EvaluationResults"]
    assert ec2["EvalDecision"] == "allowed"
    assert ec2["MatchedStatements"][0]["SourcePolicyId"] == arn
    assert ec2["MatchedStatements"][0]["SourcePolicyType"] == "user-managed"
    assert s3["EvalDecision"] == "implicitDeny"
    # Excluding the policy removes its grant.
    out = iam(
        "SimulatePrincipalPolicy",
        PolicySourceArn=role_arn,
        ActionNames=["ec2:RunInstances"],
        PolicyExclusionList=[{"PolicyArn": arn}],
    )
    assert one(out)["EvalDecision"] == "implicitDeny"


def test_permissions_boundary(alice: Iam) -> None:
    iam = alice
    iam("PutUserPolicy", UserName="alice", PolicyName="all", PolicyDocument=allow("*"))
    boundary = iam("CreatePolicy", PolicyName="only-s3", PolicyDocument=allow("s3:*"))["Policy"][
        "Arn"
    ]
    iam("PutUserPermissionsBoundary", UserName="alice", PermissionsBoundary=boundary)
    s3, ec2 = simulate(iam, ["s3:GetObject", "ec2:RunInstances"])["EvaluationResults"]
    assert s3["EvalDecision"] == "allowed"
    assert s3["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert ec2["EvalDecision"] == "implicitDeny"
    assert ec2["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    # A boundary given in the request replaces the user's.
    r = one(
        simulate(iam, ["ec2:RunInstances"], PermissionsBoundaryPolicyInputList=[allow("ec2:*")])
    )
    assert r["EvalDecision"] == "allowed"
    assert r["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}


def test_context_dependent_condition(alice: Iam) -> None:
    iam = alice
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "ec2:StartInstances",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:RequestedRegion": "eu-west-1"},
                "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
            },
        }
    )
    iam("PutUserPolicy", UserName="alice", PolicyName="regional", PolicyDocument=policy)
    r = one(simulate(iam, ["ec2:StartInstances"]))
    assert r["EvalDecision"] == "implicitDeny"
    assert sorted(r["MissingContextValues"]) == ["aws:RequestedRegion", "aws:SourceIp"]

    entries = [
        {
            "ContextKeyName": "aws:RequestedRegion",
            "ContextKeyValues": ["eu-west-1"],
            "ContextKeyType": "string",
        },
        {
            "ContextKeyName": "aws:SourceIp",
            "ContextKeyValues": ["10.1.2.3"],
            "ContextKeyType": "ip",
        },
    ]
    r = one(simulate(iam, ["ec2:StartInstances"], ContextEntries=entries))
    assert r["EvalDecision"] == "allowed"
    assert r["MissingContextValues"] == []
    entries[1]["ContextKeyValues"] = ["192.168.0.1"]
    assert one(simulate(iam, ["ec2:StartInstances"], ContextEntries=entries))["EvalDecision"] == (
        "implicitDeny"
    )


def test_principal_keys_are_supplied(alice: Iam) -> None:
    iam = alice
    own = doc(
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::home/${aws:username}/*",
        }
    )
    iam("PutUserPolicy", UserName="alice", PolicyName="home", PolicyDocument=own)
    iam("TagUser", UserName="alice", Tags=[{"Key": "team", "Value": "red"}])
    tagged = doc(
        {
            "Effect": "Allow",
            "Action": "s3:DeleteObject",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}},
        }
    )
    iam("PutUserPolicy", UserName="alice", PolicyName="team", PolicyDocument=tagged)
    out = simulate(
        iam,
        ["s3:PutObject", "s3:DeleteObject"],
        ResourceArns=["arn:aws:s3:::home/alice/f"],
    )
    assert [r["EvalDecision"] for r in out["EvaluationResults"]] == ["allowed", "allowed"]
    # A context entry overrides the automatic value.
    r = one(
        simulate(
            iam,
            ["s3:PutObject"],
            ResourceArns=["arn:aws:s3:::home/alice/f"],
            ContextEntries=[{"ContextKeyName": "aws:username", "ContextKeyValues": ["bob"]}],
        )
    )
    assert r["EvalDecision"] == "implicitDeny"


def test_custom_policy_with_positions() -> None:
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Sid": "D", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
            ],
        },
        indent=4,
    )
    spans = statement_positions(text)
    assert spans == [((4, 9), (9, 10)), ((10, 9), (15, 10))]


def test_simulate_custom_policy(iam: Iam) -> None:
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
            ],
        },
        indent=2,
    )
    out = iam(
        "SimulateCustomPolicy",
        PolicyInputList=[text],
        ActionNames=["s3:ListBucket", "s3:DeleteBucket", "iam:CreateUser"],
    )
    listb, delete, create = out["EvaluationResults"]
    assert listb["EvalDecision"] == "allowed"
    assert listb["MatchedStatements"] == [
        {
            "SourcePolicyId": "PolicyInputList.1",
            "SourcePolicyType": "none",
            "StartPosition": {"Line": 4, "Column": 5},
            "EndPosition": {"Line": 8, "Column": 6},
        }
    ]
    assert delete["EvalDecision"] == "explicitDeny"
    assert delete["MatchedStatements"][0]["StartPosition"] == {"Line": 9, "Column": 5}
    assert create["EvalDecision"] == "implicitDeny"
    assert iam.auth.calls[-1][:2] == ("iam:SimulateCustomPolicy", "*")


def test_custom_policy_with_resource_policy_cross_account(iam: Iam) -> None:
    caller = f"arn:aws:iam::{OTHER_ACCOUNT}:user/carol"
    bucket_policy = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::shared/*",
        }
    )
    params = {
        "PolicyInputList": [allow("s3:*")],
        "ActionNames": ["s3:GetObject", "s3:PutObject"],
        "ResourceArns": ["arn:aws:s3:::shared/a"],
        "ResourcePolicy": bucket_policy,
        "ResourceOwner": f"arn:aws:iam::{ACCOUNT}:root",
        "CallerArn": caller,
    }
    get, put = iam("SimulateCustomPolicy", **params)["EvaluationResults"]
    assert get["EvalDecision"] == "allowed"
    assert {m["SourcePolicyType"] for m in get["MatchedStatements"]} == {"none", "resource"}
    assert get["EvalDecisionDetails"] == {"IAM Policy": "allowed", "Resource Policy": "allowed"}
    # Cross-account: the bucket policy doesn't grant PutObject, so it is denied.
    assert put["EvalDecision"] == "implicitDeny"
    assert put["EvalDecisionDetails"] == {
        "IAM Policy": "allowed",
        "Resource Policy": "implicitDeny",
    }


def test_pagination(alice: Iam) -> None:
    actions = [f"s3:Get{i}" for i in range(5)]
    first = simulate(alice, actions, MaxItems=2)
    assert first["IsTruncated"] is True
    names = [r["EvalActionName"] for r in first["EvaluationResults"]]
    marker = first["Marker"]
    while marker:
        page = simulate(alice, actions, MaxItems=2, Marker=marker)
        names += [r["EvalActionName"] for r in page["EvaluationResults"]]
        marker = page.get("Marker")
    assert names == actions


def test_errors(alice: Iam) -> None:
    iam = alice
    with pytest.raises(NoSuchEntity):
        iam(
            "SimulatePrincipalPolicy",
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody",
            ActionNames=["s3:GetObject"],
        )
    with pytest.raises(InvalidInput):
        iam(
            "SimulatePrincipalPolicy",
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:policy/x",
            ActionNames=["s3:GetObject"],
        )
    with pytest.raises(InvalidInput):
        iam("SimulateCustomPolicy", PolicyInputList=["{not json"], ActionNames=["s3:GetObject"])
    with pytest.raises(InvalidInput):
        iam("SimulateCustomPolicy", PolicyInputList=[allow()], ActionNames=["GetObject"])


def test_context_entry_types() -> None:
    ctx = context_from_entries(
        [
            {
                "ContextKeyName": "aws:MultiFactorAuthPresent",
                "ContextKeyValues": ["TRUE"],
                "ContextKeyType": "boolean",
            },
            {
                "ContextKeyName": "s3:max-keys",
                "ContextKeyValues": ["10"],
                "ContextKeyType": "numeric",
            },
            {
                "ContextKeyName": "aws:TagKeys",
                "ContextKeyValues": ["a", "b"],
                "ContextKeyType": "stringList",
            },
            {
                "ContextKeyName": "aws:CurrentTime",
                "ContextKeyValues": ["2026-01-01T00:00:00Z"],
                "ContextKeyType": "date",
            },
            {
                "ContextKeyName": "aws:SourceIp",
                "ContextKeyValues": ["10.0.0.0/8", "::1"],
                "ContextKeyType": "ipList",
            },
            {
                "ContextKeyName": "ex:blob",
                "ContextKeyValues": ["aGVsbG8="],
                "ContextKeyType": "binary",
            },
        ]
    )
    assert ctx["aws:MultiFactorAuthPresent"] == "true"
    assert ctx["aws:TagKeys"] == ["a", "b"]
    assert ctx["aws:SourceIp"] == ["10.0.0.0/8", "::1"]
    for bad in (
        {"ContextKeyName": "s3:max-keys", "ContextKeyValues": ["ten"], "ContextKeyType": "numeric"},
        {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["nope"], "ContextKeyType": "ip"},
        {"ContextKeyName": "aws:Flag", "ContextKeyValues": ["maybe"], "ContextKeyType": "boolean"},
        {"ContextKeyName": "aws:Now", "ContextKeyValues": ["yesterday"], "ContextKeyType": "date"},
        {
            "ContextKeyName": "aws:Single",
            "ContextKeyValues": ["a", "b"],
            "ContextKeyType": "string",
        },
    ):
        with pytest.raises(InvalidInput):
            context_from_entries([bad])


def test_get_context_keys(alice: Iam) -> None:
    iam = alice
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }
    )
    iam("PutUserPolicy", UserName="alice", PolicyName="tls", PolicyDocument=policy)
    out = iam("GetContextKeysForPrincipalPolicy", PolicySourceArn=ALICE)
    assert out["ContextKeyNames"] == ["aws:SecureTransport"]
    out = iam("GetContextKeysForCustomPolicy", PolicyInputList=[policy])
    assert out["ContextKeyNames"] == ["aws:SecureTransport"]
