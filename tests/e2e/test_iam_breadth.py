"""The rest of the IAM API through boto3: boundaries, group policies, tags,
policy versions, simulation, authorization details, MFA devices and identity
providers — each seen by a real client, documents coming back as dicts."""

from __future__ import annotations

import base64
import json
import time

import pyotp
import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server

ACCT = "123456789012"


def code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def doc(actions: list[str], effect: str = "Allow") -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": actions, "Resource": "*"}],
    }


def test_boundary_and_group_policies_decide_access(server: Server) -> None:
    iam = server.client("iam")
    iam.create_group(GroupName="readers")
    iam.put_group_policy(
        GroupName="readers",
        PolicyName="read",
        PolicyDocument=json.dumps(doc(["iam:List*", "iam:Get*"])),
    )
    assert iam.get_group_policy(GroupName="readers", PolicyName="read")["PolicyDocument"] == doc(
        ["iam:List*", "iam:Get*"]
    )
    assert iam.list_group_policies(GroupName="readers")["PolicyNames"] == ["read"]
    iam.create_user(UserName="carol")
    iam.add_user_to_group(GroupName="readers", UserName="carol")
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    time.sleep(0.6)
    carol = server.client("iam", creds=key)
    carol.list_users()
    carol.get_user(UserName="carol")
    bpol = iam.create_policy(
        PolicyName="only-list-users", PolicyDocument=json.dumps(doc(["iam:ListUsers"]))
    )["Policy"]
    iam.put_user_permissions_boundary(UserName="carol", PermissionsBoundary=bpol["Arn"])
    assert (
        iam.get_user(UserName="carol")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
        == bpol["Arn"]
    )
    time.sleep(0.6)
    carol.list_users()
    with pytest.raises(ClientError) as e:
        carol.get_user(UserName="carol")
    assert code(e.value) == "AccessDenied"
    assert (
        "because no permissions boundary allows the iam:GetUser action"
        in e.value.response["Error"]["Message"]
    )
    iam.delete_user_permissions_boundary(UserName="carol")
    iam.remove_user_from_group(GroupName="readers", UserName="carol")
    time.sleep(0.6)
    with pytest.raises(ClientError) as e:
        carol.list_users()
    assert code(e.value) == "AccessDenied"


def test_tags_versions_and_detach(server: Server) -> None:
    iam = server.client("iam")
    iam.create_role(
        RoleName="tagged",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    iam.tag_role(
        RoleName="tagged", Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "core"}]
    )
    iam.untag_role(RoleName="tagged", TagKeys=["team"])
    assert iam.list_role_tags(RoleName="tagged")["Tags"] == [{"Key": "env", "Value": "prod"}]
    arn = iam.create_policy(
        PolicyName="versioned", PolicyDocument=json.dumps(doc(["iam:GetRole"]))
    )["Policy"]["Arn"]
    iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=json.dumps(doc(["iam:GetRole", "iam:ListRoles"]))
    )
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert {v["VersionId"] for v in versions} == {"v1", "v2"}
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    iam.attach_role_policy(RoleName="tagged", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    iam.detach_role_policy(RoleName="tagged", PolicyArn=arn)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_policy(PolicyArn=arn)
    assert code(e.value) == "NoSuchEntity"


def test_simulation_and_authorization_details(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="sim")
    iam.put_user_policy(
        UserName="sim",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "AllowList", "Effect": "Allow", "Action": "iam:List*", "Resource": "*"},
                    {
                        "Sid": "DenyRoles",
                        "Effect": "Deny",
                        "Action": "iam:ListRoles",
                        "Resource": "*",
                    },
                ],
            }
        ),
    )
    res = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCT}:user/sim",
        ActionNames=["iam:ListUsers", "iam:ListRoles", "iam:CreateUser"],
    )
    got = {r["EvalActionName"]: r["EvalDecision"] for r in res["EvaluationResults"]}
    assert got == {
        "iam:ListUsers": "allowed",
        "iam:ListRoles": "explicitDeny",
        "iam:CreateUser": "implicitDeny",
    }
    users = [r for r in res["EvaluationResults"] if r["EvalActionName"] == "iam:ListUsers"][0]
    assert users["MatchedStatements"][0]["SourcePolicyType"] == "user"
    assert users["MatchedStatements"][0]["SourcePolicyId"] == "p"
    custom = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps(doc(["s3:GetObject"]))],
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::bucket/key"],
    )
    assert [r["EvalDecision"] for r in custom["EvaluationResults"]] == ["allowed", "implicitDeny"]
    cond = iam.simulate_custom_policy(
        PolicyInputList=[
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": "*",
                            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                        }
                    ],
                }
            )
        ],
        ActionNames=["s3:GetObject"],
        ContextEntries=[
            {
                "ContextKeyName": "aws:SourceIp",
                "ContextKeyValues": ["10.1.2.3"],
                "ContextKeyType": "ip",
            }
        ],
    )
    assert cond["EvaluationResults"][0]["EvalDecision"] == "allowed"
    details = iam.get_account_authorization_details(Filter=["User", "Role"])
    sim = [u for u in details["UserDetailList"] if u["UserName"] == "sim"][0]
    assert sim["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Sid"] == "AllowList"
    assert all(isinstance(r["AssumeRolePolicyDocument"], dict) for r in details["RoleDetailList"])


