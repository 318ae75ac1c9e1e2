"""The store's records and the helpers every repository shares.

``Entity``, ``AccessKey`` and ``SealingKey`` are what the store hands out;
``Conflict`` and ``LastActiveSealingKey`` what it raises; ``name_key`` is how
IAM names are compared; ``_entity``/``_account`` turn rows into records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError

from rolegate.errors import EntityAlreadyExists

from .frozen import freeze


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
