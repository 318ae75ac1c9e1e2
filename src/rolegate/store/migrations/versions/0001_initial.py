"""The initial schema: every table, created explicitly.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Aware timestamps: timestamptz on PostgreSQL, naive-UTC text on SQLite
# (rolegate.store.schema.UtcDateTime converts).
TS = sa.DateTime(timezone=True)
# BIGINT identity on PostgreSQL; on SQLite it must be exactly INTEGER to
# alias the rowid, and AUTOINCREMENT below keeps seq from ever being reused.
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_accounts_email_key", "accounts", ["email_key"])
    op.create_table(
        "entities",
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name_key", sa.String(512), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("arn", sa.String(2048), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "kind", "name_key", name="pk_entities"),
        sa.UniqueConstraint("entity_id", name="uq_entities_entity_id"),
    )
    op.create_table(
        "links",
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("rel", sa.String(64), nullable=False),
        sa.Column("a", sa.String(2048), nullable=False),
        sa.Column("b", sa.String(2048), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "rel", "a", "b", name="pk_links"),
    )
    # links_to(b) needs its own index; links_from(a) uses the primary key.
    op.create_index("ix_links_to", "links", ["account_id", "rel", "b"])
    op.create_table(
        "access_keys",
        sa.Column("akid", sa.String(128), primary_key=True),
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(512), nullable=False),
        sa.Column("user_name_key", sa.String(512), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("last_used_service", sa.String(64), nullable=True),
        sa.Column("last_used_region", sa.String(64), nullable=True),
    )
    op.create_index("ix_access_keys_user", "access_keys", ["account_id", "user_name_key"])
    op.create_table(
        "entity_usage",
        sa.Column("entity_id", sa.String(64), primary_key=True),
        sa.Column("last_used_at", TS, nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
    )
    op.create_table(
        "sealing_keys",
        sa.Column("key_id", sa.String(128), primary_key=True),
        sa.Column("key_enc", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
    )
    op.create_table(
        "events",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_time", TS, nullable=False),
        sa.Column("event_name", sa.String(128), nullable=False),
        sa.Column("account_id", sa.String(32), nullable=True),
        sa.Column("user_arn", sa.String(2048), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    # One index per query_events filter, each ending in seq so that
    # "filter ... ORDER BY seq" is an index range scan.
    op.create_index("ix_events_name_seq", "events", ["event_name", "seq"])
    op.create_index("ix_events_user_seq", "events", ["user_arn", "seq"])
    op.create_index("ix_events_account_seq", "events", ["account_id", "seq"])
    op.create_index("ix_events_time", "events", ["event_time"])
    op.create_index("ix_events_event_id", "events", ["event_id"])
    op.create_table(
        "once_claims",
        sa.Column("namespace", sa.String(64), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "key", name="pk_once_claims"),
    )
    op.create_index("ix_once_claims_expires", "once_claims", ["expires_at"])
    op.create_table(
        "generations",
        sa.Column("account_id", sa.String(32), primary_key=True),
        sa.Column("gen", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "generations",
        "once_claims",
        "events",
        "sealing_keys",
        "entity_usage",
        "access_keys",
        "links",
        "entities",
        "accounts",
        "meta",
    ):
        op.drop_table(table)
