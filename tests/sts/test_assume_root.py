"""AssumeRoot and IAM's centralized root access features, at handler level.

An organization managed by account A with a member account made by
CreateAccount; B is outside it. Root sessions are opened as the server opens
them (``World.principal``) and authorised by the real ``authz.authorize``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rolegate import tokens
from rolegate.context import Principal
from rolegate.errors import AccessDenied, AwsError, ValidationError
from rolegate.server import RolegateApp
from tests.sts.conftest import A, B, World, allow, doc, root, trust

TASK = "arn:aws:iam::aws:policy/root-task/"
AUDIT = TASK + "IAMAuditRootUserCredentials"
DELETE = TASK + "IAMDeleteRootUserCredentials"
FEATURE_ACTIONS = (
    "EnableOrganizationsRootCredentialsManagement",
    "EnableOrganizationsRootSessions",
    "DisableOrganizationsRootCredentialsManagement",
    "DisableOrganizationsRootSessions",
    "ListOrganizationsFeatures",
)


def org(world: World, principal: Principal, action: str, **params: Any) -> Any:
    return world.call("organizations", action, principal, **params)


def iam(world: World, principal: Principal, action: str, **params: Any) -> Any:
    return world.call("iam", action, principal, **params)


def assume_root(world: World, caller: Principal, target: str, task: str = AUDIT, **kw: Any) -> Any:
    return world.sts(
        caller, "AssumeRoot", TargetPrincipal=target, TaskPolicyArn={"arn": task}, **kw
    )


def decoded(world: World, err: AccessDenied) -> dict[str, Any]:
    blob = err.message.split("Encoded authorization failure message: ", 1)[1]
    out = world.sts(root(A), "DecodeAuthorizationMessage", EncodedMessage=blob)
    return dict(json.loads(out["DecodedMessage"]))


@pytest.fixture
def orgw(world: World) -> World:
    """A (management) with a member account, root sessions enabled, and an
    operator user in A allowed sts:AssumeRoot."""
    org(world, root(A), "CreateOrganization", FeatureSet="ALL")
    status = org(world, root(A), "CreateAccount", Email="m@example.com", AccountName="member")
    world.member = status["CreateAccountStatus"]["AccountId"]  # type: ignore[attr-defined]
    iam(world, root(A), "EnableOrganizationsRootSessions")
    world.operator = world.user(A, "operator", allow("sts:AssumeRoot"))  # type: ignore[attr-defined]
    return world


# --- IAM: the organization's features ----------------------------------------


def test_feature_actions_are_registered_and_modelled() -> None:
    import botocore.session

    from rolegate.iam import HANDLERS

    model = botocore.session.get_session().get_service_model("iam")
    for action in FEATURE_ACTIONS:
        assert action in HANDLERS and action in model.operation_names


def test_enable_disable_and_list_features(world: World) -> None:
    org_id = org(world, root(A), "CreateOrganization")["Organization"]["Id"]
    assert iam(world, root(A), "ListOrganizationsFeatures") == {
        "OrganizationId": org_id,
        "EnabledFeatures": [],
    }
    out = iam(world, root(A), "EnableOrganizationsRootSessions")
    assert out == {"OrganizationId": org_id, "EnabledFeatures": ["RootSessions"]}
    assert world.last.audit_response == {
        "organizationId": org_id,
        "enabledFeatures": ["RootSessions"],
    }
    out = iam(world, root(A), "EnableOrganizationsRootCredentialsManagement")
    assert out["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    # Idempotent both ways.
    assert iam(world, root(A), "EnableOrganizationsRootSessions") == out
    out = iam(world, root(A), "DisableOrganizationsRootSessions")
    assert out["EnabledFeatures"] == ["RootCredentialsManagement"]
    assert iam(world, root(A), "DisableOrganizationsRootSessions") == out
    out = iam(world, root(A), "DisableOrganizationsRootCredentialsManagement")
    assert out["EnabledFeatures"] == []
    assert iam(world, root(A), "ListOrganizationsFeatures")["EnabledFeatures"] == []


def test_feature_errors(world: World) -> None:
    def error(principal: Principal, action: str) -> AwsError:
        with pytest.raises(AwsError) as e:
            iam(world, principal, action)
        return e.value

    for action in FEATURE_ACTIONS:
        err = error(root(A), action)
        assert (err.code, err.status) == ("OrganizationNotFoundException", 400)
    org(world, root(A), "CreateOrganization")
    member = org(world, root(A), "CreateAccount", Email="x@example.com", AccountName="x")
    member_id = member["CreateAccountStatus"]["AccountId"]
    for action in FEATURE_ACTIONS:
        expected = (
            "CallerIsNotManagementAccountException"
            if action.startswith("Enable")
            else "AccountNotManagementOrDelegatedAdministratorException"
        )
        assert error(root(member_id), action).code == expected
    # Consolidated billing only: not in all-features mode.
    org(world, root(B), "CreateOrganization", FeatureSet="CONSOLIDATED_BILLING")
    assert error(root(B), "EnableOrganizationsRootSessions").code == (
        "OrganizationNotInAllFeaturesModeException"
    )
    # Authorised as iam:<Action> on "*", before anything else is revealed.
    nobody = world.user(A, "nobody")
    err = error(nobody, "EnableOrganizationsRootSessions")
    assert err.code == "AccessDenied"
    assert "iam:EnableOrganizationsRootSessions on resource: *" in err.message
    allowed = world.user(A, "lister", allow("iam:ListOrganizationsFeatures"))
    assert iam(world, allowed, "ListOrganizationsFeatures")["EnabledFeatures"] == []


def test_features_belong_to_the_organization(world: World) -> None:
    org(world, root(A), "CreateOrganization")
    iam(world, root(A), "EnableOrganizationsRootSessions")
    # A new organization of the same management account starts with none.
    with world.store.transaction() as tx:
        data = dict(tx.get_account(A)["data"])
        data["organization"] = {**data["organization"], "id": "o-newnewnew1"}
        tx.update_account(A, data=data, now=world.now)
    assert iam(world, root(A), "ListOrganizationsFeatures") == {
        "OrganizationId": "o-newnewnew1",
        "EnabledFeatures": [],
    }


# --- AssumeRoot: the session ----------------------------------------------------


def test_assume_root_issues_a_narrowed_root_session(orgw: World) -> None:
    world, member = orgw, orgw.member  # type: ignore[attr-defined]
    out = assume_root(world, world.operator, member)  # type: ignore[attr-defined]
    ctx = world.last
    creds = out["Credentials"]
    assert set(out) == {"Credentials"}
    assert creds["AccessKeyId"].startswith("ASIA")
    assert creds["Expiration"].timestamp() == world.now.timestamp() + 900
    c = world.claims(creds)
    assert (c.kind, c.arn, c.user_id, c.account_id) == (
        "assumed-root",
        f"arn:aws:iam::{member}:root",
        member,
        member,
    )
    assert c.policy_arns == (AUDIT,)
    assert c.issuer["arn"] == world.operator.arn  # type: ignore[attr-defined]
    # The caller identity is the member's root.
    p = world.principal(creds)
    assert world.sts(p, "GetCallerIdentity") == {
        "UserId": member,
        "Account": member,
        "Arn": f"arn:aws:iam::{member}:root",
    }
    # Audited in both accounts, with the target's root as the resource; no secret.
    assert ctx.audit_extra["recipient_accounts"] == [A, member]
    assert ctx.audit_resources[0]["ARN"] == f"arn:aws:iam::{member}:root"
    assert "secretAccessKey" not in json.dumps(ctx.audit_response, default=str)
    assert ctx.audit_response["credentials"]["accessKeyId"] == creds["AccessKeyId"]


def test_target_as_root_arn_and_durations(orgw: World) -> None:
    world, member = orgw, orgw.member  # type: ignore[attr-defined]
    op = world.operator  # type: ignore[attr-defined]
    out = assume_root(world, op, f"arn:aws:iam::{member}:root", DurationSeconds=60)
    assert world.claims(out["Credentials"]).account_id == member
    assert out["Credentials"]["Expiration"].timestamp() == world.now.timestamp() + 60
    # 0 is in the model's range; a session cannot end when it starts: 1 s.
    out = assume_root(world, op, member, DurationSeconds=0)
    assert out["Credentials"]["Expiration"].timestamp() == world.now.timestamp() + 1
    with pytest.raises(ValidationError) as e:
        assume_root(world, op, member, DurationSeconds=901)
    assert e.value.message == (
        "1 validation error detected: Value '901' at 'durationSeconds' failed to satisfy "
        "constraint: Member must have value less than or equal to 900"
    )


def test_the_task_policy_narrows_the_root(orgw: World) -> None:
    world, member = orgw, orgw.member  # type: ignore[attr-defined]
    creds = assume_root(world, world.operator, member)["Credentials"]  # type: ignore[attr-defined]
    p = world.principal(creds)
    me = f"arn:aws:iam::{member}:root"
    # What the audit task permits, on the root user itself...
    for action in ("iam:ListAccessKeys", "iam:GetLoginProfile", "iam:ListMFADevices"):
        assert world.allowed(p, action, me)
    assert world.allowed(p, "iam:GetAccountSummary", "*")
    assert iam(world, p, "GetAccountSummary")["SummaryMap"]
    # ...not on IAM users, and nothing else at all.
    assert not world.allowed(p, "iam:ListAccessKeys", f"arn:aws:iam::{member}:user/bob")
    for action in ("iam:CreateUser", "iam:DeleteAccessKey", "sts:AssumeRole", "s3:GetObject"):
        assert not world.allowed(p, action, "*")
    with pytest.raises(AccessDenied) as e:
        iam(world, p, "CreateUser", UserName="intruder")
    assert "with an explicit deny in a session policy" in e.value.message
    # Another task: the delete task allows deleting keys, still not creating users.
    p2 = world.principal(assume_root(world, world.operator, member, DELETE)["Credentials"])  # type: ignore[attr-defined]
    assert world.allowed(p2, "iam:DeleteAccessKey", me)
    assert not world.allowed(p2, "iam:CreateUser", "*")


def test_root_sessions_cannot_do_more_than_root(orgw: World) -> None:
    world, member = orgw, orgw.member  # type: ignore[attr-defined]
    creds = assume_root(world, world.operator, member)["Credentials"]  # type: ignore[attr-defined]
    p = world.principal(creds)
    # The member's root, but a session: authorised by evaluating its task
    # policy, never by the root's shortcut.
    assert p.kind == "root" and p.session is not None and p.session.kind == "assumed-root"
    # Not AssumeRole (root cannot), not AssumeRoot again.
    with pytest.raises(AccessDenied) as e:
        world.assume(p, f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole")
    assert e.value.message.startswith("Roles may not be assumed by root accounts.")
    with pytest.raises(AccessDenied):
        assume_root(world, p, member)
    # Not GetSessionToken / GetFederationToken (session credentials), at the server.
    for action in ("GetSessionToken", "GetFederationToken"):
        ctx = world.ctx("sts", action, p)
        with pytest.raises(AccessDenied):
            RolegateApp._check_session_limits(ctx)
    # Nothing in another account, though root's own account allows everything.
    assert not world.allowed(p, "iam:ListAccessKeys", f"arn:aws:iam::{A}:root")


def test_a_root_session_without_its_task_policy_can_do_nothing(orgw: World) -> None:
    world, member = orgw, orgw.member  # type: ignore[attr-defined]
    creds = assume_root(world, world.operator, member)["Credentials"]  # type: ignore[attr-defined]
    claims = world.claims(creds)
    me = f"arn:aws:iam::{member}:root"
    for arns in ((), ("arn:aws:iam::aws:policy/AdministratorAccess",), (AUDIT, DELETE)):
        forged = tokens.SessionClaims(
            **{
                **{f: getattr(claims, f) for f in claims.__slots__},  # type: ignore[attr-defined]
                "policy_arns": arns,
            }
        )
        p = Principal(kind="root", arn=me, account_id=member, user_id=member, session=forged)
        assert not world.allowed(p, "iam:ListAccessKeys", me)
        assert not world.allowed(p, "iam:GetAccountSummary", "*")


# --- AssumeRoot: every refusal ----------------------------------------------------


def denied(world: World, caller: Principal, target: str, **kw: Any) -> AccessDenied:
    with pytest.raises(AccessDenied) as e:
        assume_root(world, caller, target, **kw)
    assert world.last.audit_extra.get("denied") is True
    return e.value


def test_refusals(orgw: World) -> None:
    world, member = orgw, orgw.member  # type: ignore[attr-defined]
    op = world.operator  # type: ignore[attr-defined]
    member_root = f"arn:aws:iam::{member}:root"
    # The root user's own credentials.
    err = denied(world, root(A), member)
    assert err.message.startswith("AssumeRoot may not be called with root user credentials.")
    assert decoded(world, err)["failures"]["items"] == ["root"]
    # Target: the management account, an account outside, an unknown account.
    for target, why in (
        (A, "target is the management account"),
        (B, "target is not a member account of the organization"),
        ("999999999999", "target is not a member account of the organization"),
    ):
        err = denied(world, op, target)
        assert err.message.startswith(
            f"User: {op.arn} is not authorized to perform: sts:AssumeRoot on resource: "
            f"arn:aws:iam::{target}:root"
        )
        assert decoded(world, err)["failures"]["items"] == [why]
    # A caller in a member account (its own admin user), and one outside.
    member_admin = world.user(member, "admin", allow())
    err = denied(world, member_admin, member)
    assert decoded(world, err)["failures"]["items"] == [
        "caller is not in an organization's management account"
    ]
    denied(world, world.user(B, "outsider", allow()), member)
    # A caller without sts:AssumeRoot, or allowed only another task policy.
    err = denied(world, world.user(A, "plain"), member)
    assert "because no identity-based policy allows the sts:AssumeRoot action" in err.message
    assert decoded(world, err)["context"]["resource"] == member_root
    only_delete = world.user(
        A,
        "deleter",
        allow("sts:AssumeRoot", member_root, {"StringEquals": {"sts:TaskPolicyArn": DELETE}}),
    )
    assume_root(world, only_delete, member, DELETE)
    err = denied(world, only_delete, member, task=AUDIT)
    assert decoded(world, err)["context"]["conditions"]["items"]
    denier = world.user(
        A,
        "denier",
        doc(
            {"Effect": "Allow", "Action": "sts:AssumeRoot", "Resource": "*"},
            {"Effect": "Deny", "Action": "sts:AssumeRoot", "Resource": member_root},
        ),
    )
    assert "explicit deny" in denied(world, denier, member).message
    # Root sessions switched off.
    iam(world, root(A), "DisableOrganizationsRootSessions")
    err = denied(world, op, member)
    assert decoded(world, err)["failures"]["items"] == [
        "root sessions are not enabled for the organization"
    ]


def test_role_sessions_of_the_management_account_may_assume_root(orgw: World) -> None:
    world, member = orgw, orgw.member  # type: ignore[attr-defined]
    world.role(A, "breakglass", trust({"AWS": A}), allow("sts:AssumeRoot"))
    op = world.user(A, "ops", allow("sts:AssumeRole"))
    sess = world.principal(world.assume(op, f"arn:aws:iam::{A}:role/breakglass")["Credentials"])
    out = assume_root(world, sess, member)
    assert world.claims(out["Credentials"]).issuer["type"] == "AssumedRole"
    # A session policy that does not allow it narrows the role.
    narrow = world.assume(
        op, f"arn:aws:iam::{A}:role/breakglass", "narrow", Policy=allow("iam:Get*")
    )["Credentials"]
    err = denied(world, world.principal(narrow), member)
    assert "because no session policy allows the sts:AssumeRoot action" in err.message


def test_bad_input(orgw: World) -> None:
    world, member = orgw, orgw.member  # type: ignore[attr-defined]
    op = world.operator  # type: ignore[attr-defined]
    for task in (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/root-task/NoSuchTask",
        f"arn:aws:iam::{A}:policy/root-task/IAMAuditRootUserCredentials",
    ):
        with pytest.raises(ValidationError) as e:
            assume_root(world, op, member, task)
        assert "is not a task policy for root sessions" in e.value.message
    for target in ("not-an-account", f"arn:aws:iam::{member}:user/bob", "1234567890123"):
        with pytest.raises(ValidationError) as e:
            assume_root(world, op, target)
        assert e.value.message == f"{target} is not a valid account ID or root user ARN."
    with pytest.raises(ValidationError) as e:
        world.sts(op, "AssumeRoot", TargetPrincipal="short")
    assert e.value.message == (
        "2 validation errors detected: Value 'short' at 'targetPrincipal' failed to satisfy "
        "constraint: Member must have length greater than or equal to 12; Value null at "
        "'taskPolicyArn' failed to satisfy constraint: Member must not be null"
    )


def test_old_session_kinds_still_open() -> None:
    assert {"assumed-role", "federated-user", "session", "assumed-root"} == set(
        tokens.SESSION_KINDS
    )
