from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rolegate.errors import (
    AccessDenied,
    AwsError,
    DeleteConflict,
    EntityAlreadyExists,
    NoSuchEntity,
    PasswordPolicyViolation,
    ValidationError,
)
from rolegate.iam.login_profiles import (
    check_hash,
    hash_password,
    login_state,
    verify_password,
)
from tests.iam.conftest import ACCOUNT, ROOT, role_session, user_principal

GOOD = "Correct-Horse-9"
OTHER = "Battery-Staple-7"


def test_hash_format_and_check():
    h = hash_password(GOOD)
    version, n, r, p, salt, key = h.split("$")
    assert (version, n, r, p) == ("scrypt1", "16384", "8", "1")
    assert GOOD not in h
    assert check_hash(GOOD, h) and not check_hash(OTHER, h)
    assert hash_password(GOOD) != h  # fresh salt
    assert not check_hash(GOOD, "md5$x") and not check_hash(GOOD, "garbage")


def test_lifecycle(iam, store):
    iam("CreateUser", UserName="alice")
    out = iam("CreateLoginProfile", UserName="ALICE", Password=GOOD, PasswordResetRequired=True)
    assert out["LoginProfile"]["UserName"] == "alice"
    assert out["LoginProfile"]["PasswordResetRequired"] is True
    created = out["LoginProfile"]["CreateDate"]
    assert iam.auth.calls[-1][:2] == (
        "iam:CreateLoginProfile",
        f"arn:aws:iam::{ACCOUNT}:user/alice",
    )
    assert iam.last.audit_resources[0]["type"] == "AWS::IAM::User"
    assert GOOD not in json.dumps(iam.last.audit_response, default=str)
    # Nothing in the store holds the password in clear.
    user = store.get(ACCOUNT, "user", "alice")
    assert GOOD not in json.dumps(user.data, default=str)
    assert verify_password(store, ACCOUNT, "alice", GOOD)
    assert not verify_password(store, ACCOUNT, "alice", OTHER)
    assert not verify_password(store, ACCOUNT, "nobody", GOOD)

    got = iam("GetLoginProfile", UserName="alice")["LoginProfile"]
    assert got == {"UserName": "alice", "CreateDate": created, "PasswordResetRequired": True}

    with pytest.raises(EntityAlreadyExists) as e:
        iam("CreateLoginProfile", UserName="alice", Password=GOOD)
    assert e.value.message == "Login Profile for user alice already exists."

    iam("UpdateLoginProfile", UserName="alice", PasswordResetRequired=False)
    assert verify_password(store, ACCOUNT, "alice", GOOD)
    assert (
        iam("GetLoginProfile", UserName="alice")["LoginProfile"]["PasswordResetRequired"] is False
    )
    iam("UpdateLoginProfile", UserName="alice", Password=OTHER)
    assert verify_password(store, ACCOUNT, "alice", OTHER)
    assert not verify_password(store, ACCOUNT, "alice", GOOD)
    got = iam("GetLoginProfile", UserName="alice")["LoginProfile"]
    assert got["PasswordResetRequired"] is False and got["CreateDate"] == created

    with pytest.raises(DeleteConflict) as e:
        iam("DeleteUser", UserName="alice")
    assert e.value.message == "Cannot delete entity, must delete login profile first."
    iam("DeleteLoginProfile", UserName="alice")
    with pytest.raises(NoSuchEntity) as e:
        iam("GetLoginProfile", UserName="alice")
    assert e.value.message == "Login Profile for User alice cannot be found."
    with pytest.raises(NoSuchEntity):
        iam("DeleteLoginProfile", UserName="alice")
    with pytest.raises(NoSuchEntity):
        iam("UpdateLoginProfile", UserName="alice", PasswordResetRequired=True)
    assert not verify_password(store, ACCOUNT, "alice", OTHER)
    iam("DeleteUser", UserName="alice")


