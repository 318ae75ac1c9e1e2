"""AWS evaluation rules found missing by an independent evaluator (fast and reference agree).

Sources are named per test: IAM User Guide pages "AWS JSON policy elements:
NotPrincipal", "IAM policy elements: Variables and tags", "Service control
policies (SCPs)" and "IAM JSON policy elements: Condition operators".
"""

from __future__ import annotations

import pytest

from rolegate.errors import MalformedPolicyDocument

from .helpers import ACCT, SESSION, USER, decide, doc, pset, stmt

ALLOW_ALL = doc(stmt())
OBJ = "arn:aws:s3:::b/k"

# --- NotPrincipal + Deny with a permissions boundary ---------------------------
# "The NotPrincipal element with a Deny effect will always deny any IAM
# principal that has a permissions boundary policy attached, regardless of the
# values specified in the NotPrincipal element." (NotPrincipal, Key points)

NOT_PRINCIPAL_DENY = doc(
    stmt(Principal={"AWS": USER}),
    stmt("Deny", NotPrincipal={"AWS": [USER, ACCT]}),
)


def test_not_principal_deny_spares_listed_principal_without_boundary():
    assert decide(pset([ALLOW_ALL], resource=NOT_PRINCIPAL_DENY)) == "allow"


def test_not_principal_deny_always_denies_a_principal_with_a_boundary():
    ps = pset([ALLOW_ALL], resource=NOT_PRINCIPAL_DENY, boundary=ALLOW_ALL)
    assert decide(ps) == "explicitDeny"


def test_not_principal_deny_with_boundary_still_needs_action_resource_conditions():
    res = doc(
        stmt(Principal={"AWS": USER}),
        stmt("Deny", "s3:PutObject", NotPrincipal={"AWS": [USER, ACCT]}),
        stmt(
            "Deny",
            NotPrincipal={"AWS": [USER, ACCT]},
            Condition={"StringEquals": {"test:k": "v"}},
        ),
    )
    assert decide(pset([ALLOW_ALL], resource=res, boundary=ALLOW_ALL)) == "allow"


def test_not_principal_deny_with_boundary_wildcard_and_session():
    res = doc(stmt(Principal="*"), stmt("Deny", NotPrincipal={"AWS": "*"}))
    assert decide(pset([ALLOW_ALL], resource=res)) == "allow"
    assert decide(pset([ALLOW_ALL], resource=res, boundary=ALLOW_ALL)) == "explicitDeny"
    assert (
        decide(pset([ALLOW_ALL], resource=res, boundary=ALLOW_ALL), principal=SESSION)
        == "explicitDeny"
    )


# --- variables only in the resource part of a Resource ARN -----------------------
# "You can use policy variables in the Resource element, but only in the
# resource portion of the ARN. This portion of the ARN appears after the fifth
# colon (:)." (Variables and tags, "Where you can use policy variables")

EC2 = f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-1"


@pytest.mark.parametrize(
    "pattern, resource, context, expected",
    [
        # after the fifth colon: substituted
        ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/alice/x", {}, "allow"),
        ("arn:aws:s3:::${aws:username}", "arn:aws:s3:::alice", {}, "allow"),
        # region and account: literal text, never the caller's value
        (
            f"arn:aws:ec2:${{aws:RequestedRegion}}:{ACCT}:instance/*",
            EC2,
            {"aws:RequestedRegion": "us-east-1"},
            "implicitDeny",
        ),
        (
            "arn:aws:ec2:us-east-1:${aws:PrincipalAccount}:instance/*",
            EC2,
            {"aws:PrincipalAccount": ACCT},
            "implicitDeny",
        ),
        (
            "arn:aws:ec2:us-east-1:${aws:PrincipalAccount}:instance/*",
            "arn:aws:ec2:us-east-1:${aws:PrincipalAccount}:instance/i-1",
            {"aws:PrincipalAccount": ACCT},
            "allow",
        ),
        # a default does not make it a variable either
        (
            f"arn:aws:ec2:${{x:r, 'us-east-1'}}:{ACCT}:instance/*",
            EC2,
            {},
            "implicitDeny",
        ),
    ],
)
def test_resource_variables_only_after_fifth_colon(pattern, resource, context, expected):
    ps = pset([doc(stmt(action="*", resource=pattern))])
    ctx = {"aws:username": "alice", **context}
    assert decide(ps, action="ec2:StartInstances", resource=resource, context=ctx) == expected


