"""CreateServiceSpecificCredential, ListServiceSpecificCredentials,
ResetServiceSpecificCredential, UpdateServiceSpecificCredential,
DeleteServiceSpecificCredential (handler level). The password is returned
once and kept only as a hash."""

from __future__ import annotations

import pytest

from rolegate.errors import (
    AccessDenied,
    DeleteConflict,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from rolegate.iam.login_profiles import check_hash
from tests.iam.conftest import ACCOUNT, ROOT, role_session, user_principal

CODECOMMIT = "codecommit.amazonaws.com"
KEYSPACES = "cassandra.amazonaws.com"


def _create(iam, user: str = "u", service: str = CODECOMMIT, **extra) -> dict:
    return iam("CreateServiceSpecificCredential", UserName=user, ServiceName=service, **extra)[
        "ServiceSpecificCredential"
    ]


def _stored(store, cred_id: str):
    return store.get(ACCOUNT, "service-specific-credential", cred_id)


def test_lifecycle(iam, store):
    iam("CreateUser", UserName="sofia")
    cred = _create(iam, "Sofia")
    assert cred["UserName"] == "sofia" and cred["Status"] == "Active"
    assert cred["ServiceName"] == CODECOMMIT
    assert cred["ServiceUserName"] == f"sofia-at-{ACCOUNT}"
    assert cred["ServiceSpecificCredentialId"].startswith("ACCA")
    password = cred["ServicePassword"]
    assert len(password) == 44
    # Never in the audit record, never stored in clear; the hash matches.
    assert password not in repr(iam.last.audit_response)
    assert "servicePassword" not in iam.last.audit_response["serviceSpecificCredential"]
    record = _stored(store, cred["ServiceSpecificCredentialId"])
    assert password not in repr(record.data)
    assert check_hash(password, record.data["password"])
    assert iam.auth.calls[-1][:2] == (
        "iam:CreateServiceSpecificCredential",
        f"arn:aws:iam::{ACCOUNT}:user/sofia",
    )

    listed = iam("ListServiceSpecificCredentials", UserName="sofia")
    meta = {k: v for k, v in cred.items() if k != "ServicePassword"}
    assert listed == {"ServiceSpecificCredentials": [meta], "IsTruncated": False}

    cid = cred["ServiceSpecificCredentialId"]
    reset = iam("ResetServiceSpecificCredential", UserName="sofia", ServiceSpecificCredentialId=cid)
    new_password = reset["ServiceSpecificCredential"]["ServicePassword"]
    assert new_password != password and len(new_password) == 44
    assert new_password not in repr(iam.last.audit_response)
    record = _stored(store, cid)
    assert check_hash(new_password, record.data["password"])
    assert not check_hash(password, record.data["password"])

    iam(
        "UpdateServiceSpecificCredential",
        UserName="sofia",
        ServiceSpecificCredentialId=cid,
        Status="Inactive",
    )
    assert (
        iam("ListServiceSpecificCredentials", UserName="sofia")["ServiceSpecificCredentials"][0][
            "Status"
        ]
        == "Inactive"
    )
    with pytest.raises(InvalidInput):
        iam(
            "UpdateServiceSpecificCredential",
            UserName="sofia",
            ServiceSpecificCredentialId=cid,
            Status="Expired",
        )
    iam("DeleteServiceSpecificCredential", UserName="sofia", ServiceSpecificCredentialId=cid)
    assert (
        iam("ListServiceSpecificCredentials", UserName="sofia")["ServiceSpecificCredentials"] == []
    )
    with pytest.raises(NoSuchEntity):
        iam("DeleteServiceSpecificCredential", UserName="sofia", ServiceSpecificCredentialId=cid)


def test_unsupported_service(iam):
    iam("CreateUser", UserName="u")
    with pytest.raises(Exception) as e:
        _create(iam, service="s3.amazonaws.com")
    assert (e.value.code, e.value.status) == ("NotSupportedService", 404)
    with pytest.raises(Exception) as e:
        iam("ListServiceSpecificCredentials", UserName="u", ServiceName="nope")
    assert e.value.code == "NotSupportedService"


def test_two_per_user_per_service(iam):
    iam("CreateUser", UserName="u")
    _create(iam)
    _create(iam)
    with pytest.raises(LimitExceeded) as e:
        _create(iam)
    assert e.value.status == 409
    # The quota is per service.
    _create(iam, service=KEYSPACES)
    by_service = iam("ListServiceSpecificCredentials", UserName="u", ServiceName=KEYSPACES)
    assert [c["ServiceName"] for c in by_service["ServiceSpecificCredentials"]] == [KEYSPACES]


def test_missing_user_and_other_users_credential(iam):
    with pytest.raises(NoSuchEntity) as e:
        _create(iam, "ghost")
    assert e.value.message == "The user with name ghost cannot be found."
    iam("CreateUser", UserName="a")
    iam("CreateUser", UserName="b")
    cid = _create(iam, "a")["ServiceSpecificCredentialId"]
    for action, extra in [
        ("ResetServiceSpecificCredential", {}),
        ("UpdateServiceSpecificCredential", {"Status": "Inactive"}),
        ("DeleteServiceSpecificCredential", {}),
    ]:
        with pytest.raises(NoSuchEntity):
            iam(action, UserName="b", ServiceSpecificCredentialId=cid, **extra)


def test_caller_defaults_and_all_users(iam):
    iam("CreateUser", UserName="self")
    iam("CreateUser", UserName="other")
    _create(iam, "other")
    me = iam.as_(user_principal("self"))
    cid = _create(iam, "self")["ServiceSpecificCredentialId"]
    assert [
        c["ServiceSpecificCredentialId"]
        for c in me("ListServiceSpecificCredentials")["ServiceSpecificCredentials"]
    ] == [cid]
    reset = me("ResetServiceSpecificCredential", ServiceSpecificCredentialId=cid)
    assert reset["ServiceSpecificCredential"]["UserName"] == "self"
    everyone = iam("ListServiceSpecificCredentials", AllUsers=True)["ServiceSpecificCredentials"]
    assert sorted(c["UserName"] for c in everyone) == ["other", "self"]
    with pytest.raises(InvalidInput):
        iam("ListServiceSpecificCredentials", AllUsers=True, UserName="self")
    assert iam.as_(ROOT)("ListServiceSpecificCredentials") == {
        "ServiceSpecificCredentials": [],
        "IsTruncated": False,
    }
    with pytest.raises(ValidationError):
        iam.as_(role_session())("ListServiceSpecificCredentials")


def test_denied(iam):
    iam("CreateUser", UserName="u")
    iam.auth.deny.add("iam:CreateServiceSpecificCredential")
    with pytest.raises(AccessDenied):
        _create(iam)
    assert iam("ListServiceSpecificCredentials", UserName="u")["ServiceSpecificCredentials"] == []


def test_delete_user_conflict(iam):
    iam("CreateUser", UserName="u")
    cid = _create(iam)["ServiceSpecificCredentialId"]
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteUser", UserName="u")
    assert e.value.message == "Cannot delete entity, must remove referenced objects first."
    iam("DeleteServiceSpecificCredential", UserName="u", ServiceSpecificCredentialId=cid)
    iam("DeleteUser", UserName="u")


def test_expiration_from_credential_age_days(iam):
    from datetime import timedelta

    iam("CreateUser", UserName="u")
    cred = _create(iam, CredentialAgeDays=30)
    assert cred["ExpirationDate"] - cred["CreateDate"] == timedelta(days=30)
