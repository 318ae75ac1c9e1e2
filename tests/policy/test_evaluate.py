"""Each decision step of reference §4.5, compilation, caching and explanations."""

import json
import sys

import pytest

from rolegate.errors import MalformedPolicyDocument
from rolegate.policy import (
    Decision,
    PolicyKind,
    PolicySet,
    Request,
    compile_cached,
    evaluate,
)
from rolegate.policy.evaluate import COMPILE_CACHE_MAX

from .helpers import (
    ACCT,
    FED_USER,
    OTHER,
    ROLE,
    ROOT,
    SESSION,
    USER,
    compiled,
    decide,
    doc,
    pset,
    stmt,
)

ALLOW_ALL = doc(stmt())
DENY_S3 = doc(stmt("Deny", "s3:*"))
ALLOW_EC2 = doc(stmt(action="ec2:*"))
BUCKET_OBJ = "arn:aws:s3:::b/k"


def test_default_deny():
    assert decide(pset()) == "implicitDeny"


def test_identity_allow_and_explicit_deny_anywhere():
    assert decide(pset([ALLOW_ALL])) == "allow"
    assert decide(pset([ALLOW_ALL, DENY_S3])) == "explicitDeny"
    assert decide(pset([ALLOW_ALL], boundary=doc(stmt(), stmt("Deny", "s3:*")))) == "explicitDeny"
    assert (
        decide(pset([ALLOW_ALL], session=[doc(stmt(), stmt("Deny", "s3:*"))]), principal=SESSION)
        == "explicitDeny"
    )
    assert decide(pset([ALLOW_ALL], scp=[doc(stmt(), stmt("Deny", "s3:*"))])) == "explicitDeny"
    assert decide(pset([ALLOW_ALL], resource=doc(stmt("Deny", Principal="*")))) == "explicitDeny"


def test_explicit_deny_reports_all_deny_statements():
    ps = pset([doc(stmt(), stmt("Deny", "s3:*", Sid="A")), DENY_S3])
    res = evaluate(ps, Request(USER, "s3:GetObject", BUCKET_OBJ, {}))
    assert res.decision is Decision.EXPLICIT_DENY and res.reason == "deny"
    assert {(m.policy_id, m.index, m.sid, m.effect) for m in res.matched} == {
        ("id0", 1, "A", "Deny"),
        ("id1", 0, None, "Deny"),
    }


def test_root_allowed_in_own_account_unless_denied():
    assert decide(pset(), principal=ROOT) == "allow"
    assert decide(pset(resource=doc(stmt("Deny", Principal="*"))), principal=ROOT) == "explicitDeny"
    assert decide(pset(scp=[ALLOW_EC2]), principal=ROOT) == "implicitDeny"
    assert decide(pset(scp=[doc(stmt(), stmt("Deny", "s3:*"))]), principal=ROOT) == "explicitDeny"
    # cross-account: the resource side must allow
    other_res = f"arn:aws:sqs:us-east-1:{OTHER}:q"
    assert (
        decide(pset(), principal=ROOT, action="sqs:SendMessage", resource=other_res)
        == "implicitDeny"
    )
    res = doc(stmt(Principal={"AWS": ACCT}))
    assert (
        decide(pset(resource=res), principal=ROOT, action="sqs:SendMessage", resource=other_res)
        == "allow"
    )


# --- SCPs -------------------------------------------------------------------------


def test_scp_never_grants():
    assert decide(pset(scp=[ALLOW_ALL])) == "implicitDeny"


def test_scp_one_level_any_allow_suffices():
    assert decide(pset([ALLOW_ALL], scp=[ALLOW_EC2, ALLOW_ALL])) == "allow"
    assert decide(pset([ALLOW_ALL], scp=[ALLOW_EC2])) == "implicitDeny"


