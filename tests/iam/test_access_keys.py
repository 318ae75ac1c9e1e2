from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rolegate.errors import AccessDenied, LimitExceeded, NoSuchEntity, ValidationError
from tests.iam.conftest import ACCOUNT, role_session, user_principal


def test_access_key_lifecycle(iam, store):
    iam("CreateUser", UserName="k")
    k = iam("CreateAccessKey", UserName="K")["AccessKey"]
    assert k["UserName"] == "k" and k["Status"] == "Active"
    assert k["AccessKeyId"].startswith("AKIA") and len(k["AccessKeyId"]) == 20
    assert len(k["SecretAccessKey"]) == 40
    # The audit record never carries the secret.
    assert "secretAccessKey" not in iam.last.audit_response["accessKey"]
    assert k["SecretAccessKey"] not in repr(iam.last.audit_response)
    # The store has it (encrypted at rest) for SigV4.
    rec = store.lookup_access_key(k["AccessKeyId"])
    assert rec.secret == k["SecretAccessKey"]

    listed = iam("ListAccessKeys", UserName="k")
    assert listed["AccessKeyMetadata"] == [
        {
            "UserName": "k",
            "AccessKeyId": k["AccessKeyId"],
            "Status": "Active",
            "CreateDate": k["CreateDate"],
        }
    ]
    assert "SecretAccessKey" not in listed["AccessKeyMetadata"][0]
    iam("UpdateAccessKey", UserName="k", AccessKeyId=k["AccessKeyId"], Status="Inactive")
    assert iam("ListAccessKeys", UserName="k")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    iam("DeleteAccessKey", UserName="k", AccessKeyId=k["AccessKeyId"])
    assert iam("ListAccessKeys", UserName="k")["AccessKeyMetadata"] == []
    with pytest.raises(NoSuchEntity) as e:
        iam("DeleteAccessKey", UserName="k", AccessKeyId=k["AccessKeyId"])
    assert e.value.message == f"The Access Key with id {k['AccessKeyId']} cannot be found."


def test_two_keys_max(iam):
    iam("CreateUser", UserName="k")
    iam("CreateAccessKey", UserName="k")
    iam("CreateAccessKey", UserName="k")
    with pytest.raises(LimitExceeded) as e:
        iam("CreateAccessKey", UserName="k")
    assert e.value.message == "Cannot exceed quota for AccessKeysPerUser: 2"
    assert e.value.status == 409


def test_caller_defaults(iam):
    iam("CreateUser", UserName="self")
    me = iam.as_(user_principal("self"))
    k = me("CreateAccessKey")["AccessKey"]
    assert k["UserName"] == "self"
    assert [m["AccessKeyId"] for m in me("ListAccessKeys")["AccessKeyMetadata"]] == [
        k["AccessKeyId"]
    ]
    me("UpdateAccessKey", AccessKeyId=k["AccessKeyId"], Status="Inactive")
    me("DeleteAccessKey", AccessKeyId=k["AccessKeyId"])
    with pytest.raises(ValidationError):
        iam.as_(role_session())("CreateAccessKey")


def test_key_of_another_user_is_not_found(iam):
    iam("CreateUser", UserName="a")
    iam("CreateUser", UserName="b")
    k = iam("CreateAccessKey", UserName="a")["AccessKey"]["AccessKeyId"]
    with pytest.raises(NoSuchEntity):
        iam("UpdateAccessKey", UserName="b", AccessKeyId=k, Status="Inactive")
    with pytest.raises(NoSuchEntity):
        iam("DeleteAccessKey", UserName="b", AccessKeyId=k)


def test_create_key_for_missing_user(iam):
    with pytest.raises(NoSuchEntity) as e:
        iam("CreateAccessKey", UserName="ghost")
    assert e.value.message == "The user with name ghost cannot be found."


def test_last_used(iam, store):
    iam("CreateUser", UserName="lu")
    k = iam("CreateAccessKey", UserName="lu")["AccessKey"]["AccessKeyId"]
    out = iam("GetAccessKeyLastUsed", AccessKeyId=k)
    assert out == {"UserName": "lu", "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}
    when = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    store.note_key_used(k, when, "iam", "eu-west-1")
    last = iam("GetAccessKeyLastUsed", AccessKeyId=k)["AccessKeyLastUsed"]
    assert last["ServiceName"] == "iam" and last["Region"] == "eu-west-1"
    assert last["LastUsedDate"] == when
    assert iam.auth.calls[-1][:2] == ("iam:GetAccessKeyLastUsed", f"arn:aws:iam::{ACCOUNT}:user/lu")
    # An unknown key is a denial on the key, as AWS answers (recorded).
    with pytest.raises(AccessDenied) as e:
        iam("GetAccessKeyLastUsed", AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    assert e.value.message.endswith(
        "is not authorized to perform iam:GetAccessKeyLastUsed "
        "on resource: access key AKIAAAAAAAAAAAAAAAAA"
    )


def test_list_keys_paginates(iam):
    iam("CreateUser", UserName="p")
    ids = sorted(iam("CreateAccessKey", UserName="p")["AccessKey"]["AccessKeyId"] for _ in range(2))
    first = iam("ListAccessKeys", UserName="p", MaxItems=1)
    assert first["IsTruncated"] is True
    second = iam("ListAccessKeys", UserName="p", Marker=first["Marker"])
    assert [
        first["AccessKeyMetadata"][0]["AccessKeyId"],
        second["AccessKeyMetadata"][0]["AccessKeyId"],
    ] == ids
