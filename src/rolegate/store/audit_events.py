"""The audit event repository: CloudTrail-format records encoded
(``encode_event``, total), inserted in order, queried and purged.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError

from rolegate.errors import ConcurrentModification

from . import schema as t
from . import statements as q
from .core import _PG_LOCK_CLASS, _PG_LOCK_EVENTS, StoreCore
from .records import _is_transient, utcnow


def _event_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"audit event value of type {type(value).__name__} is not JSON serialisable")


# One encoder for every event (json.dumps with options builds one per call).
_EVENT_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_event_default)
# orjson writes the same text (compact, UTF-8, str keys from the same
# non-str keys, datetimes through _event_default) about 8x faster: 2 vs 12-18
# us for AssumeRole's 1.7 KB record here. Encoding is the audit's largest
# cost, paid by the worker when audit rows are written by a thread (a worker
# per core); AssumeRole on two workers went from ~5.6k to ~6.2k req/s.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


# The fallback writes ASCII only: every character outside it as a JSON
# \\uXXXX escape, which is how a lone surrogate (a str UTF-8 cannot carry:
# a surrogateescape'd byte of a URL, say) is written losslessly. The text
# stays valid JSON (RFC 8259's grammar admits any \\uXXXX) that json.loads
# reads back to the same str, and any database stores it.
_EVENT_ENCODER_ASCII = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=True, default=_event_default
)


def _event_default_total(value: Any) -> Any:
    try:
        return _event_default(value)
    except TypeError:
        return f"<{type(value).__name__}: {value!r}>"


_EVENT_ENCODER_TOTAL = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=True, default=_event_default_total
)


def encode_event(ev: Mapping[str, Any]) -> str:
    """An event's JSON text, as stored. Total: whatever ``ev`` holds, the
    result is valid JSON that UTF-8 (and so any database) can carry, and the
    event is recorded rather than dropped."""
    try:
        return orjson.dumps(ev, default=_event_default, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        # What orjson refuses and json may take: an int beyond 64 bits, a
        # str with a lone surrogate ("str is not valid UTF-8").
        return _encode_event_slow(ev)


def _encode_event_slow(ev: Mapping[str, Any]) -> str:
    try:
        return _EVENT_ENCODER_ASCII.encode(ev)
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        # A value of a type no encoder knows: written as its repr.
        return _EVENT_ENCODER_TOTAL.encode(ev)
    except (TypeError, ValueError, RecursionError) as exc:
        # Not JSON at all (a cycle, a key of no JSON type, nesting past the
        # interpreter's limit): still recorded, as its indexed fields and
        # the repr of the rest, never dropped.
        try:
            rest = ascii(ev)
        except RecursionError:
            rest = "<unprintable>"
        stub = {
            k: _db_text(str(ev.get(k)))
            for k in ("eventVersion", "eventID", "eventTime", "eventName", "eventSource")
            if ev.get(k) is not None
        }
        stub["rolegateEncodingError"] = f"{type(exc).__name__}: {exc}"
        stub["rolegateEventRepr"] = rest
        return _EVENT_ENCODER_ASCII.encode(stub)


def _db_text(value: Any) -> Any:
    """``value``, a str UTF-8 can carry: a lone surrogate becomes the text of
    its Python escape (``\\ud800``) in an indexed column."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("ascii")
    return value


