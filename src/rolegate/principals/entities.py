"""Small facts about stored entities every service uses: the AWS managed
policies' account, links between entities, timestamps and the CSPRNG."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rolegate.context import CallContext

# One process-wide CSPRNG for ids and secrets; tests may inject their own via
# ``ctx.app.rng`` (or ``ctx.app.extra["rng"]``) to get reproducible ids.
_SYSTEM_RNG = secrets.SystemRandom()

AWS_MANAGED_ACCOUNT = "aws"

GROUP_MEMBER_REL = "group-member"  # link a = group name_key, b = user name_key


def aws_managed_policy_arn(path: str, name: str) -> str:
    return f"arn:aws:iam::{AWS_MANAGED_ACCOUNT}:policy{path}{name}"


def rng(ctx: CallContext) -> Any:
    app = ctx.app
    if app is not None:
        found = getattr(app, "rng", None)
        if found is None:
            extra = getattr(app, "extra", None)
            if isinstance(extra, Mapping):
                found = extra.get("rng")
        if found is not None:
            return found
    return _SYSTEM_RNG


# --- time ---------------------------------------------------------------


def iso(dt: datetime) -> str:
    """How timestamps are kept inside entity data (contract: ISO 8601 text)."""
    return dt.astimezone(UTC).isoformat()


def as_datetime(value: Any) -> datetime:
    """An aware UTC datetime from a stored timestamp (ISO text, datetime or epoch)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    raise TypeError(f"not a timestamp: {value!r}")


# --- links ----------------------------------------------------------------


def linked(
    reader: Any,
    account_id: str,
    rel: str,
    kind: str,
    *,
    a: str | None = None,
    b: str | None = None,
) -> list[Any]:
    """The ``kind`` entities at the other end of ``rel`` links from ``a`` (or
    to ``b``), by name key; a link to an entity that is gone is skipped.

    ``reader`` is the store (cached) or a transaction.
    """
    keys = (
        reader.links_from(account_id, rel, a)
        if a is not None
        else reader.links_to(account_id, rel, b)
    )
    found = (reader.get(account_id, kind, key) for key in sorted(keys))
    return [e for e in found if e is not None]
