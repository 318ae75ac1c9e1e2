"""Signing certificates, SSH public keys, server certificates and
service-specific credentials against a real ``rolegate serve``, with boto3
and the ``aws`` CLI; secrets (private keys, service passwords) never reach
the audit trail, the server log or a response they do not belong in."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server
from tests.iam.credential_material import cert_pem, ec_key, key_pem, rsa_key, ssh_public

ACCOUNT = "123456789012"


def code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def status(exc: ClientError) -> int:
    return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])


def _audit_dump(server: Server) -> str:
    time.sleep(0.5)  # the audit writer commits in batches
    return server.cli("audit", "query", *server.store_args(), "--json").stdout


def test_signing_certificates(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="signer")
    body = cert_pem(rsa_key("e2e-sign"))
    cert = iam.upload_signing_certificate(UserName="signer", CertificateBody=body)["Certificate"]
    assert cert["Status"] == "Active" and cert["UserName"] == "signer"
    cid = cert["CertificateId"]

    listed = json.loads(
        server.aws("iam", "list-signing-certificates", "--user-name", "signer").stdout
    )["Certificates"]
    assert [(c["CertificateId"], c["Status"]) for c in listed] == [(cid, "Active")]
    server.aws(
        "iam",
        "update-signing-certificate",
        "--user-name",
        "signer",
        "--certificate-id",
        cid,
        "--status",
        "Inactive",
    )
    assert iam.list_signing_certificates(UserName="signer")["Certificates"][0]["Status"] == (
        "Inactive"
    )
    with pytest.raises(iam.exceptions.DuplicateCertificateException):
        iam.upload_signing_certificate(UserName="signer", CertificateBody=body)
    with pytest.raises(iam.exceptions.MalformedCertificateException) as e:
        iam.upload_signing_certificate(UserName="signer", CertificateBody="not-a-cert")
    assert status(e.value) == 400

    # DeleteUser refuses while the certificate remains (boto3 and the CLI).
    with pytest.raises(iam.exceptions.DeleteConflictException) as e:
        iam.delete_user(UserName="signer")
    assert e.value.response["Error"]["Message"] == (
        "Cannot delete entity, must delete signing certificates first."
    )
    r = server.aws("iam", "delete-user", "--user-name", "signer", check=False)
    assert r.returncode != 0 and "DeleteConflict" in r.stderr
    iam.delete_signing_certificate(UserName="signer", CertificateId=cid)
    iam.delete_user(UserName="signer")

    # The credential report's certificate columns.
    iam.create_user(UserName="reported")
    iam.upload_signing_certificate(UserName="reported", CertificateBody=cert_pem(ec_key("rep")))
    while iam.generate_credential_report()["State"] != "COMPLETE":
        time.sleep(0.1)
    report = iam.get_credential_report()["Content"].decode()
    header, *rows = report.splitlines()
    cols = header.split(",")
    row = dict(
        zip(cols, next(r for r in rows if r.startswith("reported,")).split(","), strict=True)
    )
    assert row["cert_1_active"] == "true" and row["cert_2_active"] == "false"


def test_ssh_public_keys(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="gitter")
    body = ssh_public(rsa_key("e2e-ssh"), "gitter@laptop")
    key = iam.upload_ssh_public_key(UserName="gitter", SSHPublicKeyBody=body)["SSHPublicKey"]
    kid = key["SSHPublicKeyId"]
    assert kid.startswith("APKA") and key["SSHPublicKeyBody"] == body
    assert len(key["Fingerprint"].split(":")) == 16

    pem = json.loads(
        server.aws(
            "iam",
            "get-ssh-public-key",
            "--user-name",
            "gitter",
            "--ssh-public-key-id",
            kid,
            "--encoding",
            "PEM",
        ).stdout
    )["SSHPublicKey"]
    assert pem["SSHPublicKeyBody"].startswith("-----BEGIN PUBLIC KEY-----")
    listed = json.loads(server.aws("iam", "list-ssh-public-keys", "--user-name", "gitter").stdout)
    assert [k["SSHPublicKeyId"] for k in listed["SSHPublicKeys"]] == [kid]

    with pytest.raises(iam.exceptions.DuplicateSSHPublicKeyException):
        iam.upload_ssh_public_key(UserName="gitter", SSHPublicKeyBody=body)
    with pytest.raises(iam.exceptions.InvalidPublicKeyException):
        iam.upload_ssh_public_key(
            UserName="gitter", SSHPublicKeyBody=ssh_public(rsa_key("e2e-short", 1024))
        )
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.get_ssh_public_key(UserName="gitter", SSHPublicKeyId="APKA" + "X" * 17, Encoding="SSH")
    assert e.value.response["Error"]["Message"] == (
        f"The Public Key with id APKA{'X' * 17} cannot be found."
    )
    iam.update_ssh_public_key(UserName="gitter", SSHPublicKeyId=kid, Status="Inactive")
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName="gitter")
    server.aws("iam", "delete-ssh-public-key", "--user-name", "gitter", "--ssh-public-key-id", kid)
    iam.delete_user(UserName="gitter")


def test_server_certificates(server: Server, tmp_path: Path) -> None:
    iam = server.client("iam")
    key = rsa_key("e2e-server")
    private = key_pem(key)
    (tmp_path / "cert.pem").write_text(cert_pem(key, "www.example.test"))
    (tmp_path / "key.pem").write_text(private)
    up = json.loads(
        server.aws(
            "iam",
            "upload-server-certificate",
            "--server-certificate-name",
            "www",
            "--path",
            "/cloudfront/",
            "--certificate-body",
            f"file://{tmp_path / 'cert.pem'}",
            "--private-key",
            f"file://{tmp_path / 'key.pem'}",
            "--tags",
            "Key=env,Value=prod",
        ).stdout
    )
    meta = up["ServerCertificateMetadata"]
    assert meta["Arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/cloudfront/www"
    assert meta["ServerCertificateId"].startswith("ASCA")

    got = iam.get_server_certificate(ServerCertificateName="www")["ServerCertificate"]
    assert got["ServerCertificateMetadata"]["Expiration"].year >= 2026
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert "PRIVATE KEY" not in json.dumps(got, default=str)
    listed = iam.list_server_certificates(PathPrefix="/cloudfront/")
    assert [m["ServerCertificateName"] for m in listed["ServerCertificateMetadataList"]] == ["www"]

    with pytest.raises(iam.exceptions.KeyPairMismatchException):
        iam.upload_server_certificate(
            ServerCertificateName="mismatch",
            CertificateBody=cert_pem(key),
            PrivateKey=key_pem(rsa_key("e2e-other")),
        )
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.upload_server_certificate(
            ServerCertificateName="WWW", CertificateBody=cert_pem(key), PrivateKey=private
        )
    iam.update_server_certificate(ServerCertificateName="www", NewServerCertificateName="www2")
    iam.tag_server_certificate(ServerCertificateName="www2", Tags=[{"Key": "t", "Value": "1"}])
    tags = iam.list_server_certificate_tags(ServerCertificateName="www2")["Tags"]
    assert {t["Key"] for t in tags} == {"env", "t"}
    iam.untag_server_certificate(ServerCertificateName="www2", TagKeys=["t"])
    iam.delete_server_certificate(ServerCertificateName="www2")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.get_server_certificate(ServerCertificateName="www2")
    assert e.value.response["Error"]["Message"] == (
        "The Server Certificate with name www2 cannot be found."
    )

    # The private key never reaches the audit trail or the server log.
    marker = private.splitlines()[1]
    dump = _audit_dump(server)
    assert "UploadServerCertificate" in dump
    assert marker not in dump and "privateKey" not in dump
    assert marker not in server.server_log()


def test_service_specific_credentials(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="coder")
    cred = json.loads(
        server.aws(
            "iam",
            "create-service-specific-credential",
            "--user-name",
            "coder",
            "--service-name",
            "codecommit.amazonaws.com",
        ).stdout
    )["ServiceSpecificCredential"]
    password = cred["ServicePassword"]
    cid = cred["ServiceSpecificCredentialId"]
    assert cred["ServiceUserName"] == f"coder-at-{ACCOUNT}" and len(password) == 44

    listed = iam.list_service_specific_credentials(UserName="coder")["ServiceSpecificCredentials"]
    assert [c["ServiceSpecificCredentialId"] for c in listed] == [cid]
    assert "ServicePassword" not in listed[0]
    reset = iam.reset_service_specific_credential(UserName="coder", ServiceSpecificCredentialId=cid)
    new_password = reset["ServiceSpecificCredential"]["ServicePassword"]
    assert new_password != password
    iam.update_service_specific_credential(
        UserName="coder", ServiceSpecificCredentialId=cid, Status="Inactive"
    )
    with pytest.raises(iam.exceptions.ServiceNotSupportedException) as e:
        iam.create_service_specific_credential(UserName="coder", ServiceName="s3.amazonaws.com")
    assert status(e.value) == 404
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName="coder")
    iam.delete_service_specific_credential(UserName="coder", ServiceSpecificCredentialId=cid)
    iam.delete_user(UserName="coder")

    dump = _audit_dump(server)
    assert "CreateServiceSpecificCredential" in dump
    assert password not in dump and new_password not in dump
    assert password not in server.server_log() and new_password not in server.server_log()


def test_denied_without_permission(server: Server) -> None:
    """A user with no policies gets AccessDenied for each family, even on itself."""
    iam = server.client("iam")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    creds = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    time.sleep(0.2)
    me = server.client("iam", creds=creds)
    calls = [
        lambda: me.upload_signing_certificate(CertificateBody=cert_pem(ec_key("denied"))),
        lambda: me.upload_ssh_public_key(
            UserName="nobody", SSHPublicKeyBody=ssh_public(rsa_key("e2e-ssh"))
        ),
        lambda: me.list_server_certificates(),
        lambda: me.create_service_specific_credential(
            UserName="nobody", ServiceName="codecommit.amazonaws.com"
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert code(e.value) == "AccessDenied" and status(e.value) == 403
    r = server.aws("iam", "list-ssh-public-keys", creds=creds, check=False)
    assert r.returncode != 0 and "AccessDenied" in r.stderr
    assert iam.list_signing_certificates(UserName="nobody")["Certificates"] == []
