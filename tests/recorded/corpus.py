"""The request corpus: one scripted, deterministic sequence of wire requests
over every served operation, in the scenarios clients run (success paths)
and the ways they go wrong (validation, missing entities, conflicts,
malformed policies, AccessDenied from a limited user and from role sessions,
bad signatures, expired and forged tokens, unknown actions).

Everything the corpus sends is fixed by this file and ``material.json``
(keys for certificates, SSH keys, the OIDC issuer and the SAML IdP, made
once, so that what the server echoes back is the same every run), except
what the server itself generates (ids, secrets, tokens): those are read back
from the answers, as a client would.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pyotp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from tests.recorded.harness import Caller, Exchange, Harness

HERE = Path(__file__).resolve().parent
MATERIAL = HERE / "material.json"
OIDC_ISSUER = "https://oidc.recorded.test"
OIDC_PROVIDER = "oidc.recorded.test"
OIDC_CLIENT = "recorded-client"
THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
TEAMS = 24  # the user/group/role/policy scenario runs once per team


# --------------------------------------------------------------------------- material


def make_material() -> dict[str, str]:
    """Fresh keys for material.json (run by ``--record`` when it is missing)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    def pem(key: Any) -> str:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    return {
        "_note": "throwaway keys for tests/recorded only; they protect nothing",
        "rsa_a": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "rsa_b": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "ec_a": pem(ec.generate_private_key(ec.SECP256R1())),
    }


@cache
def key(name: str) -> Any:
    text = json.loads(MATERIAL.read_text())[name]
    return serialization.load_pem_private_key(text.encode(), password=None)


def key_pem(name: str) -> str:
    return json.loads(MATERIAL.read_text())[name]


