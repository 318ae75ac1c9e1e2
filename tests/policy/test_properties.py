"""Property tests: fast vs reference evaluator, the parse invariant, Cedar-style laws."""

from __future__ import annotations

import json
import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegate.errors import MalformedPolicyDocument
from rolegate.policy import (
    Decision,
    PolicyKind,
    PolicySet,
    Request,
    compile_policy,
    evaluate,
    parse_policy,
)
from rolegate.policy.reference import reference_evaluate

from .helpers import ACCT, FED_USER, OTHER, ROLE, ROOT, SESSION, USER

# ROLEGATE_PROPERTY_SCALE=10 runs ten times as many examples (a longer local soak).
SCALE = float(os.environ.get("ROLEGATE_PROPERTY_SCALE", "1"))
SETTINGS = settings(
    max_examples=int(100 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
AGREEMENT = settings(SETTINGS, max_examples=int(400 * SCALE))

ACTIONS = ["s3:GetObject", "s3:PutObject", "ec2:RunInstances", "iam:ListUsers", "sts:AssumeRole"]
ACTION_PATTERNS = [
    *ACTIONS,
    "s3:*",
    "s3:Get*",
    "*",
    "?3:*",
    "*:Get*",
    "S3:getobject",
    "ec2:Run?nstances",
]
RESOURCES = [
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::b/alice/x",
    f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-1",
    f"arn:aws:iam::{ACCT}:role/app",
    f"arn:aws:sqs:us-east-1:{OTHER}:q",
    "*",
]
RESOURCE_PATTERNS = [
    *RESOURCES,
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/${aws:username}/*",
    "arn:aws:*:*:*:*",
    f"arn:aws:ec2:*:{ACCT}:instance/*",
    "arn:aws:s3:::${aws:PrincipalTag/team, 'b'}/k",
    "arn:aws:s3:::b/${*}",
    "arn:aws:ec2:${aws:username}:*:instance/*",
    f"arn:aws:iam::{ACCT}:${{aws:username}}",
]
PRINCIPALS = [
    USER,
    SESSION,
    FED_USER,
    ROOT,
    f"arn:aws:iam::{OTHER}:user/v",
    "sns.amazonaws.com",
    "anonymous",
    f"arn:aws:iam::{ACCT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
]
PRINCIPAL_ELEMENTS = [
    "*",
    {"AWS": "*"},
    {"AWS": USER},
    {"AWS": ACCT},
    {"AWS": f"arn:aws:iam::{OTHER}:root"},
    {"AWS": ROLE},
    {"AWS": SESSION},
    {"AWS": [FED_USER, USER]},
    {"Service": "sns.amazonaws.com"},
    {"AWS": [ACCT, ROLE, SESSION]},
]
KEYS = [
    "aws:username",
    "aws:PrincipalTag/team",
    "test:Num",
    "aws:SourceIp",
    "aws:TagKeys",
    "test:Flag",
    "test:When",
]
STR_VALUES = ["alice", "bob", "b", "a*", "", "${aws:username}", "${aws:PrincipalTag/team, 'x'}"]
OPS = [
    ("StringEquals", STR_VALUES),
    ("StringNotEquals", STR_VALUES),
    ("StringEqualsIgnoreCase", ["ALICE", "b"]),
    ("StringLike", ["a*", "?ob", "team-*", "${aws:username}*"]),
    ("StringNotLike", ["a*", "b?"]),
    ("NumericLessThan", ["5", "10.5"]),
    ("NumericGreaterThanEquals", ["5"]),
    ("DateLessThan", ["2020-01-01T00:00:00Z", "1600000000"]),
    ("Bool", ["true", "false"]),
    ("IpAddress", ["10.0.0.0/8", "2001:db8::/32"]),
    ("NotIpAddress", ["10.0.0.0/8"]),
    ("ArnLike", ["arn:aws:s3:::b/*", "arn:aws:iam::*:user/${aws:username}"]),
    ("Null", ["true", "false"]),
    ("BinaryEquals", ["QQ=="]),
]
CTX_VALUES = {
    "aws:username": st.sampled_from(["alice", "bob", "*", "b"]),
    "aws:PrincipalTag/team": st.sampled_from(["b", "team-a", "x"]),
    "test:Num": st.sampled_from(["4", "5", "10.5", "11", "x"]),
    "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.1", "2001:db8::1", "bad"]),
    "aws:TagKeys": st.lists(st.sampled_from(["team-a", "owner", "alice", "b"]), max_size=3),
    "test:Flag": st.sampled_from(["true", "false", "TRUE"]),
    "test:When": st.sampled_from(["2019-06-01T00:00:00Z", "1700000000", "junk"]),
}


# Policies and requests are drawn from a seeded random.Random that hypothesis
# supplies: hypothesis explores and replays seeds, and generation stays cheap
# (drawing nested structures choice by choice costs more than the tests).

CTX_CHOICES = {
    "aws:username": ["alice", "bob", "*", "b"],
    "aws:PrincipalTag/team": ["b", "team-a", "x"],
    "test:Num": ["4", "5", "10.5", "11", "x"],
    "aws:SourceIp": ["10.1.2.3", "192.0.2.1", "2001:db8::1", "bad"],
    "test:Flag": ["true", "false", "TRUE"],
    "test:When": ["2019-06-01T00:00:00Z", "1700000000", "junk"],
}


def _some(r: random.Random, items, lo=1, hi=2):
    return [r.choice(items) for _ in range(r.randint(lo, hi))]


def gen_conditions(r: random.Random) -> dict:
    out: dict = {}
    for _ in range(r.choice([0, 0, 1, 1, 2])):
        op, values = r.choice(OPS)
        prefix = r.choice(["", "", "ForAnyValue:", "ForAllValues:"])
        suffix = r.choice(["", "IfExists"]) if op != "Null" else ""
        key = r.choice(KEYS)
        if r.random() < 0.3:
            key = key.upper()
        vals = _some(r, values)
        out.setdefault(prefix + op + suffix, {})[key] = vals if len(vals) > 1 else vals[0]
    return out


def gen_statement(r: random.Random, with_principal=False, trust=False) -> dict:
    s: dict = {"Effect": r.choice(["Allow", "Allow", "Deny"])}
    s["NotAction" if r.random() < 0.15 else "Action"] = _some(r, ACTION_PATTERNS)
    if not trust:
        s["NotResource" if r.random() < 0.15 else "Resource"] = _some(r, RESOURCE_PATTERNS)
    if with_principal:
        s["NotPrincipal" if (not trust and r.random() < 0.15) else "Principal"] = r.choice(
            PRINCIPAL_ELEMENTS
        )
    c = gen_conditions(r)
    if c:
        s["Condition"] = c
    return s


def gen_document(r: random.Random, with_principal=False, trust=False) -> dict:
    d: dict = {
        "Statement": [gen_statement(r, with_principal, trust) for _ in range(r.randint(1, 3))]
    }
    version = r.choice(["2012-10-17", "2012-10-17", "2008-10-17", None])
    if version:
        d["Version"] = version
    return d


def _c(d, kind, pid):
    return compile_policy(parse_policy(json.dumps(d), kind), policy_id=pid, source_type=str(kind))


def gen_spec(r: random.Random) -> dict:
    trust = r.random() < 0.3
    return {
        "identity": [gen_document(r) for _ in range(r.randint(0, 3))],
        "trust": trust,
        "resource": gen_document(r, True, trust) if r.random() < 0.5 else None,
        "boundary": gen_document(r) if r.random() < 0.4 else None,
        "session": None if r.random() < 0.5 else [gen_document(r) for _ in range(r.randint(0, 2))],
        "scp": [
            [gen_document(r) for _ in range(r.randint(1, 2))] for _ in range(r.choice([0, 0, 1, 2]))
        ],
    }


def gen_request(r: random.Random) -> Request:
    ctx: dict = {}
    for k in CTX_CHOICES:
        if r.random() < 0.4:
            ctx[k] = r.choice(CTX_CHOICES[k])
    if r.random() < 0.4:
        ctx["aws:TagKeys"] = _some(r, ["team-a", "owner", "alice", "b"], 0, 3)
    return Request(r.choice(PRINCIPALS), r.choice(ACTIONS), r.choice(RESOURCES), ctx)


@st.composite
def policy_sets(draw):
    spec = gen_spec(draw(st.randoms(use_true_random=False)))
    return _rebuild(spec), spec


@st.composite
def requests(draw):
    return gen_request(draw(st.randoms(use_true_random=False)))


@st.composite
def documents(draw):
    return gen_document(draw(st.randoms(use_true_random=False)))


def both(ps, req, must=False):
    fast = evaluate(ps, req, resource_must_allow=must)
    ref = reference_evaluate(ps, req, resource_must_allow=must)
    return fast, ref


@AGREEMENT
@given(policy_sets(), requests(), st.booleans())
def test_fast_agrees_with_reference(psx, req, must):
    ps, _ = psx
    fast, ref = both(ps, req, must)
    assert fast.decision == ref.decision
    assert fast.reason == ref.reason
    assert set(fast.matched) == set(ref.matched)
    # again: the per-action candidate cache must not change anything
    assert evaluate(ps, req, resource_must_allow=must) == fast


def _rebuild(spec, identity=None, boundary="same", session="same") -> PolicySet:
    ident = spec["identity"] if identity is None else identity
    b = spec["boundary"] if boundary == "same" else boundary
    s = spec["session"] if session == "same" else session
    return PolicySet(
        identity=tuple(_c(d, PolicyKind.IDENTITY, f"id{i}") for i, d in enumerate(ident)),
        resource=_c(
            spec["resource"], PolicyKind.TRUST if spec["trust"] else PolicyKind.RESOURCE, "res"
        )
        if spec["resource"]
        else None,
        boundary=_c(b, PolicyKind.BOUNDARY, "b") if b else None,
        session=None
        if s is None
        else tuple(_c(d, PolicyKind.SESSION, f"s{i}") for i, d in enumerate(s)),
        scp=tuple(
            tuple(_c(d, PolicyKind.SCP, f"scp{j}.{i}") for i, d in enumerate(lv))
            for j, lv in enumerate(spec["scp"])
        ),
    )


DENY_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
}
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@SETTINGS
@given(policy_sets(), requests())
def test_explicit_deny_wins(psx, req):
    _, spec = psx
    ps = _rebuild(spec, identity=[*spec["identity"], DENY_ALL])
    assert evaluate(ps, req).decision is Decision.EXPLICIT_DENY or req.pinfo.kind in (
        "service",
        "anonymous",
        "federated",
    )
    ps = _rebuild(spec, boundary=DENY_ALL)
    assert evaluate(ps, req).decision is Decision.EXPLICIT_DENY


@SETTINGS
@given(policy_sets(), requests(), st.randoms(use_true_random=False))
def test_order_and_duplicates_do_not_matter(psx, req, rnd: random.Random):
    ps, spec = psx
    base = evaluate(ps, req)
    shuffled = []
    for d in spec["identity"]:
        stmts = list(d["Statement"]) * rnd.randint(1, 2)
        rnd.shuffle(stmts)
        shuffled.append({**d, "Statement": stmts})
    shuffled = shuffled * rnd.randint(1, 2)
    rnd.shuffle(shuffled)
    other = evaluate(_rebuild(spec, identity=shuffled), req)
    assert other.decision == base.decision
    assert other.reason == base.reason


@SETTINGS
@given(policy_sets(), requests(), documents())
def test_adding_an_allow_never_turns_allow_into_deny(psx, req, extra):
    ps, spec = psx
    before = evaluate(ps, req)
    allow_only = {**extra, "Statement": [{**s, "Effect": "Allow"} for s in extra["Statement"]]}
    for variant in (
        _rebuild(spec, identity=[*spec["identity"], allow_only]),
        _rebuild(spec, session=None if spec["session"] is None else [*spec["session"], allow_only]),
    ):
        after = evaluate(variant, req)
        if before.decision is Decision.ALLOW:
            assert after.decision is Decision.ALLOW
        if before.decision is Decision.EXPLICIT_DENY:
            assert after.decision is Decision.EXPLICIT_DENY


@SETTINGS
@given(policy_sets(), requests())
def test_no_allow_statement_means_no_allow(psx, req):
    _, spec = psx

    def denies_only(d):
        return {**d, "Statement": [{**s, "Effect": "Deny"} for s in d["Statement"]]}

    stripped = dict(spec, resource=denies_only(spec["resource"]) if spec["resource"] else None)
    ps = _rebuild(stripped, identity=[denies_only(d) for d in spec["identity"]])
    d = evaluate(ps, req).decision
    if req.pinfo.kind != "root":
        assert d is not Decision.ALLOW


# --- the parse invariant ---------------------------------------------------------------

VOCAB = st.sampled_from(
    [
        "Version",
        "Statement",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
        "Sid",
        "Id",
        "AWS",
        "Service",
        "Federated",
        "Allow",
        "Deny",
        "*",
        "2012-10-17",
        "2008-10-17",
        "s3:GetObject",
        "arn:aws:s3:::b/*",
        "StringEquals",
        "ForAnyValue:StringLike",
        "NumericLessThan",
        "DateGreaterThan",
        "IpAddress",
        "BinaryEquals",
        "Null",
        "BoolIfExists",
        "aws:username",
        "${aws:username}",
        "${",
        "}",
        "arn:aws:iam::111122223333:root",
        "10.0.0.0/8",
        "true",
        "x",
    ]
)
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | VOCAB
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(VOCAB, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=int(300 * SCALE), deadline=None)
@given(JSONISH, st.sampled_from(list(PolicyKind)), requests())
def test_only_malformed_escapes(data, kind, req):
    for text in (json.dumps(data), json.dumps({"Version": "2012-10-17", "Statement": data})):
        try:
            cp = compile_policy(parse_policy(text, kind), policy_id="x", source_type="user")
        except MalformedPolicyDocument:
            continue
        slot = (
            {"resource": cp}
            if kind in (PolicyKind.RESOURCE, PolicyKind.TRUST)
            else {"identity": (cp,)}
        )
        ps = PolicySet(**slot)
        evaluate(ps, req)
        reference_evaluate(ps, req)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_only_malformed_escapes_on_text(text):
    try:
        parse_policy(text, PolicyKind.IDENTITY)
    except MalformedPolicyDocument:
        pass