def test_mfa_device_lifecycle(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="mfauser")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="mfauser-phone")["VirtualMFADevice"]
    assert dev["SerialNumber"] == f"arn:aws:iam::{ACCT}:mfa/mfauser-phone"
    assert dev["QRCodePNG"][:8] == b"\x89PNG\r\n\x1a\n"
    totp = pyotp.TOTP(dev["Base32StringSeed"].decode())
    now = time.time()
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(
            UserName="mfauser",
            SerialNumber=dev["SerialNumber"],
            AuthenticationCode1="000000",
            AuthenticationCode2="111111",
        )
    assert code(e.value) == "InvalidAuthenticationCode"
    iam.enable_mfa_device(
        UserName="mfauser",
        SerialNumber=dev["SerialNumber"],
        AuthenticationCode1=totp.at(now - 30),
        AuthenticationCode2=totp.at(now),
    )
    assert [d["SerialNumber"] for d in iam.list_mfa_devices(UserName="mfauser")["MFADevices"]] == [
        dev["SerialNumber"]
    ]
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=dev["SerialNumber"])
    assert code(e.value) == "DeleteConflict"
    iam.deactivate_mfa_device(UserName="mfauser", SerialNumber=dev["SerialNumber"])
    iam.delete_virtual_mfa_device(SerialNumber=dev["SerialNumber"])
    assert iam.list_mfa_devices(UserName="mfauser")["MFADevices"] == []


def test_oidc_provider_crud(server: Server) -> None:
    iam = server.client("iam")
    arn = iam.create_open_id_connect_provider(
        Url="https://token.actions.example.com",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["a" * 40],
    )["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.example.com"
    with pytest.raises(ClientError) as e:
        iam.create_open_id_connect_provider(
            Url="https://token.actions.example.com", ThumbprintList=["a" * 40]
        )
    assert code(e.value) == "EntityAlreadyExists"
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="other")
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "token.actions.example.com" and set(got["ClientIDList"]) == {
        "sts.amazonaws.com",
        "other",
    }
    iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=arn, ThumbprintList=["b" * 40]
    )
    assert arn in {
        p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    }
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert code(e.value) == "NoSuchEntity"