def cert_pem(subject_key: str, cn: str, start: datetime, days: int = 365,
             issuer_key: str | None = None) -> str:  # fmt: skip
    """A certificate that is the same bytes every run: fixed serial and dates,
    signed with RSA PKCS#1 v1.5 (deterministic)."""
    signer = key(issuer_key or subject_key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn if issuer_key is None else "ca")])
        )
        .public_key(key(subject_key).public_key())
        .serial_number(int.from_bytes(cn.encode()[:16].ljust(16, b"\0"), "big") >> 1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(signer, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def ssh_public(name: str) -> str:
    return (
        key(name)
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


# --------------------------------------------------------------------------- helpers


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


class Corpus:
    def __init__(self, h: Harness) -> None:
        self.h = h
        self.acct = h.account_id
        self.admin = h.admin

    # shorthands: iam("CreateUser", UserName="x"), with _as= and _name=
    def iam(
        self, op: str, _as: Caller | None = None, _name: str | None = None, **p: Any
    ) -> Exchange:
        return self.h.call("iam", op, p, caller=_as, name=_name)

    def sts(
        self, op: str, _as: Caller | None = None, _name: str | None = None, **p: Any
    ) -> Exchange:
        return self.h.call("sts", op, p, caller=_as, name=_name)

    def org(
        self, op: str, _as: Caller | None = None, _name: str | None = None, **p: Any
    ) -> Exchange:
        return self.h.call("organizations", op, p, caller=_as, name=_name)

    def arn(self, kind: str, name: str, account: str | None = None) -> str:
        return f"arn:aws:iam::{account or self.acct}:{kind}/{name}"

    def trust(self, principal: Any = None, actions: Any = ("sts:AssumeRole", "sts:TagSession",
              "sts:SetSourceIdentity"), **cond: Any) -> str:  # fmt: skip
        st: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": principal or f"arn:aws:iam::{self.acct}:root"},
            "Action": list(actions),
        }
        if cond:
            st["Condition"] = cond
        return json.dumps({"Version": "2012-10-17", "Statement": [st]})

    def user_with_key(self, name: str, *policies: str, inline: str | None = None) -> Caller:
        self.iam("CreateUser", UserName=name)
        for p in policies:
            self.iam("AttachUserPolicy", UserName=name, PolicyArn=p)
        if inline:
            self.iam("PutUserPolicy", UserName=name, PolicyName="inline", PolicyDocument=inline)
        k = self.iam("CreateAccessKey", UserName=name).parsed["AccessKey"]
        return Caller(name, k["AccessKeyId"], k["SecretAccessKey"])

    def assume(
        self, role_arn: str, label: str, _as: Caller | None = None, **p: Any
    ) -> Caller | None:
        ex = self.sts(
            "AssumeRole",
            _as=_as,
            _name=f"AssumeRole {label}",
            RoleArn=role_arn,
            RoleSessionName=p.pop("RoleSessionName", label),
            **p,
        )
        if ex.status != 200:
            return None
        return Caller.from_sts(label, ex.parsed["Credentials"])

    def totp(self, seed: str, at: float | None = None) -> str:
        return pyotp.TOTP(seed).at(int(self.h.t if at is None else at))

    def next_totp_step(self) -> None:
        """Move the clock to the start of the next 30-second step (plus 2 s)."""
        self.h.t += 30 - (int(self.h.t) % 30) + 2

    # ------------------------------------------------------------------ all

    def run(self) -> None:
        self.account_basics()
        self.policies_and_versions()
        for team in range(TEAMS):
            self.team(team)
        self.paging()
        self.credentials_misc()
        self.login_profiles()
        self.mfa()
        self.providers()
        self.instance_profiles_and_service_roles()
        self.sts_sessions()
        self.limited_callers()
        self.federation()
        self.reports_and_simulation()
        self.organizations()
        self.auth_errors()
        self.validation_errors()
        self.teardown()

    # ---------------------------------------------------------- scenarios

    def account_basics(self) -> None:
        self.sts("GetCallerIdentity")
        self.sts("GetAccessKeyInfo", AccessKeyId=self.admin.access_key_id)
        self.sts(
            "GetAccessKeyInfo",
            AccessKeyId="AKIAIOSFODNN7EXAMPLE",
            _name="GetAccessKeyInfo unknown key",
        )
        self.sts("GetAccessKeyInfo", AccessKeyId="not-a-key", _name="GetAccessKeyInfo invalid")
        self.iam("GetUser")
        self.iam("GetAccountSummary")
        self.iam("ListAccountAliases")
        self.iam("CreateAccountAlias", AccountAlias="recorded-corp")
        self.iam(
            "CreateAccountAlias", AccountAlias="recorded-corp", _name="CreateAccountAlias again"
        )
        self.iam(
            "CreateAccountAlias", AccountAlias="Bad_Alias!", _name="CreateAccountAlias invalid"
        )
        self.iam("ListAccountAliases")
        self.iam("GetAccountPasswordPolicy", _name="GetAccountPasswordPolicy none")
        self.iam("UpdateAccountPasswordPolicy", MinimumPasswordLength=12, RequireSymbols=True,
                 RequireNumbers=True, RequireUppercaseCharacters=True,
                 RequireLowercaseCharacters=True, AllowUsersToChangePassword=True,
                 MaxPasswordAge=90, PasswordReusePrevention=5, HardExpiry=False)  # fmt: skip
        self.iam("GetAccountPasswordPolicy")
        self.iam(
            "UpdateAccountPasswordPolicy",
            MinimumPasswordLength=3,
            _name="UpdateAccountPasswordPolicy too short",
        )
        self.iam(
            "UpdateAccountPasswordPolicy",
            MinimumPasswordLength=200,
            _name="UpdateAccountPasswordPolicy too long",
        )
        self.iam("SetSecurityTokenServicePreferences", GlobalEndpointTokenVersion="v2Token")
        self.iam("SetSecurityTokenServicePreferences", GlobalEndpointTokenVersion="v3Token",
                 _name="SetSecurityTokenServicePreferences invalid")  # fmt: skip
        self.iam("GetAccountSummary")
        self.iam("ListOrganizationsFeatures", _name="ListOrganizationsFeatures before org")
        self.iam("GetAccessKeyLastUsed", AccessKeyId=self.admin.access_key_id)

    def policies_and_versions(self) -> None:
        self.iam("ListPolicies", Scope="AWS", MaxItems=10)
        self.iam("ListPolicies", Scope="AWS", PathPrefix="/service-role/")
        self.iam("ListPolicies", Scope="Local")
        self.iam("ListPolicies", OnlyAttached=True)
        self.iam("ListPolicies", PolicyUsageFilter="PermissionsBoundary")
        ro = "arn:aws:iam::aws:policy/ReadOnlyAccess"
        self.iam("GetPolicy", PolicyArn=ro)
        self.iam(
            "GetPolicyVersion",
            PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess",
            VersionId="v1",
        )
        self.iam("ListPolicyVersions", PolicyArn=ro)
        self.iam("ListEntitiesForPolicy", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        self.iam(
            "GetPolicy",
            PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy",
            _name="GetPolicy missing AWS",
        )
        self.iam("DeletePolicy", PolicyArn=ro, _name="DeletePolicy AWS managed")
        self.iam("CreatePolicyVersion", PolicyArn=ro, PolicyDocument=doc(allow("s3:Get*")),
                 _name="CreatePolicyVersion AWS managed")  # fmt: skip
        arn = self.arn("policy", "versions/versioned")
        self.iam("CreatePolicy", PolicyName="versioned", Path="/versions/", Description="versions",
                 PolicyDocument=doc(allow("s3:GetObject", "arn:aws:s3:::b/*")),
                 Tags=[{"Key": "cost", "Value": "1"}])  # fmt: skip
        self.iam("CreatePolicy", PolicyName="versioned", Path="/versions/",
                 PolicyDocument=doc(allow("s3:GetObject")), _name="CreatePolicy duplicate")  # fmt: skip
        for i in range(2, 6):
            self.iam("CreatePolicyVersion", PolicyArn=arn, SetAsDefault=(i % 2 == 0),
                     PolicyDocument=doc(allow([f"s3:Get{i}", "s3:List*"], f"arn:aws:s3:::b{i}/*")))  # fmt: skip
        self.iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc(allow("s3:*")),
                 _name="CreatePolicyVersion sixth")  # fmt: skip
        self.iam("ListPolicyVersions", PolicyArn=arn)
        self.iam("GetPolicyVersion", PolicyArn=arn, VersionId="v3")
        self.iam(
            "GetPolicyVersion", PolicyArn=arn, VersionId="v9", _name="GetPolicyVersion missing"
        )
        self.iam(
            "GetPolicyVersion",
            PolicyArn=arn,
            VersionId="version1",
            _name="GetPolicyVersion invalid id",
        )
        self.iam("SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v5")
        self.iam(
            "SetDefaultPolicyVersion",
            PolicyArn=arn,
            VersionId="v8",
            _name="SetDefaultPolicyVersion missing",
        )
        self.iam(
            "DeletePolicyVersion",
            PolicyArn=arn,
            VersionId="v5",
            _name="DeletePolicyVersion default",
        )
        self.iam("DeletePolicyVersion", PolicyArn=arn, VersionId="v1")
        self.iam(
            "DeletePolicyVersion", PolicyArn=arn, VersionId="v1", _name="DeletePolicyVersion again"
        )
        self.iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc(allow("s3:Put*")))
        self.iam("GetPolicy", PolicyArn=arn)
        self.iam(
            "TagPolicy",
            PolicyArn=arn,
            Tags=[{"Key": "team", "Value": "x"}, {"Key": "cost", "Value": "2"}],
        )
        self.iam("ListPolicyTags", PolicyArn=arn)
        self.iam("UntagPolicy", PolicyArn=arn, TagKeys=["cost"])
        self.iam("ListPolicyTags", PolicyArn=arn)
        self.iam(
            "TagPolicy",
            PolicyArn=arn,
            Tags=[{"Key": "aws:bad", "Value": "x"}],
            _name="TagPolicy reserved",
        )
        # Malformed policies, AWS's checks one by one.
        bad = {
            "not json": "{not json",
            "empty": "",
            "no statement": json.dumps({"Version": "2012-10-17"}),
            "old version": doc(allow("s3:*"), version="2008-10-17"),
            "bad version": doc(allow("s3:*"), version="2020-01-01"),
            "bad effect": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}),
            "no action": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
            "no resource": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}),
            "principal in identity": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}]}),
            "bad action": doc(allow("s3")),
            "bad resource": doc(allow("s3:*", "not-an-arn")),
            "bad condition op": doc(allow("s3:*", Condition={"StringLooksLike": {"aws:username": "x"}})),
            "unknown element": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Bogus": 1}]}),
            "duplicate sid": doc(allow("s3:*", Sid="a"), allow("ec2:*", Sid="a")),
            "deep": json.dumps({"Version": "2012-10-17", "Statement": [allow("s3:*", Condition={"StringEquals": {"a": [[[[[[[[["x"]]]]]]]]]}})]}),
            "not object": "[1, 2, 3]",
            "too large": doc(*[allow(f"s3:GetObject{i:05d}", f"arn:aws:s3:::bucket-{i:05d}/*") for i in range(200)]),
        }  # fmt: skip
        for label, text in bad.items():
            self.iam(
                "CreatePolicy",
                PolicyName="bad",
                PolicyDocument=text,
                _name=f"CreatePolicy malformed: {label}",
            )
        self.iam(
            "CreatePolicy",
            PolicyName="bad name!",
            PolicyDocument=doc(allow("s3:*")),
            _name="CreatePolicy bad name",
        )
        self.iam(
            "CreatePolicy",
            PolicyName="p",
            Path="no-slash",
            PolicyDocument=doc(allow("s3:*")),
            _name="CreatePolicy bad path",
        )

    def team(self, n: int) -> None:
        """Users, groups, roles and policies of one team, made, used, changed."""
        t = f"team{n}"
        path = f"/{t}/"
        pol = self.iam(
            "CreatePolicy", PolicyName=f"{t}-s3", Path=path, Description=f"{t} buckets",
            PolicyDocument=doc(allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{t}/*"),
                               allow("s3:ListBucket", f"arn:aws:s3:::{t}",
                                     Condition={"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}})),
        ).parsed["Policy"]  # fmt: skip
        parn = pol["Arn"]
        self.iam("GetPolicy", PolicyArn=parn)
        self.iam("CreateGroup", GroupName=f"{t}-devs", Path=path)
        self.iam("CreateGroup", GroupName=f"{t}-DEVS", _name="CreateGroup duplicate (case)")
        self.iam("PutGroupPolicy", GroupName=f"{t}-devs", PolicyName="logs",
                 PolicyDocument=doc(allow(["logs:*"], "*")))  # fmt: skip
        self.iam("AttachGroupPolicy", GroupName=f"{t}-devs", PolicyArn=parn)
        self.iam(
            "AttachGroupPolicy",
            GroupName=f"{t}-devs",
            PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess",
        )
        users = [f"{t}-user{i}" for i in range(4)]
        for i, u in enumerate(users):
            tags = [{"Key": "team", "Value": t}, {"Key": "idx", "Value": str(i)}]
            self.iam("CreateUser", UserName=u, Path=path, Tags=tags)
            self.iam("AddUserToGroup", GroupName=f"{t}-devs", UserName=u)
        self.iam("CreateUser", UserName=users[0], _name="CreateUser duplicate")
        self.iam("GetUser", UserName=users[0].upper(), _name="GetUser other case")
        self.iam("GetUser", UserName=f"{t}-nobody", _name="GetUser missing")
        self.iam("GetGroup", GroupName=f"{t}-devs")
        self.iam("GetGroup", GroupName=f"{t}-devs", MaxItems=2)
        self.iam("ListGroupsForUser", UserName=users[1])
        self.iam("ListGroupPolicies", GroupName=f"{t}-devs")
        self.iam("GetGroupPolicy", GroupName=f"{t}-devs", PolicyName="logs")
        self.iam(
            "GetGroupPolicy",
            GroupName=f"{t}-devs",
            PolicyName="nope",
            _name="GetGroupPolicy missing",
        )
        self.iam("ListAttachedGroupPolicies", GroupName=f"{t}-devs")
        self.iam("ListEntitiesForPolicy", PolicyArn=parn)
        self.iam("ListEntitiesForPolicy", PolicyArn=parn, EntityFilter="Group")
        u0, u1, u2, u3 = users
        # Tags.
        self.iam(
            "TagUser",
            UserName=u0,
            Tags=[{"Key": "owner", "Value": "ops"}, {"Key": "idx", "Value": "zero"}],
        )
        self.iam("ListUserTags", UserName=u0)
        self.iam("UntagUser", UserName=u0, TagKeys=["owner", "absent"])
        self.iam("ListUserTags", UserName=u0, MaxItems=1)
        self.iam(
            "TagUser",
            UserName=u0,
            Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)],
            _name="TagUser too many",
        )
        # Inline user policies and boundaries.
        self.iam(
            "PutUserPolicy",
            UserName=u1,
            PolicyName="sqs",
            PolicyDocument=doc(allow("sqs:*", f"arn:aws:sqs:*:{self.acct}:{t}-*")),
        )
        self.iam(
            "PutUserPolicy", UserName=u1, PolicyName="sns", PolicyDocument=doc(allow("sns:Publish"))
        )
        self.iam("ListUserPolicies", UserName=u1)
        self.iam("GetUserPolicy", UserName=u1, PolicyName="sqs")
        self.iam("DeleteUserPolicy", UserName=u1, PolicyName="sns")
        self.iam("DeleteUserPolicy", UserName=u1, PolicyName="sns", _name="DeleteUserPolicy again")
        self.iam(
            "PutUserPolicy",
            UserName=u1,
            PolicyName="bad",
            PolicyDocument=doc(allow("sqs")),
            _name="PutUserPolicy malformed",
        )
        self.iam("AttachUserPolicy", UserName=u2, PolicyArn=parn)
        self.iam(
            "AttachUserPolicy",
            UserName=u2,
            PolicyArn=self.arn("policy", "nope"),
            _name="AttachUserPolicy missing",
        )
        self.iam("ListAttachedUserPolicies", UserName=u2)
        self.iam("PutUserPermissionsBoundary", UserName=u2, PermissionsBoundary=parn)
        self.iam("GetUser", UserName=u2)
        self.iam("DeleteUserPermissionsBoundary", UserName=u2)
        # Access keys.
        k1 = self.iam("CreateAccessKey", UserName=u3).parsed["AccessKey"]
        k2 = self.iam("CreateAccessKey", UserName=u3).parsed["AccessKey"]
        self.iam("CreateAccessKey", UserName=u3, _name="CreateAccessKey third")
        self.iam("ListAccessKeys", UserName=u3)
        self.iam("UpdateAccessKey", UserName=u3, AccessKeyId=k1["AccessKeyId"], Status="Inactive")
        c1 = Caller(f"{u3}-key1", k1["AccessKeyId"], k1["SecretAccessKey"])
        c2 = Caller(f"{u3}-key2", k2["AccessKeyId"], k2["SecretAccessKey"])
        self.sts("GetCallerIdentity", _as=c1, _name="GetCallerIdentity inactive key")
        self.sts("GetCallerIdentity", _as=c2)
        self.iam("ListUsers", _as=c2, _name="ListUsers from group policies")
        self.iam("CreateUser", _as=c2, UserName=f"{t}-x", _name="CreateUser denied to group member")
        self.iam("GetAccessKeyLastUsed", AccessKeyId=k2["AccessKeyId"])
        self.iam("GetAccessKeyLastUsed", AccessKeyId=k1["AccessKeyId"])
        self.iam("UpdateAccessKey", UserName=u3, AccessKeyId=k1["AccessKeyId"], Status="Active")
        self.iam(
            "UpdateAccessKey",
            UserName=u3,
            AccessKeyId=k1["AccessKeyId"],
            Status="Paused",
            _name="UpdateAccessKey invalid status",
        )
        self.iam("DeleteAccessKey", UserName=u3, AccessKeyId=k1["AccessKeyId"])
        self.sts("GetCallerIdentity", _as=c1, _name="GetCallerIdentity deleted key")
        self.iam(
            "DeleteAccessKey",
            UserName=u3,
            AccessKeyId=k1["AccessKeyId"],
            _name="DeleteAccessKey again",
        )
        self.iam(
            "DeleteAccessKey",
            UserName=u2,
            AccessKeyId=k2["AccessKeyId"],
            _name="DeleteAccessKey other user",
        )
        # Roles.
        role = f"{t}-app"
        self.iam("CreateRole", RoleName=role, Path=path, AssumeRolePolicyDocument=self.trust(),
                 Description=f"{t} app", MaxSessionDuration=7200,
                 Tags=[{"Key": "team", "Value": t}])  # fmt: skip
        self.iam(
            "CreateRole",
            RoleName=role,
            AssumeRolePolicyDocument=self.trust(),
            _name="CreateRole duplicate",
        )
        self.iam("GetRole", RoleName=role)
        self.iam("AttachRolePolicy", RoleName=role, PolicyArn=parn)
        self.iam(
            "PutRolePolicy",
            RoleName=role,
            PolicyName="iam-read",
            PolicyDocument=doc(allow(["iam:Get*", "iam:List*"])),
        )
        self.iam("ListRolePolicies", RoleName=role)
        self.iam("GetRolePolicy", RoleName=role, PolicyName="iam-read")
        self.iam("ListAttachedRolePolicies", RoleName=role)
        self.iam("UpdateRole", RoleName=role, MaxSessionDuration=3600, Description="changed")
        self.iam(
            "UpdateRole",
            RoleName=role,
            MaxSessionDuration=60,
            _name="UpdateRole duration too short",
        )
        self.iam("UpdateRoleDescription", RoleName=role, Description=f"{t} application role")
        self.iam("TagRole", RoleName=role, Tags=[{"Key": "env", "Value": "prod"}])
        self.iam("ListRoleTags", RoleName=role)
        self.iam("UntagRole", RoleName=role, TagKeys=["env"])
        self.iam(
            "PutRolePermissionsBoundary",
            RoleName=role,
            PermissionsBoundary="arn:aws:iam::aws:policy/PowerUserAccess",
        )
        self.iam("GetRole", RoleName=role)
        sess = self.assume(self.arn("role", f"{t}/{role}"), f"{t}-session")
        if sess:
            self.sts("GetCallerIdentity", _as=sess)
            self.iam("ListUsers", _as=sess, _name="ListUsers outside boundary")
            self.iam("GetRole", _as=sess, RoleName=role, _name="GetRole from its own session")
        self.iam("DeleteRolePermissionsBoundary", RoleName=role)
        if sess:
            self.iam("ListUsers", _as=sess, PathPrefix=path, _name="ListUsers boundary removed")
        self.iam(
            "UpdateAssumeRolePolicy",
            RoleName=role,
            PolicyDocument=self.trust(self.arn("user", f"{t}/{u3}")),
        )
        self.iam(
            "UpdateAssumeRolePolicy",
            RoleName=role,
            PolicyDocument=doc(allow("sts:AssumeRole")),
            _name="UpdateAssumeRolePolicy no principal",
        )
        self.assume(self.arn("role", f"{t}/{role}"), "admin-now-untrusted")
        self.assume(self.arn("role", f"{t}/{role}"), "by-user", _as=c2)
        self.iam("GetRole", RoleName=role)
        # Renames.
        self.iam("UpdateUser", UserName=u0, NewUserName=f"{u0}-renamed", NewPath=f"{path}moved/")
        self.iam("GetUser", UserName=u0, _name="GetUser old name")
        self.iam("GetUser", UserName=f"{u0}-renamed")
        self.iam("UpdateUser", UserName=u1, NewUserName=u2, _name="UpdateUser to taken name")
        self.iam("UpdateGroup", GroupName=f"{t}-devs", NewGroupName=f"{t}-developers")
        self.iam("GetGroup", GroupName=f"{t}-developers")
        self.iam("ListUsers", PathPrefix=path)
        self.iam("ListGroups", PathPrefix=path)
        self.iam("ListRoles", PathPrefix=path)
        self.iam("ListPolicies", Scope="Local", PathPrefix=path)
        # Deletes that conflict, then in order.
        self.iam("DeleteGroup", GroupName=f"{t}-developers", _name="DeleteGroup with members")
        self.iam("DeletePolicy", PolicyArn=parn, _name="DeletePolicy attached")
        self.iam("DeleteRole", RoleName=role, _name="DeleteRole with policies")
        self.iam("DeleteUser", UserName=u3, _name="DeleteUser with keys")
        self.iam("RemoveUserFromGroup", GroupName=f"{t}-developers", UserName=u3)
        self.iam(
            "RemoveUserFromGroup",
            GroupName=f"{t}-developers",
            UserName=u3,
            _name="RemoveUserFromGroup again",
        )
        self.iam("DeleteAccessKey", UserName=u3, AccessKeyId=k2["AccessKeyId"])
        self.iam("DeleteUser", UserName=u3)
        self.iam("GetUser", UserName=u3, _name="GetUser deleted")
        self.iam("DetachRolePolicy", RoleName=role, PolicyArn=parn)
        self.iam("DetachRolePolicy", RoleName=role, PolicyArn=parn, _name="DetachRolePolicy again")
        self.iam("DeleteRolePolicy", RoleName=role, PolicyName="iam-read")
        self.iam("DeleteRole", RoleName=role)
        if n % 3 == 0:
            self.iam("DetachUserPolicy", UserName=u2, PolicyArn=parn)
            self.iam("DetachGroupPolicy", GroupName=f"{t}-developers", PolicyArn=parn)
            self.iam("ListEntitiesForPolicy", PolicyArn=parn)
            self.iam("DeletePolicy", PolicyArn=parn)
            self.iam("GetPolicy", PolicyArn=parn, _name="GetPolicy deleted")
            self.iam("DeleteGroupPolicy", GroupName=f"{t}-developers", PolicyName="logs")
            self.iam(
                "DetachGroupPolicy",
                GroupName=f"{t}-developers",
                PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess",
            )
            for u in (f"{u0}-renamed", u1, u2):
                self.iam("RemoveUserFromGroup", GroupName=f"{t}-developers", UserName=u)
            self.iam("DeleteGroup", GroupName=f"{t}-developers")
            self.iam("DeleteUserPolicy", UserName=u1, PolicyName="sqs")
            for u in (f"{u0}-renamed", u1, u2):
                self.iam("DeleteUser", UserName=u)
        self.iam("GetAccountSummary")

    def paging(self) -> None:
        for i in range(25):
            self.iam("CreateUser", UserName=f"page-{i:02d}", Path="/paging/")
        marker = None
        while True:
            p: dict[str, Any] = {"PathPrefix": "/paging/", "MaxItems": 7}
            if marker:
                p["Marker"] = marker
            ex = self.iam("ListUsers", **p)
            marker = ex.parsed.get("Marker")
            if not ex.parsed.get("IsTruncated"):
                break
        self.iam("ListUsers", Marker="bogus-marker", _name="ListUsers bad marker")
        self.iam("ListUsers", MaxItems=0, _name="ListUsers MaxItems 0")
        self.iam("ListUsers", MaxItems=1001, _name="ListUsers MaxItems 1001")
        self.iam("ListRoles", MaxItems=3)
        self.iam("ListGroups", MaxItems=3)
        self.iam("ListPolicies", Scope="AWS", MaxItems=25)
        ex = self.iam("ListPolicies", Scope="AWS", MaxItems=25)
        if ex.parsed.get("Marker"):
            self.iam("ListPolicies", Scope="AWS", MaxItems=25, Marker=ex.parsed["Marker"])
        for i in range(25):
            self.iam("DeleteUser", UserName=f"page-{i:02d}")

    def credentials_misc(self) -> None:
        u = "creds-user"
        self.iam("CreateUser", UserName=u)
        start = datetime.fromtimestamp(self.h.t, tz=UTC).replace(microsecond=0) - timedelta(days=30)
        body_a = cert_pem("rsa_a", "signing-a", start)
        body_b = cert_pem("rsa_b", "signing-b", start)
        c = self.iam("UploadSigningCertificate", UserName=u, CertificateBody=body_a).parsed.get(
            "Certificate", {}
        )
        self.iam(
            "UploadSigningCertificate",
            UserName=u,
            CertificateBody=body_a,
            _name="UploadSigningCertificate duplicate",
        )
        c2 = self.iam("UploadSigningCertificate", UserName=u, CertificateBody=body_b).parsed.get(
            "Certificate", {}
        )
        self.iam("UploadSigningCertificate", UserName=u, CertificateBody="-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----",
                 _name="UploadSigningCertificate malformed")  # fmt: skip
        self.iam("ListSigningCertificates", UserName=u)
        self.iam("ListSigningCertificates")
        if c:
            self.iam(
                "UpdateSigningCertificate",
                UserName=u,
                CertificateId=c["CertificateId"],
                Status="Inactive",
            )
            self.iam("DeleteSigningCertificate", UserName=u, CertificateId=c["CertificateId"])
        if c2:
            self.iam(
                "DeleteSigningCertificate",
                UserName="admin",
                CertificateId=c2["CertificateId"],
                _name="DeleteSigningCertificate other user",
            )
        self.iam("ListSigningCertificates", UserName=u)
        # SSH keys.
        k = self.iam(
            "UploadSSHPublicKey", UserName=u, SSHPublicKeyBody=ssh_public("rsa_a")
        ).parsed.get("SSHPublicKey", {})
        self.iam(
            "UploadSSHPublicKey",
            UserName=u,
            SSHPublicKeyBody=ssh_public("rsa_a"),
            _name="UploadSSHPublicKey duplicate",
        )
        self.iam(
            "UploadSSHPublicKey",
            UserName=u,
            SSHPublicKeyBody=ssh_public("ec_a"),
            _name="UploadSSHPublicKey ecdsa",
        )
        self.iam(
            "UploadSSHPublicKey",
            UserName=u,
            SSHPublicKeyBody="ssh-rsa AAAAnotakey",
            _name="UploadSSHPublicKey malformed",
        )
        self.iam("ListSSHPublicKeys", UserName=u)
        if k:
            kid = k["SSHPublicKeyId"]
            self.iam("GetSSHPublicKey", UserName=u, SSHPublicKeyId=kid, Encoding="SSH")
            self.iam("GetSSHPublicKey", UserName=u, SSHPublicKeyId=kid, Encoding="PEM")
            self.iam("UpdateSSHPublicKey", UserName=u, SSHPublicKeyId=kid, Status="Inactive")
            self.iam(
                "GetSSHPublicKey",
                UserName=u,
                SSHPublicKeyId=kid,
                Encoding="SSH",
                _name="GetSSHPublicKey inactive",
            )
            self.iam("DeleteSSHPublicKey", UserName=u, SSHPublicKeyId=kid)
            self.iam(
                "GetSSHPublicKey",
                UserName=u,
                SSHPublicKeyId=kid,
                Encoding="SSH",
                _name="GetSSHPublicKey deleted",
            )
        # Service-specific credentials.
        s = self.iam(
            "CreateServiceSpecificCredential", UserName=u, ServiceName="codecommit.amazonaws.com"
        ).parsed.get("ServiceSpecificCredential", {})
        self.iam(
            "CreateServiceSpecificCredential", UserName=u, ServiceName="cassandra.amazonaws.com"
        )
        self.iam(
            "CreateServiceSpecificCredential",
            UserName=u,
            ServiceName="s3.amazonaws.com",
            _name="CreateServiceSpecificCredential unsupported",
        )
        self.iam("ListServiceSpecificCredentials", UserName=u)
        self.iam(
            "ListServiceSpecificCredentials", UserName=u, ServiceName="codecommit.amazonaws.com"
        )
        if s:
            sid = s["ServiceSpecificCredentialId"]
            self.iam("ResetServiceSpecificCredential", UserName=u, ServiceSpecificCredentialId=sid)
            self.iam(
                "UpdateServiceSpecificCredential",
                UserName=u,
                ServiceSpecificCredentialId=sid,
                Status="Inactive",
            )
            self.iam("DeleteServiceSpecificCredential", UserName=u, ServiceSpecificCredentialId=sid)
            self.iam(
                "DeleteServiceSpecificCredential",
                UserName=u,
                ServiceSpecificCredentialId=sid,
                _name="DeleteServiceSpecificCredential again",
            )
        # Server certificates.
        body = cert_pem("rsa_a", "www.recorded.test", start)
        self.iam("UploadServerCertificate", ServerCertificateName="www", Path="/cdn/", CertificateBody=body,
                 PrivateKey=key_pem("rsa_a"), Tags=[{"Key": "site", "Value": "www"}])  # fmt: skip
        self.iam("UploadServerCertificate", ServerCertificateName="www", CertificateBody=body,
                 PrivateKey=key_pem("rsa_a"), _name="UploadServerCertificate duplicate")  # fmt: skip
        self.iam("UploadServerCertificate", ServerCertificateName="mismatch", CertificateBody=body,
                 PrivateKey=key_pem("rsa_b"), _name="UploadServerCertificate key mismatch")  # fmt: skip
        expired = cert_pem("rsa_b", "old.recorded.test", start - timedelta(days=800), days=100)
        self.iam("UploadServerCertificate", ServerCertificateName="old", CertificateBody=expired,
                 PrivateKey=key_pem("rsa_b"), _name="UploadServerCertificate expired")  # fmt: skip
        self.iam("UploadServerCertificate", ServerCertificateName="chained",
                 CertificateBody=cert_pem("rsa_b", "api.recorded.test", start, issuer_key="rsa_a"),
                 CertificateChain=cert_pem("rsa_a", "ca", start), PrivateKey=key_pem("rsa_b"))  # fmt: skip
        self.iam("GetServerCertificate", ServerCertificateName="www")
        self.iam("ListServerCertificates")
        self.iam("ListServerCertificates", PathPrefix="/cdn/")
        self.iam(
            "TagServerCertificate",
            ServerCertificateName="www",
            Tags=[{"Key": "env", "Value": "prod"}],
        )
        self.iam("ListServerCertificateTags", ServerCertificateName="www")
        self.iam("UntagServerCertificate", ServerCertificateName="www", TagKeys=["site"])
        self.iam(
            "UpdateServerCertificate",
            ServerCertificateName="www",
            NewServerCertificateName="www2",
            NewPath="/web/",
        )
        self.iam(
            "GetServerCertificate",
            ServerCertificateName="www",
            _name="GetServerCertificate old name",
        )
        self.iam("DeleteServerCertificate", ServerCertificateName="www2")
        self.iam("DeleteServerCertificate", ServerCertificateName="chained")
        self.iam(
            "DeleteServerCertificate",
            ServerCertificateName="chained",
            _name="DeleteServerCertificate again",
        )
        self.iam("DeleteUser", UserName=u, _name="DeleteUser with credentials")

    def login_profiles(self) -> None:
        for i in range(3):
            u = f"console-{i}"
            self.iam("CreateUser", UserName=u)
            self.iam(
                "CreateLoginProfile",
                UserName=u,
                Password="short",
                _name="CreateLoginProfile weak password",
            )
            self.iam(
                "CreateLoginProfile",
                UserName=u,
                Password=f"Corr3ct-Horse-{i}!",
                PasswordResetRequired=(i == 0),
            )
            self.iam(
                "CreateLoginProfile",
                UserName=u,
                Password=f"Corr3ct-Horse-{i}!",
                _name="CreateLoginProfile again",
            )
            self.iam("GetLoginProfile", UserName=u)
            self.iam("UpdateLoginProfile", UserName=u, PasswordResetRequired=False)
        self.iam("GetLoginProfile", UserName="admin", _name="GetLoginProfile none")
        k = self.iam("CreateAccessKey", UserName="console-1").parsed["AccessKey"]
        me = Caller("console-1", k["AccessKeyId"], k["SecretAccessKey"])
        self.iam(
            "ChangePassword",
            _as=me,
            OldPassword="wrong-Passw0rd!",
            NewPassword="N3w-Passw0rd-one!",
            _name="ChangePassword wrong old",
        )
        self.iam(
            "ChangePassword",
            _as=me,
            OldPassword="Corr3ct-Horse-1!",
            NewPassword="weak",
            _name="ChangePassword weak new",
        )
        self.iam(
            "ChangePassword",
            _as=me,
            OldPassword="Corr3ct-Horse-1!",
            NewPassword="N3w-Passw0rd-one!",
        )
        self.iam(
            "ChangePassword",
            OldPassword="x",
            NewPassword="y",
            _name="ChangePassword admin without profile",
        )
        self.iam("DeleteLoginProfile", UserName="console-2")
        self.iam("DeleteLoginProfile", UserName="console-2", _name="DeleteLoginProfile again")
        self.iam("DeleteAccountPasswordPolicy")
        self.iam("DeleteAccountPasswordPolicy", _name="DeleteAccountPasswordPolicy again")

    def mfa(self) -> None:
        u = "mfa-user"
        self.iam("CreateUser", UserName=u)
        k = self.iam("CreateAccessKey", UserName=u).parsed["AccessKey"]
        me = Caller(u, k["AccessKeyId"], k["SecretAccessKey"])
        self.iam(
            "AttachUserPolicy", UserName=u, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
        )
        dev = self.iam("CreateVirtualMFADevice", VirtualMFADeviceName="mfa-user-phone", Path="/",
                       Tags=[{"Key": "kind", "Value": "phone"}]).parsed["VirtualMFADevice"]  # fmt: skip
        self.iam(
            "CreateVirtualMFADevice",
            VirtualMFADeviceName="mfa-user-phone",
            _name="CreateVirtualMFADevice duplicate",
        )
        serial, seed = dev["SerialNumber"], dev["Base32StringSeed"].decode()
        self.iam("ListVirtualMFADevices")
        self.iam("ListVirtualMFADevices", AssignmentStatus="Unassigned")
        self.next_totp_step()
        self.iam("EnableMFADevice", UserName=u, SerialNumber=serial, AuthenticationCode1="000000",
                 AuthenticationCode2="000001", _name="EnableMFADevice wrong codes")  # fmt: skip
        self.iam("EnableMFADevice", UserName=u, SerialNumber=serial,
                 AuthenticationCode1=self.totp(seed, self.h.t - 30), AuthenticationCode2=self.totp(seed))  # fmt: skip
        self.iam("EnableMFADevice", UserName=u, SerialNumber=serial,
                 AuthenticationCode1=self.totp(seed, self.h.t - 30), AuthenticationCode2=self.totp(seed),
                 _name="EnableMFADevice again")  # fmt: skip
        self.iam("ListMFADevices", UserName=u)
        self.iam("ListMFADevices", _as=me, _name="ListMFADevices as the user")
        self.iam("ListVirtualMFADevices", AssignmentStatus="Assigned")
        self.iam("GetMFADevice", SerialNumber=serial)
        self.iam(
            "GetMFADevice",
            SerialNumber=f"arn:aws:iam::{self.acct}:mfa/none",
            _name="GetMFADevice missing",
        )
        self.iam("TagMFADevice", SerialNumber=serial, Tags=[{"Key": "owner", "Value": u}])
        self.iam("ListMFADeviceTags", SerialNumber=serial)
        self.iam("UntagMFADevice", SerialNumber=serial, TagKeys=["kind"])
        self.iam("ListMFADeviceTags", SerialNumber=serial)
        # A role that demands MFA.
        self.iam("CreateRole", RoleName="mfa-required", AssumeRolePolicyDocument=self.trust(
            Bool={"aws:MultiFactorAuthPresent": "true"}))  # fmt: skip
        self.iam(
            "AttachRolePolicy",
            RoleName="mfa-required",
            PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess",
        )
        self.iam(
            "AttachUserPolicy", UserName=u, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )
        role = self.arn("role", "mfa-required")
        self.assume(role, "no-mfa", _as=me)
        self.next_totp_step()
        self.assume(role, "wrong-code", _as=me, SerialNumber=serial, TokenCode="123456")
        self.next_totp_step()
        code = self.totp(seed)
        s = self.assume(role, "with-mfa", _as=me, SerialNumber=serial, TokenCode=code)
        self.assume(role, "replayed-code", _as=me, SerialNumber=serial, TokenCode=code)
        if s:
            self.sts("GetCallerIdentity", _as=s)
            self.iam("ListUsers", _as=s, MaxItems=2, _name="ListUsers with MFA session")
        self.next_totp_step()
        gst = self.sts(
            "GetSessionToken",
            _as=me,
            SerialNumber=serial,
            TokenCode=self.totp(seed),
            DurationSeconds=3600,
        )
        self.sts("GetSessionToken", _as=me, _name="GetSessionToken without MFA")
        if gst.status == 200:
            sc = Caller.from_sts("mfa-session-token", gst.parsed["Credentials"])
            self.sts("GetCallerIdentity", _as=sc)
            self.iam("GetUser", _as=sc, _name="GetUser with MFA session token")
            self.assume(role, "from-session-token", _as=sc)
            self.sts("GetSessionToken", _as=sc, _name="GetSessionToken from session")
        self.next_totp_step()
        self.next_totp_step()
        self.iam("ResyncMFADevice", UserName=u, SerialNumber=serial,
                 AuthenticationCode1=self.totp(seed, self.h.t - 30), AuthenticationCode2=self.totp(seed))  # fmt: skip
        self.iam("ResyncMFADevice", UserName=u, SerialNumber=serial, AuthenticationCode1="111111",
                 AuthenticationCode2="222222", _name="ResyncMFADevice wrong codes")  # fmt: skip
        self.iam(
            "DeleteVirtualMFADevice",
            SerialNumber=serial,
            _name="DeleteVirtualMFADevice while enabled",
        )
        self.iam("DeactivateMFADevice", UserName=u, SerialNumber=serial)
        self.iam(
            "DeactivateMFADevice",
            UserName=u,
            SerialNumber=serial,
            _name="DeactivateMFADevice again",
        )
        self.iam("DeleteVirtualMFADevice", SerialNumber=serial)
        self.iam(
            "DeleteVirtualMFADevice", SerialNumber=serial, _name="DeleteVirtualMFADevice again"
        )
        self.iam("ListMFADevices", UserName=u, _name="ListMFADevices after delete")
        self.iam(
            "DetachUserPolicy", UserName=u, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )

    def providers(self) -> None:
        self.iam("CreateOpenIDConnectProvider", Url=OIDC_ISSUER, ClientIDList=[OIDC_CLIENT],
                 ThumbprintList=[THUMBPRINT], Tags=[{"Key": "idp", "Value": "test"}])  # fmt: skip
        arn = self.arn("oidc-provider", OIDC_PROVIDER)
        self.iam(
            "CreateOpenIDConnectProvider",
            Url=OIDC_ISSUER,
            ThumbprintList=[THUMBPRINT],
            _name="CreateOpenIDConnectProvider duplicate",
        )
        self.iam(
            "CreateOpenIDConnectProvider",
            Url="http://plain.example",
            ThumbprintList=[THUMBPRINT],
            _name="CreateOpenIDConnectProvider http",
        )
        self.iam(
            "CreateOpenIDConnectProvider",
            Url="https://x.example",
            ThumbprintList=["abc"],
            _name="CreateOpenIDConnectProvider bad thumbprint",
        )
        self.iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=arn)
        self.iam("ListOpenIDConnectProviders")
        self.iam(
            "AddClientIDToOpenIDConnectProvider",
            OpenIDConnectProviderArn=arn,
            ClientID="second-client",
        )
        self.iam(
            "AddClientIDToOpenIDConnectProvider",
            OpenIDConnectProviderArn=arn,
            ClientID="second-client",
            _name="AddClientID again",
        )
        self.iam(
            "RemoveClientIDFromOpenIDConnectProvider",
            OpenIDConnectProviderArn=arn,
            ClientID="second-client",
        )
        self.iam(
            "UpdateOpenIDConnectProviderThumbprint",
            OpenIDConnectProviderArn=arn,
            ThumbprintList=[THUMBPRINT, "a" * 40],
        )
        self.iam(
            "TagOpenIDConnectProvider",
            OpenIDConnectProviderArn=arn,
            Tags=[{"Key": "env", "Value": "test"}],
        )
        self.iam("ListOpenIDConnectProviderTags", OpenIDConnectProviderArn=arn)
        self.iam("UntagOpenIDConnectProvider", OpenIDConnectProviderArn=arn, TagKeys=["env"])
        self.iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=arn)
        self.iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=self.arn("oidc-provider", "none.example"),
                 _name="GetOpenIDConnectProvider missing")  # fmt: skip
        # SAML.
        meta = self.saml_metadata()
        self.iam(
            "CreateSAMLProvider",
            Name="corp-idp",
            SAMLMetadataDocument=meta,
            Tags=[{"Key": "idp", "Value": "corp"}],
        )
        self.iam(
            "CreateSAMLProvider",
            Name="corp-idp",
            SAMLMetadataDocument=meta,
            _name="CreateSAMLProvider duplicate",
        )
        self.iam(
            "CreateSAMLProvider",
            Name="broken",
            SAMLMetadataDocument="<not-metadata/>" * 100,
            _name="CreateSAMLProvider bad metadata",
        )
        sarn = self.arn("saml-provider", "corp-idp")
        self.iam("GetSAMLProvider", SAMLProviderArn=sarn)
        self.iam("ListSAMLProviders")
        self.iam("UpdateSAMLProvider", SAMLProviderArn=sarn, SAMLMetadataDocument=meta)
        self.iam("TagSAMLProvider", SAMLProviderArn=sarn, Tags=[{"Key": "env", "Value": "test"}])
        self.iam("ListSAMLProviderTags", SAMLProviderArn=sarn)
        self.iam("UntagSAMLProvider", SAMLProviderArn=sarn, TagKeys=["idp"])
        self.iam(
            "GetSAMLProvider",
            SAMLProviderArn=self.arn("saml-provider", "none"),
            _name="GetSAMLProvider missing",
        )

    def saml_metadata(self) -> str:
        start = datetime.fromtimestamp(self.h.t, tz=UTC).replace(microsecond=0) - timedelta(days=1)
        cert = cert_pem("rsa_b", "recorded-idp", start)
        b64 = "".join(cert.strip().splitlines()[1:-1])
        return (
            '<?xml version="1.0"?>\n'
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.recorded.test/saml">'
            '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f"{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            'Location="https://idp.recorded.test/sso"/>'
            "</md:IDPSSODescriptor></md:EntityDescriptor>"
        )

    def instance_profiles_and_service_roles(self) -> None:
        self.iam("CreateRole", RoleName="ec2-app", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}))  # fmt: skip
        self.iam(
            "CreateInstanceProfile",
            InstanceProfileName="ec2-app",
            Path="/apps/",
            Tags=[{"Key": "a", "Value": "b"}],
        )
        self.iam(
            "CreateInstanceProfile",
            InstanceProfileName="ec2-app",
            _name="CreateInstanceProfile duplicate",
        )
        self.iam("AddRoleToInstanceProfile", InstanceProfileName="ec2-app", RoleName="ec2-app")
        self.iam(
            "AddRoleToInstanceProfile",
            InstanceProfileName="ec2-app",
            RoleName="ec2-app",
            _name="AddRoleToInstanceProfile full",
        )
        self.iam("GetInstanceProfile", InstanceProfileName="ec2-app")
        self.iam("ListInstanceProfiles")
        self.iam("ListInstanceProfilesForRole", RoleName="ec2-app")
        self.iam(
            "TagInstanceProfile", InstanceProfileName="ec2-app", Tags=[{"Key": "c", "Value": "d"}]
        )
        self.iam("ListInstanceProfileTags", InstanceProfileName="ec2-app")
        self.iam("UntagInstanceProfile", InstanceProfileName="ec2-app", TagKeys=["a"])
        self.iam("DeleteRole", RoleName="ec2-app", _name="DeleteRole in instance profile")
        self.iam(
            "DeleteInstanceProfile",
            InstanceProfileName="ec2-app",
            _name="DeleteInstanceProfile with role",
        )
        self.iam("RemoveRoleFromInstanceProfile", InstanceProfileName="ec2-app", RoleName="ec2-app")
        self.iam("DeleteInstanceProfile", InstanceProfileName="ec2-app")
        self.iam(
            "GetInstanceProfile", InstanceProfileName="ec2-app", _name="GetInstanceProfile deleted"
        )
        self.iam("DeleteRole", RoleName="ec2-app")
        self.assume(self.arn("role", "ec2-app"), "deleted-role")
        # Service-linked roles.
        ex = self.iam("CreateServiceLinkedRole", AWSServiceName="autoscaling.amazonaws.com")
        self.iam(
            "CreateServiceLinkedRole",
            AWSServiceName="autoscaling.amazonaws.com",
            _name="CreateServiceLinkedRole again",
        )
        self.iam("CreateServiceLinkedRole", AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="fleet",
                 Description="fleet")  # fmt: skip
        self.iam(
            "CreateServiceLinkedRole",
            AWSServiceName="nonsense.example.com",
            _name="CreateServiceLinkedRole unknown service",
        )
        self.iam("ListRoles", PathPrefix="/aws-service-role/")
        if ex.status == 200:
            name = ex.parsed["Role"]["RoleName"]
            self.iam("DeleteRole", RoleName=name, _name="DeleteRole service-linked")
            self.iam(
                "UpdateAssumeRolePolicy",
                RoleName=name,
                PolicyDocument=self.trust(),
                _name="UpdateAssumeRolePolicy service-linked",
            )
            d = self.iam("DeleteServiceLinkedRole", RoleName=name)
            if d.status == 200:
                self.iam(
                    "GetServiceLinkedRoleDeletionStatus", DeletionTaskId=d.parsed["DeletionTaskId"]
                )
        self.iam("GetServiceLinkedRoleDeletionStatus",
                 DeletionTaskId="task/aws-service-role/autoscaling.amazonaws.com/x/00000000-0000-4000-8000-000000000000",
                 _name="GetServiceLinkedRoleDeletionStatus unknown")  # fmt: skip
        self.iam(
            "DeleteServiceLinkedRole",
            RoleName="not-service-linked",
            _name="DeleteServiceLinkedRole missing",
        )

    def sts_sessions(self) -> None:
        acct = self.acct
        self.iam("CreateRole", RoleName="partner", AssumeRolePolicyDocument=self.trust(
            StringEquals={"sts:ExternalId": "ext-1234"}), MaxSessionDuration=7200)  # fmt: skip
        self.iam(
            "AttachRolePolicy",
            RoleName="partner",
            PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess",
        )
        partner = self.arn("role", "partner")
        self.assume(partner, "no-external-id")
        self.assume(partner, "wrong-external-id", ExternalId="ext-9999")
        ok = self.assume(partner, "with-external-id", ExternalId="ext-1234")
        self.assume(partner, "too-long", ExternalId="ext-1234", DurationSeconds=43200)
        self.assume(partner, "too-short", ExternalId="ext-1234", DurationSeconds=600)
        self.assume(partner, "two-hours", ExternalId="ext-1234", DurationSeconds=7200)
        self.assume(partner, "bad name!", ExternalId="ext-1234")
        self.assume(partner, "x" * 65, ExternalId="ext-1234")
        self.assume(self.arn("role", "no-such-role"), "missing-role")
        self.assume("arn:aws:iam::123:role/x", "bad-arn")
        self.assume("not-an-arn", "bad-arn-2")
        if ok:
            self.sts("GetCallerIdentity", _as=ok)
            self.iam("ListRoles", _as=ok, MaxItems=1, _name="ListRoles read-only session")
            self.iam(
                "CreateUser", _as=ok, UserName="nope", _name="CreateUser from read-only session"
            )
            self.sts("GetSessionToken", _as=ok, _name="GetSessionToken from role session")
            self.sts(
                "GetFederationToken", _as=ok, Name="x", _name="GetFederationToken from role session"
            )
        # Session policies: inline and managed.
        self.iam(
            "CreateRole",
            RoleName="broad",
            AssumeRolePolicyDocument=self.trust(),
            MaxSessionDuration=14400,
        )
        self.iam(
            "AttachRolePolicy", RoleName="broad", PolicyArn="arn:aws:iam::aws:policy/IAMFullAccess"
        )
        broad = self.arn("role", "broad")
        s = self.assume(broad, "inline-session-policy", Policy=doc(allow("iam:GetRole")))
        if s:
            self.iam("GetRole", _as=s, RoleName="broad", _name="GetRole allowed by session policy")
            self.iam("GetUser", _as=s, UserName="admin", _name="GetUser outside session policy")
        s = self.assume(
            broad,
            "managed-session-policy",
            PolicyArns=[{"arn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}],
        )
        if s:
            self.iam(
                "ListRoles", _as=s, MaxItems=1, _name="ListRoles within managed session policy"
            )
            self.iam(
                "CreateGroup",
                _as=s,
                GroupName="nope",
                _name="CreateGroup outside managed session policy",
            )
        self.assume(broad, "malformed-session-policy", Policy="{bad")
        self.assume(
            broad,
            "session-policy-too-large",
            Policy=doc(
                *[
                    allow(f"iam:Get{i:04d}", f"arn:aws:iam::{acct}:role/{'r' * 60}{i}")
                    for i in range(60)
                ]
            ),
        )
        self.assume(broad, "missing-policy-arn", PolicyArns=[{"arn": self.arn("policy", "nope")}])
        # Tags, transitive tags, source identity, chaining.
        t = self.assume(broad, "tagged", Tags=[{"Key": "Project", "Value": "blue"}, {"Key": "CostCenter", "Value": "42"}],
                        TransitiveTagKeys=["Project"], SourceIdentity="alice@example.com")  # fmt: skip
        self.assume(broad, "tag-dup", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
        self.assume(
            broad, "transitive-not-tag", Tags=[{"Key": "a", "Value": "1"}], TransitiveTagKeys=["b"]
        )
        self.assume(broad, "bad-source-identity", SourceIdentity="has space!")
        if t:
            self.sts("GetCallerIdentity", _as=t)
            self.iam("CreateRole", _as=t, RoleName="chained", AssumeRolePolicyDocument=self.trust(
                [f"arn:aws:iam::{acct}:root"]), _name="CreateRole from tagged session")  # fmt: skip
            self.iam(
                "AttachRolePolicy",
                RoleName="chained",
                PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess",
            )
            c = self.assume(self.arn("role", "chained"), "chained-1", _as=t, DurationSeconds=3600)
            self.assume(self.arn("role", "chained"), "chained-long", _as=t, DurationSeconds=7200)
            self.assume(
                self.arn("role", "chained"),
                "chained-override",
                _as=t,
                SourceIdentity="bob@example.com",
            )
            self.assume(
                self.arn("role", "chained"),
                "chained-tag-override",
                _as=t,
                Tags=[{"Key": "Project", "Value": "red"}],
            )
            if c:
                self.sts("GetCallerIdentity", _as=c)
                self.iam("GetRole", _as=c, RoleName="chained", _name="GetRole from chained session")
                self.assume(broad, "chain-back", _as=c)
        # Role revocation of older sessions (an inline deny with aws:TokenIssueTime).
        r = self.assume(broad, "to-be-revoked")
        self.iam("PutRolePolicy", RoleName="broad", PolicyName="AWSRevokeOlderSessions", PolicyDocument=doc(
            deny("*", Condition={"DateLessThan": {"aws:TokenIssueTime": datetime.fromtimestamp(self.h.t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}})))  # fmt: skip
        if r:
            self.iam("ListRoles", _as=r, MaxItems=1, _name="ListRoles from revoked session")
        self.iam("DeleteRolePolicy", RoleName="broad", PolicyName="AWSRevokeOlderSessions")
        # GetSessionToken, GetFederationToken.
        g = self.sts("GetSessionToken", DurationSeconds=900)
        self.sts("GetSessionToken", DurationSeconds=60, _name="GetSessionToken too short")
        self.sts("GetSessionToken", DurationSeconds=200000, _name="GetSessionToken too long")
        if g.status == 200:
            gc = Caller.from_sts("admin-session-token", g.parsed["Credentials"])
            self.sts("GetCallerIdentity", _as=gc)
            self.iam(
                "ListUsers", _as=gc, MaxItems=1, _name="ListUsers with session token without MFA"
            )
            self.assume(broad, "from-admin-session-token", _as=gc)
        f = self.sts("GetFederationToken", Name="fed-alice", DurationSeconds=3600, Policy=doc(allow("iam:List*")),
                     Tags=[{"Key": "dept", "Value": "eng"}])  # fmt: skip
        self.sts(
            "GetFederationToken",
            Name="fed-bob",
            PolicyArns=[{"arn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}],
        )
        self.sts("GetFederationToken", Name="x", _name="GetFederationToken name too short")
        self.sts(
            "GetFederationToken", Name="fed-nopolicy", _name="GetFederationToken without policy"
        )
        if f.status == 200:
            fc = Caller.from_sts("federated-alice", f.parsed["Credentials"])
            self.sts("GetCallerIdentity", _as=fc)
            self.iam("ListUsers", _as=fc, MaxItems=1, _name="ListUsers federated user")
            self.assume(broad, "from-federated", _as=fc)
        # DecodeAuthorizationMessage with a message from a denied AssumeRole.
        self.iam("CreateRole", RoleName="locked", AssumeRolePolicyDocument=self.trust())
        self.iam("UpdateAssumeRolePolicy", RoleName="locked", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "sts:AssumeRole"}]}))  # fmt: skip
        denied = self.sts(
            "AssumeRole", RoleArn=self.arn("role", "locked"), RoleSessionName="denied"
        )
        msg = denied.parsed.get("Error", {}).get("Message", "")
        encoded = (
            msg.split("Encoded authorization failure message: ")[-1] if "Encoded" in msg else ""
        )
        if encoded:
            self.sts("DecodeAuthorizationMessage", EncodedMessage=encoded)
            self.sts(
                "DecodeAuthorizationMessage",
                EncodedMessage=encoded[:-8] + "AAAAAAAA",
                _name="DecodeAuthorizationMessage tampered",
            )
            if ok:
                self.sts(
                    "DecodeAuthorizationMessage",
                    _as=ok,
                    EncodedMessage=encoded,
                    _name="DecodeAuthorizationMessage denied",
                )
        self.sts(
            "DecodeAuthorizationMessage",
            EncodedMessage="garbage",
            _name="DecodeAuthorizationMessage garbage",
        )
        # Expiry: a 15-minute session, then the clock moves on.
        short = self.assume(broad, "short-lived", DurationSeconds=900)
        fed = (
            Caller.from_sts("federated-alice", f.parsed["Credentials"]) if f.status == 200 else None
        )
        self.h.advance(901)
        if short:
            self.sts("GetCallerIdentity", _as=short, _name="GetCallerIdentity expired session")
            self.iam("ListRoles", _as=short, _name="ListRoles expired session")
            self.sts("GetAccessKeyInfo", AccessKeyId=short.access_key_id)
        if fed:
            self.sts("GetCallerIdentity", _as=fed, _name="GetCallerIdentity federated still valid")
        if ok:
            self.sts(
                "GetCallerIdentity", _as=ok, _name="GetCallerIdentity one-hour session at 15 min"
            )
        self.h.advance(3600)
        if ok:
            self.sts(
                "GetCallerIdentity", _as=ok, _name="GetCallerIdentity one-hour session expired"
            )

    def limited_callers(self) -> None:
        reader = self.user_with_key("reader", "arn:aws:iam::aws:policy/ReadOnlyAccess")
        lister = self.user_with_key("lister", inline=doc(allow("iam:List*"), deny("iam:ListUsers")))
        nobody = self.user_with_key("nobody")
        scoped = self.user_with_key("scoped", inline=doc(
            allow("iam:*", f"arn:aws:iam::{self.acct}:user/scoped/*"),
            allow("iam:CreateUser", "*", Condition={"StringEquals": {"aws:RequestTag/team": "scoped"}}),
            allow("sts:AssumeRole", f"arn:aws:iam::{self.acct}:role/limited-*"),
            deny("iam:DeleteUser", "*", Condition={"StringNotEquals": {"aws:ResourceTag/deletable": "yes"}})))  # fmt: skip
        for who in (reader, lister, nobody, scoped):
            self.sts("GetCallerIdentity", _as=who)
            self.iam("GetUser", _as=who, _name=f"GetUser self as {who.label}")
            self.iam("ListUsers", _as=who, MaxItems=2, _name=f"ListUsers as {who.label}")
            self.iam("ListRoles", _as=who, MaxItems=2, _name=f"ListRoles as {who.label}")
            self.iam("GetUser", _as=who, UserName="admin", _name=f"GetUser admin as {who.label}")
            self.iam(
                "CreateUser",
                _as=who,
                UserName=f"from-{who.label}",
                _name=f"CreateUser as {who.label}",
            )
            self.iam(
                "CreateAccessKey",
                _as=who,
                UserName="admin",
                _name=f"CreateAccessKey for admin as {who.label}",
            )
            self.iam("AttachUserPolicy", _as=who, UserName=who.label, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
                     _name=f"AttachUserPolicy self-escalation as {who.label}")  # fmt: skip
            self.iam(
                "GetAccountAuthorizationDetails",
                _as=who,
                Filter=["User"],
                MaxItems=1,
                _name=f"GetAccountAuthorizationDetails as {who.label}",
            )
            self.iam("SimulatePrincipalPolicy", _as=who, PolicySourceArn=self.arn("user", who.label), ActionNames=["iam:CreateUser"],
                     _name=f"SimulatePrincipalPolicy self as {who.label}")  # fmt: skip
            self.org("DescribeOrganization", _as=who, _name=f"DescribeOrganization as {who.label}")
            self.sts(
                "GetSessionToken",
                _as=who,
                DurationSeconds=900,
                _name=f"GetSessionToken as {who.label}",
            )
        self.iam(
            "CreateUser",
            _as=scoped,
            UserName="s1",
            Path="/scoped/",
            Tags=[{"Key": "team", "Value": "scoped"}],
            _name="CreateUser with required tag",
        )
        self.iam(
            "CreateUser",
            _as=scoped,
            UserName="s2",
            Path="/scoped/",
            _name="CreateUser without required tag",
        )
        self.iam("DeleteUser", _as=scoped, UserName="s1", _name="DeleteUser denied by resource tag")
        self.iam("TagUser", UserName="s1", Tags=[{"Key": "deletable", "Value": "yes"}])
        self.iam(
            "DeleteUser", _as=scoped, UserName="s1", _name="DeleteUser allowed by resource tag"
        )
        # A role session with a narrow policy, assumed by a limited user.
        self.iam(
            "CreateRole",
            RoleName="limited-reader",
            AssumeRolePolicyDocument=self.trust(self.arn("user", "scoped")),
        )
        self.iam(
            "PutRolePolicy",
            RoleName="limited-reader",
            PolicyName="one",
            PolicyDocument=doc(allow("iam:GetRole", self.arn("role", "limited-reader"))),
        )
        s = self.assume(self.arn("role", "limited-reader"), "narrow", _as=scoped)
        self.assume(self.arn("role", "limited-reader"), "not-trusted", _as=reader)
        self.assume(self.arn("role", "broad"), "not-allowed-by-identity", _as=scoped)
        if s:
            self.iam(
                "GetRole",
                _as=s,
                RoleName="limited-reader",
                _name="GetRole allowed in narrow session",
            )
            self.iam(
                "GetRole", _as=s, RoleName="broad", _name="GetRole other role in narrow session"
            )
            self.iam("ListUsers", _as=s, _name="ListUsers narrow session")
            self.iam(
                "DeleteRole", _as=s, RoleName="limited-reader", _name="DeleteRole narrow session"
            )
            self.org("ListAccounts", _as=s, _name="ListAccounts narrow session")
            self.sts(
                "DecodeAuthorizationMessage",
                _as=s,
                EncodedMessage="x",
                _name="DecodeAuthorizationMessage narrow session",
            )
        self.reader = reader

    def federation(self) -> None:
        from joserfc import jwt
        from joserfc.jwk import RSAKey

        from rolegate.federation.jwks import JwksCache

        jwk = RSAKey.import_key(key_pem("rsa_a"), parameters={"kid": "recorded-1"})
        other = RSAKey.import_key(key_pem("rsa_b"), parameters={"kid": "recorded-1"})
        jwks = {"keys": [jwk.as_dict(private=False, use="sig")]}

        def fetch(url: str, thumbprints: Any = ()) -> dict:
            if url == OIDC_ISSUER + "/.well-known/openid-configuration":
                return {"issuer": OIDC_ISSUER, "jwks_uri": OIDC_ISSUER + "/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"]}  # fmt: skip
            if url == OIDC_ISSUER + "/jwks":
                return jwks
            from rolegate.federation.jwks import FetchError

            raise FetchError(f"no such document in the recorded corpus: {url}")

        self.h.state.jwks = JwksCache(fetch)

        def token(key: Any = jwk, **claims: Any) -> str:
            now = int(self.h.t)
            body = {
                "iss": OIDC_ISSUER,
                "aud": OIDC_CLIENT,
                "sub": "repo:corp/app:ref:main",
                "iat": now,
                "exp": now + 300,
                **claims,
            }
            return jwt.encode(
                {"alg": "RS256", "kid": "recorded-1", "typ": "JWT"}, body, key, algorithms=["RS256"]
            )

        parn = self.arn("oidc-provider", OIDC_PROVIDER)
        self.iam("CreateRole", RoleName="ci", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": parn}, "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
            "Condition": {"StringEquals": {f"{OIDC_PROVIDER}:aud": OIDC_CLIENT},
                          "StringLike": {f"{OIDC_PROVIDER}:sub": "repo:corp/*"}}}]}))  # fmt: skip
        self.iam(
            "AttachRolePolicy", RoleName="ci", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
        )
        role = self.arn("role", "ci")

        def web(label: str, tok: str, **p: Any) -> Exchange:
            return self.h.call("sts", "AssumeRoleWithWebIdentity",
                               {"RoleArn": role, "RoleSessionName": "ci-run", "WebIdentityToken": tok, **p},
                               unsigned=True, name=f"AssumeRoleWithWebIdentity {label}")  # fmt: skip

        ok = web("ok", token())
        web(
            "with tags claim",
            token(
                **{
                    "https://aws.amazon.com/tags": {
                        "principal_tags": {"repo": ["app"]},
                        "transitive_tag_keys": ["repo"],
                    }
                }
            ),
        )
        web("session policy", token(), Policy=doc(allow("iam:GetRole")), DurationSeconds=1800)
        web("wrong audience", token(aud="someone-else"))
        web("subject not trusted", token(sub="repo:evil/app"))
        web("expired", token(iat=int(self.h.t) - 1000, exp=int(self.h.t) - 100))
        web("not yet valid", token(nbf=int(self.h.t) + 1000))
        web("wrong key", token(key=other))
        web("wrong issuer", token(iss="https://other.recorded.test"))
        web("garbage token", "not.a.jwt")
        web("empty token", "")
        web("too long duration", token(), DurationSeconds=50000)
        self.h.call("sts", "AssumeRoleWithWebIdentity", {"RoleArn": self.arn("role", "broad"), "RoleSessionName": "ci-run", "WebIdentityToken": token()},
                    unsigned=True, name="AssumeRoleWithWebIdentity role without federated trust")  # fmt: skip
        self.h.call("sts", "AssumeRoleWithWebIdentity", {"RoleArn": role, "RoleSessionName": "ci-run", "WebIdentityToken": token()},
                    name="AssumeRoleWithWebIdentity signed")  # fmt: skip
        if ok.status == 200:
            c = Caller.from_sts("web-identity", ok.parsed["Credentials"])
            self.sts("GetCallerIdentity", _as=c)
            self.iam("GetRole", _as=c, RoleName="ci", _name="GetRole from web identity session")
            self.iam(
                "CreateUser", _as=c, UserName="x", _name="CreateUser from web identity session"
            )
        # SAML: the answers to assertions that do not verify.
        self.iam("CreateRole", RoleName="saml-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": self.arn("saml-provider", "corp-idp")},
            "Action": "sts:AssumeRoleWithSAML",
            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}]}))  # fmt: skip
        sarn = self.arn("saml-provider", "corp-idp")
        unsigned_assertion = base64.b64encode(
            b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0" '
            b'IssueInstant="2035-06-02T12:00:00Z"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
            b"https://idp.recorded.test/saml</saml:Issuer></samlp:Response>"
        ).decode()
        for label, assertion in (("unsigned", unsigned_assertion), ("not base64", "%%%"), ("not xml", base64.b64encode(b"hello").decode()),
                                 ("too short", "QQ==")):  # fmt: skip
            self.h.call("sts", "AssumeRoleWithSAML", {"RoleArn": self.arn("role", "saml-role"), "PrincipalArn": sarn,
                                                      "SAMLAssertion": assertion + "A" * 0},
                        unsigned=True, name=f"AssumeRoleWithSAML {label}")  # fmt: skip
        self.h.call("sts", "AssumeRoleWithSAML", {"RoleArn": self.arn("role", "saml-role"), "PrincipalArn": self.arn("saml-provider", "none"),
                                                  "SAMLAssertion": unsigned_assertion},
                    unsigned=True, name="AssumeRoleWithSAML unknown provider")  # fmt: skip

    def reports_and_simulation(self) -> None:
        self.iam("GetCredentialReport", _name="GetCredentialReport before generate")
        self.iam("GenerateCredentialReport")
        self.iam("GenerateCredentialReport", _name="GenerateCredentialReport again")
        self.iam("GetCredentialReport")
        self.iam("GetAccountAuthorizationDetails", MaxItems=5)
        self.iam("GetAccountAuthorizationDetails", Filter=["Role"], MaxItems=3)
        self.iam("GetAccountAuthorizationDetails", Filter=["Group", "LocalManagedPolicy"])
        self.iam("GetAccountAuthorizationDetails", Filter=["User"])
        self.iam(
            "GetAccountAuthorizationDetails",
            Filter=["Bogus"],
            _name="GetAccountAuthorizationDetails bad filter",
        )
        acts = ["iam:CreateUser", "iam:GetUser", "iam:ListRoles", "s3:GetObject", "sts:AssumeRole"]
        for who in (
            "user/reader",
            "user/lister",
            "user/scoped",
            "user/admin",
            "role/broad",
            "role/partner",
            "role/ci",
        ):
            self.iam(
                "SimulatePrincipalPolicy",
                PolicySourceArn=f"arn:aws:iam::{self.acct}:{who}",
                ActionNames=acts,
            )
        self.iam("SimulatePrincipalPolicy", PolicySourceArn=self.arn("user", "scoped"), ActionNames=["iam:DeleteUser"],
                 ResourceArns=[self.arn("user", "scoped/s2")],
                 ContextEntries=[{"ContextKeyName": "aws:ResourceTag/deletable", "ContextKeyValues": ["yes"], "ContextKeyType": "string"}])  # fmt: skip
        self.iam("SimulatePrincipalPolicy", PolicySourceArn=self.arn("user", "reader"), ActionNames=["s3:PutObject"],
                 PolicyInputList=[doc(allow("s3:PutObject"))])  # fmt: skip
        self.iam(
            "SimulatePrincipalPolicy",
            PolicySourceArn=self.arn("user", "ghost"),
            ActionNames=["s3:GetObject"],
            _name="SimulatePrincipalPolicy missing",
        )
        self.iam(
            "SimulatePrincipalPolicy",
            PolicySourceArn=self.arn("user", "reader"),
            ActionNames=["s3:GetObject"],
            MaxItems=1,
        )
        self.iam("SimulateCustomPolicy", PolicyInputList=[doc(allow("s3:*", "arn:aws:s3:::b/*"), deny("s3:DeleteObject"))],
                 ActionNames=["s3:GetObject", "s3:DeleteObject", "ec2:RunInstances"], ResourceArns=["arn:aws:s3:::b/k"])  # fmt: skip
        self.iam("SimulateCustomPolicy", PolicyInputList=[doc(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))],
                 ActionNames=["s3:GetObject"], ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"], "ContextKeyType": "ip"}])  # fmt: skip
        self.iam("SimulateCustomPolicy", PolicyInputList=[doc(allow("s3:*"))], ActionNames=["s3:GetObject"],
                 PermissionsBoundaryPolicyInputList=[doc(allow("s3:List*"))])  # fmt: skip
        self.iam(
            "SimulateCustomPolicy",
            PolicyInputList=["{bad"],
            ActionNames=["s3:GetObject"],
            _name="SimulateCustomPolicy malformed",
        )
        self.iam(
            "SimulateCustomPolicy",
            PolicyInputList=[doc(allow("s3:*"))],
            ActionNames=[],
            _name="SimulateCustomPolicy no actions",
        )
        self.iam("GetContextKeysForCustomPolicy", PolicyInputList=[doc(allow("s3:*", Condition={
            "StringEquals": {"aws:username": "x", "s3:prefix": "y"}, "Bool": {"aws:MultiFactorAuthPresent": "true"}}))])  # fmt: skip
        self.iam("GetContextKeysForPrincipalPolicy", PolicySourceArn=self.arn("user", "scoped"))
        self.iam(
            "GetContextKeysForPrincipalPolicy",
            PolicySourceArn=self.arn("user", "scoped"),
            PolicyInputList=[
                doc(allow("s3:*", Condition={"StringEquals": {"s3:x-amz-acl": "private"}}))
            ],
        )
        # Service last accessed (from the audit trail).
        for target in (
            "user/reader",
            "role/broad",
            "group/team1/team1-developers",
            "policy/team1/team1-s3",
        ):
            arn = f"arn:aws:iam::{self.acct}:{target}"
            ex = self.iam("GenerateServiceLastAccessedDetails", Arn=arn)
            self.iam("GenerateServiceLastAccessedDetails", Arn=arn, Granularity="ACTION_LEVEL")
            job = ex.parsed.get("JobId")
            if job:
                self.iam("GetServiceLastAccessedDetails", JobId=job)
                self.iam("GetServiceLastAccessedDetails", JobId=job, MaxItems=1)
                self.iam(
                    "GetServiceLastAccessedDetailsWithEntities", JobId=job, ServiceNamespace="iam"
                )
                self.iam(
                    "GetServiceLastAccessedDetailsWithEntities", JobId=job, ServiceNamespace="sts"
                )
        self.iam(
            "GenerateServiceLastAccessedDetails",
            Arn=self.arn("user", "ghost"),
            _name="GenerateServiceLastAccessedDetails missing",
        )
        self.iam(
            "GetServiceLastAccessedDetails",
            JobId="00000000-0000-4000-8000-000000000000",
            _name="GetServiceLastAccessedDetails unknown job",
        )
        self.iam(
            "ListPoliciesGrantingServiceAccess",
            Arn=self.arn("user", "reader"),
            ServiceNamespaces=["iam", "sts", "s3"],
        )
        self.iam(
            "ListPoliciesGrantingServiceAccess",
            Arn=self.arn("role", "broad"),
            ServiceNamespaces=["iam"],
        )
        self.iam(
            "ListPoliciesGrantingServiceAccess",
            Arn=self.arn("user", "team1/team1-user1"),
            ServiceNamespaces=["logs", "sqs"],
        )
        self.iam(
            "ListPoliciesGrantingServiceAccess",
            Arn=self.arn("user", "reader"),
            ServiceNamespaces=["NOT VALID"],
            _name="ListPoliciesGrantingServiceAccess bad namespace",
        )
        self.iam("GetAccountSummary")

    def organizations(self) -> None:
        self.org("DescribeOrganization", _name="DescribeOrganization before create")
        self.org("ListAccounts", _name="ListAccounts before create")
        self.org("CreateOrganization", FeatureSet="ALL")
        self.org("CreateOrganization", FeatureSet="ALL", _name="CreateOrganization again")
        self.org("DescribeOrganization")
        self.iam("ListOrganizationsFeatures")
        roots = self.org("ListRoots").parsed.get("Roots", [])
        root_id = roots[0]["Id"] if roots else "r-0000"
        accounts = []
        for i in range(4):
            ex = self.org("CreateAccount", Email=f"member{i}@recorded.test", AccountName=f"member-{i}",
                          Tags=[{"Key": "env", "Value": f"e{i}"}])  # fmt: skip
            st = ex.parsed.get("CreateAccountStatus", {})
            if st.get("Id"):
                d = self.org("DescribeCreateAccountStatus", CreateAccountRequestId=st["Id"])
                acct = d.parsed.get("CreateAccountStatus", {}).get("AccountId")
                if acct:
                    accounts.append(acct)
        self.org(
            "CreateAccount",
            Email="member0@recorded.test",
            AccountName="dup",
            _name="CreateAccount duplicate email",
        )
        self.org(
            "CreateAccount",
            Email="not-an-email",
            AccountName="bad",
            _name="CreateAccount bad email",
        )
        self.org(
            "CreateAccount",
            Email="x@recorded.test",
            AccountName="",
            _name="CreateAccount empty name",
        )
        self.org(
            "DescribeCreateAccountStatus",
            CreateAccountRequestId="car-00000000000000000000000000000000",
            _name="DescribeCreateAccountStatus unknown",
        )
        self.org("ListCreateAccountStatus")
        self.org("ListCreateAccountStatus", States=["SUCCEEDED"], MaxResults=2)
        # Accounts are listed (and paged) in the order of their ids, which are
        # random: a page smaller than the list would hold different accounts
        # each run, so pages here hold them all.
        self.org("ListAccounts", MaxResults=10)
        self.org("ListAccounts")
        self.org("ListAccounts", NextToken="bogus", _name="ListAccounts bad token")
        for a in accounts[:2]:
            self.org("DescribeAccount", AccountId=a)
            self.org("ListParents", ChildId=a)
        self.org("DescribeAccount", AccountId="999999999999", _name="DescribeAccount unknown")
        self.org("DescribeAccount", AccountId="12", _name="DescribeAccount invalid")
        self.org("ListChildren", ParentId=root_id, ChildType="ACCOUNT")
        self.org("ListChildren", ParentId=root_id, ChildType="ORGANIZATIONAL_UNIT")
        self.org(
            "ListChildren",
            ParentId="r-zzzz",
            ChildType="ACCOUNT",
            _name="ListChildren unknown parent",
        )
        self.org("ListAccountsForParent", ParentId=root_id)
        self.org("ListAccountsForParent", ParentId=root_id, MaxResults=10)
        self.org("ListParents", ChildId=self.acct)
        self.org("ListRoots", MaxResults=1)
        self.h.call(
            "organizations",
            "ListAccounts",
            {},
            caller=self.admin,
            signing_service="iam",
            name="ListAccounts signed for iam",
        )
        if accounts:
            member = accounts[0]
            m = self.assume(
                f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", "into-member"
            )
            if m:
                self.sts("GetCallerIdentity", _as=m)
                self.iam("ListRoles", _as=m, _name="ListRoles in member account")
                self.iam(
                    "CreateUser",
                    _as=m,
                    UserName="member-admin",
                    _name="CreateUser in member account",
                )
                self.iam(
                    "GetUser", _as=m, UserName="member-admin", _name="GetUser in member account"
                )
                self.iam(
                    "GetUser", _as=m, UserName="admin", _name="GetUser management admin from member"
                )
                self.org("DescribeOrganization", _as=m, _name="DescribeOrganization from member")
                self.org("ListAccounts", _as=m, _name="ListAccounts from member")
                self.org(
                    "CreateAccount",
                    _as=m,
                    Email="m@recorded.test",
                    AccountName="m",
                    _name="CreateAccount from member",
                )
                self.iam(
                    "DeleteUser",
                    _as=m,
                    UserName="member-admin",
                    _name="DeleteUser in member account",
                )
            self.assume(
                f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                "reader-into-member",
                _as=self.reader,
            )
            # Centralised root access.
            self.sts("AssumeRoot", TargetPrincipal=member, TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},
                     _name="AssumeRoot before enabling")  # fmt: skip
            self.iam("EnableOrganizationsRootCredentialsManagement")
            self.iam("EnableOrganizationsRootSessions")
            self.iam(
                "EnableOrganizationsRootSessions", _name="EnableOrganizationsRootSessions again"
            )
            self.iam("ListOrganizationsFeatures")
            r = self.sts("AssumeRoot", TargetPrincipal=member, DurationSeconds=900,
                         TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"})  # fmt: skip
            self.sts(
                "AssumeRoot",
                TargetPrincipal=member,
                TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                _name="AssumeRoot not a task policy",
            )
            self.sts("AssumeRoot", TargetPrincipal=self.acct, TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},
                     _name="AssumeRoot management account")  # fmt: skip
            self.sts("AssumeRoot", TargetPrincipal=member, DurationSeconds=3600,
                     TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}, _name="AssumeRoot too long")  # fmt: skip
            if r.status == 200:
                rc = Caller.from_sts("root-session", r.parsed["Credentials"])
                self.sts("GetCallerIdentity", _as=rc)
                self.iam("GetAccountSummary", _as=rc, _name="GetAccountSummary root task session")
                self.iam("ListUsers", _as=rc, _name="ListUsers root task session")
                self.iam("GetLoginProfile", _as=rc, _name="GetLoginProfile root task session")
            self.iam("DisableOrganizationsRootSessions")
            self.iam("DisableOrganizationsRootCredentialsManagement")
            self.iam(
                "DisableOrganizationsRootCredentialsManagement",
                _name="DisableOrganizationsRootCredentialsManagement again",
            )

    def auth_errors(self) -> None:
        a = self.admin
        self.sts(
            "GetCallerIdentity",
            _as=Caller("wrong-secret", a.access_key_id, "x" * 40),
            _name="GetCallerIdentity wrong secret",
        )
        self.iam(
            "ListUsers",
            _as=Caller("wrong-secret", a.access_key_id, "x" * 40),
            _name="ListUsers wrong secret",
        )
        self.sts(
            "GetCallerIdentity",
            _as=Caller("unknown-key", "AKIAZZZZZZZZZZZZZZZZ", "x" * 40),
            _name="GetCallerIdentity unknown key",
        )
        self.sts(
            "GetCallerIdentity",
            _as=Caller("asia-no-token", "ASIAZZZZZZZZZZZZZZZZ", "x" * 40),
            _name="GetCallerIdentity ASIA without token",
        )
        self.h.call(
            "sts", "GetCallerIdentity", {}, unsigned=True, name="GetCallerIdentity unsigned"
        )
        self.h.call("iam", "ListUsers", {}, unsigned=True, name="ListUsers unsigned")
        self.h.call(
            "organizations", "ListAccounts", {}, unsigned=True, name="ListAccounts unsigned"
        )
        s = self.assume(self.arn("role", "broad"), "for-forgery")
        if s:
            tok = s.session_token or ""
            mid = len(tok) // 2
            forged = tok[:mid] + ("A" if tok[mid] != "A" else "B") + tok[mid + 1 :]
            self.sts(
                "GetCallerIdentity",
                _as=Caller("forged-token", s.access_key_id, s.secret_access_key, forged),
                _name="GetCallerIdentity forged token",
            )
            self.sts(
                "GetCallerIdentity",
                _as=Caller("truncated-token", s.access_key_id, s.secret_access_key, tok[:40]),
                _name="GetCallerIdentity truncated token",
            )
            self.sts(
                "GetCallerIdentity",
                _as=Caller("other-akid", "ASIAZZZZZZZZZZZZZZZZ", s.secret_access_key, tok),
                _name="GetCallerIdentity token for another key",
            )
            self.sts(
                "GetCallerIdentity",
                _as=Caller("wrong-session-secret", s.access_key_id, "y" * 40, tok),
                _name="GetCallerIdentity session wrong secret",
            )
        # Clock skew.
        self.h.sign_skew = -20 * 60
        self.sts("GetCallerIdentity", _name="GetCallerIdentity signed 20 minutes ago")
        self.h.sign_skew = 20 * 60
        self.sts("GetCallerIdentity", _name="GetCallerIdentity signed 20 minutes ahead")
        self.h.sign_skew = 10 * 60
        self.sts("GetCallerIdentity", _name="GetCallerIdentity signed 10 minutes ahead")
        self.h.sign_skew = 0

        # Bodies changed after signing; hand-made requests.
        def swap_body(headers: list, body: bytes) -> tuple[list, bytes]:
            return headers, body.replace(b"MaxItems=1", b"MaxItems=2")

        self.h.call(
            "iam",
            "ListUsers",
            {"MaxItems": 1},
            tamper=swap_body,
            name="ListUsers body changed after signing",
        )

        def drop_auth(headers: list, body: bytes) -> tuple[list, bytes]:
            return [(k, v) for k, v in headers if k.lower() != "authorization"], body

        self.h.call(
            "iam", "ListUsers", {}, tamper=drop_auth, name="ListUsers authorization dropped"
        )

        def bad_auth(headers: list, body: bytes) -> tuple[list, bytes]:
            return [
                (k, "AWS4-HMAC-SHA256 Credential=garbage" if k.lower() == "authorization" else v)
                for k, v in headers
            ], body

        self.h.call(
            "iam", "ListUsers", {}, tamper=bad_auth, name="ListUsers malformed authorization"
        )
        form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        self.h.raw(
            "iam unknown action",
            body=b"Action=FlyToTheMoon&Version=2010-05-08",
            headers=form,
            signing_service="iam",
        )
        self.h.raw(
            "sts unknown action",
            body=b"Action=ListUsers&Version=2011-06-15",
            headers=form,
            signing_service="sts",
        )
        self.h.raw(
            "iam wrong version",
            body=b"Action=ListUsers&Version=2011-06-15",
            headers=form,
            signing_service="iam",
        )
        self.h.raw("iam no version", body=b"Action=ListUsers", headers=form, signing_service="iam")
        self.h.raw("iam no action", body=b"Version=2010-05-08", headers=form, signing_service="iam")
        self.h.raw("iam empty body", body=b"", headers=form, signing_service="iam")
        self.h.raw(
            "signed for s3",
            body=b"Action=ListUsers&Version=2010-05-08",
            headers=form,
            signing_service="s3",
        )
        self.h.raw(
            "signed for ec2",
            body=b"Action=DescribeInstances&Version=2016-11-15",
            headers=form,
            signing_service="ec2",
        )
        self.h.raw("iam via GET query", body=b"", headers={}, signing_service="iam", method="GET",
                   url="http://127.0.0.1:8080/?Action=ListUsers&Version=2010-05-08&MaxItems=1")  # fmt: skip
        self.h.raw("sts via GET query", body=b"", headers={}, signing_service="sts", method="GET",
                   url="http://127.0.0.1:8080/?Action=GetCallerIdentity&Version=2011-06-15")  # fmt: skip
        js = {"Content-Type": "application/x-amz-json-1.1"}
        self.h.raw(
            "organizations no target", body=b"{}", headers=js, signing_service="organizations"
        )
        self.h.raw("organizations unknown target", body=b"{}", headers={**js, "X-Amz-Target": "AWSOrganizationsV20161128.DeleteOrganization"},
                   signing_service="organizations")  # fmt: skip
        self.h.raw(
            "organizations wrong prefix",
            body=b"{}",
            headers={**js, "X-Amz-Target": "Other.ListAccounts"},
            signing_service="organizations",
        )
        self.h.raw("organizations bad json", body=b"{not json", headers={**js, "X-Amz-Target": "AWSOrganizationsV20161128.ListAccounts"},
                   signing_service="organizations")  # fmt: skip
        self.h.raw("organizations json array", body=b"[]", headers={**js, "X-Amz-Target": "AWSOrganizationsV20161128.ListAccounts"},
                   signing_service="organizations")  # fmt: skip
        self.h.raw(
            "unsigned unknown action",
            body=b"Action=Nope&Version=2011-06-15",
            headers=form,
            signing_service=None,
        )

    def validation_errors(self) -> None:
        long = "n" * 129
        cases: list[tuple[str, str, dict[str, Any]]] = [
            ("CreateUser", "name too long", {"UserName": "u" * 65}),
            ("CreateUser", "bad characters", {"UserName": "bad name"}),
            ("CreateUser", "missing name", {}),
            ("CreateUser", "bad path", {"UserName": "ok", "Path": "nopath"}),
            ("CreateUser", "bad tag key", {"UserName": "ok2", "Tags": [{"Key": "", "Value": "x"}]}),
            (
                "CreateUser",
                "duplicate tag keys",
                {
                    "UserName": "ok3",
                    "Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
                },
            ),
            (
                "CreateUser",
                "aws tag prefix",
                {"UserName": "ok4", "Tags": [{"Key": "aws:x", "Value": "1"}]},
            ),
            ("CreateGroup", "name too long", {"GroupName": long}),
            ("CreateRole", "missing trust", {"RoleName": "r1"}),
            ("CreateRole", "malformed trust", {"RoleName": "r2", "AssumeRolePolicyDocument": "{"}),
            (
                "CreateRole",
                "trust without principal",
                {"RoleName": "r3", "AssumeRolePolicyDocument": doc(allow("sts:AssumeRole"))},
            ),
            (
                "CreateRole",
                "trust with resource",
                {
                    "RoleName": "r4",
                    "AssumeRolePolicyDocument": json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"AWS": "*"},
                                    "Action": "sts:AssumeRole",
                                    "Resource": "*",
                                }
                            ],
                        }
                    ),
                },
            ),
            (
                "CreateRole",
                "trust unknown principal",
                {
                    "RoleName": "r5",
                    "AssumeRolePolicyDocument": self.trust(f"arn:aws:iam::{self.acct}:user/ghost"),
                },
            ),
            (
                "CreateRole",
                "max duration too long",
                {
                    "RoleName": "r6",
                    "AssumeRolePolicyDocument": self.trust(),
                    "MaxSessionDuration": 50000,
                },
            ),
            (
                "CreateRole",
                "description too long",
                {
                    "RoleName": "r7",
                    "AssumeRolePolicyDocument": self.trust(),
                    "Description": "d" * 1001,
                },
            ),
            (
                "CreatePolicy",
                "description too long",
                {
                    "PolicyName": "p",
                    "PolicyDocument": doc(allow("s3:*")),
                    "Description": "d" * 1001,
                },
            ),
            ("GetPolicy", "bad arn", {"PolicyArn": "not-an-arn"}),
            ("GetPolicy", "missing arn", {}),
            (
                "AttachUserPolicy",
                "missing user",
                {"UserName": "ghost", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
            ),
            (
                "AttachRolePolicy",
                "bad arn",
                {"RoleName": "broad", "PolicyArn": "arn:aws:s3:::bucket"},
            ),
            (
                "PutRolePolicy",
                "missing role",
                {"RoleName": "ghost", "PolicyName": "p", "PolicyDocument": doc(allow("s3:*"))},
            ),
            (
                "PutRolePolicy",
                "bad policy name",
                {
                    "RoleName": "broad",
                    "PolicyName": "bad name",
                    "PolicyDocument": doc(allow("s3:*")),
                },
            ),
            ("DeleteRole", "missing", {"RoleName": "ghost"}),
            ("DeleteGroup", "missing", {"GroupName": "ghost"}),
            ("DeleteUser", "missing", {"UserName": "ghost"}),
            ("DeletePolicy", "missing", {"PolicyArn": self.arn("policy", "ghost")}),
            ("ListAccessKeys", "missing user", {"UserName": "ghost"}),
            ("CreateAccessKey", "missing user", {"UserName": "ghost"}),
            (
                "UpdateAccessKey",
                "missing key",
                {"AccessKeyId": "AKIAZZZZZZZZZZZZZZZZ", "Status": "Inactive"},
            ),
            ("GetAccessKeyLastUsed", "missing key", {"AccessKeyId": "AKIAZZZZZZZZZZZZZZZZ"}),
            ("GetUserPolicy", "missing", {"UserName": "admin", "PolicyName": "ghost"}),
            ("GetRolePolicy", "missing", {"RoleName": "broad", "PolicyName": "ghost"}),
            ("ListGroupsForUser", "missing", {"UserName": "ghost"}),
            ("GetGroup", "missing", {"GroupName": "ghost"}),
            ("AddUserToGroup", "missing group", {"GroupName": "ghost", "UserName": "admin"}),
            (
                "ListEntitiesForPolicy",
                "bad filter",
                {"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "EntityFilter": "Nothing"},
            ),
            ("ListPolicies", "bad scope", {"Scope": "Everything"}),
            ("ListRoles", "bad path prefix", {"PathPrefix": "nope"}),
            (
                "TagRole",
                "missing role",
                {"RoleName": "ghost", "Tags": [{"Key": "a", "Value": "b"}]},
            ),
            ("UntagUser", "missing keys", {"UserName": "admin", "TagKeys": []}),
            ("UpdateRole", "missing", {"RoleName": "ghost"}),
            ("CreateVirtualMFADevice", "bad name", {"VirtualMFADeviceName": "bad name"}),
            (
                "EnableMFADevice",
                "bad code",
                {
                    "UserName": "admin",
                    "SerialNumber": f"arn:aws:iam::{self.acct}:mfa/x",
                    "AuthenticationCode1": "abc",
                    "AuthenticationCode2": "def",
                },
            ),
            ("CreateInstanceProfile", "bad path", {"InstanceProfileName": "ip", "Path": "x"}),
            ("GetServerCertificate", "missing", {"ServerCertificateName": "ghost"}),
            ("GetSAMLProvider", "bad arn", {"SAMLProviderArn": "nope"}),
            (
                "DeleteOpenIDConnectProvider",
                "missing",
                {"OpenIDConnectProviderArn": self.arn("oidc-provider", "ghost.example")},
            ),
            (
                "SimulatePrincipalPolicy",
                "bad arn",
                {"PolicySourceArn": "nope", "ActionNames": ["s3:GetObject"]},
            ),
            ("GetContextKeysForCustomPolicy", "missing input", {}),
            (
                "GenerateServiceLastAccessedDetails",
                "bad granularity",
                {"Arn": self.arn("user", "reader"), "Granularity": "FINE"},
            ),
            (
                "CreateServiceSpecificCredential",
                "missing user",
                {"UserName": "ghost", "ServiceName": "codecommit.amazonaws.com"},
            ),
            (
                "UploadSSHPublicKey",
                "missing user",
                {"UserName": "ghost", "SSHPublicKeyBody": ssh_public("rsa_a")},
            ),
            ("DeleteAccountAlias", "missing", {"AccountAlias": "not-the-alias"}),
        ]
        for op, label, params in cases:
            self.iam(op, _name=f"{op} {label}", **params)
        sts_cases: list[tuple[str, str, dict[str, Any]]] = [
            ("AssumeRole", "missing session name", {"RoleArn": self.arn("role", "broad")}),
            ("AssumeRole", "missing role", {"RoleSessionName": "x"}),
            (
                "AssumeRole",
                "too many tags",
                {
                    "RoleArn": self.arn("role", "broad"),
                    "RoleSessionName": "xx",
                    "Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(51)],
                },
            ),
            (
                "AssumeRole",
                "too many policy arns",
                {
                    "RoleArn": self.arn("role", "broad"),
                    "RoleSessionName": "xx",
                    "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}] * 11,
                },
            ),
            (
                "AssumeRole",
                "external id too short",
                {
                    "RoleArn": self.arn("role", "partner"),
                    "RoleSessionName": "xx",
                    "ExternalId": "a",
                },
            ),
            (
                "AssumeRole",
                "serial without code",
                {
                    "RoleArn": self.arn("role", "broad"),
                    "RoleSessionName": "xx",
                    "SerialNumber": f"arn:aws:iam::{self.acct}:mfa/x",
                },
            ),
            (
                "GetSessionToken",
                "bad code format",
                {"SerialNumber": f"arn:aws:iam::{self.acct}:mfa/x", "TokenCode": "12"},
            ),
            ("GetFederationToken", "bad name", {"Name": "bad name!"}),
            ("GetAccessKeyInfo", "missing", {}),
            ("DecodeAuthorizationMessage", "missing", {}),
        ]
        for op, label, params in sts_cases:
            self.sts(op, _name=f"{op} {label}", **params)
        self.org(
            "CreateOrganization", FeatureSet="SOME", _name="CreateOrganization bad feature set"
        )
        self.org(
            "ListChildren", ParentId="bad", ChildType="ACCOUNT", _name="ListChildren bad parent id"
        )
        self.org("ListAccounts", MaxResults=0, _name="ListAccounts MaxResults 0")
        self.org("ListParents", ChildId="nope", _name="ListParents bad child id")

    def teardown(self) -> None:
        self.iam(
            "DeleteOpenIDConnectProvider",
            OpenIDConnectProviderArn=self.arn("oidc-provider", OIDC_PROVIDER),
        )
        self.iam(
            "DeleteOpenIDConnectProvider",
            OpenIDConnectProviderArn=self.arn("oidc-provider", OIDC_PROVIDER),
            _name="DeleteOpenIDConnectProvider again",
        )
        self.iam("DeleteSAMLProvider", SAMLProviderArn=self.arn("saml-provider", "corp-idp"))
        self.iam(
            "DeleteSAMLProvider",
            SAMLProviderArn=self.arn("saml-provider", "corp-idp"),
            _name="DeleteSAMLProvider again",
        )
        self.iam("DeleteAccountAlias", AccountAlias="recorded-corp")
        self.iam("ListAccountAliases")
        self.iam("ListUsers")
        self.iam("ListRoles")
        self.iam("ListGroups")
        self.iam("ListPolicies", Scope="Local")
        self.iam("GetAccountSummary")
        self.iam("GenerateCredentialReport", _name="GenerateCredentialReport at the end")
        self.iam("GetCredentialReport", _name="GetCredentialReport at the end")
        self.org("ListAccounts", _name="ListAccounts at the end")
        self.sts("GetCallerIdentity", _name="GetCallerIdentity at the end")


def run(h: Harness) -> None:
    Corpus(h).run()
