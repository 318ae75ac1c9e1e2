from __future__ import annotations

import json

import pytest

from rolegate.errors import LimitExceeded, MalformedPolicyDocument, NoSuchEntity
from tests.iam.conftest import all_pages, allow, doc, trust

KINDS = [("User", "UserName"), ("Group", "GroupName"), ("Role", "RoleName")]


def create(iam, kind, name):
    if kind == "Role":
        iam("CreateRole", RoleName=name, AssumeRolePolicyDocument=trust())
    else:
        iam(f"Create{kind}", **{f"{kind}Name": name})


@pytest.mark.parametrize(("kind", "param"), KINDS)
def test_inline_lifecycle(iam, kind, param):
    create(iam, kind, "e")
    text = '{"Version": "2012-10-17",\n "Statement": {"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}}'
    iam(f"Put{kind}Policy", **{param: "E"}, PolicyName="Read", PolicyDocument=text)
    got = iam(f"Get{kind}Policy", **{param: "e"}, PolicyName="read")
    assert got == {param: "e", "PolicyName": "Read", "PolicyDocument": text}  # verbatim text
    # Replacing under a different case keeps one policy.
    iam(f"Put{kind}Policy", **{param: "e"}, PolicyName="READ", PolicyDocument=allow())
    assert iam(f"List{kind}Policies", **{param: "e"})["PolicyNames"] == ["READ"]
    for i in range(4):
        iam(f"Put{kind}Policy", **{param: "e"}, PolicyName=f"p{i}", PolicyDocument=allow())
    names = all_pages(iam, f"List{kind}Policies", "PolicyNames", **{param: "e"}, MaxItems=2)
    assert names == ["p0", "p1", "p2", "p3", "READ"]
    iam(f"Delete{kind}Policy", **{param: "e"}, PolicyName="read")
    with pytest.raises(NoSuchEntity) as e:
        iam(f"Get{kind}Policy", **{param: "e"}, PolicyName="read")
    assert e.value.message == f"The {kind.lower()} policy with name read cannot be found."
    with pytest.raises(NoSuchEntity):
        iam(f"Delete{kind}Policy", **{param: "e"}, PolicyName="read")
    with pytest.raises(NoSuchEntity) as e:
        iam(f"Put{kind}Policy", **{param: "ghost"}, PolicyName="x", PolicyDocument=allow())
    assert e.value.message == f"The {kind.lower()} with name ghost cannot be found."


@pytest.mark.parametrize(("kind", "param"), KINDS)
def test_inline_must_be_identity_policy(iam, kind, param):
    create(iam, kind, "e")
    with pytest.raises(MalformedPolicyDocument):
        iam(f"Put{kind}Policy", **{param: "e"}, PolicyName="x", PolicyDocument=trust())
    with pytest.raises(MalformedPolicyDocument):
        iam(f"Put{kind}Policy", **{param: "e"}, PolicyName="x", PolicyDocument="not json")
    assert iam(f"List{kind}Policies", **{param: "e"})["PolicyNames"] == []


def _sized(n_chars: int) -> str:
    """An identity policy of exactly ``n_chars`` non-whitespace characters."""
    base = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/"})
    size = len("".join(base.split()))
    return doc(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/" + "x" * (n_chars - size),
        }
    )


@pytest.mark.parametrize(
    ("kind", "param", "quota"),
    [("User", "UserName", 2048), ("Group", "GroupName", 5120), ("Role", "RoleName", 10240)],
)
def test_inline_aggregate_quota(iam, kind, param, quota):
    create(iam, kind, "q")
    half = quota // 2
    iam(f"Put{kind}Policy", **{param: "q"}, PolicyName="a", PolicyDocument=_sized(half))
    # Whitespace doesn't count: pretty-printing the same document still fits.
    pretty = json.dumps(json.loads(_sized(quota - half)), indent=8)
    iam(f"Put{kind}Policy", **{param: "q"}, PolicyName="b", PolicyDocument=pretty)
    with pytest.raises(LimitExceeded) as e:
        iam(f"Put{kind}Policy", **{param: "q"}, PolicyName="c", PolicyDocument=_sized(200))
    assert e.value.message == f"Maximum policy size of {quota} bytes exceeded for {kind.lower()} q"
    # Replacing a policy counts its new size, not both.
    iam(f"Put{kind}Policy", **{param: "q"}, PolicyName="b", PolicyDocument=_sized(quota - half))
