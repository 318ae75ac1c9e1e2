"""Managed policy attachments and permissions boundaries on users, groups and
roles: Attach/Detach{User,Group,Role}Policy, ListAttached{User,Group,Role}Policies,
Put/Delete{User,Role}PermissionsBoundary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import LimitExceeded
from rolegate.iam import lookup
from rolegate.iam.lookup import GROUP, ROLE, USER, EntityKind
from rolegate.iam.paging import paginate

Handler = Callable[[CallContext, dict], Any]


def _attach(kind: EntityKind) -> Handler:
    def handler(ctx: CallContext, params: dict) -> None:
        account = ctx.account_id
        name, arn = params[kind.param], params["PolicyArn"]
        lookup.parse_policy_arn(arn)  # InvalidInput for a malformed ARN, before anything else
        lookup.authorize_entity(
            ctx, kind, f"Attach{kind.title}Policy", name, context={"iam:PolicyARN": arn}
        )
        with ctx.store.transaction() as tx:
            entity = lookup.require(tx, account, kind, name)
            if lookup.find_policy(tx, account, arn) is None:
                raise lookup.policy_not_attachable(arn)
            attached = list(entity.data.get("attached_policies") or [])
            if arn in attached:
                return None  # re-attaching is a no-op in AWS
            if len(attached) >= kind.max_attached:
                raise LimitExceeded(
                    f"Cannot exceed quota for PoliciesPer{kind.title}: {kind.max_attached}"
                )
            tx.update(entity, {**entity.data, "attached_policies": [*attached, arn]})
        return None

    handler.__name__ = f"attach_{kind.kind}_policy"
    return handler


def _detach(kind: EntityKind) -> Handler:
    def handler(ctx: CallContext, params: dict) -> None:
        account = ctx.account_id
        name, arn = params[kind.param], params["PolicyArn"]
        lookup.parse_policy_arn(arn)
        lookup.authorize_entity(
            ctx, kind, f"Detach{kind.title}Policy", name, context={"iam:PolicyARN": arn}
        )
        with ctx.store.transaction() as tx:
            entity = lookup.require(tx, account, kind, name)
            attached = list(entity.data.get("attached_policies") or [])
            if arn not in attached:
                raise lookup.policy_not_found(arn)
            attached.remove(arn)
            tx.update(entity, {**entity.data, "attached_policies": attached})
        return None

    handler.__name__ = f"detach_{kind.kind}_policy"
    return handler


def _list_attached(kind: EntityKind) -> Handler:
    def handler(ctx: CallContext, params: dict) -> dict:
        account = ctx.account_id
        entity = lookup.authorize_entity(
            ctx, kind, f"ListAttached{kind.title}Policies", params[kind.param]
        )
        prefix = params.get("PathPrefix") or "/"
        rows = []
        for arn in entity.data.get("attached_policies") or ():
            policy = lookup.find_policy(ctx.store, account, arn)
            if policy is None or not policy.path.startswith(prefix):
                continue
            rows.append({"PolicyName": policy.name, "PolicyArn": arn})
        page, extra = paginate(rows, params, key=lambda r: r["PolicyArn"].lower())
        return {"AttachedPolicies": page, **extra}

    handler.__name__ = f"list_attached_{kind.kind}_policies"
    return handler


def _put_boundary(kind: EntityKind) -> Handler:
    def handler(ctx: CallContext, params: dict) -> None:
        account = ctx.account_id
        name, arn = params[kind.param], params["PermissionsBoundary"]
        lookup.parse_policy_arn(arn)
        lookup.authorize_entity(
            ctx,
            kind,
            f"Put{kind.title}PermissionsBoundary",
            name,
            context={"iam:PermissionsBoundary": arn},
        )
        with ctx.store.transaction() as tx:
            entity = lookup.require(tx, account, kind, name)
            lookup.check_boundary(tx, account, arn)
            tx.update(entity, {**entity.data, "permissions_boundary": arn})
        return None

    handler.__name__ = f"put_{kind.kind}_permissions_boundary"
    return handler


def _delete_boundary(kind: EntityKind) -> Handler:
    def handler(ctx: CallContext, params: dict) -> None:
        account = ctx.account_id
        name = params[kind.param]
        current = ctx.store.get(account, kind.kind, name)
        boundary = current.data.get("permissions_boundary") if current is not None else None
        lookup.authorize_entity(
            ctx,
            kind,
            f"Delete{kind.title}PermissionsBoundary",
            name,
            context={"iam:PermissionsBoundary": boundary} if boundary else None,
        )
        with ctx.store.transaction() as tx:
            entity = lookup.require(tx, account, kind, name)
            if not entity.data.get("permissions_boundary"):
                return None  # nothing to remove: succeed, so "ensure absent" is idempotent
            tx.update(entity, {**entity.data, "permissions_boundary": None})
        return None

    handler.__name__ = f"delete_{kind.kind}_permissions_boundary"
    return handler


HANDLERS: dict[str, Callable[..., Any]] = {}
for _kind in (USER, GROUP, ROLE):
    HANDLERS[f"Attach{_kind.title}Policy"] = _attach(_kind)
    HANDLERS[f"Detach{_kind.title}Policy"] = _detach(_kind)
    HANDLERS[f"ListAttached{_kind.title}Policies"] = _list_attached(_kind)
for _kind in (USER, ROLE):
    HANDLERS[f"Put{_kind.title}PermissionsBoundary"] = _put_boundary(_kind)
    HANDLERS[f"Delete{_kind.title}PermissionsBoundary"] = _delete_boundary(_kind)
