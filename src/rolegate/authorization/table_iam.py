"""The IAM operations of the authorisation table."""

from __future__ import annotations

from rolegate.authorization.builders import (
    _DIFF_CREATE_TAG,
    _DIFF_PATH_LIST,
    _PATH_VAR,
    REQUEST_TAGS,
    UNTAG_KEYS,
    boundary_of,
    by_arn,
    iam,
    listing,
    new,
    op,
    res_tags,
    stored,
)
from rolegate.authorization.model import (
    STAR,
    AccessKeyOwner,
    AllOf,
    AnyOf,
    CallerArn,
    CallerIs,
    Check,
    Condition,
    Const,
    Either,
    EntityKind,
    Extra,
    Given,
    Not,
    OidcName,
    Param,
    PathName,
    Resource,
    ResourceTags,
    ServiceLinkedRoleName,
    Stored,
)

# --------------------------------------------------------------------------- IAM: named entities
#
# Operations on one existing user, group, role, instance profile or server
# certificate named by a request member: the ARN carries the stored path,
# and the entity's tags are aws:ResourceTag/* (and iam:ResourceTag/* for
# users and roles).

_NAMED: dict[tuple[EntityKind, str], tuple[str, ...]] = {
    ("role", "RoleName"): (
        "DeleteRolePolicy", "GetRolePolicy", "ListAttachedRolePolicies",
        "ListInstanceProfilesForRole", "ListRolePolicies", "ListRoleTags", "PutRolePolicy",
        "DeleteRole", "GetRole", "UpdateRole", "UpdateRoleDescription",
        "UpdateAssumeRolePolicy", "DeleteServiceLinkedRole",
    ),
    ("user", "UserName"): (
        "DeleteUser", "DeleteUserPolicy", "GetUserPolicy", "ListAttachedUserPolicies",
        "ListGroupsForUser", "ListUserPolicies", "ListUserTags", "PutUserPolicy",
        "EnableMFADevice", "ResyncMFADevice", "UploadSSHPublicKey", "GetSSHPublicKey",
        "CreateServiceSpecificCredential",
    ),
    ("group", "GroupName"): (
        "DeleteGroup", "DeleteGroupPolicy", "GetGroup", "GetGroupPolicy",
        "ListAttachedGroupPolicies", "ListGroupPolicies", "PutGroupPolicy",
        "AddUserToGroup", "RemoveUserFromGroup",
    ),
    ("instance-profile", "InstanceProfileName"): (
        "DeleteInstanceProfile", "GetInstanceProfile", "ListInstanceProfileTags",
        "RemoveRoleFromInstanceProfile",
    ),
    ("server-certificate", "ServerCertificateName"): (
        "DeleteServerCertificate", "GetServerCertificate", "ListServerCertificateTags",
    ),
}  # fmt: skip
# The reference lists iam:PermissionsBoundary (the target's stored boundary) for these.
_BOUNDARY_KEYED = frozenset(
    {
        "DeleteRole", "DeleteRolePolicy", "GetRole", "PutRolePolicy", "UpdateRole",
        "UpdateRoleDescription", "UpdateAssumeRolePolicy", "DeleteUserPolicy", "PutUserPolicy",
    }
)  # fmt: skip

for (_kind, _member), _ops in _NAMED.items():
    for _op in _ops:
        # Groups carry no tags in IAM: the reference lists no aws:ResourceTag for them.
        _conds = [] if _kind == "group" else [res_tags(_kind, _member)]
        if _op in _BOUNDARY_KEYED and _kind in ("role", "user"):
            _conds.append(boundary_of(_kind, _member))
        iam(_op, stored(_kind, _member), tuple(_conds))

# Operations on a user that default to the caller (UserName optional).
_CALLER_USER = (
    "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "CreateLoginProfile",
    "GetLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile", "UploadSigningCertificate",
    "UpdateSigningCertificate", "DeleteSigningCertificate", "DeleteSSHPublicKey",
    "UpdateSSHPublicKey", "DeactivateMFADevice", "GetMFADevice", "ListMFADevices",
    "ResetServiceSpecificCredential", "UpdateServiceSpecificCredential",
    "DeleteServiceSpecificCredential", "ListServiceSpecificCredentials",
)  # fmt: skip
for _op in _CALLER_USER:
    iam(_op, stored("user", "UserName", caller=True), (res_tags("user", "UserName", caller=True),))

