"""GetAccountAuthorizationDetails: a snapshot of every user, group, role and
managed policy of the account with their policies (reference §5.2).

Documents are returned as the plain JSON text that was stored (the protocol
layer URL-encodes ``policyDocumentType`` members). Pagination runs across all
four lists at once, in the order users, groups, roles, policies, as AWS's
single ``Marker`` implies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rolegate.context import CallContext
from rolegate.iam.instance_profiles import profiles_for_role
from rolegate.iam.lookup import (
    AWS_MANAGED_ACCOUNT,
    BOUNDARY_TYPE,
    as_datetime,
    find_policy,
    linked,
)
from rolegate.iam.paging import paginate
from rolegate.iam.policies import Usage, update_date, usage, version_output
from rolegate.iam.principals import GROUP_MEMBER_REL
from rolegate.principals.trust_binding import displayed_document

ALL_FILTERS = ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")


def _create_date(entity: Any) -> datetime:
    return as_datetime(entity.created_at)


def _inline(entity: Any) -> list[dict[str, str]]:
    policies = entity.data.get("inline_policies") or {}
    return [{"PolicyName": name, "PolicyDocument": policies[name]} for name in sorted(policies)]


def _attached(entity: Any) -> list[dict[str, str]]:
    out = []
    for arn in entity.data.get("attached_policies") or ():
        out.append({"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn})
    return out


def _boundary(entity: Any) -> dict[str, str] | None:
    arn = entity.data.get("permissions_boundary")
    if not arn:
        return None
    return {"PermissionsBoundaryType": BOUNDARY_TYPE, "PermissionsBoundaryArn": arn}


def _tags(entity: Any) -> list[dict[str, str]]:
    return [dict(t) for t in entity.data.get("tags") or ()]


def _user_detail(store: Any, account_id: str, user: Any) -> dict[str, Any]:
    groups = [g.name for g in linked(store, account_id, GROUP_MEMBER_REL, "group", b=user.name_key)]
    out: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.entity_id,
        "Arn": user.arn,
        "CreateDate": _create_date(user),
        "UserPolicyList": _inline(user),
        "GroupList": groups,
        "AttachedManagedPolicies": _attached(user),
        "Tags": _tags(user),
    }
    if not out["UserPolicyList"]:
        # Users without inline policies have no such key; groups and roles
        # keep an empty list (recorded against AWS).
        del out["UserPolicyList"]
    boundary = _boundary(user)
    if boundary is not None:
        out["PermissionsBoundary"] = boundary
    return out


def _group_detail(group: Any) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.entity_id,
        "Arn": group.arn,
        "CreateDate": _create_date(group),
        "GroupPolicyList": _inline(group),
        "AttachedManagedPolicies": _attached(group),
    }


def _role_detail(store: Any, account_id: str, role: Any) -> dict[str, Any]:
    d = role.data
    out: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.entity_id,
        "Arn": role.arn,
        "CreateDate": _create_date(role),
        "AssumeRolePolicyDocument": displayed_document(store, d),
        "InstanceProfileList": profiles_for_role(store, account_id, role),
        "RolePolicyList": _inline(role),
        "AttachedManagedPolicies": _attached(role),
        "Tags": _tags(role),
        "RoleLastUsed": {},
    }
    boundary = _boundary(role)
    if boundary is not None:
        out["PermissionsBoundary"] = boundary
    last_used = d.get("last_used") or {}
    if last_used.get("date"):
        out["RoleLastUsed"] = {"LastUsedDate": as_datetime(last_used["date"])}
        if last_used.get("region"):
            out["RoleLastUsed"]["Region"] = last_used["region"]
    return out


def _policy_detail(policy: Any, u: Usage) -> dict[str, Any]:
    d = policy.data
    versions = d.get("versions") or {}
    # Newest first, as AWS lists them.
    order = sorted(versions, key=lambda v: int(v[1:]) if v[1:].isdigit() else 0, reverse=True)
    out: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.entity_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": d.get("default_version"),
        "AttachmentCount": u.attached.get(policy.arn, 0),
        "PermissionsBoundaryUsageCount": u.boundary.get(policy.arn, 0),
        "IsAttachable": True,
        "CreateDate": as_datetime(policy.created_at),
        "UpdateDate": update_date(policy),
        "PolicyVersionList": [version_output(policy, vid, document=True) for vid in order],
    }
    if d.get("description") and policy.account_id != AWS_MANAGED_ACCOUNT:
        # AWS shows no description for its own policies here (recorded).
        out["Description"] = d["description"]
    return out


def get_account_authorization_details(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:GetAccountAuthorizationDetails", "*")
    store = ctx.store
    account = ctx.account_id
    wanted = set(params.get("Filter") or ALL_FILTERS)
    # Attachment and boundary counts are this account's view, as in AWS.
    u = usage(store, account)

    # (sort key, list name, builder) per item; built lazily so only the page
    # being returned pays for its details.
    items: list[tuple[str, str, Callable[[], dict[str, Any]]]] = []
    if "User" in wanted:
        for e in store.list(account, "user"):
            items.append(
                (f"0:{e.name_key}", "UserDetailList", _bind(_user_detail, store, account, e))
            )
    if "Group" in wanted:
        for e in store.list(account, "group"):
            items.append((f"1:{e.name_key}", "GroupDetailList", _bind(_group_detail, e)))
    if "Role" in wanted:
        for e in store.list(account, "role"):
            items.append(
                (f"2:{e.name_key}", "RoleDetailList", _bind(_role_detail, store, account, e))
            )
    if "LocalManagedPolicy" in wanted:
        for p in store.list(account, "policy"):
            items.append((f"3:{p.arn}", "Policies", _bind(_policy_detail, p, u)))
    if "AWSManagedPolicy" in wanted:
        # Only the AWS managed policies this account uses: listing the whole
        # AWS catalogue would drown the answer (AWS behaves the same way).
        for arn in sorted(set(u.attached) | set(u.boundary)):
            p = find_policy(store, account, arn)
            if p is not None and p.account_id == AWS_MANAGED_ACCOUNT:
                items.append((f"3:{p.arn}", "Policies", _bind(_policy_detail, p, u)))

    page, extra = paginate(items, params, key=lambda item: item[0])
    # Every list is present, empty when not asked for (recorded against AWS).
    out: dict[str, Any] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    for _, list_name, build in page:
        out[list_name].append(build())
    out.update(extra)
    return out


def _bind(fn: Callable[..., dict[str, Any]], *args: Any) -> Callable[[], dict[str, Any]]:
    return lambda: fn(*args)


HANDLERS: dict[str, Callable[[CallContext, dict[str, Any]], dict[str, Any] | None]] = {
    "GetAccountAuthorizationDetails": get_account_authorization_details,
}
