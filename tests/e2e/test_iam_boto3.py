"""Walk the IAM API with boto3 against a real server."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def test_users_crud_pagination_and_errors(server: Server) -> None:
    iam = server.client("iam")
    for i in range(5):
        iam.create_user(UserName=f"pager{i}", Path="/pagers/", Tags=[{"Key": "n", "Value": str(i)}])
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="PAGER0")
    assert code(e.value) == "EntityAlreadyExists"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    page = iam.list_users(PathPrefix="/pagers/", MaxItems=2)
    assert page["IsTruncated"] is True and len(page["Users"]) == 2
    names = [u["UserName"] for u in page["Users"]]
    while page["IsTruncated"]:
        page = iam.list_users(PathPrefix="/pagers/", MaxItems=2, Marker=page["Marker"])
        names += [u["UserName"] for u in page["Users"]]
    assert names == [f"pager{i}" for i in range(5)]
    assert [
        u["UserName"]
        for p in iam.get_paginator("list_users").paginate(PathPrefix="/pagers/")
        for u in p["Users"]
    ] == names
    u = iam.get_user(UserName="pager3")["User"]
    assert u["Arn"] == "arn:aws:iam::123456789012:user/pagers/pager3"
    assert u["UserId"].startswith("AIDA")
    assert u["Tags"] == [{"Key": "n", "Value": "3"}]
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="nobody")
    assert code(e.value) == "NoSuchEntity"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    iam.delete_user(UserName="pager4")
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="pager4")
    assert code(e.value) == "NoSuchEntity"


def test_validation_errors_are_aws_shaped(server: Server) -> None:
    iam = server.client("iam")
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="bad name!")
    assert code(e.value) == "ValidationError"
    assert "failed to satisfy constraint" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="r" * 65, AssumeRolePolicyDocument=json.dumps(TRUST))
    assert code(e.value) == "ValidationError"
    assert (
        "Member must have length less than or equal to 64" in e.value.response["Error"]["Message"]
    )


def test_roles_documents_come_back_as_dicts(server: Server) -> None:
    iam = server.client("iam")
    r = iam.create_role(
        RoleName="app",
        Path="/svc/",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="the app",
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "core"}],
    )["Role"]
    assert r["Arn"] == "arn:aws:iam::123456789012:role/svc/app" and r["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName="app")["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST  # URL-encoded on the wire, a dict in boto3
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "the app"
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="app", PolicyName="read", PolicyDocument=json.dumps(doc))
    assert iam.get_role_policy(RoleName="app", PolicyName="read")["PolicyDocument"] == doc
    assert iam.list_role_policies(RoleName="app")["PolicyNames"] == ["read"]
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="app")
    assert code(e.value) == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.put_role_policy(RoleName="app", PolicyName="bad", PolicyDocument='{"Statement": []')
    assert code(e.value) == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as e:
        iam.create_role(
            RoleName="noprincipal",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}],
                }
            ),
        )
    assert code(e.value) == "MalformedPolicyDocument"
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=json.dumps(TRUST))
    iam.update_role(RoleName="app", MaxSessionDuration=3600)
    iam.delete_role_policy(RoleName="app", PolicyName="read")
    iam.delete_role(RoleName="app")


def test_managed_policies_versions_and_attachments(server: Server) -> None:
    iam = server.client("iam")
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}],
    }
    p = iam.create_policy(PolicyName="getter", PolicyDocument=json.dumps(doc))["Policy"]
    arn = p["Arn"]
    assert arn == "arn:aws:iam::123456789012:policy/getter" and p["DefaultVersionId"] == "v1"
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc), SetAsDefault=True)
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc))
    assert code(e.value) == "LimitExceeded"
    v = iam.get_policy_version(PolicyArn=arn, VersionId="v5")["PolicyVersion"]
    assert v["IsDefaultVersion"] is True and v["Document"] == doc
    with pytest.raises(ClientError) as e:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v5")
    assert code(e.value) == "DeleteConflict"
    iam.create_user(UserName="attached")
    iam.attach_user_policy(UserName="attached", PolicyArn=arn)
    iam.attach_user_policy(UserName="attached", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    att = iam.list_attached_user_policies(UserName="attached")["AttachedPolicies"]
    assert {a["PolicyName"] for a in att} == {"getter", "ReadOnlyAccess"}
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(
            UserName="attached", PolicyArn="arn:aws:iam::123456789012:policy/none"
        )
    assert code(e.value) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert code(e.value) == "DeleteConflict"
    aws_pols = iam.list_policies(Scope="AWS")["Policies"]
    assert {"AdministratorAccess", "ReadOnlyAccess", "IAMFullAccess", "IAMReadOnlyAccess"} <= {
        p["PolicyName"] for p in aws_pols
    }


def test_groups_and_access_keys(server: Server) -> None:
    iam = server.client("iam")
    iam.create_group(GroupName="devs")
    iam.create_user(UserName="dev1")
    iam.add_user_to_group(GroupName="devs", UserName="dev1")
    g = iam.get_group(GroupName="devs")
    assert [u["UserName"] for u in g["Users"]] == ["dev1"]
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName="dev1")["Groups"]] == ["devs"]
    k1 = iam.create_access_key(UserName="dev1")["AccessKey"]
    assert k1["AccessKeyId"].startswith("AKIA") and len(k1["SecretAccessKey"]) == 40
    iam.create_access_key(UserName="dev1")
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName="dev1")
    assert code(e.value) == "LimitExceeded"
    iam.update_access_key(UserName="dev1", AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    keys = {
        k["AccessKeyId"]: k["Status"]
        for k in iam.list_access_keys(UserName="dev1")["AccessKeyMetadata"]
    }
    assert keys[k1["AccessKeyId"]] == "Inactive"
    last = iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])
    assert last["UserName"] == "dev1"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="dev1")
    assert code(e.value) == "DeleteConflict"


def test_limited_user_denied_then_allowed(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="limited")
    key = iam.create_access_key(UserName="limited")["AccessKey"]
    time.sleep(0.6)  # the server's cache may be up to 0.5 s behind another process
    lim = server.client("iam", creds=key)
    with pytest.raises(ClientError) as e:
        lim.list_roles()
    assert code(e.value) == "AccessDenied"
    msg = e.value.response["Error"]["Message"]
    assert msg.startswith(
        "User: arn:aws:iam::123456789012:user/limited is not authorized to perform: iam:ListRoles"
    )
    assert "because no identity-based policy allows the iam:ListRoles action" in msg
    iam.put_user_policy(
        UserName="limited",
        PolicyName="lr",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}],
            }
        ),
    )
    lim.list_roles()
    with pytest.raises(ClientError) as e:
        lim.create_user(UserName="nope")
    assert code(e.value) == "AccessDenied"


def test_get_caller_identity_long_term(server: Server) -> None:
    ident = server.client("sts").get_caller_identity()
    assert ident["Arn"] == "arn:aws:iam::123456789012:user/admin"
    assert ident["Account"] == "123456789012" and ident["UserId"].startswith("AIDA")
