"""IAM groups and membership: CreateGroup, GetGroup, ListGroups, DeleteGroup,
UpdateGroup, AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.

Membership is the store link ``group-member`` (a = group name_key, b = user
name_key), which ``principals.policy_bundle`` follows from the user side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import DeleteConflict, LimitExceeded, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.lookup import GROUP, USER
from rolegate.iam.paging import paginate
from rolegate.iam.principals import GROUP_MEMBER_REL
from rolegate.iam.users import user_output

MAX_GROUPS_PER_USER = 10  # §4.6


def group_output(entity: Any) -> dict[str, Any]:
    return {
        "Path": entity.path,
        "GroupName": entity.name,
        "GroupId": entity.entity_id,
        "Arn": entity.arn,
        "CreateDate": lookup.as_datetime(entity.created_at),
    }


def create_group(ctx: CallContext, params: dict) -> dict:
    entity = lookup.create_entity(
        ctx,
        GROUP,
        name=params["GroupName"],
        path=params.get("Path") or "/",
        data={"inline_policies": {}, "attached_policies": []},
    )
    out = {"Group": group_output(entity)}
    lookup.record_response(ctx, out)
    return out


def get_group(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    group = lookup.authorize_entity(ctx, GROUP, "GetGroup", params["GroupName"])
    members = lookup.linked(ctx.store, account, GROUP_MEMBER_REL, "user", a=group.name_key)
    page, extra = paginate(members, params, key=lambda e: e.name_key)
    return {
        "Group": group_output(group),
        "Users": [user_output(u, full=False) for u in page],
        **extra,
    }


def list_groups(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    prefix = params.get("PathPrefix") or "/"
    lookup.authorize(ctx, "ListGroups", f"arn:aws:iam::{account}:group{prefix}", None)
    groups = ctx.store.list(account, "group", path_prefix=prefix)
    page, extra = paginate(groups, params, key=lambda e: e.name_key)
    return {"Groups": [group_output(g) for g in page], **extra}


def delete_group(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    name = params["GroupName"]
    lookup.authorize_entity(ctx, GROUP, "DeleteGroup", name)
    with ctx.store.transaction() as tx:
        group = lookup.require(tx, account, GROUP, name)
        if tx.links_from(account, GROUP_MEMBER_REL, group.name_key):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if group.data.get("inline_policies"):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if group.data.get("attached_policies"):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        tx.delete(account, "group", group.name)
    return None


def update_group(ctx: CallContext, params: dict) -> None:
    """Rename and/or move a group (permission needed on source and target, as in AWS)."""
    account = ctx.account_id
    name = params["GroupName"]
    target = lookup.rename_target(ctx, GROUP, params)
    with ctx.store.transaction() as tx:
        change = lookup.rename_entity(tx, ctx, GROUP, name, target)
        group, updated, renamed = change.before, change.after, change.renamed
        if renamed:
            # Membership links are keyed by the group's name_key.
            for user_key in tx.links_from(account, GROUP_MEMBER_REL, group.name_key):
                tx.unlink(account, GROUP_MEMBER_REL, group.name_key, user_key)
                tx.link(account, GROUP_MEMBER_REL, updated.name_key, user_key)
    return None


def add_user_to_group(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    group_name, user_name = params["GroupName"], params["UserName"]
    # AWS authorises membership changes on the group.
    lookup.authorize_entity(ctx, GROUP, "AddUserToGroup", group_name)
    with ctx.store.transaction() as tx:
        group = lookup.require(tx, account, GROUP, group_name)
        user = lookup.require(tx, account, USER, user_name)
        current = tx.links_to(account, GROUP_MEMBER_REL, user.name_key)
        if group.name_key in current:
            return None  # already a member: AWS treats a repeat as success
        if len(current) >= MAX_GROUPS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}")
        tx.link(account, GROUP_MEMBER_REL, group.name_key, user.name_key)
    return None


def remove_user_from_group(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    group_name, user_name = params["GroupName"], params["UserName"]
    # AWS names a missing user before a missing group, and removing a user
    # who is not a member succeeds (both recorded against AWS).
    try:
        lookup.authorize_entity(ctx, GROUP, "RemoveUserFromGroup", group_name)
    except NoSuchEntity:
        if ctx.store.get(account, USER.kind, user_name) is None:
            raise USER.not_found(user_name) from None
        raise
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, user_name)
        group = lookup.require(tx, account, GROUP, group_name)
        if group.name_key in tx.links_to(account, GROUP_MEMBER_REL, user.name_key):
            tx.unlink(account, GROUP_MEMBER_REL, group.name_key, user.name_key)
    return None


def list_groups_for_user(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    user = lookup.authorize_entity(ctx, USER, "ListGroupsForUser", params["UserName"])
    groups = lookup.linked(ctx.store, account, GROUP_MEMBER_REL, "group", b=user.name_key)
    page, extra = paginate(groups, params, key=lambda e: e.name_key)
    return {"Groups": [group_output(g) for g in page], **extra}


HANDLERS: dict[str, Callable[..., Any]] = {
    "CreateGroup": create_group,
    "GetGroup": get_group,
    "ListGroups": list_groups,
    "DeleteGroup": delete_group,
    "UpdateGroup": update_group,
    "AddUserToGroup": add_user_to_group,
    "RemoveUserFromGroup": remove_user_from_group,
    "ListGroupsForUser": list_groups_for_user,
}
