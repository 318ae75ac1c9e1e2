"""Shared test configuration.

``ROLEGATE_TEST_DATABASE_URL`` (CI: the local PostgreSQL) makes store-backed
tests run against that database as well as SQLite; with
``ROLEGATE_REQUIRE_POSTGRES=1`` an unreachable PostgreSQL fails the run
instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.inprocess import InProcess

REPO = Path(__file__).resolve().parents[1]
# Public vectors carried in the repo (the SigV4 suites keep their Apache-2.0
# LICENSE and NOTICE beside them), so a clone with no sibling folder passes.
TESTDATA = Path(__file__).resolve().parent / "testdata"


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("ROLEGATE_TEST_DATABASE_URL")
    return f"rolegate store under test: {'PostgreSQL ' + url if url else 'SQLite'}"


@pytest.fixture(scope="session")
def testdata() -> Path:
    return TESTDATA


@pytest.fixture
def rg(tmp_path: Path) -> Iterator[InProcess]:
    """An in-process rolegate (tests.inprocess) in ``tmp_path``, closed after the test."""
    from tests.inprocess import in_process  # it opens its store through this module

    with in_process(tmp_path) as world:
        yield world


def open_test_store(tmp_path: Path, **kw: object):  # type: ignore[no-untyped-def]
    """A Store for a test: PostgreSQL (a fresh schema, dropped on close) when
    ``ROLEGATE_TEST_DATABASE_URL`` is set, else SQLite in ``tmp_path``.

    Handler-level tests open their stores through this, so CI's PostgreSQL
    pass runs them against PostgreSQL too."""
    import secrets

    from rolegate.store import Store

    url = os.environ.get("ROLEGATE_TEST_DATABASE_URL")
    if not url:
        return Store.open(data_dir=tmp_path, database_url=None, **kw)
    schema = "rg_t_" + secrets.token_hex(5)
    store = Store.open(data_dir=tmp_path, database_url=url, schema=schema, **kw)
    close = store.close

    def close_and_drop() -> None:
        close()
        import psycopg

        plain = url.replace("postgresql+psycopg://", "postgresql://").split("?")[0]
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    store.close = close_and_drop  # type: ignore[method-assign]
    return store
