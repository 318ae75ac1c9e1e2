"""IAM roles: CreateRole, GetRole, ListRoles, DeleteRole, UpdateRole,
UpdateRoleDescription, UpdateAssumeRolePolicy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import DeleteConflict, UnmodifiableEntity, ValidationError
from rolegate.iam import lookup
from rolegate.iam.documents import check_trust_policy
from rolegate.iam.lookup import BOUNDARY_TYPE, ROLE
from rolegate.iam.paging import paginate
from rolegate.iam.tags import clean_tags
from rolegate.principals import trust_binding

DEFAULT_MAX_SESSION = 3600
MIN_MAX_SESSION = 3600
MAX_MAX_SESSION = 43200
# Link from an instance profile's name_key to its role's (iam/instance_profiles.py).
INSTANCE_PROFILE_ROLE_REL = "instance-profile-role"


def _check_max_session(value: Any) -> int:
    if value is None:
        return DEFAULT_MAX_SESSION
    n = int(value)
    # Also checked by the protocol layer from the model; kept for direct callers.
    if n < MIN_MAX_SESSION:
        raise ValidationError(
            f"1 validation error detected: Value '{n}' at 'maxSessionDuration' failed to satisfy "
            f"constraint: Member must have value greater than or equal to {MIN_MAX_SESSION}"
        )
    if n > MAX_MAX_SESSION:
        raise ValidationError(
            f"1 validation error detected: Value '{n}' at 'maxSessionDuration' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_MAX_SESSION}"
        )
    return n


def _last_used(store: Any, entity: Any) -> dict[str, Any]:
    """``RoleLastUsed``: STS records uses through ``store.note_entity_used``; a
    ``last_used`` in the role's data (imported or legacy) is the fallback."""
    found = store.entity_last_used(entity.entity_id) if store is not None else None
    if found and found.get("LastUsedDate"):
        out = {"LastUsedDate": lookup.as_datetime(found["LastUsedDate"])}
        if found.get("Region"):
            out["Region"] = found["Region"]
        return out
    last = entity.data.get("last_used") or {}
    out = {}
    if last.get("date"):
        out["LastUsedDate"] = lookup.as_datetime(last["date"])
    if last.get("region"):
        out["Region"] = last["region"]
    return out


# Role data naming the service of a service-linked role (service_linked_roles.py).
SERVICE_LINKED = "service_linked"


def is_service_linked(role: Any) -> bool:
    return bool(role.data.get(SERVICE_LINKED))


def _protect(entity: Any) -> None:
    """Service-linked roles change only through their own actions."""
    if is_service_linked(entity):
        raise UnmodifiableEntity(
            f"Cannot perform the operation on the protected role '{entity.name}' - "
            "this role is only modifiable by AWS"
        )


# The members of a role embedded in an instance profile (recorded against AWS).
EMBEDDED_ROLE_MEMBERS = (
    "Path",
    "RoleName",
    "RoleId",
    "Arn",
    "CreateDate",
    "AssumeRolePolicyDocument",
)


def role_output(entity: Any, *, full: bool = True, store: Any = None) -> dict[str, Any]:
    """The ``Role`` shape. ListRoles leaves out boundary, tags and last use (as AWS does).

    With ``store``, the trust policy shows its principals as IAM does (bound
    to unique ids: trust_binding); without, the text as stored."""
    data = entity.data
    out: dict[str, Any] = {
        "Path": entity.path,
        "RoleName": entity.name,
        "RoleId": entity.entity_id,
        "Arn": entity.arn,
        "CreateDate": lookup.as_datetime(entity.created_at),
        "AssumeRolePolicyDocument": trust_binding.displayed_document(store, data),
        "MaxSessionDuration": data.get("max_session_duration") or DEFAULT_MAX_SESSION,
    }
    if data.get("description") is not None:
        out["Description"] = data["description"]
    if full:
        boundary = data.get("permissions_boundary")
        if boundary:
            out["PermissionsBoundary"] = {
                "PermissionsBoundaryType": BOUNDARY_TYPE,
                "PermissionsBoundaryArn": boundary,
            }
        if data.get("tags"):
            out["Tags"] = [dict(t) for t in data["tags"]]
        out["RoleLastUsed"] = _last_used(store, entity)
    return out


