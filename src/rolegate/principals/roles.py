"""Roles as the STS actions find them: by exact ARN, and RoleLastUsed noted
when a session is issued (AssumeRole, AssumeRoleWithSAML and
AssumeRoleWithWebIdentity share both)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from rolegate import arn as arns
from rolegate.context import CallContext
from rolegate.errors import ConcurrentModification
from rolegate.principals.entities import as_datetime

# RoleLastUsed is informational (AWS itself lags by hours): when it has to be
# written into the role's data, once a minute per role is plenty.
LAST_USED_GRANULARITY = 60


@dataclass(frozen=True, slots=True)
class RoleRef:
    """A role ARN split into account, path and name."""

    account_id: str
    path: str
    name: str


def parse_role_arn(role_arn: str) -> RoleRef | None:
    """``arn:aws:iam::<acct>:role/<path><name>``, else None (not a role ARN)."""
    a = arns.try_parse(role_arn)
    if (
        a is None
        or a.partition != "aws"
        or a.service != "iam"
        or a.region
        or not arns.is_account_id(a.account)
        or not a.resource.startswith("role/")
    ):
        return None
    rest = a.resource[len("role/") :]
    head, _, name = rest.rpartition("/")
    if not name:
        return None
    return RoleRef(a.account, f"/{head}/" if head else "/", name)


def find_role(store: Any, role_arn: str) -> Any:
    """The role entity at exactly this ARN, or None.

    Exactly: names are unique regardless of case, but an ARN in another
    case names no role (AWS refuses AssumeRole of ``role/myrole`` for
    ``role/MyRole``), and neither does another path.
    """
    ref = parse_role_arn(role_arn)
    if ref is None:
        return None
    role = store.get(ref.account_id, "role", ref.name)
    if role is None or role.arn != role_arn:
        return None
    return role


def note_last_used(ctx: CallContext, role: Any) -> None:
    """Record RoleLastUsed.

    The store defers these writes (``note_entity_used``: one dict write on
    the hot path, flushed in batches, no cache invalidation), which is what
    keeps AssumeRole free of a database write per request. A store without
    it gets ``data["last_used"]`` written, at most once a minute per role.
    """
    note = getattr(ctx.store, "note_entity_used", None)
    if note is not None:
        note(role.entity_id, ctx.now, ctx.region)
        return
    last = role.data.get("last_used") or {}
    stamp = ctx.now.astimezone(UTC)
    if last.get("region") == ctx.region and last.get("date"):
        if (stamp - as_datetime(last["date"])).total_seconds() < LAST_USED_GRANULARITY:
            return
    try:
        with ctx.store.transaction() as tx:
            current = tx.get(role.account_id, "role", role.name)
            if current is None or current.entity_id != role.entity_id:
                return
            data = dict(current.data)
            data["last_used"] = {"date": stamp.isoformat(), "region": ctx.region}
            tx.update(current, data)
    except ConcurrentModification:
        pass
