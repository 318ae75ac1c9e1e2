"""The credential repository: long-term access keys (cached lookup with the
decrypted secret), their deferred "last used" notes (and roles'), and
once-only claims (MFA codes, assertion ids). Keys are written through
``Transaction``.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, or_, select, update

from . import schema as t
from . import statements as q
from .cache import MISSING
from .core import StoreCore, log
from .records import AccessKey

# How often claim_once sweeps expired rows of all namespaces.
_CLAIM_PURGE_INTERVAL = 60.0


def _to_epoch(value: datetime | int | float) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware UTC datetime")
        return math.ceil(value.timestamp())
    return math.ceil(value)


# Only move last_used forward: two nodes flushing out of order must not
# roll it back.
_KEY_USAGE_UPDATE = (
    update(t.access_keys)
    .where(
        t.access_keys.c.akid == bindparam("k_akid"),
        or_(
            t.access_keys.c.last_used_at.is_(None),
            t.access_keys.c.last_used_at < bindparam("k_when", type_=t.UtcDateTime()),
        ),
    )
    .values(
        last_used_at=bindparam("k_when", type_=t.UtcDateTime()),
        last_used_service=bindparam("k_service"),
        last_used_region=bindparam("k_region"),
    )
)


class CredentialStore(StoreCore):
    """Access keys, usage notes and once-only claims."""

    def lookup_access_key(self, akid: str) -> AccessKey | None:
        """The key with its decrypted secret (kept in memory only), or None."""
        account_id = self._cache.key_account.get(akid)
        view = None if account_id is None else self._cache.view(account_id)
        epoch = 0
        if view is not None:
            hit = view.keys.get(akid, MISSING)
            if hit is not MISSING:
                return hit
            epoch = view.epoch
        elif self._cache.key_known_missing(akid):
            return None
        with self._read() as conn:
            row = conn.execute(q.SEL_KEY, {"akid": akid}).first()
        key = None if row is None else self._access_key(row)
        if view is not None:
            self._cache.fill(view, "keys", akid, key, epoch)
        elif key is None:
            self._cache.note_key_missing(akid)
        else:
            # As in get_by_id: cache from the second lookup on.
            self._cache.key_account[akid] = key.account_id
        return key

    # -- last used (deferred) -------------------------------------------

    def note_key_used(self, akid: str, when: datetime, service: str, region: str) -> None:
        """Record a use of an access key; written within ``usage_flush_interval``.

        Hot path: one dict write. Only the newest use per key is kept, and
        these writes deliberately do not bump generations (they would drop
        every cache on every request).
        """
        with self._usage_lock:
            cur = self._key_usage.get(akid)
            if cur is None or cur[0] < when:
                self._key_usage[akid] = (when, service, region)
        self._ensure_flusher()

    def key_last_used(self, akid: str) -> dict[str, Any] | None:
        """``{"LastUsedDate", "ServiceName", "Region"}`` or None if never used."""
        with self._usage_lock:
            pending = _newest(self._key_usage.get(akid), self._key_usage_flushing.get(akid))
        with self._read() as conn:
            row = conn.execute(
                select(
                    t.access_keys.c.last_used_at,
                    t.access_keys.c.last_used_service,
                    t.access_keys.c.last_used_region,
                ).where(t.access_keys.c.akid == akid)
            ).first()
        best = None if row is None or row[0] is None else (row[0], row[1], row[2])
        if pending is not None and (best is None or best[0] < pending[0]):
            best = pending
        if best is None:
            return None
        return {"LastUsedDate": best[0], "ServiceName": best[1], "Region": best[2]}

    def note_entity_used(self, entity_id: str, when: datetime, region: str | None) -> None:
        """Record a use of a role (RoleLastUsed); deferred like ``note_key_used``."""
        with self._usage_lock:
            cur = self._entity_usage.get(entity_id)
            if cur is None or cur[0] < when:
                self._entity_usage[entity_id] = (when, region)
        self._ensure_flusher()

    def entity_last_used(self, entity_id: str) -> dict[str, Any] | None:
        """``{"LastUsedDate", "Region"}`` or None if never used."""
        with self._usage_lock:
            pending = _newest(
                self._entity_usage.get(entity_id), self._entity_usage_flushing.get(entity_id)
            )
        with self._read() as conn:
            row = conn.execute(
                select(t.entity_usage.c.last_used_at, t.entity_usage.c.region).where(
                    t.entity_usage.c.entity_id == entity_id
                )
            ).first()
        best = None if row is None else (row[0], row[1])
        if pending is not None and (best is None or best[0] < pending[0]):
            best = pending
        return None if best is None else {"LastUsedDate": best[0], "Region": best[1]}

    def _ensure_flusher(self) -> None:
        if self._flusher is not None or self._closed:
            return
        with self._usage_lock:
            if self._flusher is not None:
                return
            self._flusher = threading.Thread(
                target=self._flush_loop, name="rolegate-store-usage", daemon=True
            )
            self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._usage_flush_interval):
            try:
                self.flush_usage()
            except Exception:  # keep the writer alive; the data is re-queued
                log.exception("flushing last-used data failed; will retry")

    def flush_usage(self) -> None:
        """Write pending last-used data now (the background writer calls this)."""
        with self._usage_lock:
            keys, self._key_usage = self._key_usage, {}
            ents, self._entity_usage = self._entity_usage, {}
            self._key_usage_flushing = keys
            self._entity_usage_flushing = ents
        if not keys and not ents:
            return
        try:
            with self._writer_turn(True), self._engine.begin() as conn:
                if keys:
                    conn.execute(
                        _KEY_USAGE_UPDATE,
                        [
                            {"k_akid": k, "k_when": w, "k_service": s, "k_region": r}
                            for k, (w, s, r) in keys.items()
                        ],
                    )
                if ents:
                    conn.execute(
                        self._q.upsert_entity_usage,
                        [
                            {"entity_id": e, "last_used_at": w, "region": r}
                            for e, (w, r) in ents.items()
                        ],
                    )
        except BaseException:
            with self._usage_lock:  # put it back, keeping whatever is newer
                for k, v in keys.items():
                    if k not in self._key_usage or self._key_usage[k][0] < v[0]:
                        self._key_usage[k] = v
                for e, ev in ents.items():
                    if e not in self._entity_usage or self._entity_usage[e][0] < ev[0]:
                        self._entity_usage[e] = ev
                self._key_usage_flushing, self._entity_usage_flushing = {}, {}
            raise
        with self._usage_lock:  # committed: the database has them now
            self._key_usage_flushing, self._entity_usage_flushing = {}, {}

    # -- once-only claims -----------------------------------------------

    def claim_once(
        self,
        namespace: str,
        key: str,
        expires_at: datetime | int | float,
        *,
        now: datetime | int | float | None = None,
    ) -> bool:
        """True the first time ``(namespace, key)`` is claimed before it expires.

        Atomic across processes: the primary key decides the race. An expired
        claim no longer blocks (its row is replaced).
        """
        exp = _to_epoch(expires_at)
        now_s = math.floor(time.time() if now is None else _to_epoch(now))
        with self.transaction() as tx:
            tx._x(
                delete(t.once_claims).where(
                    t.once_claims.c.namespace == namespace,
                    t.once_claims.c.key == key,
                    t.once_claims.c.expires_at <= now_s,
                )
            )
            row = tx._x(
                self._insert(t.once_claims)
                .values(namespace=namespace, key=key, expires_at=exp)
                .on_conflict_do_nothing(
                    index_elements=[t.once_claims.c.namespace, t.once_claims.c.key]
                )
                .returning(t.once_claims.c.key)
            ).first()
            if time.monotonic() >= self._next_claim_purge:
                self._next_claim_purge = time.monotonic() + _CLAIM_PURGE_INTERVAL
                tx._x(delete(t.once_claims).where(t.once_claims.c.expires_at <= now_s))
        return row is not None


_Use = TypeVar("_Use", tuple[datetime, str, str], tuple[datetime, str | None])


def _newest(a: _Use | None, b: _Use | None) -> _Use | None:
    """The later of two pending uses (by their first item, the time)."""
    if a is None:
        return b
    if b is None or b[0] <= a[0]:
        return a
    return b
