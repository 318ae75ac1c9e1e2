"""The identity repository: cached reads of IAM entities (users, groups,
roles, policies, ...) by name key or id, their lists, the links between them
(``links_from``/``links_to``) and values ``derived`` from them (policy
bundles). Writes go through ``Transaction``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from . import statements as q
from .cache import MISSING
from .core import StoreCore
from .frozen import freeze
from .records import Entity, _entity, name_key


class IdentityStore(StoreCore):
    """Cached reads of entities and links."""

    def get(self, account_id: str, kind: str, name: str) -> Entity | None:
        view = self._cache.view(account_id)
        key = (kind, name_key(name))
        hit = view.entities.get(key, MISSING)
        if hit is not MISSING:
            return hit
        epoch = view.epoch
        with self._read() as conn:
            row = conn.execute(
                q.SEL_ENTITY, {"account_id": account_id, "kind": kind, "name_key": key[1]}
            ).first()
        ent = None if row is None else _entity(row, frozen=True)
        self._cache.fill(view, "entities", key, ent, epoch)
        return ent

    def derived(self, account_id: str, key: Any, build: Any, *, also: Sequence[str] = ()) -> Any:
        """``build()``, kept with the account's cached state until it changes.

        For values computed only from cached reads of ``account_id`` and the
        ``also`` accounts (a principal's compiled policies read its account
        and the AWS managed policies). The value is dropped with the
        account's view (another node's write, seen within ``cache_ttl``) and
        by any local write to the account; a change to an ``also`` account
        makes it stale through the stamp.
        """
        cache = self._cache
        view = cache.view(account_id)
        stamp = tuple((other, other.epoch) for other in map(cache.view, also))
        hit = view.derived.get(key)
        if hit is not None and hit[1] == stamp:
            return hit[0]
        epoch = view.epoch
        value = build()
        cache.fill_derived(view, key, value, stamp, epoch)
        return value

    def get_by_id(self, entity_id: str) -> Entity | None:
        account_id = self._cache.id_account.get(entity_id)
        view = None if account_id is None else self._cache.view(account_id)
        epoch = 0
        if view is not None:
            hit = view.by_id.get(entity_id, MISSING)
            if hit is not MISSING:
                return hit
            epoch = view.epoch
        with self._read() as conn:
            row = conn.execute(q.SEL_ENTITY_BY_ID, {"entity_id": entity_id}).first()
        ent = None if row is None else _entity(row, frozen=True)
        if view is not None:
            self._cache.fill(view, "by_id", entity_id, ent, epoch)
        elif ent is not None:
            # First sight: the account's generation was not read before this
            # row, so do not cache the row itself; the next call will.
            self._cache.id_account[entity_id] = ent.account_id
        return ent

    def list(self, account_id: str, kind: str, *, path_prefix: str = "/") -> builtins.list[Entity]:
        view = self._cache.view(account_id)
        key = (kind, path_prefix)
        hit = view.lists.get(key)
        if hit is None:
            epoch = view.epoch
            with self.transaction(readonly=True) as tx:
                ents = tx.list(account_id, kind, path_prefix=path_prefix)
            hit = tuple(
                Entity(
                    e.account_id,
                    e.kind,
                    e.name,
                    e.name_key,
                    e.entity_id,
                    e.arn,
                    e.path,
                    freeze(e.data),
                    e.created_at,
                    e.updated_at,
                    e.version,
                )
                for e in ents
            )
            self._cache.fill(view, "lists", key, hit, epoch)
        return builtins.list(hit)

    def links_from(self, account_id: str, rel: str, a: str) -> builtins.list[str]:
        return self._cached_links(account_id, "links_from", q.SEL_LINKS_FROM, rel, "a", a)

    def links_to(self, account_id: str, rel: str, b: str) -> builtins.list[str]:
        return self._cached_links(account_id, "links_to", q.SEL_LINKS_TO, rel, "b", b)

    def _cached_links(
        self, account_id: str, slot: str, stmt: Any, rel: str, end: str, value: str
    ) -> builtins.list[str]:
        view = self._cache.view(account_id)
        hit = getattr(view, slot).get((rel, value))
        if hit is None:
            epoch = view.epoch
            with self._read() as conn:
                params = {"account_id": account_id, "rel": rel, end: value}
                hit = tuple(r[0] for r in conn.execute(stmt, params))
            self._cache.fill(view, slot, (rel, value), hit, epoch)
        return builtins.list(hit)
