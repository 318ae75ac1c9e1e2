"""Engine construction: URLs, SQLite pragmas and transaction modes, PostgreSQL schemas."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

DB_FILE = "rolegate.db"
_SCHEMA_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def resolve_url(data_dir: Path | None, database_url: str | None) -> URL:
    if database_url:
        url = make_url(database_url)
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(
                f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql"
            )
        if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
            # psycopg 3 is the driver we install and test; psycopg2 URLs
            # ("postgresql://") would otherwise fail with an import error.
            url = url.set(drivername="postgresql+psycopg")
        return url
    if data_dir is None:
        raise ValueError("Store.open needs a data_dir (SQLite) or a database_url")
    return URL.create("sqlite+pysqlite", database=str(data_dir / DB_FILE))


def check_schema_name(schema: str) -> str:
    if not _SCHEMA_RE.fullmatch(schema):
        raise ValueError(f"invalid schema name {schema!r}: letters, digits and _ only")
    return schema


def create_sqlite_engine(url: URL, *, busy_timeout: float) -> Engine:
    """SQLite tuned for many readers and one writer at a time, across processes.

    - WAL: readers never block the writer or each other.
    - busy_timeout: a writer waits for the lock instead of failing at once.
    - Write transactions start with BEGIN IMMEDIATE (the default begin here),
      so the write lock is taken before anything is read. A DEFERRED reader
      that later writes can get SQLITE_BUSY_SNAPSHOT, which the busy handler
      cannot wait out; IMMEDIATE avoids that class of "database is locked".
      Read-only connections ask for DEFERRED via the ``rolegate_begin``
      execution option; single-statement reads ask for NONE (no BEGIN: in
      autocommit mode one SELECT is its own consistent read transaction, and
      the BEGIN round trip cost as much as the query).
    - synchronous=NORMAL: with WAL, a power cut may lose the last commits but
      never corrupts the database (the usual WAL trade-off).
    """
    if url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout, "check_same_thread": False},
        pool_size=8,
        max_overflow=16,
    )
    busy_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Hand transaction control to us (the "begin" hook below): pysqlite's
        # own implicit BEGIN would be DEFERRED and emitted at odd times.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cur.execute("PRAGMA foreign_keys = ON")
            # Switching to WAL needs a moment of exclusive access; two first
            # starters can collide, so retry within the busy budget.
            deadline = time.monotonic() + busy_timeout
            while True:
                try:
                    cur.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA temp_store = MEMORY")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("rolegate_begin", "IMMEDIATE")
        if mode != "NONE":
            conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


def create_postgres_engine(url: URL, *, schema: str | None) -> Engine:
    connect_args: dict[str, Any] = {}
    if schema is not None:
        # Set at connection start-up, so it survives pool resets and applies
        # to every statement, Alembic's version table included.
        connect_args["options"] = f"-csearch_path={schema}"
        _ensure_schema(url, schema)
    return create_engine(
        url,
        connect_args=connect_args,
        pool_size=8,
        max_overflow=16,
        pool_pre_ping=True,  # survive PostgreSQL restarts; misses and writes only
    )


def _ensure_schema(url: URL, schema: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        for attempt in range(5):
            try:
                with engine.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                return
            except DBAPIError:
                # Two concurrent CREATE SCHEMA IF NOT EXISTS can still collide
                # on the catalog's unique index; the second try sees it.
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))
    finally:
        engine.dispose()
