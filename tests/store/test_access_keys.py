"""Access keys: stored only encrypted, cached lookups, status, last-used."""

from __future__ import annotations

import secrets
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rolegate.store import Conflict, Store

from .conftest import Target

ACCT = "123456789012"


def _secret() -> str:
    return secrets.token_urlsafe(30)[:40]


def test_secret_is_never_stored_in_clear(target: Target) -> None:
    store = target.open()
    secret = _secret()
    seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    now = datetime.now(UTC)
    with store.transaction() as tx:
        tx.insert("123456789012", "user", "alice", entity_id="AIDAALICE", arn="arn:u", data={})
        tx.insert_access_key(
            "AKIAALICE00000000001", ACCT, "alice", "AIDAALICE", secret, "Active", now
        )
        tx.insert(
            ACCT,
            "mfa",
            "alice-phone",
            entity_id="mfa-1",
            arn="arn:mfa",
            data={"seed_enc": store.encrypt(seed.encode(), context=b"mfa:alice-phone")},
        )
    store.add_sealing_key("k1", b"S" * 32)
    store.close()  # checkpoint nothing special: the WAL is part of the dump
    dump = target.dump()
    assert "AKIAALICE00000000001" in dump  # the dump really has the rows
    assert secret not in dump
    assert seed not in dump
    assert "S" * 32 not in dump
    # And the master key is not in the database either.
    key_text = (target.data_dir / "master.key").read_text().strip()
    assert key_text not in dump


def test_lookup_and_lifecycle(store: Store) -> None:
    secret = _secret()
    created = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    with store.transaction() as tx:
        k = tx.insert_access_key(
            "AKIATEST000000000001", ACCT, "Bob", "AIDABOB", secret, "Active", created
        )
        tx.insert_access_key(
            "AKIATEST000000000002",
            ACCT,
            "bob",
            "AIDABOB",
            _secret(),
            "Active",
            created + timedelta(1),
        )
    assert k.secret == secret and secret not in repr(k)
    got = store.lookup_access_key("AKIATEST000000000001")
    assert got is not None and got.secret == secret and got.user_name == "Bob"
    assert got.created_at == created and got.account_id == ACCT and got.status == "Active"
    assert store.lookup_access_key("AKIATEST000000000001") == got  # cached now
    assert store.lookup_access_key("AKIANOPE000000000000") is None
    with store.transaction() as tx:
        assert [x.akid for x in tx.list_access_keys(ACCT, "BOB")] == [
            "AKIATEST000000000001",
            "AKIATEST000000000002",
        ]
        assert tx.get_access_key("AKIATEST000000000001") == got
        with pytest.raises(Conflict):
            tx.insert_access_key(
                "AKIATEST000000000001", ACCT, "bob", "AIDABOB", "x", "Active", created
            )
    with store.transaction() as tx:
        assert tx.set_access_key_status("AKIATEST000000000001", "Inactive") is True
        assert tx.set_access_key_status("AKIANOPE000000000000", "Inactive") is False
    assert store.lookup_access_key("AKIATEST000000000001").status == "Inactive"  # type: ignore[union-attr]
    with store.transaction() as tx:
        assert tx.delete_access_key("AKIATEST000000000001") is True
        assert tx.delete_access_key("AKIATEST000000000001") is False
    assert store.lookup_access_key("AKIATEST000000000001") is None


def test_negative_lookup_is_forgotten_on_insert(target: Target) -> None:
    store = target.open(cache_ttl=60)
    assert store.lookup_access_key("AKIALATE000000000001") is None
    with store.transaction() as tx:
        tx.insert_access_key(
            "AKIALATE000000000001", ACCT, "u", "AIDAU", _secret(), "Active", datetime.now(UTC)
        )
    assert store.lookup_access_key("AKIALATE000000000001") is not None


