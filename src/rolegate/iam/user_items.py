"""What an IAM user's signing certificates, SSH public keys and
service-specific credentials have in common.

Each is a store entity of its own kind, named by its id, whose owner is kept
as ``data["user_id"]`` (the user's AIDA id, not its name: UpdateUser's rename
carries the items along, and a user re-created under an old name inherits
nothing). Their ``Update<Item>`` sets the Status and their ``Delete<Item>``
removes one; both answer an item of another user as a missing one, so ids
cannot be probed across users.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import InvalidInput, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.lookup import USER

# Statuses a caller may set; "Expired" is in the models' enums but is a state
# AWS reports, not one a caller chooses.
SETTABLE_STATUSES = ("Active", "Inactive")

Handler = Callable[[CallContext, dict], None]


def check_status(status: str) -> str:
    if status not in SETTABLE_STATUSES:
        raise InvalidInput(f"Invalid status {status}: must be Active or Inactive.")
    return status


@dataclass(frozen=True, slots=True)
class UserItems:
    """One kind of user-owned item: its store kind, the request member that
    names one, and AWS's not-found answer for an id."""

    kind: str
    id_param: str
    not_found: Callable[[str], NoSuchEntity]

    def of(self, reader: Any, account_id: str, user_id: str) -> list[Any]:
        """The user's items (``reader``: the store or a transaction)."""
        return [e for e in reader.list(account_id, self.kind) if e.data.get("user_id") == user_id]

    def owned(self, reader: Any, account_id: str, user: Any, item_id: str) -> Any:
        """The item ``item_id`` of ``user``, or the not-found error."""
        entity = reader.get(account_id, self.kind, item_id)
        if entity is None or entity.data.get("user_id") != user.entity_id:
            raise self.not_found(item_id)
        return entity

    def update_status_handler(self, action: str) -> Handler:
        """``action`` (Update<Item>): set one item's Status."""

        def handler(ctx: CallContext, params: dict) -> None:
            item_id, status = params[self.id_param], check_status(params["Status"])
            name = lookup.caller_user_name(ctx, params)
            lookup.authorize_entity(ctx, USER, action, name)
            with ctx.store.transaction() as tx:
                user = lookup.require(tx, ctx.account_id, USER, name)
                entity = self.owned(tx, ctx.account_id, user, item_id)
                tx.update(entity, {**entity.data, "status": status}, now=ctx.now)
            return None

        handler.__name__ = f"update_{self.kind.replace('-', '_')}"
        return handler

    def delete_handler(self, action: str) -> Handler:
        """``action`` (Delete<Item>): remove one item."""

        def handler(ctx: CallContext, params: dict) -> None:
            item_id = params[self.id_param]
            name = lookup.caller_user_name(ctx, params)
            lookup.authorize_entity(ctx, USER, action, name)
            with ctx.store.transaction() as tx:
                user = lookup.require(tx, ctx.account_id, USER, name)
                entity = self.owned(tx, ctx.account_id, user, item_id)
                tx.delete(ctx.account_id, self.kind, entity.name)
            return None

        handler.__name__ = f"delete_{self.kind.replace('-', '_')}"
        return handler
