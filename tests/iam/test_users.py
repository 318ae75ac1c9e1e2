from __future__ import annotations

import pytest

from rolegate.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    NoSuchEntity,
    ValidationError,
)
from tests.iam.conftest import ACCOUNT, ROOT, T0, all_pages, allow, role_session, user_principal


def test_create_get_user(iam):
    out = iam(
        "CreateUser",
        UserName="Alice",
        Path="/eng/",
        Tags=[{"Key": "team", "Value": "core"}],
    )["User"]
    assert out["UserName"] == "Alice"
    assert out["Path"] == "/eng/"
    assert out["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/Alice"
    assert out["UserId"].startswith("AIDA") and len(out["UserId"]) == 21
    assert out["Tags"] == [{"Key": "team", "Value": "core"}]
    assert out["CreateDate"].tzinfo is not None
    got = iam("GetUser", UserName="alice")["User"]  # names are case-insensitive
    assert got["UserName"] == "Alice" and got["UserId"] == out["UserId"]
    assert "PermissionsBoundary" not in got
    assert iam.last.audit_resources == [
        {"ARN": out["Arn"], "accountId": ACCOUNT, "type": "AWS::IAM::User"}
    ]


def test_create_user_audit_response_has_no_secrets_and_camel_keys(iam):
    iam("CreateUser", UserName="a")
    resp = iam.last.audit_response
    assert resp["user"]["userName"] == "a"
    assert isinstance(resp["user"]["createDate"], str)


def test_duplicate_user_case_insensitive(iam):
    iam("CreateUser", UserName="bob")
    with pytest.raises(EntityAlreadyExists) as e:
        iam("CreateUser", UserName="BOB")
    assert e.value.message == "User with name BOB already exists."
    assert e.value.status == 409


def test_get_missing_user(iam):
    with pytest.raises(NoSuchEntity) as e:
        iam("GetUser", UserName="ghost")
    assert e.value.message == "The user with name ghost cannot be found."
    assert e.value.status == 404


def test_get_user_defaults_to_caller(iam):
    iam("CreateUser", UserName="carol")
    got = iam.as_(user_principal("carol"))("GetUser")["User"]
    assert got["UserName"] == "carol"


def test_get_user_from_role_session_needs_name(iam):
    with pytest.raises(ValidationError) as e:
        iam.as_(role_session())("GetUser")
    assert e.value.message == "Must specify userName when calling with non-User credentials"


def test_get_user_as_root_describes_root(iam):
    got = iam.as_(ROOT)("GetUser")["User"]
    assert got["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert got["UserId"] == ACCOUNT
    assert "UserName" not in got


def test_create_user_with_boundary(iam):
    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    out = iam("CreateUser", UserName="b", PermissionsBoundary=arn)["User"]
    assert out["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": arn,
    }
    assert iam.auth.calls[-1][2]["iam:PermissionsBoundary"] == arn


def test_create_user_with_missing_boundary(iam):
    arn = f"arn:aws:iam::{ACCOUNT}:policy/nope"
    with pytest.raises(NoSuchEntity) as e:
        iam("CreateUser", UserName="b", PermissionsBoundary=arn)
    assert e.value.message == f"Scope ARN: {arn} does not exist or is not attachable."
    with pytest.raises(NoSuchEntity):
        iam("GetUser", UserName="b")  # nothing was created


def test_list_users_path_prefix_and_pagination(iam):
    for i in range(7):
        iam("CreateUser", UserName=f"u{i}", Path="/p/" if i % 2 else "/")
    users = all_pages(iam, "ListUsers", "Users", MaxItems=2)
    assert [u["UserName"] for u in users] == [f"u{i}" for i in range(7)]
    assert all("Tags" not in u for u in users)
    page = iam("ListUsers", PathPrefix="/p/")
    assert [u["UserName"] for u in page["Users"]] == ["u1", "u3", "u5"]
    assert page["IsTruncated"] is False
    assert iam.auth.calls[-1][:2] == ("iam:ListUsers", f"arn:aws:iam::{ACCOUNT}:user/p/")


def test_list_users_marker_survives_deletion(iam):
    for name in ("a", "b", "c", "d"):
        iam("CreateUser", UserName=name)
    page = iam("ListUsers", MaxItems=2)
    assert [u["UserName"] for u in page["Users"]] == ["a", "b"]
    iam("DeleteUser", UserName="a")
    rest = iam("ListUsers", Marker=page["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["c", "d"]


def test_delete_user_conflicts(iam):
    iam("CreateUser", UserName="d")
    key = iam("CreateAccessKey", UserName="d")["AccessKey"]["AccessKeyId"]
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteUser", UserName="d")
    assert e.value.message == "Cannot delete entity, must delete access keys first."
    iam("DeleteAccessKey", UserName="d", AccessKeyId=key)

    iam("PutUserPolicy", UserName="d", PolicyName="p", PolicyDocument=allow())
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteUser", UserName="d")
    assert e.value.message == "Cannot delete entity, must delete policies first."
    iam("DeleteUserPolicy", UserName="d", PolicyName="p")

    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam("AttachUserPolicy", UserName="d", PolicyArn=arn)
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteUser", UserName="d")
    assert e.value.message == "Cannot delete entity, must detach all policies first."
    iam("DetachUserPolicy", UserName="d", PolicyArn=arn)

    iam("CreateGroup", GroupName="g")
    iam("AddUserToGroup", GroupName="g", UserName="d")
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteUser", UserName="d")
    assert e.value.message == "Cannot delete entity, must remove users from group first."
    iam("RemoveUserFromGroup", GroupName="g", UserName="d")

    iam("DeleteUser", UserName="D")
    with pytest.raises(NoSuchEntity):
        iam("GetUser", UserName="d")


def test_delete_user_with_mfa_device_conflicts(iam, store):
    iam("CreateUser", UserName="m")
    with store.transaction() as tx:
        tx.insert(
            ACCOUNT,
            "mfa",
            "m-device",
            entity_id="mfa-m-device",
            arn=f"arn:aws:iam::{ACCOUNT}:mfa/m-device",
            path="/",
            data={"seed_enc": "x", "user_name": "M", "enable_date": T0.isoformat(), "tags": []},
        )
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteUser", UserName="m")
    assert e.value.message == "Cannot delete entity, must delete MFA device first."


def test_recreated_user_gets_new_id(iam):
    first = iam("CreateUser", UserName="r")["User"]["UserId"]
    iam("DeleteUser", UserName="r")
    second = iam("CreateUser", UserName="r")["User"]["UserId"]
    assert first != second


def test_update_user_rename_and_move(iam, store):
    iam("CreateUser", UserName="old")
    iam("CreateGroup", GroupName="g")
    iam("AddUserToGroup", GroupName="g", UserName="old")
    key = iam("CreateAccessKey", UserName="old")["AccessKey"]["AccessKeyId"]
    uid = iam("GetUser", UserName="old")["User"]["UserId"]
    iam("UpdateUser", UserName="old", NewUserName="new", NewPath="/moved/")
    # Permission is checked on the source and the target.
    assert [c[1] for c in iam.auth.calls[-2:]] == [
        f"arn:aws:iam::{ACCOUNT}:user/old",
        f"arn:aws:iam::{ACCOUNT}:user/moved/new",
    ]
    with pytest.raises(NoSuchEntity):
        iam("GetUser", UserName="old")
    u = iam("GetUser", UserName="new")["User"]
    assert u["UserId"] == uid and u["Path"] == "/moved/"
    assert u["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/moved/new"
    assert [x["UserName"] for x in iam("GetGroup", GroupName="g")["Users"]] == ["new"]
    assert [
        k["AccessKeyId"] for k in iam("ListAccessKeys", UserName="new")["AccessKeyMetadata"]
    ] == [key]
    assert store.lookup_access_key(key).user_name == "new"
    iam("CreateUser", UserName="taken")
    with pytest.raises(EntityAlreadyExists):
        iam("UpdateUser", UserName="new", NewUserName="TAKEN")
    iam("UpdateUser", UserName="new", NewUserName="NEW")  # case-only rename
    assert iam("GetUser", UserName="new")["User"]["UserName"] == "NEW"
    with pytest.raises(NoSuchEntity):
        iam("UpdateUser", UserName="ghost", NewUserName="x")
