"""A record UTF-8 cannot carry, or one the store refuses, costs no other
record, and is itself stored: nothing acknowledged leaves the audit trail.

Before, a signed request whose parameters held a lone surrogate (a 400,
properly answered) made its batch's insert fail; the writer retried ten
times and dropped the batch, and with it the events of other callers'
acknowledged requests.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from rolegate.audit import AuditWriter
from rolegate.audit import writer as writer_mod
from rolegate.audit.sink import ProcessSink

from .conftest import Target

POISON = "\ud800"  # a lone surrogate: no UTF-8 encoder takes it


def _event(i: int, **extra: Any) -> dict[str, Any]:
    ev = {
        "eventID": f"00000000-0000-4000-8000-{i:012d}",
        "eventTime": "2026-11-28T06:00:00Z",
        "eventName": "CreateUser",
        "recipientAccountId": "123456789012",
        "userIdentity": {"arn": "arn:aws:iam::123456789012:user/admin"},
        "requestParameters": {"userName": f"u{i}"},
    }
    ev.update(extra)
    return ev


def _poisoned(i: int) -> dict[str, Any]:
    return _event(
        i,
        eventName="ListAccounts" + POISON,
        userIdentity={"arn": "arn:aws:iam::123456789012:user/x" + POISON},
        requestParameters={"nextToken": POISON, POISON + "k": ["é", "a\udcffb"]},
    )


def _stored(store: Any) -> dict[str, dict[str, Any]]:
    return {e["eventID"]: e for _, e in store.query_events(limit=10_000)}


@pytest.mark.parametrize("via", ["thread", "process"])
def test_a_poisoned_record_and_its_neighbours_are_all_stored(target: Target, via: str) -> None:
    store = target.open()
    sink: Any = store
    if via == "process":
        url = None
        if target.backend == "postgresql":
            url = f"{target.url}?options=-csearch_path%3D{target.schema}"
        sink = ProcessSink(store, data_dir=str(target.data_dir), database_url=url)
    writer = AuditWriter(sink, batch=50, linger=0.01)
    try:
        for i in range(20):
            writer.submit([_poisoned(i) if i in (3, 11) else _event(i)])
        writer.flush(timeout=60)
    finally:
        writer.close()
        if via == "process":
            sink.close()
    got = _stored(store)
    assert sorted(got) == sorted(_event(i)["eventID"] for i in range(20))
    # Losslessly: the stored JSON reads back to the very strings sent.
    assert got[_event(3)["eventID"]] == _poisoned(3)
    assert got[_event(4)["eventID"]] == _event(4)


class _FlakyStore:
    """Refuses every batch for a while (a database that is down), then any
    batch holding ``poison`` until it is alone and has been tried thrice."""

    def __init__(self, down_for: int, poison: Any = None) -> None:
        self.down_for = down_for
        self.poison = poison
        self.poison_tries = 0
        self.rows: list[Any] = []
        self.lock = threading.Lock()

    def append_events(self, batch: list[Any]) -> None:
        with self.lock:
            if self.down_for > 0:
                self.down_for -= 1
                raise OSError("database unavailable")
            if self.poison is not None and self.poison in batch:
                self.poison_tries += 1
                if len(batch) > 1 or self.poison_tries < 3:
                    raise ValueError("refused")
            self.rows.extend(batch)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_mod.time, "sleep", lambda _s: None)


def test_a_long_outage_drops_nothing(no_sleep: None) -> None:
    store = _FlakyStore(down_for=40)
    writer = AuditWriter(store, batch=10, linger=0.01)
    events = [{"eventID": str(i)} for i in range(25)]
    for ev in events:
        writer.submit([ev])
    writer.flush(timeout=30)
    writer.close()
    assert sorted(store.rows, key=lambda e: int(e["eventID"])) == events


def test_a_batch_the_store_keeps_refusing_is_split_and_the_rest_goes_in(no_sleep: None) -> None:
    events = [{"eventID": str(i)} for i in range(16)]
    store = _FlakyStore(down_for=0, poison=events[5])
    writer = AuditWriter(store, batch=16, linger=0.01)
    writer.submit(events)
    writer.flush(timeout=30)
    writer.close()
    # All in, in their order, the refused one included once it went in alone.
    assert store.rows == events