def test_access_key_rotation_by_the_user(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="rotator")
    iam.put_user_policy(
        UserName="rotator",
        PolicyName="self",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["iam:*AccessKey*"],
                        "Resource": "arn:aws:iam::*:user/${aws:username}",
                    }
                ],
            }
        ),
    )
    k1 = iam.create_access_key(UserName="rotator")["AccessKey"]
    time.sleep(0.6)
    me = server.client("iam", creds=k1)
    k2 = me.create_access_key()["AccessKey"]  # no UserName: the caller
    assert k2["UserName"] == "rotator"
    with pytest.raises(ClientError) as e:
        me.create_access_key(UserName="admin")  # the policy variable limits it to oneself
    assert code(e.value) == "AccessDenied"
    me2 = server.client("iam", creds=k2)
    me2.update_access_key(AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    time.sleep(0.6)
    with pytest.raises(ClientError) as e:
        me.list_access_keys()
    assert code(e.value) == "InvalidClientTokenId"
    me2.delete_access_key(AccessKeyId=k1["AccessKeyId"])
    assert [k["AccessKeyId"] for k in me2.list_access_keys()["AccessKeyMetadata"]] == [
        k2["AccessKeyId"]
    ]


def test_answers_recorded_against_aws(server: Server) -> None:
    """Answers that differ from a naive reading of the API reference, as AWS
    gives them (LocalStack's snapshots recorded against AWS)."""
    iam = server.client("iam")
    iam.create_user(UserName="rec-user")
    iam.create_group(GroupName="rec-group")
    # Removing a non-member succeeds.
    iam.remove_user_from_group(GroupName="rec-group", UserName="rec-user")
    # An unknown access key is a denial on the key, 403.
    with pytest.raises(ClientError) as e:
        iam.get_access_key_last_used(AccessKeyId="AKIAIOSFODNN7EXAMPLE")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["Error"]["Message"].endswith(
        "is not authorized to perform iam:GetAccessKeyLastUsed on resource: "
        "access key AKIAIOSFODNN7EXAMPLE"
    )
    # Deleting an OIDC provider that is not there is NoSuchEntity.
    ghost = "arn:aws:iam::123456789012:oidc-provider/never-existed.example.com"
    with pytest.raises(ClientError) as e:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=ghost)
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"
    assert (
        e.value.response["Error"]["Message"] == f"OpenId connect Provider {ghost} cannot be found."
    )
    # The boundary type reads "Policy".
    iam.put_user_permissions_boundary(
        UserName="rec-user", PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    assert iam.get_user(UserName="rec-user")["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
    }
    # The password policy's default length, when none is given, is 6.
    iam.update_account_password_policy()
    assert iam.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 6
    iam.delete_account_password_policy()


def test_common_aws_managed_service_policies_attach(server: Server) -> None:
    iam = server.client("iam")
    iam.create_role(
        RoleName="lambda-exec",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    iam.attach_role_policy(RoleName="lambda-exec", PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName="lambda-exec")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": arn}]
    got = iam.get_policy(PolicyArn=arn)["Policy"]
    assert got["Path"] == "/service-role/" and got["AttachmentCount"] == 1
    sim = iam.simulate_principal_policy(
        PolicySourceArn="arn:aws:iam::123456789012:role/lambda-exec",
        ActionNames=["logs:PutLogEvents", "s3:GetObject"],
    )["EvaluationResults"]
    assert {r["EvalActionName"]: r["EvalDecision"] for r in sim} == {
        "logs:PutLogEvents": "allowed",
        "s3:GetObject": "implicitDeny",
    }


def test_credential_report_through_the_cli(server: Server) -> None:
    out = json.loads(server.aws("iam", "generate-credential-report").stdout)
    assert out["State"] in ("STARTED", "COMPLETE")
    assert json.loads(server.aws("iam", "generate-credential-report").stdout)["State"] == (
        "COMPLETE"
    )
    got = json.loads(server.aws("iam", "get-credential-report").stdout)
    assert got["ReportFormat"] == "text/csv"
    text = base64.b64decode(got["Content"]).decode()
    assert text.startswith("user,arn,user_creation_time,password_enabled,")
    assert "\nadmin,arn:aws:iam::123456789012:user/admin," in text


def test_service_linked_role_through_the_cli(server: Server) -> None:
    out = json.loads(
        server.aws(
            "iam", "create-service-linked-role", "--aws-service-name", "ecs.amazonaws.com"
        ).stdout
    )
    assert out["Role"]["RoleName"] == "AWSServiceRoleForECS"
    iam = server.client("iam")
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="AWSServiceRoleForECS")
    assert e.value.response["Error"]["Code"] == "UnmodifiableEntity"
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForECS")["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == (
        "SUCCEEDED"
    )
