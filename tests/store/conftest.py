"""Fixtures for the store tests: every test runs on SQLite and, when
``ROLEGATE_TEST_DATABASE_URL`` is set, on PostgreSQL too.

PostgreSQL tests are isolated in a fresh schema per test (``Store.open(...,
schema=...)``), dropped afterwards, so parallel runs sharing the ``test``
database never see each other's tables. With ``ROLEGATE_REQUIRE_POSTGRES=1``
a missing URL or an unreachable server fails the tests instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from rolegate.store import Store

PG_URL_ENV = "ROLEGATE_TEST_DATABASE_URL"
REQUIRE_PG_ENV = "ROLEGATE_REQUIRE_POSTGRES"

_pg_status: dict[str, str | None] = {}


def _pg_unavailable_reason() -> str | None:
    """None if PostgreSQL is usable, else why not (checked once per session)."""
    if "reason" not in _pg_status:
        url = os.environ.get(PG_URL_ENV)
        if not url:
            reason: str | None = f"{PG_URL_ENV} not set"
        else:
            engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                reason = None
            except OperationalError as exc:
                reason = f"PostgreSQL at {url} unreachable: {exc.orig}"
            finally:
                engine.dispose()
        _pg_status["reason"] = reason
    return _pg_status["reason"]


class Target:
    """One database under test; ``open()`` gives Stores on it (all closed at teardown)."""

    def __init__(self, backend: str, tmp_path: Path):
        self.backend = backend
        self.data_dir = tmp_path / "data"
        self.schema: str | None = None
        self.url: str | None = None
        if backend == "postgresql":
            self.url = os.environ[PG_URL_ENV]
            self.schema = f"rg_test_{uuid.uuid4().hex[:16]}"
        self._stores: list[Store] = []

    def open_kwargs(self, **overrides: Any) -> dict[str, Any]:
        kw: dict[str, Any] = {"data_dir": self.data_dir, "cache_ttl": 0}
        if self.backend == "postgresql":
            kw.update(database_url=self.url, schema=self.schema)
        kw.update(overrides)
        return kw

    def open(self, **overrides: Any) -> Store:
        store = Store.open(**self.open_kwargs(**overrides))
        self._stores.append(store)
        return store

    def dump(self) -> str:
        """Every row of every table (and, for SQLite, the raw files) as text."""
        parts: list[str] = []
        if self.backend == "sqlite":
            for f in sorted(self.data_dir.glob("rolegate.db*")):
                parts.append(f.read_bytes().decode("latin-1"))
            url = f"sqlite:///{self.data_dir / 'rolegate.db'}"
            opts: dict[str, Any] = {}
        else:
            assert self.url is not None
            url = self.url
            opts = {"connect_args": {"options": f"-csearch_path={self.schema}"}}
        engine = create_engine(url, poolclass=NullPool, **opts)
        try:
            with engine.connect() as conn:
                if self.backend == "sqlite":
                    tables = conn.execute(
                        text("SELECT name FROM sqlite_master WHERE type = 'table'")
                    ).scalars()
                else:
                    tables = conn.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                        {"s": self.schema},
                    ).scalars()
                for table in list(tables):
                    for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                        parts.append(f"{table}: {tuple(row)!r}")
        finally:
            engine.dispose()
        return "\n".join(parts)

    def close(self) -> None:
        for store in self._stores:
            store.close()
        if self.backend == "postgresql" and self.schema:
            engine = create_engine(self.url or "", poolclass=NullPool)
            try:
                with engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            finally:
                engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "postgresql":
        reason = _pg_unavailable_reason()
        if reason is not None:
            if os.environ.get(REQUIRE_PG_ENV) == "1":
                pytest.fail(f"{REQUIRE_PG_ENV}=1 but {reason}")
            pytest.skip(reason)
    t = Target(request.param, tmp_path)
    try:
        yield t
    finally:
        t.close()


@pytest.fixture
def store(target: Target) -> Store:
    return target.open()
