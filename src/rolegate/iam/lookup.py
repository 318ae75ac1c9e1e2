"""Entity kinds, ARNs, lookups with AWS's error messages, and the
authorise-then-audit step every IAM handler starts with.

The three principal-ish kinds (user, group, role) share most of their
handling (inline policies, attached policies, tags, boundaries), so their
differences are data in :class:`EntityKind` rather than three copies of code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rolegate import ids
from rolegate.context import CallContext
from rolegate.errors import EntityAlreadyExists, InvalidInput, NoSuchEntity, ValidationError
from rolegate.principals.entities import AWS_MANAGED_ACCOUNT, as_datetime, iso, linked, rng
from rolegate.store import Conflict, name_key

__all__ = ["AWS_MANAGED_ACCOUNT", "as_datetime", "iso", "linked", "rng"]  # re-exported for iam


@dataclass(frozen=True, slots=True)
class EntityKind:
    kind: str  # store kind: "user" | "group" | "role"
    label: str  # as AWS words it in messages: "user"
    title: str  # "User" (also the API noun: CreateUser, PutUserPolicy)
    id_prefix: str  # AIDA / AGPA / AROA
    param: str  # the request member naming it: "UserName"
    audit_type: str  # CloudTrail resources[].type
    inline_quota: int  # aggregate inline policy size, whitespace excluded (§4.6)
    max_attached: int  # managed policies per entity (§4.6 defaults)

    def arn(self, account_id: str, path: str, name: str) -> str:
        return f"arn:aws:iam::{account_id}:{self.kind}{path}{name}"

    def not_found(self, name: str) -> NoSuchEntity:
        return NoSuchEntity(f"The {self.label} with name {name} cannot be found.")


USER = EntityKind("user", "user", "User", "AIDA", "UserName", "AWS::IAM::User", 2048, 10)
GROUP = EntityKind("group", "group", "Group", "AGPA", "GroupName", "AWS::IAM::Group", 5120, 10)
ROLE = EntityKind("role", "role", "Role", "AROA", "RoleName", "AWS::IAM::Role", 10240, 10)
KINDS = {k.kind: k for k in (USER, GROUP, ROLE)}

POLICY_AUDIT_TYPE = "AWS::IAM::Policy"
# What AWS returns as PermissionsBoundaryType (recorded against AWS), although
# botocore's model lists only "PermissionsBoundaryPolicy" for the enum.
BOUNDARY_TYPE = "Policy"
ACCESS_KEY_AUDIT_TYPE = "AWS::IAM::AccessKey"


# --- authorisation and audit ------------------------------------------------


def authorize(
    ctx: CallContext,
    action: str,
    resource_arn: str,
    audit_type: str | None,
    *,
    context: Mapping[str, Any] | None = None,
) -> None:
    """``ctx.authorize`` plus the CloudTrail ``resources`` entry for the target.

    Called before any existence check, so a caller without permission learns
    nothing about which entities exist (AccessDenied beats NoSuchEntity).
    """
    ctx.authorize(f"iam:{action}", resource_arn, context=context or None)
    if audit_type is not None:
        entry = {"ARN": resource_arn, "accountId": ctx.account_id, "type": audit_type}
        if entry not in ctx.audit_resources:
            ctx.audit_resources.append(entry)


def tag_context(tags: list[dict[str, str]] | None, prefix: str) -> dict[str, Any]:
    """``aws:ResourceTag/k`` (or ``aws:RequestTag/k`` + ``aws:TagKeys``) condition keys."""
    out: dict[str, Any] = {}
    if not tags:
        return out
    for t in tags:
        out[f"{prefix}{t['Key']}"] = t["Value"]
    if prefix == "aws:RequestTag/":
        out["aws:TagKeys"] = [t["Key"] for t in tags]
    return out


def authorize_tag_on_create(
    ctx: CallContext, action: str, resource_arn: str, tags: list[dict[str, str]] | None
) -> None:
    """Creating with Tags is also tagging: ``iam:Tag<Kind>`` on the new ARN,
    with the request's tags as ``aws:RequestTag/*`` and ``aws:TagKeys``.

    AWS refuses CreateRole with Tags as "not authorized to perform:
    iam:TagRole on resource: arn:aws:iam::ACCOUNT:role/NAME" (openshift/
    installer#1073; #7843 for iam:TagInstanceProfile). Call it right after
    the ``iam:Create*`` check and before anything is written. Without tags
    nothing is asked (the Tag* action is only evaluated when tags are given).
    """
    if tags:
        authorize(ctx, action, resource_arn, None, context=tag_context(tags, "aws:RequestTag/"))


def resource_context(entity: Any) -> dict[str, Any]:
    if entity is None:
        return {}
    return tag_context(entity.data.get("tags"), "aws:ResourceTag/")


def authorize_entity(
    ctx: CallContext,
    kind: EntityKind,
    action: str,
    name: str,
    *,
    context: Mapping[str, Any] | None = None,
) -> Any:
    """Authorise ``action`` on the named entity, then return it (NoSuchEntity if missing).

    The entity is read from the store's cache; writers re-read it inside their
    transaction with :func:`require`.
    """
    account = ctx.account_id
    entity = ctx.store.get(account, kind.kind, name)
    arn = entity.arn if entity is not None else kind.arn(account, "/", name)
    authorize(
        ctx, action, arn, kind.audit_type, context={**resource_context(entity), **(context or {})}
    )
    if entity is None:
        raise kind.not_found(name)
    return entity


def require(tx: Any, account_id: str, kind: EntityKind, name: str) -> Any:
    entity = tx.get(account_id, kind.kind, name)
    if entity is None:
        raise kind.not_found(name)
    return entity


# --- callers ----------------------------------------------------------------


def caller_user_name(ctx: CallContext, params: Mapping[str, Any]) -> str:
    """``UserName`` if given, else the signing IAM user's (GetUser, CreateAccessKey...)."""
    name = params.get("UserName")
    if name:
        return str(name)
    p = ctx.principal
    if p is not None and p.kind == "user" and p.name:
        return p.name
    raise ValidationError("Must specify userName when calling with non-User credentials")


