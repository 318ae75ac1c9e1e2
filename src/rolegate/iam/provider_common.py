"""What the OIDC and SAML provider handlers share: entity ids and creation
dates, the audit record, read-modify-write and insert in the store, the
create-time authorisation, and the Tag/Untag/List...Tags handlers."""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rolegate import arn as arnlib
from rolegate.context import CallContext
from rolegate.errors import (
    EntityAlreadyExists,
    InvalidInput,
    NoSuchEntity,
)
from rolegate.iam import lookup
from rolegate.iam.lookup import as_datetime, rng
from rolegate.iam.tags import clean_tags, list_output, merge_tags, remove_tags
from rolegate.store import Conflict


def _name_from_arn(ctx: CallContext, provider_arn: str, prefix: str, not_found: str) -> str:
    """The stored name a provider ARN names (``prefix`` is its resource type
    and slash); another account's or an empty name is ``not_found``."""
    a = arnlib.try_parse(provider_arn)
    if a is None or a.service != "iam" or not a.resource.startswith(prefix):
        raise InvalidInput(f"ARN {provider_arn} is not valid.")
    name = a.resource[len(prefix) :]
    if not name or a.account != ctx.account_id:
        raise NoSuchEntity(not_found)
    return name


def _create_date(entity: Any) -> datetime:
    return as_datetime(entity.created_at)


def _new_entity_id(ctx: CallContext, prefix: str) -> str:
    # Providers have no AWS-visible id; the store still wants a unique one.
    alphabet = string.ascii_uppercase + string.digits
    r = rng(ctx)
    return prefix + "".join(r.choice(alphabet) for _ in range(17))


def _audit(ctx: CallContext, arn: str, rtype: str) -> None:
    ctx.audit_resources.append({"ARN": arn, "accountId": ctx.account_id, "type": rtype})


def _update(
    ctx: CallContext, kind: str, name: str, change: Callable[[dict[str, Any]], None]
) -> Any:
    """Read-modify-write one entity in a transaction (the store is optimistic on version)."""
    with ctx.store.transaction() as tx:
        entity = tx.get(ctx.account_id, kind, name)
        if entity is None:
            return None
        data = dict(entity.data)
        change(data)
        return tx.update(entity, data, now=ctx.now)


def _authorize_create(
    ctx: CallContext, kind: str, provider_arn: str, tags: list[dict[str, str]]
) -> None:
    """``iam:Create<kind>`` and, with Tags, ``iam:Tag<kind>`` on the new
    provider, both with the request's tags as condition keys."""
    ctx.authorize(
        f"iam:Create{kind}",
        provider_arn,
        context=lookup.tag_context(tags, "aws:RequestTag/") or None,
    )
    lookup.authorize_tag_on_create(ctx, f"Tag{kind}", provider_arn, tags)


def _insert(
    ctx: CallContext,
    tx: Any,
    account_id: str,
    kind: str,
    name: str,
    prefix: str,
    arn: str,
    data: dict[str, Any],
    dup_message: str,
) -> Any:
    try:
        return tx.insert(
            account_id,
            kind,
            name,
            entity_id=_new_entity_id(ctx, prefix),
            arn=arn,
            path="/",
            data=data,
            now=ctx.now,
        )
    except Conflict:
        # Lost a race with a concurrent create of the same name.
        raise EntityAlreadyExists(dup_message) from None


def _tag_handlers(
    noun: str,
    arn_param: str,
    change: Callable[..., Any],
    name_from_arn: Callable[[CallContext, str], Any],
    entity_of: Callable[[CallContext, str], Any],
    audit_type: str,
) -> dict[str, Callable[..., Any]]:
    """Tag<noun>, Untag<noun> and List<noun>Tags for one kind of provider."""

    def tag(ctx: CallContext, params: dict[str, Any]) -> None:
        new = clean_tags(params.get("Tags"))

        def apply(data: dict[str, Any]) -> None:
            data["tags"] = merge_tags(list(data.get("tags", [])), new)

        change(ctx, params[arn_param], f"Tag{noun}", apply)

    def untag(ctx: CallContext, params: dict[str, Any]) -> None:
        keys = list(params.get("TagKeys") or [])

        def apply(data: dict[str, Any]) -> None:
            data["tags"] = remove_tags(list(data.get("tags", [])), keys)

        change(ctx, params[arn_param], f"Untag{noun}", apply)

    def list_tags(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        provider_arn = params[arn_param]
        name_from_arn(ctx, provider_arn)
        ctx.authorize(f"iam:List{noun}Tags", provider_arn)
        entity = entity_of(ctx, provider_arn)
        _audit(ctx, provider_arn, audit_type)
        return list_output(list(entity.data.get("tags") or []), params)

    return {f"Tag{noun}": tag, f"Untag{noun}": untag, f"List{noun}Tags": list_tags}
