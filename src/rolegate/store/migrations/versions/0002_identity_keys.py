"""Identity binding for data written before it: name keys fold ASCII case
only, and role trust policies are bound to unique ids.

- ``name_key`` (and the keys that copy it: access keys' ``user_name_key``,
  the ends of links, accounts' ``email_key``) used ``str.lower()``, which
  folds non-ASCII letters onto ASCII ones (KELVIN SIGN U+212A -> "k"), so
  "\\u212aey" was found as "key". Rows whose key changes are rewritten.
- A role's trust policy names users and roles by ARN; IAM binds them to
  their unique ids when the policy is saved (reference §3.1). Roles saved
  before ``principals/trust_binding.py`` are bound now, to the entities that hold
  those ARNs at upgrade time: the best that can be known.

Every account touched gets its cache generation bumped, so running nodes
drop what they cached.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from alembic import op

from rolegate.principals import trust_binding
from rolegate.store.store import ascii_lower

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

entities = sa.table(
    "entities",
    sa.column("account_id"),
    sa.column("kind"),
    sa.column("name_key"),
    sa.column("name"),
    sa.column("entity_id"),
    sa.column("arn"),
    sa.column("data"),
    sa.column("version"),
)
links = sa.table("links", sa.column("account_id"), sa.column("rel"), sa.column("a"), sa.column("b"))
access_keys = sa.table(
    "access_keys", sa.column("account_id"), sa.column("user_id"), sa.column("user_name_key")
)
accounts = sa.table("accounts", sa.column("account_id"), sa.column("email"), sa.column("email_key"))
generations = sa.table("generations", sa.column("account_id"), sa.column("gen"))

# Which kind of entity each end of a link names (principals/policy_sets.py, iam/roles.py).
LINK_ENDS = {
    "group-member": ("group", "user"),
    "instance-profile-role": ("instance-profile", "role"),
}


def _rekey(conn: Any, touched: set[str]) -> None:
    rows = conn.execute(
        sa.select(entities.c.account_id, entities.c.kind, entities.c.name_key, entities.c.name)
    ).all()
    for account, kind, old, name in rows:
        new = ascii_lower(name)
        if new == old:
            continue
        taken = conn.execute(
            sa.select(entities.c.entity_id).where(
                entities.c.account_id == account,
                entities.c.kind == kind,
                entities.c.name_key == new,
            )
        ).first()
        if taken is not None:
            continue  # cannot happen (the old key folded more); keep the row findable
        where = (entities.c.account_id == account, entities.c.kind == kind)
        conn.execute(
            entities.update().where(*where, entities.c.name_key == old).values(name_key=new)
        )
        for rel, (a_kind, b_kind) in LINK_ENDS.items():
            for end, end_kind in (("a", a_kind), ("b", b_kind)):
                if end_kind == kind:
                    column = links.c[end]
                    conn.execute(
                        links.update()
                        .where(links.c.account_id == account, links.c.rel == rel, column == old)
                        .values({end: new})
                    )
        if kind == "user":
            conn.execute(
                access_keys.update()
                .where(access_keys.c.account_id == account, access_keys.c.user_name_key == old)
                .values(user_name_key=new)
            )
        touched.add(account)
    for account, email, key in conn.execute(
        sa.select(accounts.c.account_id, accounts.c.email, accounts.c.email_key)
    ).all():
        if ascii_lower(email) != key:
            conn.execute(
                accounts.update()
                .where(accounts.c.account_id == account)
                .values(email_key=ascii_lower(email))
            )
            touched.add(account)


class _Reader:
    """What ``trust_binding.bind`` reads, over the migration's connection."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def get(self, account_id: str, kind: str, name: str) -> Any:
        row = self.conn.execute(
            sa.select(entities.c.entity_id, entities.c.arn).where(
                entities.c.account_id == account_id,
                entities.c.kind == kind,
                entities.c.name_key == ascii_lower(name),
            )
        ).first()
        return None if row is None else SimpleNamespace(entity_id=row[0], arn=row[1])


def _bind_trust_policies(conn: Any, touched: set[str]) -> None:
    reader = _Reader(conn)
    rows = conn.execute(
        sa.select(entities.c.account_id, entities.c.entity_id, entities.c.data).where(
            entities.c.kind == "role"
        )
    ).all()
    for account, entity_id, blob in rows:
        data = json.loads(blob)
        document = data.get(trust_binding.DOCUMENT)
        if trust_binding.PRINCIPALS in data or not isinstance(document, str):
            continue
        binding = trust_binding.bind(reader, document)
        if not binding[trust_binding.PRINCIPALS]:
            continue
        data.update(binding)
        conn.execute(
            entities.update()
            .where(entities.c.entity_id == entity_id)
            .values(
                data=json.dumps(data, separators=(",", ":"), ensure_ascii=False),
                version=entities.c.version + 1,
            )
        )
        touched.add(account)


def upgrade() -> None:
    conn = op.get_bind()
    touched: set[str] = set()
    _rekey(conn, touched)
    _bind_trust_policies(conn, touched)
    for account in sorted(touched):
        conn.execute(
            generations.update()
            .where(generations.c.account_id == account)
            .values(gen=generations.c.gen + 1)
        )


def downgrade() -> None:
    # A data migration, not reversed: the bindings are extra fields older
    # code ignores; rows with non-ASCII names keep their ASCII-folded keys.
    pass
