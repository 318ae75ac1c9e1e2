import json

import pytest

from rolegate.errors import MalformedPolicyDocument
from rolegate.policy import (
    MANAGED,
    ROLE_INLINE,
    PolicyKind,
    Statement,
    parse_policy,
    policy_size,
)
from rolegate.policy import document as d
from rolegate.policy.elements import VENDOR_MSG

from .helpers import doc, stmt

OK_IDENTITY = doc(stmt(action="s3:GetObject", resource="arn:aws:s3:::b/*"))


def parse(x, kind=PolicyKind.IDENTITY):
    return parse_policy(x if isinstance(x, str) else json.dumps(x), kind)


def test_statement_object_or_list():
    one = parse({"Version": "2012-10-17", "Statement": stmt()})
    many = parse(doc(stmt(), stmt("Deny", "s3:*")))
    assert len(one.statements) == 1 and len(many.statements) == 2
    assert many.statements[1].index == 1 and many.statements[1].effect == "Deny"


@pytest.mark.parametrize("version", ["2012-10-17", "2008-10-17", None])
def test_versions(version):
    p = parse(doc(stmt(), version=version))
    assert p.version == version
    assert p.variables is (version == "2012-10-17")


def test_accepts_mapping_and_bytes():
    assert parse_policy(OK_IDENTITY, "identity").kind is PolicyKind.IDENTITY
    assert parse_policy(json.dumps(OK_IDENTITY).encode(), "identity").statements


SYN = d.SYNTAX_MSG
LEG = d.LEGACY_MSG
# Every refusal in AWS's words (tests/policy/test_aws_messages.py holds the
# cases recorded against AWS); rolegate's own wording only for characters
# outside what IAM takes.
BAD = [
    ("not json", "{", SYN),
    ("array top", "[]", SYN),
    ("bad version", {"Version": "2013-01-01", "Statement": stmt()}, SYN),
    ("unknown top", {"Version": "2012-10-17", "Statement": stmt(), "Foo": 1}, SYN),
    ("no statement", {"Version": "2012-10-17"}, SYN),
    ("empty statements", {"Version": "2012-10-17", "Statement": []}, SYN),
    ("statement string", {"Statement": "x"}, SYN),
    ("unknown element", doc(stmt(Foo="x")), SYN),
    ("lowercase element", doc({"effect": "Allow", "Action": "*", "Resource": "*"}), SYN),
    ("effect in the wrong case", doc(stmt("allow")), LEG),
    ("bad effect", doc(stmt("Maybe")), SYN),
    ("no effect", doc({"Action": "*", "Resource": "*"}), SYN),
    ("no action", doc({"Effect": "Allow", "Resource": "*"}), d.NO_ACTIONS_MSG),
    ("both actions", doc(stmt(NotAction="s3:*")), SYN),
    ("vendorless action", doc(stmt(action="GetObject")), VENDOR_MSG),
    (
        "two colons",
        doc(stmt(action="s3:Get:Object")),
        "Actions/Condition can contain only one colon.",
    ),
    ("bad vendor", doc(stmt(action="s 3:GetObject")), "Vendor s 3 is not valid"),
    ("empty action list", doc(stmt(action=[])), d.NO_ACTIONS_MSG),
    ("non-string action", doc(stmt(action=[1])), SYN),
    ("no resource", doc(stmt(resource=None)), d.NO_RESOURCES_MSG),
    ("empty resource list", doc(stmt(resource=[])), d.NO_RESOURCES_MSG),
    ("both resources", doc(stmt(NotResource="*")), SYN),
    ("bad resource", doc(stmt(resource="bucket")), 'Resource bucket must be in ARN format or "*".'),
    ("short arn", doc(stmt(resource="arn:aws:s3:b")), LEG),
    (
        "bad partition",
        doc(stmt(resource="arn:nope:s3:::b")),
        'Partition "nope" is not valid for resource "arn:nope:s3:::b".',
    ),
    (
        "iam region",
        doc(stmt(resource="arn:aws:iam:us-east-1::user/u")),
        "IAM resource arn:aws:iam:us-east-1::user/u cannot contain region information.",
    ),
    # AWS's words, as CloudTrail records them for CreatePolicy
    (
        "bad sid",
        doc(stmt(Sid="has space")),
        "Statement IDs (SID) must be alpha-numeric. "
        "Check that your input satisfies the regular expression [0-9A-Za-z]*",
    ),
    ("dup sid", doc(stmt(Sid="A"), stmt(Sid="A")), d.DUP_SID_MSG),
    ("unknown operator", doc(stmt(Condition={"StringEqualz": {"k": "v"}})), SYN),
    ("bad qualifier", doc(stmt(Condition={"ForSome:StringEquals": {"k": "v"}})), SYN),
    ("NullIfExists", doc(stmt(Condition={"NullIfExists": {"k": "true"}})), SYN),
    ("condition list", doc(stmt(Condition=[])), SYN),
    ("condition block str", doc(stmt(Condition={"StringEquals": "x"})), SYN),
    ("condition null value", doc(stmt(Condition={"StringEquals": {"k": None}})), SYN),
    ("condition nested", doc(stmt(Condition={"StringEquals": {"k": {"a": 1}}})), SYN),
    ("bad number", doc(stmt(Condition={"NumericEquals": {"k": "abc"}})), LEG),
    ("bad date", doc(stmt(Condition={"DateLessThan": {"k": "yesterday"}})), LEG),
    ("bad cidr", doc(stmt(Condition={"IpAddress": {"k": "300.1.1.1/8"}})), LEG),
    ("bad base64", doc(stmt(Condition={"BinaryEquals": {"k": "!!"}})), LEG),
    ("bad null", doc(stmt(Condition={"Null": {"k": "maybe"}})), LEG),
    (
        "principal in identity",
        doc(stmt(Principal="*")),
        "Policy document should not specify a principal.",
    ),
    (
        "notprincipal in identity",
        doc(stmt(NotPrincipal={"AWS": "1"})),
        "Policy document should not specify a principal.",
    ),
    (
        "dup key",
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}',
        SYN,
    ),
    (
        "nan",
        '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"k":NaN}}}}',
        SYN,
    ),
    ("id not string", {"Id": 3, "Statement": stmt()}, SYN),
    ("sid not string", doc(stmt(Sid=3)), SYN),
]