# GetUser and the listings of one's own credentials: a root caller without
# UserName is authorised on the root's ARN (it has no IAM user).
_ROOT_SELF = Resource(
    "",
    (("Caller", CallerArn()),),
    template="${Caller}",
    when=AllOf((CallerIs(("root",)), Not(Given("UserName")))),
)
for _op in ("GetUser", "ListAccessKeys", "ListSigningCertificates", "ListSSHPublicKeys"):
    op(
        "iam",
        _op,
        Check(
            f"iam:{_op}",
            (_ROOT_SELF, stored("user", "UserName", caller=True)),
            (res_tags("user", "UserName", caller=True),),
        ),
        diff=(("resource", "A root caller without UserName: the root's ARN (no IAM user)."),),
    )

iam(
    "ChangePassword",
    Resource("user", (("Caller", CallerArn()),), template="${Caller}"),
    (),
    diff=(("resource", "Always the caller's own user ARN (the API has no UserName)."),),
)

# Attach / detach / boundaries.
_PRINCIPALS: tuple[tuple[EntityKind, str, str], ...] = (
    ("role", "RoleName", "Role"),
    ("user", "UserName", "User"),
    ("group", "GroupName", "Group"),
)
for _k, _member, _title in _PRINCIPALS:
    for _verb in ("Attach", "Detach"):
        _conds = [Condition("iam:PolicyARN", Param("PolicyArn"))]
        if _k != "group":
            _conds.insert(0, res_tags(_k, _member))
        if _k != "group":
            _conds.append(boundary_of(_k, _member))
        iam(f"{_verb}{_title}Policy", stored(_k, _member), tuple(_conds))
    if _k != "group":
        iam(
            f"Put{_title}PermissionsBoundary",
            stored(_k, _member),
            (
                res_tags(_k, _member),
                Condition("iam:PermissionsBoundary", Param("PermissionsBoundary")),
            ),
        )
        iam(
            f"Delete{_title}PermissionsBoundary",
            stored(_k, _member),
            (res_tags(_k, _member), boundary_of(_k, _member)),
        )

# Tags on users, roles, instance profiles, server certificates.
_TAGGABLE: tuple[tuple[EntityKind, str, str], ...] = (
    ("role", "RoleName", "Role"),
    ("user", "UserName", "User"),
    ("instance-profile", "InstanceProfileName", "InstanceProfile"),
    ("server-certificate", "ServerCertificateName", "ServerCertificate"),
)
for _k, _member, _title in _TAGGABLE:
    iam(f"Tag{_title}", stored(_k, _member), (res_tags(_k, _member), *REQUEST_TAGS))
    iam(f"Untag{_title}", stored(_k, _member), (res_tags(_k, _member), *UNTAG_KEYS))

# Tags on resources named by ARN.
for _rkind, _member, _title in (
    ("policy", "PolicyArn", "Policy"),
    ("mfa", "SerialNumber", "MFADevice"),
    ("oidc-provider", "OpenIDConnectProviderArn", "OpenIDConnectProvider"),
    ("saml-provider", "SAMLProviderArn", "SAMLProvider"),
):
    _t = Condition("aws:ResourceTag/${TagKey}", ResourceTags(_rkind, Param(_member)))
    iam(f"Tag{_title}", by_arn(_rkind, _member), (_t, *REQUEST_TAGS))
    iam(f"Untag{_title}", by_arn(_rkind, _member), (_t, *UNTAG_KEYS))
    iam(f"List{_title}Tags", by_arn(_rkind, _member), (_t,))

