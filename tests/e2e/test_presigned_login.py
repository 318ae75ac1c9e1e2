"""boto3's default presigned GetCallerIdentity URL, fetched with a plain GET
(urllib, no extra headers), as Vault's and Kubernetes' authenticators do."""

from __future__ import annotations

import urllib.error
import urllib.request

import boto3
import pytest

from tests.e2e.server import Server
from tests.trust import role_session


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.mark.parametrize("region", ["us-east-1", "ap-northeast-1"])
def test_default_presigned_url_with_urllib(server: Server, region: str) -> None:
    sts = boto3.client("sts", endpoint_url=server.endpoint, region_name=region, **server.creds())
    url = sts.generate_presigned_url("get_caller_identity")
    assert f"%2F{region}%2Fsts%2F" in url
    status, text = fetch(url)
    assert status == 200, text
    assert "<Arn>arn:aws:iam::123456789012:user/admin</Arn>" in text
    status, text = fetch(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))
    assert status == 403 and "SignatureDoesNotMatch" in text


def test_default_presigned_url_with_session_token(server: Server) -> None:
    c = role_session(server, "k8s-login", "node")
    url = server.client("sts", creds=c).generate_presigned_url("get_caller_identity")
    assert "X-Amz-Security-Token=" in url
    status, text = fetch(url)
    assert status == 200, text
    assert "assumed-role/k8s-login/node" in text
