"""Tags on users, roles and customer managed policies: Tag*/Untag*/List*Tags,
and the tag-list rules shared by the Create* actions.

IAM tag keys are case-insensitive for uniqueness but keep the case they were
written with; a later TagRole with ``costcenter`` replaces ``CostCenter``.
Customer managed policies are the exception: there ``a`` and ``A`` are two
tags (recorded against AWS), hence ``case_sensitive``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import AccessDenied, InvalidInput, LimitExceeded
from rolegate.iam import lookup
from rolegate.iam.lookup import AWS_MANAGED_ACCOUNT, POLICY_AUDIT_TYPE, ROLE, USER, EntityKind
from rolegate.iam.paging import paginate

MAX_TAGS = 50  # per resource (§4.6)
DUPLICATE_TAGS_MSG = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
DUPLICATE_TAGS_SENSITIVE_MSG = "Duplicate tag keys found."


def _fold(key: str, case_sensitive: bool) -> str:
    return key if case_sensitive else key.lower()


def clean_tags(
    tags: Sequence[dict[str, Any]] | None, *, case_sensitive: bool = False
) -> list[dict[str, str]]:
    """A request's tag list as stored; duplicate keys are rejected as AWS does."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for t in tags or ():
        key, value = str(t["Key"]), str(t.get("Value", ""))
        folded = _fold(key, case_sensitive)
        if folded in seen:
            # Policies' tags are case-sensitive and AWS leaves the case note out
            # there: recorded for CreatePolicy and TagPolicy (LocalStack's
            # test_iam_policies snapshot, TestPolicyTags, 2026).
            raise InvalidInput(
                DUPLICATE_TAGS_SENSITIVE_MSG if case_sensitive else DUPLICATE_TAGS_MSG
            )
        seen.add(folded)
        out.append({"Key": key, "Value": value})
    if len(out) > MAX_TAGS:
        raise LimitExceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    return out


def merge_tags(
    existing: Sequence[dict[str, str]],
    new: Sequence[dict[str, Any]],
    *,
    case_sensitive: bool = False,
) -> list[dict[str, str]]:
    incoming = clean_tags(new, case_sensitive=case_sensitive)
    by_key = {_fold(t["Key"], case_sensitive): t for t in incoming}
    merged = [dict(t) for t in existing if _fold(t["Key"], case_sensitive) not in by_key]
    merged.extend(incoming)
    if len(merged) > MAX_TAGS:
        raise LimitExceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    return merged


def remove_tags(
    existing: Sequence[dict[str, str]], keys: Sequence[str], *, case_sensitive: bool = False
) -> list[dict[str, str]]:
    drop = {_fold(k, case_sensitive) for k in keys}
    return [dict(t) for t in existing if _fold(t["Key"], case_sensitive) not in drop]


def _tag_keys_context(keys: Sequence[str]) -> dict[str, Any]:
    return {"aws:TagKeys": list(keys)} if keys else {}


# --- users and roles ----------------------------------------------------------


def _tag_entity(kind: EntityKind) -> Callable[[CallContext, dict], None]:
    def handler(ctx: CallContext, params: dict) -> None:
        name = params[kind.param]
        tags = clean_tags(params.get("Tags"))
        lookup.authorize_entity(
            ctx, kind, f"Tag{kind.title}", name, context=lookup.tag_context(tags, "aws:RequestTag/")
        )
        with ctx.store.transaction() as tx:
            entity = lookup.require(tx, ctx.account_id, kind, name)
            data = dict(entity.data)
            data["tags"] = merge_tags(entity.data.get("tags") or [], tags)
            tx.update(entity, data)
        return None

    handler.__name__ = f"tag_{kind.kind}"
    return handler


def _untag_entity(kind: EntityKind) -> Callable[[CallContext, dict], None]:
    def handler(ctx: CallContext, params: dict) -> None:
        name = params[kind.param]
        keys = list(params.get("TagKeys") or [])
        lookup.authorize_entity(
            ctx, kind, f"Untag{kind.title}", name, context=_tag_keys_context(keys)
        )
        with ctx.store.transaction() as tx:
            entity = lookup.require(tx, ctx.account_id, kind, name)
            data = dict(entity.data)
            data["tags"] = remove_tags(entity.data.get("tags") or [], keys)
            tx.update(entity, data)
        return None

    handler.__name__ = f"untag_{kind.kind}"
    return handler


