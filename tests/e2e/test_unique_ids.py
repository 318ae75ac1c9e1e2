"""Identities are bound to unique ids, through boto3 against a real server:
a user or role deleted and created again under its name is someone else
(reference §3.1; IAM User Guide, "IAM JSON policy elements: Principal")."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from rolegate.store import Store
from tests.e2e.server import Server

ACCT = "123456789012"


def code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def trust(principal: object) -> str:
    st = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def allow(action: str) -> str:
    st = {"Effect": "Allow", "Action": action, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def make_user(server: Server, name: str, policy: str | None = None) -> dict:
    iam = server.client("iam")
    user = iam.create_user(UserName=name)["User"]
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"user": user, "creds": key}


def remove_user(server: Server, name: str) -> None:
    iam = server.client("iam")
    for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in iam.list_user_policies(UserName=name)["PolicyNames"]:
        iam.delete_user_policy(UserName=name, PolicyName=policy)
    iam.delete_user(UserName=name)


def remove_role(server: Server, name: str) -> None:
    iam = server.client("iam")
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def aws_principals(document: object) -> list[object]:
    # boto3 hands back the URL-decoded, parsed document.
    doc = document if isinstance(document, dict) else json.loads(str(document))
    return [st["Principal"]["AWS"] for st in doc["Statement"]]


def test_trust_naming_a_deleted_user_shows_its_id_and_admits_no_namesake(
    server: Server,
) -> None:
    iam = server.client("iam")
    old = make_user(server, "uid-alice")
    arn = old["user"]["Arn"]
    iam.create_role(RoleName="uid-r", AssumeRolePolicyDocument=trust(arn))
    role_arn = f"arn:aws:iam::{ACCT}:role/uid-r"
    assert aws_principals(iam.get_role(RoleName="uid-r")["Role"]["AssumeRolePolicyDocument"]) == [
        arn
    ]
    server.client("sts", old["creds"]).assume_role(RoleArn=role_arn, RoleSessionName="ok")

    remove_user(server, "uid-alice")
    old_id = old["user"]["UserId"]
    got = iam.get_role(RoleName="uid-r")["Role"]["AssumeRolePolicyDocument"]
    assert aws_principals(got) == [old_id]
    listed = [r for r in iam.list_roles()["Roles"] if r["RoleName"] == "uid-r"]
    assert aws_principals(listed[0]["AssumeRolePolicyDocument"]) == [old_id]
    details = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    mine = [r for r in details if r["RoleName"] == "uid-r"]
    assert aws_principals(mine[0]["AssumeRolePolicyDocument"]) == [old_id]

    new = make_user(server, "uid-alice", allow("sts:AssumeRole"))
    assert new["user"]["Arn"] == arn
    with pytest.raises(ClientError) as e:
        server.client("sts", new["creds"]).assume_role(RoleArn=role_arn, RoleSessionName="no")
    assert code(e.value) == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_sessions_of_a_deleted_role_get_nothing_from_its_namesake(server: Server) -> None:
    iam = server.client("iam")
    admin_sts = server.client("sts")
    role_arn = f"arn:aws:iam::{ACCT}:role/uid-worker"
    iam.create_role(RoleName="uid-worker", AssumeRolePolicyDocument=trust(ACCT))
    iam.put_role_policy(
        RoleName="uid-worker", PolicyName="p", PolicyDocument=allow("iam:ListUsers")
    )
    old = admin_sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")["Credentials"]
    server.client("iam", old).list_users()

    remove_role(server, "uid-worker")
    iam.create_role(RoleName="uid-worker", AssumeRolePolicyDocument=trust(ACCT))
    iam.put_role_policy(RoleName="uid-worker", PolicyName="p", PolicyDocument=allow("*"))
    with pytest.raises(ClientError) as e:
        server.client("iam", old).list_users()
    assert code(e.value) == "AccessDenied"
    # Nor may it chain into a role that trusts the (new) role.
    iam.create_role(RoleName="uid-next", AssumeRolePolicyDocument=trust(role_arn))
    next_arn = f"arn:aws:iam::{ACCT}:role/uid-next"
    with pytest.raises(ClientError) as e:
        server.client("sts", old).assume_role(RoleArn=next_arn, RoleSessionName="s2")
    assert code(e.value) == "AccessDenied"

    new = admin_sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")["Credentials"]
    server.client("iam", new).list_users()
    server.client("sts", new).assume_role(RoleArn=next_arn, RoleSessionName="s2")


def test_session_token_of_a_deleted_user_does_not_act_as_its_namesake(server: Server) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="uid-acct", AssumeRolePolicyDocument=trust(ACCT))
    role_arn = f"arn:aws:iam::{ACCT}:role/uid-acct"
    old = make_user(server, "uid-bob", allow("sts:AssumeRole"))
    token = server.client("sts", old["creds"]).get_session_token()["Credentials"]
    server.client("sts", token).assume_role(RoleArn=role_arn, RoleSessionName="ok")

    remove_user(server, "uid-bob")
    new = make_user(server, "uid-bob", allow("*"))
    with pytest.raises(ClientError) as e:
        server.client("sts", token).assume_role(RoleArn=role_arn, RoleSessionName="no")
    assert code(e.value) == "AccessDenied"
    fresh = server.client("sts", new["creds"]).get_session_token()["Credentials"]
    server.client("sts", fresh).assume_role(RoleArn=role_arn, RoleSessionName="ok")


def test_a_key_of_another_user_id_never_signs_for_the_name(server: Server) -> None:
    # A key whose owner id is not the current user of that name (what a key
    # of a deleted user would be) is refused at authentication.
    make_user(server, "uid-carol", allow("*"))
    akid, secret = "AKIAUIDGHOSTKEY00001", "g" * 40
    store = Store.open(
        data_dir=None if server.database_url else server.data_dir,
        database_url=server.database_url,
        master_key=base64.b64decode(server.env["ROLEGATE_MASTER_KEY"]),
    )
    try:
        with store.transaction() as tx:
            tx.insert_access_key(
                akid,
                ACCT,
                "uid-carol",
                "AIDAGHOSTGHOSTGHOST01",
                secret,
                "Active",
                datetime.now(UTC),
            )
    finally:
        store.close()
    ghost = {"aws_access_key_id": akid, "aws_secret_access_key": secret}
    with pytest.raises(ClientError) as e:
        server.client("sts", ghost).get_caller_identity()
    assert code(e.value) == "InvalidClientTokenId"
