"""The authorisation decision over a set of compiled policies.

``evaluate`` follows reference §4.5 / AWS "Policy evaluation logic"; the naive
transcription in :mod:`rolegate.policy.reference` is checked against it by a
property test. Context keys are lower-cased once, in :class:`Request`.
Policies are compiled (statements as closures, indexed by action) in
:mod:`rolegate.policy.compiled`; its public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from rolegate.policy import match as m
from rolegate.policy.compiled import (
    COMPILE_CACHE_MAX,
    CompiledPolicy,
    CompiledStatement,
    MatchedStatement,
    compile_cached,
    compile_policy,
)

__all__ = [
    "COMPILE_CACHE_MAX",
    "Decision",
    "MatchedStatement",
    "EvaluationResult",
    "CompiledStatement",
    "CompiledPolicy",
    "PolicySet",
    "Request",
    "compile_policy",
    "compile_cached",
    "evaluate",
    "normalize_context",
    "resource_account",
]


class Decision(StrEnum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


class EvaluationResult(NamedTuple):
    """The decision, the statements that produced it, and per-step facts (immutable).

    ``reason`` names the step that denied implicitly (``scp``, ``resource``,
    ``identity``, ``boundary``, ``session``), ``"deny"`` for an explicit deny,
    None when allowed. ``allowed_by_*`` are None where the step did not apply.
    ``missing_context_keys`` is filled only with ``collect_missing_keys=True``.
    (A NamedTuple rather than a frozen dataclass: it is built on every
    decision, and this is the cheapest immutable record CPython offers.)
    """

    decision: Decision
    matched: tuple[MatchedStatement, ...] = ()
    reason: str | None = None
    allowed_by_organizations: bool | None = None
    allowed_by_boundary: bool | None = None
    allowed_by_session: bool | None = None
    allowed_by_resource: bool | None = None
    allowed_by_identity: bool | None = None
    missing_context_keys: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.value, "matched": [s.as_dict() for s in self.matched]}


# --- requests ---------------------------------------------------------------


def normalize_context(context: Mapping[str, Any]) -> dict[str, str | tuple[str, ...]]:
    """Lower-case keys; values become ``str`` or ``tuple[str, ...]`` (booleans as true/false)."""
    out: dict[str, str | tuple[str, ...]] = {}
    for k, v in context.items():
        if v.__class__ is str:
            out[k.lower() if k.__class__ is str else str(k).lower()] = v
        elif v is not None:
            out[str(k).lower()] = _norm_value(v)
    return out


def _scalar(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _norm_value(v: Any) -> str | tuple[str, ...]:
    if isinstance(v, str):
        return v
    if isinstance(v, list | tuple | set | frozenset):
        return tuple(_scalar(x) for x in v if x is not None)
    return _scalar(v)


def resource_account(resource: str, principal_account: str | None) -> str | None:
    """The resource's account: the ARN's account field if it is an account id, else the caller's."""
    parts = resource.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        acct = parts[4]
        if len(acct) == 12 and acct.isdigit():
            return acct
    return principal_account


@dataclass(frozen=True, slots=True)
class Request:
    principal: str
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)
    principal_account: str | None = None
    principal_role_arn: str | None = None
    # derived once
    ctx: dict[str, str | tuple[str, ...]] = field(init=False, repr=False, compare=False)
    action_lower: str = field(init=False, repr=False, compare=False)
    pinfo: m.PrincipalInfo = field(init=False, repr=False, compare=False)
    resource_account: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("principal", "action", "resource"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"Request.{name} must be a string")
        ctx = normalize_context(self.context)
        object.__setattr__(self, "ctx", ctx)
        object.__setattr__(self, "action_lower", self.action.lower())
        pinfo = m.principal_info(
            self.principal, self.principal_account, self.principal_role_arn, ctx
        )
        object.__setattr__(self, "pinfo", pinfo)
        object.__setattr__(self, "resource_account", resource_account(self.resource, pinfo.account))