@pytest.mark.parametrize("name, value, message", BAD, ids=[b[0] for b in BAD])
def test_malformed(name, value, message):
    with pytest.raises(MalformedPolicyDocument) as e:
        parse(value)
    assert e.value.message == message
    assert e.value.code == "MalformedPolicyDocument" and e.value.status == 400


@pytest.mark.parametrize(
    "value",
    [
        json.dumps(doc(stmt(Sid="A"))).replace("A", "\u0100"),
        '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*\u0001"}}',
    ],
)
def test_characters_iam_does_not_take(value):
    with pytest.raises(MalformedPolicyDocument, match="invalid character"):
        parse(value)


def test_accepted_oddities_as_aws_accepts_them():
    # Spaces after the vendor, an unknown operator with nothing under it,
    # a three-field ARN (both recorded against AWS).
    parse(doc(stmt(action="iam: asdf safdsf af ")))
    parse(doc(stmt(Condition={"a": {}})))
    parse(doc(stmt(resource="arn:aws:fdsasf")))


def test_colons_inside_policy_variables_are_not_arn_separators():
    parse(doc(stmt(resource="arn:aws:s3:::home/${aws:username}/*")))
    parse(doc(stmt(resource="arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}")))


def test_phases_follow_aws():
    # Resources are missing before any action is malformed; a malformed
    # resource is reported before a malformed action.
    with pytest.raises(MalformedPolicyDocument, match="must contain resources"):
        parse(doc(stmt(action="invalid", resource=None)))
    with pytest.raises(MalformedPolicyDocument, match="ARN format"):
        parse(doc(stmt(action="s:3:ListBucket", resource="sdfsadf")))


def test_principal_message_is_awss():
    for kind in ("identity", "boundary", "session", "scp"):
        with pytest.raises(MalformedPolicyDocument) as e:
            parse(doc(stmt(Principal={"AWS": "123456789012"})), kind)
        assert e.value.message.startswith("Policy document should not specify a principal.")