# Managed policies.
_POLICY_TAGS = Condition("aws:ResourceTag/${TagKey}", ResourceTags("policy", Param("PolicyArn")))
for _op in (
    "GetPolicy", "DeletePolicy", "CreatePolicyVersion", "GetPolicyVersion",
    "DeletePolicyVersion", "ListPolicyVersions", "SetDefaultPolicyVersion",
    "ListEntitiesForPolicy",
):  # fmt: skip
    iam(_op, by_arn("policy", "PolicyArn"), (_POLICY_TAGS,))

# OIDC and SAML providers.
for _op in (
    "GetOpenIDConnectProvider", "DeleteOpenIDConnectProvider",
    "AddClientIDToOpenIDConnectProvider", "RemoveClientIDFromOpenIDConnectProvider",
    "UpdateOpenIDConnectProviderThumbprint",
):  # fmt: skip
    iam(_op, by_arn("oidc-provider", "OpenIDConnectProviderArn"))
for _op in ("GetSAMLProvider", "DeleteSAMLProvider", "UpdateSAMLProvider"):
    iam(_op, by_arn("saml-provider", "SAMLProviderArn"))

# Virtual MFA devices by serial (the ARN).
iam("DeleteVirtualMFADevice", by_arn("mfa", "SerialNumber"))


# --------------------------------------------------------------------------- IAM: creation


def _tag_on_create(action: str, resource: Resource) -> Check:
    return Check(action, (resource,), REQUEST_TAGS, when=Given("Tags"))


_PASSED_BOUNDARY = Condition("iam:PermissionsBoundary", Param("PermissionsBoundary"))
for _kind, _member, _title in (("role", "RoleName", "Role"), ("user", "UserName", "User")):
    _r = new(_kind, _member)
    iam(
        f"Create{_title}",
        _r,
        (_PASSED_BOUNDARY, *REQUEST_TAGS),
        _tag_on_create(f"iam:Tag{_title}", _r),
        diff=(_DIFF_CREATE_TAG,),
    )
iam("CreateGroup", new("group", "GroupName"))
_r = new("policy", "PolicyName")
iam("CreatePolicy", _r, REQUEST_TAGS, _tag_on_create("iam:TagPolicy", _r), diff=(_DIFF_CREATE_TAG,))
_r = new("instance-profile", "InstanceProfileName")
iam(
    "CreateInstanceProfile",
    _r,
    REQUEST_TAGS,
    _tag_on_create("iam:TagInstanceProfile", _r),
    diff=(_DIFF_CREATE_TAG,),
)
_r = new("server-certificate", "ServerCertificateName")
iam(
    "UploadServerCertificate",
    _r,
    REQUEST_TAGS,
    _tag_on_create("iam:TagServerCertificate", _r),
    diff=(_DIFF_CREATE_TAG,),
)
_r = new("mfa", "VirtualMFADeviceName")
iam(
    "CreateVirtualMFADevice",
    _r,
    REQUEST_TAGS,
    _tag_on_create("iam:TagMFADevice", _r),
    diff=(_DIFF_CREATE_TAG,),
)
_r = Resource("oidc-provider", (("OidcProviderName", OidcName()),))
iam(
    "CreateOpenIDConnectProvider",
    _r,
    REQUEST_TAGS,
    _tag_on_create("iam:TagOpenIDConnectProvider", _r),
    diff=(_DIFF_CREATE_TAG,),
)
_r = Resource("saml-provider", (("SamlProviderName", Param("Name")),))
iam(
    "CreateSAMLProvider",
    _r,
    REQUEST_TAGS,
    _tag_on_create("iam:TagSAMLProvider", _r),
    diff=(_DIFF_CREATE_TAG,),
)
iam(
    "CreateServiceLinkedRole",
    Resource(
        "role",
        (("Service", Param("AWSServiceName")), ("Name", ServiceLinkedRoleName())),
        # The reference's role/${RoleNameWithPath}, the path being aws-service-role/SERVICE/.
        template="arn:${Partition}:iam::${Account}:role/aws-service-role/${Service}/${Name}",
    ),
    (Condition("iam:AWSServiceName", Param("AWSServiceName")),),
)


