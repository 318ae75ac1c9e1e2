from __future__ import annotations

import json

from rolegate.iam.aws_managed import definitions, ensure_aws_managed_policies, policy_id
from rolegate.policy import PolicyKind, PolicySet, Request, compile_policy, evaluate, parse_policy

REQUIRED = {
    "AdministratorAccess",
    "ReadOnlyAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    "PowerUserAccess",
    "AWSOrganizationsFullAccess",
}


def _decide(name: str, action: str) -> str:
    text = next(p["document"] for p in definitions() if p["name"] == name)
    compiled = compile_policy(
        parse_policy(text, PolicyKind.IDENTITY), policy_id=name, source_type="aws-managed"
    )
    req = Request(
        principal="arn:aws:iam::123456789012:user/u",
        action=action,
        resource="arn:aws:iam::123456789012:user/x",
        context={},
    )
    return str(evaluate(PolicySet(identity=(compiled,)), req).decision.value)


def test_bundled_policies_parse_and_are_complete():
    names = {p["name"] for p in definitions()}
    assert names >= REQUIRED
    for p in definitions():
        parse_policy(p["document"], PolicyKind.IDENTITY)
        assert p["path"].startswith("/") and p["path"].endswith("/")
        assert len(policy_id(p["name"])) == 21 and policy_id(p["name"]).startswith("ANPA")


def test_policies_grant_what_their_names_say():
    assert _decide("AdministratorAccess", "iam:CreateUser") == "allow"
    assert _decide("IAMFullAccess", "iam:DeleteRole") == "allow"
    assert _decide("IAMFullAccess", "sts:AssumeRole") == "implicitDeny"
    for action in (
        "iam:GetRole",
        "iam:ListUsers",
        "iam:SimulatePrincipalPolicy",
        "iam:GenerateCredentialReport",
    ):
        assert _decide("IAMReadOnlyAccess", action) == "allow"
        assert _decide("ReadOnlyAccess", action) == "allow"
    for action in ("iam:CreateUser", "iam:PutRolePolicy", "iam:DeleteUser"):
        assert _decide("IAMReadOnlyAccess", action) == "implicitDeny"
        assert _decide("ReadOnlyAccess", action) == "implicitDeny"
    assert _decide("PowerUserAccess", "sts:AssumeRole") == "allow"
    assert _decide("PowerUserAccess", "iam:CreateUser") == "implicitDeny"
    assert _decide("PowerUserAccess", "iam:ListRoles") == "allow"
    assert _decide("PowerUserAccess", "organizations:CreateAccount") == "implicitDeny"
    assert _decide("AWSOrganizationsFullAccess", "organizations:CreateAccount") == "allow"
    assert _decide("AWSOrganizationsFullAccess", "iam:CreateUser") == "implicitDeny"


def test_ensure_is_idempotent_and_updates_changed_documents(store, iam):
    arn = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    before = iam("GetPolicy", PolicyArn=arn)["Policy"]
    ensure_aws_managed_policies(store)
    after = iam("GetPolicy", PolicyArn=arn)["Policy"]
    assert before == after and after["DefaultVersionId"] == "v1"
    assert after["PolicyId"] == policy_id("IAMReadOnlyAccess")
    # A newer rolegate shipping a changed document publishes a new default version.
    with store.transaction() as tx:
        e = tx.get("aws", "policy", "IAMReadOnlyAccess")
        old = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}],
            }
        )
        tx.update(e, {**e.data, "versions": {"v1": {**e.data["versions"]["v1"], "document": old}}})
    ensure_aws_managed_policies(store)
    p = iam("GetPolicy", PolicyArn=arn)["Policy"]
    assert p["DefaultVersionId"] == "v2"
    doc = iam("GetPolicyVersion", PolicyArn=arn, VersionId="v2")["PolicyVersion"]["Document"]
    assert "iam:List*" in doc


def test_created_with_one_instant_for_policy_and_first_version(iam):
    # Seen once: an UpdateDate a few milliseconds before the CreateDate.
    for p in iam("ListPolicies", Scope="AWS")["Policies"]:
        assert p["CreateDate"] == p["UpdateDate"], p["PolicyName"]


def test_common_service_policies_are_there_with_their_paths():
    by_name = {p["name"]: p for p in definitions()}
    for name, path in (
        ("AWSLambdaBasicExecutionRole", "/service-role/"),
        ("AmazonECSTaskExecutionRolePolicy", "/service-role/"),
        ("ViewOnlyAccess", "/job-function/"),
        ("AmazonS3ReadOnlyAccess", "/"),
        ("AmazonSSMManagedInstanceCore", "/"),
    ):
        assert by_name[name]["path"] == path
        assert by_name[name]["description"]
    assert _decide("AWSLambdaBasicExecutionRole", "logs:PutLogEvents") == "allow"
    assert _decide("AmazonS3ReadOnlyAccess", "s3:GetObject") == "allow"
    assert _decide("AmazonS3ReadOnlyAccess", "s3:PutObject") == "implicitDeny"
    assert _decide("AmazonSQSFullAccess", "sqs:SendMessage") == "allow"
