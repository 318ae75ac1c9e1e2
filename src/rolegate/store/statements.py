"""Statements built once, executed with bound parameters.

Building a SQLAlchemy expression (``table.c.x == value`` and friends) costs
more than compiling-from-cache and running it (~250 µs vs ~70 µs per query
on SQLite), so the store's frequent statements are built here, once, with
``bindparam`` placeholders. INSERTs with ON CONFLICT are dialect-specific and
come in a pair, picked by ``Statements(dialect)``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from . import schema as t

_e = t.entities.c
_l = t.links.c
_k = t.access_keys.c

SEL_ENTITY = select(t.entities).where(
    _e.account_id == bindparam("account_id"),
    _e.kind == bindparam("kind"),
    _e.name_key == bindparam("name_key"),
)
SEL_ENTITY_BY_ID = select(t.entities).where(_e.entity_id == bindparam("entity_id"))
SEL_ENTITY_ID_VERSION = select(_e.entity_id, _e.version).where(
    _e.account_id == bindparam("account_id"),
    _e.kind == bindparam("kind"),
    _e.name_key == bindparam("name_key"),
)
DEL_ENTITY = delete(t.entities).where(
    _e.account_id == bindparam("account_id"),
    _e.kind == bindparam("kind"),
    _e.name_key == bindparam("name_key"),
    _e.version == bindparam("version"),
)
DEL_ENTITY_USAGE = delete(t.entity_usage).where(
    t.entity_usage.c.entity_id == bindparam("entity_id")
)
# Prefixed names ("w_" WHERE, "v_" SET): SQLAlchemy reserves bare column
# names in an UPDATE, and the WHERE clause needs the old values.
UPD_ENTITY = (
    update(t.entities)
    .where(
        _e.account_id == bindparam("w_account_id"),
        _e.kind == bindparam("w_kind"),
        _e.name_key == bindparam("w_name_key"),
        _e.version == bindparam("w_version"),
    )
    .values(
        name=bindparam("v_name"),
        name_key=bindparam("v_name_key"),
        path=bindparam("v_path"),
        arn=bindparam("v_arn"),
        data=bindparam("v_data"),
        updated_at=bindparam("v_updated_at", type_=t.UtcDateTime()),
        version=bindparam("v_version"),
    )
)
SEL_LINKS_FROM = (
    select(_l.b)
    .where(
        _l.account_id == bindparam("account_id"), _l.rel == bindparam("rel"), _l.a == bindparam("a")
    )
    .order_by(_l.b)
)
SEL_LINKS_TO = (
    select(_l.a)
    .where(
        _l.account_id == bindparam("account_id"), _l.rel == bindparam("rel"), _l.b == bindparam("b")
    )
    .order_by(_l.a)
)
DEL_LINK = delete(t.links).where(
    _l.account_id == bindparam("account_id"),
    _l.rel == bindparam("rel"),
    _l.a == bindparam("a"),
    _l.b == bindparam("b"),
)
SEL_LIST = (
    select(t.entities)
    .where(_e.account_id == bindparam("account_id"), _e.kind == bindparam("kind"))
    .order_by(_e.name_key)
)
# substr, not LIKE: IAM paths may contain "_" and LIKE's escaping rules
# differ between engines.
SEL_LIST_PREFIX = (
    select(t.entities)
    .where(
        _e.account_id == bindparam("account_id"),
        _e.kind == bindparam("kind"),
        func.substr(_e.path, 1, bindparam("plen")) == bindparam("prefix"),
    )
    .order_by(_e.name_key)
)
SEL_KEYS_OF_USER = (
    select(t.access_keys)
    .where(_k.account_id == bindparam("account_id"), _k.user_name_key == bindparam("name_key"))
    .order_by(_k.created_at, _k.akid)
)
SEL_KEY_ACCOUNT = select(_k.account_id).where(_k.akid == bindparam("akid"))
UPD_KEY_STATUS = (
    update(t.access_keys).where(_k.akid == bindparam("w_akid")).values(status=bindparam("v_status"))
)
DEL_KEY = delete(t.access_keys).where(_k.akid == bindparam("akid"))
DEL_KEYS_OF_USER = delete(t.access_keys).where(
    _k.account_id == bindparam("account_id"), _k.user_id == bindparam("user_id")
)
SEL_ACCOUNT = select(t.accounts).where(t.accounts.c.account_id == bindparam("account_id"))
SEL_KEY = select(t.access_keys).where(_k.akid == bindparam("akid"))
SEL_GEN = select(t.generations.c.gen).where(t.generations.c.account_id == bindparam("account_id"))


class Statements:
    """The dialect-specific (ON CONFLICT) statements of one store."""

    def __init__(self, dialect: str):
        ins: Any = sqlite_dialect.insert if dialect == "sqlite" else pg_dialect.insert
        bump = ins(t.generations).values(account_id=bindparam("account_id"), gen=1)
        self.bump_gen = bump.on_conflict_do_update(
            index_elements=[t.generations.c.account_id],
            set_={"gen": t.generations.c.gen + 1},
        ).returning(t.generations.c.gen)
        # No target: the name key and the entity id are both unique. Values
        # come from the parameter dict (every column, always the same keys).
        self.insert_entity = ins(t.entities).on_conflict_do_nothing().returning(_e.version)
        # RETURNING, not rowcount: drivers disagree on rowcount for
        # ON CONFLICT DO NOTHING.
        self.insert_link = ins(t.links).on_conflict_do_nothing().returning(_l.rel)
        usage = ins(t.entity_usage)
        self.upsert_entity_usage = usage.on_conflict_do_update(
            index_elements=[t.entity_usage.c.entity_id],
            set_={
                "last_used_at": usage.excluded.last_used_at,
                "region": usage.excluded.region,
            },
            where=t.entity_usage.c.last_used_at < usage.excluded.last_used_at,
        )


_EVENT_COLUMNS = ("event_id", "event_time", "event_name", "account_id", "user_arn", "body")


def insert_events_sql(dialect: str, rows: int = 1) -> str:
    """The audit INSERT of ``rows`` rows in the driver's own paramstyle
    (qmark / format).

    Several rows per statement because SQLite's driver releases and retakes
    the GIL around every statement step: with one step per row the audit
    writer thread, trading the GIL with the event loop for each row, fell
    behind under load (its buffer stayed full and every request woke it).
    """
    mark = "?" if dialect == "sqlite" else "%s"
    one = f"({', '.join([mark] * len(_EVENT_COLUMNS))})"
    return f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) VALUES {', '.join([one] * rows)}"


# 100 rows x 6 columns stays under SQLite's oldest variable limit (999).
EVENT_ROWS_PER_INSERT = 100


def bind_processor(column: Any, dialect: Any) -> Any:
    """The value -> DBAPI conversion SQLAlchemy applies to ``column`` (UtcDateTime
    included), for statements run on the raw cursor."""
    proc = column.type._cached_bind_processor(dialect)
    return proc if proc is not None else (lambda value: value)
