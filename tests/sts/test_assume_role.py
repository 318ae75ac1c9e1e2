"""AssumeRole's rules (reference §2-§3), each allowed and denied, at handler level."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rolegate.errors import (
    AccessDenied,
    InvalidContextAssertion,
    MalformedPolicyDocument,
    ValidationError,
)
from rolegate.sts.authz_message import SUFFIX
from tests.sts.conftest import A, B, World, allow, doc, role_arn, root, trust

ASSUME = allow("sts:AssumeRole")


def encoded(e: pytest.ExceptionInfo[Any]) -> str:
    message = e.value.message
    assert SUFFIX in message
    return message.split(SUFFIX, 1)[1]


# --- who may assume ---------------------------------------------------------


def test_same_account_trust_naming_user_needs_no_identity_policy(world: World) -> None:
    alice = world.user(A, "alice")  # no identity policy at all
    world.role(A, "r", trust({"AWS": alice.arn}))
    out = world.assume(alice, role_arn(A, "r"), "alice-s")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{A}:assumed-role/r/alice-s"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice-s")
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40
    assert creds["Expiration"] == world.now.replace(microsecond=0) + __import__(
        "datetime"
    ).timedelta(seconds=3600)
    assert "PackedPolicySize" not in out and "SourceIdentity" not in out

    bob = world.user(A, "bob", ASSUME)  # even with an identity Allow, the trust doesn't name bob
    with pytest.raises(AccessDenied) as e:
        world.assume(bob, role_arn(A, "r"))
    assert e.value.message.startswith(
        f"User: {bob.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn(A, 'r')}"
    )


def test_trust_naming_only_the_account_needs_identity_allow(world: World) -> None:
    world.role(A, "acct", trust({"AWS": A}))
    with_policy = world.user(A, "with", allow("sts:AssumeRole", role_arn(A, "acct")))
    without = world.user(A, "without")
    world.assume(with_policy, role_arn(A, "acct"))
    with pytest.raises(AccessDenied):
        world.assume(without, role_arn(A, "acct"))
    # The root-ARN spelling of the account means the same.
    world.role(A, "acct2", trust({"AWS": f"arn:aws:iam::{A}:root"}))
    with pytest.raises(AccessDenied):  # the identity policy names only acct
        world.assume(with_policy, role_arn(A, "acct2"))
    with pytest.raises(AccessDenied):
        world.assume(without, role_arn(A, "acct2"))


def test_trust_naming_role_arn_admits_its_sessions_but_not_others(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "first", trust({"AWS": alice.arn}))
    world.role(A, "second", trust({"AWS": role_arn(A, "first")}))
    world.role(A, "other", trust({"AWS": alice.arn}))
    s1 = world.principal(world.assume(alice, role_arn(A, "first"))["Credentials"])
    s_other = world.principal(world.assume(alice, role_arn(A, "other"))["Credentials"])
    world.assume(s1, role_arn(A, "second"))  # no identity policy needed: the trust names the role
    with pytest.raises(AccessDenied):
        world.assume(s_other, role_arn(A, "second"))
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "second"))


def test_trust_naming_exact_session_arn(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "first", trust({"AWS": alice.arn}))
    world.role(A, "exact", trust({"AWS": f"arn:aws:sts::{A}:assumed-role/first/good"}))
    good = world.principal(world.assume(alice, role_arn(A, "first"), "good")["Credentials"])
    bad = world.principal(world.assume(alice, role_arn(A, "first"), "bad")["Credentials"])
    world.assume(good, role_arn(A, "exact"))
    with pytest.raises(AccessDenied):
        world.assume(bad, role_arn(A, "exact"))


def test_cross_account_needs_both_sides(world: World) -> None:
    carol = world.user(A, "carol", allow("sts:AssumeRole", f"arn:aws:iam::{B}:role/*"))
    world.role(B, "shared", trust({"AWS": A}))
    world.role(B, "named", trust({"AWS": carol.arn}))
    dave = world.user(A, "dave")  # trusted by account, but no identity Allow
    out = world.assume(carol, role_arn(B, "shared"))
    assert out["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{B}:assumed-role/shared/")
    assert world.last.audit_extra["recipient_accounts"] == [A, B]
    assert world.last.audit_resources == [
        {"ARN": role_arn(B, "shared"), "accountId": B, "type": "AWS::IAM::Role"}
    ]
    assert world.principal(out["Credentials"]).account_id == B
    with pytest.raises(AccessDenied):
        world.assume(dave, role_arn(B, "shared"))
    # Cross account, the identity policy is needed even when the trust names the user.
    world.assume(carol, role_arn(B, "named"))
    world.iam(A, "DeleteUserPolicy", UserName="carol", PolicyName="p0")
    with pytest.raises(AccessDenied):
        world.assume(carol, role_arn(B, "named"))


def test_cross_account_trust_not_naming_caller_account(world: World) -> None:
    world.role(B, "closed", trust({"AWS": B}))
    erin = world.user(A, "erin", ASSUME)
    with pytest.raises(AccessDenied):
        world.assume(erin, role_arn(B, "closed"))


def test_root_missing_role_unknown_account_and_bad_arn(world: World) -> None:
    world.role(A, "r", trust({"AWS": A}))
    with pytest.raises(AccessDenied) as e:
        world.assume(root(A), role_arn(A, "r"))
    assert e.value.message.startswith("Roles may not be assumed by root accounts.")
    alice = world.user(A, "alice", ASSUME)
    for arn in (role_arn(A, "ghost"), role_arn("999999999999", "r"), role_arn(A, "r", "/wrong/")):
        with pytest.raises(AccessDenied) as e:
            world.assume(alice, arn)
        assert e.value.message.startswith(
            f"User: {alice.arn} is not authorized to perform: sts:AssumeRole on resource: {arn}"
        )
        assert SUFFIX in e.value.message
    with pytest.raises(AccessDenied):
        world.assume(alice, f"arn:aws:iam::{A}:user/alice")
    # A well-formed ARN of something else is a role the caller may not assume;
    # what is no ARN at all is a ValidationError, as AWS answers (recorded 2025).
    with pytest.raises(AccessDenied):
        world.assume(alice, "arn:aws:s3:::some-bucket/some-key")
    for bad in (
        "nothing-valid-in-here",
        "arn::b:::something/test-role",
        "arn:a::::something/test-role",
        "arn:a:::something/test-role",
        "arn:a:a::aaaaaaaaaa:",
        f"arn:aws:iam:{A}:role/r",  # one colon short
    ):
        with pytest.raises(ValidationError) as v:
            world.assume(alice, bad)
        assert v.value.message == f"{bad} is invalid"


def test_role_with_path_and_case_insensitive_name(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "Pathy", trust({"AWS": alice.arn}), path="/team/x/")
    out = world.assume(alice, role_arn(A, "Pathy", "/team/x/"))
    # The session ARN omits the path (reference §0 rule 8).
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{A}:assumed-role/Pathy/sess"


def test_star_and_explicit_deny_in_trust(world: World) -> None:
    alice = world.user(A, "alice", ASSUME)
    world.role(A, "open", trust("*"))
    world.assume(alice, role_arn(A, "open"))
    deny = doc(
        {"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": {"AWS": alice.arn}, "Action": "sts:AssumeRole"},
    )
    world.role(A, "denying", deny)
    with pytest.raises(AccessDenied) as e:
        world.assume(alice, role_arn(A, "denying"))
    decoded = json.loads(
        world.sts(root(A), "DecodeAuthorizationMessage", EncodedMessage=encoded(e))[
            "DecodedMessage"
        ]
    )
    assert decoded["allowed"] is False and decoded["explicitDeny"] is True
    assert any(m["effect"] == "Deny" for m in decoded["matchedStatements"]["items"])


def test_identity_explicit_deny_wins(world: World) -> None:
    alice = world.user(
        A, "alice", doc({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"})
    )
    world.role(A, "r", trust({"AWS": alice.arn}))
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "r"))


def test_federated_user_cannot_assume(world: World) -> None:
    alice = world.user(A, "alice", allow("sts:*"))
    world.role(A, "r", trust({"AWS": A}))
    fed = world.sts(alice, "GetFederationToken", Name="fed", Policy=allow("sts:*"))
    with pytest.raises(AccessDenied):
        world.assume(world.principal(fed["Credentials"]), role_arn(A, "r"))


# --- ExternalId -------------------------------------------------------------


def test_external_id_missing_wrong_and_right(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(
        A,
        "partner",
        trust({"AWS": alice.arn}, condition={"StringEquals": {"sts:ExternalId": "xyz-1"}}),
    )
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "partner"))
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "partner"), ExternalId="xyz-2")
    world.assume(alice, role_arn(A, "partner"), ExternalId="xyz-1")
    # A negated condition must not be satisfied by a missing ExternalId either.
    world.role(
        A,
        "not-empty",
        trust({"AWS": alice.arn}, condition={"Null": {"sts:ExternalId": "false"}}),
    )
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "not-empty"))
    world.assume(alice, role_arn(A, "not-empty"), ExternalId="anything")


def test_external_id_pattern(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}))
    with pytest.raises(ValidationError) as e:
        world.assume(alice, role_arn(A, "r"), ExternalId="bad id!")
    assert "externalId" in e.value.message


# --- parameters and durations ------------------------------------------------


def test_role_session_name_rules(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}))
    for bad in ("x", "has space", "a" * 65, "semi;colon"):
        with pytest.raises(ValidationError) as e:
            world.assume(alice, role_arn(A, "r"), bad)
        assert "roleSessionName" in e.value.message
    world.assume(alice, role_arn(A, "r"), "ok+=,.@-_" + "a" * 20)
    with pytest.raises(ValidationError) as e:
        world.sts(alice, "AssumeRole", RoleArn=role_arn(A, "r"))
    assert e.value.message == (
        "1 validation error detected: Value null at 'roleSessionName' failed to satisfy "
        "constraint: Member must not be null"
    )
    # The session name is in the trust context.
    world.role(
        A,
        "named",
        trust(
            {"AWS": alice.arn}, condition={"StringLike": {"sts:RoleSessionName": "${aws:username}"}}
        ),
    )
    world.assume(alice, role_arn(A, "named"), "alice")
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "named"), "mallory")


def test_durations(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "short", trust({"AWS": alice.arn}))
    world.role(A, "long", trust({"AWS": alice.arn}), max_session=14400)
    out = world.assume(alice, role_arn(A, "short"), DurationSeconds=900)
    assert (
        world.claims(out["Credentials"]).expires_at - world.claims(out["Credentials"]).issued_at
        == 900
    )
    with pytest.raises(ValidationError) as e:
        world.assume(alice, role_arn(A, "short"), DurationSeconds=3601)
    assert (
        e.value.message
        == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    out = world.assume(alice, role_arn(A, "long"), DurationSeconds=14400)
    c = world.claims(out["Credentials"])
    assert c.expires_at - c.issued_at == 14400
    for bad in (899, 43201):
        with pytest.raises(ValidationError) as e:
            world.assume(alice, role_arn(A, "long"), DurationSeconds=bad)
        assert "durationSeconds" in e.value.message


def test_role_chaining_is_capped_at_one_hour(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "hop1", trust({"AWS": alice.arn}), max_session=14400)
    world.role(A, "hop2", trust({"AWS": role_arn(A, "hop1")}), max_session=14400)
    s1 = world.principal(
        world.assume(alice, role_arn(A, "hop1"), DurationSeconds=7200)["Credentials"]
    )
    with pytest.raises(ValidationError) as e:
        world.assume(s1, role_arn(A, "hop2"), DurationSeconds=7200)
    assert e.value.message == (
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
        "role chaining."
    )
    out = world.assume(s1, role_arn(A, "hop2"), DurationSeconds=3600)
    c = world.claims(out["Credentials"])
    assert c.expires_at - c.issued_at == 3600 and c.chain_depth == 1
    # GetSessionToken credentials are not role sessions: no chaining cap.
    st = world.principal(world.sts(alice, "GetSessionToken")["Credentials"])
    world.assume(st, role_arn(A, "hop1"), DurationSeconds=7200)


# --- session policies ----------------------------------------------------------


def test_session_policy_narrows_never_widens(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}), allow(["iam:ListUsers", "iam:ListRoles"]))
    plain = world.principal(world.assume(alice, role_arn(A, "r"))["Credentials"])
    assert world.allowed(plain, "iam:ListUsers") and world.allowed(plain, "iam:ListRoles")
    narrow = world.assume(
        alice, role_arn(A, "r"), Policy=allow(["iam:ListUsers", "iam:CreateUser"])
    )
    assert 0 < narrow["PackedPolicySize"] <= 100
    p = world.principal(narrow["Credentials"])
    assert world.allowed(p, "iam:ListUsers")
    assert not world.allowed(p, "iam:ListRoles")  # narrowed away
    assert not world.allowed(p, "iam:CreateUser")  # never widened


def test_managed_session_policies(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}), allow(["iam:ListUsers", "iam:ListRoles"]))
    mine = world.iam(
        A, "CreatePolicy", PolicyName="only-roles", PolicyDocument=allow("iam:ListRoles")
    )
    out = world.assume(alice, role_arn(A, "r"), PolicyArns=[{"arn": mine["Policy"]["Arn"]}])
    p = world.principal(out["Credentials"])
    assert world.allowed(p, "iam:ListRoles") and not world.allowed(p, "iam:ListUsers")
    aws_managed = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    out = world.assume(alice, role_arn(A, "r"), PolicyArns=[{"arn": aws_managed}])
    p = world.principal(out["Credentials"])
    assert world.allowed(p, "iam:ListUsers")
    for missing in (f"arn:aws:iam::{A}:policy/ghost", f"arn:aws:iam::{B}:policy/x-account"):
        with pytest.raises(ValidationError):
            world.assume(alice, role_arn(A, "r"), PolicyArns=[{"arn": missing}])
    with pytest.raises(ValidationError) as e:
        world.assume(alice, role_arn(A, "r"), PolicyArns=[{"arn": aws_managed}] * 11)
    assert "policyArns" in e.value.message


def test_malformed_and_oversized_session_policy(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}))
    for bad in (
        "{not json",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}],
            }
        ),
        trust({"AWS": A}),  # a Principal has no place in a session policy
    ):
        with pytest.raises(MalformedPolicyDocument):
            world.assume(alice, role_arn(A, "r"), Policy=bad)
    big = doc(
        *(
            {"Effect": "Allow", "Action": f"iam:Get{i:04d}xxxxxxxxxxxxx", "Resource": "*"}
            for i in range(60)
        )
    )
    with pytest.raises(ValidationError) as e:
        world.assume(alice, role_arn(A, "r"), Policy=big)
    assert "2048" in e.value.message


def test_packed_policy_too_large(world: World) -> None:
    import random
    import string

    from rolegate.errors import PackedPolicyTooLarge

    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}))
    rnd = random.Random(3)
    arns = []
    for i in range(10):
        path = "/" + "".join(rnd.choice(string.ascii_letters) for _ in range(400)) + "/"
        out = world.iam(
            A, "CreatePolicy", PolicyName=f"p{i}", Path=path, PolicyDocument=allow("iam:Get*")
        )
        arns.append({"arn": out["Policy"]["Arn"]})
    with pytest.raises(PackedPolicyTooLarge) as e:
        world.assume(alice, role_arn(A, "r"), PolicyArns=arns)
    assert e.value.message.startswith("Packed policy consumes ")
    assert e.value.message.endswith("% of allotted space, please use smaller policy.")


# --- audit ------------------------------------------------------------------


def test_audit_response_has_no_secret(world: World) -> None:
    alice = world.user(A, "alice", allow("sts:*"))
    world.role(
        A, "r", trust({"AWS": alice.arn}, actions=["sts:AssumeRole", "sts:SetSourceIdentity"])
    )
    out = world.assume(alice, role_arn(A, "r"), SourceIdentity="alice", Policy=allow("iam:Get*"))
    resp = world.last.audit_response
    assert resp is not None
    assert resp["credentials"]["accessKeyId"] == out["Credentials"]["AccessKeyId"]
    assert resp["credentials"]["sessionToken"] == out["Credentials"]["SessionToken"]
    assert "secretAccessKey" not in resp["credentials"]
    assert out["Credentials"]["SecretAccessKey"] not in json.dumps(resp)
    assert resp["assumedRoleUser"] == {
        "assumedRoleId": out["AssumedRoleUser"]["AssumedRoleId"],
        "arn": out["AssumedRoleUser"]["Arn"],
    }
    assert resp["packedPolicySize"] == out["PackedPolicySize"]
    assert resp["sourceIdentity"] == "alice"
    assert "recipient_accounts" not in world.last.audit_extra  # same account: one record


def test_role_last_used_is_noted(world: World) -> None:
    alice = world.user(A, "alice")
    role = world.role(A, "r", trust({"AWS": alice.arn}))
    world.assume(alice, role_arn(A, "r"))
    used = world.store.entity_last_used(role["RoleId"])
    assert used is not None and used["Region"] == "eu-west-1"


def test_provided_contexts_fail_closed(world: World) -> None:
    # No context provider signs assertions here, so none verifies: the caller
    # gets InvalidContextAssertion, not a session silently without its context.
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}))
    contexts = [
        {
            "ProviderArn": "arn:aws:iam::aws:contextProvider/IdentityCenter",
            "ContextAssertion": "x" * 40,
        }
    ]
    with pytest.raises(InvalidContextAssertion) as e:
        world.assume(alice, role_arn(A, "r"), ProvidedContexts=contexts)
    assert e.value.status == 400 and e.value.code == "InvalidContextAssertion"
    # Authorisation still comes first: a caller the trust doesn't name is denied.
    bob = world.user(A, "bob", ASSUME)
    with pytest.raises(AccessDenied):
        world.assume(bob, role_arn(A, "r"), ProvidedContexts=contexts)
    world.assume(alice, role_arn(A, "r"))
