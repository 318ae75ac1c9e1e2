"""SimulatePrincipalPolicy's PolicyExclusionList: a list of the tagged union
PolicyIdentifier (botocore 1.44.18's IAM model), each entry removing
attached policies from the simulation by type, by ARN (with * and ?) or as
an inline policy of a named user, group or role."""

from __future__ import annotations

from typing import Any

import pytest

from rolegate.errors import InvalidInput
from rolegate.iam.simulate import statement_positions

from .conftest import ACCOUNT, Iam, allow, doc, trust

ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


@pytest.fixture
def alice(iam: Iam) -> Iam:
    """alice: inline s3 grant, a customer managed ec2 grant, an AWS managed
    read-only policy, and a group granting sqs with an inline policy."""
    iam("CreateUser", UserName="alice")
    iam("PutUserPolicy", UserName="alice", PolicyName="s3", PolicyDocument=allow("s3:*"))
    arn = iam("CreatePolicy", PolicyName="ec2-all", PolicyDocument=allow("ec2:*"))["Policy"]["Arn"]
    iam("AttachUserPolicy", UserName="alice", PolicyArn=arn)
    iam("AttachUserPolicy", UserName="alice", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam("CreateGroup", GroupName="queue-team")
    iam("AddUserToGroup", GroupName="queue-team", UserName="alice")
    iam("PutGroupPolicy", GroupName="queue-team", PolicyName="s3", PolicyDocument=allow("sqs:*"))
    return iam


ACTIONS = ["s3:PutObject", "ec2:RunInstances", "sqs:SendMessage", "iam:GetUser"]


def decisions(iam: Iam, exclusions: list[dict[str, Any]] | None = None) -> dict[str, str]:
    params: dict[str, Any] = {"PolicySourceArn": ALICE, "ActionNames": ACTIONS}
    if exclusions is not None:
        params["PolicyExclusionList"] = exclusions
    out = iam("SimulatePrincipalPolicy", **params)
    return {r["EvalActionName"]: r["EvalDecision"] for r in out["EvaluationResults"]}


ALL = {a: "allowed" for a in ACTIONS}


def test_without_exclusions_everything_is_allowed(alice: Iam) -> None:
    assert decisions(alice) == ALL
    assert decisions(alice, []) == ALL


@pytest.mark.parametrize(
    ("identifier", "denied"),
    [
        ({"PolicyType": "inline"}, ["s3:PutObject", "sqs:SendMessage"]),
        ({"PolicyType": "user-managed"}, ["ec2:RunInstances"]),
        ({"PolicyType": "aws-managed"}, ["iam:GetUser"]),
        ({"PolicyType": "scp"}, []),
        ({"PolicyType": "rcp"}, []),
        ({"PolicyType": "permission-boundary"}, []),
        ({"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/ec2-all"}, ["ec2:RunInstances"]),
        ({"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/ec2-*"}, ["ec2:RunInstances"]),
        ({"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/ec2-a??"}, ["ec2:RunInstances"]),
        ({"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/ec2-a?"}, []),
        ({"PolicyArn": "arn:aws:iam::aws:policy/ReadOnly*"}, ["iam:GetUser"]),
        ({"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/*"}, ["ec2:RunInstances"]),
        ({"PolicyArn": "arn:aws:iam::210987654321:policy/ec2-all"}, []),
        (
            {"InlinePolicyIdentifier": {"PolicyName": "s3", "AttachmentType": "user",
                                        "AttachmentName": "alice"}},
            ["s3:PutObject"],
        ),
        (
            {"InlinePolicyIdentifier": {"PolicyName": "s3", "AttachmentType": "group",
                                        "AttachmentName": "queue-*"}},
            ["sqs:SendMessage"],
        ),
        (
            {"InlinePolicyIdentifier": {"PolicyName": "s3", "AttachmentType": "role",
                                        "AttachmentName": "alice"}},
            [],
        ),
        (
            {"InlinePolicyIdentifier": {"PolicyName": "other", "AttachmentType": "user",
                                        "AttachmentName": "alice"}},
            [],
        ),
    ],
)  # fmt: skip
def test_each_identifier_excludes_what_it_names(
    alice: Iam, identifier: dict[str, Any], denied: list[str]
) -> None:
    expected = {a: ("implicitDeny" if a in denied else "allowed") for a in ACTIONS}
    assert decisions(alice, [identifier]) == expected


def test_exclusions_add_up_and_leave_request_policies_alone(alice: Iam) -> None:
    out = alice(
        "SimulatePrincipalPolicy",
        PolicySourceArn=ALICE,
        ActionNames=ACTIONS,
        PolicyExclusionList=[{"PolicyType": "inline"}, {"PolicyArn": "arn:aws:iam::aws:policy/*"}],
        PolicyInputList=[allow("sqs:*")],
    )
    got = {r["EvalActionName"]: r["EvalDecision"] for r in out["EvaluationResults"]}
    assert got == {
        "s3:PutObject": "implicitDeny",
        "ec2:RunInstances": "allowed",
        "sqs:SendMessage": "allowed",  # from PolicyInputList, which is never excluded
        "iam:GetUser": "implicitDeny",
    }


def test_permission_boundary_exclusion(alice: Iam) -> None:
    iam = alice
    boundary = iam("CreatePolicy", PolicyName="only-s3", PolicyDocument=allow("s3:*"))["Policy"]
    iam("PutUserPermissionsBoundary", UserName="alice", PermissionsBoundary=boundary["Arn"])
    assert decisions(iam)["ec2:RunInstances"] == "implicitDeny"
    assert decisions(iam, [{"PolicyType": "permission-boundary"}]) == ALL
    out = iam(
        "SimulatePrincipalPolicy",
        PolicySourceArn=ALICE,
        ActionNames=["ec2:RunInstances"],
        PolicyExclusionList=[{"PolicyType": "permission-boundary"}],
    )
    assert "PermissionsBoundaryDecisionDetail" not in out["EvaluationResults"][0]


def test_explicit_deny_excluded(alice: Iam) -> None:
    iam = alice
    deny = doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    iam("PutUserPolicy", UserName="alice", PolicyName="no-s3", PolicyDocument=deny)
    assert decisions(iam)["s3:PutObject"] == "explicitDeny"
    excluded = {"PolicyName": "NO-S3", "AttachmentType": "user", "AttachmentName": "Alice"}
    assert decisions(iam, [{"InlinePolicyIdentifier": excluded}])["s3:PutObject"] == "allowed"


def test_role_exclusions(iam: Iam) -> None:
    iam("CreateRole", RoleName="app", AssumeRolePolicyDocument=trust())
    iam("PutRolePolicy", RoleName="app", PolicyName="p", PolicyDocument=allow("s3:*"))
    role = f"arn:aws:iam::{ACCOUNT}:role/app"
    rule = {"InlinePolicyIdentifier": {"PolicyName": "p", "AttachmentType": "role",
                                       "AttachmentName": "a?p"}}  # fmt: skip
    out = iam(
        "SimulatePrincipalPolicy",
        PolicySourceArn=role,
        ActionNames=["s3:GetObject"],
        PolicyExclusionList=[rule],
    )
    assert out["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"


@pytest.mark.parametrize(
    "identifier",
    [
        {"PolicyArn": "not-an-arn-but-long-enough"},
        {"PolicyArn": f"arn:aws:iam::{ACCOUNT}:role/ec2-all"},
        {"PolicyArn": "arn:aws:iam::*:policy/ec2-all"},
        {"PolicyArn": "arn:*:iam::aws:policy/ec2-all"},
        {"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/*ec2*"},
        {"PolicyType": "everything"},
        {"PolicyType": "inline", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/x"},
        {},
        {"InlinePolicyIdentifier": {"PolicyName": "s3", "AttachmentType": "user"}},
        {"InlinePolicyIdentifier": {"PolicyName": "s3", "AttachmentType": "policy",
                                    "AttachmentName": "alice"}},
        {"InlinePolicyIdentifier": {"PolicyName": "s3", "AttachmentType": "user",
                                    "AttachmentName": "*a*"}},
        {"InlinePolicyIdentifier": {"PolicyName": "s 3", "AttachmentType": "user",
                                    "AttachmentName": "alice"}},
        {"InlinePolicyIdentifier": "s3"},
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        None,
    ],
)  # fmt: skip
def test_malformed_identifiers_are_invalid_input(alice: Iam, identifier: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        decisions(alice, [identifier])
    assert info.value.code == "InvalidInput"
    assert info.value.status == 400


def test_positions_of_a_statement_too_deep_to_scan_fall_back() -> None:
    deep = '{"Statement":[{"Condition":' + "[" * 5000 + "]" * 5000 + "}]}"
    assert statement_positions(deep) == []
