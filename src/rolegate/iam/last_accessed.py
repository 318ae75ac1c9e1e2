"""The IAM access advisor: GenerateServiceLastAccessedDetails,
GetServiceLastAccessedDetails and GetServiceLastAccessedDetailsWithEntities.

AWS reports, for a user, group, role or managed policy, every service the
entity's permissions policies allow, with the last time an authenticated
principal of that entity *attempted* to use it (denied attempts count too;
unauthenticated ones do not), over a tracking period of 400 days. AWS fills
this in from its own telemetry, hours late; rolegate computes it from its
CloudTrail-format audit store, which records every call, allowed or denied,
with the caller's identity:

- a user's calls carry ``userIdentity.arn`` = the user ARN (its
  GetSessionToken sessions too), and ``principalId`` = its ``AIDA`` id, which
  tells it apart from an earlier user of the same name;
- a role's sessions carry ``sessionContext.sessionIssuer`` = the role's ARN
  and ``AROA`` id;
- ``eventSource`` (``iam.amazonaws.com``) gives the service namespace and
  ``eventName`` the action.

Whose use counts: the user or role itself; a group's members; for a policy,
every user and role it is attached to (directly, or through a group). As in
AWS, a use is not traced to the policy that allowed it.

AWS runs a job in the background and the first Get may answer
``IN_PROGRESS``; rolegate builds the report inside Generate, so the job is
``COMPLETED`` when its id is handed out. The report is stored as an entity of
kind ``access-advisor-job`` (name = JobId) in the caller's account, so any
node answers Get, and the answer does not change under the client while it
pages. It holds ARNs and dates only, no secrets.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from rolegate import protocol
from rolegate.context import CallContext
from rolegate.errors import InvalidInput, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.lookup import GROUP, ROLE, USER, EntityKind
from rolegate.iam.paging import paginate
from rolegate.iam.policies import usage
from rolegate.iam.principals import GROUP_MEMBER_REL, managed_policy_document
from rolegate.iam.service_access import (
    allowed_services,
    allows_action,
    entity_policies,
    find_principal,
    service_name,
    split_iam_arn,
)

KIND = "access-advisor-job"
# AWS: "IAM reports activity for at least the last 400 days".
TRACKING_PERIOD = timedelta(days=400)
# AWS does not document how long a job's report stays readable; rolegate
# keeps each for 30 days and at most this many per account, so reports (which
# live in the account's cached entity set) cannot grow without bound.
JOB_RETENTION = timedelta(days=30)
MAX_JOBS_PER_ACCOUNT = 100
# Events read per store query while scanning an entity's history.
_EVENT_PAGE = 1000
# Services for which AWS reports action-level data, among those rolegate
# serves: IAM only (IAM User Guide, "IAM action last accessed information
# services and actions": Amazon EC2, IAM, Lambda and Amazon S3).
_ACTION_TRACKED = frozenset({"iam"})
_GRANULARITIES = ("SERVICE_LEVEL", "ACTION_LEVEL")


def _job_not_found(job_id: str) -> NoSuchEntity:
    # Wording unconfirmed against AWS; the code (NoSuchEntity 404) is the
    # model's.
    return NoSuchEntity(f"The job with ID {job_id} cannot be found.")


# --- the entities a report covers ---------------------------------------------


def _members(store: Any, account: str, group: Any) -> list[Any]:
    return lookup.linked(store, account, GROUP_MEMBER_REL, "user", a=group.name_key)


def _policy_holders(store: Any, account: str, arn: str) -> list[tuple[EntityKind, Any]]:
    """Users and roles that have the managed policy ``arn``, directly or via a group."""
    out: dict[str, tuple[EntityKind, Any]] = {}
    for kind_name, entity in usage(store, account).attached_to.get(arn, ()):
        if kind_name == "group":
            for user in _members(store, account, entity):
                out.setdefault(user.entity_id, (USER, user))
        else:
            kind = USER if kind_name == "user" else ROLE
            out.setdefault(entity.entity_id, (kind, entity))
    return sorted(out.values(), key=lambda ke: (ke[0].kind, ke[1].name_key))


def _resolve(ctx: CallContext, arn: str) -> tuple[str, list[str], list[tuple[EntityKind, Any]]]:
    """(report type, policy documents, users/roles whose use counts) for ``arn``."""
    store, account = ctx.store, ctx.account_id
    _, rtype, _ = split_iam_arn(arn)
    if rtype == "policy":
        found = lookup.find_policy(store, account, arn)
        document = managed_policy_document(store, arn) if found is not None else None
        if document is None:
            raise lookup.policy_not_found(arn)
        return "policy", [document], _policy_holders(store, account, arn)
    kind, entity = find_principal(ctx, arn, ("user", "group", "role"))
    documents = [p.document for p in entity_policies(store, account, kind, entity)]
    if kind is GROUP:
        holders = [(USER, u) for u in _members(store, account, entity)]
    else:
        holders = [(kind, entity)]
    return kind.kind, documents, holders


# --- reading the audit trail -----------------------------------------------------


def _account_events(store: Any, account: str, since: datetime, **filters: Any) -> Iterator[dict]:
    """The account's events since ``since``, newest first, read page by page."""
    before: int | None = None
    while True:
        rows = store.query_events(
            account_id=account,
            since=since,
            before_seq=before,
            newest_first=True,
            limit=_EVENT_PAGE,
            **filters,
        )
        for seq, event in rows:
            before = seq
            yield event
        if len(rows) < _EVENT_PAGE:
            return


