"""``Transaction``: every write of the store, in one database transaction.

Opened by ``StoreCore.transaction`` (``with store.transaction() as tx``).
It writes entities and links, accounts and access keys; the store-level
helpers that own their transaction (claims, events, sealing keys) use its
``_x``.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql import Executable

from rolegate.errors import ConcurrentModification

from . import schema as t
from . import statements as q
from .cache import Touched
from .crypto import Sealer
from .records import (
    AccessKey,
    Conflict,
    Entity,
    _account,
    _dumps,
    _entity,
    _is_transient,
    ascii_lower,
    name_key,
    utcnow,
)


class TransactionHost(Protocol):
    """What a ``Transaction`` uses of its store (``StoreCore``)."""

    _q: q.Statements
    _sealer: Sealer

    def _insert(self, table: Any) -> Any: ...

    def _access_key(self, row: Row[Any]) -> AccessKey: ...


class Transaction:
    """One database transaction. Commits when the ``with`` block exits normally.

    Every write records its account and what it changed (``Touched``); just
    before commit the transaction bumps those accounts' ``generations`` rows
    (in sorted order, so two transactions never deadlock on them), which is
    how other processes' caches learn of the change. The bumped values come
    back (RETURNING) so that this process's cache can evict only what was
    written (``ReadCache.apply_local_write``).
    """

    def __init__(self, store: TransactionHost, conn: Connection):
        self._store = store
        self._conn = conn
        self._dirty: dict[str, Touched] = {}
        self._gens: dict[str, int] = {}  # account -> generation after our bump
        self._new_akids: set[str] = set()
        self._open = True

    # -- plumbing -------------------------------------------------------

    def _x(self, stmt: Executable, params: Any = None) -> Any:
        if not self._open:
            raise RuntimeError("transaction is closed; use it only inside its with-block")
        try:
            return self._conn.execute(stmt, params)
        except DBAPIError as exc:
            if _is_transient(exc):
                raise ConcurrentModification(
                    "The request was rejected because of a concurrent modification. Try again."
                ) from exc
            raise

    def _touch(self, account_id: str) -> Touched:
        touched = self._dirty.get(account_id)
        if touched is None:
            touched = self._dirty[account_id] = Touched()
        return touched

    def _bump_generations(self) -> None:
        stmt = self._store._q.bump_gen
        for account_id in sorted(self._dirty):
            self._gens[account_id] = int(self._x(stmt, {"account_id": account_id}).scalar_one())

    # -- entities -------------------------------------------------------

    def get(self, account_id: str, kind: str, name: str) -> Entity | None:
        row = self._x(
            q.SEL_ENTITY, {"account_id": account_id, "kind": kind, "name_key": name_key(name)}
        ).first()
        return None if row is None else _entity(row, frozen=False)

    def get_by_id(self, entity_id: str) -> Entity | None:
        row = self._x(q.SEL_ENTITY_BY_ID, {"entity_id": entity_id}).first()
        return None if row is None else _entity(row, frozen=False)

    def insert(
        self,
        account_id: str,
        kind: str,
        name: str,
        *,
        entity_id: str,
        arn: str,
        path: str = "/",
        data: Mapping[str, Any],
        now: datetime | None = None,
    ) -> Entity:
        """Insert a new entity (version 1); ``Conflict`` if the name is taken."""
        now = now or utcnow()
        blob = _dumps(data)
        key = name_key(name)
        values = {
            "account_id": account_id,
            "kind": kind,
            "name": name,
            "name_key": key,
            "entity_id": entity_id,
            "arn": arn,
            "path": path,
            "data": blob,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        # ON CONFLICT DO NOTHING (no target: the name key and the entity id
        # are both unique) rather than catching the unique violation: on
        # PostgreSQL a failed INSERT would abort the whole transaction, and
        # the caller may want to carry on after a Conflict.
        if self._x(self._store._q.insert_entity, values).first() is None:
            if self.get(account_id, kind, name) is not None:
                raise Conflict(f"{kind} with name {name} already exists.")
            raise Conflict(f"entity id {entity_id} is already in use.")  # ids are random: rare
        self._touch(account_id).entity(kind, key, entity_id)
        return Entity(
            account_id=account_id,
            kind=kind,
            name=name,
            name_key=key,
            entity_id=entity_id,
            arn=arn,
            path=path,
            data=json.loads(blob),
            created_at=now,
            updated_at=now,
            version=1,
        )

    def update(
        self,
        entity: Entity,
        data: Mapping[str, Any],
        *,
        name: str | None = None,
        path: str | None = None,
        arn: str | None = None,
        now: datetime | None = None,
    ) -> Entity:
        """Replace ``entity``'s data if nobody changed it since it was read.

        Optimistic: the row must still have ``entity.version``, otherwise
        ``ConcurrentModification``. ``name``/``path``/``arn`` rename the
        entity (UpdateUser/UpdateGroup); renaming onto an existing name raises
        ``Conflict``; a user's access keys follow the new name.
        """
        now = now or utcnow()
        blob = _dumps(data)
        new_name = entity.name if name is None else name
        new_key = name_key(new_name)
        new_path = entity.path if path is None else path
        new_arn = entity.arn if arn is None else arn
        stmt = q.UPD_ENTITY
        params = {
            "w_account_id": entity.account_id,
            "w_kind": entity.kind,
            "w_name_key": entity.name_key,
            "w_version": entity.version,
            "v_name": new_name,
            "v_name_key": new_key,
            "v_path": new_path,
            "v_arn": new_arn,
            "v_data": blob,
            "v_updated_at": now,
            "v_version": entity.version + 1,
        }
        if new_key != entity.name_key:
            # A savepoint, so a unique violation does not poison the
            # PostgreSQL transaction for a caller that handles Conflict.
            nested = self._conn.begin_nested()
            try:
                result = self._x(stmt, params)
            except IntegrityError as exc:
                nested.rollback()
                raise Conflict(f"{entity.kind} with name {new_name} already exists.") from exc
            nested.commit()
        else:
            result = self._x(stmt, params)
        if result.rowcount != 1:
            raise ConcurrentModification(
                f"The {entity.kind} {entity.name} was modified concurrently. Try again."
            )
        if new_key != entity.name_key and entity.kind == "user":
            self._x(
                update(t.access_keys)
                .where(
                    t.access_keys.c.account_id == entity.account_id,
                    t.access_keys.c.user_id == entity.entity_id,
                )
                .values(user_name=new_name, user_name_key=new_key)
            )
        touched = self._touch(entity.account_id)
        touched.entity(entity.kind, entity.name_key, entity.entity_id)
        if new_key != entity.name_key:
            touched.entity(entity.kind, new_key, entity.entity_id)
            if entity.kind == "user":
                touched.all_keys = True
        return Entity(
            account_id=entity.account_id,
            kind=entity.kind,
            name=new_name,
            name_key=new_key,
            entity_id=entity.entity_id,
            arn=new_arn,
            path=new_path,
            data=json.loads(blob),
            created_at=entity.created_at,
            updated_at=now,
            version=entity.version + 1,
        )

    def delete(self, account_id: str, kind: str, name: str, *, version: int | None = None) -> bool:
        """Delete an entity; True if it existed. With ``version``, only that
        version is deleted (``ConcurrentModification`` if it changed)."""
        params: dict[str, Any] = {
            "account_id": account_id,
            "kind": kind,
            "name_key": name_key(name),
        }
        row = self._x(q.SEL_ENTITY_ID_VERSION, params).first()
        if row is None:
            return False
        if version is not None and row.version != version:
            raise ConcurrentModification(f"The {kind} {name} was modified concurrently. Try again.")
        result = self._x(q.DEL_ENTITY, {**params, "version": row.version})
        if result.rowcount != 1:
            raise ConcurrentModification(f"The {kind} {name} was modified concurrently. Try again.")
        self._x(q.DEL_ENTITY_USAGE, {"entity_id": row.entity_id})
        touched = self._touch(account_id)
        touched.entity(kind, params["name_key"], row.entity_id)
        if kind == "user":
            # Keys belong to the user's unique id: none may outlive it and
            # sign for a later user of the same name (DeleteUser refuses a
            # user with keys; this is the store's own guarantee).
            gone = {"account_id": account_id, "user_id": row.entity_id}
            if self._x(q.DEL_KEYS_OF_USER, gone).rowcount:
                touched.all_keys = True
        return True

    def list(self, account_id: str, kind: str, *, path_prefix: str = "/") -> builtins.list[Entity]:
        """Entities of one kind, ordered by ``name_key``, whose path starts with ``path_prefix``."""
        params: dict[str, Any] = {"account_id": account_id, "kind": kind}
        if path_prefix == "/":
            rows = self._x(q.SEL_LIST, params).all()
        else:
            params["plen"] = len(path_prefix)
            params["prefix"] = path_prefix
            rows = self._x(q.SEL_LIST_PREFIX, params).all()
        return [_entity(r, frozen=False) for r in rows]

    # -- links ----------------------------------------------------------

    def link(self, account_id: str, rel: str, a: str, b: str) -> bool:
        """Add the link (idempotent); True if it was new."""
        params = {"account_id": account_id, "rel": rel, "a": a, "b": b}
        if self._x(self._store._q.insert_link, params).first() is not None:
            self._touch_link(account_id, rel, a, b)
            return True
        return False

    def _touch_link(self, account_id: str, rel: str, a: str, b: str) -> None:
        touched = self._touch(account_id)
        touched.links_from.add((rel, a))
        touched.links_to.add((rel, b))

    def unlink(self, account_id: str, rel: str, a: str, b: str) -> bool:
        """Remove the link; True if it existed."""
        params = {"account_id": account_id, "rel": rel, "a": a, "b": b}
        if self._x(q.DEL_LINK, params).rowcount:
            self._touch_link(account_id, rel, a, b)
            return True
        return False

    def unlink_all(
        self, account_id: str, rel: str, *, a: str | None = None, b: str | None = None
    ) -> int:
        """Remove every ``rel`` link from ``a`` and/or to ``b``; returns how many."""
        if a is None and b is None:
            raise ValueError("unlink_all needs a or b")
        stmt = delete(t.links).where(t.links.c.account_id == account_id, t.links.c.rel == rel)
        if a is not None:
            stmt = stmt.where(t.links.c.a == a)
        if b is not None:
            stmt = stmt.where(t.links.c.b == b)
        n = int(self._x(stmt).rowcount)
        if n:
            # The other ends are unknown here: evict the whole relation.
            self._touch(account_id).rels.add(rel)
        return n

    def links_from(self, account_id: str, rel: str, a: str) -> builtins.list[str]:
        params = {"account_id": account_id, "rel": rel, "a": a}
        return [r[0] for r in self._x(q.SEL_LINKS_FROM, params)]

    def links_to(self, account_id: str, rel: str, b: str) -> builtins.list[str]:
        params = {"account_id": account_id, "rel": rel, "b": b}
        return [r[0] for r in self._x(q.SEL_LINKS_TO, params)]

    # -- accounts -------------------------------------------------------

    def create_account(
        self,
        account_id: str,
        name: str,
        email: str,
        *,
        status: str = "ACTIVE",
        data: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Create an account; ``Conflict`` if the id exists."""
        now = now or utcnow()
        values = {
            "account_id": account_id,
            "name": name,
            "email": email,
            "email_key": ascii_lower(email),
            "status": status,
            "data": _dumps(dict(data or {})),
            "created_at": now,
            "updated_at": now,
        }
        stmt = (
            self._store._insert(t.accounts)
            .values(values)
            .on_conflict_do_nothing(index_elements=[t.accounts.c.account_id])
            .returning(t.accounts.c.account_id)
        )
        if self._x(stmt).first() is None:
            raise Conflict(f"account {account_id} already exists.")
        self._touch(account_id).account = True
        return self.get_account(account_id) or {}

    def get_account(self, account_id: str) -> dict[str, Any] | None:
        row = self._x(q.SEL_ACCOUNT, {"account_id": account_id}).first()
        return None if row is None else _account(row, frozen=False)

    def update_account(
        self,
        account_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        status: str | None = None,
        data: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any] | None:
        """Change the given fields; None if there is no such account."""
        values: dict[str, Any] = {"updated_at": now or utcnow()}
        if name is not None:
            values["name"] = name
        if email is not None:
            values["email"] = email
            values["email_key"] = ascii_lower(email)
        if status is not None:
            values["status"] = status
        if data is not None:
            values["data"] = _dumps(dict(data))
        result = self._x(
            update(t.accounts).where(t.accounts.c.account_id == account_id).values(values)
        )
        if not result.rowcount:
            return None
        self._touch(account_id).account = True
        return self.get_account(account_id)

    # -- access keys ----------------------------------------------------

    def insert_access_key(
        self,
        akid: str,
        account_id: str,
        user_name: str,
        user_id: str,
        secret: str,
        status: str,
        created_at: datetime,
    ) -> AccessKey:
        """Store a long-term key; the secret only encrypted. ``Conflict`` on a duplicate id."""
        enc = self._store._sealer.encrypt(secret.encode(), context=b"akid:" + akid.encode())
        stmt = (
            self._store._insert(t.access_keys)
            .values(
                akid=akid,
                account_id=account_id,
                user_name=user_name,
                user_name_key=name_key(user_name),
                user_id=user_id,
                secret_enc=enc,
                status=status,
                created_at=created_at,
            )
            .on_conflict_do_nothing(index_elements=[t.access_keys.c.akid])
            .returning(t.access_keys.c.akid)
        )
        if self._x(stmt).first() is None:
            raise Conflict(f"access key {akid} already exists.")
        self._touch(account_id).keys.add(akid)
        self._new_akids.add(akid)
        return AccessKey(akid, account_id, user_name, user_id, secret, status, created_at)

    def get_access_key(self, akid: str) -> AccessKey | None:
        row = self._x(q.SEL_KEY, {"akid": akid}).first()
        return None if row is None else self._store._access_key(row)

    def list_access_keys(self, account_id: str, user_name: str) -> builtins.list[AccessKey]:
        """The user's keys, oldest first."""
        params = {"account_id": account_id, "name_key": name_key(user_name)}
        rows = self._x(q.SEL_KEYS_OF_USER, params).all()
        return [self._store._access_key(r) for r in rows]

    def set_access_key_status(self, akid: str, status: str) -> bool:
        account_id = self._x(q.SEL_KEY_ACCOUNT, {"akid": akid}).scalar()
        if account_id is None:
            return False
        self._x(q.UPD_KEY_STATUS, {"w_akid": akid, "v_status": status})
        self._touch(account_id).keys.add(akid)
        return True

    def delete_access_key(self, akid: str) -> bool:
        account_id = self._x(q.SEL_KEY_ACCOUNT, {"akid": akid}).scalar()
        if account_id is None:
            return False
        self._x(q.DEL_KEY, {"akid": akid})
        self._touch(account_id).keys.add(akid)
        return True
