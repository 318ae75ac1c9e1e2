"""A RoleArn names a role exactly; names fold only ASCII case (boto3
against a real server). See tests/sts/test_exact_names.py for the sources."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server

ACCT = "123456789012"
KELVIN = "\u212a"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "sts:AssumeRole"}],
    }
)


def test_role_arns_are_exact_and_names_fold_only_ascii(server: Server) -> None:
    iam, sts = server.client("iam"), server.client("sts")
    iam.create_role(RoleName="ExactRole", AssumeRolePolicyDocument=TRUST)
    iam.create_role(RoleName="key", AssumeRolePolicyDocument=TRUST)
    sts.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/ExactRole", RoleSessionName="ok")
    for wrong in ("exactrole", "EXACTROLE", f"{KELVIN}ey"):
        with pytest.raises(ClientError) as e:
            sts.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/{wrong}", RoleSessionName="no")
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="exactROLE", AssumeRolePolicyDocument=TRUST)
    assert e.value.response["Error"]["Code"] == "EntityAlreadyExists"
    assert iam.get_role(RoleName="EXACTrole")["Role"]["RoleName"] == "ExactRole"

    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName=f"{KELVIN}ey")
    # Refused by the name's pattern or not found; never the role "key".
    assert e.value.response["Error"]["Code"] in ("ValidationError", "NoSuchEntity")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 404)
