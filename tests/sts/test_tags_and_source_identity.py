"""Session tags, transitive tags along a chain, and source identity."""

from __future__ import annotations

import pytest

from rolegate.errors import (
    AccessDenied,
    InvalidParameterValue,
    PackedPolicyTooLarge,
    ValidationError,
)
from rolegate.principals.session_tags import (
    DUPLICATE_MESSAGE,
    INHERITED_CONFLICT,
    TRANSITIVE_NOT_A_TAG,
)
from tests.sts.conftest import A, B, World, allow, role_arn, trust

TAGGING = ["sts:AssumeRole", "sts:TagSession"]
ALL = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]


def tags(**kv: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in kv.items()]


def test_tags_need_tag_session(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "plain", trust({"AWS": alice.arn}))
    world.role(A, "tagging", trust({"AWS": alice.arn}, actions=TAGGING))
    with pytest.raises(AccessDenied) as e:
        world.assume(alice, role_arn(A, "plain"), Tags=tags(Project="x"))
    assert "sts:TagSession" in e.value.message
    out = world.assume(alice, role_arn(A, "tagging"), Tags=tags(Project="x"))
    assert "PackedPolicySize" in out
    p = world.principal(out["Credentials"])
    assert dict(p.session.tags)["Project"] == "x"
    # TransitiveTagKeys alone (with their tags) also need it.
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "plain"), Tags=tags(P="1"), TransitiveTagKeys=["P"])


def test_tag_conditions_in_trust(world: World) -> None:
    alice = world.user(A, "alice")
    cond = {
        "StringEquals": {"aws:RequestTag/team": "blue"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]},
    }
    world.role(
        A,
        "r",
        doc_two(
            {"Effect": "Allow", "Principal": {"AWS": alice.arn}, "Action": "sts:AssumeRole"},
            {
                "Effect": "Allow",
                "Principal": {"AWS": alice.arn},
                "Action": "sts:TagSession",
                "Condition": cond,
            },
        ),
    )
    world.assume(alice, role_arn(A, "r"), Tags=tags(team="blue", cost="1"))
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "r"), Tags=tags(team="red"))
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "r"), Tags=tags(team="blue", other="x"))


def doc_two(*statements: dict) -> str:
    import json

    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_tag_limits_and_case_rules(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}, actions=TAGGING))
    arn = role_arn(A, "r")
    # Codes and messages as AWS answers them (recorded against AWS, 2025).
    with pytest.raises(InvalidParameterValue) as ipv:
        world.assume(alice, arn, Tags=[{"Key": "Env", "Value": "a"}, {"Key": "env", "Value": "b"}])
    assert ipv.value.message == DUPLICATE_MESSAGE
    with pytest.raises(ValidationError):
        world.assume(alice, arn, Tags=[{"Key": "k" * 129, "Value": "v"}])
    with pytest.raises(ValidationError):
        world.assume(alice, arn, Tags=[{"Key": "k", "Value": "v" * 257}])
    with pytest.raises(ValidationError):
        world.assume(alice, arn, Tags=[{"Key": "bad*key", "Value": "v"}])
    with pytest.raises(ValidationError) as e:
        world.assume(alice, arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert "less than or equal to 50" in e.value.message
    with pytest.raises(InvalidParameterValue) as ipv:  # a transitive key must name a tag
        world.assume(alice, arn, Tags=tags(a="1"), TransitiveTagKeys=["b"])
    assert ipv.value.message == TRANSITIVE_NOT_A_TAG
    world.assume(alice, arn, Tags=tags(a="1"), TransitiveTagKeys=["A"])  # in any case
    # Unicode letters are allowed; an empty value too.
    out = world.assume(
        alice, arn, Tags=[{"Key": "Ünïcode", "Value": ""}, {"Key": "Env", "Value": "prod"}]
    )
    assert dict(world.principal(out["Credentials"]).session.tags) == {"Ünïcode": "", "Env": "prod"}


def test_session_tags_override_role_tags_case_insensitively(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(
        A, "r", trust({"AWS": alice.arn}, actions=TAGGING), tags=tags(Team="role", Keep="yes")
    )
    out = world.assume(alice, role_arn(A, "r"), Tags=tags(team="session"))
    got = dict(world.principal(out["Credentials"]).session.tags)
    assert got == {"team": "session", "Keep": "yes"}


def test_packed_tags_too_large(world: World) -> None:
    import random
    import string

    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}, actions=TAGGING))
    rnd = random.Random(5)

    def text(n: int) -> str:
        return "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(n))

    big = [{"Key": text(128), "Value": text(256)} for _ in range(50)]
    with pytest.raises(PackedPolicyTooLarge) as e:
        world.assume(alice, role_arn(A, "r"), Tags=big)
    assert e.value.message.startswith("Packed size of session tags consumes ")


