"""The vocabulary of the authorisation table, and the pure builders that turn
one entry and one request into what to authorise.

An :class:`OperationAuth` says, for one served operation, which actions it
authorises (:class:`Check`), on which resource ARNs (:class:`Resource`,
built from the Service Authorization Reference's ARN format for the
resource type, its variables bound to request members), with which
condition keys taken from the request (:class:`Condition`), and what more
the decision needs (:class:`Extra`: a trust policy, MFA, ...).

Nothing here reads the store. Where an ARN or a condition key needs stored
data (a role's path for ``arn:aws:iam::ACCOUNT:role/PATH/NAME``, a user's
tags for ``aws:ResourceTag/*``) the entry names a :class:`Stored` lookup and
:func:`plan` asks a :class:`Resolver`, which the pipeline implements over the
store.

The vocabulary lives in :mod:`rolegate.authorization.vocabulary` and is
re-exported here; this module holds the builders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rolegate.authorization.vocabulary import (
    PARTITION,
    STAR,
    AccessKeyOwner,
    AllOf,
    AnyOf,
    Caller,
    CallerAccount,
    CallerArn,
    CallerHasSourceIdentity,
    CallerIs,
    Check,
    Condition,
    ConditionValue,
    Const,
    Either,
    EntityKind,
    Evaluation,
    Extra,
    ExtraKind,
    Given,
    IdAfter,
    ListOf,
    NameOrCaller,
    Not,
    OidcName,
    OperationAuth,
    OrgPart,
    Param,
    PathName,
    PathPrefix,
    Predicate,
    Prefixed,
    RequestTags,
    RequestView,
    Resolver,
    Resource,
    ResourceTags,
    ServiceLinkedRoleName,
    Stored,
    StoredBoundary,
    TagKeys,
    TokenCarries,
    Value,
)

__all__ = [
    "AccessKeyOwner",
    "AllOf",
    "AnyOf",
    "Caller",
    "CallerAccount",
    "CallerArn",
    "CallerHasSourceIdentity",
    "CallerIs",
    "Check",
    "Condition",
    "ConditionValue",
    "Const",
    "Either",
    "EntityKind",
    "Evaluation",
    "Extra",
    "ExtraKind",
    "Given",
    "IdAfter",
    "ListOf",
    "NameOrCaller",
    "Not",
    "OidcName",
    "OperationAuth",
    "OrgPart",
    "PARTITION",
    "Param",
    "PathName",
    "PathPrefix",
    "Predicate",
    "Prefixed",
    "RequestTags",
    "RequestView",
    "Resolver",
    "Resource",
    "ResourceTags",
    "STAR",
    "ServiceLinkedRoleName",
    "Step",
    "Stored",
    "StoredBoundary",
    "TagKeys",
    "TokenCarries",
    "Unresolvable",
    "Value",
    "condition_values",
    "holds",
    "member",
    "plan",
    "render",
    "resource_arns",
    "value",
]


# --------------------------------------------------------------------------- builders


@dataclass(frozen=True, slots=True)
class Step:
    """One authorisation the pipeline performs: ``action`` on ``resource``
    with ``context`` (request-supplied condition keys only; the global keys
    come from the caller)."""

    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)
    evaluation: Evaluation = "identity"


class Unresolvable(Exception):
    """The request lacks what an ARN needs (e.g. no user name from a role
    session): the handler's validation answers it, not the authoriser."""


_VAR = re.compile(r"\$\{([A-Za-z]+)\}")


def holds(pred: Predicate | None, req: RequestView) -> bool:
    if pred is None:
        return True
    if isinstance(pred, Given):
        v = member(req, pred.member)
        return v is not None and v != "" and v != [] and v != {}
    if isinstance(pred, Prefixed):
        v = member(req, pred.member)
        return isinstance(v, str) and v.startswith(pred.prefix)
    if isinstance(pred, CallerIs):
        return req.caller.kind in pred.kinds
    if isinstance(pred, CallerHasSourceIdentity):
        return bool(req.caller.source_identity)
    if isinstance(pred, TokenCarries):
        return pred.what in req.token
    if isinstance(pred, Not):
        return not holds(pred.of, req)
    if isinstance(pred, AllOf):
        return all(holds(p, req) for p in pred.of)
    return any(holds(p, req) for p in pred.of)


def member(req: RequestView, name: str) -> Any:
    """A request member by its model name; ``A.b`` reaches into a structure."""
    v: Any = req.params
    for part in name.split("."):
        if not isinstance(v, Mapping):
            return None
        v = v.get(part)
    return v


def _param(req: RequestView, name: str, default: str | None = None) -> str | None:
    v = member(req, name)
    if v is None or v == "":
        return default
    return str(v)


def _name(req: RequestView, v: Param | NameOrCaller | Const | Either) -> str:
    if isinstance(v, Either):
        first = _param(req, v.first.member)
        if first is not None:
            return first
        if isinstance(v.otherwise, Stored):
            raise Unresolvable(v.first.member)
        return _name(req, v.otherwise)
    if isinstance(v, Const):
        return v.value
    if isinstance(v, Param):
        out = _param(req, v.member, v.default)
    else:
        out = _param(req, v.member)
        if out is None and req.caller.kind == "user":
            out = req.caller.name
    if out is None:
        raise Unresolvable(getattr(v, "member", ""))
    return out


