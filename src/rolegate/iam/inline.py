"""Inline policies of users, groups and roles: Put/Get/Delete{User,Group,Role}Policy
and List{User,Group,Role}Policies.

Documents are stored verbatim under ``data["inline_policies"][name]``.
Policy names are matched case-insensitively, like every IAM name; a Put
under a differently cased name replaces the old policy and takes the new
spelling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import LimitExceeded, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.documents import check_identity_policy, inline_total
from rolegate.iam.lookup import GROUP, ROLE, USER, EntityKind
from rolegate.iam.paging import paginate

Handler = Callable[[CallContext, dict], Any]


def _find(policies: dict[str, str], name: str) -> str | None:
    folded = name.lower()
    for existing in policies:
        if existing.lower() == folded:
            return existing
    return None


def _not_found(kind: EntityKind, name: str) -> NoSuchEntity:
    return NoSuchEntity(f"The {kind.label} policy with name {name} cannot be found.")


def _put(kind: EntityKind) -> Handler:
    def handler(ctx: CallContext, params: dict) -> None:
        account = ctx.account_id
        name, policy_name, document = (
            params[kind.param],
            params["PolicyName"],
            params["PolicyDocument"],
        )
        lookup.authorize_entity(ctx, kind, f"Put{kind.title}Policy", name)
        check_identity_policy(document)
        with ctx.store.transaction() as tx:
            entity = lookup.require(tx, account, kind, name)
            policies = dict(entity.data.get("inline_policies") or {})
            old = _find(policies, policy_name)
            if old is not None:
                del policies[old]
            policies[policy_name] = document
            if inline_total(policies) > kind.inline_quota:
                raise LimitExceeded(
                    f"Maximum policy size of {kind.inline_quota} bytes exceeded for "
                    f"{kind.label} {entity.name}"
                )
            tx.update(entity, {**entity.data, "inline_policies": policies})
        return None

    handler.__name__ = f"put_{kind.kind}_policy"
    return handler


def _get(kind: EntityKind) -> Handler:
    def handler(ctx: CallContext, params: dict) -> dict:
        entity = lookup.authorize_entity(ctx, kind, f"Get{kind.title}Policy", params[kind.param])
        policies = entity.data.get("inline_policies") or {}
        found = _find(policies, params["PolicyName"])
        if found is None:
            raise _not_found(kind, params["PolicyName"])
        return {kind.param: entity.name, "PolicyName": found, "PolicyDocument": policies[found]}

    handler.__name__ = f"get_{kind.kind}_policy"
    return handler


def _delete(kind: EntityKind) -> Handler:
    def handler(ctx: CallContext, params: dict) -> None:
        account = ctx.account_id
        name, policy_name = params[kind.param], params["PolicyName"]
        lookup.authorize_entity(ctx, kind, f"Delete{kind.title}Policy", name)
        with ctx.store.transaction() as tx:
            entity = lookup.require(tx, account, kind, name)
            policies = dict(entity.data.get("inline_policies") or {})
            found = _find(policies, policy_name)
            if found is None:
                raise _not_found(kind, policy_name)
            del policies[found]
            tx.update(entity, {**entity.data, "inline_policies": policies})
        return None

    handler.__name__ = f"delete_{kind.kind}_policy"
    return handler


def _list(kind: EntityKind) -> Handler:
    def handler(ctx: CallContext, params: dict) -> dict:
        entity = lookup.authorize_entity(ctx, kind, f"List{kind.title}Policies", params[kind.param])
        names = list(entity.data.get("inline_policies") or {})
        page, extra = paginate(names, params, key=str.lower)
        return {"PolicyNames": page, **extra}

    handler.__name__ = f"list_{kind.kind}_policies"
    return handler


HANDLERS: dict[str, Callable[..., Any]] = {}
for _kind in (USER, GROUP, ROLE):
    HANDLERS[f"Put{_kind.title}Policy"] = _put(_kind)
    HANDLERS[f"Get{_kind.title}Policy"] = _get(_kind)
    HANDLERS[f"Delete{_kind.title}Policy"] = _delete(_kind)
    HANDLERS[f"List{_kind.title}Policies"] = _list(_kind)
