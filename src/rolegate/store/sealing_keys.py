"""The sealing key repository: the keys that seal session tokens, stored
encrypted under the master key; added, retired, deleted.
"""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import delete, func, select, text, update

from . import schema as t
from .core import _PG_LOCK_CLASS, _PG_LOCK_SEALING, StoreCore
from .records import Conflict, LastActiveSealingKey, SealingKey, utcnow
from .transaction import Transaction


class SealingKeyStore(StoreCore):
    """Token sealing keys."""

    # -- token sealing keys ---------------------------------------------

    def sealing_keys(self) -> builtins.list[SealingKey]:
        """All keys: active ones newest first (the first seals), then retired ones."""
        with self._read() as conn:
            rows = conn.execute(select(t.sealing_keys)).all()
        keys = [
            SealingKey(
                r.key_id,
                self._sealer.decrypt(r.key_enc, context=b"sealing:" + r.key_id.encode()),
                r.created_at,
                r.retired_at,
            )
            for r in rows
        ]
        active = [k for k in keys if k.retired_at is None]
        retired = [k for k in keys if k.retired_at is not None]
        active.sort(key=lambda k: (k.created_at, k.key_id), reverse=True)
        retired.sort(key=lambda k: (k.retired_at or k.created_at, k.key_id), reverse=True)
        return active + retired

    def sealing_key_states(self) -> builtins.list[tuple[str, bool]]:
        """``(key_id, retired)`` of every key, sorted: what changes whenever a
        key is added, retired or deleted, read without decrypting any key (the
        server polls it about once a second)."""
        c = t.sealing_keys.c
        with self._read() as conn:
            rows = conn.execute(select(c.key_id, c.retired_at)).all()
        return sorted((r.key_id, r.retired_at is not None) for r in rows)

    def add_sealing_key(self, key_id: str, key: bytes, *, now: datetime | None = None) -> None:
        """Store a new (active) sealing key, encrypted; ``Conflict`` if the id exists."""
        with self.transaction() as tx:
            self._add_sealing_key(tx, key_id, key, now or utcnow())

    def _add_sealing_key(self, tx: Transaction, key_id: str, key: bytes, now: datetime) -> None:
        enc = self._sealer.encrypt(bytes(key), context=b"sealing:" + key_id.encode())
        row = tx._x(
            self._insert(t.sealing_keys)
            .values(key_id=key_id, key_enc=enc, created_at=now, retired_at=None)
            .on_conflict_do_nothing(index_elements=[t.sealing_keys.c.key_id])
            .returning(t.sealing_keys.c.key_id)
        ).first()
        if row is None:
            raise Conflict(f"sealing key {key_id} already exists.")

    def ensure_sealing_key(
        self, key_id: str, key: bytes, *, now: datetime | None = None
    ) -> builtins.list[SealingKey]:
        """Add ``(key_id, key)`` only if no active key exists; return all keys.

        Serialised across processes (SQLite write lock / PostgreSQL advisory
        lock), so nodes starting together agree on one first key.
        """
        with self.transaction() as tx:
            if self._dialect == "postgresql":
                tx._x(
                    text("SELECT pg_advisory_xact_lock(:c, :k)"),
                    {"c": _PG_LOCK_CLASS, "k": _PG_LOCK_SEALING},
                )
            active = tx._x(
                select(func.count())
                .select_from(t.sealing_keys)
                .where(t.sealing_keys.c.retired_at.is_(None))
            ).scalar_one()
            if not active:
                self._add_sealing_key(tx, key_id, key, now or utcnow())
        return self.sealing_keys()

    def retire_sealing_key(
        self, key_id: str, *, now: datetime | None = None, keep_one_active: bool = False
    ) -> bool:
        """Stop sealing with ``key_id`` (it still opens); True if it was active.

        With ``keep_one_active``, retiring the last active key raises
        :class:`LastActiveSealingKey` instead (a server left with none makes
        a new one, silently): the check and the update are one transaction,
        serialised like :meth:`ensure_sealing_key`.
        """
        with self.transaction() as tx:
            if keep_one_active:
                if self._dialect == "postgresql":
                    tx._x(
                        text("SELECT pg_advisory_xact_lock(:c, :k)"),
                        {"c": _PG_LOCK_CLASS, "k": _PG_LOCK_SEALING},
                    )
                c = t.sealing_keys.c
                others = tx._x(
                    select(func.count())
                    .select_from(t.sealing_keys)
                    .where(c.retired_at.is_(None), c.key_id != key_id)
                ).scalar_one()
                if not others:
                    raise LastActiveSealingKey(key_id)
            result = tx._x(
                update(t.sealing_keys)
                .where(t.sealing_keys.c.key_id == key_id, t.sealing_keys.c.retired_at.is_(None))
                .values(retired_at=now or utcnow())
            )
            return bool(result.rowcount)

    def delete_sealing_key(self, key_id: str) -> bool:
        """Forget a key entirely (tokens sealed with it stop opening)."""
        with self.transaction() as tx:
            return bool(
                tx._x(delete(t.sealing_keys).where(t.sealing_keys.c.key_id == key_id)).rowcount
            )
