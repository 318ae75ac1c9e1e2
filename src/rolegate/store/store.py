"""The store: one SQLAlchemy Core layer over SQLite and PostgreSQL.

``Store`` is a thin shell composed of one repository per aggregate, each a
mixin over ``StoreCore`` (``core``: the engine, the master key, the one read
cache, connections and transactions):

- ``identities``: entities (users, groups, roles, policies, ...), links, derived values
- ``credentials``: access keys, "last used" notes, once-only claims
- ``organizations``: accounts
- ``sealing_keys``: token sealing keys
- ``audit_events``: audit events (encode, insert, query, purge)

Writes go through ``Transaction`` (``transaction``; ``with store.transaction()
as tx``); cached reads are ``store.get`` & co. The records are in ``records``.

Thread safety: a ``Store`` is shared by all request threads. A
``Transaction`` belongs to the thread that opened it.
"""

from __future__ import annotations

from pathlib import Path

from . import migrate
from .audit_events import AuditEventStore, encode_event
from .core import StoreCore
from .credentials import CredentialStore
from .crypto import Sealer, load_master_key
from .engine import check_schema_name, create_postgres_engine, create_sqlite_engine, resolve_url
from .identities import IdentityStore
from .organizations import OrganizationStore
from .records import (
    AccessKey,
    Conflict,
    Entity,
    LastActiveSealingKey,
    SealingKey,
    ascii_lower,
    name_key,
)
from .sealing_keys import SealingKeyStore
from .transaction import Transaction


class Store(IdentityStore, CredentialStore, OrganizationStore, SealingKeyStore, AuditEventStore):
    """See the module docstring and docs/contracts.md ("store")."""

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


__all__ = [
    "AccessKey",
    "Conflict",
    "LastActiveSealingKey",
    "Entity",
    "SealingKey",
    "Store",
    "StoreCore",
    "Transaction",
    "ascii_lower",
    "encode_event",
    "name_key",
]
