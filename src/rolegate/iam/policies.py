"""Customer managed policies and their versions: CreatePolicy, GetPolicy,
ListPolicies, DeletePolicy, CreatePolicyVersion, GetPolicyVersion,
ListPolicyVersions, DeletePolicyVersion, SetDefaultPolicyVersion,
ListEntitiesForPolicy.

Attachments live on the users, groups and roles (``attached_policies``,
``permissions_boundary``), which is what the hot path reads; the counts
here are derived by scanning the account's entities, which only these
management calls pay for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rolegate import ids
from rolegate.context import CallContext
from rolegate.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
)
from rolegate.iam import lookup
from rolegate.iam.documents import check_managed_policy
from rolegate.iam.lookup import AWS_MANAGED_ACCOUNT, KINDS, POLICY_AUDIT_TYPE
from rolegate.iam.paging import paginate
from rolegate.iam.tags import clean_tags

MAX_VERSIONS = 5  # §4.6


@dataclass(slots=True)
class Usage:
    """Where managed policies are used in one account."""

    attached: Counter[str] = field(default_factory=Counter)
    boundary: Counter[str] = field(default_factory=Counter)
    # policy ARN -> [(kind, entity)], for ListEntitiesForPolicy.
    attached_to: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    boundary_of: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)


def usage(reader: Any, account: str) -> Usage:
    u = Usage()
    for kind in KINDS:
        for entity in reader.list(account, kind):
            for arn in entity.data.get("attached_policies") or ():
                u.attached[arn] += 1
                u.attached_to.setdefault(arn, []).append((kind, entity))
            boundary = entity.data.get("permissions_boundary")
            if boundary:
                u.boundary[boundary] += 1
                u.boundary_of.setdefault(boundary, []).append((kind, entity))
    return u


def update_date(entity: Any) -> Any:
    """AWS: the creation time of the newest version (the policy's, with one version)."""
    versions = entity.data.get("versions") or {}
    dates = [
        lookup.as_datetime(v["create_date"]) for v in versions.values() if v.get("create_date")
    ]
    return max(dates) if dates else lookup.as_datetime(entity.created_at)


def policy_output(
    entity: Any, u: Usage, *, full: bool = True, created: bool = False
) -> dict[str, Any]:
    """The ``Policy`` shape; ListPolicies leaves out description and tags (as AWS
    does). GetPolicy always carries ``Tags`` (``[]`` when none); CreatePolicy's
    answer has no ``Description`` (both recorded against AWS)."""
    data = entity.data
    out: dict[str, Any] = {
        "PolicyName": entity.name,
        "PolicyId": entity.entity_id,
        "Arn": entity.arn,
        "Path": entity.path,
        "DefaultVersionId": data.get("default_version"),
        "AttachmentCount": u.attached.get(entity.arn, 0),
        "PermissionsBoundaryUsageCount": u.boundary.get(entity.arn, 0),
        "IsAttachable": True,
        "CreateDate": lookup.as_datetime(entity.created_at),
        "UpdateDate": update_date(entity),
    }
    if full:
        if data.get("description") and not created:
            out["Description"] = data["description"]
        if data.get("tags") or not created:
            out["Tags"] = [dict(t) for t in data.get("tags") or ()]
    return out


def _authorize_policy(
    ctx: CallContext,
    action: str,
    arn: str,
    missing: Callable[[str], NoSuchEntity] = lookup.policy_not_found,
) -> Any:
    """Authorise ``action`` on ``arn``; return the visible policy or raise
    ``missing(arn)`` (AWS words it differently from action to action)."""
    found = lookup.find_policy(ctx.store, ctx.account_id, arn)
    lookup.authorize(ctx, action, arn, POLICY_AUDIT_TYPE, context=lookup.resource_context(found))
    if found is None:
        raise missing(arn)
    return found


def _writable(
    ctx: CallContext,
    action: str,
    arn: str,
    missing: Callable[[str], NoSuchEntity] = lookup.policy_not_found,
) -> None:
    found = _authorize_policy(ctx, action, arn, missing)
    if found.account_id == AWS_MANAGED_ACCOUNT:
        # AWS managed policies belong to AWS, not to the caller's account.
        raise AccessDenied(f"AWS managed policies cannot be modified: {arn}")


def _reread(tx: Any, ctx: CallContext, arn: str) -> Any:
    entity = lookup.find_policy(tx, ctx.account_id, arn)
    if entity is None:
        raise lookup.policy_not_found(arn)
    return entity


def create_policy(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    name = params["PolicyName"]
    path = params.get("Path") or "/"
    document = params["PolicyDocument"]
    tags = clean_tags(params.get("Tags"), case_sensitive=True)
    arn = f"arn:aws:iam::{account}:policy{path}{name}"
    lookup.authorize(
        ctx,
        "CreatePolicy",
        arn,
        POLICY_AUDIT_TYPE,
        context=lookup.tag_context(tags, "aws:RequestTag/"),
    )
    lookup.authorize_tag_on_create(ctx, "TagPolicy", arn, tags)
    check_managed_policy(document)
    now = lookup.iso(ctx.now)
    with ctx.store.transaction() as tx:
        entity = lookup.insert_entity(
            tx,
            account,
            "policy",
            name,
            entity_id=ids.new_unique_id("ANPA", lookup.rng(ctx)),
            arn=arn,
            path=path,
            data={
                "description": params.get("Description") or None,
                "default_version": "v1",
                "versions": {"v1": {"document": document, "create_date": now}},
                "next_version": 2,
                "tags": tags,
            },
            now=ctx.now,
            exists=EntityAlreadyExists(
                f"A policy called {name} already exists. Duplicate names are not allowed."
            ),
        )
    out = {"Policy": policy_output(entity, Usage(), created=True)}
    lookup.record_response(ctx, out)
    return out


def get_policy(ctx: CallContext, params: dict) -> dict:
    entity = _authorize_policy(ctx, "GetPolicy", params["PolicyArn"])
    return {"Policy": policy_output(entity, usage(ctx.store, ctx.account_id))}


def list_policies(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    scope = params.get("Scope") or "All"
    prefix = params.get("PathPrefix") or "/"
    only_attached = bool(params.get("OnlyAttached"))
    usage_filter = params.get("PolicyUsageFilter")
    lookup.authorize(ctx, "ListPolicies", f"arn:aws:iam::{account}:policy{prefix}", None)
    candidates: list[Any] = []
    if scope in ("All", "AWS"):
        candidates.extend(ctx.store.list(AWS_MANAGED_ACCOUNT, "policy", path_prefix=prefix))
    if scope in ("All", "Local"):
        candidates.extend(ctx.store.list(account, "policy", path_prefix=prefix))
    u = usage(ctx.store, account)
    chosen = []
    for p in candidates:
        as_permissions, as_boundary = u.attached.get(p.arn, 0), u.boundary.get(p.arn, 0)
        if only_attached and not (as_permissions or as_boundary):
            continue
        if usage_filter == "PermissionsPolicy" and only_attached and not as_permissions:
            continue
        # A boundary filter means "used as a boundary" whether or not
        # OnlyAttached is set; every policy could serve as a permissions policy.
        if usage_filter == "PermissionsBoundary" and not as_boundary:
            continue
        chosen.append(p)
    # AWS managed first, then the account's; the prefix keeps keys unique.
    page, extra = paginate(
        chosen,
        params,
        key=lambda p: ("0" if p.account_id == AWS_MANAGED_ACCOUNT else "1") + p.name_key,
    )
    return {"Policies": [policy_output(p, u, full=False) for p in page], **extra}


def delete_policy(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    arn = params["PolicyArn"]
    _writable(ctx, "DeletePolicy", arn)
    with ctx.store.transaction() as tx:
        entity = _reread(tx, ctx, arn)
        u = usage(tx, account)
        if u.attached.get(arn):
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        if u.boundary.get(arn):
            raise DeleteConflict("Cannot delete a policy used as a permissions boundary.")
        if len(entity.data.get("versions") or {}) > 1:
            raise DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )
        tx.delete(account, "policy", entity.name)
    return None


# --- versions -----------------------------------------------------------------


def version_output(entity: Any, version_id: str, *, document: bool) -> dict[str, Any]:
    v = entity.data["versions"][version_id]
    out: dict[str, Any] = {
        "VersionId": version_id,
        "IsDefaultVersion": version_id == entity.data.get("default_version"),
        "CreateDate": lookup.as_datetime(v["create_date"]),
    }
    if document:
        out["Document"] = v["document"]
    return out


def _version_not_found(arn: str, version_id: str) -> NoSuchEntity:
    return NoSuchEntity(f"Policy {arn} version {version_id} does not exist or is not attachable.")


def create_policy_version(ctx: CallContext, params: dict) -> dict:
    arn = params["PolicyArn"]
    document = params["PolicyDocument"]
    _writable(ctx, "CreatePolicyVersion", arn)
    check_managed_policy(document)
    with ctx.store.transaction() as tx:
        entity = _reread(tx, ctx, arn)
        versions = dict(entity.data.get("versions") or {})
        if len(versions) >= MAX_VERSIONS:
            raise LimitExceeded(
                "A managed policy can have up to 5 versions. Before you create a new version, "
                "you must delete an existing version."
            )
        number = int(entity.data.get("next_version") or len(versions) + 1)
        version_id = f"v{number}"
        versions[version_id] = {"document": document, "create_date": lookup.iso(ctx.now)}
        data = {**entity.data, "versions": versions, "next_version": number + 1}
        if params.get("SetAsDefault"):
            data["default_version"] = version_id
        entity = tx.update(entity, data)
    # AWS's answer carries no Document (recorded against AWS).
    out = {"PolicyVersion": version_output(entity, version_id, document=False)}
    lookup.record_response(ctx, out)
    return out


def get_policy_version(ctx: CallContext, params: dict) -> dict:
    arn, version_id = params["PolicyArn"], params["VersionId"]
    entity = _authorize_policy(
        ctx, "GetPolicyVersion", arn, lambda a: _version_not_found(a, version_id)
    )
    if version_id not in (entity.data.get("versions") or {}):
        raise _version_not_found(arn, version_id)
    return {"PolicyVersion": version_output(entity, version_id, document=True)}


def list_policy_versions(ctx: CallContext, params: dict) -> dict:
    arn = params["PolicyArn"]
    entity = _authorize_policy(ctx, "ListPolicyVersions", arn)
    # Newest first, as AWS lists them; the key sorts v10 after v9 reversed.
    ids_ = list(entity.data.get("versions") or {})
    page, extra = paginate(ids_, params, key=lambda v: f"{10**9 - int(v[1:]):010d}")
    return {"Versions": [version_output(entity, v, document=False) for v in page], **extra}


def delete_policy_version(ctx: CallContext, params: dict) -> None:
    arn, version_id = params["PolicyArn"], params["VersionId"]
    _writable(ctx, "DeletePolicyVersion", arn)
    with ctx.store.transaction() as tx:
        entity = _reread(tx, ctx, arn)
        versions = dict(entity.data.get("versions") or {})
        if version_id not in versions:
            raise _version_not_found(arn, version_id)
        if version_id == entity.data.get("default_version"):
            raise DeleteConflict("Cannot delete the default version of a policy.")
        del versions[version_id]
        tx.update(entity, {**entity.data, "versions": versions})
    return None


def set_default_policy_version(ctx: CallContext, params: dict) -> None:
    arn, version_id = params["PolicyArn"], params["VersionId"]
    _writable(ctx, "SetDefaultPolicyVersion", arn, lambda a: _version_not_found(a, version_id))
    with ctx.store.transaction() as tx:
        entity = _reread(tx, ctx, arn)
        if version_id not in (entity.data.get("versions") or {}):
            raise _version_not_found(arn, version_id)
        tx.update(entity, {**entity.data, "default_version": version_id})
    return None


# --- entities -------------------------------------------------------------------

_ENTITY_FILTER = {"User": "user", "Group": "group", "Role": "role"}


def list_entities_for_policy(ctx: CallContext, params: dict) -> dict:
    arn = params["PolicyArn"]
    _authorize_policy(ctx, "ListEntitiesForPolicy", arn, lookup.policy_not_attachable)
    prefix = params.get("PathPrefix") or "/"
    entity_filter = params.get("EntityFilter")
    wanted = _ENTITY_FILTER.get(entity_filter or "")
    usage_filter = params.get("PolicyUsageFilter")
    u = usage(ctx.store, ctx.account_id)
    found: dict[tuple[str, str], Any] = {}
    if usage_filter in (None, "PermissionsPolicy"):
        for kind, e in u.attached_to.get(arn, ()):
            found[(kind, e.name_key)] = (kind, e)
    if usage_filter in (None, "PermissionsBoundary"):
        for kind, e in u.boundary_of.get(arn, ()):
            found[(kind, e.name_key)] = (kind, e)
    rows = [
        (kind, e)
        for (kind, e) in found.values()
        if (wanted is None or kind == wanted) and e.path.startswith(prefix)
    ]
    if entity_filter and wanted is None:
        # LocalManagedPolicy / AWSManagedPolicy: no user, group or role is a
        # policy, so AWS lists nothing (recorded against AWS).
        rows = []
    page, extra = paginate(rows, params, key=lambda r: f"{r[0]}/{r[1].name_key}")
    out: dict[str, Any] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
    for kind, e in page:
        title = KINDS[kind].title
        out[f"Policy{title}s"].append({f"{title}Name": e.name, f"{title}Id": e.entity_id})
    return {**out, **extra}


HANDLERS: dict[str, Callable[..., Any]] = {
    "CreatePolicy": create_policy,
    "GetPolicy": get_policy,
    "ListPolicies": list_policies,
    "DeletePolicy": delete_policy,
    "CreatePolicyVersion": create_policy_version,
    "GetPolicyVersion": get_policy_version,
    "ListPolicyVersions": list_policy_versions,
    "DeletePolicyVersion": delete_policy_version,
    "SetDefaultPolicyVersion": set_default_policy_version,
    "ListEntitiesForPolicy": list_entities_for_policy,
}
