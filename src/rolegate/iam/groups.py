"""IAM groups and membership: CreateGroup, GetGroup, ListGroups, DeleteGroup,
UpdateGroup, AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.

Membership is the store link ``group-member`` (a = group name_key, b = user
name_key), which ``principals.policy_bundle`` follows from the user side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate import ids
from rolegate.context import CallContext
from rolegate.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.lookup import GROUP, USER
from rolegate.iam.paging import paginate
from rolegate.iam.principals import GROUP_MEMBER_REL
from rolegate.iam.users import user_output
from rolegate.store import Conflict

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
    account = ctx.account_id
    name = params["GroupName"]
    path = params.get("Path") or "/"
    arn = GROUP.arn(account, path, name)
    lookup.authorize(ctx, "CreateGroup", arn, GROUP.audit_type)
    with ctx.store.transaction() as tx:
        entity = lookup.insert_entity(
            tx,
            account,
            "group",
            name,
            entity_id=ids.new_unique_id(GROUP.id_prefix, lookup.rng(ctx)),
            arn=arn,
            path=path,
            data={"inline_policies": {}, "attached_policies": []},
            now=ctx.now,
            exists=EntityAlreadyExists(f"Group with name {name} already exists."),
        )
    out = {"Group": group_output(entity)}
    lookup.record_response(ctx, out)
    return out


def get_group(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    group = lookup.authorize_entity(ctx, GROUP, "GetGroup", params["GroupName"])
    members = []
    for user_key in ctx.store.links_from(account, GROUP_MEMBER_REL, group.name_key):
        user = ctx.store.get(account, "user", user_key)
        if user is not None:
            members.append(user)
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
    current = lookup.authorize_entity(ctx, GROUP, "UpdateGroup", name)
    new_name = params.get("NewGroupName") or current.name
    new_path = params.get("NewPath") or current.path
    new_arn = GROUP.arn(account, new_path, new_name)
    if new_arn != current.arn:
        lookup.authorize(ctx, "UpdateGroup", new_arn, GROUP.audit_type)
    with ctx.store.transaction() as tx:
        group = lookup.require(tx, account, GROUP, name)
        renamed = new_name.lower() != group.name_key
        if renamed and tx.get(account, "group", new_name) is not None:
            raise EntityAlreadyExists(f"Group with name {new_name} already exists.")
        try:
            updated = tx.update(
                group, dict(group.data), name=new_name, path=new_path, arn=new_arn, now=ctx.now
            )
        except Conflict:
            raise EntityAlreadyExists(f"Group with name {new_name} already exists.") from None
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
    lookup.authorize_entity(ctx, GROUP, "RemoveUserFromGroup", group_name)
    with ctx.store.transaction() as tx:
        group = lookup.require(tx, account, GROUP, group_name)
        user = lookup.require(tx, account, USER, user_name)
        if group.name_key not in tx.links_to(account, GROUP_MEMBER_REL, user.name_key):
            raise NoSuchEntity(f"User {user.name} is not in group {group.name}.")
        tx.unlink(account, GROUP_MEMBER_REL, group.name_key, user.name_key)
    return None


def list_groups_for_user(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    user = lookup.authorize_entity(ctx, USER, "ListGroupsForUser", params["UserName"])
    groups = []
    for group_key in ctx.store.links_to(account, GROUP_MEMBER_REL, user.name_key):
        group = ctx.store.get(account, "group", group_key)
        if group is not None:
            groups.append(group)
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