def test_missing_user_and_access_denied_first(iam):
    with pytest.raises(NoSuchEntity) as e:
        iam("CreateLoginProfile", UserName="ghost", Password=GOOD)
    assert e.value.message == "The user with name ghost cannot be found."
    iam.auth.deny.add("iam:CreateLoginProfile")
    with pytest.raises(AccessDenied):
        iam("CreateLoginProfile", UserName="ghost", Password=GOOD)


def test_password_required_for_users(iam):
    # The model lets Password be omitted (AssumeRoot sessions only); for an
    # IAM user that is a validation error, never an internal failure.
    iam("CreateUser", UserName="nopass")
    with pytest.raises(ValidationError) as e:
        iam("CreateLoginProfile", UserName="nopass")
    assert "'password'" in e.value.message and "must not be null" in e.value.message


def test_policy_enforced(iam):
    iam("CreateUser", UserName="bob")
    with pytest.raises(PasswordPolicyViolation) as e:
        iam("CreateLoginProfile", UserName="bob", Password="password")
    assert e.value.status == 400
    iam("UpdateAccountPasswordPolicy", MinimumPasswordLength=20)
    with pytest.raises(PasswordPolicyViolation) as e:
        iam("CreateLoginProfile", UserName="bob", Password=GOOD)
    assert e.value.message == "Password should have at least 20 characters"
    iam("CreateLoginProfile", UserName="bob", Password="a" * 20)
    with pytest.raises(PasswordPolicyViolation):
        iam("UpdateLoginProfile", UserName="bob", Password="short")


def test_caller_defaults(iam, store):
    iam("CreateUser", UserName="self")
    me = iam.as_(user_principal("self"))
    me("CreateLoginProfile", Password=GOOD)
    assert me("GetLoginProfile")["LoginProfile"]["UserName"] == "self"
    with pytest.raises(ValidationError):
        iam.as_(role_session())("GetLoginProfile")
    me("DeleteLoginProfile")
    assert store.get(ACCOUNT, "user", "self").data.get("login_profile") is None


def test_rename_keeps_profile(iam, store):
    iam("CreateUser", UserName="old")
    iam("CreateLoginProfile", UserName="old", Password=GOOD)
    iam("UpdateUser", UserName="old", NewUserName="new")
    assert verify_password(store, ACCOUNT, "new", GOOD)
    assert iam("GetLoginProfile", UserName="new")["LoginProfile"]["UserName"] == "new"


def test_sealed_hash_is_bound_to_user(iam, store):
    iam("CreateUser", UserName="a")
    iam("CreateUser", UserName="b")
    iam("CreateLoginProfile", UserName="a", Password=GOOD)
    iam("CreateLoginProfile", UserName="b", Password=OTHER)
    a = store.get(ACCOUNT, "user", "a")
    b = store.get(ACCOUNT, "user", "b")
    with store.transaction() as tx:
        row = tx.get(ACCOUNT, "user", "b")
        profile = {**b.data["login_profile"], "password": a.data["login_profile"]["password"]}
        tx.update(row, {**dict(row.data), "login_profile": profile})
    # a's sealed hash copied into b's row opens for nobody.
    assert not verify_password(store, ACCOUNT, "b", GOOD)
    assert not verify_password(store, ACCOUNT, "b", OTHER)


def test_change_password(iam, store):
    iam("CreateUser", UserName="carol")
    iam("CreateLoginProfile", UserName="carol", Password=GOOD, PasswordResetRequired=True)
    me = iam.as_(user_principal("carol"))
    with pytest.raises(AccessDenied) as e:
        me("ChangePassword", OldPassword=OTHER, NewPassword="Another-Pass-3")
    assert e.value.message == "The old password is incorrect."
    assert verify_password(store, ACCOUNT, "carol", GOOD)
    with pytest.raises(PasswordPolicyViolation):
        me("ChangePassword", OldPassword=GOOD, NewPassword="weak")
    me("ChangePassword", OldPassword=GOOD, NewPassword=OTHER)
    assert iam.auth.calls[-1][:2] == ("iam:ChangePassword", f"arn:aws:iam::{ACCOUNT}:user/carol")
    assert verify_password(store, ACCOUNT, "carol", OTHER)
    assert not verify_password(store, ACCOUNT, "carol", GOOD)
    # Changing clears the reset flag.
    assert (
        iam("GetLoginProfile", UserName="carol")["LoginProfile"]["PasswordResetRequired"] is False
    )


