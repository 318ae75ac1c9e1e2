"""Process-wide state the server builds once (in its lifespan) and hands to
every request as ``ctx.app``. Nothing here is a module global, so tests can
run several apps side by side."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: str | None = "./data"
    database_url: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    workers: int = 1

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            host=os.environ.get("ROLEGATE_HOST", "127.0.0.1"),
            port=int(os.environ.get("ROLEGATE_PORT", "8080")),
            data_dir=os.environ.get("ROLEGATE_DATA_DIR", "./data"),
            database_url=os.environ.get("ROLEGATE_DATABASE_URL") or None,
            tls_cert=os.environ.get("ROLEGATE_TLS_CERT") or None,
            tls_key=os.environ.get("ROLEGATE_TLS_KEY") or None,
        )

    @property
    def is_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "::1", "localhost") or self.host.startswith("127.")


class TestClock:
    """A clock offset that tests can move, read from a file named by
    ``ROLEGATE_TEST_CLOCK_FILE`` (seconds to add, as text).

    It exists so e2e tests can watch credentials expire without sleeping. It
    is honoured only when the server listens on a loopback address without
    TLS; anywhere else the server refuses to start with it set, so a
    production deployment can never run on a shifted clock.
    """

    def __init__(self, path: str) -> None:
        self._path = Path(path)
        self._mtime = -1.0
        self._offset = 0.0
        self._checked = 0.0
        self._lock = threading.Lock()

    def offset(self) -> float:
        mono = time.monotonic()
        if mono - self._checked < 0.05:
            return self._offset
        with self._lock:
            self._checked = mono
            try:
                mtime = self._path.stat().st_mtime
            except OSError:
                self._offset = 0.0
                return 0.0
            if mtime != self._mtime:
                self._mtime = mtime
                try:
                    self._offset = float(self._path.read_text().strip() or 0)
                except (OSError, ValueError):
                    self._offset = 0.0
        return self._offset


@dataclass(slots=True)
class AppState:
    store: Any
    key_ring: Any
    settings: Settings
    dev_allow_http_issuers: bool = False
    test_clock: TestClock | None = None
    audit: Any = None  # rolegate.audit.writer.AuditWriter
    jwks: Any = None  # rolegate.federation.jwks.JwksCache
    http_client_factory: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def clock_offset(self) -> float:
        return self.test_clock.offset() if self.test_clock else 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.clock_offset, tz=UTC)