def value(v: Value, req: RequestView, resolver: Resolver) -> str:
    """The text a Value stands for in this request."""
    account = req.caller.account
    if isinstance(v, Either):
        first = _param(req, v.first.member)
        return first if first is not None else value(v.otherwise, req, resolver)
    if isinstance(v, Param | NameOrCaller | Const):
        return _name(req, v)
    if isinstance(v, CallerAccount):
        return account
    if isinstance(v, CallerArn):
        return req.caller.arn
    if isinstance(v, Stored):
        return resolver.path(v.kind, account, _name(req, v.by)) or "/"
    if isinstance(v, PathName):
        path = value(v.path, req, resolver)
        return path[1:] + _name(req, v.name)
    if isinstance(v, PathPrefix):
        return (_param(req, v.member) or "/")[1:]
    if isinstance(v, OidcName):
        url = _name(req, Param(v.member))
        return url.split("://", 1)[-1].rstrip("/")
    if isinstance(v, ServiceLinkedRoleName):
        service = _name(req, Param(v.service))
        name = resolver.service_linked_role_name(service, _param(req, v.suffix))
        if name is None:
            raise Unresolvable(v.service)
        return name
    if isinstance(v, AccessKeyOwner):
        owner = resolver.access_key_owner(account, _name(req, Param(v.member)))
        return owner[1:] if owner else ""
    if isinstance(v, OrgPart):
        org = resolver.organization(account)
        if org is None:
            raise Unresolvable("organization")
        # The reference's ARNs spell o-${OrganizationId}: the id without its "o-".
        return org[1].removeprefix("o-") if v.part == "id" else org[0]
    text = _name(req, Param(v.member))
    return text[len(v.prefix) :] if text.startswith(v.prefix) else text


def render(template: str, values: Mapping[str, str]) -> str:
    """A reference ARN format with its ``${Var}`` replaced."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise KeyError(f"unbound ARN variable {name} in {template}")
        return values[name]

    return _VAR.sub(sub, template)


def resource_arns(
    res: Resource, req: RequestView, resolver: Resolver, formats: Mapping[str, str]
) -> tuple[str, ...]:
    """The ARN(s) one Resource names in this request (``formats``: the
    reference's ARN format per resource type of the action's service)."""
    if res.type == "" and res.arn_from is None and res.template is None:
        return ("*",)
    if res.arn_from is not None:
        v = req.params.get(res.arn_from)
        if res.each:
            return tuple(str(x) for x in (v or ()))
        if v is None or v == "":
            raise Unresolvable(res.arn_from)
        return (str(v),)
    template = res.template or formats[res.type]
    bound = {"Partition": PARTITION, "Account": req.caller.account}
    for var, v in res.values:
        bound[var] = value(v, req, resolver)
    return (render(template, bound),)


def _tags(req: RequestView, member: str) -> list[tuple[str, str]]:
    raw = req.params.get(member) or ()
    out = []
    for t in raw:
        if isinstance(t, Mapping) and "Key" in t:
            out.append((str(t["Key"]), str(t.get("Value", ""))))
    return out


def condition_values(cond: Condition, req: RequestView, resolver: Resolver) -> dict[str, Any]:
    """The condition keys (concrete names) one Condition supplies."""
    if not holds(cond.when, req):
        return {}
    v = cond.value
    account = req.caller.account
    if isinstance(v, RequestTags):
        return {f"aws:RequestTag/{k}": val for k, val in _tags(req, v.member)}
    if isinstance(v, TagKeys):
        if v.keys_only:
            keys = [str(k) for k in (req.params.get(v.member) or ())]
        else:
            keys = [k for k, _ in _tags(req, v.member)]
        return {cond.key: keys} if keys else {}
    if isinstance(v, ListOf):
        items = [str(x) for x in (req.params.get(v.member) or ())]
        return {cond.key: items} if items else {}
    if isinstance(v, ResourceTags):
        try:
            key = _name(req, v.by)
        except Unresolvable:
            return {}
        tags = resolver.tags(v.kind, account, key) or {}
        out: dict[str, Any] = {f"aws:ResourceTag/{k}": val for k, val in tags.items()}
        if v.also_iam:
            out.update({f"iam:ResourceTag/{k}": val for k, val in tags.items()})
        return out
    if isinstance(v, StoredBoundary):
        try:
            b = resolver.boundary(v.kind, account, _name(req, v.by))
        except Unresolvable:
            return {}
        return {cond.key: b} if b else {}
    try:
        text = value(v, req, resolver)
    except Unresolvable:
        return {}
    return {cond.key: text}


def plan(
    entry: OperationAuth,
    req: RequestView,
    resolver: Resolver,
    formats: Mapping[str, Mapping[str, str]],
) -> tuple[Step, ...]:
    """Every (action, resource, context) the request must be allowed, in
    order. ``formats``: per service prefix, the ARN format per resource type.
    Raises :class:`Unresolvable` when the request lacks what an ARN needs."""
    steps: list[Step] = []
    for check in entry.checks:
        if not holds(check.when, req):
            continue
        service = check.action.split(":", 1)[0]
        context: dict[str, Any] = {}
        for cond in check.conditions:
            context.update(condition_values(cond, req, resolver))
        arns: Sequence[str] = ()
        for res in check.resources:
            if holds(res.when, req):
                arns = resource_arns(res, req, resolver, formats.get(service, {}))
                break
        for arn in arns:
            step = Step(check.action, arn, context, check.evaluation)
            if all((s.action, s.resource) != (step.action, step.resource) for s in steps):
                steps.append(step)
    return tuple(steps)