def create_role(ctx: CallContext, params: dict) -> dict:
    name = params["RoleName"]
    path = params.get("Path") or "/"
    document = params["AssumeRolePolicyDocument"]
    tags = clean_tags(params.get("Tags"))
    boundary = params.get("PermissionsBoundary")
    max_session = _check_max_session(params.get("MaxSessionDuration"))
    data: dict[str, Any] = {
        "assume_role_policy": document,
        "description": params.get("Description"),
        "max_session_duration": max_session,
        "tags": tags,
        "permissions_boundary": boundary or None,
        "inline_policies": {},
        "attached_policies": [],
        "last_used": None,
    }

    def check_and_bind() -> None:
        # Bound only once checked: the checks answer a bad document in AWS's words.
        check_trust_policy(ctx.store, document)
        data.update(trust_binding.bind(ctx.store, document))

    entity = lookup.create_entity(
        ctx,
        ROLE,
        name=name,
        path=path,
        tags=tags,
        boundary=boundary,
        before_insert=check_and_bind,
        data=data,
    )
    out = role_output(entity)
    # CreateRole's answer has no last-use facts, no MaxSessionDuration and no
    # Description, even when one was given (recorded against AWS).
    for member in ("RoleLastUsed", "MaxSessionDuration", "Description"):
        out.pop(member, None)
    lookup.record_response(ctx, {"Role": out})
    return {"Role": out}


def get_role(ctx: CallContext, params: dict) -> dict:
    entity = lookup.authorize_entity(ctx, ROLE, "GetRole", params["RoleName"])
    return {"Role": role_output(entity, store=ctx.store)}


def list_roles(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    prefix = params.get("PathPrefix") or "/"
    lookup.authorize(ctx, "ListRoles", f"arn:aws:iam::{account}:role{prefix}", None)
    roles = ctx.store.list(account, "role", path_prefix=prefix)
    page, extra = paginate(roles, params, key=lambda e: e.name_key)
    return {"Roles": [role_output(e, full=False, store=ctx.store) for e in page], **extra}


def delete_role(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    name = params["RoleName"]
    lookup.authorize_entity(ctx, ROLE, "DeleteRole", name)
    with ctx.store.transaction() as tx:
        entity = lookup.require(tx, account, ROLE, name)
        _protect(entity)
        if entity.data.get("inline_policies"):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if entity.data.get("attached_policies"):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if tx.links_to(account, INSTANCE_PROFILE_ROLE_REL, entity.name_key):
            raise DeleteConflict(
                "Cannot delete entity, must remove roles from instance profile first."
            )
        tx.delete(account, "role", entity.name)
    return None


def _update(ctx: CallContext, name: str, changes: dict[str, Any]) -> Any:
    with ctx.store.transaction() as tx:
        entity = lookup.require(tx, ctx.account_id, ROLE, name)
        if not changes:
            return entity
        return tx.update(entity, {**entity.data, **changes}, now=ctx.now)


def update_role(ctx: CallContext, params: dict) -> dict:
    name = params["RoleName"]
    lookup.authorize_entity(ctx, ROLE, "UpdateRole", name)
    changes: dict[str, Any] = {}
    if params.get("Description") is not None:
        changes["description"] = params["Description"]
    if params.get("MaxSessionDuration") is not None:
        changes["max_session_duration"] = _check_max_session(params["MaxSessionDuration"])
    _update(ctx, name, changes)
    return {}


def update_role_description(ctx: CallContext, params: dict) -> dict:
    name = params["RoleName"]
    lookup.authorize_entity(ctx, ROLE, "UpdateRoleDescription", name)
    entity = _update(ctx, name, {"description": params["Description"]})
    out = role_output(entity, store=ctx.store)
    for member in ("RoleLastUsed", "MaxSessionDuration"):  # as AWS answers (recorded)
        out.pop(member, None)
    return {"Role": out}


def update_assume_role_policy(ctx: CallContext, params: dict) -> None:
    name = params["RoleName"]
    document = params["PolicyDocument"]
    _protect(lookup.authorize_entity(ctx, ROLE, "UpdateAssumeRolePolicy", name))
    check_trust_policy(ctx.store, document, update=True)
    binding = trust_binding.bind(ctx.store, document)
    _update(ctx, name, {"assume_role_policy": document, **binding})
    return None


HANDLERS: dict[str, Callable[..., Any]] = {
    "CreateRole": create_role,
    "GetRole": get_role,
    "ListRoles": list_roles,
    "DeleteRole": delete_role,
    "UpdateRole": update_role,
    "UpdateRoleDescription": update_role_description,
    "UpdateAssumeRolePolicy": update_assume_role_policy,
}
