"""``StoreCore``: what every repository of the store stands on.

It owns the engine, the master key (``Sealer``), the read cache
(``rolegate.store.cache``, one for all repositories) and the state of the
deferred "last used" writer and the audit insert; it opens connections
(``_read``) and transactions (``transaction``, ``atomic``). The repositories
(``identities``, ``credentials``, ``organizations``, ``sealing_keys``,
``audit_events``) are mixins over it, composed into ``Store``
(``rolegate.store.store``).

Thread safety: a ``Store`` is shared by all request threads. A
``Transaction`` belongs to the thread that opened it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import DBAPIError

from rolegate.errors import ConcurrentModification

from . import schema as t
from . import statements as q
from .cache import ReadCache
from .crypto import DecryptionError, MasterKeyError, Sealer
from .records import AccessKey, _is_transient
from .transaction import Transaction

log = logging.getLogger("rolegate.store.store")

_MASTER_CHECK_KEY = "master_key_check"
_MASTER_CHECK_PLAIN = b"rolegate master key check"
# Second half of the advisory-lock keys (first half: _PG_LOCK_CLASS).
_PG_LOCK_CLASS = 0x72677374  # "rgst"
_PG_LOCK_EVENTS = 1
_PG_LOCK_SEALING = 2


class StoreCore:
    """The shared state and plumbing of ``Store`` (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        sealer: Sealer,
        *,
        cache_ttl: float,
        usage_flush_interval: float,
    ):
        self._engine = engine
        self._sealer = sealer
        self._dialect: Literal["sqlite", "postgresql"] = (
            "sqlite" if engine.dialect.name == "sqlite" else "postgresql"
        )
        self._cache = ReadCache(self._read_generation, cache_ttl)
        self._q = q.Statements(self._dialect)
        self._insert_events_sql: dict[int, str] = {}
        self._event_times: dict[Any, Any] = {}
        self._event_time_bind = q.bind_processor(t.events.c.event_time, engine.dialect)
        self._usage_lock = threading.Lock()
        self._key_usage: dict[str, tuple[datetime, str, str]] = {}
        self._entity_usage: dict[str, tuple[datetime, str | None]] = {}
        # What flush_usage has taken but not yet committed: readers see it
        # there, so a use is never missing from both places mid-flush.
        self._key_usage_flushing: dict[str, tuple[datetime, str, str]] = {}
        self._entity_usage_flushing: dict[str, tuple[datetime, str | None]] = {}
        self._usage_flush_interval = usage_flush_interval
        self._flusher: threading.Thread | None = None
        self._stop = threading.Event()
        self._next_claim_purge = 0.0
        self._local = threading.local()
        self._closed = False
        # SQLite has one writer at a time. Its busy handler polls with
        # sleeps that grow to 100 ms, so threads of this process that race
        # for the write lock wait far longer than the writes take (p99 of a
        # CreateUser under load was ~1 s). They queue here instead and are
        # woken the moment the lock is free; other processes still meet
        # the busy handler.
        self._write_mutex: threading.Lock | None = (
            threading.Lock() if self._dialect == "sqlite" else None
        )
        self._write_wait = 30.0

    # -- lifecycle ------------------------------------------------------

    def _check_master_key(self) -> None:
        """Refuse to run with a master key other than the one the data was sealed with."""
        query = select(t.meta.c.value).where(t.meta.c.key == _MASTER_CHECK_KEY)
        with self._read() as conn:
            stored = conn.execute(query).scalar()
        if stored is None:  # first start: record ours (the first starter wins)
            canary = self._sealer.encrypt(_MASTER_CHECK_PLAIN, context=b"meta")
            with self._engine.begin() as conn:
                conn.execute(
                    self._insert(t.meta)
                    .values(key=_MASTER_CHECK_KEY, value=canary)
                    .on_conflict_do_nothing(index_elements=[t.meta.c.key])
                )
                stored = conn.execute(query).scalar_one()
        try:
            self._sealer.decrypt(stored, context=b"meta")
        except DecryptionError as exc:
            raise MasterKeyError(
                f"the master key in use (id {self._sealer.kid}) is not the one this database was "
                f"created with ({stored.split('.')[1] if stored.count('.') == 2 else '?'}): "
                "every node must use the same master key"
            ) from exc

    @property
    def dialect(self) -> Literal["sqlite", "postgresql"]:
        return self._dialect

    @property
    def engine(self) -> Engine:
        """For tests and admin tooling only; handlers use the methods."""
        return self._engine

    def ping(self) -> bool:
        try:
            with self._read() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except DBAPIError:
            return False

    # -- plumbing -------------------------------------------------------

    def _insert(self, table: Any) -> Any:
        """The dialect's INSERT, which has ON CONFLICT (both engines support it)."""
        if self._dialect == "sqlite":
            return sqlite_dialect.insert(table)
        return pg_dialect.insert(table)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for ONE read statement (no snapshot across statements).

        On SQLite no BEGIN is sent: in autocommit mode the lone SELECT is its
        own read transaction and never takes the write lock. Multi-statement
        reads use ``transaction(readonly=True)``.
        """
        with self._engine.connect() as conn:
            conn.execution_options(rolegate_begin="NONE")
            try:
                yield conn
            finally:
                conn.rollback()

    def _read_generation(self, account_id: str) -> int:
        with self._read() as conn:
            gen = conn.execute(q.SEL_GEN, {"account_id": account_id}).scalar()
        return int(gen or 0)

    def _access_key(self, row: Row[Any]) -> AccessKey:
        secret = self._sealer.decrypt(row.secret_enc, context=b"akid:" + row.akid.encode())
        return AccessKey(
            akid=row.akid,
            account_id=row.account_id,
            user_name=row.user_name,
            user_id=row.user_id,
            secret=secret.decode(),
            status=row.status,
            created_at=row.created_at,
        )

    # -- transactions ---------------------------------------------------

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Transaction]:
        """One database transaction: commit on normal exit, roll back on exception.

        On SQLite a write transaction takes the write lock at BEGIN
        (IMMEDIATE), waiting up to ``busy_timeout``; ``readonly=True`` skips
        that for pure reads. Lock timeouts, deadlocks and serialisation
        failures surface as ``ConcurrentModification`` (retryable).
        Caches of the accounts written are dropped once it commits.
        A thread may hold one write transaction at a time (nesting raises
        RuntimeError); inside it, read through ``tx``, not the cache.
        """
        if not readonly:
            if getattr(self._local, "writing", False):
                # On SQLite the inner BEGIN IMMEDIATE would wait for the outer
                # transaction's lock until busy_timeout; on PostgreSQL it can
                # block on the outer's row locks forever. Fail at once instead.
                raise RuntimeError(
                    "nested write transaction on one thread: use the outer transaction "
                    "(store helpers such as claim_once/append_events open their own)"
                )
            self._local.writing = True
        try:
            with self._writer_turn(not readonly), self._transaction(readonly) as tx:
                yield tx
        finally:
            if not readonly:
                self._local.writing = False

    @contextmanager
    def _writer_turn(self, writing: bool) -> Iterator[None]:
        mutex = self._write_mutex
        if mutex is None or not writing:
            yield
            return
        if not mutex.acquire(timeout=self._write_wait):
            raise ConcurrentModification(
                "The request was rejected because of a concurrent modification. Try again."
            )
        try:
            yield
        finally:
            mutex.release()

    @contextmanager
    def _transaction(self, readonly: bool) -> Iterator[Transaction]:
        conn = self._engine.connect()
        if readonly:
            conn.execution_options(rolegate_begin="DEFERRED")
        tx = Transaction(self, conn)
        committed = False
        try:
            try:
                conn.begin()
                yield tx
                if readonly and tx._dirty:
                    raise RuntimeError("write in a readonly transaction")
                tx._bump_generations()
                conn.commit()
                committed = True
            except DBAPIError as exc:
                if _is_transient(exc):
                    raise ConcurrentModification(
                        "The request was rejected because of a concurrent modification. Try again."
                    ) from exc
                raise
        except BaseException:
            try:
                conn.rollback()
            except DBAPIError:  # the connection may be gone; the DB rolls back anyway
                log.warning("rollback failed", exc_info=True)
            raise
        finally:
            tx._open = False
            conn.close()
            if tx._dirty:
                if committed:
                    for account_id, touched in tx._dirty.items():
                        self._cache.apply_local_write(account_id, tx._gens[account_id], touched)
                else:
                    # Also after a failed commit: its outcome may be unknown.
                    self._cache.invalidate(tx._dirty)
            if tx._new_akids:
                self._cache.forget_key_missing(tx._new_akids)

    def atomic(self, fn: Any, *, attempts: int = 5) -> Any:
        """Run ``fn(tx)`` in a transaction, retrying on ``ConcurrentModification``.

        For read-modify-write code whose only side effects are in ``tx``.
        """
        for attempt in range(attempts):
            try:
                with self.transaction() as tx:
                    return fn(tx)
            except ConcurrentModification:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.005 * (2**attempt))
        raise AssertionError("unreachable")

    # -- encryption -----------------------------------------------------

    def encrypt(self, plain: bytes, *, context: bytes = b"") -> str:
        """Seal ``plain`` under the master key (AES-256-GCM); for secrets kept in ``data``."""
        return self._sealer.encrypt(plain, context=context)

    def decrypt(self, text: str, *, context: bytes = b"") -> bytes:
        """Open what ``encrypt`` produced; raises ``DecryptionError`` otherwise."""
        return self._sealer.decrypt(text, context=context)
