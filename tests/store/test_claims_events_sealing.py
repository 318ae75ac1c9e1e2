"""claim_once, audit events, token sealing keys."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from rolegate.store import Conflict, Store

from .conftest import Target

T0 = 1_700_000_000


def test_claim_once(store: Store) -> None:
    assert store.claim_once("mfa", "SN:123", T0 + 60, now=T0) is True
    assert store.claim_once("mfa", "SN:123", T0 + 60, now=T0 + 1) is False
    assert store.claim_once("saml", "SN:123", T0 + 60, now=T0) is True  # other namespace
    # Once expired, the same key can be claimed again.
    assert store.claim_once("mfa", "SN:123", T0 + 200, now=T0 + 61) is True
    assert store.claim_once("mfa", "SN:123", T0 + 300, now=T0 + 62) is False
    exp = datetime.fromtimestamp(T0 + 60, UTC)
    assert store.claim_once("mfa", "dt", exp, now=datetime.fromtimestamp(T0, UTC)) is True
    assert store.claim_once("mfa", "dt", exp, now=datetime.fromtimestamp(T0, UTC)) is False


def test_claim_once_is_atomic_across_instances(target: Target) -> None:
    stores = [target.open(), target.open()]
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def claim(i: int) -> None:
        barrier.wait()
        wins.append(stores[i % 2].claim_once("saml", "assertion-id-1", T0 + 300, now=T0))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(wins) == [False] * 7 + [True]


def _event(name: str, when: datetime, arn: str, acct: str = "123456789012", **extra) -> dict:
    return {
        "eventVersion": "1.08",
        "eventID": f"id-{name}-{when.timestamp()}",
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventName": name,
        "recipientAccountId": acct,
        "userIdentity": {"type": "IAMUser", "arn": arn},
        **extra,
    }


def test_events_append_and_query(store: Store) -> None:
    base = datetime(2024, 3, 1, tzinfo=UTC)
    alice, bob = "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/bob"
    store.append_events(
        [
            _event("AssumeRole", base, alice),
            _event("CreateUser", base + timedelta(minutes=1), bob),
            _event("AssumeRole", base + timedelta(minutes=2), bob, acct="210987654321"),
            _event(
                "GetCallerIdentity",
                base + timedelta(minutes=3),
                alice,
                requestParameters={"at": base},
            ),
        ]
    )
    store.append_events([])
    all_ = store.query_events()
    assert [e["eventName"] for _, e in all_] == [
        "AssumeRole",
        "CreateUser",
        "AssumeRole",
        "GetCallerIdentity",
    ]
    seqs = [s for s, _ in all_]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    assert (
        all_[3][1]["requestParameters"]["at"] == "2024-03-01T00:00:00Z"
    )  # datetimes rendered CloudTrail-style
    assert [e["eventName"] for _, e in store.query_events(event_name="AssumeRole")] == [
        "AssumeRole",
        "AssumeRole",
    ]
    assert len(store.query_events(user_arn=alice)) == 2
    assert len(store.query_events(account_id="210987654321")) == 1
    assert len(store.query_events(since=base + timedelta(minutes=1))) == 3
    assert len(store.query_events(since="2024-03-01T00:02:00Z")) == 2
    assert len(store.query_events(until=base + timedelta(minutes=1))) == 1
    assert store.query_events(after_seq=seqs[1]) == all_[2:]
    assert store.query_events(limit=2) == all_[:2]
    assert store.query_events(newest_first=True, limit=1) == all_[3:]
    assert store.query_events(before_seq=seqs[1]) == all_[:1]
    assert store.query_events(event_name="AssumeRole", user_arn=bob, since=base) == [all_[2]]
    assert store.purge_events(base + timedelta(minutes=2)) == 2
    assert store.query_events() == all_[2:]


def test_events_from_two_instances_interleave_without_loss(target: Target) -> None:
    stores = [target.open(), target.open()]
    base = datetime(2024, 3, 1, tzinfo=UTC)

    def write(i: int) -> None:
        for j in range(10):
            stores[i % 2].append_events(
                [_event(f"E{i}", base + timedelta(seconds=j), f"arn:{i}:{j}:{k}") for k in range(5)]
            )

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    got = stores[0].query_events()
    assert len(got) == 200
    # Each batch is contiguous (one transaction) and in order.
    for i in range(4):
        mine = [e["userIdentity"]["arn"] for _, e in got if e["eventName"] == f"E{i}"]
        assert mine == [f"arn:{i}:{j}:{k}" for j in range(10) for k in range(5)]


def test_sealing_keys(store: Store) -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    assert store.sealing_keys() == []
    keys = store.ensure_sealing_key("k1", b"1" * 32, now=t)
    assert [(k.key_id, k.key) for k in keys] == [("k1", b"1" * 32)]
    # Already an active key: the candidate is not added.
    assert [k.key_id for k in store.ensure_sealing_key("k-other", b"x" * 32)] == ["k1"]
    store.add_sealing_key("k2", b"2" * 32, now=t + timedelta(days=1))
    with pytest.raises(Conflict):
        store.add_sealing_key("k2", b"3" * 32)
    assert [k.key_id for k in store.sealing_keys()] == ["k2", "k1"]  # newest active first
    assert store.retire_sealing_key("k2", now=t + timedelta(days=2)) is True
    assert store.retire_sealing_key("k2") is False
    keys = store.sealing_keys()
    assert [(k.key_id, k.retired_at) for k in keys] == [
        ("k1", None),
        ("k2", t + timedelta(days=2)),
    ]
    assert keys[0].created_at == t and "1111" not in repr(keys[0])
    key_id, key, created_at, retired_at = keys[1]  # unpacks as the contract's tuple
    assert (key_id, key, retired_at is not None) == ("k2", b"2" * 32, True)
    assert store.delete_sealing_key("k2") is True
    assert [k.key_id for k in store.sealing_keys()] == ["k1"]


def test_ensure_sealing_key_race(target: Target) -> None:
    stores = [target.open(), target.open()]
    barrier = threading.Barrier(6)

    def go(i: int) -> None:
        barrier.wait()
        stores[i % 2].ensure_sealing_key(f"k{i}", bytes([i]) * 32)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(stores[0].sealing_keys()) == 1
