"""The tables, as SQLAlchemy Core objects for building queries.

The migrations in ``migrations/versions`` create these tables explicitly;
this module only describes them for the query builder, so a change here
needs a new migration revision (never ``metadata.create_all``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both engines.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are
    stored as naive UTC text (which sorts correctly) and come back aware.
    Naive datetimes are refused on the way in: guessing a zone is how audit
    timestamps silently drift by hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("email", String(320), nullable=False),
    Column("email_key", String(320), nullable=False),
    Column("status", String(32), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

entities = Table(
    "entities",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("name_key", String(512), primary_key=True),
    Column("name", String(512), nullable=False),
    Column("entity_id", String(64), nullable=False, unique=True),
    Column("arn", String(2048), nullable=False),
    Column("path", String(512), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

links = Table(
    "links",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("rel", String(64), primary_key=True),
    Column("a", String(2048), primary_key=True),
    Column("b", String(2048), primary_key=True),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("akid", String(128), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("user_name", String(512), nullable=False),
    Column("user_name_key", String(512), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("secret_enc", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("last_used_service", String(64), nullable=True),
    Column("last_used_region", String(64), nullable=True),
)

entity_usage = Table(
    "entity_usage",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("last_used_at", UtcDateTime, nullable=False),
    Column("region", String(64), nullable=True),
)

sealing_keys = Table(
    "sealing_keys",
    metadata,
    Column("key_id", String(128), primary_key=True),
    Column("key_enc", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime, nullable=True),
)

events = Table(
    "events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", String(64), nullable=False),
    Column("event_time", UtcDateTime, nullable=False),
    Column("event_name", String(128), nullable=False),
    Column("account_id", String(32), nullable=True),
    Column("user_arn", String(2048), nullable=True),
    Column("body", Text, nullable=False),
)

once_claims = Table(
    "once_claims",
    metadata,
    Column("namespace", String(64), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
)

generations = Table(
    "generations",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("gen", BigInteger, nullable=False),
)