def test_change_password_callers(iam):
    for principal in (ROOT, role_session()):
        with pytest.raises(AwsError) as e:
            iam.as_(principal)("ChangePassword", OldPassword=GOOD, NewPassword=OTHER)
        assert e.value.code == "InvalidUserType" and e.value.status == 400
    iam("CreateUser", UserName="dave")
    with pytest.raises(NoSuchEntity) as e:
        iam.as_(user_principal("dave"))("ChangePassword", OldPassword=GOOD, NewPassword=OTHER)
    assert e.value.message == "Login Profile for User dave cannot be found."


def test_allow_users_to_change_password(iam, store):
    iam("CreateUser", UserName="erin")
    iam("CreateLoginProfile", UserName="erin", Password=GOOD)
    iam.auth.deny.add("iam:ChangePassword")
    me = iam.as_(user_principal("erin"))
    with pytest.raises(AccessDenied):
        me("ChangePassword", OldPassword=GOOD, NewPassword=OTHER)
    iam("UpdateAccountPasswordPolicy", AllowUsersToChangePassword=True)
    me("ChangePassword", OldPassword=GOOD, NewPassword=OTHER)
    assert verify_password(store, ACCOUNT, "erin", OTHER)
    assert me.last.audit_resources == [
        {"ARN": f"arn:aws:iam::{ACCOUNT}:user/erin", "accountId": ACCOUNT, "type": "AWS::IAM::User"}
    ]


def test_reuse_prevention(iam, store):
    iam("UpdateAccountPasswordPolicy", PasswordReusePrevention=2, MinimumPasswordLength=6)
    iam("CreateUser", UserName="fay")
    iam("CreateLoginProfile", UserName="fay", Password="first1")
    me = iam.as_(user_principal("fay"))
    with pytest.raises(PasswordPolicyViolation) as e:
        me("ChangePassword", OldPassword="first1", NewPassword="first1")
    assert e.value.message == "Password should not be one of your previous 2 passwords"
    me("ChangePassword", OldPassword="first1", NewPassword="second")
    with pytest.raises(PasswordPolicyViolation):
        me("ChangePassword", OldPassword="second", NewPassword="first1")
    with pytest.raises(PasswordPolicyViolation):
        iam("UpdateLoginProfile", UserName="fay", Password="first1")
    me("ChangePassword", OldPassword="second", NewPassword="third3")
    me("ChangePassword", OldPassword="third3", NewPassword="first1")  # 3 back: allowed
    assert verify_password(store, ACCOUNT, "fay", "first1")


def test_expiry(iam, store):
    iam("UpdateAccountPasswordPolicy", MaxPasswordAge=1, HardExpiry=True)
    iam("CreateUser", UserName="gus")
    iam("CreateLoginProfile", UserName="gus", Password=GOOD)
    state = login_state(store, ACCOUNT, "gus", iam.now)
    assert state == {"password_reset_required": False, "expired": False, "hard_expiry": True}
    iam.now += timedelta(days=2)
    assert login_state(store, ACCOUNT, "gus", iam.now)["expired"] is True
    with pytest.raises(AccessDenied):
        iam.as_(user_principal("gus"))("ChangePassword", OldPassword=GOOD, NewPassword=OTHER)
    # An administrator resets it.
    iam("UpdateLoginProfile", UserName="gus", Password=OTHER)
    assert login_state(store, ACCOUNT, "gus", iam.now)["expired"] is False
    assert login_state(store, ACCOUNT, "nobody", iam.now) is None