# --- managed policy ARNs ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyRef:
    arn: str
    account: str
    path: str
    name: str


def parse_policy_arn(arn: str) -> PolicyRef:
    """Split ``arn:aws:iam::<acct>:policy<path><name>``; InvalidInput if it is not one."""
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn":
        # Not an ARN at all: AWS answers ValidationError (recorded against
        # AWS); an ARN of something other than a policy is InvalidInput.
        raise ValidationError(f"ARN {arn} is not valid.")
    if (
        len(parts) != 6
        or parts[0] != "arn"
        or parts[2] != "iam"
        or parts[3] != ""
        or not parts[4]
        or not parts[5].startswith("policy/")
    ):
        raise InvalidInput(f"ARN {arn} is not valid.")
    resource = parts[5][len("policy") :]
    slash = resource.rfind("/")
    path, name = resource[: slash + 1], resource[slash + 1 :]
    if not name:
        raise InvalidInput(f"ARN {arn} is not valid.")
    return PolicyRef(arn, parts[4], path, name)


def find_policy(reader: Any, caller_account: str, arn: str) -> Any:
    """The managed policy entity named by ``arn`` if the caller may see it.

    ``reader`` is the store (cached reads) or a transaction. Only the
    caller's own account and AWS managed policies are visible: IAM has no
    cross-account policy sharing. Paths are part of the ARN, so a name match
    under another path is not this policy.
    """
    ref = parse_policy_arn(arn)
    if ref.account not in (caller_account, AWS_MANAGED_ACCOUNT):
        return None
    entity = reader.get(ref.account, "policy", ref.name)
    if entity is None or entity.arn != arn:
        return None
    return entity


def policy_not_attachable(arn: str) -> NoSuchEntity:
    return NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")


def policy_not_found(arn: str) -> NoSuchEntity:
    return NoSuchEntity(f"Policy {arn} was not found.")


def boundary_not_found(arn: str) -> NoSuchEntity:
    return NoSuchEntity(f"Scope ARN: {arn} does not exist or is not attachable.")


def check_boundary(reader: Any, caller_account: str, arn: str) -> str:
    """A permissions boundary must be an existing managed policy visible to the caller."""
    if find_policy(reader, caller_account, arn) is None:
        raise boundary_not_found(arn)
    return arn


# --- CloudTrail responseElements ----------------------------------------------


def _camel(key: str) -> str:
    # CloudTrail spells output members lowerCamelCase ("roleName", "arn").
    return key[:1].lower() + key[1:]


def _cloudtrail_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {_camel(k): _cloudtrail_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cloudtrail_value(v) for v in value]
    if isinstance(value, datetime):
        # CloudTrail's rendering of IAM dates: "Oct 2, 2019, 11:12:29 PM".
        v = value.astimezone(UTC)
        hour = v.hour % 12 or 12
        return f"{v:%b} {v.day}, {v.year}, {hour}:{v:%M:%S} {'AM' if v.hour < 12 else 'PM'}"
    return value


def record_response(ctx: CallContext, output: Mapping[str, Any]) -> None:
    """Fill ``ctx.audit_response`` for a mutating call; callers strip secrets first."""
    ctx.audit_response = _cloudtrail_value(output)


