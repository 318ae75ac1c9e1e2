"""GetSessionToken, GetFederationToken, GetCallerIdentity, GetAccessKeyInfo,
DecodeAuthorizationMessage, revocation and tampered tokens."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rolegate import tokens
from rolegate.errors import (
    AccessDenied,
    AwsError,
    InvalidAuthorizationMessage,
    InvalidClientTokenId,
    ValidationError,
)
from rolegate.principals.credentials import account_of_session_key
from rolegate.sts.authz_message import SUFFIX
from rolegate.sts.revoke import POLICY_NAME, revoke_older_sessions
from tests.sts.conftest import A, B, World, allow, role_arn, root, trust


def lifetime(world: World, creds: dict) -> int:
    c = world.claims(creds)
    return int(c.expires_at - c.issued_at)


# --- GetSessionToken -----------------------------------------------------------


def test_get_session_token_for_user_and_root(world: World) -> None:
    alice = world.user(A, "alice", allow("iam:ListUsers"))
    out = world.sts(alice, "GetSessionToken")
    assert set(out) == {"Credentials"}
    assert lifetime(world, out["Credentials"]) == 43200
    p = world.principal(out["Credentials"])
    assert (p.kind, p.arn, p.user_id, p.name) == ("user", alice.arn, alice.user_id, "alice")
    assert p.session.kind == "session" and p.session.user_name == "alice"
    assert world.allowed(p, "iam:ListUsers") and not world.allowed(p, "iam:CreateUser")
    assert (
        lifetime(world, world.sts(alice, "GetSessionToken", DurationSeconds=129600)["Credentials"])
        == 129600
    )
    for bad in (899, 129601):
        with pytest.raises(ValidationError):
            world.sts(alice, "GetSessionToken", DurationSeconds=bad)
    # Root: one hour at most, silently.
    r = world.sts(root(A), "GetSessionToken", DurationSeconds=7200)
    assert lifetime(world, r["Credentials"]) == 3600
    assert lifetime(world, world.sts(root(A), "GetSessionToken")["Credentials"]) == 3600
    c = world.claims(r["Credentials"])
    assert (c.arn, c.user_id, c.user_name) == (f"arn:aws:iam::{A}:root", A, None)
    assert c.issuer["type"] == "Root"
    assert "secretAccessKey" not in json.dumps(world.last.audit_response)


def test_session_credentials_cannot_get_session_or_federation_tokens(world: World) -> None:
    alice = world.user(A, "alice", allow("sts:*"))
    world.role(A, "r", trust({"AWS": alice.arn}), allow("sts:*"))
    role_session = world.principal(world.assume(alice, role_arn(A, "r"))["Credentials"])
    token_session = world.principal(world.sts(alice, "GetSessionToken")["Credentials"])
    for caller in (role_session, token_session):
        with pytest.raises(AccessDenied) as e:
            world.sts(caller, "GetSessionToken")
        assert e.value.message == "Cannot call GetSessionToken with session credentials"
        with pytest.raises(AccessDenied) as e:
            world.sts(caller, "GetFederationToken", Name="fed")
        assert e.value.message == "Cannot call GetFederationToken with session credentials"


# --- GetFederationToken ------------------------------------------------------------


def test_get_federation_token(world: World) -> None:
    alice = world.user(
        A, "alice", allow(["sts:GetFederationToken", "iam:ListUsers", "iam:ListRoles"])
    )
    out = world.sts(alice, "GetFederationToken", Name="bob", Policy=allow("iam:ListUsers"))
    fed_arn = f"arn:aws:sts::{A}:federated-user/bob"
    assert out["FederatedUser"] == {"FederatedUserId": f"{A}:bob", "Arn": fed_arn}
    assert lifetime(world, out["Credentials"]) == 43200
    assert 0 < out["PackedPolicySize"] <= 100
    p = world.principal(out["Credentials"])
    assert (p.kind, p.arn, p.user_id) == ("federated-user", fed_arn, f"{A}:bob")
    # Permissions = the user's ∩ the session policy.
    assert world.allowed(p, "iam:ListUsers") and not world.allowed(p, "iam:ListRoles")
    assert world.sts(p, "GetCallerIdentity") == {"UserId": f"{A}:bob", "Account": A, "Arn": fed_arn}
    # No session policy: no permissions at all.
    bare = world.principal(world.sts(alice, "GetFederationToken", Name="nopol")["Credentials"])
    assert not world.allowed(bare, "iam:ListUsers")


def test_get_federation_token_needs_permission_and_valid_name(world: World) -> None:
    alice = world.user(
        A, "alice", allow("sts:GetFederationToken", f"arn:aws:sts::{A}:federated-user/ok-*")
    )
    world.sts(alice, "GetFederationToken", Name="ok-1")
    with pytest.raises(AccessDenied) as e:
        world.sts(alice, "GetFederationToken", Name="nope")
    assert (
        f"sts:GetFederationToken on resource: arn:aws:sts::{A}:federated-user/nope"
        in e.value.message
    )
    for bad in ("x", "n" * 33, "has space"):
        with pytest.raises(ValidationError):
            world.sts(alice, "GetFederationToken", Name=bad)
    with pytest.raises(ValidationError):  # the model caps this Policy at 2048 characters
        world.sts(alice, "GetFederationToken", Name="ok-2", Policy=" " * 2049)
    r = world.sts(root(A), "GetFederationToken", Name="rootfed", DurationSeconds=7200)
    assert lifetime(world, r["Credentials"]) == 3600


def test_get_federation_token_tags(world: World) -> None:
    carl = world.user(
        A, "carl", allow("sts:GetFederationToken"), tags=[{"Key": "dept", "Value": "eng"}]
    )
    with pytest.raises(AccessDenied):  # tags need sts:TagSession
        world.sts(carl, "GetFederationToken", Name="ff", Tags=[{"Key": "k", "Value": "v"}])
    world.iam(
        A,
        "PutUserPolicy",
        UserName="carl",
        PolicyName="tag",
        PolicyDocument=allow("sts:TagSession"),
    )
    out = world.sts(
        carl,
        "GetFederationToken",
        Name="ff",
        Tags=[{"Key": "DEPT", "Value": "ops"}, {"Key": "k", "Value": "v"}],
    )
    c = world.claims(out["Credentials"])
    assert dict(c.tags) == {"DEPT": "ops", "k": "v"} and c.transitive_tag_keys == ()


# --- GetCallerIdentity ----------------------------------------------------------------


def test_get_caller_identity_for_every_principal_kind(world: World) -> None:
    alice = world.user(A, "alice", allow("sts:GetFederationToken"))
    role = world.role(A, "r", trust({"AWS": alice.arn}))
    assert world.sts(root(A), "GetCallerIdentity") == {
        "UserId": A,
        "Account": A,
        "Arn": f"arn:aws:iam::{A}:root",
    }
    assert world.sts(alice, "GetCallerIdentity") == {
        "UserId": alice.user_id,
        "Account": A,
        "Arn": alice.arn,
    }
    sess = world.principal(world.assume(alice, role_arn(A, "r"), "me")["Credentials"])
    assert world.sts(sess, "GetCallerIdentity") == {
        "UserId": f"{role['RoleId']}:me",
        "Account": A,
        "Arn": f"arn:aws:sts::{A}:assumed-role/r/me",
    }
    st = world.principal(world.sts(alice, "GetSessionToken")["Credentials"])
    assert world.sts(st, "GetCallerIdentity") == {
        "UserId": alice.user_id,
        "Account": A,
        "Arn": alice.arn,
    }
    fed = world.principal(world.sts(alice, "GetFederationToken", Name="fu")["Credentials"])
    assert world.sts(fed, "GetCallerIdentity")["Arn"] == f"arn:aws:sts::{A}:federated-user/fu"


def test_get_caller_identity_ignores_explicit_deny(world: World) -> None:
    denied = world.user(
        A,
        "denied",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}',
    )
    assert world.sts(denied, "GetCallerIdentity")["Arn"] == denied.arn


# --- GetAccessKeyInfo -----------------------------------------------------------------


def test_get_access_key_info(world: World) -> None:
    alice = world.user(A, "alice", allow("sts:GetAccessKeyInfo"))
    bob_b = world.user(B, "bob")
    assert world.sts(alice, "GetAccessKeyInfo", AccessKeyId=bob_b.access_key_id) == {"Account": B}
    assert world.sts(alice, "GetAccessKeyInfo", AccessKeyId=alice.access_key_id) == {"Account": A}
    # Session keys: decoded from the id, for anyone's sessions, across accounts.
    world.role(B, "x", trust({"AWS": A}))
    other = world.user(A, "other", allow("sts:AssumeRole"))
    creds = world.assume(other, role_arn(B, "x"))["Credentials"]
    assert account_of_session_key(creds["AccessKeyId"]) == B
    assert world.sts(alice, "GetAccessKeyInfo", AccessKeyId=creds["AccessKeyId"]) == {"Account": B}
    with pytest.raises(AwsError) as e:
        world.sts(alice, "GetAccessKeyInfo", AccessKeyId="AKIAXXXXXXXXXXXXXXXX")
    assert e.value.code == "InvalidParameterValue"
    with pytest.raises(ValidationError):
        world.sts(alice, "GetAccessKeyInfo", AccessKeyId="short")
    nobody = world.user(A, "nobody")
    with pytest.raises(AccessDenied):
        world.sts(nobody, "GetAccessKeyInfo", AccessKeyId=alice.access_key_id)


# --- DecodeAuthorizationMessage --------------------------------------------------------


def test_decode_authorization_message_round_trip(world: World) -> None:
    alice = world.user(A, "alice", allow("sts:DecodeAuthorizationMessage"))
    world.role(A, "r", trust({"AWS": B}))
    with pytest.raises(AccessDenied) as e:
        world.assume(alice, role_arn(A, "r"), ExternalId="ext-42")
    blob = e.value.message.split(SUFFIX, 1)[1]
    decoded = json.loads(
        world.sts(alice, "DecodeAuthorizationMessage", EncodedMessage=blob)["DecodedMessage"]
    )
    assert decoded["allowed"] is False and decoded["explicitDeny"] is False
    assert decoded["context"]["principal"] == {
        "id": alice.user_id,
        "name": "alice",
        "arn": alice.arn,
    }
    assert decoded["context"]["action"] == "sts:AssumeRole"
    assert decoded["context"]["resource"] == role_arn(A, "r")
    conditions = {
        c["key"]: [v["value"] for v in c["values"]["items"]]
        for c in decoded["context"]["conditions"]["items"]
    }
    assert conditions["sts:ExternalId"] == ["ext-42"]
    assert conditions["sts:RoleSessionName"] == ["sess"]
    assert conditions["aws:PrincipalArn"] == [alice.arn]
    assert set(decoded) == {"allowed", "explicitDeny", "matchedStatements", "failures", "context"}
    # Needs the permission.
    bob = world.user(A, "bob")
    with pytest.raises(AccessDenied):
        world.sts(bob, "DecodeAuthorizationMessage", EncodedMessage=blob)
    # Tampered, truncated, foreign: one opaque error.
    flipped = blob[:20] + ("A" if blob[20] != "A" else "B") + blob[21:]
    foreign = tokens.seal_message(b"x", tokens.KeyRing([("k9", b"\x01" * 32)]), 0)
    for bad in (flipped, blob[:-8], "not-a-message", foreign):
        with pytest.raises(InvalidAuthorizationMessage) as e2:
            world.sts(alice, "DecodeAuthorizationMessage", EncodedMessage=bad)
        assert e2.value.code == "InvalidAuthorizationMessageException"


def test_root_and_mfa_denials_carry_a_message_too(world: World) -> None:
    world.role(A, "r", trust({"AWS": A}))
    with pytest.raises(AccessDenied) as e:
        world.assume(root(A), role_arn(A, "r"))
    blob = e.value.message.split(SUFFIX, 1)[1]
    decoded = json.loads(
        world.sts(root(A), "DecodeAuthorizationMessage", EncodedMessage=blob)["DecodedMessage"]
    )
    assert decoded["failures"]["items"] == ["root"]


# --- tokens ------------------------------------------------------------------------------


def test_tampered_token_and_wrong_key_id(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}))
    c1 = world.assume(alice, role_arn(A, "r"), "one")["Credentials"]
    c2 = world.assume(alice, role_arn(A, "r"), "two")["Credentials"]
    tok = c1["SessionToken"]
    mid = len(tok) // 2
    for bad in (
        tok[:mid] + ("A" if tok[mid] != "A" else "B") + tok[mid + 1 :],
        tok[:-10],
        tok + "AAAA",
    ):
        with pytest.raises(InvalidClientTokenId):
            world.principal({**c1, "SessionToken": bad})
    with pytest.raises(InvalidClientTokenId):  # a real token with another session's key id
        world.principal({**c1, "SessionToken": c2["SessionToken"]})
    other_ring = tokens.KeyRing([("k1", b"\x02" * 32)])
    with pytest.raises(InvalidClientTokenId):  # another deployment
        tokens.open_token(
            tok, other_ring, int(world.now.timestamp()), access_key_id=c1["AccessKeyId"]
        )


def test_credentials_expire(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}))
    creds = world.assume(alice, role_arn(A, "r"), DurationSeconds=900)["Credentials"]
    world.principal(creds)
    world.now += timedelta(seconds=901)
    with pytest.raises(tokens.SessionExpired):
        world.principal(creds)


# --- revocation ----------------------------------------------------------------------------


def test_revoke_older_sessions(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}), allow("iam:ListUsers"))
    old = world.principal(world.assume(alice, role_arn(A, "r"))["Credentials"])
    assert world.allowed(old, "iam:ListUsers")
    world.advance(5)
    document = revoke_older_sessions(world.store, A, "r", world.now)
    stored = world.iam(A, "GetRolePolicy", RoleName="r", PolicyName=POLICY_NAME)["PolicyDocument"]
    assert json.loads(stored) == json.loads(document)
    st = json.loads(document)["Statement"][0]
    assert st["Effect"] == "Deny" and st["Action"] == ["*"] and st["Resource"] == ["*"]
    assert st["Condition"]["DateLessThan"]["aws:TokenIssueTime"].startswith(
        world.now.strftime("%Y-%m-%dT%H:%M:%S")
    )
    assert not world.allowed(old, "iam:ListUsers")
    world.advance(1)
    fresh = world.principal(world.assume(alice, role_arn(A, "r"))["Credentials"])
    assert world.allowed(fresh, "iam:ListUsers")
    # Running it again moves the moment forward (one policy, overwritten).
    world.advance(5)
    revoke_older_sessions(world.store, A, "r", world.now)
    assert world.iam(A, "ListRolePolicies", RoleName="r")["PolicyNames"] == [POLICY_NAME, "p0"]
    assert not world.allowed(fresh, "iam:ListUsers")
    from rolegate.errors import NoSuchEntity

    with pytest.raises(NoSuchEntity):
        revoke_older_sessions(world.store, A, "ghost", world.now)