def _who(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """``("user"|"role", unique id)`` of the IAM user or role that made ``event``."""
    ident = event.get("userIdentity")
    if not isinstance(ident, Mapping):
        return None
    kind = ident.get("type")
    if kind == "IAMUser":
        pid = ident.get("principalId")
        return ("user", pid) if isinstance(pid, str) else None
    if kind == "AssumedRole":
        issuer = (ident.get("sessionContext") or {}).get("sessionIssuer") or {}
        pid = issuer.get("principalId") if isinstance(issuer, Mapping) else None
        return ("role", pid) if isinstance(pid, str) else None
    return None


def _what(event: Mapping[str, Any]) -> tuple[str, str, datetime, str | None] | None:
    """``(namespace, action, time, region)`` of ``event``, or None if unreadable."""
    source, name, when = event.get("eventSource"), event.get("eventName"), event.get("eventTime")
    if not isinstance(source, str) or not isinstance(name, str) or not isinstance(when, str):
        return None
    try:
        at = lookup.as_datetime(when)
    except ValueError:
        return None
    region = event.get("awsRegion")
    return source.split(".", 1)[0], name, at, region if isinstance(region, str) else None


class _Usage:
    """Latest use per (entity, service) and per (entity, service, action)."""

    def __init__(self) -> None:
        self.service: dict[tuple[str, str], tuple[datetime, str | None]] = {}
        self.action: dict[tuple[str, str, str], tuple[datetime, str | None]] = {}

    def note(self, entity_id: str, ns: str, action: str, at: datetime, region: str | None) -> None:
        # Events arrive newest first, so the first one seen for a key is its latest.
        self.service.setdefault((entity_id, ns), (at, region))
        self.action.setdefault((entity_id, ns, action.lower()), (at, region))


def _read_usage(
    store: Any, account: str, holders: list[tuple[EntityKind, Any]], since: datetime
) -> _Usage:
    """Scan the audit trail for the holders' calls.

    Users are read with the store's ``user_arn`` filter, one query series
    each; roles' sessions have one ARN per session, which that filter cannot
    match, so the account's events are read once for all of them and matched
    on the session issuer's id. That scan costs one read of the account's
    events in the tracking period; a store index on the issuer would avoid it.
    """
    seen = _Usage()
    by_id = {(k.kind, e.entity_id): e for k, e in holders}
    for kind, entity in holders:
        if kind is not USER:
            continue
        for event in _account_events(store, account, since, user_arn=entity.arn):
            what = _what(event)
            # The id check drops the calls of an earlier user of the same name.
            if what is not None and _who(event) == ("user", entity.entity_id):
                seen.note(entity.entity_id, *what)
    if any(k is ROLE for k, _ in holders):
        for event in _account_events(store, account, since):
            who = _who(event)
            if who is None or who[0] != "role" or who not in by_id:
                continue
            what = _what(event)
            if what is not None:
                seen.note(who[1], *what)
    return seen


# --- building the report -------------------------------------------------------


def _iam_actions() -> list[str]:
    return sorted(protocol.get_service("iam").operation_names)


def _entity_info(kind: EntityKind, entity: Any) -> dict[str, Any]:
    return {
        "Arn": entity.arn,
        "Name": entity.name,
        "Type": kind.kind.upper(),
        "Id": entity.entity_id,
        "Path": entity.path,
    }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else lookup.iso(at)


def build_report(
    store: Any,
    account: str,
    documents: list[str],
    holders: list[tuple[EntityKind, Any]],
    *,
    granularity: str,
    now: datetime,
) -> dict[str, Any]:
    """The stored form of a report: JSON-able, timestamps as ISO text."""
    used = _read_usage(store, account, holders, now - TRACKING_PERIOD)
    services: list[dict[str, Any]] = []
    entities: dict[str, list[dict[str, Any]]] = {}
    for ns in allowed_services(documents):
        per_entity = [(kind, e, used.service.get((e.entity_id, ns))) for kind, e in holders]
        # x[2] is not None in latest (the filter), which mypy cannot see
        # through the tuple: hence the index ignores below.
        latest = max(
            (x for x in per_entity if x[2] is not None),
            key=lambda x: x[2][0],  # type: ignore[index]
            default=None,
        )
        row: dict[str, Any] = {
            "ns": ns,
            "name": service_name(ns),
            "total": sum(1 for x in per_entity if x[2] is not None),
        }
        if latest is not None:
            row["last"] = _iso(latest[2][0])  # type: ignore[index]
            row["entity"] = latest[1].arn
            row["region"] = latest[2][1]  # type: ignore[index]
        if granularity == "ACTION_LEVEL" and ns in _ACTION_TRACKED:
            row["actions"] = _tracked_actions(documents, holders, used, ns)
        services.append(row)
        # Most recent first, never-used last (by name), as AWS sorts them.
        ordered = sorted(
            per_entity,
            key=lambda x: (x[2] is None, -(x[2][0].timestamp()) if x[2] else 0, x[1].name_key),
        )
        entities[ns] = [
            {"info": _entity_info(kind, e), "last": _iso(u[0]) if u else None}
            for kind, e, u in ordered
        ]
    return {"services": services, "entities": entities}


def _tracked_actions(
    documents: list[str], holders: list[tuple[EntityKind, Any]], used: _Usage, ns: str
) -> list[dict[str, Any]]:
    out = []
    for action in _iam_actions():
        if not allows_action(documents, ns, action.lower()):
            continue
        uses = [
            (e.arn, u)
            for _, e in holders
            if (u := used.action.get((e.entity_id, ns, action.lower()))) is not None
        ]
        # ActionName without the service prefix (unconfirmed against AWS).
        item: dict[str, Any] = {"name": action}
        if uses:
            arn, (at, region) = max(uses, key=lambda x: x[1][0])
            item.update(time=_iso(at), entity=arn, region=region)
        out.append(item)
    return out


# --- jobs --------------------------------------------------------------------------


def _new_job_id(ctx: CallContext) -> str:
    # A UUID (36 characters, the model's jobIDType), from the injectable RNG.
    return str(uuid.UUID(int=lookup.rng(ctx).getrandbits(128), version=4))


def _prune(tx: Any, account: str, now: datetime) -> None:
    jobs = sorted(tx.list(account, KIND), key=lambda j: j.created_at, reverse=True)
    for i, job in enumerate(jobs):
        if i >= MAX_JOBS_PER_ACCOUNT - 1 or now - job.created_at > JOB_RETENTION:
            tx.delete(account, KIND, job.name)


def generate_service_last_accessed_details(ctx: CallContext, params: Mapping[str, Any]) -> dict:
    arn = params["Arn"]
    granularity = params.get("Granularity") or "SERVICE_LEVEL"
    # Authorised on the entity's ARN before anything is looked up, so a
    # caller without permission learns nothing about what exists.
    lookup.authorize(ctx, "GenerateServiceLastAccessedDetails", arn, None)
    if granularity not in _GRANULARITIES:  # the protocol layer checks the enum too
        raise InvalidInput(f"Invalid granularity: {granularity}")
    rtype, documents, holders = _resolve(ctx, arn)
    report = build_report(
        ctx.store, ctx.account_id, documents, holders, granularity=granularity, now=ctx.now
    )
    job_id = _new_job_id(ctx)
    data = {
        "arn": arn,
        "type": rtype,
        "granularity": granularity,
        "created": lookup.iso(ctx.now),
        # Built synchronously: completed the moment it was created.
        "completed": lookup.iso(ctx.now),
        **report,
    }
    with ctx.store.transaction() as tx:
        _prune(tx, ctx.account_id, ctx.now)
        tx.insert(
            ctx.account_id,
            KIND,
            job_id,
            entity_id=f"job-{job_id}",
            arn=f"arn:aws:iam::{ctx.account_id}:access-advisor-job/{job_id}",
            path="/",
            data=data,
            now=ctx.now,
        )
    out = {"JobId": job_id}
    lookup.record_response(ctx, out)
    return out


def _job(ctx: CallContext, job_id: str) -> Any:
    job = ctx.store.get(ctx.account_id, KIND, job_id)
    if job is None or ctx.now - job.created_at > JOB_RETENTION:
        raise _job_not_found(job_id)
    return job


def _header(job: Any) -> dict[str, Any]:
    return {
        "JobStatus": "COMPLETED",
        "JobCreationDate": lookup.as_datetime(job.data["created"]),
        "JobCompletionDate": lookup.as_datetime(job.data["completed"]),
    }


def _service_output(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ServiceName": row["name"],
        "ServiceNamespace": row["ns"],
        "TotalAuthenticatedEntities": row["total"],
    }
    if row.get("last"):
        out["LastAuthenticated"] = lookup.as_datetime(row["last"])
        out["LastAuthenticatedEntity"] = row["entity"]
        if row.get("region"):
            out["LastAuthenticatedRegion"] = row["region"]
    if "actions" in row:
        actions = []
        for a in row["actions"]:
            item: dict[str, Any] = {"ActionName": a["name"]}
            if a.get("time"):
                item["LastAccessedTime"] = lookup.as_datetime(a["time"])
                item["LastAccessedEntity"] = a["entity"]
                if a.get("region"):
                    item["LastAccessedRegion"] = a["region"]
            actions.append(item)
        out["TrackedActionsLastAccessed"] = actions
    return out


def get_service_last_accessed_details(ctx: CallContext, params: Mapping[str, Any]) -> dict:
    job_id = str(params["JobId"])
    # AWS's Service Authorization Reference lists no resource type for the
    # Get operations: they are authorised on "*".
    lookup.authorize(ctx, "GetServiceLastAccessedDetails", "*", None)
    job = _job(ctx, job_id)
    # Sorted by service namespace, as AWS documents.
    page, extra = paginate(job.data["services"], params, key=lambda r: r["ns"])
    return {
        **_header(job),
        "JobType": job.data["granularity"],
        "ServicesLastAccessed": [_service_output(r) for r in page],
        **extra,
    }


def get_service_last_accessed_details_with_entities(
    ctx: CallContext, params: Mapping[str, Any]
) -> dict:
    job_id = str(params["JobId"])
    namespace = str(params["ServiceNamespace"]).lower()
    lookup.authorize(ctx, "GetServiceLastAccessedDetailsWithEntities", "*", None)
    job = _job(ctx, job_id)
    # A namespace the report does not cover lists no entity (unconfirmed
    # against AWS, which may answer InvalidInput instead).
    rows = job.data["entities"].get(namespace) or []
    # Stored in report order (most recent first); page on that position.
    indexed = [(f"{i:06d}", r) for i, r in enumerate(rows)]
    page, extra = paginate(indexed, params, key=lambda ir: ir[0])
    details = []
    for _, r in page:
        item: dict[str, Any] = {"EntityInfo": dict(r["info"])}
        if r.get("last"):
            item["LastAuthenticated"] = lookup.as_datetime(r["last"])
        details.append(item)
    return {**_header(job), "EntityDetailsList": details, **extra}


HANDLERS: dict[str, Callable[..., Any]] = {
    "GenerateServiceLastAccessedDetails": generate_service_last_accessed_details,
    "GetServiceLastAccessedDetails": get_service_last_accessed_details,
    "GetServiceLastAccessedDetailsWithEntities": get_service_last_accessed_details_with_entities,
}