def test_resource_policy_requires_principal():
    with pytest.raises(MalformedPolicyDocument, match="Principal"):
        parse(OK_IDENTITY, PolicyKind.RESOURCE)
    p = parse(
        doc(stmt(Principal={"AWS": ["123456789012", "*"], "Service": "sns.amazonaws.com"})),
        "resource",
    )
    pr = p.statements[0].principal
    assert (
        pr.wildcard
        and ("AWS", "123456789012") in pr.entries
        and ("Service", "sns.amazonaws.com") in pr.entries
    )
    with pytest.raises(MalformedPolicyDocument, match="Principal"):
        parse(doc(stmt(Principal={"Bogus": "x"})), "resource")
    with pytest.raises(MalformedPolicyDocument, match="Principal"):
        parse(doc(stmt(Principal="someone")), "resource")
    # resource policies may use free-form Sids
    assert parse(doc(stmt(Sid="Allow public read", Principal="*")), "resource")


def test_trust_policy_rules():
    trust = doc(stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": "123456789012"}))
    assert parse(trust, "trust").statements[0].resource is None
    with pytest.raises(MalformedPolicyDocument, match="Resource"):
        parse(doc(stmt(action="sts:AssumeRole", Principal={"AWS": "1"})), "trust")
    with pytest.raises(MalformedPolicyDocument, match="NotPrincipal"):
        parse(doc(stmt(action="sts:AssumeRole", resource=None, NotPrincipal={"AWS": "1"})), "trust")
    with pytest.raises(MalformedPolicyDocument, match="Principal"):
        parse(doc(stmt(action="sts:AssumeRole", resource=None)), "trust")


def test_condition_values_are_strings():
    p = parse(
        doc(stmt(Condition={"NumericLessThan": {"n": 5}, "Bool": {"b": True, "c": [False, "x"]}}))
    )
    conds = {c.key: c.values for c in p.statements[0].conditions}
    assert conds == {"n": ("5",), "b": ("true",), "c": ("false", "x")}
    c = p.statements[0].conditions[0]
    assert c.key_lower == "n" and c.base == "NumericLessThan" and c.qualifier is None


def test_operator_parts():
    p = parse(doc(stmt(Condition={"ForAllValues:StringLikeIfExists": {"aws:TagKeys": "a*"}})))
    c = p.statements[0].conditions[0]
    assert (c.qualifier, c.base, c.if_exists, c.key_lower) == (
        "ForAllValues",
        "StringLike",
        True,
        "aws:tagkeys",
    )


def test_frozen_and_self_validating():
    p = parse(OK_IDENTITY)
    with pytest.raises(AttributeError):
        p.statements[0].sid = "x"  # type: ignore[misc]
    with pytest.raises(MalformedPolicyDocument):
        Statement(index=0, effect=d.Effect.ALLOW)  # no action
    with pytest.raises(MalformedPolicyDocument):
        d.Condition("Nope", "k", ("v",))


def test_unknown_kind_is_type_error():
    with pytest.raises(TypeError):
        parse_policy("{}", "bogus")


def test_policy_size_excludes_whitespace():
    text = json.dumps(OK_IDENTITY, indent=4)
    assert policy_size(text) == len(json.dumps(OK_IDENTITY, separators=(",", ":")))
    assert policy_size(" a \n\t b ") == 2


def test_quota_constants():
    assert (MANAGED, ROLE_INLINE) == (6144, 10240)
    assert (d.TRUST_POLICY_MAX_SIZE, d.USER_INLINE_MAX_SIZE, d.GROUP_INLINE_MAX_SIZE) == (
        2048,
        2048,
        5120,
    )
    assert d.SESSION_POLICY_MAX_SIZE == 2048
    from rolegate import policy

    assert (policy.TRUST, policy.USER_INLINE, policy.GROUP_INLINE, policy.SESSION) == (
        2048,
        2048,
        5120,
        2048,
    )


def test_latin1_allowed():
    assert parse(doc(stmt(Condition={"StringEquals": {"k": "caf\u00e9"}})))


def test_variables_not_in_2008_version_still_parse():
    assert parse(doc(stmt(resource="arn:aws:s3:::b/${aws:username}"), version=None))