def _to_datetime(value: datetime | str | int | float) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware UTC datetime")
        return value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class AuditEventStore(StoreCore):
    """Insert, query and purge audit events."""

    # -- audit events ---------------------------------------------------

    def append_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Insert CloudTrail-format records in one transaction, in order.

        Indexed fields come from ``eventID``, ``eventTime``, ``eventName``,
        ``recipientAccountId`` and ``userIdentity.arn``. On PostgreSQL the
        batch holds an advisory lock so that ``seq`` order is commit order
        and a reader paging with ``after_seq`` never skips a late commit.
        """
        self.append_event_rows(self.event_rows(events))

    def event_rows(self, events: Iterable[Mapping[str, Any]]) -> builtins.list[tuple[Any, ...]]:
        """The database rows of ``events``, ready for :meth:`append_event_rows`.

        Split from the insert so that the audit writer can encode on the
        request's thread and keep its own thread to the database calls,
        which release the GIL: encoding a whole batch there held the GIL for
        milliseconds at a time while requests waited (GetCallerIdentity's
        p99 under load went from 38-45 ms to 33-35 ms with this split).
        """
        to_db = self._event_time_bind
        dumps = orjson.dumps
        default = _event_default
        options = _ORJSON_OPTIONS
        rows = []
        for ev in events:
            ident = ev.get("userIdentity") or {}
            row: tuple[Any, ...] = (
                str(ev.get("eventID") or uuid.uuid4()),
                None,
                str(ev.get("eventName", "")),
                ev.get("recipientAccountId"),
                ident.get("arn") if isinstance(ident, Mapping) else None,
            )
            try:
                body = dumps(ev, default=default, option=options).decode()
            except TypeError:
                # The slow, total path (encode_event); what orjson refused
                # may be a str UTF-8 cannot carry in an indexed field too.
                body = _encode_event_slow(ev)
                row = tuple(_db_text(v) for v in row)
            when = ev.get("eventTime")
            try:
                db_time = to_db(utcnow()) if when is None else self._event_time(when)
            except (TypeError, ValueError, OverflowError):
                # An eventTime that is no time: the event is still recorded,
                # at the time it is written.
                db_time = to_db(utcnow())
            rows.append((row[0], db_time, *row[2:], body))
        return rows

    def _event_time(self, when: Any) -> Any:
        # eventTime is an ISO string with one-second resolution: requests
        # mostly repeat a few, so convert each distinct one once.
        cache = self._event_times
        db_time = cache.get(when)
        if db_time is None:
            if len(cache) > 64:
                cache.clear()
            db_time = cache[when] = self._event_time_bind(_to_datetime(when))
        return db_time

    def append_event_rows(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows made by :meth:`event_rows`, in one transaction, in order.

        They go through the DBAPI cursor as multi-row INSERTs, not
        SQLAlchemy's per-row parameter processing.
        """
        if not rows:
            return
        with self.transaction() as tx:
            if self._dialect == "postgresql":
                tx._x(
                    text("SELECT pg_advisory_xact_lock(:c, :k)"),
                    {"c": _PG_LOCK_CLASS, "k": _PG_LOCK_EVENTS},
                )
            # The raw cursor shares tx's connection, so it is inside tx's
            # transaction (and its BEGIN IMMEDIATE / advisory lock). SQLAlchemy
            # types driver_connection as Optional: never None on a live connection.
            cur = tx._conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            sql = ""
            try:
                step = q.EVENT_ROWS_PER_INSERT
                for i in range(0, len(rows), step):
                    chunk = rows[i : i + step]
                    sql = self._insert_events_sql.get(len(chunk), "")
                    if not sql:
                        sql = q.insert_events_sql(self._dialect, len(chunk))
                        self._insert_events_sql[len(chunk)] = sql
                    cur.execute(sql, [v for row in chunk for v in row])
            except Exception as exc:
                if not isinstance(exc, self._engine.dialect.loaded_dbapi.Error):
                    raise
                transient = DBAPIError(sql, None, exc)
                if _is_transient(transient):
                    raise ConcurrentModification(
                        "The request was rejected because of a concurrent modification. Try again."
                    ) from exc
                raise
            finally:
                cur.close()

    def query_events(
        self,
        *,
        event_name: str | None = None,
        user_arn: str | None = None,
        since: datetime | str | int | None = None,
        account_id: str | None = None,
        after_seq: int | None = None,
        limit: int | None = None,
        until: datetime | str | int | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
    ) -> builtins.list[tuple[int, dict[str, Any]]]:
        """``(seq, record)`` pairs matching every given filter, ordered by seq.

        ``since``/``until`` bound ``eventTime`` (inclusive / exclusive);
        ``newest_first`` reverses the order (CloudTrail LookupEvents).
        """
        stmt = select(t.events.c.seq, t.events.c.body)
        if event_name is not None:
            stmt = stmt.where(t.events.c.event_name == event_name)
        if user_arn is not None:
            stmt = stmt.where(t.events.c.user_arn == user_arn)
        if account_id is not None:
            stmt = stmt.where(t.events.c.account_id == account_id)
        if since is not None:
            stmt = stmt.where(t.events.c.event_time >= _to_datetime(since))
        if until is not None:
            stmt = stmt.where(t.events.c.event_time < _to_datetime(until))
        if after_seq is not None:
            stmt = stmt.where(t.events.c.seq > after_seq)
        if before_seq is not None:
            stmt = stmt.where(t.events.c.seq < before_seq)
        stmt = stmt.order_by(t.events.c.seq.desc() if newest_first else t.events.c.seq)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [(int(r.seq), json.loads(r.body)) for r in rows]

    def purge_events(self, before: datetime) -> int:
        """Delete events older than ``before`` (retention); returns how many."""
        with self.transaction() as tx:
            return int(tx._x(delete(t.events).where(t.events.c.event_time < before)).rowcount)
