"""The store: one SQLAlchemy Core layer over SQLite and PostgreSQL.

``Store`` is a thin shell: it owns the engine, the master key, the read cache
and the deferred "last used" writer. Writes go through ``Transaction``
(``with store.transaction() as tx``); cached reads are ``store.get`` & co.

Thread safety: a ``Store`` is shared by all request threads. A
``Transaction`` belongs to the thread that opened it.
"""

from __future__ import annotations

import builtins
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

import orjson
from sqlalchemy import bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql import Executable

from rolegate.errors import ConcurrentModification, EntityAlreadyExists

from . import migrate
from . import schema as t
from . import statements as q
from .cache import MISSING, ReadCache, Touched
from .crypto import DecryptionError, MasterKeyError, Sealer, load_master_key
from .engine import (
    check_schema_name,
    create_postgres_engine,
    create_sqlite_engine,
    resolve_url,
)
from .frozen import freeze

log = logging.getLogger(__name__)

T = TypeVar("T")

_MASTER_CHECK_KEY = "master_key_check"
_MASTER_CHECK_PLAIN = b"rolegate master key check"
# Second half of the advisory-lock keys (first half: _PG_LOCK_CLASS).
_PG_LOCK_CLASS = 0x72677374  # "rgst"
_PG_LOCK_EVENTS = 1
_PG_LOCK_SEALING = 2
# How often claim_once sweeps expired rows of all namespaces.
_CLAIM_PURGE_INTERVAL = 60.0


class LastActiveSealingKey(Exception):
    """Retiring this sealing key would leave no active one."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"sealing key {key_id} is the only active key")
        self.key_id = key_id


class Conflict(EntityAlreadyExists):
    """A row with the same identity already exists.

    A subclass of ``EntityAlreadyExists`` so that a handler that forgets to
    translate it still answers 409 EntityAlreadyExists rather than a 500.
    """


@dataclass(frozen=True, slots=True)
class Entity:
    """One IAM entity. ``data`` is JSON-able.

    Entities from the cache (``store.get`` & co.) carry deep-frozen ``data``
    (see ``rolegate.store.frozen``); entities from a transaction carry a
    private, mutable copy.
    """

    account_id: str
    kind: str
    name: str
    name_key: str
    entity_id: str
    arn: str
    path: str
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class AccessKey:
    akid: str
    account_id: str
    user_name: str
    user_id: str
    secret: str = field(repr=False)
    status: str
    created_at: datetime


class SealingKey(NamedTuple):
    key_id: str
    key: bytes
    created_at: datetime
    retired_at: datetime | None

    def __repr__(self) -> str:  # never print key material
        return f"SealingKey(key_id={self.key_id!r}, created_at={self.created_at!r}, retired_at={self.retired_at!r})"


def utcnow() -> datetime:
    return datetime.now(UTC)


# A-Z -> a-z and nothing else: str.lower() folds Unicode too (KELVIN SIGN
# U+212A becomes "k"), which would let "\u212aey" name the role "key".
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """``text`` with only its ASCII letters lower-cased."""
    return text.translate(_ASCII_LOWER)


def name_key(name: str) -> str:
    # IAM names are unique regardless of case ("Names are not distinguished
    # by case", IAM API Reference) and are ASCII ([\w+=,.@-], Java's ASCII
    # \w): only ASCII letters fold.
    return ascii_lower(name)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _event_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"audit event value of type {type(value).__name__} is not JSON serialisable")


# One encoder for every event (json.dumps with options builds one per call).
_EVENT_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_event_default)
# orjson writes the same text (compact, UTF-8, str keys from the same
# non-str keys, datetimes through _event_default) about 8x faster: 2 vs 12-18
# us for AssumeRole's 1.7 KB record here. Encoding is the audit's largest
# cost, paid by the worker when audit rows are written by a thread (a worker
# per core); AssumeRole on two workers went from ~5.6k to ~6.2k req/s.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


# The fallback writes ASCII only: every character outside it as a JSON
# \\uXXXX escape, which is how a lone surrogate (a str UTF-8 cannot carry:
# a surrogateescape'd byte of a URL, say) is written losslessly. The text
# stays valid JSON (RFC 8259's grammar admits any \\uXXXX) that json.loads
# reads back to the same str, and any database stores it.
_EVENT_ENCODER_ASCII = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=True, default=_event_default
)


def _event_default_total(value: Any) -> Any:
    try:
        return _event_default(value)
    except TypeError:
        return f"<{type(value).__name__}: {value!r}>"


_EVENT_ENCODER_TOTAL = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=True, default=_event_default_total
)


def encode_event(ev: Mapping[str, Any]) -> str:
    """An event's JSON text, as stored. Total: whatever ``ev`` holds, the
    result is valid JSON that UTF-8 (and so any database) can carry, and the
    event is recorded rather than dropped."""
    try:
        return orjson.dumps(ev, default=_event_default, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        # What orjson refuses and json may take: an int beyond 64 bits, a
        # str with a lone surrogate ("str is not valid UTF-8").
        return _encode_event_slow(ev)


def _encode_event_slow(ev: Mapping[str, Any]) -> str:
    try:
        return _EVENT_ENCODER_ASCII.encode(ev)
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        # A value of a type no encoder knows: written as its repr.
        return _EVENT_ENCODER_TOTAL.encode(ev)
    except (TypeError, ValueError, RecursionError) as exc:
        # Not JSON at all (a cycle, a key of no JSON type, nesting past the
        # interpreter's limit): still recorded, as its indexed fields and
        # the repr of the rest, never dropped.
        try:
            rest = ascii(ev)
        except RecursionError:
            rest = "<unprintable>"
        stub = {
            k: _db_text(str(ev.get(k)))
            for k in ("eventVersion", "eventID", "eventTime", "eventName", "eventSource")
            if ev.get(k) is not None
        }
        stub["rolegateEncodingError"] = f"{type(exc).__name__}: {exc}"
        stub["rolegateEventRepr"] = rest
        return _EVENT_ENCODER_ASCII.encode(stub)


def _db_text(value: Any) -> Any:
    """``value``, a str UTF-8 can carry: a lone surrogate becomes the text of
    its Python escape (``\\ud800``) in an indexed column."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("ascii")
    return value


