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


def _counter() -> tuple[list[int], object]:
    calls = [0]

    def build() -> int:
        calls[0] += 1
        return calls[0]

    return calls, build


def test_derived_values_live_until_their_accounts_change(target: Target) -> None:
    a, b = target.open(cache_ttl=0), target.open(cache_ttl=0)
    _insert(a, "carol", "AIDACAROL")
    calls, build = _counter()
    assert a.derived(ACCT, "k", build, also=("aws",)) == 1
    assert a.derived(ACCT, "k", build, also=("aws",)) == 1  # kept
    # A local write to the account drops it...
    with a.transaction() as tx:
        tx.update(tx.get(ACCT, "user", "carol"), {"v": 2})
    assert a.derived(ACCT, "k", build, also=("aws",)) == 2
    # ...and so does a local write to an account it also read...
    with a.transaction() as tx:
        tx.insert("aws", "policy", "P", entity_id="ANPAP", arn="arn:aws:iam::aws:policy/P", data={})
    assert a.derived(ACCT, "k", build, also=("aws",)) == 3
    assert a.derived(ACCT, "k", build, also=("aws",)) == 3
    # ...and another node's write, seen through the generation check.
    with b.transaction() as tx:
        tx.update(tx.get(ACCT, "user", "carol"), {"v": 3})
    assert a.derived(ACCT, "k", build, also=("aws",)) == 4
    with b.transaction() as tx:
        tx.update(tx.get("aws", "policy", "P"), {"v": 1})
    assert a.derived(ACCT, "k", build, also=("aws",)) == 5
    assert calls[0] == 5


def test_derived_value_built_across_a_write_is_not_kept(target: Target) -> None:
    store = target.open(cache_ttl=60)
    _insert(store, "dave", "AIDADAVE")
    store.get(ACCT, "user", "dave")

    def build_racing_a_write() -> str:
        # Another thread commits between the build's reads and its return.
        with store.transaction() as tx:
            tx.update(tx.get(ACCT, "user", "dave"), {"v": 9})
        return "stale"

    assert store.derived(ACCT, "r", build_racing_a_write) == "stale"
    assert store.derived(ACCT, "r", lambda: "fresh") == "fresh"