def test_key_last_used_is_deferred_and_flushed(target: Target) -> None:
    store = target.open(usage_flush_interval=3600)  # only explicit flushes
    with store.transaction() as tx:
        tx.insert_access_key(
            "AKIAUSED000000000001", ACCT, "u", "AIDAU", _secret(), "Active", datetime.now(UTC)
        )
    assert store.key_last_used("AKIAUSED000000000001") is None
    t1 = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    t0 = t1 - timedelta(hours=1)
    store.note_key_used("AKIAUSED000000000001", t1, "sts", "us-east-1")
    store.note_key_used("AKIAUSED000000000001", t0, "iam", "eu-west-1")  # older: ignored
    want = {"LastUsedDate": t1, "ServiceName": "sts", "Region": "us-east-1"}
    assert store.key_last_used("AKIAUSED000000000001") == want  # pending, from memory
    other = target.open()
    assert other.key_last_used("AKIAUSED000000000001") is None  # not written yet
    store.flush_usage()
    assert other.key_last_used("AKIAUSED000000000001") == want
    # A flush never moves last-used backwards (nodes flush out of order).
    other.note_key_used("AKIAUSED000000000001", t0, "iam", "eu-west-1")
    other.flush_usage()
    assert store.key_last_used("AKIAUSED000000000001") == want
    # close() flushes what is pending.
    t2 = t1 + timedelta(minutes=5)
    store.note_key_used("AKIAUSED000000000001", t2, "iam", "us-west-2")
    store.close()
    assert other.key_last_used("AKIAUSED000000000001")["LastUsedDate"] == t2  # type: ignore[index]


def test_background_flush(target: Target) -> None:
    import time

    store = target.open(usage_flush_interval=0.05)
    other = target.open()
    with store.transaction() as tx:
        tx.insert_access_key(
            "AKIABG00000000000001", ACCT, "u", "AIDAU", _secret(), "Active", datetime.now(UTC)
        )
    when = datetime.now(UTC)
    store.note_key_used("AKIABG00000000000001", when, "sts", "us-east-1")
    deadline = time.monotonic() + 5
    while other.key_last_used("AKIABG00000000000001") is None:
        assert time.monotonic() < deadline, "background flusher did not write"
        time.sleep(0.02)


def test_entity_last_used(target: Target) -> None:
    store = target.open(usage_flush_interval=3600)
    when = datetime(2024, 6, 1, tzinfo=UTC)
    assert store.entity_last_used("AROAX") is None
    store.note_entity_used("AROAX", when, "us-east-1")
    store.note_entity_used("AROAX", when - timedelta(days=1), "eu-west-1")
    store.flush_usage()
    other = target.open()
    assert other.entity_last_used("AROAX") == {"LastUsedDate": when, "Region": "us-east-1"}
    other.note_entity_used("AROAX", when - timedelta(days=2), "ap-south-1")
    other.flush_usage()
    assert store.entity_last_used("AROAX") == {"LastUsedDate": when, "Region": "us-east-1"}


def test_last_used_is_visible_while_a_flush_is_writing(target: Target) -> None:
    """A flush takes the pending uses before it commits them: a read in that
    gap must still see them (it found neither the memory nor the row)."""
    store = target.open(usage_flush_interval=3600)
    with store.transaction() as tx:
        tx.insert_access_key(
            "AKIAGAP0000000000001", ACCT, "u", "AIDAU", _secret(), "Active", datetime.now(UTC)
        )
    when = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    store.note_key_used("AKIAGAP0000000000001", when, "sts", "us-east-1")
    store.note_entity_used("AROAGAP", when, "us-east-1")
    entered, release = threading.Event(), threading.Event()
    turn = store._writer_turn

    @contextmanager
    def held(*args: Any, **kw: Any) -> Any:
        entered.set()
        assert release.wait(10)
        with turn(*args, **kw):
            yield

    store._writer_turn = held  # type: ignore[method-assign]
    flusher = threading.Thread(target=store.flush_usage)
    flusher.start()
    try:
        assert entered.wait(10)
        assert store.key_last_used("AKIAGAP0000000000001") == {
            "LastUsedDate": when,
            "ServiceName": "sts",
            "Region": "us-east-1",
        }
        assert store.entity_last_used("AROAGAP") == {"LastUsedDate": when, "Region": "us-east-1"}
    finally:
        release.set()
        flusher.join(10)
        store._writer_turn = turn  # type: ignore[method-assign]
    assert store.key_last_used("AKIAGAP0000000000001")["LastUsedDate"] == when  # type: ignore[index]
    store.close()
