"""Local writes evict exactly what they wrote: the rest of the account's
cache stays warm (no database reads), while another process's writes still
drop the account's cache within the staleness bound."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from rolegate.store import Store

A = "123456789012"


def test_local_writes_keep_the_rest_warm_and_remote_writes_drop_it(tmp_path: Path) -> None:
    a = Store.open(data_dir=tmp_path, cache_ttl=60)
    b = Store.open(data_dir=tmp_path, cache_ttl=0.2)
    try:
        with a.transaction() as tx:
            tx.create_account(A, "m", "m@example.com")
            tx.insert(A, "user", "alice", entity_id="AIDAALICE", arn="arn:alice", data={"v": 1})
            tx.insert(A, "group", "g", entity_id="AGPAG", arn="arn:g", data={})
            tx.link(A, "group-member", "g", "alice")
            tx.insert_access_key(
                "AKIAALICE", A, "alice", "AIDAALICE", "s" * 40, "Active", datetime.now(UTC)
            )
        # Warm a's cache (twice: a fill that races a local eviction is
        # refused, and the first reads may follow this process's own writes).
        for _ in range(2):
            assert a.get(A, "user", "alice").data == {"v": 1}
            a.get_by_id("AIDAALICE")
            assert a.links_to(A, "group-member", "alice") == ["g"]
            assert a.lookup_access_key("AKIAALICE").status == "Active"
            a.list(A, "user")
            a.get_account(A)

        statements: list[str] = []
        event.listen(a.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        with a.transaction() as tx:
            tx.insert(A, "user", "bob", entity_id="AIDABOB", arn="arn:bob", data={})
        assert a.get(A, "user", "bob").name == "bob"
        assert [e.name for e in a.list(A, "user")] == ["alice", "bob"]
        before = len(statements)
        assert a.get(A, "user", "alice").data == {"v": 1}
        assert a.links_to(A, "group-member", "alice") == ["g"]
        assert a.lookup_access_key("AKIAALICE").status == "Active"
        assert a.get_by_id("AIDAALICE") is not None
        a.get_account(A)
        assert statements[before:] == []  # all served from the cache

        # Updates and renames evict what they touched.
        with a.transaction() as tx:
            e = tx.get(A, "user", "alice")
            tx.update(e, {"v": 2}, name="Alicia")
            tx.set_access_key_status("AKIAALICE", "Inactive")
            tx.unlink(A, "group-member", "g", "alice")
            tx.link(A, "group-member", "g", "alicia")
        assert a.get(A, "user", "alice") is None and a.get(A, "user", "alicia").data == {"v": 2}
        assert a.get_by_id("AIDAALICE").name == "Alicia"
        key = a.lookup_access_key("AKIAALICE")
        assert key.status == "Inactive" and key.user_name == "Alicia"
        assert a.links_to(A, "group-member", "alice") == [] and a.links_from(
            A, "group-member", "g"
        ) == ["alicia"]

        # Another process writes; our next local write notices the skipped generation.
        a.get(A, "group", "g")
        with b.transaction() as tx:
            tx.update(tx.get(A, "group", "g"), {"x": 1})
        with a.transaction() as tx:
            tx.insert(A, "user", "carol", entity_id="AIDACAROL", arn="arn:carol", data={})
        assert a.get(A, "group", "g").data == {"x": 1}
        time.sleep(0.3)  # b's staleness bound
        assert b.get(A, "user", "carol") is not None

        with a.transaction() as tx:
            tx.delete(A, "user", "carol")
            tx.delete_access_key("AKIAALICE")
        assert a.get(A, "user", "carol") is None and a.get_by_id("AIDACAROL") is None
        assert a.lookup_access_key("AKIAALICE") is None
    finally:
        a.close()
        b.close()
