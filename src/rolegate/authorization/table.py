"""The authorisation table: for every operation rolegate serves, what it
authorises (see ``vocabulary.py`` for the vocabulary).

Actions, resource types and ARN formats follow the Service Authorization
Reference (``sar.json``); what is rolegate's own knowledge is written here:
which request member names each resource, where a path comes from, which
condition keys the request supplies, and what the decision needs beyond
policy evaluation. ``TABLE[(service, operation)]`` is the entry; services
are the routing names (``sts``, ``iam``, ``organizations``; the federation
operations are STS's).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from rolegate.authorization import table_iam, table_sts
from rolegate.authorization.builders import _ENTRIES
from rolegate.authorization.model import OperationAuth

_MODULES = (table_iam, table_sts)  # each declares its entries on import

TABLE: Mapping[tuple[str, str], OperationAuth] = MappingProxyType(
    {(e.service, e.operation): e for e in _ENTRIES}
)
if len(TABLE) != len(_ENTRIES):  # pragma: no cover - a table bug, caught at import
    raise RuntimeError("an operation is declared twice in the authorisation table")


def entry(service: str, operation: str) -> OperationAuth | None:
    return TABLE.get((service, operation))
