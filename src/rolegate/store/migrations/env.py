"""Alembic environment for rolegate's store.

Only ever run programmatically by ``rolegate.store.migrate.upgrade``, which
hands in an open connection that already holds the migration lock and is
inside a transaction; the whole upgrade therefore commits or rolls back as
one unit, and a second process waiting on the lock sees the finished schema.
"""

from __future__ import annotations

from alembic import context

from rolegate.store.migrate import VERSION_TABLE

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - misuse, not a runtime path
    raise RuntimeError("rolegate migrations run only through rolegate.store (Store.open)")

context.configure(
    connection=connection,
    target_metadata=None,
    version_table=VERSION_TABLE,
    # The caller's transaction is the migration transaction (SQLite DDL is
    # transactional too, even though Alembic does not assume so).
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
