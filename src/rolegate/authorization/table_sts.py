"""The STS (with federation) and Organizations operations of the authorisation table."""

from __future__ import annotations

from rolegate.authorization.builders import (
    REQUEST_TAGS,
    op,
)
from rolegate.authorization.model import (
    STAR,
    AnyOf,
    CallerHasSourceIdentity,
    Check,
    Condition,
    Extra,
    Given,
    IdAfter,
    ListOf,
    OrgPart,
    Param,
    Prefixed,
    Resource,
    ResourceTags,
    TokenCarries,
)

# --------------------------------------------------------------------------- STS

_ROLE_ARN = Resource("role", arn_from="RoleArn")
_SESSION_TAGS = (
    *REQUEST_TAGS,
    Condition("sts:TransitiveTagKeys", ListOf("TransitiveTagKeys")),
)
_TAGGING = AnyOf((Given("Tags"), Given("TransitiveTagKeys")))
_SOURCE_IDENTITY = AnyOf((Given("SourceIdentity"), CallerHasSourceIdentity()))
_ASSUME_CONDITIONS = (
    Condition("sts:RoleSessionName", Param("RoleSessionName")),
    Condition("sts:ExternalId", Param("ExternalId")),
    Condition("sts:SourceIdentity", Param("SourceIdentity")),
    *_SESSION_TAGS,
    Condition("iam:ResourceTag/${TagKey}", ResourceTags("role", Param("RoleArn"), also_iam=True)),
)
_TRUST = Extra(
    "trust-policy",
    "the role's trust policy must allow the caller too (a resource policy that must "
    "allow; cross-account also needs the caller's identity policy)",
    ("RoleArn",),
)
op(
    "sts",
    "AssumeRole",
    Check("sts:AssumeRole", (_ROLE_ARN,), _ASSUME_CONDITIONS, evaluation="trust"),
    Check("sts:TagSession", (_ROLE_ARN,), _SESSION_TAGS, when=_TAGGING, evaluation="trust"),
    Check(
        "sts:SetSourceIdentity",
        (_ROLE_ARN,),
        (Condition("sts:SourceIdentity", Param("SourceIdentity")),),
        when=_SOURCE_IDENTITY,
        evaluation="trust",
        note="also when the caller's session carries a source identity (chaining)",
    ),
    extra=(
        _TRUST,
        Extra(
            "mfa",
            "SerialNumber + TokenCode verified before the trust policy; "
            "aws:MultiFactorAuthPresent / aws:MultiFactorAuthAge from them",
            ("SerialNumber", "TokenCode"),
        ),
        Extra("long-term-credentials", "not the account root; not a federated user"),
    ),
)
for _op in ("AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"):
    op(
        "sts",
        _op,
        Check(
            f"sts:{_op}",
            (_ROLE_ARN,),
            (Condition("sts:RoleSessionName", Param("RoleSessionName")),),
            evaluation="trust-only",
            note="provider claims (saml:*, <issuer>:sub/aud/...) come from the verified token",
        ),
        Check(
            "sts:TagSession",
            (_ROLE_ARN,),
            evaluation="trust-only",
            note="when the token carries session tags (principal tags in the assertion/claims)",
            when=TokenCarries("session-tags"),
        ),
        Check(
            "sts:SetSourceIdentity",
            (_ROLE_ARN,),
            evaluation="trust-only",
            note="when the token carries a source identity",
            when=TokenCarries("source-identity"),
        ),
        signed=False,
        extra=(
            Extra("unsigned", "unsigned: the token (SAML assertion / JWT) is the credential"),
            Extra("trust-policy", "the trust policy alone decides", ("RoleArn",)),
        ),
    )
op(
    "sts",
    "AssumeRoot",
    Check(
        "sts:AssumeRoot",
        (Resource("root-user", (("Account", Param("TargetPrincipal")),)),),
        (Condition("sts:TaskPolicyArn", Param("TaskPolicyArn.arn")),),
        evaluation="trust",
    ),
    extra=(
        Extra(
            "organization",
            "the caller's account manages an organization with root sessions enabled, "
            "and TargetPrincipal is one of its member accounts",
            ("TargetPrincipal",),
        ),
    ),
)
_FED = Resource("federated-user", (("FederatedUserName", Param("Name")),))
op(
    "sts",
    "GetFederationToken",
    Check("sts:GetFederationToken", (_FED,), REQUEST_TAGS),
    Check("sts:TagSession", (_FED,), REQUEST_TAGS, when=Given("Tags")),
    extra=(Extra("long-term-credentials", "an IAM user or root with long-term keys"),),
    diff=(
        (
            "resource",
            "sts:TagSession lists role and user; the session tagged here is the federated "
            "user, so rolegate authorises it on the federated-user ARN (as GetFederationToken).",
        ),
    ),
)
op(
    "sts",
    "GetSessionToken",
    extra=(
        Extra("no-authorisation", "needs no permission (reference §2.1)"),
        Extra("long-term-credentials", "an IAM user or root with long-term keys"),
        Extra("mfa", "SerialNumber + TokenCode verified", ("SerialNumber", "TokenCode")),
    ),
    diff=(("actions", "sts:GetSessionToken is listed but never evaluated (reference §2.1)."),),
)
op(
    "sts",
    "GetCallerIdentity",
    extra=(Extra("no-authorisation", "anyone; an explicit Deny is ignored (reference §2.1)"),),
    diff=(("actions", "sts:GetCallerIdentity is listed but never evaluated (reference §2.1)."),),
)
op("sts", "GetAccessKeyInfo", Check("sts:GetAccessKeyInfo"))
op("sts", "DecodeAuthorizationMessage", Check("sts:DecodeAuthorizationMessage"))


# --------------------------------------------------------------------------- Organizations


def _org(kind: str, var: str, member: str, prefix: str | None) -> Resource:
    """An Organizations ARN in the caller's organization: the management
    account and the organization id are stored facts, the last part a member."""
    return Resource(
        kind,
        (
            ("Account", OrgPart("management")),
            ("OrganizationId", OrgPart("id")),
            (var, IdAfter(member, prefix) if prefix else Param(member)),
        ),
        when=Prefixed(member, prefix) if prefix else None,
    )


def _parent(member: str) -> tuple[Resource, ...]:
    return (
        _org("root", "RootId", member, "r-"),
        _org("organizationalunit", "OrganizationalUnitId", member, "ou-"),
    )


def orgs(operation: str, *resources: Resource, conditions: tuple[Condition, ...] = ()) -> None:
    op(
        "organizations",
        operation,
        Check(f"organizations:{operation}", resources or (STAR,), conditions),
    )


for _op in (
    "CreateOrganization", "DescribeOrganization", "DescribeCreateAccountStatus",
    "ListAccounts", "ListCreateAccountStatus", "ListRoots",
):  # fmt: skip
    orgs(_op)
orgs("CreateAccount", conditions=REQUEST_TAGS)
orgs("DescribeAccount", _org("account", "AccountId", "AccountId", None))
orgs("ListChildren", *_parent("ParentId"))
orgs("ListAccountsForParent", *_parent("ParentId"))
orgs(
    "ListParents",
    _org("organizationalunit", "OrganizationalUnitId", "ChildId", "ou-"),
    _org("account", "AccountId", "ChildId", None),
)