def test_scp_levels_each_must_allow():
    root_level = (compiled(ALLOW_ALL, "scp", "root"),)
    ou_ec2 = (compiled(ALLOW_EC2, "scp", "ou"),)
    ou_all = (compiled(ALLOW_ALL, "scp", "ou2"),)
    ident = (compiled(ALLOW_ALL),)
    req = Request(USER, "s3:GetObject", BUCKET_OBJ, {})
    r = evaluate(PolicySet(identity=ident, scp=(root_level, ou_ec2)), req)
    assert (
        r.decision is Decision.IMPLICIT_DENY
        and r.reason == "scp"
        and r.allowed_by_organizations is False
    )
    r = evaluate(PolicySet(identity=ident, scp=(root_level, ou_all)), req)
    assert r.decision is Decision.ALLOW and r.allowed_by_organizations is True
    assert {m.policy_id for m in r.matched} == {"root", "ou2", "p"}
    # an empty level allows nothing (fail closed)
    assert (
        evaluate(PolicySet(identity=ident, scp=(root_level, ())), req).decision
        is Decision.IMPLICIT_DENY
    )


def test_scp_bad_types_rejected():
    with pytest.raises(TypeError):
        PolicySet(scp=("nope",))
    with pytest.raises(TypeError):
        PolicySet(identity=("nope",))


def test_scp_limits_resource_policy_grants():
    ps = pset(resource=doc(stmt(Principal={"AWS": USER})), scp=[ALLOW_EC2])
    assert decide(ps, resource=BUCKET_OBJ) == "implicitDeny"


# --- resource-based policies ------------------------------------------------------------


def test_same_account_user_arn_grant_ignores_boundary():
    ps = pset(resource=doc(stmt(Principal={"AWS": USER})), boundary=ALLOW_EC2)
    assert decide(ps) == "allow"


def test_same_account_session_arn_grant_ignores_session_policies():
    ps = pset(
        resource=doc(stmt(Principal={"AWS": SESSION})), session=[ALLOW_EC2], boundary=ALLOW_EC2
    )
    assert decide(ps, principal=SESSION) == "allow"


def test_same_account_role_arn_grant_boundary_and_session_apply():
    res = doc(stmt(Principal={"AWS": ROLE}))
    assert decide(pset(resource=res), principal=SESSION) == "allow"  # no identity allow needed
    assert decide(pset(resource=res, boundary=ALLOW_EC2), principal=SESSION) == "implicitDeny"
    assert decide(pset(resource=res, session=[ALLOW_EC2]), principal=SESSION) == "implicitDeny"
    assert (
        decide(pset(resource=res, session=[ALLOW_ALL], boundary=ALLOW_ALL), principal=SESSION)
        == "allow"
    )


def test_same_account_account_grant_needs_identity():
    res = doc(stmt(Principal={"AWS": f"arn:aws:iam::{ACCT}:root"}))
    assert decide(pset(resource=res)) == "implicitDeny"
    assert decide(pset([ALLOW_ALL], resource=res)) == "allow"


def test_federated_user_arn_grant():
    res = doc(stmt(Principal={"AWS": FED_USER}))
    assert decide(pset(resource=res), principal=FED_USER) == "allow"


def test_cross_account_needs_both_sides():
    other_obj = f"arn:aws:sqs:us-east-1:{OTHER}:q"
    kw = {"action": "sqs:SendMessage", "resource": other_obj}
    res_user = doc(stmt(Principal={"AWS": USER}))
    assert decide(pset(resource=res_user), **kw) == "implicitDeny"  # no identity allow
    assert decide(pset([ALLOW_ALL]), **kw) == "implicitDeny"  # no resource policy
    assert decide(pset([ALLOW_ALL], resource=res_user), **kw) == "allow"
    assert decide(pset([ALLOW_ALL], resource=doc(stmt(Principal={"AWS": ACCT}))), **kw) == "allow"
    assert (
        decide(pset([ALLOW_ALL], resource=doc(stmt(Principal={"AWS": OTHER}))), **kw)
        == "implicitDeny"
    )
    # boundary still limits the caller side
    assert decide(pset([ALLOW_ALL], resource=res_user, boundary=ALLOW_EC2), **kw) == "implicitDeny"


