"""The audit writer: a bounded in-process buffer drained by one background
thread that commits events in batches (DESIGN.md performance budget).

``submit`` takes a request's ``AuditRecord``. It builds the events and
encodes them into database rows on the caller's thread when the store can
(``event_rows``); a ``ProcessSink`` takes the record as it is and does both
in its child instead. The rows (or records) are appended under a lock and wakes the
writer only when a batch is full: a wake-up per event cost more than
building the event. The writer otherwise drains every ``linger`` seconds.
Its thread thus only makes database calls, which release the GIL (see
``Store.event_rows``). A full buffer makes ``submit`` wait rather than drop
(nothing acknowledged is lost); ``close`` drains everything before returning.
A batch the store refuses is retried until it is in, split in halves when
it keeps failing so that one bad item cannot hold back the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from rolegate.audit import redact
from rolegate.audit.events import AuditRecord, expand

log = logging.getLogger("rolegate.audit")


class AuditWriter:
    def __init__(
        self, store: Any, *, max_queue: int = 20000, batch: int = 500, linger: float = 0.05
    ):
        # The redaction plans are computed from the service models now, at
        # start-up, rather than by the first request that needs one.
        redact.plans()
        self._store = store
        self._buf: list[Any] = []
        self._takes_records = bool(getattr(store, "takes_records", False))
        # Stores without the split (tests' fakes) get whole events.
        self._encode = getattr(store, "event_rows", None)
        self._insert = store.append_event_rows if self._encode is not None else store.append_events
        self._max = max_queue
        self._batch = batch
        self._linger = linger
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._room = threading.Condition(self._lock)
        self._written_cv = threading.Condition()
        self._submitted = 0
        self._written = 0
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="rolegate-audit", daemon=True)
        self._thread.start()

    def submit(self, item: AuditRecord | Iterable[dict[str, Any]]) -> None:
        """Queue one request's record (or ready-made events) for writing."""
        if isinstance(item, AuditRecord):
            # A sink that builds events itself (ProcessSink: in its child)
            # takes the record; otherwise they are built here.
            events: Iterable[Any] = (item,) if self._takes_records else expand(item)
        else:
            events = item
        if self._encode is not None:
            events = self._encode(events)
        with self._lock:
            while len(self._buf) >= self._max and not self._closing:
                self._wake.set()
                self._room.wait(timeout=1.0)  # back-pressure, never loss
            for ev in events:
                self._buf.append(ev)
                self._submitted += 1
            full = len(self._buf) >= self._batch
        if full:
            self._wake.set()

    def flush(self, timeout: float = 10.0) -> None:
        target = self._submitted
        self._wake.set()
        with self._written_cv:
            self._written_cv.wait_for(lambda: self._written >= target, timeout=timeout)

    def close(self) -> None:
        with self._lock:
            self._closing = True
        self._wake.set()
        self._thread.join(timeout=60)

    def _take(self) -> list[Any]:
        with self._lock:
            out, self._buf = self._buf, []
            self._room.notify_all()
        return out

    def _run(self) -> None:
        while True:
            self._wake.wait(timeout=self._linger)
            self._wake.clear()
            batch = self._take()
            for i in range(0, len(batch), self._batch):
                self._write(batch[i : i + self._batch])
            if self._closing:
                rest = self._take()
                for i in range(0, len(rest), self._batch):
                    self._write(rest[i : i + self._batch])
                if not rest:
                    return

    def _write(self, batch: list[Any]) -> None:
        self._commit(batch)
        with self._written_cv:
            self._written += len(batch)
            self._written_cv.notify_all()

    # A batch that fails this many times in a row is split in two.
    SPLIT_AFTER = 2
    # The longest wait between two attempts at the same batch.
    MAX_BACKOFF = 5.0

    def _commit(self, batch: list[Any]) -> None:
        """Insert ``batch``, retrying until it is in: never dropped.

        A store that is down fails every attempt; the writer waits and
        retries, its buffer fills and ``submit`` blocks (back-pressure, not
        loss). A batch that keeps failing while the store is up holds an
        item the store refuses: the batch is split in halves, written in
        order, so the others go in and only the bad one keeps retrying.
        """
        attempt = 0
        while True:
            try:
                self._insert(batch)
                return
            except Exception:
                attempt += 1
                log.exception(
                    "audit batch of %d failed (attempt %d); retrying", len(batch), attempt
                )
            if len(batch) > 1 and attempt >= self.SPLIT_AFTER:
                mid = len(batch) // 2
                self._commit(batch[:mid])
                self._commit(batch[mid:])
                return
            time.sleep(min(self.MAX_BACKOFF, 0.2 * attempt))
