"""Entities: CRUD, case-insensitive names, Conflict, optimistic updates, read-only cached data."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from rolegate.errors import ConcurrentModification, EntityAlreadyExists
from rolegate.store import Conflict, FrozenDict, Store

ACCT = "123456789012"


def _user(tx, name: str, eid: str, *, path: str = "/", data=None):
    return tx.insert(
        ACCT,
        "user",
        name,
        entity_id=eid,
        arn=f"arn:aws:iam::{ACCT}:user{path}{name}",
        path=path,
        data=data if data is not None else {"tags": [], "inline_policies": {}},
    )


def test_insert_get_case_insensitive(store: Store) -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    with store.transaction() as tx:
        e = tx.insert(
            ACCT, "user", "Alice", entity_id="AIDAALICE", arn="arn:a", data={"x": [1]}, now=now
        )
    assert (e.name, e.name_key, e.version, e.path, e.created_at) == ("Alice", "alice", 1, "/", now)
    for name in ("Alice", "alice", "ALICE"):
        got = store.get(ACCT, "user", name)
        assert got is not None and got.entity_id == "AIDAALICE" and got.name == "Alice"
        with store.transaction() as tx:
            assert tx.get(ACCT, "user", name) == e
    assert store.get(ACCT, "role", "Alice") is None
    assert store.get("999999999999", "user", "Alice") is None
    assert store.get_by_id("AIDAALICE") == e
    assert store.get_by_id("AIDAALICE") == e  # second call is served from the cache
    assert store.get_by_id("AIDANOPE") is None
    assert store.get(ACCT, "user", "alice").created_at == now  # type: ignore[union-attr]
    assert store.get(ACCT, "user", "alice").created_at.tzinfo is not None  # type: ignore[union-attr]


def test_duplicate_name_conflicts_in_any_case(store: Store) -> None:
    with store.transaction() as tx:
        _user(tx, "Bob", "AIDABOB")
    with pytest.raises(Conflict) as info, store.transaction() as tx:
        _user(tx, "BOB", "AIDABOB2")
    assert isinstance(info.value, EntityAlreadyExists) and info.value.status == 409
    # Same name in another kind or account is fine.
    with store.transaction() as tx:
        tx.insert(ACCT, "role", "bob", entity_id="AROABOB", arn="arn:r", data={})
        tx.insert("210987654321", "user", "bob", entity_id="AIDABOB3", arn="arn:u", data={})
    assert store.get(ACCT, "user", "bob").entity_id == "AIDABOB"  # type: ignore[union-attr]


def test_conflict_leaves_transaction_usable(store: Store) -> None:
    """A caught Conflict does not poison the transaction (PostgreSQL aborts on errors)."""
    with store.transaction() as tx:
        _user(tx, "Carol", "AIDACAROL")
    with store.transaction() as tx:
        with pytest.raises(Conflict):
            _user(tx, "carol", "AIDACAROL2")
        _user(tx, "Dave", "AIDADAVE")
    assert store.get(ACCT, "user", "dave") is not None


def test_duplicate_entity_id_conflicts(store: Store) -> None:
    with store.transaction() as tx:
        _user(tx, "Erin", "AIDADUP")
    with pytest.raises(Conflict, match="entity id"), store.transaction() as tx:
        _user(tx, "Frank", "AIDADUP")
    assert store.get(ACCT, "user", "frank") is None
    with store.transaction() as tx:  # still usable after the Conflict
        with pytest.raises(Conflict):
            _user(tx, "Frank", "AIDADUP")
        _user(tx, "Frank", "AIDAFRANK")
    assert store.get(ACCT, "user", "frank").entity_id == "AIDAFRANK"  # type: ignore[union-attr]


def test_exception_rolls_back_everything(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        _user(tx, "Gina", "AIDAGINA")
        tx.link(ACCT, "group-member", "admins", "gina")
        raise RuntimeError("boom")
    assert store.get(ACCT, "user", "gina") is None
    assert store.links_from(ACCT, "group-member", "admins") == []
    with store.transaction() as tx:
        assert tx.get(ACCT, "user", "gina") is None


def test_optimistic_update(store: Store) -> None:
    with store.transaction() as tx:
        e = _user(tx, "Hank", "AIDAHANK")
    with store.transaction() as tx:
        e2 = tx.update(e, {"tags": [{"Key": "k", "Value": "v"}]})
    assert e2.version == 2 and e2.data["tags"][0]["Key"] == "k" and e2.created_at == e.created_at
    # A writer still holding version 1 loses, and changes nothing.
    with pytest.raises(ConcurrentModification), store.transaction() as tx:
        tx.update(e, {"tags": []})
    got = store.get(ACCT, "user", "hank")
    assert got is not None and got.version == 2 and got.data["tags"] == [{"Key": "k", "Value": "v"}]


def test_update_rename_moves_keys_and_conflicts(store: Store) -> None:
    now = datetime.now(UTC)
    with store.transaction() as tx:
        e = _user(tx, "Ivan", "AIDAIVAN")
        _user(tx, "Jane", "AIDAJANE")
        tx.insert_access_key(
            "AKIAIVAN000000000001", ACCT, "Ivan", "AIDAIVAN", "s" * 40, "Active", now
        )
    with store.transaction() as tx:
        with pytest.raises(Conflict):
            tx.update(e, dict(e.data), name="JANE")
        renamed = tx.update(e, dict(e.data), name="Ivana", path="/ops/", arn="arn:new")
    assert (renamed.name, renamed.name_key, renamed.path, renamed.arn) == (
        "Ivana",
        "ivana",
        "/ops/",
        "arn:new",
    )
    assert store.get(ACCT, "user", "ivan") is None
    assert store.get(ACCT, "user", "IVANA").entity_id == "AIDAIVAN"  # type: ignore[union-attr]
    with store.transaction() as tx:
        keys = tx.list_access_keys(ACCT, "ivana")
    assert [k.akid for k in keys] == ["AKIAIVAN000000000001"] and keys[0].user_name == "Ivana"


def test_delete(store: Store) -> None:
    with store.transaction() as tx:
        e = _user(tx, "Kim", "AIDAKIM")
    assert store.get(ACCT, "user", "kim") is not None
    with pytest.raises(ConcurrentModification), store.transaction() as tx:
        tx.delete(ACCT, "user", "kim", version=e.version + 1)
    with store.transaction() as tx:
        assert tx.delete(ACCT, "user", "KIM") is True
        assert tx.delete(ACCT, "user", "kim") is False
    assert store.get(ACCT, "user", "kim") is None
    assert store.get_by_id("AIDAKIM") is None


def test_list_ordered_and_path_prefix(store: Store) -> None:
    with store.transaction() as tx:
        _user(tx, "zed", "AIDA1")
        _user(tx, "Amy", "AIDA2", path="/eng/")
        _user(tx, "bea", "AIDA3", path="/eng/backend/")
        _user(tx, "Cy_", "AIDA4", path="/engineering/")
        tx.insert(ACCT, "role", "r", entity_id="AROA1", arn="arn:r", data={})
    names = [e.name for e in store.list(ACCT, "user")]
    assert names == ["Amy", "bea", "Cy_", "zed"]
    assert [e.name for e in store.list(ACCT, "user", path_prefix="/eng/")] == ["Amy", "bea"]
    assert [e.name for e in store.list(ACCT, "user", path_prefix="/eng")] == ["Amy", "bea", "Cy_"]
    with store.transaction() as tx:
        assert [e.name for e in tx.list(ACCT, "user", path_prefix="/eng/")] == ["Amy", "bea"]
    assert store.list(ACCT, "group") == []
    # The returned list is the caller's; the cache is unaffected.
    lst = store.list(ACCT, "user")
    lst.clear()
    assert len(store.list(ACCT, "user")) == 4


def test_cached_data_is_read_only_and_tx_data_is_private(store: Store) -> None:
    with store.transaction() as tx:
        _user(tx, "Lee", "AIDALEE", data={"tags": [{"Key": "a", "Value": "b"}], "n": {"x": 1}})
    cached = store.get(ACCT, "user", "lee")
    assert cached is not None and isinstance(cached.data, dict)
    assert isinstance(cached.data, FrozenDict)
    with pytest.raises(TypeError):
        cached.data["tags"].append({"Key": "c", "Value": "d"})
    with pytest.raises(TypeError):
        cached.data["n"]["x"] = 2
    assert json.loads(json.dumps(cached.data)) == cached.data
    mine = copy.deepcopy(cached.data)
    mine["tags"].append({"Key": "c", "Value": "d"})
    assert len(store.get(ACCT, "user", "lee").data["tags"]) == 1  # type: ignore[union-attr]
    with store.transaction() as tx:
        e = tx.get(ACCT, "user", "lee")
        assert e is not None
        e.data["tags"].append({"Key": "x", "Value": "y"})  # a private copy: allowed
        tx.update(e, e.data)
    assert len(store.get(ACCT, "user", "lee").data["tags"]) == 2  # type: ignore[union-attr]


def test_data_given_to_insert_is_copied(store: Store) -> None:
    data = {"tags": []}
    with store.transaction() as tx:
        e = _user(tx, "Max", "AIDAMAX", data=data)
    data["tags"].append("mutated later")
    assert e.data == {"tags": []}
    assert store.get(ACCT, "user", "max").data == {"tags": []}  # type: ignore[union-attr]


def test_readonly_transaction_refuses_writes(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction(readonly=True) as tx:
        _user(tx, "Ned", "AIDANED")
    assert store.get(ACCT, "user", "ned") is None


def test_transaction_object_dead_after_block(store: Store) -> None:
    with store.transaction() as tx:
        pass
    with pytest.raises(RuntimeError):
        tx.get(ACCT, "user", "x")


def test_atomic_retries_concurrent_modification(store: Store) -> None:
    import threading

    with store.transaction() as tx:
        _user(tx, "Ola", "AIDAOLA", data={"n": 0})
    stale = store.get(ACCT, "user", "ola")
    calls: list[int] = []

    def other_writer() -> None:
        with store.transaction() as tx:
            tx.update(tx.get(ACCT, "user", "ola"), {"n": 10})

    def bump(tx):
        # First attempt: works from a stale read while someone else writes.
        if not calls:
            th = threading.Thread(target=other_writer)
            th.start()
            th.join()
            e = stale
        else:
            e = tx.get(ACCT, "user", "ola")
        calls.append(1)
        return tx.update(e, {"n": e.data["n"] + 1})

    if store.dialect == "sqlite":
        # SQLite serialises writers: the other writer cannot commit while we
        # hold the lock, so make the first attempt conflict inside our own tx.
        def bump_sqlite(tx):
            if not calls:
                tx.update(tx.get(ACCT, "user", "ola"), {"n": 10})
                e = stale
            else:
                e = tx.get(ACCT, "user", "ola")
            calls.append(1)
            return tx.update(e, {"n": e.data["n"] + 1})

        result = store.atomic(bump_sqlite)
        assert result.data == {"n": 1} and len(calls) == 2  # the first attempt rolled back
    else:
        result = store.atomic(bump)
        assert result.data == {"n": 11} and len(calls) == 2


def test_nested_write_transaction_fails_fast(store: Store) -> None:
    with store.transaction() as tx:
        _user(tx, "Pia", "AIDAPIA")
        with pytest.raises(RuntimeError, match="nested"), store.transaction():
            pass
        with pytest.raises(RuntimeError, match="nested"):
            store.claim_once("mfa", "x", 2**40)
        assert store.list(ACCT, "user") == []  # readonly reads are fine (committed data)
    assert store.get(ACCT, "user", "pia") is not None
    with store.transaction():  # the flag is reset
        pass
