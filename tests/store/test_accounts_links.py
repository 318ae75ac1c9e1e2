"""Accounts and links."""

from __future__ import annotations

import pytest

from rolegate.store import Conflict, Store

ACCT = "123456789012"


def test_accounts(store: Store) -> None:
    with store.transaction() as tx:
        a = tx.create_account(ACCT, "main", "Root@Example.com")
        tx.create_account("000000000002", "second", "two@example.com", data={"parent": "r-1"})
    assert a["account_id"] == ACCT and a["status"] == "ACTIVE" and a["created_at"].tzinfo
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.create_account(ACCT, "again", "x@example.com")
    got = store.get_account(ACCT)
    assert got is not None and got["name"] == "main" and got["email"] == "Root@Example.com"
    assert store.get_account("999999999999") is None
    assert [x["account_id"] for x in store.list_accounts()] == ["000000000002", ACCT]
    assert store.find_account_by_email("root@EXAMPLE.com")["account_id"] == ACCT  # type: ignore[index]
    assert store.find_account_by_email("nobody@example.com") is None
    with store.transaction() as tx:
        upd = tx.update_account("000000000002", name="renamed", status="SUSPENDED")
        assert tx.update_account("999999999999", name="x") is None
    assert upd is not None and upd["name"] == "renamed" and upd["data"] == {"parent": "r-1"}
    cached = store.get_account("000000000002")
    assert cached is not None and cached["status"] == "SUSPENDED"
    cached["name"] = "caller's copy"
    assert store.get_account("000000000002")["name"] == "renamed"  # type: ignore[index]


def test_links(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.link(ACCT, "group-member", "admins", "alice") is True
        assert tx.link(ACCT, "group-member", "admins", "alice") is False  # idempotent
        tx.link(ACCT, "group-member", "admins", "bob")
        tx.link(ACCT, "group-member", "devs", "alice")
        tx.link("210987654321", "group-member", "admins", "carol")
        assert tx.links_from(ACCT, "group-member", "admins") == ["alice", "bob"]
    assert store.links_from(ACCT, "group-member", "admins") == ["alice", "bob"]
    assert store.links_to(ACCT, "group-member", "alice") == ["admins", "devs"]
    assert store.links_from("210987654321", "group-member", "admins") == ["carol"]
    assert store.links_from(ACCT, "other-rel", "admins") == []
    with store.transaction() as tx:
        assert tx.unlink(ACCT, "group-member", "admins", "alice") is True
        assert tx.unlink(ACCT, "group-member", "admins", "alice") is False
    assert store.links_from(ACCT, "group-member", "admins") == ["bob"]
    assert store.links_to(ACCT, "group-member", "alice") == ["devs"]
    with store.transaction() as tx:
        assert tx.unlink_all(ACCT, "group-member", b="devs") == 0
        assert tx.unlink_all(ACCT, "group-member", b="alice") == 1
        assert tx.unlink_all(ACCT, "group-member", a="admins") == 1
        with pytest.raises(ValueError):
            tx.unlink_all(ACCT, "group-member")
    assert store.links_to(ACCT, "group-member", "alice") == []
    assert store.links_from(ACCT, "group-member", "admins") == []
    # The returned list is the caller's own.
    with store.transaction() as tx:
        tx.link(ACCT, "r", "a", "b")
    got = store.links_from(ACCT, "r", "a")
    got.append("zzz")
    assert store.links_from(ACCT, "r", "a") == ["b"]