def test_resource_variables_in_not_resource_only_after_fifth_colon():
    pattern = f"arn:aws:ec2:${{aws:RequestedRegion}}:{ACCT}:instance/*"
    ps = pset([doc(stmt(resource=None, NotResource=pattern))])
    ctx = {"aws:RequestedRegion": "us-east-1"}
    assert decide(ps, action="ec2:StartInstances", resource=EC2, context=ctx) == "allow"


# --- SCPs and AWS service principals ---------------------------------------------
# "SCPs don't affect service-linked roles." and SCPs restrict principals of
# member accounts only, never AWS service principals named in resource policies
# (Service control policies (SCPs), "Tasks and entities not restricted by SCPs").

DENY_ALL = doc(stmt(), stmt("Deny"))
SLR = f"arn:aws:iam::{ACCT}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"


def test_scp_deny_does_not_apply_to_service_principal():
    res = doc(stmt(Principal={"Service": "sns.amazonaws.com"}))
    for scp in ([DENY_ALL], [doc(stmt(action="ec2:*"))]):
        ps = pset(resource=res, scp=scp)
        assert decide(ps, principal="sns.amazonaws.com") == "allow"


def test_scp_deny_still_applies_to_a_user():
    res = doc(stmt(Principal={"AWS": USER}))
    assert decide(pset([ALLOW_ALL], resource=res, scp=[DENY_ALL])) == "explicitDeny"


def test_scp_does_not_apply_to_service_linked_role_or_its_sessions():
    ps = pset([ALLOW_ALL], scp=[DENY_ALL])
    assert decide(ps, principal=SLR) == "allow"
    session = f"arn:aws:sts::{ACCT}:assumed-role/AWSServiceRoleForElasticLoadBalancing/elb"
    assert decide(ps, principal=session, principal_role_arn=SLR) == "allow"
    assert decide(ps, principal=session, context={"aws:PrincipalArn": SLR}) == "allow"
    # a role merely named like one is an ordinary role
    plain = f"arn:aws:iam::{ACCT}:role/AWSServiceRoleForElasticLoadBalancing"
    assert decide(ps, principal=plain) == "explicitDeny"


# --- variables only under String and ARN operators (and Bool) -----------------------
# Condition operators page: String and ARN operators "Policy variables –
# Supported"; Boolean also "Supported"; Numeric, Date, Binary, IP address "Not
# supported" (so "${...}" there is a value those operators cannot read).

K = "test:k"


@pytest.mark.parametrize(
    "operator, value, request_value",
    [
        ("StringEquals", "${aws:username}", "alice"),
        ("StringEqualsIfExists", "${aws:username}", "alice"),
        ("ForAnyValue:StringEquals", "${aws:username}", ["alice", "x"]),
        ("ForAllValues:StringLike", "${aws:username}*", ["alice1", "alice2"]),
        ("StringNotEqualsIgnoreCase", "${aws:username}", "bob"),
        ("StringLikeIfExists", "a${aws:username}", "aalice"),
        ("ArnLike", "arn:aws:iam::*:user/${aws:username}", f"arn:aws:iam::{ACCT}:user/alice"),
        ("ForAnyValue:ArnEquals", "arn:aws:s3:::${aws:username}", ["arn:aws:s3:::alice"]),
        ("ArnNotLikeIfExists", "arn:aws:s3:::${aws:username}", "arn:aws:s3:::bob"),
        ("Bool", "${test:flag}", "true"),
    ],
)
def test_variables_substituted_in_string_arn_bool_operators(operator, value, request_value):
    ps = pset([doc(stmt(Condition={operator: {K: value}}))])
    ctx = {"aws:username": "alice", "test:flag": "true", K: request_value}
    assert decide(ps, context=ctx) == "allow"


@pytest.mark.parametrize(
    "operator",
    [
        "NumericEquals",
        "NumericLessThanIfExists",
        "ForAnyValue:NumericGreaterThan",
        "DateEquals",
        "DateLessThanIfExists",
        "ForAllValues:DateGreaterThan",
        "IpAddress",
        "NotIpAddressIfExists",
        "BinaryEquals",
        "Null",
    ],
)
def test_variables_not_read_in_other_operators(operator):
    ps_doc = doc(stmt(Condition={operator: {K: "${aws:username}"}}))
    with pytest.raises(MalformedPolicyDocument):
        pset([ps_doc])
