"""Access keys belong to the user's unique id, not to its name."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from rolegate.store import ascii_lower, migrate

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


def test_upgrade_rekeys_non_ascii_names_and_binds_old_trust_policies(target: Target) -> None:
    store = target.open()
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/alice"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    with store.transaction() as tx:
        tx.create_account(ACCT, "main", "main@example.com")
        tx.insert(
            ACCT,
            "user",
            "alice",
            entity_id="AIDAALICE",
            arn=f"arn:aws:iam::{ACCT}:user/alice",
            data={},
        )
        tx.insert(ACCT, "user", "\u212aate", entity_id="AIDAKATE", arn="arn:k", data={})
        tx.link(ACCT, "group-member", "g", ascii_lower("\u212aate"))
        tx.insert(
            ACCT, "role", "r", entity_id="AROAR", arn="arn:r", data={"assume_role_policy": trust}
        )
    engine = store.engine
    with engine.begin() as conn:
        # What 0001's code wrote: str.lower() keys, trust policies unbound.
        conn.execute(text("UPDATE entities SET name_key = 'kate' WHERE entity_id = 'AIDAKATE'"))
        conn.execute(text("UPDATE links SET b = 'kate' WHERE rel = 'group-member'"))
        conn.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = '0001'"))
    store.close()

    again = target.open()
    assert again.get(ACCT, "user", "kate") is None
    assert again.get(ACCT, "user", "\u212aate").entity_id == "AIDAKATE"  # type: ignore[union-attr]
    assert again.links_from(ACCT, "group-member", "g") == ["\u212aate"]
    role = again.get(ACCT, "role", "r")
    assert role is not None
    assert role.data["trust_principals"] == {f"arn:aws:iam::{ACCT}:user/alice": "AIDAALICE"}
    assert "AIDAALICE" in role.data["assume_role_policy_bound"]
    assert role.data["assume_role_policy"] == trust
