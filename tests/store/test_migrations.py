"""Migrations: a fresh database reaches head; re-opening is a no-op."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from rolegate.store import migrate

from .conftest import Target

TABLES = {
    "meta",
    "accounts",
    "entities",
    "links",
    "access_keys",
    "entity_usage",
    "sealing_keys",
    "events",
    "once_claims",
    "generations",
    migrate.VERSION_TABLE,
}


def test_fresh_database_is_migrated_to_head(target: Target) -> None:
    store = target.open()
    assert store.ping() is True
    assert store.dialect == target.backend
    insp = inspect(store.engine)
    assert set(insp.get_table_names()) >= TABLES
    with store.engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision() == "0002"
    idx = {i["name"] for i in insp.get_indexes("events")}
    assert {"ix_events_name_seq", "ix_events_user_seq", "ix_events_account_seq"} <= idx


def test_reopen_keeps_data_and_does_not_migrate_again(target: Target) -> None:
    store = target.open()
    with store.transaction() as tx:
        tx.insert("123456789012", "user", "keep", entity_id="AIDAKEEP", arn="a", data={"k": 1})
    store.close()
    again = target.open()
    assert again.get("123456789012", "user", "keep").data == {"k": 1}  # type: ignore[union-attr]
    with again.engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision()
    migrate.upgrade(again.engine)  # idempotent


def test_sqlite_pragmas(target: Target) -> None:
    if target.backend != "sqlite":
        pytest.skip("SQLite pragmas")
    store = target.open()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_closed_store_ping_and_double_close(target: Target) -> None:
    store = target.open()
    store.close()
    store.close()
