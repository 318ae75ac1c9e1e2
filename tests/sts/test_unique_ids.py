"""Identities are bound to unique ids (AIDA.../AROA...), never to names
(reference §3.1; IAM User Guide, "IAM JSON policy elements: Principal").

A user or role deleted and created again under the same name is a new
identity: trust policies that named the old one, sessions of the old one and
its keys must not act for the new one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rolegate.context import Principal
from rolegate.errors import AccessDenied
from tests.sts.conftest import A, B, World, allow, role_arn, root, trust

ADMIN = allow("*")


def delete_user(world: World, account: str, who: Principal) -> None:
    name = who.name
    assert name is not None
    for key in world.iam(account, "ListAccessKeys", UserName=name)["AccessKeyMetadata"]:
        world.iam(account, "DeleteAccessKey", UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in world.iam(account, "ListUserPolicies", UserName=name)["PolicyNames"]:
        world.iam(account, "DeleteUserPolicy", UserName=name, PolicyName=policy)
    world.iam(account, "DeleteUser", UserName=name)


def delete_role(world: World, account: str, name: str) -> None:
    for policy in world.iam(account, "ListRolePolicies", RoleName=name)["PolicyNames"]:
        world.iam(account, "DeleteRolePolicy", RoleName=name, PolicyName=policy)
    world.iam(account, "DeleteRole", RoleName=name)


def principals_of(document: str) -> list[Any]:
    return [st["Principal"]["AWS"] for st in json.loads(document)["Statement"]]


# --- (a) trust policies name unique ids ------------------------------------------


def test_trust_naming_a_deleted_user_admits_nobody_and_shows_its_id(world: World) -> None:
    alice = world.user(A, "alice")
    sent = trust({"AWS": alice.arn})
    world.role(A, "r", sent)
    assert world.iam(A, "GetRole", RoleName="r")["Role"]["AssumeRolePolicyDocument"] == sent
    world.assume(alice, role_arn(A, "r"))

    delete_user(world, A, alice)
    # AWS shows the principal's unique id once the ARN maps to nobody.
    shown = world.iam(A, "GetRole", RoleName="r")["Role"]["AssumeRolePolicyDocument"]
    assert principals_of(shown) == [alice.user_id]
    listed = world.iam(A, "ListRoles")["Roles"]
    assert [principals_of(r["AssumeRolePolicyDocument"]) for r in listed] == [[alice.user_id]]
    details = world.iam(A, "GetAccountAuthorizationDetails", Filter=["Role"])
    assert principals_of(details["RoleDetailList"][0]["AssumeRolePolicyDocument"]) == [
        alice.user_id
    ]

    new_alice = world.user(A, "alice", allow("sts:AssumeRole"))
    assert new_alice.arn == alice.arn and new_alice.user_id != alice.user_id
    with pytest.raises(AccessDenied):
        world.assume(new_alice, role_arn(A, "r"))
    # Recreating the name does not restore the old principal.
    shown = world.iam(A, "GetRole", RoleName="r")["Role"]["AssumeRolePolicyDocument"]
    assert principals_of(shown) == [alice.user_id]

    # Saving the policy again binds the ARN to the new user.
    world.iam(A, "UpdateAssumeRolePolicy", RoleName="r", PolicyDocument=sent)
    world.assume(new_alice, role_arn(A, "r"))


def test_trust_naming_a_deleted_role_admits_none_of_the_new_roles_sessions(
    world: World,
) -> None:
    world.role(A, "src", trust({"AWS": A}))
    src_id = world.iam(A, "GetRole", RoleName="src")["Role"]["RoleId"]
    world.role(A, "dst", trust({"AWS": role_arn(A, "src")}))
    caller = world.user(A, "caller", allow("sts:AssumeRole"))

    def src_session() -> Principal:
        return world.principal(world.assume(caller, role_arn(A, "src"))["Credentials"])

    world.assume(src_session(), role_arn(A, "dst"))

    delete_role(world, A, "src")
    shown = world.iam(A, "GetRole", RoleName="dst")["Role"]["AssumeRolePolicyDocument"]
    assert principals_of(shown) == [src_id]

    world.role(A, "src", trust({"AWS": A}))
    with pytest.raises(AccessDenied):
        world.assume(src_session(), role_arn(A, "dst"))


def test_trust_naming_a_cross_account_user_binds_its_id(world: World) -> None:
    bob = world.user(B, "bob", allow("sts:AssumeRole"))
    world.role(A, "x", trust({"AWS": [bob.arn, B]}))
    world.assume(bob, role_arn(A, "x"))
    delete_user(world, B, bob)
    new_bob = world.user(B, "bob", allow("sts:AssumeRole"))
    shown = world.iam(A, "GetRole", RoleName="x")["Role"]["AssumeRolePolicyDocument"]
    assert principals_of(shown) == [[bob.user_id, B]]
    # Still admitted through the account principal (B's identity policy allows).
    world.assume(new_bob, role_arn(A, "x"))


def test_trust_follows_a_renamed_user(world: World) -> None:
    # A renamed user keeps its unique id: AWS shows the new ARN and admits it.
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}))
    world.iam(A, "UpdateUser", UserName="alice", NewUserName="alicia")
    shown = world.iam(A, "GetRole", RoleName="r")["Role"]["AssumeRolePolicyDocument"]
    assert principals_of(shown) == [f"arn:aws:iam::{A}:user/alicia"]
    alicia = Principal(
        kind="user",
        arn=f"arn:aws:iam::{A}:user/alicia",
        account_id=A,
        user_id=alice.user_id,
        name="alicia",
    )
    world.assume(alicia, role_arn(A, "r"))


# --- (b) sessions of a deleted role ------------------------------------------------


def test_sessions_of_a_deleted_role_do_not_get_the_new_roles_permissions(world: World) -> None:
    caller = world.user(A, "caller", allow("sts:AssumeRole"))
    world.role(A, "r", trust({"AWS": A}), allow("iam:ListUsers"))
    old = world.principal(world.assume(caller, role_arn(A, "r"), "s1")["Credentials"])
    assert world.allowed(old, "iam:ListUsers")

    delete_role(world, A, "r")
    assert not world.allowed(old, "iam:ListUsers")
    world.role(A, "r", trust({"AWS": A}), ADMIN)
    assert not world.allowed(old, "iam:ListUsers")
    assert not world.allowed(old, "iam:CreateUser")
    with pytest.raises(AccessDenied) as e:
        world.call("iam", "ListUsers", old)
    assert "is not authorized to perform: iam:ListUsers" in e.value.message

    new = world.principal(world.assume(caller, role_arn(A, "r"), "s1")["Credentials"])
    assert new.arn == old.arn and new.user_id != old.user_id
    assert world.allowed(new, "iam:CreateUser")


def test_sessions_of_a_deleted_role_cannot_chain(world: World) -> None:
    caller = world.user(A, "caller", allow("sts:AssumeRole"))
    world.role(A, "r", trust({"AWS": A}), allow("sts:AssumeRole"))
    old = world.principal(world.assume(caller, role_arn(A, "r"), "s1")["Credentials"])
    delete_role(world, A, "r")
    world.role(A, "r", trust({"AWS": A}), allow("sts:AssumeRole"))
    session_arn = f"arn:aws:sts::{A}:assumed-role/r/s1"
    # Trusting the role by ARN (bound to the new role), the account, or the
    # exact session ARN: none admits the old role's session.
    world.role(A, "by-role", trust({"AWS": role_arn(A, "r")}))
    world.role(A, "by-account", trust({"AWS": A}))
    world.role(A, "by-session", trust({"AWS": session_arn}))
    new = world.principal(world.assume(caller, role_arn(A, "r"), "s1")["Credentials"])
    for target in ("by-role", "by-account", "by-session"):
        with pytest.raises(AccessDenied):
            world.assume(old, role_arn(A, target))
        world.assume(new, role_arn(A, target))


# --- (c) the old user's session credentials and keys -----------------------------


def test_session_token_of_a_deleted_user_does_not_act_as_the_new_user(world: World) -> None:
    alice = world.user(A, "alice", allow("iam:ListUsers"))
    old = world.principal(world.sts(alice, "GetSessionToken")["Credentials"])
    assert world.allowed(old, "iam:ListUsers")
    delete_user(world, A, alice)
    new_alice = world.user(A, "alice", ADMIN)
    assert old.arn == new_alice.arn
    assert not world.allowed(old, "iam:ListUsers")
    assert world.allowed(new_alice, "iam:ListUsers")
    # Nor may it assume a role that trusts the (new) user or the account.
    world.role(A, "by-user", trust({"AWS": new_alice.arn}))
    world.role(A, "by-account", trust({"AWS": A}))
    for target in ("by-user", "by-account"):
        with pytest.raises(AccessDenied):
            world.assume(old, role_arn(A, target))
        world.assume(new_alice, role_arn(A, target))


def test_federation_token_of_a_deleted_user_has_no_permissions(world: World) -> None:
    alice = world.user(A, "alice", allow("*"))
    out = world.sts(alice, "GetFederationToken", Name="fed", Policy=allow("iam:ListUsers"))
    fed = world.principal(out["Credentials"])
    assert world.allowed(fed, "iam:ListUsers")
    delete_user(world, A, alice)
    world.user(A, "alice", ADMIN)
    assert not world.allowed(fed, "iam:ListUsers")


def test_a_recreated_user_inherits_no_groups_or_attachments(world: World) -> None:
    alice = world.user(A, "alice")
    world.iam(A, "CreateGroup", GroupName="g")
    world.iam(A, "PutGroupPolicy", GroupName="g", PolicyName="p", PolicyDocument=ADMIN)
    world.iam(A, "AddUserToGroup", GroupName="g", UserName="alice")
    world.iam(
        A, "AttachUserPolicy", UserName="alice", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    assert world.allowed(alice, "iam:CreateUser")
    world.iam(A, "RemoveUserFromGroup", GroupName="g", UserName="alice")
    world.iam(
        A, "DetachUserPolicy", UserName="alice", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    delete_user(world, A, alice)
    new_alice = world.user(A, "alice")
    assert world.iam(A, "ListGroupsForUser", UserName="alice")["Groups"] == []
    assert world.iam(A, "ListAttachedUserPolicies", UserName="alice")["AttachedPolicies"] == []
    assert not world.allowed(new_alice, "iam:ListUsers")
    assert not world.allowed(alice, "iam:ListUsers")


def test_a_stale_principal_of_the_right_name_is_denied(world: World) -> None:
    # A caller whose unique id is not the current entity's (what a key or
    # token of a deleted user carries) gets nothing, even from root-made ADMIN.
    world.user(A, "alice", ADMIN)
    ghost = Principal(
        kind="user",
        arn=f"arn:aws:iam::{A}:user/alice",
        account_id=A,
        user_id="AIDAGHOSTGHOSTGHOSTGH",
        name="alice",
    )
    assert not world.allowed(ghost, "iam:ListUsers")
    assert world.allowed(root(A), "iam:ListUsers")
