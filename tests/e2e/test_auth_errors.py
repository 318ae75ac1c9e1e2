"""Authentication failures, as a real client sees them: AWS errors, never a 500."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server


def code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def test_wrong_secret(server: Server) -> None:
    c = server.client(
        "iam",
        creds={
            "aws_access_key_id": server.admin["access_key_id"],
            "aws_secret_access_key": "x" * 40,
        },
    )
    with pytest.raises(ClientError) as e:
        c.list_users()
    assert code(e.value) == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_key(server: Server) -> None:
    c = server.client(
        "sts",
        creds={"aws_access_key_id": "AKIAAAAAAAAAAAAAAAAA", "aws_secret_access_key": "x" * 40},
    )
    with pytest.raises(ClientError) as e:
        c.get_caller_identity()
    assert code(e.value) == "InvalidClientTokenId"


def test_stale_date(server: Server) -> None:
    c = server.client("iam")
    stale = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    with (
        mock.patch("botocore.auth.get_current_datetime", return_value=stale),
        pytest.raises(ClientError) as e,
    ):
        c.list_users()
    assert code(e.value) == "SignatureDoesNotMatch"
    assert "Signature expired" in e.value.response["Error"]["Message"]


def test_missing_signature(server: Server) -> None:
    r = httpx.post(server.endpoint + "/", data={"Action": "ListUsers", "Version": "2010-05-08"})
    assert r.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in r.text


@pytest.mark.parametrize(
    "body",
    [
        b"Action=ListUsers&Version=2010-05-08&%zz=1",
        b"\xff\xfe\x00garbage",
        b"Action=%E0%A4%A&Version=1",
        b"=" * 5000,
        b"Action=&Version=",
    ],
)
def test_malformed_bodies_never_500(server: Server, body: bytes) -> None:
    r = httpx.post(
        server.endpoint + "/",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= r.status_code < 500, r.text
    assert "<ErrorResponse" in r.text


def test_unknown_action(server: Server) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(
        method="POST",
        url=server.endpoint + "/",
        data=b"Action=Frobnicate&Version=2010-05-08",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(
        Credentials(server.admin["access_key_id"], server.admin["secret_access_key"]),
        "iam",
        "us-east-1",
    ).add_auth(req)
    r = httpx.post(server.endpoint + "/", content=req.body, headers=dict(req.headers))
    assert r.status_code == 400 and "<Code>InvalidAction</Code>" in r.text


def test_healthz(server: Server) -> None:
    assert httpx.get(server.endpoint + "/healthz").status_code == 200
