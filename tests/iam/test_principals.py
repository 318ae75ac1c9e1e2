from __future__ import annotations

from rolegate.iam.principals import PolicyBundle, PolicyDoc, managed_policy_document, policy_bundle
from rolegate.policy import PolicyKind, parse_policy
from tests.iam.conftest import ACCOUNT, allow, trust

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
RO_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def test_user_bundle_order_and_sources(iam, store):
    iam("CreateUser", UserName="u", Tags=[{"Key": "team", "Value": "core"}])
    iam("PutUserPolicy", UserName="u", PolicyName="own", PolicyDocument=allow("s3:A"))
    local = iam("CreatePolicy", PolicyName="loc", PolicyDocument=allow("s3:B"))["Policy"]["Arn"]
    iam("AttachUserPolicy", UserName="u", PolicyArn=local)
    for g in ("zeta", "alpha"):
        iam("CreateGroup", GroupName=g)
        iam("AddUserToGroup", GroupName=g, UserName="u")
        iam(
            "PutGroupPolicy", GroupName=g, PolicyName=f"{g}-inline", PolicyDocument=allow(f"s3:{g}")
        )
    iam("AttachGroupPolicy", GroupName="alpha", PolicyArn=RO_ARN)
    iam("PutUserPermissionsBoundary", UserName="u", PermissionsBoundary=ADMIN_ARN)

    b = policy_bundle(store, ACCOUNT, "user", "U")
    assert isinstance(b, PolicyBundle)
    assert b.entity.name == "u"
    assert [(d.source_type, d.name) for d in b.identity] == [
        ("user", "own"),
        ("user-managed", "loc"),
        ("group", "alpha-inline"),
        ("aws-managed", "ReadOnlyAccess"),
        ("group", "zeta-inline"),
    ]
    assert b.identity[0] == PolicyDoc("own", "user", "own", allow("s3:A"))
    assert b.identity[1].policy_id == local and b.identity[1].document == allow("s3:B")
    assert b.boundary is not None and b.boundary.policy_id == ADMIN_ARN
    assert b.boundary.source_type == "aws-managed"
    assert b.tags == {"team": "core"}
    for d in (*b.identity, b.boundary):
        parse_policy(d.document, PolicyKind.IDENTITY)


def test_role_bundle_and_default_version(iam, store):
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    arn = iam("CreatePolicy", PolicyName="p", PolicyDocument=allow("s3:V1"))["Policy"]["Arn"]
    iam("AttachRolePolicy", RoleName="r", PolicyArn=arn)
    iam("PutRolePolicy", RoleName="r", PolicyName="in", PolicyDocument=allow("s3:In"))
    b = policy_bundle(store, ACCOUNT, "role", "r")
    assert [d.document for d in b.identity] == [allow("s3:In"), allow("s3:V1")]
    assert [d.source_type for d in b.identity] == ["role", "user-managed"]
    assert b.boundary is None and b.tags == {}
    iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=allow("s3:V2"), SetAsDefault=True)
    b = policy_bundle(store, ACCOUNT, "role", "r")  # the cache must not serve the old version
    assert b.identity[1].document == allow("s3:V2")
    assert managed_policy_document(store, arn) == allow("s3:V2")


def test_missing_and_odd_inputs(iam, store):
    assert policy_bundle(store, ACCOUNT, "user", "ghost") is None
    assert policy_bundle(store, ACCOUNT, "role", "ghost") is None
    assert managed_policy_document(store, f"arn:aws:iam::{ACCOUNT}:policy/none") is None
    assert managed_policy_document(store, "not an arn") is None
    assert "Allow" in managed_policy_document(store, ADMIN_ARN)
    # A path mismatch is a different policy.
    assert managed_policy_document(store, "arn:aws:iam::aws:policy/x/AdministratorAccess") is None


def test_dangling_boundary_fails_closed(iam, store):
    iam("CreateUser", UserName="u")
    with store.transaction() as tx:
        e = tx.get(ACCOUNT, "user", "u")
        tx.update(e, {**e.data, "permissions_boundary": f"arn:aws:iam::{ACCOUNT}:policy/vanished"})
    b = policy_bundle(store, ACCOUNT, "user", "u")
    assert b.boundary is not None and '"Deny"' in b.boundary.document


def test_group_membership_changes_are_seen(iam, store):
    iam("CreateUser", UserName="u")
    iam("CreateGroup", GroupName="g")
    iam("AttachGroupPolicy", GroupName="g", PolicyArn=RO_ARN)
    assert policy_bundle(store, ACCOUNT, "user", "u").identity == ()
    iam("AddUserToGroup", GroupName="g", UserName="u")
    assert [d.name for d in policy_bundle(store, ACCOUNT, "user", "u").identity] == [
        "ReadOnlyAccess"
    ]
    iam("RemoveUserFromGroup", GroupName="g", UserName="u")
    assert policy_bundle(store, ACCOUNT, "user", "u").identity == ()