def test_resource_account_from_arn_or_caller():
    # S3 ARNs carry no account: same account as the caller
    assert decide(pset([ALLOW_ALL]), resource="arn:aws:s3:::b/k") == "allow"
    # AWS-managed policy ARNs ("aws" account) are not cross-account
    assert (
        decide(pset([ALLOW_ALL]), action="iam:GetPolicy", resource="arn:aws:iam::aws:policy/X")
        == "allow"
    )


def test_resource_must_allow_for_trust_policies():
    trust = doc(stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": ACCT}))
    ps = pset([ALLOW_ALL], resource=trust, resource_kind=PolicyKind.TRUST)
    kw = {
        "action": "sts:AssumeRole",
        "resource": f"arn:aws:iam::{ACCT}:role/r",
        "resource_must_allow": True,
    }
    assert decide(ps, **kw) == "allow"
    assert decide(pset([ALLOW_ALL]), **kw) == "implicitDeny"
    bad_trust = doc(stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": OTHER}))
    ps = pset([ALLOW_ALL], resource=bad_trust, resource_kind=PolicyKind.TRUST)
    assert decide(ps, **kw) == "implicitDeny"
    # trust naming the user directly: no identity allow needed (same account)
    direct = doc(stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": USER}))
    assert decide(pset(resource=direct, resource_kind=PolicyKind.TRUST), **kw) == "allow"


def test_service_and_federated_principals_judged_on_resource_alone():
    trust = doc(
        stmt(
            action="sts:AssumeRoleWithWebIdentity",
            resource=None,
            Principal={"Federated": "accounts.google.com"},
        )
    )
    ps = pset(resource=trust, resource_kind=PolicyKind.TRUST, scp=[ALLOW_EC2])
    kw = {"action": "sts:AssumeRoleWithWebIdentity", "resource": ROLE, "resource_must_allow": True}
    assert decide(ps, principal="accounts.google.com", **kw) == "allow"
    assert decide(ps, principal="cognito-identity.amazonaws.com", **kw) == "implicitDeny"
    assert decide(pset([ALLOW_ALL]), principal="sns.amazonaws.com") == "implicitDeny"
    assert decide(pset(resource=doc(stmt(Principal="*"))), principal="anonymous") == "allow"
    assert (
        decide(pset(resource=doc(stmt(Principal={"AWS": ACCT}))), principal="anonymous")
        == "implicitDeny"
    )


# --- boundary and session policies -----------------------------------------------


def test_boundary_intersects():
    assert decide(pset([ALLOW_ALL], boundary=ALLOW_EC2)) == "implicitDeny"
    assert (
        decide(pset([ALLOW_ALL], boundary=ALLOW_EC2), action="ec2:RunInstances", resource="*")
        == "allow"
    )
    assert decide(pset([ALLOW_EC2], boundary=ALLOW_ALL)) == "implicitDeny"  # boundary never grants


def test_session_policies_only_narrow():
    assert decide(pset([ALLOW_ALL], session=[ALLOW_EC2]), principal=SESSION) == "implicitDeny"
    assert decide(pset([ALLOW_EC2], session=[ALLOW_ALL]), principal=SESSION) == "implicitDeny"
    assert decide(pset([ALLOW_ALL], session=[ALLOW_EC2, ALLOW_ALL]), principal=SESSION) == "allow"


def test_session_none_role_keeps_permissions_federated_has_none():
    assert decide(pset([ALLOW_ALL], session=None), principal=SESSION) == "allow"
    assert decide(pset([ALLOW_ALL], session=None), principal=FED_USER) == "implicitDeny"
    assert decide(pset([ALLOW_ALL], session=[ALLOW_ALL]), principal=FED_USER) == "allow"
    # an empty tuple of session policies denies everything (fail closed)
    ps = PolicySet(identity=(compiled(ALLOW_ALL),), session=())
    assert (
        evaluate(ps, Request(SESSION, "s3:GetObject", BUCKET_OBJ)).decision
        is Decision.IMPLICIT_DENY
    )


def test_reasons_and_step_facts():
    req = Request(SESSION, "s3:GetObject", BUCKET_OBJ, {})
    ps = pset([ALLOW_ALL], boundary=ALLOW_EC2)
    r = evaluate(ps, req)
    assert (r.reason, r.allowed_by_boundary, r.allowed_by_identity) == ("boundary", False, True)
    r = evaluate(pset([ALLOW_ALL], session=[ALLOW_EC2]), req)
    assert (r.reason, r.allowed_by_session) == ("session", False)
    r = evaluate(pset(), req)
    assert (r.reason, r.allowed_by_identity, r.allowed_by_boundary, r.allowed_by_organizations) == (
        "identity",
        False,
        None,
        None,
    )
    r = evaluate(pset([ALLOW_ALL], boundary=ALLOW_ALL, session=[ALLOW_ALL], scp=[ALLOW_ALL]), req)
    assert r.allowed and r.reason is None
    assert {m.category for m in r.matched} == {"identity", "boundary", "session", "scp"}
    assert r.as_dict()["decision"] == "allow"


def test_missing_context_keys():
    d = doc(
        stmt(Condition={"StringEquals": {"aws:PrincipalTag/Team": "${aws:username}"}}),
        stmt(action="ec2:*", Condition={"Bool": {"ec2:Never": "true"}}),
    )
    req = Request(USER, "s3:GetObject", BUCKET_OBJ, {"aws:username": "x"})
    r = evaluate(pset([d]), req, collect_missing_keys=True)
    assert r.missing_context_keys == ("aws:PrincipalTag/Team",)
    assert evaluate(pset([d]), req).missing_context_keys == ()


# --- compilation -----------------------------------------------------------------


def test_statements_indexed_by_service():
    d = doc(
        stmt(action="s3:GetObject", Sid="exact"),
        stmt(action="s3:Get*", Sid="svcwild"),
        stmt(action="ec2:*", Sid="other"),
        stmt(action="*", Sid="all"),
        stmt(action="s*:*", Sid="wildsvc"),
        {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*", "Sid": "notaction"},
    )
    cp = compiled(d)
    denies, allows = cp.candidates("s3:getobject")
    assert [c.sid for c in allows] == ["exact", "svcwild", "all", "wildsvc"]
    assert [c.sid for c in denies] == ["notaction"]
    assert [c.sid for c in cp.candidates("iam:getuser")[1]] == ["all"]
    assert cp.candidates("iam:getuser")[0] == ()
    assert "ec2" in cp._by_service and "s3:getobject" in cp._exact
    assert {c.sid for c in cp._catch_all} == {"all", "wildsvc", "notaction"}


def test_compile_cached_returns_same_object_and_is_bounded():
    text = json.dumps(doc(stmt()))
    a = compile_cached(text, "identity", "p1", "user")
    assert compile_cached(text, PolicyKind.IDENTITY, "p1", "user") is a
    assert compile_cached(text, "identity", "p2", "user") is not a
    with pytest.raises(MalformedPolicyDocument):
        compile_cached("{", "identity", "p1", "user")
    ev = sys.modules["rolegate.policy.compiled"]  # the cache lives beside compile_cached
    for i in range(COMPILE_CACHE_MAX + 5):
        compile_cached(text, "identity", f"bulk{i}", "user")
    assert len(ev._compiled_cache) <= COMPILE_CACHE_MAX


def test_request_is_frozen_and_typed():
    r = Request(USER, "S3:GetObject", BUCKET_OBJ, {"A": "1", "B": ["x"], "C": None})
    assert r.action_lower == "s3:getobject" and r.ctx == {"a": "1", "b": ("x",)}
    with pytest.raises(AttributeError):
        r.action = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Request(None, "a:b", "*")  # type: ignore[arg-type]


def test_evaluate_many_times_same_answer():
    ps = pset([doc(stmt(action="s3:Get*", resource="arn:aws:s3:::b/${aws:username}/*"))])
    for name, expect in [("alice", "allow"), ("bob", "implicitDeny")] * 3:
        req = Request(USER, "s3:GetObject", "arn:aws:s3:::b/alice/x", {"aws:username": name})
        assert evaluate(ps, req).decision.value == expect
