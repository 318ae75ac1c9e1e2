"""The read cache: local writes invalidate at once; other processes' writes within cache_ttl."""

from __future__ import annotations

import time

from rolegate.store import Store

from .conftest import Target

ACCT = "123456789012"


def _insert(store: Store, name: str, eid: str, data: dict | None = None) -> None:
    with store.transaction() as tx:
        tx.insert(ACCT, "user", name, entity_id=eid, arn=f"arn:{name}", data=data or {})


def test_two_instances_see_each_other_with_ttl_zero(target: Target) -> None:
    a, b = target.open(cache_ttl=0), target.open(cache_ttl=0)
    # Prime b's caches, negative entries included.
    assert b.get(ACCT, "user", "alice") is None
    assert b.list(ACCT, "user") == []
    assert b.links_from(ACCT, "group-member", "admins") == []
    assert b.get_account(ACCT) is None
    _insert(a, "alice", "AIDAALICE", {"v": 1})
    with a.transaction() as tx:
        tx.link(ACCT, "group-member", "admins", "alice")
        tx.create_account(ACCT, "main", "m@example.com")
    assert b.get(ACCT, "user", "ALICE").data == {"v": 1}  # type: ignore[union-attr]
    assert [e.name for e in b.list(ACCT, "user")] == ["alice"]
    assert b.links_from(ACCT, "group-member", "admins") == ["alice"]
    assert b.links_to(ACCT, "group-member", "alice") == ["admins"]
    assert b.get_account(ACCT)["name"] == "main"  # type: ignore[index]
    assert b.get_by_id("AIDAALICE").data == {"v": 1}  # type: ignore[union-attr]
    assert b.get_by_id("AIDAALICE").data == {"v": 1}  # type: ignore[union-attr]
    with a.transaction() as tx:
        tx.update(tx.get(ACCT, "user", "alice"), {"v": 2})
    assert b.get(ACCT, "user", "alice").data == {"v": 2}  # type: ignore[union-attr]
    assert b.get_by_id("AIDAALICE").data == {"v": 2}  # type: ignore[union-attr]
    assert b.list(ACCT, "user")[0].data == {"v": 2}
    with a.transaction() as tx:
        tx.delete(ACCT, "user", "alice")
        tx.unlink(ACCT, "group-member", "admins", "alice")
    assert b.get(ACCT, "user", "alice") is None
    assert b.get_by_id("AIDAALICE") is None
    assert b.links_from(ACCT, "group-member", "admins") == []


def test_access_key_changes_reach_other_instance(target: Target) -> None:
    from datetime import UTC, datetime

    a, b = target.open(cache_ttl=0), target.open(cache_ttl=0)
    with a.transaction() as tx:
        tx.insert_access_key(
            "AKIACACHE00000000001", ACCT, "u", "AIDAU", "s" * 40, "Active", datetime.now(UTC)
        )
    assert b.lookup_access_key("AKIACACHE00000000001").status == "Active"  # type: ignore[union-attr]
    assert b.lookup_access_key("AKIACACHE00000000001").status == "Active"  # type: ignore[union-attr]
    with a.transaction() as tx:
        tx.set_access_key_status("AKIACACHE00000000001", "Inactive")
    assert b.lookup_access_key("AKIACACHE00000000001").status == "Inactive"  # type: ignore[union-attr]
    with a.transaction() as tx:
        tx.delete_access_key("AKIACACHE00000000001")
    assert b.lookup_access_key("AKIACACHE00000000001") is None


def test_ttl_bounds_staleness_and_local_writes_are_immediate(target: Target) -> None:
    ttl = 0.3
    a, b = target.open(cache_ttl=ttl), target.open(cache_ttl=ttl)
    _insert(a, "bob", "AIDABOB", {"v": 1})
    assert b.get(ACCT, "user", "bob").data == {"v": 1}  # type: ignore[union-attr]
    with a.transaction() as tx:
        tx.update(tx.get(ACCT, "user", "bob"), {"v": 2})
    # a's own cache is invalidated by its commit, whatever the ttl.
    assert a.get(ACCT, "user", "bob").data == {"v": 2}  # type: ignore[union-attr]
    # b may serve the old value, but for no longer than the ttl.
    deadline = time.monotonic() + ttl + 0.5
    while b.get(ACCT, "user", "bob").data != {"v": 2}:  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "remote write not visible within cache_ttl"
        time.sleep(0.01)


def test_hits_do_not_query_the_database(target: Target) -> None:
    from sqlalchemy import event

    store = target.open(cache_ttl=60)
    _insert(store, "carol", "AIDACAROL")
    store.get(ACCT, "user", "carol")
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for _ in range(100):
        assert store.get(ACCT, "user", "carol") is not None
        store.list(ACCT, "user")
    assert len([s for s in statements if "entities" in s]) <= 1
    assert not [s for s in statements if "generations" in s]
