"""The audit sink process: batches committed by a child, none lost when it dies."""

from __future__ import annotations

import os
import signal
from typing import Any

from rolegate.audit import AuditWriter
from rolegate.audit.sink import ProcessSink

from .conftest import Target


def _event(i: int) -> dict[str, Any]:
    return {
        "eventID": f"00000000-0000-4000-8000-{i:012d}",
        "eventTime": "2026-11-28T06:00:00Z",
        "eventName": "GetCallerIdentity",
        "recipientAccountId": "123456789012",
        "userIdentity": {"arn": "arn:aws:iam::123456789012:user/admin"},
        "requestParameters": {"n": i},
    }


def _sink(target: Target) -> tuple[Any, ProcessSink]:
    store = target.open()
    url = None
    if target.backend == "postgresql":
        url = f"{target.url}?options=-csearch_path%3D{target.schema}"
    return store, ProcessSink(store, data_dir=str(target.data_dir), database_url=url)


def _ids(store: Any) -> list[str]:
    return [e["eventID"] for _, e in store.query_events(limit=10_000)]


def test_writer_through_a_child_process_keeps_every_event(target: Target) -> None:
    store, sink = _sink(target)
    writer = AuditWriter(sink, batch=50, linger=0.01)
    try:
        for i in range(300):
            writer.submit([_event(i)])
        writer.flush(timeout=60)
    finally:
        writer.close()
        sink.close()
    assert sorted(_ids(store)) == sorted(_event(i)["eventID"] for i in range(300))
    assert not sink._proc.is_alive()


def test_a_dead_child_is_replaced_and_nothing_is_lost(target: Target) -> None:
    store, sink = _sink(target)
    try:
        sink.append_events([_event(1)])
        # A terminal's Ctrl-C or a service manager's SIGTERM to the group
        # must not take the child down mid-run...
        os.kill(sink._proc.pid, signal.SIGTERM)
        os.kill(sink._proc.pid, signal.SIGINT)
        sink.append_events([_event(2)])
        # ...but if it dies anyway, the batch fails (the writer retries it)
        # and the next attempt goes to a new child.
        first = sink._proc
        first.kill()
        first.join(10)
        try:
            sink.append_events([_event(3)])
        except (EOFError, OSError):
            sink.append_events([_event(3)])
        assert sink._proc is not first and sink._proc.is_alive()
    finally:
        sink.close()
    assert sorted(_ids(store)) == [_event(i)["eventID"] for i in (1, 2, 3)]


def test_an_event_that_cannot_be_recorded_is_dropped_alone(target: Target) -> None:
    # The child encodes the JSON; a value JSON cannot take (a set) or one
    # that cannot even cross the pipe (a lambda) costs that event only.
    store, sink = _sink(target)
    no_json = dict(_event(2), requestParameters={"n": {1, 2}})
    no_pickle = dict(_event(3), requestParameters={"n": lambda: 0})
    try:
        sink.append_events([_event(1), no_json, _event(4)])
        sink.append_events([_event(5), no_pickle, _event(6)])
    finally:
        sink.close()
    assert sorted(_ids(store)) == [_event(i)["eventID"] for i in (1, 4, 5, 6)]
