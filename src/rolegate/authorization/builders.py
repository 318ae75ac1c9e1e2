"""Shorthands the table is written with (``table_iam``, ``table_sts``)."""

from __future__ import annotations

from rolegate.authorization.model import (
    STAR,
    Check,
    Condition,
    EntityKind,
    Extra,
    NameOrCaller,
    OperationAuth,
    Param,
    PathName,
    PathPrefix,
    RequestTags,
    Resource,
    ResourceTags,
    Stored,
    StoredBoundary,
    TagKeys,
)

# The reference's ARN variable of each IAM resource type that carries a path.
_PATH_VAR: dict[str, str] = {
    "user": "UserNameWithPath",
    "group": "GroupNameWithPath",
    "role": "RoleNameWithPath",
    "instance-profile": "InstanceProfileNameWithPath",
    "server-certificate": "CertificateNameWithPath",
    "policy": "PolicyNameWithPath",
    "mfa": "MfaTokenIdWithPath",
}
# Resource types with iam:ResourceTag/* besides aws:ResourceTag/* (reference).
_IAM_RESOURCE_TAG = frozenset({"user", "role"})

_DIFF_PATH_LIST = (
    "resource",
    'The reference lists no resource type (Resource "*"); AWS authorises '
    "List* with a PathPrefix on the path's ARN (observed: \"not authorized to perform: "
    'iam:ListUsers on resource: arn:aws:iam::ACCOUNT:user/"), and so does rolegate.',
)
_DIFF_CREATE_TAG = (
    "actions",
    "Creating with Tags also authorises the Tag* action on the new resource, as AWS "
    'does (CreateRole with Tags: "not authorized to perform: iam:TagRole on resource: '
    'arn:aws:iam::ACCOUNT:role/NAME", openshift/installer#1073; iamlive#97); the '
    "reference lists only the Create* action.",
)


# --------------------------------------------------------------------------- helpers


def stored(kind: EntityKind, member: str, *, caller: bool = False) -> Resource:
    """The named existing entity: its stored path (``/`` when not stored)."""
    by: Param | NameOrCaller = NameOrCaller(member) if caller else Param(member)
    return Resource(kind, ((_PATH_VAR[kind], PathName(by, Stored(kind, by))),))


def new(kind: str, member: str, path: str = "Path") -> Resource:
    """An entity the request creates: its path is a request member (default ``/``)."""
    return Resource(kind, ((_PATH_VAR[kind], PathName(Param(member), Param(path, "/"))),))


def by_arn(kind: str, member: str) -> Resource:
    return Resource(kind, arn_from=member)


def listing(kind: str) -> Resource:
    return Resource(kind, ((_PATH_VAR[kind], PathPrefix()),))


def res_tags(kind: str, member: str, *, caller: bool = False) -> Condition:
    by: Param | NameOrCaller = NameOrCaller(member) if caller else Param(member)
    return Condition(
        "aws:ResourceTag/${TagKey}", ResourceTags(kind, by, also_iam=kind in _IAM_RESOURCE_TAG)
    )


REQUEST_TAGS = (
    Condition("aws:RequestTag/${TagKey}", RequestTags()),
    Condition("aws:TagKeys", TagKeys()),
)
UNTAG_KEYS = (Condition("aws:TagKeys", TagKeys("TagKeys", keys_only=True)),)


def boundary_of(kind: EntityKind, member: str) -> Condition:
    return Condition("iam:PermissionsBoundary", StoredBoundary(kind, Param(member)))


_ENTRIES: list[OperationAuth] = []


def op(
    service: str,
    operation: str,
    *checks: Check,
    signed: bool = True,
    extra: tuple[Extra, ...] = (),
    diff: tuple[tuple[str, str], ...] = (),
) -> None:
    _ENTRIES.append(OperationAuth(service, operation, checks, signed, extra, diff))


def iam(
    operation: str,
    resource: Resource = STAR,
    conditions: tuple[Condition, ...] = (),
    *more: Check,
    extra: tuple[Extra, ...] = (),
    diff: tuple[tuple[str, str], ...] = (),
) -> None:
    """The common case: ``iam:<operation>`` on one resource, then ``more``."""
    op(
        "iam",
        operation,
        Check(f"iam:{operation}", (resource,), conditions),
        *more,
        extra=extra,
        diff=diff,
    )
