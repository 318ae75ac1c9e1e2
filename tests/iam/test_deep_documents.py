"""IAM operations given deeply nested policy documents answer MalformedPolicyDocument."""

from __future__ import annotations

import pytest

from rolegate.errors import MalformedPolicyDocument
from tests.iam.conftest import trust

DEEP = '{"Version":"2012-10-17","Statement":' + "[" * 5_000 + "]" * 5_000 + "}"
SYNTAX = "Syntax errors in policy."


def test_create_policy(iam):
    with pytest.raises(MalformedPolicyDocument) as e:
        iam("CreatePolicy", PolicyName="p", PolicyDocument=DEEP)
    assert e.value.message == SYNTAX


def test_inline_policy(iam):
    iam("CreateUser", UserName="u")
    with pytest.raises(MalformedPolicyDocument) as e:
        iam("PutUserPolicy", UserName="u", PolicyName="p", PolicyDocument=DEEP)
    assert e.value.message == SYNTAX


@pytest.mark.parametrize("op", ["CreateRole", "UpdateAssumeRolePolicy"])
def test_trust_policy(iam, op):
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    with pytest.raises(MalformedPolicyDocument) as e:
        if op == "CreateRole":
            iam("CreateRole", RoleName="x", AssumeRolePolicyDocument=DEEP)
        else:
            iam("UpdateAssumeRolePolicy", RoleName="r", PolicyDocument=DEEP)
    assert e.value.message == SYNTAX
