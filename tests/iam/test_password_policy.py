from __future__ import annotations

import pytest

from rolegate.context import Principal
from rolegate.errors import AccessDenied, NoSuchEntity, PasswordPolicyViolation, ValidationError
from rolegate.iam.password_policy import check_password, policy_violation
from tests.iam.conftest import ACCOUNT, OTHER_ACCOUNT, Iam


def test_no_policy_is_not_found(iam):
    with pytest.raises(NoSuchEntity) as e:
        iam("GetAccountPasswordPolicy")
    assert e.value.message == f"The Password Policy with domain name {ACCOUNT} cannot be found."
    assert e.value.status == 404
    with pytest.raises(NoSuchEntity):
        iam("DeleteAccountPasswordPolicy")


def test_update_get_delete(iam, store):
    iam(
        "UpdateAccountPasswordPolicy",
        MinimumPasswordLength=12,
        RequireSymbols=True,
        RequireNumbers=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=3,
        HardExpiry=False,
    )
    assert iam.auth.calls[-1][:2] == ("iam:UpdateAccountPasswordPolicy", "*")
    got = iam("GetAccountPasswordPolicy")["PasswordPolicy"]
    assert got == {
        "MinimumPasswordLength": 12,
        "RequireSymbols": True,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": False,
        "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": True,
        "ExpirePasswords": True,
        "MaxPasswordAge": 90,
        "PasswordReusePrevention": 3,
        "HardExpiry": False,
    }
    # Omitted parameters revert to defaults (AWS replaces the whole policy);
    # the default length is 6 (botocore's model, recorded against AWS).
    iam("UpdateAccountPasswordPolicy")
    got = iam("GetAccountPasswordPolicy")["PasswordPolicy"]
    assert got["MinimumPasswordLength"] == 6 and got["ExpirePasswords"] is False
    assert "MaxPasswordAge" not in got and "PasswordReusePrevention" not in got
    # Per account.
    other = Iam(
        store,
        Principal(
            kind="root",
            arn=f"arn:aws:iam::{OTHER_ACCOUNT}:root",
            account_id=OTHER_ACCOUNT,
            user_id=OTHER_ACCOUNT,
        ),
    )
    with pytest.raises(NoSuchEntity):
        other("GetAccountPasswordPolicy")
    iam("DeleteAccountPasswordPolicy")
    with pytest.raises(NoSuchEntity):
        iam("GetAccountPasswordPolicy")


@pytest.mark.parametrize(
    "params",
    [
        {"MinimumPasswordLength": 5},
        {"MinimumPasswordLength": 129},
        {"MaxPasswordAge": 0},
        {"MaxPasswordAge": 1096},
        {"PasswordReusePrevention": 25},
    ],
)
def test_ranges(iam, params):
    with pytest.raises(ValidationError):
        iam("UpdateAccountPasswordPolicy", **params)


def test_access_denied_first(iam):
    iam.auth.deny.add("iam:GetAccountPasswordPolicy")
    with pytest.raises(AccessDenied):
        iam("GetAccountPasswordPolicy")


def test_rules():
    policy = {
        "MinimumPasswordLength": 10,
        "RequireUppercaseCharacters": True,
        "RequireLowercaseCharacters": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
    }
    assert policy_violation("Ab1!", policy) == "Password should have at least 10 characters"
    assert policy_violation("abcdefghij1!", policy) == (
        "Password should have at least one uppercase letter"
    )
    assert policy_violation("ABCDEFGHIJ1!", policy) == (
        "Password should have at least one lowercase letter"
    )
    assert policy_violation("ABCDEFghij!", policy) == "Password should have at least one number"
    assert policy_violation("ABCDEFghij1", policy) == "Password should have at least one symbol"
    assert policy_violation("ABCDEFghij1'", policy) is None
    # A policy with only a length rule.
    assert policy_violation("aaaaaa", {"MinimumPasswordLength": 6}) is None


def test_default_rules():
    assert policy_violation("Ab1!", None).startswith("Password should have at least 8 characters")
    assert policy_violation("abcdefgh", None) is not None  # one class
    assert policy_violation("abcdEFGH", None) is not None  # two classes
    assert policy_violation("abcdEFG1", None) is None  # three classes
    assert policy_violation("abcd#fg1", None) is None
    account = {"name": "Main-Acct1", "email": "x@example.com"}
    assert policy_violation("main-acct1", None, account=account) is not None


def test_check_password_uses_stored_policy(iam, store):
    with pytest.raises(PasswordPolicyViolation) as e:
        check_password(store, ACCOUNT, "short")
    assert e.value.status == 400 and e.value.code == "PasswordPolicyViolation"
    iam("UpdateAccountPasswordPolicy", MinimumPasswordLength=6)
    check_password(store, ACCOUNT, "simple")
    with pytest.raises(PasswordPolicyViolation) as e:
        check_password(store, ACCOUNT, "short")
    assert e.value.message == "Password should have at least 6 characters"
