"""The in-process read cache and its invalidation.

IAM state is read on every request and written rarely, so reads are served
from dictionaries and the database sees only writes and misses.

Invalidation:
- Local writes: a committed transaction evicts exactly the entries it wrote
  (``apply_local_write`` with its ``Touched`` record), before
  ``transaction()`` returns to the caller. The generation bump returns the
  new value; if it is exactly one past the view's, no other process wrote
  in between, so the rest of the view is still current and is re-filed under
  the new generation. Otherwise (or if the commit failed) the whole view is
  dropped, as before.
- Other processes' writes: every write transaction also bumps the account's
  row in ``generations``. A view remembers the generation it was built
  under and re-reads that row when it is older than ``ttl`` seconds; a
  different value drops the view. **Staleness bound:** a change committed by
  another process is visible here at most ``ttl`` seconds (default 0.5 s)
  plus one query's latency after its commit. ``ttl=0`` checks on every read.

Why this cannot cache stale data forever: a view's generation is always read
*before* any data is loaded into it, so cached data is never older than the
generation it is filed under; a write that lands between the two reads makes
the next check see a new generation and drop the view. A load that raced a
local invalidation is discarded: fills only go into the view object they
started from, and only if no local eviction happened since the loader read
``view.epoch`` (before its query). Evictions run after the commit, so a fill
that read pre-commit data either lands before the eviction (and is evicted)
or after it (and is refused).

The hot path (a fresh view and a hit) is one ``time.monotonic()`` and two
dict lookups, without taking the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

# Bound on remembered "no such access key" answers, so a flood of random key
# ids cannot grow memory without limit (the map is simply reset when full).
MAX_NEGATIVE_KEYS = 100_000

MISSING: Any = object()


class View:
    """Everything cached for one account under one generation."""

    __slots__ = (
        "account",
        "account_id",
        "by_id",
        "checked",
        "derived",
        "entities",
        "epoch",
        "gen",
        "keys",
        "links_from",
        "links_to",
        "lists",
    )

    def __init__(self, account_id: str, gen: int, checked: float):
        self.account_id = account_id
        self.gen = gen
        self.checked = checked
        self.epoch = 0  # bumped by every local eviction; see ``fill``
        self.entities: dict[tuple[str, str], Any] = {}
        self.by_id: dict[str, Any] = {}
        self.lists: dict[tuple[str, str], tuple[Any, ...]] = {}
        self.links_from: dict[tuple[str, str], tuple[str, ...]] = {}
        self.links_to: dict[tuple[str, str], tuple[str, ...]] = {}
        self.keys: dict[str, Any] = {}
        self.account: Any = MISSING
        # Values computed from this view (and others, stamped): any local
        # write to the account drops them all, since which entities one
        # was built from is not tracked.
        self.derived: dict[Any, tuple[Any, Any]] = {}


class Touched:
    """What one transaction wrote in one account: the cache entries to evict."""

    __slots__ = (
        "account",
        "all_keys",
        "entities",
        "ids",
        "keys",
        "kinds",
        "links_from",
        "links_to",
        "rels",
    )

    def __init__(self) -> None:
        self.entities: set[tuple[str, str]] = set()  # (kind, name_key)
        self.ids: set[str] = set()  # entity ids
        self.kinds: set[str] = set()  # kinds whose lists changed
        self.links_from: set[tuple[str, str]] = set()  # (rel, a)
        self.links_to: set[tuple[str, str]] = set()  # (rel, b)
        self.rels: set[str] = set()  # every link of these rels
        self.keys: set[str] = set()  # access key ids
        self.all_keys = False  # e.g. a user rename rewrote its keys' user names
        self.account = False

    def entity(self, kind: str, name_key: str, entity_id: str) -> None:
        self.entities.add((kind, name_key))
        self.ids.add(entity_id)
        self.kinds.add(kind)

    def evict_from(self, v: View) -> None:
        for k in self.entities:
            v.entities.pop(k, None)
        for i in self.ids:
            v.by_id.pop(i, None)
        if self.kinds and v.lists:
            for lk in [lk for lk in v.lists if lk[0] in self.kinds]:
                del v.lists[lk]
        for k in self.links_from:
            v.links_from.pop(k, None)
        for k in self.links_to:
            v.links_to.pop(k, None)
        if self.rels:
            for links in (v.links_from, v.links_to):
                for lk in [lk for lk in links if lk[0] in self.rels]:
                    del links[lk]
        if self.all_keys:
            v.keys.clear()
        else:
            for akid in self.keys:
                v.keys.pop(akid, None)
        if self.account:
            v.account = MISSING


class ReadCache:
    def __init__(self, read_generation: Callable[[str], int], ttl: float):
        if ttl < 0:
            raise ValueError("cache_ttl must be >= 0")
        self._read_generation = read_generation
        self.ttl = ttl
        self._lock = threading.Lock()
        self._views: dict[str, View] = {}
        # Immutable facts learnt from the database: an entity id or access
        # key id always belongs to the same account (ids are never reused).
        self.id_account: dict[str, str] = {}
        self.key_account: dict[str, str] = {}
        self._negative_keys: dict[str, float] = {}

    def view(self, account_id: str) -> View:
        v = self._views.get(account_id)
        now = time.monotonic()
        if v is not None and now - v.checked < self.ttl:
            return v
        gen = self._read_generation(account_id)
        with self._lock:
            cur = self._views.get(account_id)
            if cur is not v:
                # Someone rebuilt or dropped it while we queried; a rebuilt
                # view is at least as fresh as ours.
                if cur is not None:
                    return cur
            elif v is not None and v.gen == gen:
                v.checked = now
                return v
            nv = View(account_id, gen, now)
            self._views[account_id] = nv
            return nv

    def fill(self, view: View, slot: str, key: Any, value: Any, epoch: int) -> None:
        """Cache ``value``, loaded after reading ``epoch = view.epoch``."""
        with self._lock:
            if self._views.get(view.account_id) is view and view.epoch == epoch:
                getattr(view, slot)[key] = value

    def fill_derived(self, view: View, key: Any, value: Any, stamp: Any, epoch: int) -> None:
        """Keep a value built from ``view`` (read at ``epoch``) and from other
        views, whose identities and epochs ``stamp`` records."""
        with self._lock:
            if self._views.get(view.account_id) is view and view.epoch == epoch:
                view.derived[key] = (value, stamp)

    def fill_account(self, view: View, value: Any, epoch: int) -> None:
        with self._lock:
            if self._views.get(view.account_id) is view and view.epoch == epoch:
                view.account = value

    def invalidate(self, account_ids: Iterable[str]) -> None:
        with self._lock:
            for account_id in account_ids:
                self._views.pop(account_id, None)

    def apply_local_write(self, account_id: str, gen_after: int, touched: Touched) -> None:
        """A local transaction that bumped ``account_id`` to ``gen_after`` committed.

        Evict what it wrote if the view is exactly one generation behind
        (only our write happened since it was built); else drop the view.
        """
        with self._lock:
            v = self._views.get(account_id)
            if v is None:
                return
            if v.gen != gen_after - 1:
                del self._views[account_id]
                return
            touched.evict_from(v)
            v.derived.clear()
            v.gen = gen_after
            v.epoch += 1

    def clear(self) -> None:
        with self._lock:
            self._views.clear()
            self._negative_keys.clear()

    # Unknown access key ids: remembered for ``ttl`` so that repeated
    # requests with a bogus key do not each cost a query.
    def key_known_missing(self, akid: str) -> bool:
        until = self._negative_keys.get(akid)
        return until is not None and time.monotonic() < until

    def note_key_missing(self, akid: str) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._negative_keys) >= MAX_NEGATIVE_KEYS:
                self._negative_keys.clear()
            self._negative_keys[akid] = time.monotonic() + self.ttl

    def forget_key_missing(self, akids: Iterable[str]) -> None:
        with self._lock:
            for akid in akids:
                self._negative_keys.pop(akid, None)
