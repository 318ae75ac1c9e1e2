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


def test_an_event_that_json_or_pickle_cannot_take_is_still_recorded(target: Target) -> None:
    # The child encodes the JSON; a value JSON cannot take (a set) or one
    # that cannot even cross the pipe (a lambda) is written as its repr, and
    # the events around it are all there: nothing acknowledged is dropped.
    store, sink = _sink(target)
    no_json = dict(_event(2), requestParameters={"n": {1, 2}})
    no_pickle = dict(_event(3), requestParameters={"n": lambda: 0})
    try:
        sink.append_events([_event(1), no_json, _event(4)])
        sink.append_events([_event(5), no_pickle, _event(6)])
    finally:
        sink.close()
    assert sorted(_ids(store)) == [_event(i)["eventID"] for i in range(1, 7)]
    events = {e["eventID"]: e for _, e in store.query_events(limit=10_000)}
    assert events[_event(2)["eventID"]]["requestParameters"] == {"n": "<set: {1, 2}>"}
    assert events[_event(3)["eventID"]]["requestParameters"]["n"].startswith("<function: ")


def _record(i: int) -> Any:
    from datetime import UTC, datetime

    from rolegate.audit.events import record
    from rolegate.context import Principal
    from tests.audit_context import call_context

    ctx = call_context(
        "sts",
        "GetCallerIdentity",
        Principal(
            kind="user",
            arn="arn:aws:iam::123456789012:user/admin",
            account_id="123456789012",
            user_id="AIDAEXAMPLE",
            name="admin",
            access_key_id="AKIAEXAMPLE",
        ),
        request_id=f"req-{i}",
        now=datetime(2026, 11, 28, tzinfo=UTC),
        region="us-east-1",
        source_ip="127.0.0.1",
        user_agent="test",
    )
    return record(ctx, params={"N": i}, error=None, event_time=ctx.now)


def test_records_are_built_into_events_by_the_child(target: Target) -> None:
    store, sink = _sink(target)
    writer = AuditWriter(sink, batch=20, linger=0.01)
    try:
        for i in range(100):
            writer.submit(_record(i))
        writer.flush(timeout=60)
    finally:
        writer.close()
        sink.close()
    events = [e for _, e in store.query_events(limit=10_000)]
    assert sorted(e["requestID"] for e in events) == sorted(f"req-{i}" for i in range(100))
    ev = next(e for e in events if e["requestID"] == "req-7")
    assert ev["requestParameters"] == {"n": 7}
    assert ev["userIdentity"]["userName"] == "admin"
    assert ev["eventTime"] == "2026-11-28T00:00:00Z"


def test_a_record_that_cannot_cross_the_pipe_is_still_recorded(target: Target) -> None:
    store, sink = _sink(target)
    bad = _record(2)._replace(params={"N": lambda: 0})
    no_json = _record(3)._replace(params={"N": {1, 2}})
    try:
        sink.append_events([_record(1), bad, _record(4), no_json, _record(5)])
    finally:
        sink.close()
    got = sorted(e["requestID"] for _, e in store.query_events(limit=10_000))
    assert got == [f"req-{i}" for i in range(1, 6)]