def _list_entity_tags(kind: EntityKind) -> Callable[[CallContext, dict], dict]:
    def handler(ctx: CallContext, params: dict) -> dict:
        entity = lookup.authorize_entity(ctx, kind, f"List{kind.title}Tags", params[kind.param])
        return list_output(entity.data.get("tags") or [], params)

    handler.__name__ = f"list_{kind.kind}_tags"
    return handler


def entity_tag_handlers(kind: EntityKind, module: str) -> dict[str, Callable[..., Any]]:
    """``Tag<Kind>``, ``Untag<Kind>`` and ``List<Kind>Tags`` for an entity kind
    whose other actions live in ``module``; the handlers are filed under that
    module (tests group handlers by ``__module__``)."""
    out: dict[str, Callable[..., Any]] = {
        f"Tag{kind.title}": _tag_entity(kind),
        f"Untag{kind.title}": _untag_entity(kind),
        f"List{kind.title}Tags": _list_entity_tags(kind),
    }
    for handler in out.values():
        handler.__module__ = module
    return out


def list_output(
    tags: Sequence[dict[str, str]], params: dict, *, case_sensitive: bool = False
) -> dict:
    page, extra = paginate(tags, params, key=lambda t: _fold(t["Key"], case_sensitive))
    return {"Tags": [dict(t) for t in page], **extra}


# --- customer managed policies ----------------------------------------------


def _policy_for_write(ctx: CallContext, action: str, arn: str, context: dict[str, Any]) -> None:
    found = lookup.find_policy(ctx.store, ctx.account_id, arn)
    lookup.authorize(
        ctx, action, arn, POLICY_AUDIT_TYPE, context={**lookup.resource_context(found), **context}
    )
    if found is None:
        raise lookup.policy_not_found(arn)
    if found.account_id == AWS_MANAGED_ACCOUNT:
        raise AccessDenied(f"AWS managed policies cannot be modified: {arn}")


def tag_policy(ctx: CallContext, params: dict) -> None:
    arn = params["PolicyArn"]
    tags = clean_tags(params.get("Tags"), case_sensitive=True)
    _policy_for_write(ctx, "TagPolicy", arn, lookup.tag_context(tags, "aws:RequestTag/"))
    with ctx.store.transaction() as tx:
        entity = lookup.find_policy(tx, ctx.account_id, arn)
        if entity is None:
            raise lookup.policy_not_found(arn)
        data = dict(entity.data)
        data["tags"] = merge_tags(entity.data.get("tags") or [], tags, case_sensitive=True)
        tx.update(entity, data)
    return None


def untag_policy(ctx: CallContext, params: dict) -> None:
    arn = params["PolicyArn"]
    keys = list(params.get("TagKeys") or [])
    _policy_for_write(ctx, "UntagPolicy", arn, _tag_keys_context(keys))
    with ctx.store.transaction() as tx:
        entity = lookup.find_policy(tx, ctx.account_id, arn)
        if entity is None:
            raise lookup.policy_not_found(arn)
        data = dict(entity.data)
        data["tags"] = remove_tags(entity.data.get("tags") or [], keys, case_sensitive=True)
        tx.update(entity, data)
    return None


def list_policy_tags(ctx: CallContext, params: dict) -> dict:
    arn = params["PolicyArn"]
    found = lookup.find_policy(ctx.store, ctx.account_id, arn)
    lookup.authorize(
        ctx, "ListPolicyTags", arn, POLICY_AUDIT_TYPE, context=lookup.resource_context(found)
    )
    if found is None:
        raise lookup.policy_not_found(arn)
    return list_output(found.data.get("tags") or [], params, case_sensitive=True)


HANDLERS: dict[str, Callable[..., Any]] = {
    "TagUser": _tag_entity(USER),
    "UntagUser": _untag_entity(USER),
    "ListUserTags": _list_entity_tags(USER),
    "TagRole": _tag_entity(ROLE),
    "UntagRole": _untag_entity(ROLE),
    "ListRoleTags": _list_entity_tags(ROLE),
    "TagPolicy": tag_policy,
    "UntagPolicy": untag_policy,
    "ListPolicyTags": list_policy_tags,
}
