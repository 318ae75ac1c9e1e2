"""The other STS actions through boto3: GetSessionToken (with and without
MFA, and what its credentials may call), GetFederationToken, GetAccessKeyInfo
and DecodeAuthorizationMessage."""

from __future__ import annotations

import json
import time

import pyotp
import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server

ACCT = "123456789012"


def code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def allow(actions: list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
    )


@pytest.fixture(scope="module")
def bob(server: Server) -> dict:
    iam = server.client("iam")
    iam.create_user(UserName="bob")
    iam.put_user_policy(
        UserName="bob",
        PolicyName="p",
        PolicyDocument=allow(
            [
                "iam:ListUsers",
                "sts:GetFederationToken",
                "sts:DecodeAuthorizationMessage",
                "sts:GetAccessKeyInfo",
            ]
        ),
    )
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    time.sleep(0.6)
    return key


def test_get_session_token_limits(server: Server, bob: dict) -> None:
    c = server.client("sts", creds=bob).get_session_token(DurationSeconds=900)["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA")
    sts = server.client("sts", creds=c)
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCT}:user/bob"
    with pytest.raises(ClientError) as e:  # no MFA: IAM refuses these credentials
        server.client("iam", creds=c).list_users()
    assert code(e.value) == "InvalidClientTokenId"
    with pytest.raises(ClientError) as e:
        sts.get_session_token()
    assert code(e.value) == "AccessDenied"


def test_get_session_token_with_mfa_reaches_iam(server: Server, bob: dict) -> None:
    iam = server.client("iam")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="bob-phone")["VirtualMFADevice"]
    totp = pyotp.TOTP(dev["Base32StringSeed"].decode())
    now = time.time()
    iam.enable_mfa_device(
        UserName="bob",
        SerialNumber=dev["SerialNumber"],
        AuthenticationCode1=totp.at(now - 60),
        AuthenticationCode2=totp.at(now - 30),
    )
    c = server.client("sts", creds=bob).get_session_token(
        SerialNumber=dev["SerialNumber"], TokenCode=totp.at(now)
    )["Credentials"]
    assert "bob" in {u["UserName"] for u in server.client("iam", creds=c).list_users()["Users"]}


def test_federation_token(server: Server, bob: dict) -> None:
    sts = server.client("sts", creds=bob)
    out = sts.get_federation_token(Name="contractor", Policy=allow(["iam:ListUsers"]))
    assert out["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCT}:federated-user/contractor"
    c = out["Credentials"]
    ident = server.client("sts", creds=c).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{ACCT}:federated-user/contractor"
    with pytest.raises(ClientError) as e:  # federated users never call IAM
        server.client("iam", creds=c).list_users()
    assert code(e.value) == "AccessDenied"


def test_access_key_info_and_decode(server: Server, bob: dict) -> None:
    sts = server.client("sts", creds=bob)
    assert sts.get_access_key_info(AccessKeyId=bob["AccessKeyId"])["Account"] == ACCT
    iam = server.client("iam")
    iam.create_role(
        RoleName="closed",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/admin"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/closed", RoleSessionName="nope")
    msg = e.value.response["Error"]["Message"]
    assert code(e.value) == "AccessDenied" and "Encoded authorization failure message: " in msg
    encoded = msg.split("Encoded authorization failure message: ", 1)[1].strip()
    decoded = json.loads(sts.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False
    assert decoded["context"]["action"] == "sts:AssumeRole"
    with pytest.raises(ClientError) as e:
        sts.decode_authorization_message(EncodedMessage=encoded[:-8] + "AAAAAAAA")
    assert code(e.value) == "InvalidAuthorizationMessageException"