# Renames authorise the target ARN too when the name or path changes
# (handled as an extra: the new ARN is computed from the stored entity).
def _rename(kind: EntityKind, member: str, title: str, new_name: str) -> None:
    iam(
        f"Update{title}",
        stored(kind, member),
        () if kind == "group" else (res_tags(kind, member),),
        Check(
            f"iam:Update{title}",
            (
                Resource(
                    kind,
                    (
                        (
                            _PATH_VAR[kind],
                            PathName(
                                Either(Param(new_name), Param(member)),
                                Either(Param("NewPath"), Stored(kind, Param(member))),
                            ),
                        ),
                    ),
                    when=AnyOf((Given(new_name), Given("NewPath"))),
                ),
            ),
            when=AnyOf((Given(new_name), Given("NewPath"))),
            note="also on the new ARN when it differs (name or path changed)",
        ),
    )


_rename("user", "UserName", "User", "NewUserName")
_rename("group", "GroupName", "Group", "NewGroupName")
_rename(
    "server-certificate", "ServerCertificateName", "ServerCertificate", "NewServerCertificateName"
)

# Instance profiles: adding a role passes it (the reference's dependent action).
iam(
    "AddRoleToInstanceProfile",
    stored("instance-profile", "InstanceProfileName"),
    (res_tags("instance-profile", "InstanceProfileName"),),
    Check(
        "iam:PassRole",
        (stored("role", "RoleName"),),
        (
            res_tags("role", "RoleName"),
            Condition("iam:PassedToService", Const("ec2.amazonaws.com")),
        ),
        note="the role placed in the profile is passed to EC2",
    ),
    extra=(Extra("pass-role", "iam:PassRole on the role named by RoleName", ("RoleName",)),),
)

# Access keys by id.
iam(
    "GetAccessKeyLastUsed",
    Resource("user", (("UserNameWithPath", AccessKeyOwner()),)),
    diff=(
        (
            "resource",
            "An unknown key (or another account's) is authorised on arn:aws:iam::ACCOUNT:user/ "
            "(recorded against AWS).",
        ),
    ),
)

# Identities named by ARN (user, group, role or policy).
iam("GenerateServiceLastAccessedDetails", Resource("", arn_from="Arn"))
iam("ListPoliciesGrantingServiceAccess", Resource("", arn_from="Arn"))
iam("SimulatePrincipalPolicy", Resource("", arn_from="PolicySourceArn"))
iam("GetContextKeysForPrincipalPolicy", Resource("", arn_from="PolicySourceArn"))

# Listings by path prefix.
for _op, _kind in (
    ("ListUsers", "user"),
    ("ListRoles", "role"),
    ("ListGroups", "group"),
    ("ListPolicies", "policy"),
    ("ListInstanceProfiles", "instance-profile"),
    ("ListServerCertificates", "server-certificate"),
):
    iam(_op, listing(_kind), diff=(_DIFF_PATH_LIST,))
iam(
    "ListVirtualMFADevices",
    Resource("mfa", (("MfaTokenIdWithPath", Const("")),)),
    diff=(("resource", "Authorised on arn:aws:iam::ACCOUNT:mfa/ (every device), as AWS does."),),
)

# Account-wide operations: Resource "*".
for _op in (
    "CreateAccountAlias", "DeleteAccountAlias", "ListAccountAliases", "GetAccountSummary",
    "GetAccountPasswordPolicy", "UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy",
    "GenerateCredentialReport", "GetCredentialReport", "GetAccountAuthorizationDetails",
    "ListOpenIDConnectProviders", "ListSAMLProviders", "SetSecurityTokenServicePreferences",
    "SimulateCustomPolicy", "GetContextKeysForCustomPolicy", "GetServiceLastAccessedDetails",
    "GetServiceLastAccessedDetailsWithEntities", "ListOrganizationsFeatures",
    "EnableOrganizationsRootCredentialsManagement", "DisableOrganizationsRootCredentialsManagement",
    "EnableOrganizationsRootSessions", "DisableOrganizationsRootSessions",
):  # fmt: skip
    iam(_op)
iam(
    "GetServiceLinkedRoleDeletionStatus",
    STAR,
    diff=(("resource", 'The deletion task id does not name the role; authorised on "*".'),),
)
