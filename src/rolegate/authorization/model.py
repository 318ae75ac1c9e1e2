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
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

PARTITION = "aws"

# What a stored lookup is keyed by: an entity kind of the store.
EntityKind = Literal["user", "group", "role", "instance-profile", "server-certificate"]
# How a Check is evaluated.
#   identity: the caller's policies (identity ∩ boundary ∩ session, SCPs) on the resource
#   trust:    as identity, with the resource's trust policy as a resource policy that
#             must allow too (AssumeRole, AssumeRoot)
#   trust-only: the trust policy alone, for an unsigned caller (SAML / web identity)
Evaluation = Literal["identity", "trust", "trust-only"]
ExtraKind = Literal[
    "trust-policy",
    "pass-role",
    "mfa",
    "unsigned",
    "no-authorisation",
    "long-term-credentials",
    "organization",
]


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller, as much of it as the table reads."""

    account: str
    kind: str  # root | user | assumed-role | federated-user | anonymous
    arn: str = ""
    name: str | None = None  # the IAM user's name for kind "user"
    source_identity: str | None = None  # carried by the caller's session


@dataclass(frozen=True, slots=True)
class RequestView:
    """One decoded request: its parameters (as boto3 would pass them) and its caller."""

    params: Mapping[str, Any]
    caller: Caller
    # What a verified federation token carries ("session-tags", "source-identity").
    token: frozenset[str] = frozenset()


class Resolver(Protocol):
    """Stored facts an ARN or a condition key needs; the pipeline implements
    it over the store (and its cache). ``None``: not stored (the builder then
    uses the documented default, e.g. the path ``/``)."""

    def path(self, kind: EntityKind, account: str, name: str) -> str | None:
        """The stored path (``/``, ``/a/b/``) of the named entity."""

    def tags(self, kind: str, account: str, key: str) -> Mapping[str, str] | None:
        """The tags of an entity (kind as in :class:`EntityKind`, or ``policy``,
        ``mfa``, ``oidc-provider``, ``saml-provider`` keyed by ARN)."""

    def boundary(self, kind: EntityKind, account: str, name: str) -> str | None:
        """The permissions boundary ARN of a user or role."""

    def access_key_owner(self, account: str, access_key_id: str) -> str | None:
        """The owning user of an access key as ``PATH + NAME`` (``/dev/alice``)."""

    def service_linked_role_name(self, service: str, suffix: str | None) -> str | None:
        """The role name AWS gives ``service``'s service-linked role."""

    def organization(self, account: str) -> tuple[str, str] | None:
        """(management account, organization id) of the account's organization."""


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Param:
    """A request member's value; ``default`` when absent or empty."""

    member: str
    default: str | None = None


@dataclass(frozen=True, slots=True)
class NameOrCaller:
    """A user name member, else the signing IAM user's name (GetUser, ...)."""

    member: str = "UserName"


@dataclass(frozen=True, slots=True)
class CallerAccount:
    pass


@dataclass(frozen=True, slots=True)
class CallerArn:
    pass


@dataclass(frozen=True, slots=True)
class Const:
    value: str


@dataclass(frozen=True, slots=True)
class Stored:
    """The stored path of the entity named by ``by`` (the pipeline resolves it)."""

    kind: EntityKind
    by: Param | NameOrCaller


@dataclass(frozen=True, slots=True)
class Either:
    """``first`` when the request carries it, else ``otherwise`` (a rename's
    new name or path, else the current one)."""

    first: Param
    otherwise: Param | Stored


@dataclass(frozen=True, slots=True)
class PathName:
    """A ``...NameWithPath`` ARN variable: the path without its leading ``/``,
    then the name (``/a/`` + ``r`` -> ``a/r``). ``path`` is a request member
    (Create*, default ``/``) or a stored path."""

    name: Param | NameOrCaller | Const | Either
    path: Param | Stored | Either = Param("Path", "/")


@dataclass(frozen=True, slots=True)
class PathPrefix:
    """A List* path prefix (``/a/`` -> ``a/``): the ARN of everything under it."""

    member: str = "PathPrefix"


@dataclass(frozen=True, slots=True)
class OidcName:
    """An OIDC provider ARN's name: the issuer URL without its scheme."""

    member: str = "Url"


@dataclass(frozen=True, slots=True)
class ServiceLinkedRoleName:
    """The role name of a service's service-linked role (a pure mapping the
    pipeline's resolver owns)."""

    service: str = "AWSServiceName"
    suffix: str = "CustomSuffix"


