"""Access keys belong to the user's unique id, not to its name."""

from __future__ import annotations

from datetime import UTC, datetime

from .conftest import Target

ACCT = "123456789012"
SECRET = "s" * 40


def test_a_deleted_users_keys_die_with_it(target: Target) -> None:
    store = target.open()
    now = datetime.now(UTC)
    with store.transaction() as tx:
        tx.insert(ACCT, "user", "alice", entity_id="AIDAOLDALICE", arn="arn:u", data={})
        tx.insert_access_key(
            "AKIAOLDALICE00000001", ACCT, "alice", "AIDAOLDALICE", SECRET, "Active", now
        )
    assert store.lookup_access_key("AKIAOLDALICE00000001") is not None
    with store.transaction() as tx:
        # The store itself, not only DeleteUser's DeleteConflict, keeps a key
        # from outliving its user.
        assert tx.delete(ACCT, "user", "alice")
        tx.insert(ACCT, "user", "alice", entity_id="AIDANEWALICE", arn="arn:u", data={})
    assert store.lookup_access_key("AKIAOLDALICE00000001") is None
    with store.transaction(readonly=True) as tx:
        assert tx.list_access_keys(ACCT, "alice") == []
        assert tx.get_access_key("AKIAOLDALICE00000001") is None
