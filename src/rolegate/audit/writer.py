"""The audit writer: a bounded in-process queue drained by one background
thread that commits events in batches (DESIGN.md performance budget).

A full queue makes ``submit`` wait rather than drop: nothing acknowledged is
lost. ``close`` drains the queue before returning.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("rolegate.audit")

_STOP = object()


class AuditWriter:
    def __init__(
        self, store: Any, *, max_queue: int = 20000, batch: int = 500, linger: float = 0.05
    ):
        self._store = store
        self._q: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._batch = batch
        self._linger = linger
        self._thread = threading.Thread(target=self._run, name="rolegate-audit", daemon=True)
        self._flushed = threading.Condition()
        self._submitted = 0
        self._written = 0
        self._thread.start()

    def submit(self, events: Iterable[dict[str, Any]]) -> None:
        for ev in events:
            self._q.put(ev)  # blocks when full: back-pressure, never loss
            self._submitted += 1

    def flush(self, timeout: float = 10.0) -> None:
        target = self._submitted
        with self._flushed:
            self._flushed.wait_for(lambda: self._written >= target, timeout=timeout)

    def close(self) -> None:
        self._q.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._q.get()
            if first is _STOP:
                break
            batch = [first]
            while len(batch) < self._batch:
                try:
                    ev = self._q.get(timeout=self._linger if len(batch) < 2 else 0.005)
                except queue.Empty:
                    break
                if ev is _STOP:
                    stop = True
                    break
                batch.append(ev)
            self._write(batch)

    def _write(self, batch: list[dict[str, Any]]) -> None:
        for attempt in range(5):
            try:
                self._store.append_events(batch)
                break
            except Exception:  # the store may be briefly unavailable; retry, then log
                log.exception("audit batch write failed (attempt %d)", attempt + 1)
                threading.Event().wait(0.2 * (attempt + 1))
        with self._flushed:
            self._written += len(batch)
            self._flushed.notify_all()
