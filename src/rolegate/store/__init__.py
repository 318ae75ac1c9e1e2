"""rolegate's store: IAM state, access keys, audit events and token keys on
SQLite (default) or PostgreSQL, through SQLAlchemy Core.

The contract is docs/contracts.md ("store"). In short::

    store = Store.open(data_dir=..., database_url=None, master_key=None,
                       schema=None, cache_ttl=0.5, busy_timeout=30.0,
                       usage_flush_interval=1.0)
    with store.transaction() as tx:          # commit on exit, rollback on error
        e = tx.insert(acct, "user", "Alice", entity_id=..., arn=..., data={...})
        tx.update(e, {...})                  # optimistic on e.version
    store.get(acct, "user", "alice")         # cached; data is read-only

Modules: ``store`` (``Store``, composed of one repository per aggregate:
``identities``, ``credentials``, ``organizations``, ``sealing_keys``,
``audit_events``, each a mixin over ``core``'s ``StoreCore``),
``transaction`` (``Transaction``), ``records`` (Entity, AccessKey, ...),
``cache`` (the read cache, one for all repositories, and its staleness
bound), ``crypto`` (master key, AES-256-GCM at rest),
``engine`` (SQLite pragmas / PostgreSQL schemas), ``migrate`` and
``migrations/`` (Alembic, run by ``Store.open``), ``schema`` (tables),
``frozen`` (read-only JSON for cached data).
"""

from .crypto import DecryptionError, MasterKeyError
from .frozen import FrozenDict, FrozenList, freeze, thaw
from .store import (
    AccessKey,
    Conflict,
    Entity,
    LastActiveSealingKey,
    SealingKey,
    Store,
    Transaction,
    ascii_lower,
    name_key,
)

__all__ = [
    "AccessKey",
    "Conflict",
    "DecryptionError",
    "Entity",
    "FrozenDict",
    "FrozenList",
    "LastActiveSealingKey",
    "MasterKeyError",
    "SealingKey",
    "Store",
    "Transaction",
    "ascii_lower",
    "freeze",
    "name_key",
    "thaw",
]
