"""Run the packaged Alembic migrations, safely from many processes at once.

``Store.open`` calls :func:`upgrade` on every start. Two nodes (or two
workers) starting together must not both create the tables, so the whole
upgrade runs in one transaction that first takes a lock:

- PostgreSQL: ``pg_advisory_xact_lock`` keyed on the current schema, so
  stores in different schemas of one database (tests) do not wait on each
  other. PostgreSQL DDL is transactional; the loser of the race waits, then
  finds the schema at head and does nothing.
- SQLite: ``BEGIN IMMEDIATE`` (the engine's default begin, see
  ``rolegate.store.engine``) takes the database's write lock up front; SQLite
  DDL is transactional as well.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

# Our own version table name, so rolegate can share a database with an
# application that runs its own Alembic history.
VERSION_TABLE = "rolegate_alembic_version"
SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
# First half of the two-int advisory lock key: an arbitrary constant that
# names "rolegate migrations" (ASCII "rgmi").
_PG_LOCK_CLASS = 0x72676D69


def _config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory(str(SCRIPT_LOCATION)).get_current_head()


def current_revision(connection: Connection) -> str | None:
    ctx = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return ctx.get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision (idempotent, locked)."""
    head = head_revision()
    # Cheap check first: the common case is "already at head", and then we
    # take no write lock at all (matters for SQLite with busy writers).
    with engine.connect().execution_options(rolegate_begin="DEFERRED") as conn:
        if current_revision(conn) == head:
            conn.rollback()
            return
        conn.rollback()
    with engine.connect() as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            key = zlib.crc32(str(schema).encode()) - 2**31  # into int4's range
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": _PG_LOCK_CLASS, "k": key}
            )
        if current_revision(conn) != head:
            command.upgrade(_config(conn), "head")