def test_transitive_tags_over_a_two_hop_chain(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "hop1", trust({"AWS": alice.arn}, actions=TAGGING), tags=tags(Project="role-own"))
    # hop2 admits only sessions whose principal tag Project is apollo; its own
    # tag would say otherwise, but the caller's transitive tag replaces it.
    world.role(
        A,
        "hop2",
        trust(
            {"AWS": role_arn(A, "hop1")},
            actions=TAGGING,
            condition={
                "StringEquals": {
                    "aws:PrincipalTag/Project": "apollo",
                    "aws:ResourceTag/Project": "apollo",
                }
            },
        ),
        tags=tags(Project="hop2-own"),
    )
    world.role(
        A,
        "hop3",
        trust(
            {"AWS": role_arn(A, "hop2")},
            condition={"StringEquals": {"aws:PrincipalTag/Project": "apollo"}},
        ),
    )
    first = world.assume(
        alice,
        role_arn(A, "hop1"),
        Tags=tags(Project="apollo", Cost="42"),
        TransitiveTagKeys=["Project"],
    )
    s1 = world.principal(first["Credentials"])
    assert s1.session.transitive_tag_keys == ("Project",)
    assert dict(s1.session.tags) == {"Project": "apollo", "Cost": "42"}
    second = world.assume(s1, role_arn(A, "hop2"), "two")
    s2 = world.principal(second["Credentials"])
    # Project travelled (transitive), Cost did not; hop2's own tag was overridden.
    assert dict(s2.session.tags) == {"Project": "apollo"}
    assert s2.session.transitive_tag_keys == ("Project",)
    world.assume(s2, role_arn(A, "hop3"), "three")
    # A request may not re-set an inherited transitive key, whatever its case.
    for key in ("Project", "project"):
        with pytest.raises(InvalidParameterValue) as ipv:
            world.assume(s1, role_arn(A, "hop2"), "two", **{"Tags": [{"Key": key, "Value": "x"}]})
        assert ipv.value.message == INHERITED_CONFLICT
    # Non-transitive tags are free to set again on the next hop.
    out = world.assume(s1, role_arn(A, "hop2"), "two", Tags=tags(Cost="7"))
    assert dict(world.principal(out["Credentials"]).session.tags) == {
        "Project": "apollo",
        "Cost": "7",
    }


def test_transitive_tags_cross_account(world: World) -> None:
    alice = world.user(A, "alice", allow(["sts:AssumeRole", "sts:TagSession"]))
    world.role(A, "hop1", trust({"AWS": alice.arn}, actions=TAGGING), allow(ALL))
    world.role(
        B,
        "far",
        trust(
            {"AWS": role_arn(A, "hop1")},
            condition={"StringEquals": {"aws:PrincipalTag/dept": "ops"}},
        ),
    )
    s1 = world.principal(
        world.assume(alice, role_arn(A, "hop1"), Tags=tags(dept="ops"), TransitiveTagKeys=["dept"])[
            "Credentials"
        ]
    )
    out = world.assume(s1, role_arn(B, "far"))
    assert dict(world.principal(out["Credentials"]).session.tags) == {"dept": "ops"}


def test_source_identity_set_once_and_immutable(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "plain", trust({"AWS": alice.arn}))
    world.role(A, "hop1", trust({"AWS": alice.arn}, actions=ALL))
    world.role(A, "hop2", trust({"AWS": role_arn(A, "hop1")}, actions=ALL))
    world.role(A, "no-set", trust({"AWS": role_arn(A, "hop1")}))
    world.role(
        A,
        "must",
        trust(
            {"AWS": alice.arn},
            actions=ALL,
            condition={"StringEquals": {"sts:SourceIdentity": "${aws:username}"}},
        ),
    )
    with pytest.raises(AccessDenied) as e:
        world.assume(alice, role_arn(A, "plain"), SourceIdentity="alice")
    assert "sts:SetSourceIdentity" in e.value.message
    world.assume(alice, role_arn(A, "must"), SourceIdentity="alice")
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "must"), SourceIdentity="bob")
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "must"))
    with pytest.raises(ValidationError):
        world.assume(alice, role_arn(A, "hop1"), SourceIdentity="aws:me")
    first = world.assume(alice, role_arn(A, "hop1"), SourceIdentity="alice-laptop")
    assert first["SourceIdentity"] == "alice-laptop"
    s1 = world.principal(first["Credentials"])
    assert s1.session.source_identity == "alice-laptop"
    # Carried along the chain without being passed again...
    second = world.assume(s1, role_arn(A, "hop2"))
    assert second["SourceIdentity"] == "alice-laptop"
    assert world.principal(second["Credentials"]).session.source_identity == "alice-laptop"
    # ... the same value may be passed again, a different one may not ...
    world.assume(s1, role_arn(A, "hop2"), SourceIdentity="alice-laptop")
    with pytest.raises(ValidationError):
        world.assume(s1, role_arn(A, "hop2"), SourceIdentity="someone-else")
    # ... and a role whose trust doesn't allow sts:SetSourceIdentity cannot be
    # chained to with a source identity (IAM guide, role chaining).
    with pytest.raises(AccessDenied):
        world.assume(s1, role_arn(A, "no-set"))


def test_source_identity_is_in_the_session_context(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(
        A,
        "r",
        trust({"AWS": alice.arn}, actions=ALL),
        allow("iam:ListUsers", condition={"StringEquals": {"aws:SourceIdentity": "alice"}}),
    )
    good = world.principal(
        world.assume(alice, role_arn(A, "r"), SourceIdentity="alice")["Credentials"]
    )
    other = world.principal(
        world.assume(alice, role_arn(A, "r"), SourceIdentity="zed")["Credentials"]
    )
    assert world.allowed(good, "iam:ListUsers")
    assert not world.allowed(other, "iam:ListUsers")
