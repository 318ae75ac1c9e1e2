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


BAD = [
    ("not json", "{", "Syntax errors"),
    ("array top", "[]", "JSON object"),
    ("bad version", {"Version": "2013-01-01", "Statement": stmt()}, "Version"),
    ("unknown top", {"Version": "2012-10-17", "Statement": stmt(), "Foo": 1}, "Foo"),
    ("no statement", {"Version": "2012-10-17"}, "Statement"),
    ("empty statements", {"Version": "2012-10-17", "Statement": []}, "at least one"),
    ("statement string", {"Statement": "x"}, "Statement"),
    ("unknown element", doc(stmt(Foo="x")), "Foo"),
    ("lowercase element", doc({"effect": "Allow", "Action": "*", "Resource": "*"}), "effect"),
    ("bad effect", doc(stmt("allow")), "effect"),
    ("no effect", doc({"Action": "*", "Resource": "*"}), "Effect"),
    ("no action", doc({"Effect": "Allow", "Resource": "*"}), "Action"),
    ("both actions", doc(stmt(NotAction="s3:*")), "Action"),
    ("vendorless action", doc(stmt(action="GetObject")), "vendor"),
    ("empty action list", doc(stmt(action=[])), "Action"),
    ("non-string action", doc(stmt(action=[1])), "Action"),
    ("no resource", doc(stmt(resource=None)), "Resource"),
    ("both resources", doc(stmt(NotResource="*")), "Resource"),
    ("bad resource", doc(stmt(resource="bucket")), "ARN format"),
    ("short arn", doc(stmt(resource="arn:aws:s3:b")), "ARN format"),
    ("bad sid", doc(stmt(Sid="has space")), "SID"),
    ("dup sid", doc(stmt(Sid="A"), stmt(Sid="A")), "unique"),
    ("unknown operator", doc(stmt(Condition={"StringEqualz": {"k": "v"}})), "StringEqualz"),
    ("bad qualifier", doc(stmt(Condition={"ForSome:StringEquals": {"k": "v"}})), "ForSome"),
    ("NullIfExists", doc(stmt(Condition={"NullIfExists": {"k": "true"}})), "NullIfExists"),
    ("condition list", doc(stmt(Condition=[])), "Condition"),
    ("condition block str", doc(stmt(Condition={"StringEquals": "x"})), "StringEquals"),
    ("condition null value", doc(stmt(Condition={"StringEquals": {"k": None}})), "values"),
    ("condition nested", doc(stmt(Condition={"StringEquals": {"k": {"a": 1}}})), "values"),
    ("bad number", doc(stmt(Condition={"NumericEquals": {"k": "abc"}})), "invalid"),
    ("bad date", doc(stmt(Condition={"DateLessThan": {"k": "yesterday"}})), "invalid"),
    ("bad cidr", doc(stmt(Condition={"IpAddress": {"k": "300.1.1.1/8"}})), "IP"),
    ("bad base64", doc(stmt(Condition={"BinaryEquals": {"k": "!!"}})), "base64"),
    ("bad null", doc(stmt(Condition={"Null": {"k": "maybe"}})), "Null"),
    ("principal in identity", doc(stmt(Principal="*")), "should not specify a principal"),
    (
        "notprincipal in identity",
        doc(stmt(NotPrincipal={"AWS": "1"})),
        "should not specify a principal",
    ),
    (
        "dup key",
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}',
        "Duplicate",
    ),
    ("bad char", json.dumps(doc(stmt(Sid="A"))).replace("A", "\u0100"), "invalid character"),
    (
        "control char",
        '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*\u0001"}}',
        "invalid character",
    ),
    (
        "nan",
        '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"k":NaN}}}}',
        "Syntax",
    ),
    ("id not string", {"Id": 3, "Statement": stmt()}, "Id"),
    ("sid not string", doc(stmt(Sid=3)), "Sid"),
]


@pytest.mark.parametrize("name, value, fragment", BAD, ids=[b[0] for b in BAD])
def test_malformed(name, value, fragment):
    with pytest.raises(MalformedPolicyDocument) as e:
        parse(value)
    assert fragment.lower() in e.value.message.lower()
    assert e.value.code == "MalformedPolicyDocument" and e.value.status == 400


def test_error_names_statement():
    with pytest.raises(MalformedPolicyDocument, match=r"Statement\[1\]"):
        parse(doc(stmt(), stmt(action="nope")))


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
