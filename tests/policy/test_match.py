"""Actions, resources and principals; the wildcard matcher against a simple reference."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegate.policy.match import compile_glob
from rolegate.policy.reference import glob as reference_glob

from .helpers import ACCT, FED_USER, OTHER, ROLE, SESSION, USER, decide, doc, pset, stmt


def simple_match(pattern: str, s: str) -> bool:
    """Recursive glob, no regex, no fnmatch: the obvious definition."""
    if not pattern:
        return not s
    if pattern[0] == "*":
        return simple_match(pattern[1:], s) or (bool(s) and simple_match(pattern, s[1:]))
    if not s:
        return False
    return (pattern[0] == "?" or pattern[0] == s[0]) and simple_match(pattern[1:], s[1:])


ALPHABET = st.sampled_from(list("ab:/*?.-"))


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=8), st.text(st.sampled_from(list("ab:/.-*?")), max_size=10))
def test_glob_matches_simple_reference(pattern, s):
    assert compile_glob(pattern)(s) is simple_match(pattern, s)
    assert reference_glob([(c, c in "*?") for c in pattern], s) is simple_match(pattern, s)


def arn_simple(pattern: str, s: str) -> bool:
    if pattern.count(":") < 5:
        return simple_match(pattern, s)
    ps, ss = pattern.split(":", 5), s.split(":", 5)
    return len(ss) == 6 and all(simple_match(p, x) for p, x in zip(ps, ss, strict=True))


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=14), st.text(st.sampled_from(list("ab:/.-")), max_size=14))
def test_arn_glob_matches_per_segment_reference(pattern, s):
    assert compile_glob(pattern, arn_mode=True)(s) is arn_simple(pattern, s)


ACTIONS = [
    ("s3:GetObject", "s3:GetObject", True),
    ("S3:getobject", "s3:GetObject", True),
    ("s3:Get*", "s3:GetObjectAcl", True),
    ("s3:*Object", "s3:PutObject", True),
    ("s3:Get?bject", "s3:GetObject", True),
    ("s3:Get?bject", "s3:GetObjectAcl", False),
    ("s3:*", "sqs:SendMessage", False),
    ("*", "anything:AtAll", True),
    ("iam:*AccessKey*", "iam:UpdateAccessKey", True),
    ("s*:Get*", "sqs:GetQueueUrl", True),
    ("s*:Get*", "ec2:GetConsole", False),
]


@pytest.mark.parametrize("pattern, action, expected", ACTIONS)
def test_actions(pattern, action, expected):
    ps = pset([doc(stmt(action=pattern))])
    assert (decide(ps, action=action) == "allow") is expected


@pytest.mark.parametrize("pattern, action, expected", ACTIONS)
def test_not_action(pattern, action, expected):
    ps = pset([doc({"Effect": "Allow", "NotAction": pattern, "Resource": "*"})])
    assert (decide(ps, action=action) == "allow") is (not expected)


RESOURCES = [
    ("*", "arn:aws:s3:::b/k", True),
    ("*", "*", True),
    ("arn:aws:s3:::b/k", "arn:aws:s3:::b/k", True),
    ("arn:aws:s3:::b/k", "arn:aws:s3:::B/k", False),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y/z", True),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b", False),
    ("arn:aws:s3:::b*", "arn:aws:s3:::b/x", True),
    ("arn:aws:s3:::b/*/t/*", "arn:aws:s3:::b//t/o", True),
    ("arn:aws:s3:::b/*/t/*", "arn:aws:s3:::b/t/o", False),
    ("arn:aws:s3:::b/r-?.csv", "arn:aws:s3:::b/r-7.csv", True),
    ("arn:aws:sns:*:111122223333:*", "arn:aws:sns:us-east-1:111122223333:t:sub", True),
    ("arn:aws:sns:*:111122223333:*", "arn:aws:sns:us:east:111122223333:t", False),
    ("arn:aws:dynamodb:*:*:table/T", "arn:aws:dynamodb:us-east-1:1:table/T", True),
    ("arn:aws:iam::*:user/*", "arn:aws:iam::1:user/p/alice", True),
    ("arn:aws:iam::*:user/*", "arn:aws:iam::1:role/x", False),
    ("arn:aws:s3:::b/k", "*", False),
    ("arn:aws:*:*:*:*", "arn:aws:s3:::b", True),
]


@pytest.mark.parametrize("pattern, resource, expected", RESOURCES)
def test_resources(pattern, resource, expected):
    ps = pset([doc(stmt(resource=pattern))])
    assert (decide(ps, resource=resource) == "allow") is expected


@pytest.mark.parametrize("pattern, resource, expected", RESOURCES)
def test_not_resource(pattern, resource, expected):
    ps = pset([doc({"Effect": "Allow", "Action": "*", "NotResource": pattern})])
    assert (decide(ps, resource=resource) == "allow") is (not expected)


RESOURCE_VARS = [
    ("arn:aws:s3:::b/${aws:username}/*", {"aws:username": "alice"}, "arn:aws:s3:::b/alice/x", True),
    ("arn:aws:s3:::b/${aws:username}/*", {"aws:username": "alice"}, "arn:aws:s3:::b/bob/x", False),
    ("arn:aws:s3:::b/${aws:username}/*", {}, "arn:aws:s3:::b/alice/x", False),
    ("arn:aws:s3:::b/${aws:username}", {"aws:username": "*"}, "arn:aws:s3:::b/x", False),
    ("arn:aws:s3:::b/${aws:username}", {"aws:username": "*"}, "arn:aws:s3:::b/*", True),
    ("arn:aws:s3:::b-${aws:PrincipalTag/t, 'dflt'}", {}, "arn:aws:s3:::b-dflt", True),
    ("arn:aws:s3:::b/${*}", {}, "arn:aws:s3:::b/*", True),
    ("arn:aws:s3:::b/${*}", {}, "arn:aws:s3:::b/x", False),
    # variables only after the fifth colon (IAM User Guide, "Variables and tags"):
    # in the account field the text is literal
    (
        "arn:aws:iam::${aws:PrincipalAccount}:user/*",
        {"aws:PrincipalAccount": "1"},
        "arn:aws:iam::1:user/u",
        False,
    ),
]


@pytest.mark.parametrize("pattern, ctx, resource, expected", RESOURCE_VARS)
def test_resource_variables(pattern, ctx, resource, expected):
    ps = pset([doc(stmt(resource=pattern))])
    assert (decide(ps, resource=resource, context=ctx) == "allow") is expected


def test_unresolved_variable_in_not_resource_matches_nothing():
    # NotResource with an unresolved pattern: the pattern matches nothing, so "everything except" applies
    ps = pset(
        [doc({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::${aws:username}"})]
    )
    assert decide(ps, resource="arn:aws:s3:::x") == "allow"


# --- principals in resource policies ------------------------------------------------
# (Principal element, request principal, expected for a same-account request with no identity policy)
BUCKET = "arn:aws:s3:::b/k"
PRINCIPALS = [
    ("*", USER, "allow"),
    ({"AWS": "*"}, USER, "allow"),
    ({"AWS": USER}, USER, "allow"),
    ({"AWS": USER}, f"arn:aws:iam::{ACCT}:user/bob", "implicitDeny"),
    ({"AWS": ACCT}, USER, "implicitDeny"),  # account: identity allow still needed
    ({"AWS": f"arn:aws:iam::{ACCT}:root"}, USER, "implicitDeny"),
    ({"AWS": ROLE}, SESSION, "allow"),  # role ARN names its sessions
    ({"AWS": f"arn:aws:iam::{ACCT}:role/other"}, SESSION, "implicitDeny"),
    ({"AWS": SESSION}, SESSION, "allow"),
    ({"AWS": f"arn:aws:sts::{ACCT}:assumed-role/app/s2"}, SESSION, "implicitDeny"),
    ({"AWS": FED_USER}, FED_USER, "allow"),
    ({"Service": "sns.amazonaws.com"}, "sns.amazonaws.com", "allow"),
    ({"Service": "sns.amazonaws.com"}, "sqs.amazonaws.com", "implicitDeny"),
    (
        {"Federated": f"arn:aws:iam::{ACCT}:saml-provider/idp"},
        f"arn:aws:iam::{ACCT}:saml-provider/idp",
        "allow",
    ),
    ({"Federated": "accounts.google.com"}, "accounts.google.com", "allow"),
    ({"AWS": f"arn:aws:iam::{OTHER}:root"}, USER, "implicitDeny"),
    ({"CanonicalUser": "abc"}, USER, "implicitDeny"),
]


@pytest.mark.parametrize("principal, who, expected", PRINCIPALS)
def test_principal_forms(principal, who, expected):
    ps = pset(resource=doc(stmt(resource="arn:aws:s3:::b/*", Principal=principal)))
    assert decide(ps, principal=who, resource=BUCKET) == expected


def test_account_principal_with_identity_allow():
    ps = pset([doc(stmt())], resource=doc(stmt(Principal={"AWS": ACCT})))
    assert decide(ps, resource=BUCKET) == "allow"


def test_role_arn_uses_request_role_arn_with_path():
    pathed = f"arn:aws:iam::{ACCT}:role/team/app"
    ps = pset(resource=doc(stmt(Principal={"AWS": pathed})))
    assert decide(ps, principal=SESSION, resource=BUCKET) == "implicitDeny"
    assert decide(ps, principal=SESSION, resource=BUCKET, principal_role_arn=pathed) == "allow"
    assert (
        decide(ps, principal=SESSION, resource=BUCKET, context={"aws:PrincipalArn": pathed})
        == "allow"
    )


def test_unique_id_principals():
    ps = pset(resource=doc(stmt(Principal={"AWS": "AROAEXAMPLEID"})))
    ctx = {"aws:userid": "AROAEXAMPLEID:s1"}
    assert decide(ps, principal=SESSION, resource=BUCKET, context=ctx) == "allow"
    ps = pset(resource=doc(stmt(Principal={"AWS": "AIDAEXAMPLEID"})))
    assert (
        decide(ps, principal=USER, resource=BUCKET, context={"aws:userid": "AIDAEXAMPLEID"})
        == "allow"
    )
    assert (
        decide(ps, principal=USER, resource=BUCKET, context={"aws:userid": "AIDAOTHER"})
        == "implicitDeny"
    )


def test_not_principal_deny_all_but():
    res = doc(
        stmt(Principal="*", resource="arn:aws:s3:::b/*"),
        stmt(
            "Deny",
            NotPrincipal={"AWS": [USER, f"arn:aws:iam::{ACCT}:root"]},
            resource="arn:aws:s3:::b/*",
        ),
    )
    ps = pset([doc(stmt())], resource=res)
    assert decide(ps, principal=USER, resource=BUCKET) == "allow"
    assert decide(ps, principal=f"arn:aws:iam::{ACCT}:user/bob", resource=BUCKET) == "explicitDeny"


def test_principal_account_override():
    ps = pset([doc(stmt())], resource=doc(stmt(Principal={"AWS": OTHER})))
    # the principal's account is taken from principal_account when given
    assert (
        decide(
            ps,
            principal="arn:aws:iam::000000000000:user/x",
            resource=BUCKET,
            principal_account=OTHER,
        )
        == "allow"
    )


def test_not_principal_session_needs_account_role_and_session():
    listed = [f"arn:aws:iam::{ACCT}:root", ROLE]
    res = doc(stmt(Principal="*"), stmt("Deny", NotPrincipal={"AWS": listed}))
    ps = pset(resource=res)
    assert decide(ps, principal=SESSION, resource=BUCKET) == "explicitDeny"
    res = doc(stmt(Principal="*"), stmt("Deny", NotPrincipal={"AWS": [*listed, SESSION]}))
    assert decide(pset(resource=res), principal=SESSION, resource=BUCKET) == "allow"
    # the user alone, without its account: still denied
    res = doc(stmt(Principal="*"), stmt("Deny", NotPrincipal={"AWS": USER}))
    assert decide(pset(resource=res), principal=USER, resource=BUCKET) == "explicitDeny"


@settings(max_examples=1500, deadline=None)
@given(
    st.text(st.sampled_from(list("ab*?:")), max_size=12),
    st.text(st.sampled_from(list("ab:")), max_size=12),
)
def test_linear_glob_matches_simple_reference_dense_stars(pattern, s):
    assert compile_glob(pattern)(s) is simple_match(pattern, s)
    assert compile_glob(pattern, arn_mode=True)(s) is arn_simple(pattern, s)


def test_no_catastrophic_backtracking():
    import time

    hostile = "*a" * 40 + "*b"
    value = "a" * 20000
    t0 = time.perf_counter()
    assert not compile_glob(hostile)(value)
    assert not compile_glob("arn:aws:s3:::" + hostile, arn_mode=True)("arn:aws:s3:::" + value)
    # through a policy: Resource and StringLike
    d = doc(stmt(resource="arn:aws:s3:::" + hostile, Condition={"StringLike": {"k": hostile}}))
    from rolegate.policy import Request, evaluate

    req = Request(USER, "s3:GetObject", "arn:aws:s3:::" + value, {"k": value})
    assert evaluate(pset([d]), req).decision == "implicitDeny"
    assert time.perf_counter() - t0 < 2.0