# --- policy sets --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Everything evaluation consults. ``session=None`` means no session policies.

    ``scp`` is either one level (a sequence of CompiledPolicy: an Allow in any
    suffices) or a sequence of levels (each a sequence; every level must allow).
    """

    identity: tuple[CompiledPolicy, ...] = ()
    resource: CompiledPolicy | None = None
    boundary: CompiledPolicy | None = None
    session: tuple[CompiledPolicy, ...] | None = None
    scp: Sequence[Any] = ()
    scp_levels: tuple[tuple[CompiledPolicy, ...], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "identity", tuple(self.identity))
        if self.session is not None:
            object.__setattr__(self, "session", tuple(self.session))
        scp = tuple(self.scp)
        object.__setattr__(self, "scp", scp)
        if not scp:
            levels: tuple[tuple[CompiledPolicy, ...], ...] = ()
        elif all(isinstance(x, CompiledPolicy) for x in scp):
            levels = (scp,)
        elif all(not isinstance(x, CompiledPolicy | str) and isinstance(x, Sequence) for x in scp):
            levels = tuple(tuple(level) for level in scp)
            for level in levels:
                if not all(isinstance(x, CompiledPolicy) for x in level):
                    raise TypeError("PolicySet.scp levels must hold CompiledPolicy objects")
        else:
            raise TypeError("PolicySet.scp must be CompiledPolicy objects or sequences of them")
        object.__setattr__(self, "scp_levels", levels)
        for p in (*self.identity, *(self.session or ()), *(x for lv in levels for x in lv)):
            if not isinstance(p, CompiledPolicy):
                raise TypeError(f"PolicySet expects CompiledPolicy objects, got {type(p).__name__}")
        for one in (self.resource, self.boundary):
            if one is not None and not isinstance(one, CompiledPolicy):
                raise TypeError(
                    f"PolicySet expects CompiledPolicy objects, got {type(one).__name__}"
                )


# --- evaluation ---------------------------------------------------------------

_NON_CALLERS = frozenset({"service", "federated", "anonymous"})


def _scan(
    policies: Sequence[CompiledPolicy],
    action: str,
    resource: str,
    ctx: Mapping[str, Any],
    denies: list[MatchedStatement],
) -> list[MatchedStatement]:
    """Append applying Deny statements to ``denies``; return applying Allow statements."""
    allows: list[MatchedStatement] = []
    for cp in policies:
        hit = cp._fast.get(action)
        d, a = hit if hit is not None else cp.checks(action)
        for check, ms in d:
            if check(resource, ctx):
                denies.append(ms)
        for check, ms in a:
            if check(resource, ctx):
                allows.append(ms)
    return allows


def _scan_resource(
    cp: CompiledPolicy,
    action: str,
    resource: str,
    ctx: Mapping[str, Any],
    pinfo: m.PrincipalInfo,
    denies: list[MatchedStatement],
    bounded: bool,
) -> tuple[list[MatchedStatement], int]:
    """``bounded``: the caller has a permissions boundary (IAM User Guide, NotPrincipal:
    "The NotPrincipal element with a Deny effect will always deny any IAM principal
    that has a permissions boundary policy attached, regardless of the values
    specified in the NotPrincipal element")."""
    allows: list[MatchedStatement] = []
    best = -1
    d, a = cp.candidates(action)
    for group, deny in ((d, True), (a, False)):
        for cs in group:
            pm = cs.principal_match
            if bounded and cs.not_principal_deny:
                cls: int | None = m.ACCOUNT
            else:
                cls = pm(pinfo, ctx) if pm is not None else m.DIRECT
            if cls is None:
                continue
            if cs.check(resource, ctx):
                if deny:
                    denies.append(cs.matched)
                else:
                    allows.append(cs.matched)
                    if cls > best:
                        best = cls
    return allows, best


def _missing_keys(ps: PolicySet, req: Request) -> tuple[str, ...]:
    ctx = req.ctx
    out: dict[str, None] = {}
    policies = [*ps.identity, *(ps.session or ()), *(x for lv in ps.scp_levels for x in lv)]
    if ps.resource is not None:
        policies.append(ps.resource)
    if ps.boundary is not None:
        policies.append(ps.boundary)
    for cp in policies:
        d, a = cp.candidates(req.action_lower)
        for cs in (*d, *a):
            rm = cs.resource_match
            if rm is not None and not rm(req.resource, ctx):
                continue
            for k in cs.condition_keys:
                if k.lower() not in ctx:
                    out.setdefault(k, None)
    return tuple(out)


def evaluate(
    policy_set: PolicySet,
    request: Request,
    *,
    resource_must_allow: bool = False,
    collect_missing_keys: bool = False,
) -> EvaluationResult:
    """The decision for ``request`` under ``policy_set`` (reference §4.5)."""
    ps = policy_set
    action = request.action_lower
    resource = request.resource
    ctx = request.ctx
    pinfo = request.pinfo
    denies: list[MatchedStatement] = []

    id_allows = _scan(ps.identity, action, resource, ctx, denies) if ps.identity else []
    b_allows = (
        _scan((ps.boundary,), action, resource, ctx, denies) if ps.boundary is not None else None
    )
    s_allows = _scan(ps.session, action, resource, ctx, denies) if ps.session is not None else None
    kind = pinfo.kind
    # SCPs restrict the IAM principals of member accounts: neither AWS service
    # principals nor service-linked roles ("SCPs don't affect service-linked
    # roles", Organizations User Guide, "Service control policies").
    scp_applies = kind != "service" and not pinfo.service_linked
    scp_allows: list[list[MatchedStatement]] = (
        [_scan(lv, action, resource, ctx, denies) for lv in ps.scp_levels] if scp_applies else []
    )
    if ps.resource is not None:
        r_allows, r_class = _scan_resource(
            ps.resource, action, resource, ctx, pinfo, denies, ps.boundary is not None
        )
    else:
        r_allows, r_class = [], -1

    missing = _missing_keys(ps, request) if collect_missing_keys else ()
    callers = kind not in _NON_CALLERS
    org_ok = (all(scp_allows) if scp_allows else None) if callers else None
    b_ok = bool(b_allows) if b_allows is not None else None
    r_ok = bool(r_allows) if ps.resource is not None else None
    id_ok = bool(id_allows)
    if s_allows is not None:
        s_ok: bool | None = bool(s_allows)  # session policies present: they must allow
    elif kind == "federated-user":
        s_ok = False
    else:
        s_ok = None
    facts = (org_ok, b_ok, s_ok, r_ok, id_ok, missing)

    if denies:
        return EvaluationResult(Decision.EXPLICIT_DENY, tuple(denies), "deny", *facts)

    def deny(reason: str) -> EvaluationResult:
        return EvaluationResult(Decision.IMPLICIT_DENY, (), reason, *facts)

    if org_ok is False:
        return deny("scp")
    scp_matched = [x for lv in scp_allows for x in lv] if callers else []
    if not callers:
        # Service and federated principals: judged on the resource (trust) policy alone.
        if r_allows:
            return EvaluationResult(Decision.ALLOW, tuple(r_allows), None, *facts)
        return deny("resource")
    pacct = pinfo.account
    racct = request.resource_account
    cross = pacct is not None and racct is not None and racct != pacct
    if (resource_must_allow or cross) and not r_allows:
        return deny("resource")
    if kind == "root":
        return EvaluationResult(Decision.ALLOW, (*scp_matched, *r_allows), None, *facts)
    if not cross and r_class == m.DIRECT:
        return EvaluationResult(Decision.ALLOW, (*scp_matched, *r_allows), None, *facts)
    role_grant = not cross and r_class == m.ROLE
    if not id_allows and not role_grant:
        return deny("identity")
    if b_allows is not None and not b_allows:
        return deny("boundary")
    if s_ok is False:
        return deny("session")
    matched = [*scp_matched]
    if r_allows and (cross or role_grant):
        matched.extend(r_allows)
    matched.extend(id_allows)
    if b_allows:
        matched.extend(b_allows)
    if s_allows:
        matched.extend(s_allows)
    return EvaluationResult(Decision.ALLOW, tuple(matched), None, *facts)
