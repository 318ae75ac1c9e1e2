"""IAM users: CreateUser, GetUser, ListUsers, DeleteUser, UpdateUser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import DeleteConflict
from rolegate.iam import (
    lookup,
    service_specific_credentials,
    signing_certificates,
    ssh_public_keys,
)
from rolegate.iam.lookup import BOUNDARY_TYPE, USER
from rolegate.iam.paging import paginate
from rolegate.iam.principals import GROUP_MEMBER_REL
from rolegate.iam.tags import clean_tags
from rolegate.store import name_key


def user_output(entity: Any, *, full: bool = True) -> dict[str, Any]:
    """The ``User`` shape; ListUsers leaves out boundary and tags (as AWS does)."""
    out: dict[str, Any] = {
        "Path": entity.path,
        "UserName": entity.name,
        "UserId": entity.entity_id,
        "Arn": entity.arn,
        "CreateDate": lookup.as_datetime(entity.created_at),
    }
    if full:
        boundary = entity.data.get("permissions_boundary")
        if boundary:
            out["PermissionsBoundary"] = {
                "PermissionsBoundaryType": BOUNDARY_TYPE,
                "PermissionsBoundaryArn": boundary,
            }
        tags = entity.data.get("tags")
        if tags:
            out["Tags"] = [dict(t) for t in tags]
    return out


def create_user(ctx: CallContext, params: dict) -> dict:
    tags = clean_tags(params.get("Tags"))
    boundary = params.get("PermissionsBoundary")
    entity = lookup.create_entity(
        ctx,
        USER,
        name=params["UserName"],
        path=params.get("Path") or "/",
        tags=tags,
        boundary=boundary,
        data={
            "tags": tags,
            "permissions_boundary": boundary or None,
            "inline_policies": {},
            "attached_policies": [],
        },
    )
    out = {"User": user_output(entity)}
    lookup.record_response(ctx, out)
    return out


def _root_user(ctx: CallContext) -> dict:
    # GetUser signed by the account root describes the root itself (AWS
    # returns no UserName/Path for it). The account's creation date stands in
    # for the root user's.
    p = ctx.principal
    assert p is not None
    account = ctx.store.get_account(p.account_id) or {}
    created = account.get("created_at") or ctx.now
    return {
        "User": {"UserId": p.account_id, "Arn": p.arn, "CreateDate": lookup.as_datetime(created)}
    }


def get_user(ctx: CallContext, params: dict) -> dict:
    p = ctx.principal
    if not params.get("UserName") and p is not None and p.kind == "root":
        lookup.authorize(ctx, "GetUser", p.arn, None)
        return _root_user(ctx)
    name = lookup.caller_user_name(ctx, params)
    entity = lookup.authorize_entity(ctx, USER, "GetUser", name)
    return {"User": user_output(entity)}


def list_users(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    prefix = params.get("PathPrefix") or "/"
    lookup.authorize(ctx, "ListUsers", f"arn:aws:iam::{account}:user{prefix}", None)
    users = ctx.store.list(account, "user", path_prefix=prefix)
    page, extra = paginate(users, params, key=lambda e: e.name_key)
    return {"Users": [user_output(e, full=False) for e in page], **extra}


def _mfa_devices_of(tx: Any, account: str, user_name: str) -> list[Any]:
    folded = name_key(user_name)
    return [
        d for d in tx.list(account, "mfa") if name_key(str(d.data.get("user_name") or "")) == folded
    ]


def delete_user(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    name = params["UserName"]
    lookup.authorize_entity(ctx, USER, "DeleteUser", name)
    with ctx.store.transaction() as tx:
        entity = lookup.require(tx, account, USER, name)
        # The order follows AWS: credentials first, then policies, then groups.
        if entity.data.get("login_profile"):
            raise DeleteConflict("Cannot delete entity, must delete login profile first.")
        if tx.list_access_keys(account, entity.name):
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")
        if _mfa_devices_of(tx, account, entity.name):
            raise DeleteConflict("Cannot delete entity, must delete MFA device first.")
        # The other credential kinds (wording as LocalStack recorded it
        # against AWS; their order among themselves is unconfirmed).
        if signing_certificates.certificates_of(tx, account, entity.entity_id):
            raise DeleteConflict("Cannot delete entity, must delete signing certificates first.")
        if ssh_public_keys.keys_of(tx, account, entity.entity_id):
            raise DeleteConflict("Cannot delete entity, must delete SSH public keys first.")
        if service_specific_credentials.credentials_of(tx, account, entity.entity_id):
            # AWS names no credential kind here (recorded by LocalStack).
            raise DeleteConflict("Cannot delete entity, must remove referenced objects first.")
        if entity.data.get("inline_policies"):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if entity.data.get("attached_policies"):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if tx.links_to(account, GROUP_MEMBER_REL, entity.name_key):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        tx.delete(account, "user", entity.name)
    return None


def update_user(ctx: CallContext, params: dict) -> None:
    """Rename and/or move a user.

    AWS requires permission on both the source and the target name. Access
    keys follow the rename in the store; group memberships (links keyed by
    name) and assigned MFA devices are carried over here. Trust policies
    follow the user: they are bound to its unique id (iam/trust_binding.py).
    """
    account = ctx.account_id
    name = params["UserName"]
    target = lookup.rename_target(ctx, USER, params)
    with ctx.store.transaction() as tx:
        change = lookup.rename_entity(tx, ctx, USER, name, target)
        user, updated, renamed = change.before, change.after, change.renamed
        if renamed:
            for group_key in tx.links_to(account, GROUP_MEMBER_REL, user.name_key):
                tx.unlink(account, GROUP_MEMBER_REL, group_key, user.name_key)
                tx.link(account, GROUP_MEMBER_REL, group_key, updated.name_key)
            for device in _mfa_devices_of(tx, account, user.name):
                tx.update(device, {**device.data, "user_name": updated.name}, now=ctx.now)
    return None


HANDLERS: dict[str, Callable[..., Any]] = {
    "CreateUser": create_user,
    "GetUser": get_user,
    "ListUsers": list_users,
    "DeleteUser": delete_user,
    "UpdateUser": update_user,
}
