"""AssumeRoleWithWebIdentity against an HTTPS identity provider whose
certificate no public CA signed: a real ``rolegate serve`` without the dev
flag, the provider registered with the AWS CLI and the thumbprint the IAM
guide has users compute (SHA-1 of the last certificate the server shows).

IAM takes provider URLs without a port, so the issuers listen on port 443 of
a random loopback address (127.0.0.0/8 is all loopback on Linux); that needs
root or CAP_NET_BIND_SERVICE, which CI has."""

from __future__ import annotations

import hashlib
import json
import random
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.server import Server, running_server
from tests.e2e.test_federation import trust
from tests.federation import tls_certs
from tests.federation.oidc_issuer import OidcIssuer

ACCT = "123456789012"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("rolegate-oidc-tls")) as s:
        yield s


def https_issuer(directory: Path, name: str) -> OidcIssuer:
    """A self-signed HTTPS issuer on port 443 of a free loopback address."""
    for _ in range(20):
        ip = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
        issuer = OidcIssuer(host=ip, port=443, tls=tls_certs.self_signed(directory, name, ip=ip))
        try:
            return issuer.start()
        except PermissionError:
            pytest.skip("binding port 443 needs root or CAP_NET_BIND_SERVICE")
        except OSError:
            continue  # that address's 443 is taken; try another
    raise RuntimeError("no free loopback address with port 443")


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcIssuer]:
    issuer = https_issuer(tmp_path_factory.mktemp("idp-tls"), "idp")
    try:
        yield issuer
    finally:
        issuer.stop()


def shown_thumbprint(issuer: OidcIssuer) -> str:
    """What `openssl s_client -showcerts` + `openssl x509 -fingerprint -sha1`
    give a user for a server presenting one self-signed certificate."""
    pem = ssl.get_server_certificate((issuer.host, issuer.port))
    return hashlib.sha1(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()


def register(srv: Server, issuer: OidcIssuer, thumbprint: str | None, role: str) -> str:
    pins = ["--thumbprint-list", thumbprint] if thumbprint else []
    out = srv.aws(
        "iam",
        "create-open-id-connect-provider",
        "--url",
        issuer.url,
        "--client-id-list",
        issuer.client_id,
        *pins,
    )
    arn = json.loads(out.stdout)["OpenIDConnectProviderArn"]
    condition = {"StringEquals": {f"{issuer.provider_url}:aud": issuer.client_id}}
    srv.client("iam").create_role(
        RoleName=role,
        AssumeRolePolicyDocument=trust(arn, ["sts:AssumeRoleWithWebIdentity"], condition),
    )
    return arn


def web(srv: Server, issuer: OidcIssuer, role: str) -> dict[str, Any]:
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=srv.endpoint,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    return sts.assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{ACCT}:role/{role}",
        RoleSessionName="tls-run",
        WebIdentityToken=issuer.mint({"sub": "deployer"}),
    )


def test_a_self_signed_idp_is_trusted_through_its_thumbprint(srv: Server, idp: OidcIssuer) -> None:
    assert idp.url.startswith("https://")
    register(srv, idp, shown_thumbprint(idp), "tls-ok")
    creds = web(srv, idp, "tls-ok")["Credentials"]
    import boto3

    who = boto3.client(
        "sts",
        endpoint_url=srv.endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    ).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/tls-ok/tls-run"


def test_a_wrong_thumbprint_is_invalid_identity_token_until_it_is_corrected(
    srv: Server, tmp_path: Path
) -> None:
    other = https_issuer(tmp_path, "other")
    try:
        arn = register(srv, other, "9" * 40, "tls-wrong")
        with pytest.raises(ClientError) as info:
            web(srv, other, "tls-wrong")
        err = info.value.response["Error"]
        assert err["Code"] == "InvalidIdentityToken"
        assert err["Message"] == (
            "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
        )
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        srv.aws(
            "iam",
            "update-open-id-connect-provider-thumbprint",
            "--open-id-connect-provider-arn",
            arn,
            "--thumbprint-list",
            shown_thumbprint(other),
        )
        assert web(srv, other, "tls-wrong")["AssumedRoleUser"]["Arn"].endswith("/tls-run")
    finally:
        other.stop()


def test_left_out_the_thumbprint_is_retrieved_from_the_idp_as_iam_does(
    srv: Server, tmp_path: Path
) -> None:
    # botocore's model: "If it is not included, IAM will retrieve and use the
    # top intermediate certificate authority (CA) thumbprint".
    issuer = https_issuer(tmp_path, "tofu")
    try:
        arn = register(srv, issuer, None, "tls-tofu")
        got = srv.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        assert got["ThumbprintList"] == [shown_thumbprint(issuer).lower()]
        assert web(srv, issuer, "tls-tofu")["AssumedRoleUser"]["Arn"].endswith("/tls-run")
    finally:
        issuer.stop()
