"""The login pattern of Vault's and Kubernetes' AWS IAM authenticators: a
presigned GetCallerIdentity URL fetched with a plain GET, or a signed POST
forwarded as-is with an extra signed server-id header."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from rolegate import sigv4
from rolegate.errors import SignatureDoesNotMatch
from tests.inprocess import ENDPOINT, InProcess
from tests.signing import signed_headers
from tests.trust import role_session

ADMIN_ARN = "<Arn>arn:aws:iam::123456789012:user/admin</Arn>"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_default_presigned_url_fetched_with_get(rg: InProcess, region: str) -> None:
    # boto3 signs the URL for the operation's model method (POST); a plain
    # GET of it is how every authenticator fetches it.
    url = rg.client("sts", region_name=region).generate_presigned_url("get_caller_identity")
    assert f"%2F{region}%2Fsts%2F" in url
    r = rg.request("GET", url)
    assert r.status == 200, r.text
    assert ADMIN_ARN in r.text
    # Still bound to what was signed: another query, path or host fails.
    for bad in (
        url.replace("Version=2011-06-15", "Version=2011-06-15&UserName=x"),
        url.replace(ENDPOINT + "/", ENDPOINT + "/other"),
    ):
        assert rg.request("GET", bad).status == 403
    assert rg.request("GET", url, {"host": "elsewhere:8080"}).status == 403
    # A POST-signed URL is not a licence for a body.
    r = rg.request(
        "POST", url, {"Content-Type": "application/x-www-form-urlencoded"}, b"Action=CreateUser"
    )
    assert r.status == 403 and "SignatureDoesNotMatch" in r.text


def test_default_presigned_url_with_session_credentials(rg: InProcess) -> None:
    c = role_session(rg, "login", "vault")
    url = rg.client("sts", creds=c, region_name="us-west-2").generate_presigned_url(
        "get_caller_identity"
    )
    assert "X-Amz-Security-Token=" in url
    r = rg.request("GET", url)
    assert r.status == 200, r.text
    assert "assumed-role/login/vault" in r.text


def test_get_presigned_url_still_works(rg: InProcess) -> None:
    url = rg.client("sts").generate_presigned_url(
        "get_caller_identity", Params={}, HttpMethod="GET"
    )
    assert rg.request("GET", url).status == 200


@pytest.mark.parametrize("temporary", [False, True])
def test_vault_style_forwarded_post(rg: InProcess, temporary: bool) -> None:
    c = role_session(rg, "login", "vault") if temporary else None
    creds = (
        Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        if c
        else Credentials(rg.admin["access_key_id"], rg.admin["secret_access_key"])
    )
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    signed = signed_headers(
        creds,
        "sts",
        "eu-central-1",
        ENDPOINT + "/",
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Content-Length": str(len(body)),
            "X-Vault-AWS-IAM-Server-ID": "vault.example.com",
        },
    )
    assert "x-vault-aws-iam-server-id" in signed["Authorization"]
    # Forwarded as-is, plus what an HTTP client adds unsigned.
    headers = list(signed.items())
    headers += [("User-Agent", "Go-http-client/1.1"), ("Accept-Encoding", "gzip")]
    r = rg.request("POST", ENDPOINT + "/", headers, body)
    assert r.status == 200, r.text
    # The server id is bound by the signature.
    swapped = [
        (k, "evil.example.com" if k.lower() == "x-vault-aws-iam-server-id" else v)
        for k, v in headers
    ]
    assert rg.request("POST", ENDPOINT + "/", swapped, body).status == 403


def test_sigv4_accepts_a_post_signature_only_for_a_bodiless_presigned_get() -> None:
    now = datetime.now(UTC)
    creds = Credentials("AKIAEXAMPLEEXAMPLE12", "secret")

    def presign(method: str) -> str:
        req = AWSRequest(method=method, url="http://h:1/", params={"Action": "GetCallerIdentity"})
        SigV4QueryAuth(creds, "sts", "eu-west-1", expires=60).add_auth(req)
        return urlsplit(req.url).query

    def check(method: str, query: str, body: bytes = b"", **kw: object) -> None:
        req = sigv4.HttpRequest(method, "/", query, [("host", "h:1")], body)
        auth = sigv4.parse_auth(req)
        assert auth is not None
        sigv4.verify(req, auth, "secret", now, service="sts", **kw)  # type: ignore[arg-type]

    post_signed = presign("POST")
    check("GET", post_signed)
    check("GET", post_signed, key_cache=sigv4.SigningKeyCache())
    check("POST", post_signed)
    check("GET", presign("GET"))
    with pytest.raises(SignatureDoesNotMatch):
        check("GET", post_signed, b"Action=CreateUser")
    with pytest.raises(SignatureDoesNotMatch):
        check("POST", presign("GET"))
    with pytest.raises(SignatureDoesNotMatch):
        check("PUT", post_signed)
