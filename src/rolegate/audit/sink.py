"""Audit rows committed by a child process (``rolegate serve``'s default).

The audit writer thread's database work (binding, SQLite's page writes,
commits, checkpoints) shared the worker's CPU and GIL with the requests it
records. A ``ProcessSink`` stands in for the store behind ``AuditWriter``:
the writer thread pickles each batch of events, hands it to a child process
over a pipe and waits for its commit. AssumeRole on one worker of this
2-core machine: 1.30-1.49k req/s with the thread, 1.36-1.76k with the child
(seven runs of each).

The child also builds the events from each request's ``AuditRecord``
(rolegate.audit.events.expand) and encodes them into rows
(``Store.event_rows``: the CloudTrail JSON). Done on the request's thread, that JSON was the largest
single cost left in the worker (py-spy, AssumeRole under load: 8.7% of the
worker's samples in ``json`` for a 1.7 KB record; pickling the same record
takes a fifth of the time), and the child runs on the core the worker
leaves idle. Encoding is total (``rolegate.store.store.encode_event``): a
value JSON has no type for is written as its repr, a str UTF-8 cannot carry
(a lone surrogate) as a JSON escape; an item that will not pickle crosses
the pipe as its events' JSON instead, and one whose events cannot be built
is recorded as a stub naming its request. Nothing acknowledged is dropped.

Delivery: a batch counts as written when the child has committed it and
said so. If the child dies, the pipe breaks, a new child is started and the
writer retries the batch; a batch committed just before a crash can thus be
written twice (two records with the same ``eventID``), never lost. The child
ignores SIGINT and SIGTERM, which a terminal or service manager may send to
the whole process group: it leaves when the pipe closes, after its last
batch, so the server's shutdown drains the audit first.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import pickle
import signal
import threading
from collections.abc import Sequence
from typing import Any

from rolegate.audit.events import AuditRecord, expand
from rolegate.store import Store
from rolegate.store.store import encode_event

log = logging.getLogger("rolegate.audit")

_OK = b"ok"
_SKIPPED = b"skipped "


def _events(item: Any) -> list[Any]:
    return expand(item) if isinstance(item, AuditRecord) else [item]


def _name(item: Any) -> str:
    if isinstance(item, AuditRecord):
        return f"request {item.request_id}"
    return str(item.get("eventID"))


def _stub(item: Any, exc: BaseException) -> dict[str, Any]:
    """What is recorded of an item whose events could not be built: its
    request, what went wrong, and its repr."""
    ev: dict[str, Any] = {"eventName": "", "rolegateEncodingError": f"{type(exc).__name__}: {exc}"}
    if isinstance(item, AuditRecord):
        ev.update(eventName=str(item.action), eventSource=f"{item.service}.amazonaws.com")
        ev["requestID"] = str(item.request_id)
    try:
        ev["rolegateEventRepr"] = ascii(item)
    except Exception:  # a repr that raises: the stub still goes in
        ev["rolegateEventRepr"] = f"<{type(item).__name__}>"
    return ev


def _encode(store: Any, items: Sequence[Any]) -> tuple[list[Any], list[str]]:
    """The rows of ``items`` (records or events). Encoding is total; an item
    whose events cannot even be built is recorded as a stub, and named."""
    try:
        return store.event_rows([ev for item in items for ev in _events(item)]), []
    except Exception:
        rows: list[Any] = []
        bad: list[str] = []
        for item in items:
            try:
                rows.extend(store.event_rows(_events(item)))
            except Exception as exc:
                bad.append(f"{_name(item)}: {type(exc).__name__}: {exc}")
                rows.extend(store.event_rows([_stub(item, exc)]))
        return rows, bad


def _utf8(message: str) -> bytes:
    # An error's text may quote what UTF-8 cannot carry (a lone surrogate).
    return message.encode("utf-8", "backslashreplace")


def _child_main(conn: Any, data_dir: str | None, database_url: str | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    store = Store.open(data_dir=data_dir, database_url=database_url)
    try:
        while True:
            try:
                blob = conn.recv_bytes()
            except EOFError:
                return
            try:
                rows, bad = _encode(store, pickle.loads(blob))
                store.append_event_rows(rows)
            except Exception as exc:  # reported to the writer, which retries
                conn.send_bytes(_utf8(f"{type(exc).__name__}: {exc}"))
            else:
                conn.send_bytes(_SKIPPED + _utf8("; ".join(bad)) if bad else _OK)
    finally:
        store.close()


def _as_plain(item: Any) -> list[Any]:
    """``item``'s events as plain JSON data (what ``encode_event`` would
    store: total), for an item that will not pickle."""
    try:
        events = _events(item)
    except Exception as exc:
        events = [_stub(item, exc)]
    out = []
    for ev in events:
        try:
            out.append(json.loads(encode_event(ev)))
        except Exception as exc:  # not even a Mapping
            out.append(json.loads(encode_event(_stub(ev, exc))))
    return out


def _pickle(items: Sequence[Any]) -> bytes:
    try:
        return pickle.dumps(list(items), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        kept: list[Any] = []
        for item in items:
            try:
                pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                log.warning(
                    "audit event of %s does not pickle (%s): sent as JSON", _name(item), exc
                )
                kept.extend(_as_plain(item))
            else:
                kept.append(item)
        return pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)


class ProcessSink:
    """The store interface ``AuditWriter`` needs, committing in a child process."""

    def __init__(self, store: Any, *, data_dir: str | None, database_url: str | None) -> None:
        self._store = store
        self._args = (data_dir, database_url)
        self._mp = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._conn: Any = None
        self._proc: Any = None
        self._closed = False
        self._start()

    def _start(self) -> None:
        parent, child = self._mp.Pipe()
        proc = self._mp.Process(
            target=_child_main, args=(child, *self._args), name="rolegate-audit", daemon=True
        )
        proc.start()
        child.close()
        self._conn, self._proc = parent, proc

    # No ``event_rows`` here, and ``takes_records``: ``AuditWriter`` hands
    # over each request's record and the child builds and encodes its events.
    takes_records = True

    def append_events(self, items: Sequence[Any]) -> None:
        """Commit ``items`` (``AuditRecord``s or ready-made events) in the child."""
        if not items:
            return
        blob = _pickle(items)
        with self._lock:
            if self._closed:
                raise RuntimeError("audit process closed")
            try:
                self._conn.send_bytes(blob)
                reply = self._conn.recv_bytes()
            except (EOFError, OSError):
                log.warning("audit process gone; starting another")
                self._stop(timeout=1.0)
                self._start()
                raise
        if reply.startswith(_SKIPPED):
            # Recorded as stubs: retrying cannot help an event that does not build.
            log.error("audit events recorded as stubs: %s", reply[len(_SKIPPED) :].decode())
        elif reply != _OK:
            raise RuntimeError(f"audit process: {reply.decode(errors='replace')}")

    def _stop(self, timeout: float) -> None:
        try:
            self._conn.close()
        except OSError:
            pass
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)

    def close(self, timeout: float = 60.0) -> None:
        """Let the child finish its batch and leave (call after the writer drained)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._stop(timeout)
