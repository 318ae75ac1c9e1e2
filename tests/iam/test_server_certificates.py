"""UploadServerCertificate, GetServerCertificate, ListServerCertificates,
UpdateServerCertificate, DeleteServerCertificate and the server-certificate
tag actions (handler level). The private key must never be kept or shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rolegate.errors import AccessDenied, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from tests.iam.conftest import ACCOUNT, all_pages
from tests.iam.credential_material import (
    cert_pem,
    certificate,
    ec_key,
    key_pem,
    rsa_key,
)


def _upload(iam, name: str = "web", key=None, **params) -> dict:
    key = key or rsa_key("server")
    return iam(
        "UploadServerCertificate",
        ServerCertificateName=name,
        CertificateBody=params.pop("CertificateBody", None) or cert_pem(key),
        PrivateKey=params.pop("PrivateKey", None) or key_pem(key),
        **params,
    )


def _call_directly(iam, action: str, params: dict) -> dict:
    # As the server calls a handler: with the very dict the audit record is
    # later built from (the Iam helper passes a copy).
    from rolegate.iam import HANDLERS

    ctx = iam.context(action)
    iam.last = ctx
    return HANDLERS[action](ctx, params) or {}


def _all_stored_text(store) -> str:
    rows = []
    with store.engine.connect() as conn:
        from sqlalchemy import text

        for table in ("entities", "events"):
            rows.extend(str(r) for r in conn.execute(text(f"SELECT * FROM {table}")))
    return "\n".join(rows)


def test_lifecycle(iam, store):
    key = rsa_key("server")
    body = cert_pem(key)
    params = {
        "ServerCertificateName": "web",
        "Path": "/cdn/",
        "CertificateBody": body,
        "PrivateKey": key_pem(key),
    }
    out = _call_directly(iam, "UploadServerCertificate", params)
    meta = out["ServerCertificateMetadata"]
    assert meta["Arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/cdn/web"
    assert meta["Path"] == "/cdn/" and meta["ServerCertificateName"] == "web"
    assert meta["ServerCertificateId"].startswith("ASCA") and len(meta["ServerCertificateId"]) == 21
    expected_expiry = certificate(key).not_valid_after_utc
    assert abs(meta["Expiration"] - expected_expiry) < timedelta(seconds=5)
    assert "Tags" not in out
    assert iam.auth.calls[-1][:2] == ("iam:UploadServerCertificate", meta["Arn"])
    # The private key left the request parameters (the audit record's source).
    assert "PrivateKey" not in params

    got = iam("GetServerCertificate", ServerCertificateName="WEB")["ServerCertificate"]
    assert got == {"ServerCertificateMetadata": meta, "CertificateBody": body, "Tags": []}
    listed = iam("ListServerCertificates")
    assert listed == {"ServerCertificateMetadataList": [meta], "IsTruncated": False}
    assert iam("ListServerCertificates", PathPrefix="/cdn")["ServerCertificateMetadataList"]
    assert (
        iam("ListServerCertificates", PathPrefix="/other/")["ServerCertificateMetadataList"] == []
    )

    iam("DeleteServerCertificate", ServerCertificateName="web")
    with pytest.raises(NoSuchEntity) as e:
        iam("GetServerCertificate", ServerCertificateName="web")
    assert e.value.message == "The Server Certificate with name web cannot be found."


def test_private_key_is_never_stored_or_returned(iam, store):
    key = rsa_key("secret")
    private = key_pem(key)
    marker = private.splitlines()[1]  # a line of the key's base64
    out = iam(
        "UploadServerCertificate",
        ServerCertificateName="s",
        CertificateBody=cert_pem(key),
        PrivateKey=private,
    )
    got = iam("GetServerCertificate", ServerCertificateName="s")
    assert marker not in repr(out) and marker not in repr(got)
    assert marker not in repr(iam.last.audit_response)
    assert marker not in _all_stored_text(store)


def test_chain_is_returned(iam):
    ca = ec_key("ca")
    leaf = rsa_key("leaf")
    body = cert_pem(leaf, "leaf", issuer_key=ca, issuer_cn="ca")
    chain = cert_pem(ca, "ca")
    _upload(iam, key=leaf, CertificateBody=body, CertificateChain=chain)
    got = iam("GetServerCertificate", ServerCertificateName="web")["ServerCertificate"]
    assert got["CertificateChain"] == chain


def test_errors(iam):
    _upload(iam)
    with pytest.raises(EntityAlreadyExists) as e:
        _upload(iam, "WEB")
    assert e.value.message == "The Server Certificate with name WEB already exists."
    with pytest.raises(Exception) as e:
        _upload(iam, "bad", CertificateBody="not a certificate")
    assert (e.value.code, e.value.status) == ("MalformedCertificate", 400)
    with pytest.raises(Exception) as e:
        _upload(iam, "badchain", CertificateChain="garbage")
    assert e.value.code == "MalformedCertificate"
    with pytest.raises(Exception) as e:
        _upload(
            iam,
            "mismatch",
            CertificateBody=cert_pem(rsa_key("server")),
            PrivateKey=key_pem(rsa_key("other")),
        )
    assert (e.value.code, e.value.status) == ("KeyPairMismatch", 400)
    old = datetime.now(UTC) - timedelta(days=800)
    with pytest.raises(Exception) as e:
        _upload(
            iam,
            "expired",
            CertificateBody=cert_pem(
                rsa_key("server"), not_before=old, not_after=old + timedelta(days=1)
            ),
        )
    assert e.value.code == "MalformedCertificate"
    names = [
        m["ServerCertificateName"]
        for m in iam("ListServerCertificates")["ServerCertificateMetadataList"]
    ]
    assert names == ["web"]


@pytest.mark.parametrize("bad_key", ["garbage", "encrypted"])
def test_bad_private_key_does_not_echo_it(iam, bad_key):
    key = rsa_key("server")
    private = (
        key_pem(key, password=b"pw")
        if bad_key == "encrypted"
        else "-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----"
    )
    with pytest.raises(Exception) as e:
        _upload(iam, PrivateKey=private)
    assert e.value.code == "MalformedCertificate"
    assert "QUJD" not in e.value.message and private.splitlines()[1] not in e.value.message


def test_ec_certificate(iam):
    key = ec_key("server-ec")
    meta = _upload(iam, "ec", key=key)["ServerCertificateMetadata"]
    assert meta["ServerCertificateName"] == "ec"


def test_rename_and_move(iam):
    _upload(iam, "a")
    _upload(iam, "b", key=rsa_key("b"))
    iam(
        "UpdateServerCertificate",
        ServerCertificateName="a",
        NewServerCertificateName="c",
        NewPath="/x/",
    )
    assert iam.auth.calls[-2][1] == f"arn:aws:iam::{ACCOUNT}:server-certificate/a"
    assert iam.auth.calls[-1][1] == f"arn:aws:iam::{ACCOUNT}:server-certificate/x/c"
    meta = iam("GetServerCertificate", ServerCertificateName="c")["ServerCertificate"][
        "ServerCertificateMetadata"
    ]
    assert meta["Arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/x/c"
    with pytest.raises(NoSuchEntity):
        iam("GetServerCertificate", ServerCertificateName="a")
    with pytest.raises(EntityAlreadyExists):
        iam("UpdateServerCertificate", ServerCertificateName="c", NewServerCertificateName="B")
    with pytest.raises(NoSuchEntity):
        iam("UpdateServerCertificate", ServerCertificateName="ghost", NewPath="/y/")


def test_tags(iam):
    out = _upload(iam, Tags=[{"Key": "env", "Value": "prod"}])
    assert out["Tags"] == [{"Key": "env", "Value": "prod"}]
    iam("TagServerCertificate", ServerCertificateName="web", Tags=[{"Key": "team", "Value": "a"}])
    tags = iam("ListServerCertificateTags", ServerCertificateName="web")
    assert tags == {
        "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a"}],
        "IsTruncated": False,
    }
    iam("UntagServerCertificate", ServerCertificateName="web", TagKeys=["env"])
    got = iam("GetServerCertificate", ServerCertificateName="web")["ServerCertificate"]
    assert got["Tags"] == [{"Key": "team", "Value": "a"}]
    with pytest.raises(NoSuchEntity) as e:
        iam(
            "TagServerCertificate", ServerCertificateName="ghost", Tags=[{"Key": "k", "Value": "v"}]
        )
    assert e.value.message == "The Server Certificate with name ghost cannot be found."


def test_paging_and_quota(iam):
    for i in range(20):
        _upload(iam, f"c{i:02d}")
    names = [
        m["ServerCertificateName"]
        for m in all_pages(
            iam, "ListServerCertificates", "ServerCertificateMetadataList", MaxItems=7
        )
    ]
    assert names == [f"c{i:02d}" for i in range(20)]
    with pytest.raises(LimitExceeded):
        _upload(iam, "one-too-many")


def test_denied_before_parsing(iam):
    iam.auth.deny.add("iam:UploadServerCertificate")
    params = {"ServerCertificateName": "x", "CertificateBody": "junk", "PrivateKey": "junk"}
    with pytest.raises(AccessDenied):
        _call_directly(iam, "UploadServerCertificate", params)
    # Even a denied call drops the key from what the audit record sees.
    assert "PrivateKey" not in params


def test_account_summary_counts_server_certificates(iam):
    assert iam("GetAccountSummary")["SummaryMap"]["ServerCertificates"] == 0
    _upload(iam, "one")
    _upload(iam, "two")
    assert iam("GetAccountSummary")["SummaryMap"]["ServerCertificates"] == 2
