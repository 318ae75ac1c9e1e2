"""UploadSigningCertificate, ListSigningCertificates, UpdateSigningCertificate,
DeleteSigningCertificate (handler level), DeleteUser's conflict and the
credential report's certificate columns."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from rolegate.errors import (
    AccessDenied,
    DeleteConflict,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from tests.iam.conftest import ACCOUNT, ROOT, role_session, user_principal
from tests.iam.credential_material import cert_pem, ec_key, rsa_key


def _upload(iam, user: str = "u", body: str | None = None) -> dict:
    return iam("UploadSigningCertificate", UserName=user, CertificateBody=body or cert_pem())[
        "Certificate"
    ]


def test_lifecycle(iam):
    iam("CreateUser", UserName="u")
    body = cert_pem()
    cert = _upload(iam, "U", body)
    assert cert["UserName"] == "u" and cert["Status"] == "Active"
    assert cert["CertificateBody"] == body
    assert len(cert["CertificateId"]) >= 24 and cert["CertificateId"].isalnum()
    assert iam.last.audit_response["certificate"]["certificateId"] == cert["CertificateId"]
    assert iam.auth.calls[-1][:2] == (
        "iam:UploadSigningCertificate",
        f"arn:aws:iam::{ACCOUNT}:user/u",
    )

    listed = iam("ListSigningCertificates", UserName="u")
    assert listed == {"Certificates": [cert], "IsTruncated": False}
    iam(
        "UpdateSigningCertificate",
        UserName="u",
        CertificateId=cert["CertificateId"],
        Status="Inactive",
    )
    assert iam("ListSigningCertificates", UserName="u")["Certificates"][0]["Status"] == "Inactive"
    iam("DeleteSigningCertificate", UserName="u", CertificateId=cert["CertificateId"])
    assert iam("ListSigningCertificates", UserName="u")["Certificates"] == []
    with pytest.raises(NoSuchEntity) as e:
        iam("DeleteSigningCertificate", UserName="u", CertificateId=cert["CertificateId"])
    assert e.value.message == f"The Certificate with id {cert['CertificateId']} cannot be found."


def test_missing_user(iam):
    for action, extra in [
        ("UploadSigningCertificate", {"CertificateBody": cert_pem()}),
        ("ListSigningCertificates", {}),
        ("UpdateSigningCertificate", {"CertificateId": "X" * 32, "Status": "Active"}),
        ("DeleteSigningCertificate", {"CertificateId": "X" * 32}),
    ]:
        with pytest.raises(NoSuchEntity) as e:
            iam(action, UserName="ghost", **extra)
        assert e.value.message == "The user with name ghost cannot be found."
        assert e.value.status == 404


def test_malformed_and_expired(iam):
    iam("CreateUser", UserName="u")
    with pytest.raises(Exception) as e:
        _upload(iam, body="invalid-certificate-body")
    assert (e.value.code, e.value.status) == ("MalformedCertificate", 400)
    assert e.value.message == "Certificate invalid-certificate-body is malformed."
    old = datetime.now(UTC) - timedelta(days=800)
    expired = cert_pem(rsa_key("old"), not_before=old, not_after=old + timedelta(days=1))
    with pytest.raises(Exception) as e:
        _upload(iam, body=expired)
    assert e.value.code == "MalformedCertificate"
    assert iam("ListSigningCertificates", UserName="u")["Certificates"] == []


def test_duplicate_across_the_account_and_quota(iam):
    iam("CreateUser", UserName="a")
    iam("CreateUser", UserName="b")
    body = cert_pem(rsa_key("dup"))
    _upload(iam, "a", body)
    with pytest.raises(Exception) as e:
        _upload(iam, "b", body)
    assert (e.value.code, e.value.status) == ("DuplicateCertificate", 409)
    _upload(iam, "a", cert_pem(ec_key("second")))
    with pytest.raises(LimitExceeded) as e:
        _upload(iam, "a", cert_pem(rsa_key("third")))
    assert e.value.message == "Cannot exceed quota for CertificatesPerUser: 2"


def test_certificate_of_another_user_is_not_found(iam):
    iam("CreateUser", UserName="a")
    iam("CreateUser", UserName="b")
    cid = _upload(iam, "a")["CertificateId"]
    with pytest.raises(NoSuchEntity):
        iam("UpdateSigningCertificate", UserName="b", CertificateId=cid, Status="Inactive")
    with pytest.raises(NoSuchEntity):
        iam("DeleteSigningCertificate", UserName="b", CertificateId=cid)
    assert iam("ListSigningCertificates", UserName="b")["Certificates"] == []


def test_status_must_be_settable(iam):
    iam("CreateUser", UserName="u")
    cid = _upload(iam)["CertificateId"]
    with pytest.raises(InvalidInput):
        iam("UpdateSigningCertificate", UserName="u", CertificateId=cid, Status="Expired")


def test_caller_defaults(iam):
    iam("CreateUser", UserName="self")
    me = iam.as_(user_principal("self"))
    cert = me("UploadSigningCertificate", CertificateBody=cert_pem())["Certificate"]
    assert cert["UserName"] == "self"
    assert (
        me("ListSigningCertificates")["Certificates"][0]["CertificateId"] == cert["CertificateId"]
    )
    me("UpdateSigningCertificate", CertificateId=cert["CertificateId"], Status="Inactive")
    me("DeleteSigningCertificate", CertificateId=cert["CertificateId"])
    # Root: no IAM-user certificates; a role session must name the user.
    assert iam.as_(ROOT)("ListSigningCertificates") == {"Certificates": [], "IsTruncated": False}
    with pytest.raises(ValidationError):
        iam.as_(role_session())("UploadSigningCertificate", CertificateBody=cert_pem())


def test_denied_before_existence_is_revealed(iam):
    iam.auth.deny.add("iam:UploadSigningCertificate")
    with pytest.raises(AccessDenied):
        iam("UploadSigningCertificate", UserName="ghost", CertificateBody="junk")


def test_rename_keeps_certificates_and_delete_user_conflicts(iam):
    iam("CreateUser", UserName="old")
    cid = _upload(iam, "old")["CertificateId"]
    iam("UpdateUser", UserName="old", NewUserName="new")
    listed = iam("ListSigningCertificates", UserName="new")["Certificates"]
    assert [(c["UserName"], c["CertificateId"]) for c in listed] == [("new", cid)]
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteUser", UserName="new")
    assert e.value.message == "Cannot delete entity, must delete signing certificates first."
    iam("DeleteSigningCertificate", UserName="new", CertificateId=cid)
    iam("DeleteUser", UserName="new")
    # A user re-created under the old name starts with no certificates.
    iam("CreateUser", UserName="new")
    assert iam("ListSigningCertificates", UserName="new")["Certificates"] == []


def test_paging(iam):
    iam("CreateUser", UserName="u")
    ids = sorted(
        [_upload(iam)["CertificateId"], _upload(iam, body=cert_pem(ec_key("p")))["CertificateId"]]
    )
    first = iam("ListSigningCertificates", UserName="u", MaxItems=1)
    assert first["IsTruncated"] and [c["CertificateId"] for c in first["Certificates"]] == ids[:1]
    second = iam("ListSigningCertificates", UserName="u", Marker=first["Marker"])
    assert [c["CertificateId"] for c in second["Certificates"]] == ids[1:]


def test_credential_report_certificate_columns(iam):
    iam("CreateUser", UserName="c")
    iam("CreateUser", UserName="none")
    first = _upload(iam, "c")
    second = _upload(iam, "c", cert_pem(ec_key("report")))
    iam(
        "UpdateSigningCertificate",
        UserName="c",
        CertificateId=second["CertificateId"],
        Status="Inactive",
    )
    iam("GenerateCredentialReport")
    content = iam("GetCredentialReport")["Content"].decode()
    rows = {r["user"]: r for r in csv.DictReader(io.StringIO(content))}
    c = rows["c"]
    assert c["cert_1_active"] == "true"
    assert c["cert_1_last_rotated"] == first["UploadDate"].isoformat()
    assert c["cert_2_active"] == "false"
    assert c["cert_2_last_rotated"] == second["UploadDate"].isoformat()
    n = rows["none"]
    assert (n["cert_1_active"], n["cert_1_last_rotated"]) == ("false", "N/A")
    assert (n["cert_2_active"], n["cert_2_last_rotated"]) == ("false", "N/A")