@dataclass(frozen=True, slots=True)
class AccessKeyOwner:
    """The owner of an access key, as ``PATH-without-slash + NAME``; ``""`` when unknown."""

    member: str = "AccessKeyId"


@dataclass(frozen=True, slots=True)
class OrgPart:
    """The caller's organization: its id or its management account."""

    part: Literal["id", "management"]


@dataclass(frozen=True, slots=True)
class IdAfter:
    """A member's value without its ``prefix`` (``r-abcd`` -> ``abcd``)."""

    member: str
    prefix: str


Value = (
    Param
    | NameOrCaller
    | CallerAccount
    | CallerArn
    | Const
    | Stored
    | Either
    | PathName
    | PathPrefix
    | OidcName
    | ServiceLinkedRoleName
    | AccessKeyOwner
    | OrgPart
    | IdAfter
)


# --------------------------------------------------------------------------- predicates


@dataclass(frozen=True, slots=True)
class Given:
    """The request carries ``member`` (present, not empty)."""

    member: str


@dataclass(frozen=True, slots=True)
class Prefixed:
    """``member`` starts with ``prefix``."""

    member: str
    prefix: str


@dataclass(frozen=True, slots=True)
class CallerIs:
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CallerHasSourceIdentity:
    pass


@dataclass(frozen=True, slots=True)
class TokenCarries:
    """The verified SAML assertion / JWT carries this (known after verification)."""

    what: Literal["session-tags", "source-identity"]


@dataclass(frozen=True, slots=True)
class Not:
    of: Predicate


@dataclass(frozen=True, slots=True)
class AllOf:
    of: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    of: tuple[Predicate, ...]


Predicate = (
    Given | Prefixed | CallerIs | CallerHasSourceIdentity | TokenCarries | Not | AllOf | AnyOf
)


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True, slots=True)
class Resource:
    """How one resource ARN is built.

    ``type`` is the Service Authorization Reference's resource type (``role``)
    of the action's service, ``""`` for ``*``. The ARN is ``arn_from`` (a
    request member holding an ARN, verbatim; ``each``: a list of them, one
    ARN per item), else the reference's ARN format for ``type`` (or
    ``template`` where rolegate documents a difference) with its variables
    bound by ``values``. ``when``: of a Check's resources, the first whose
    ``when`` holds is used.
    """

    type: str
    values: tuple[tuple[str, Value], ...] = ()
    arn_from: str | None = None
    each: bool = False
    template: str | None = None
    when: Predicate | None = None


STAR = Resource("")


@dataclass(frozen=True, slots=True)
class RequestTags:
    """``aws:RequestTag/${TagKey}`` for each tag of a ``[{Key, Value}]`` member."""

    member: str = "Tags"


@dataclass(frozen=True, slots=True)
class TagKeys:
    """``aws:TagKeys``: the keys of a Tags member, or a list of keys (Untag*)."""

    member: str = "Tags"
    keys_only: bool = False


@dataclass(frozen=True, slots=True)
class ResourceTags:
    """``aws:ResourceTag/${TagKey}`` (and ``iam:ResourceTag/...`` when
    ``also_iam``) of the stored target, named by ``by``."""

    kind: str
    by: Param | NameOrCaller
    also_iam: bool = False


@dataclass(frozen=True, slots=True)
class StoredBoundary:
    """``iam:PermissionsBoundary``: the stored boundary of the target user/role."""

    kind: EntityKind
    by: Param | NameOrCaller


@dataclass(frozen=True, slots=True)
class ListOf:
    """A list member's values, as a multi-valued key."""

    member: str


ConditionValue = Value | RequestTags | TagKeys | ResourceTags | StoredBoundary | ListOf


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition key the request supplies. ``key`` is spelled as the
    reference lists it (``aws:RequestTag/${TagKey}``); ``when``: only then."""

    key: str
    value: ConditionValue
    when: Predicate | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One action to authorise, on its resource(s), with its condition keys."""

    action: str
    resources: tuple[Resource, ...] = (STAR,)
    conditions: tuple[Condition, ...] = ()
    when: Predicate | None = None
    evaluation: Evaluation = "identity"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Extra:
    """What the decision needs beyond the Checks' policy evaluation."""

    kind: ExtraKind
    detail: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OperationAuth:
    service: str
    operation: str
    checks: tuple[Check, ...]
    signed: bool = True
    extra: tuple[Extra, ...] = ()
    # Where the entry differs from the Service Authorization Reference, and why.
    sar_differences: tuple[tuple[str, str], ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.action for c in self.checks))


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
