"""rolegate's store: IAM state, access keys, audit events and keys, on SQLite or PostgreSQL.

The public API is fixed by docs/contracts.md ("store"); see ``store.py``.
"""

from .crypto import DecryptionError, MasterKeyError
from .frozen import FrozenDict, FrozenList, freeze, thaw
from .store import AccessKey, Conflict, Entity, SealingKey, Store, Transaction

__all__ = [
    "AccessKey",
    "Conflict",
    "DecryptionError",
    "Entity",
    "FrozenDict",
    "FrozenList",
    "MasterKeyError",
    "SealingKey",
    "Store",
    "Transaction",
    "freeze",
    "thaw",
]
