"""Login profiles, ChangePassword and the account password policy with boto3
against a real server; passwords never reach the audit trail."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server

FIRST = "Zq7-first-Passw0rd"
SECOND = "Zq7-second-Passw0rd"
THIRD = "Zq7-third-Passw0rd"


def code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def status(exc: ClientError) -> int:
    return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])


def test_password_policy(server: Server) -> None:
    iam = server.client("iam")
    with pytest.raises(ClientError) as e:
        iam.get_account_password_policy()
    assert code(e.value) == "NoSuchEntity" and status(e.value) == 404
    assert e.value.response["Error"]["Message"] == (
        "The Password Policy with domain name 123456789012 cannot be found."
    )
    iam.update_account_password_policy(
        MinimumPasswordLength=14, RequireNumbers=True, MaxPasswordAge=30, PasswordReusePrevention=2
    )
    got = iam.get_account_password_policy()["PasswordPolicy"]
    assert got["MinimumPasswordLength"] == 14 and got["RequireNumbers"] is True
    assert got["ExpirePasswords"] is True and got["MaxPasswordAge"] == 30
    assert got["PasswordReusePrevention"] == 2 and got["RequireSymbols"] is False
    with pytest.raises(ClientError) as e:
        iam.update_account_password_policy(MinimumPasswordLength=200)
    assert code(e.value) == "ValidationError"
    iam.delete_account_password_policy()
    with pytest.raises(ClientError) as e:
        iam.delete_account_password_policy()
    assert code(e.value) == "NoSuchEntity"


def test_login_profile_lifecycle_and_change_password(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="console-user")
    with pytest.raises(ClientError) as e:
        iam.create_login_profile(UserName="console-user", Password="weakpass-only")
    assert code(e.value) == "PasswordPolicyViolation" and status(e.value) == 400
    lp = iam.create_login_profile(
        UserName="console-user", Password=FIRST, PasswordResetRequired=True
    )["LoginProfile"]
    assert lp["UserName"] == "console-user" and lp["PasswordResetRequired"] is True
    with pytest.raises(ClientError) as e:
        iam.create_login_profile(UserName="console-user", Password=FIRST)
    assert code(e.value) == "EntityAlreadyExists" and status(e.value) == 409
    got = iam.get_login_profile(UserName="console-user")["LoginProfile"]
    assert got["CreateDate"] == lp["CreateDate"] and "Password" not in got
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="console-user")
    assert code(e.value) == "DeleteConflict"
    assert e.value.response["Error"]["Message"] == (
        "Cannot delete entity, must delete login profile first."
    )

    # The user changes its own password (granted by the account policy).
    iam.update_account_password_policy(AllowUsersToChangePassword=True)
    key = iam.create_access_key(UserName="console-user")["AccessKey"]
    time.sleep(0.6)  # cached key lookups on other nodes/threads
    me = server.client("iam", creds=key)
    with pytest.raises(ClientError) as e:  # no identity policy grants it anything else
        me.get_login_profile()
    assert code(e.value) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        me.change_password(OldPassword=SECOND, NewPassword=THIRD)
    assert code(e.value) == "AccessDenied" and status(e.value) == 403
    with pytest.raises(ClientError) as e:
        # The policy above left MinimumPasswordLength at its default, 6.
        me.change_password(OldPassword=FIRST, NewPassword="Sh0!x")
    assert code(e.value) == "PasswordPolicyViolation"
    me.change_password(OldPassword=FIRST, NewPassword=SECOND)
    assert (
        iam.get_login_profile(UserName="console-user")["LoginProfile"]["PasswordResetRequired"]
        is False
    )
    with pytest.raises(ClientError) as e:
        server.client("iam").change_password(OldPassword=SECOND, NewPassword=THIRD)
    # The admin is an IAM user without a login profile.
    assert code(e.value) == "NoSuchEntity"

    iam.update_login_profile(UserName="console-user", Password=THIRD, PasswordResetRequired=True)
    assert (
        iam.get_login_profile(UserName="console-user")["LoginProfile"]["PasswordResetRequired"]
        is True
    )
    iam.delete_login_profile(UserName="console-user")
    with pytest.raises(ClientError) as e:
        iam.get_login_profile(UserName="console-user")
    assert code(e.value) == "NoSuchEntity"
    iam.delete_account_password_policy()

    # No password ever reaches the audit trail.
    time.sleep(0.5)
    q = server.cli("audit", "query", *server.store_args(), "--json")
    dump = q.stdout
    events = json.loads(dump)
    names = {e["eventName"] for e in events}
    assert {"CreateLoginProfile", "ChangePassword", "UpdateLoginProfile"} <= names
    for secret in (FIRST, SECOND, THIRD, "Sh0rt!", "weakpass-only"):
        assert secret not in dump
