"""First-run set-up: an account and an administrator (DESIGN.md fixed interface).

Idempotent: run again, it finds the account and the ``admin`` user and hands
back the admin's newest active key; it creates a key only when none exists or
when asked with ``new_key``. ``key_created`` says which; with
``reveal_existing=False`` (``make run``'s later starts) an existing key's
secret is not even unsealed, and ``secret_access_key`` is None.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from rolegate import ids
from rolegate.errors import LimitExceeded
from rolegate.iam.aws_managed import ensure_aws_managed_policies
from rolegate.store import Conflict

ADMIN = "admin"
ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
DEFAULT_ACCOUNT_ID = "123456789012"


def _iso(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bootstrap(
    store: Any,
    account_id: str = DEFAULT_ACCOUNT_ID,
    *,
    new_key: bool = False,
    rng: Any = None,
    reveal_existing: bool = True,
) -> dict[str, Any]:
    rng = rng or secrets.SystemRandom()
    now = datetime.now(UTC)
    ensure_aws_managed_policies(store)
    with store.transaction() as tx:
        if store.get_account(account_id) is None:
            try:
                tx.create_account(account_id, "rolegate", f"admin+{account_id}@rolegate.local")
            except Conflict:
                pass
    with store.transaction() as tx:
        user = tx.get(account_id, "user", ADMIN)
        if user is None:
            try:
                user = tx.insert(
                    account_id,
                    "user",
                    ADMIN,
                    entity_id=ids.new_unique_id("AIDA", rng),
                    arn=f"arn:aws:iam::{account_id}:user/{ADMIN}",
                    path="/",
                    data={
                        "tags": [],
                        "permissions_boundary": None,
                        "inline_policies": {},
                        "attached_policies": [ADMIN_POLICY_ARN],
                    },
                )
            except Conflict:
                user = tx.get(account_id, "user", ADMIN)
    assert user is not None
    with store.transaction() as tx:
        keys = [k for k in tx.list_access_keys(account_id, ADMIN) if _status(k) == "Active"]
        created = not keys or new_key
        if not created:
            # Oldest first: the newest is the one a --new-key just printed.
            akid = _akid(keys[-1])
            secret = store.lookup_access_key(akid).secret if reveal_existing else None
        else:
            if len(tx.list_access_keys(account_id, ADMIN)) >= 2:
                raise LimitExceeded("Cannot exceed quota for AccessKeysPerUser: 2")
            akid = ids.new_access_key_id("AKIA", rng)
            secret = ids.new_secret(rng)
            tx.insert_access_key(akid, account_id, ADMIN, user.entity_id, secret, "Active", now)
    return {
        "account_id": account_id,
        "user_arn": user.arn,
        "access_key_id": akid,
        "secret_access_key": secret,
        "key_created": created,
    }


def _status(k: Any) -> str:
    return k["status"] if isinstance(k, dict) else k.status


def _akid(k: Any) -> str:
    return k["akid"] if isinstance(k, dict) else k.akid