def _to_datetime(value: datetime | str | int | float) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware UTC datetime")
        return value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _to_epoch(value: datetime | int | float) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware UTC datetime")
        return math.ceil(value.timestamp())
    return math.ceil(value)


def _is_transient(exc: DBAPIError) -> bool:
    """Lock timeouts, deadlocks and serialisation failures: safe to retry."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01", "55P03"):
        return True
    msg = str(orig).lower()
    return "database is locked" in msg or "database is busy" in msg


def _entity(row: Row[Any], *, frozen: bool) -> Entity:
    data = json.loads(row.data)
    return Entity(
        account_id=row.account_id,
        kind=row.kind,
        name=row.name,
        name_key=row.name_key,
        entity_id=row.entity_id,
        arn=row.arn,
        path=row.path,
        data=freeze(data) if frozen else data,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def _account(row: Row[Any], *, frozen: bool) -> dict[str, Any]:
    data = json.loads(row.data)
    return {
        "account_id": row.account_id,
        "name": row.name,
        "email": row.email,
        "status": row.status,
        "data": freeze(data) if frozen else data,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


class Transaction:
    """One database transaction. Commits when the ``with`` block exits normally.

    Every write records its account and what it changed (``Touched``); just
    before commit the transaction bumps those accounts' ``generations`` rows
    (in sorted order, so two transactions never deadlock on them), which is
    how other processes' caches learn of the change. The bumped values come
    back (RETURNING) so that this process's cache can evict only what was
    written (``ReadCache.apply_local_write``).
    """

    def __init__(self, store: Store, conn: Connection):
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


class Store:
    """See the module docstring and docs/contracts.md ("store")."""

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

    @classmethod
    def open(
        cls,
        *,
        data_dir: str | Path | None = None,
        database_url: str | None = None,
        master_key: bytes | None = None,
        schema: str | None = None,
        cache_ttl: float = 0.5,
        busy_timeout: float = 30.0,
        usage_flush_interval: float = 1.0,
    ) -> Store:
        """Open (and migrate) the store.

        - SQLite (default): ``data_dir/rolegate.db``; ``database_url`` may also
          be a ``sqlite:///`` URL.
        - PostgreSQL: ``database_url="postgresql+psycopg://..."``. ``schema``
          puts every table in that schema (created if missing) by setting the
          connection's ``search_path``; tests use one schema each. A URL with
          ``?options=-csearch_path%3Dname`` works too, if the schema exists.
        - ``cache_ttl``: how stale another process's writes may look here, in
          seconds (see ``rolegate.store.cache``); 0 checks on every read.
        - ``usage_flush_interval``: how often ``note_key_used`` data is
          written (seconds); ``close()`` flushes the rest.
        """
        dd = Path(data_dir) if data_dir is not None else None
        url = resolve_url(dd, database_url)
        if url.get_backend_name() == "sqlite":
            if schema is not None:
                raise ValueError("schema= is for PostgreSQL; SQLite keeps one database per file")
            engine = create_sqlite_engine(url, busy_timeout=busy_timeout)
        else:
            engine = create_postgres_engine(
                url, schema=None if schema is None else check_schema_name(schema)
            )
        try:
            key = load_master_key(master_key, dd, dialect=engine.dialect.name)
            migrate.upgrade(engine)
            store = cls(
                engine,
                Sealer(key),
                cache_ttl=cache_ttl,
                usage_flush_interval=usage_flush_interval,
            )
            store._check_master_key()
        except BaseException:
            engine.dispose()
            raise
        return store

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

    def close(self) -> None:
        """Flush deferred writes, stop the background writer, release connections."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(timeout=10)
        try:
            self.flush_usage()
        finally:
            self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    # -- cached reads ---------------------------------------------------

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

    def get_account(self, account_id: str) -> dict[str, Any] | None:
        """The account as a dict (a copy; its ``data`` is frozen), or None."""
        view = self._cache.view(account_id)
        acct = view.account
        if acct is MISSING:
            epoch = view.epoch
            with self._read() as conn:
                row = conn.execute(q.SEL_ACCOUNT, {"account_id": account_id}).first()
            acct = None if row is None else _account(row, frozen=True)
            self._cache.fill_account(view, acct, epoch)
        return None if acct is None else dict(acct)

    def list_accounts(self) -> builtins.list[dict[str, Any]]:
        """All accounts ordered by id (not cached: administrative, rare)."""
        with self._read() as conn:
            rows = conn.execute(select(t.accounts).order_by(t.accounts.c.account_id)).all()
        return [_account(r, frozen=False) for r in rows]

    def find_account_by_email(self, email: str) -> dict[str, Any] | None:
        """The first account (by id) with this email, case-insensitively."""
        with self._read() as conn:
            row = conn.execute(
                select(t.accounts)
                .where(t.accounts.c.email_key == ascii_lower(email))
                .order_by(t.accounts.c.account_id)
            ).first()
        return None if row is None else _account(row, frozen=False)

    def lookup_access_key(self, akid: str) -> AccessKey | None:
        """The key with its decrypted secret (kept in memory only), or None."""
        account_id = self._cache.key_account.get(akid)
        view = None if account_id is None else self._cache.view(account_id)
        epoch = 0
        if view is not None:
            hit = view.keys.get(akid, MISSING)
            if hit is not MISSING:
                return hit
            epoch = view.epoch
        elif self._cache.key_known_missing(akid):
            return None
        with self._read() as conn:
            row = conn.execute(q.SEL_KEY, {"akid": akid}).first()
        key = None if row is None else self._access_key(row)
        if view is not None:
            self._cache.fill(view, "keys", akid, key, epoch)
        elif key is None:
            self._cache.note_key_missing(akid)
        else:
            # As in get_by_id: cache from the second lookup on.
            self._cache.key_account[akid] = key.account_id
        return key

    # -- last used (deferred) -------------------------------------------

    def note_key_used(self, akid: str, when: datetime, service: str, region: str) -> None:
        """Record a use of an access key; written within ``usage_flush_interval``.

        Hot path: one dict write. Only the newest use per key is kept, and
        these writes deliberately do not bump generations (they would drop
        every cache on every request).
        """
        with self._usage_lock:
            cur = self._key_usage.get(akid)
            if cur is None or cur[0] < when:
                self._key_usage[akid] = (when, service, region)
        self._ensure_flusher()

    def key_last_used(self, akid: str) -> dict[str, Any] | None:
        """``{"LastUsedDate", "ServiceName", "Region"}`` or None if never used."""
        with self._usage_lock:
            pending = self._key_usage.get(akid)
        with self._read() as conn:
            row = conn.execute(
                select(
                    t.access_keys.c.last_used_at,
                    t.access_keys.c.last_used_service,
                    t.access_keys.c.last_used_region,
                ).where(t.access_keys.c.akid == akid)
            ).first()
        best = None if row is None or row[0] is None else (row[0], row[1], row[2])
        if pending is not None and (best is None or best[0] < pending[0]):
            best = pending
        if best is None:
            return None
        return {"LastUsedDate": best[0], "ServiceName": best[1], "Region": best[2]}

    def note_entity_used(self, entity_id: str, when: datetime, region: str | None) -> None:
        """Record a use of a role (RoleLastUsed); deferred like ``note_key_used``."""
        with self._usage_lock:
            cur = self._entity_usage.get(entity_id)
            if cur is None or cur[0] < when:
                self._entity_usage[entity_id] = (when, region)
        self._ensure_flusher()

    def entity_last_used(self, entity_id: str) -> dict[str, Any] | None:
        """``{"LastUsedDate", "Region"}`` or None if never used."""
        with self._usage_lock:
            pending = self._entity_usage.get(entity_id)
        with self._read() as conn:
            row = conn.execute(
                select(t.entity_usage.c.last_used_at, t.entity_usage.c.region).where(
                    t.entity_usage.c.entity_id == entity_id
                )
            ).first()
        best = None if row is None else (row[0], row[1])
        if pending is not None and (best is None or best[0] < pending[0]):
            best = pending
        return None if best is None else {"LastUsedDate": best[0], "Region": best[1]}

    def _ensure_flusher(self) -> None:
        if self._flusher is not None or self._closed:
            return
        with self._usage_lock:
            if self._flusher is not None:
                return
            self._flusher = threading.Thread(
                target=self._flush_loop, name="rolegate-store-usage", daemon=True
            )
            self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._usage_flush_interval):
            try:
                self.flush_usage()
            except Exception:  # keep the writer alive; the data is re-queued
                log.exception("flushing last-used data failed; will retry")

    def flush_usage(self) -> None:
        """Write pending last-used data now (the background writer calls this)."""
        with self._usage_lock:
            keys, self._key_usage = self._key_usage, {}
            ents, self._entity_usage = self._entity_usage, {}
        if not keys and not ents:
            return
        try:
            with self._writer_turn(True), self._engine.begin() as conn:
                if keys:
                    conn.execute(
                        _KEY_USAGE_UPDATE,
                        [
                            {"k_akid": k, "k_when": w, "k_service": s, "k_region": r}
                            for k, (w, s, r) in keys.items()
                        ],
                    )
                if ents:
                    conn.execute(
                        self._q.upsert_entity_usage,
                        [
                            {"entity_id": e, "last_used_at": w, "region": r}
                            for e, (w, r) in ents.items()
                        ],
                    )
        except BaseException:
            with self._usage_lock:  # put it back, keeping whatever is newer
                for k, v in keys.items():
                    if k not in self._key_usage or self._key_usage[k][0] < v[0]:
                        self._key_usage[k] = v
                for e, ev in ents.items():
                    if e not in self._entity_usage or self._entity_usage[e][0] < ev[0]:
                        self._entity_usage[e] = ev
            raise

    # -- once-only claims -----------------------------------------------

    def claim_once(
        self,
        namespace: str,
        key: str,
        expires_at: datetime | int | float,
        *,
        now: datetime | int | float | None = None,
    ) -> bool:
        """True the first time ``(namespace, key)`` is claimed before it expires.

        Atomic across processes: the primary key decides the race. An expired
        claim no longer blocks (its row is replaced).
        """
        exp = _to_epoch(expires_at)
        now_s = math.floor(time.time() if now is None else _to_epoch(now))
        with self.transaction() as tx:
            tx._x(
                delete(t.once_claims).where(
                    t.once_claims.c.namespace == namespace,
                    t.once_claims.c.key == key,
                    t.once_claims.c.expires_at <= now_s,
                )
            )
            row = tx._x(
                self._insert(t.once_claims)
                .values(namespace=namespace, key=key, expires_at=exp)
                .on_conflict_do_nothing(
                    index_elements=[t.once_claims.c.namespace, t.once_claims.c.key]
                )
                .returning(t.once_claims.c.key)
            ).first()
            if time.monotonic() >= self._next_claim_purge:
                self._next_claim_purge = time.monotonic() + _CLAIM_PURGE_INTERVAL
                tx._x(delete(t.once_claims).where(t.once_claims.c.expires_at <= now_s))
        return row is not None

    # -- audit events ---------------------------------------------------

    def append_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Insert CloudTrail-format records in one transaction, in order.

        Indexed fields come from ``eventID``, ``eventTime``, ``eventName``,
        ``recipientAccountId`` and ``userIdentity.arn``. On PostgreSQL the
        batch holds an advisory lock so that ``seq`` order is commit order
        and a reader paging with ``after_seq`` never skips a late commit.
        """
        self.append_event_rows(self.event_rows(events))

    def event_rows(self, events: Iterable[Mapping[str, Any]]) -> builtins.list[tuple[Any, ...]]:
        """The database rows of ``events``, ready for :meth:`append_event_rows`.

        Split from the insert so that the audit writer can encode on the
        request's thread and keep its own thread to the database calls,
        which release the GIL: encoding a whole batch there held the GIL for
        milliseconds at a time while requests waited (GetCallerIdentity's
        p99 under load went from 38-45 ms to 33-35 ms with this split).
        """
        to_db = self._event_time_bind
        dumps = orjson.dumps
        default = _event_default
        options = _ORJSON_OPTIONS
        rows = []
        for ev in events:
            ident = ev.get("userIdentity") or {}
            row: tuple[Any, ...] = (
                str(ev.get("eventID") or uuid.uuid4()),
                None,
                str(ev.get("eventName", "")),
                ev.get("recipientAccountId"),
                ident.get("arn") if isinstance(ident, Mapping) else None,
            )
            try:
                body = dumps(ev, default=default, option=options).decode()
            except TypeError:
                # The slow, total path (encode_event); what orjson refused
                # may be a str UTF-8 cannot carry in an indexed field too.
                body = _encode_event_slow(ev)
                row = tuple(_db_text(v) for v in row)
            when = ev.get("eventTime")
            try:
                db_time = to_db(utcnow()) if when is None else self._event_time(when)
            except (TypeError, ValueError, OverflowError):
                # An eventTime that is no time: the event is still recorded,
                # at the time it is written.
                db_time = to_db(utcnow())
            rows.append((row[0], db_time, *row[2:], body))
        return rows

    def _event_time(self, when: Any) -> Any:
        # eventTime is an ISO string with one-second resolution: requests
        # mostly repeat a few, so convert each distinct one once.
        cache = self._event_times
        db_time = cache.get(when)
        if db_time is None:
            if len(cache) > 64:
                cache.clear()
            db_time = cache[when] = self._event_time_bind(_to_datetime(when))
        return db_time

    def append_event_rows(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows made by :meth:`event_rows`, in one transaction, in order.

        They go through the DBAPI cursor as multi-row INSERTs, not
        SQLAlchemy's per-row parameter processing.
        """
        if not rows:
            return
        with self.transaction() as tx:
            if self._dialect == "postgresql":
                tx._x(
                    text("SELECT pg_advisory_xact_lock(:c, :k)"),
                    {"c": _PG_LOCK_CLASS, "k": _PG_LOCK_EVENTS},
                )
            # The raw cursor shares tx's connection, so it is inside tx's
            # transaction (and its BEGIN IMMEDIATE / advisory lock). SQLAlchemy
            # types driver_connection as Optional: never None on a live connection.
            cur = tx._conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            sql = ""
            try:
                step = q.EVENT_ROWS_PER_INSERT
                for i in range(0, len(rows), step):
                    chunk = rows[i : i + step]
                    sql = self._insert_events_sql.get(len(chunk), "")
                    if not sql:
                        sql = q.insert_events_sql(self._dialect, len(chunk))
                        self._insert_events_sql[len(chunk)] = sql
                    cur.execute(sql, [v for row in chunk for v in row])
            except Exception as exc:
                if not isinstance(exc, self._engine.dialect.loaded_dbapi.Error):
                    raise
                transient = DBAPIError(sql, None, exc)
                if _is_transient(transient):
                    raise ConcurrentModification(
                        "The request was rejected because of a concurrent modification. Try again."
                    ) from exc
                raise
            finally:
                cur.close()

    def query_events(
        self,
        *,
        event_name: str | None = None,
        user_arn: str | None = None,
        since: datetime | str | int | None = None,
        account_id: str | None = None,
        after_seq: int | None = None,
        limit: int | None = None,
        until: datetime | str | int | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
    ) -> builtins.list[tuple[int, dict[str, Any]]]:
        """``(seq, record)`` pairs matching every given filter, ordered by seq.

        ``since``/``until`` bound ``eventTime`` (inclusive / exclusive);
        ``newest_first`` reverses the order (CloudTrail LookupEvents).
        """
        stmt = select(t.events.c.seq, t.events.c.body)
        if event_name is not None:
            stmt = stmt.where(t.events.c.event_name == event_name)
        if user_arn is not None:
            stmt = stmt.where(t.events.c.user_arn == user_arn)
        if account_id is not None:
            stmt = stmt.where(t.events.c.account_id == account_id)
        if since is not None:
            stmt = stmt.where(t.events.c.event_time >= _to_datetime(since))
        if until is not None:
            stmt = stmt.where(t.events.c.event_time < _to_datetime(until))
        if after_seq is not None:
            stmt = stmt.where(t.events.c.seq > after_seq)
        if before_seq is not None:
            stmt = stmt.where(t.events.c.seq < before_seq)
        stmt = stmt.order_by(t.events.c.seq.desc() if newest_first else t.events.c.seq)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [(int(r.seq), json.loads(r.body)) for r in rows]

    def purge_events(self, before: datetime) -> int:
        """Delete events older than ``before`` (retention); returns how many."""
        with self.transaction() as tx:
            return int(tx._x(delete(t.events).where(t.events.c.event_time < before)).rowcount)

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


# Only move last_used forward: two nodes flushing out of order must not
# roll it back.
_KEY_USAGE_UPDATE = (
    update(t.access_keys)
    .where(
        t.access_keys.c.akid == bindparam("k_akid"),
        or_(
            t.access_keys.c.last_used_at.is_(None),
            t.access_keys.c.last_used_at < bindparam("k_when", type_=t.UtcDateTime()),
        ),
    )
    .values(
        last_used_at=bindparam("k_when", type_=t.UtcDateTime()),
        last_used_service=bindparam("k_service"),
        last_used_region=bindparam("k_region"),
    )
)


__all__ = [
    "AccessKey",
    "Conflict",
    "LastActiveSealingKey",
    "Entity",
    "SealingKey",
    "Store",
    "Transaction",
]