# --- writes ---------------------------------------------------------------------


def insert_entity(
    tx: Any,
    account_id: str,
    kind: str,
    name: str,
    *,
    entity_id: str,
    arn: str,
    path: str,
    data: dict[str, Any],
    exists: Exception,
    now: datetime,
) -> Any:
    """Insert a new entity, raising ``exists`` if the name is taken (any case).

    The explicit check gives the AWS error inside this transaction; catching
    the store's Conflict covers a concurrent insert that won the race.
    ``now`` (``ctx.now``) becomes the entity's CreateDate.
    """
    if tx.get(account_id, kind, name) is not None:
        raise exists
    try:
        return tx.insert(
            account_id, kind, name, entity_id=entity_id, arn=arn, path=path, data=data, now=now
        )
    except Conflict:
        raise exists from None


def put_account_singleton(
    tx: Any, account_id: str, kind: str, name: str, *, arn: str, data: dict[str, Any], now: datetime
) -> None:
    """Create or replace the one entity of ``kind`` an account has (its
    password policy, its credential report)."""
    current = tx.get(account_id, kind, name)
    if current is None:
        tx.insert(
            account_id,
            kind,
            name,
            entity_id=f"{kind}-{account_id}",
            arn=arn,
            path="/",
            data=data,
            now=now,
        )
    else:
        tx.update(current, data, now=now)


def create_entity(
    ctx: CallContext,
    kind: EntityKind,
    *,
    name: str,
    path: str,
    data: dict[str, Any],
    tags: list[dict[str, str]] | None = None,
    boundary: str | None = None,
    before_insert: Any = None,
) -> Any:
    """Create a user, group or role: authorise ``iam:Create<Kind>`` on the new
    ARN (with the request's tags and boundary as condition keys), run
    ``before_insert`` (e.g. validating a trust policy, which needs the
    store), check the boundary and insert, all as CreateUser/CreateRole/
    CreateGroup share it."""
    account = ctx.account_id
    arn = kind.arn(account, path, name)
    context = tag_context(tags, "aws:RequestTag/")
    if boundary:
        context["iam:PermissionsBoundary"] = boundary
    authorize(ctx, f"Create{kind.title}", arn, kind.audit_type, context=context or None)
    authorize_tag_on_create(ctx, f"Tag{kind.title}", arn, tags)
    if before_insert is not None:
        before_insert()
    with ctx.store.transaction() as tx:
        if boundary:
            check_boundary(tx, account, boundary)
        return insert_entity(
            tx,
            account,
            kind.kind,
            name,
            entity_id=ids.new_unique_id(kind.id_prefix, rng(ctx)),
            arn=arn,
            path=path,
            data=data,
            now=ctx.now,
            exists=EntityAlreadyExists(f"{kind.title} with name {name} already exists."),
        )


@dataclass(frozen=True, slots=True)
class Renamed:
    before: Any  # the entity as it was (inside the transaction)
    after: Any  # the entity as written
    renamed: bool  # the name changed (not only its path)


def rename_target(
    ctx: CallContext, kind: EntityKind, params: Mapping[str, Any]
) -> tuple[str, str, str]:
    """Authorise ``iam:Update<Kind>`` on the entity and, when the ARN changes,
    on the new ARN too (as AWS does); return (new name, new path, new ARN)."""
    current = authorize_entity(ctx, kind, f"Update{kind.title}", params[kind.param])
    new_name = params.get(f"New{kind.title}Name") or current.name
    new_path = params.get("NewPath") or current.path
    new_arn = kind.arn(ctx.account_id, new_path, new_name)
    if new_arn != current.arn:
        authorize(ctx, f"Update{kind.title}", new_arn, kind.audit_type)
    return new_name, new_path, new_arn


def rename_entity(
    tx: Any, ctx: CallContext, kind: EntityKind, name: str, target: tuple[str, str, str]
) -> Renamed:
    """Rename/move an entity inside ``tx``; the caller carries over what is
    keyed by the old name (links, devices) when ``renamed``."""
    new_name, new_path, new_arn = target
    account = ctx.account_id
    entity = require(tx, account, kind, name)
    renamed = name_key(new_name) != entity.name_key
    exists = EntityAlreadyExists(f"{kind.title} with name {new_name} already exists.")
    if renamed and tx.get(account, kind.kind, new_name) is not None:
        raise exists
    try:
        updated = tx.update(
            entity, dict(entity.data), name=new_name, path=new_path, arn=new_arn, now=ctx.now
        )
    except Conflict:
        raise exists from None
    return Renamed(entity, updated, renamed)
