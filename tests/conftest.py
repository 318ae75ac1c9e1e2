"""Shared test configuration.

``ROLEGATE_TEST_DATABASE_URL`` (CI: the local PostgreSQL) makes store-backed
tests run against that database as well as SQLite; with
``ROLEGATE_REQUIRE_POSTGRES=1`` an unreachable PostgreSQL fails the run
instead of skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TESTDATA = SHARED / "testdata"


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("ROLEGATE_TEST_DATABASE_URL")
    return f"rolegate store under test: {'PostgreSQL ' + url if url else 'SQLite'}"


@pytest.fixture(scope="session")
def testdata() -> Path:
    return TESTDATA
