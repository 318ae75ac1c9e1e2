"""Compiled policies and the authorisation decision.

``compile_policy`` turns a validated :class:`PolicyDocument` into closures
(action, resource, principal and condition matchers) and indexes statements by
the service prefix of their actions: exact actions in one table, ``svc:*``-like
patterns per service, and ``NotAction`` / wildcard-service statements in a
catch-all bucket. Per action the candidate statements are computed once and
cached, so evaluation cost grows with the statements that can match the action.

``evaluate`` follows reference §4.5 / AWS "Policy evaluation logic"; the naive
transcription in :mod:`rolegate.policy.reference` is checked against it by a
property test. Context keys are lower-cased once, in :class:`Request`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from threading import Lock
from typing import Any, NamedTuple

from rolegate import arn as arnlib
from rolegate.policy import match as m
from rolegate.policy.conditions import OperatorSpec, compile_condition, split_operator
from rolegate.policy.document import Effect, PolicyDocument, PolicyKind, Statement, parse_policy
from rolegate.policy.variables import Var, parse_resource_template, parse_template

__all__ = [
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


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    policy_id: str
    source_type: str
    index: int
    sid: str | None
    effect: str  # "Allow" | "Deny"
    category: str = ""  # identity resource boundary session scp: the role of the policy in the set

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id,
            "source_type": self.source_type,
            "index": self.index,
            "sid": self.sid,
            "effect": self.effect,
        }


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


# --- compilation ------------------------------------------------------------

PrincipalFn = Callable[[m.PrincipalInfo, Mapping[str, Any]], "int | None"]


def _compile_principal(st: Statement) -> PrincipalFn | None:
    p = st.principal or st.not_principal
    if p is None:
        return None
    wildcard = p.wildcard
    accounts: set[str] = set()
    exact: set[str] = set()  # user / session / federated-user ARNs
    roles: set[str] = set()
    services: set[str] = set()
    federated: set[str] = set()
    unique_ids: set[str] = set()
    for t, v in p.entries:
        if t == "AWS":
            if arnlib.is_account_id(v):
                accounts.add(v)
                continue
            a = arnlib.try_parse(v)
            if a is None:
                if v[:4] in ("AIDA", "AROA"):
                    unique_ids.add(v)
                continue
            if a.service == "iam" and a.resource == "root":
                accounts.add(a.account)
            elif a.service == "iam" and a.resource.startswith("role/"):
                roles.add(v)
            else:
                exact.add(v)
        elif t == "Service":
            services.add(v.lower())
        elif t == "Federated":
            federated.add(v)
        # CanonicalUser: S3 legacy, never matches here

    def named(pi: m.PrincipalInfo, ctx: Mapping[str, Any]) -> int | None:
        if wildcard:
            return m.DIRECT
        kind = pi.kind
        if kind == "anonymous":
            return None
        if kind == "service":
            if pi.arn.lower() in services or pi.arn in federated:
                return m.DIRECT
            return None
        if kind == "federated":
            return m.DIRECT if pi.arn in federated else None
        if pi.arn in exact:
            return m.DIRECT
        if kind == "assumed-role" and pi.role_arn is not None and pi.role_arn in roles:
            return m.ROLE
        if kind == "role" and pi.arn in roles:
            return m.ROLE
        if unique_ids:
            uid = ctx.get("aws:userid")
            if isinstance(uid, str):
                if uid in unique_ids:
                    return m.DIRECT
                if uid.partition(":")[0] in unique_ids and kind == "assumed-role":
                    return m.ROLE
        if pi.account is not None and pi.account in accounts and kind != "anonymous":
            return m.ACCOUNT
        return None

    if st.not_principal is not None:
        # AWS: a principal escapes a NotPrincipal statement only when it and every
        # principal it belongs to are listed (account; role and session for sessions).

        def excluded(pi: m.PrincipalInfo) -> bool:
            if wildcard:
                return True
            kind = pi.kind
            if kind == "anonymous":
                return False
            if kind == "service":
                return pi.arn.lower() in services or pi.arn in federated
            if kind == "federated":
                return pi.arn in federated
            if pi.account is None or pi.account not in accounts:
                return False
            if kind == "root":
                return True
            if kind == "assumed-role":
                return pi.role_arn in roles and pi.arn in exact
            if kind == "role":
                return pi.arn in roles
            return pi.arn in exact

        def not_named(pi: m.PrincipalInfo, ctx: Mapping[str, Any]) -> int | None:
            return None if excluded(pi) else m.ACCOUNT

        return not_named
    return named


class CompiledStatement:
    """One statement as closures. ``applies`` is evaluated after the action matched."""

    __slots__ = (
        "index",
        "sid",
        "deny",
        "action_match",
        "resource_match",
        "principal_match",
        "conditions",
        "condition_keys",
        "matched",
        "check",
        "actions",
        "not_action",
        "not_principal_deny",
        "statement",
    )

    def __init__(
        self, st: Statement, *, variables: bool, policy_id: str, source_type: str, category: str
    ) -> None:
        self.statement = st
        self.index = st.index
        self.sid = st.sid
        self.deny = st.effect is Effect.DENY
        self.not_action = st.not_action is not None
        self.actions = tuple(
            a.lower() for a in (st.action if st.action is not None else st.not_action or ())
        )
        matchers = [m.compile_action(a) for a in self.actions]
        if len(matchers) == 1:
            one = matchers[0]
            am = one
        else:

            def am(action: str, _ms: tuple[m.Matcher, ...] = tuple(matchers)) -> bool:
                for f in _ms:  # noqa: SIM110 - a loop beats any(genexpr) on the hot path
                    if f(action):
                        return True
                return False

        if self.not_action:

            def not_am(a: str, _am: m.Matcher = am) -> bool:
                return not _am(a)

            self.action_match: Callable[[str], bool] = not_am
        else:
            self.action_match = am
        self.resource_match = _compile_resources(st, variables)
        self.principal_match = _compile_principal(st)
        self.not_principal_deny = self.deny and st.not_principal is not None
        self.conditions = tuple(
            compile_condition(
                *_operator(c.operator),
                c.key_lower,
                c.values,
                variables,
            )
            for c in st.conditions
        )
        keys = [c.key for c in st.conditions]
        for c in st.conditions:
            for v in c.values:
                for piece in parse_template(v, variables=variables and c.spec.variables):
                    if isinstance(piece, Var):
                        keys.append(piece.key)
        self.condition_keys = tuple(dict.fromkeys(keys))
        self.matched = MatchedStatement(
            policy_id, source_type, st.index, st.sid, st.effect.value, category
        )
        self.check = _make_check(self.resource_match, self.conditions)


Check = Callable[[str, Mapping[str, Any]], bool]


def _always(resource: str, ctx: Mapping[str, Any]) -> bool:
    return True


def _make_check(rm: Check | None, conds: tuple[Callable[[Mapping[str, Any]], bool], ...]) -> Check:
    """One closure: resource element and every condition (the action already matched)."""
    if rm is None:
        rm = _always
    if not conds:
        return rm
    if len(conds) == 1:
        c0 = conds[0]
        if rm is _always:
            return lambda r, ctx: c0(ctx)
        return lambda r, ctx: rm(r, ctx) and c0(ctx)
    if len(conds) == 2:
        c0, c1 = conds
        return lambda r, ctx: rm(r, ctx) and c0(ctx) and c1(ctx)

    def check(r: str, ctx: Mapping[str, Any]) -> bool:
        if not rm(r, ctx):
            return False
        for c in conds:  # noqa: SIM110 - hot path
            if not c(ctx):
                return False
        return True

    return check


def _operator(name: str) -> tuple[str | None, OperatorSpec, bool]:
    """split_operator() of an operator that parse_policy already accepted."""
    parts = split_operator(name)
    if parts is None:  # pragma: no cover - parse_policy rejects unknown operators
        raise TypeError(f"unknown condition operator {name!r}")
    return parts


def _compile_resources(
    st: Statement, variables: bool
) -> Callable[[str, Mapping[str, Any]], bool] | None:
    """None when the statement has no resource element (trust policies): it matches the role itself."""
    patterns = st.resource if st.resource is not None else st.not_resource
    if patterns is None:
        return None
    negate = st.not_resource is not None
    if "*" in patterns:
        return (lambda r, ctx: False) if negate else (lambda r, ctx: True)
    ms = []
    for p in patterns:
        t = parse_resource_template(p, variables=variables)
        ms.append(m.compile_template(t, arn_mode=True))
    if len(ms) == 1 and not negate:
        return ms[0]

    def match_any(
        r: str, ctx: Mapping[str, Any], _ms: tuple[m.ContextMatcher, ...] = tuple(ms)
    ) -> bool:
        for f in _ms:  # noqa: SIM110 - hot path
            if f(r, ctx):
                return True
        return False

    if negate:
        return lambda r, ctx: not match_any(r, ctx)
    return match_any


_CANDIDATE_CACHE_MAX = 1024


class CompiledPolicy:
    """A policy ready to evaluate many times. Immutable apart from an internal per-action cache."""

    __slots__ = (
        "document",
        "policy_id",
        "source_type",
        "kind",
        "statements",
        "_exact",
        "_by_service",
        "_catch_all",
        "_cache",
        "_fast",
        "__weakref__",
    )

    def __init__(self, document: PolicyDocument, *, policy_id: str, source_type: str) -> None:
        self.document = document
        self.policy_id = policy_id
        self.source_type = source_type
        self.kind = document.kind
        category = _CATEGORY.get(document.kind, str(document.kind))
        variables = document.variables
        self.statements = tuple(
            CompiledStatement(
                st,
                variables=variables,
                policy_id=policy_id,
                source_type=source_type,
                category=category,
            )
            for st in document.statements
        )
        exact: dict[str, list[CompiledStatement]] = {}
        by_service: dict[str, list[CompiledStatement]] = {}
        catch_all: list[CompiledStatement] = []
        for cs in self.statements:
            if cs.not_action:
                catch_all.append(cs)
                continue
            placed_all = False
            for a in cs.actions:
                svc, _, name = a.partition(":")
                if a == "*" or not svc or "*" in svc or "?" in svc:
                    placed_all = True
                elif "*" in name or "?" in name:
                    by_service.setdefault(svc, []).append(cs)
                else:
                    exact.setdefault(a, []).append(cs)
            if placed_all:
                catch_all.append(cs)
        self._exact = exact
        self._by_service = by_service
        self._catch_all = tuple(catch_all)
        self._cache: dict[
            str, tuple[tuple[CompiledStatement, ...], tuple[CompiledStatement, ...]]
        ] = {}
        # the same, as (check, matched) pairs for the hot loop
        self._fast: dict[str, tuple[tuple[tuple[Check, MatchedStatement], ...], ...]] = {}

    def checks(self, action: str) -> tuple[tuple[tuple[Check, MatchedStatement], ...], ...]:
        """(deny, allow) pairs of (check, matched) for ``action`` (lower-cased)."""
        hit = self._fast.get(action)
        if hit is None:
            self.candidates(action)
            hit = self._fast[action]
        return hit

    def candidates(
        self, action: str
    ) -> tuple[tuple[CompiledStatement, ...], tuple[CompiledStatement, ...]]:
        """(deny statements, allow statements) whose action element matches ``action`` (lower-cased)."""
        hit = self._cache.get(action)
        if hit is not None:
            return hit
        pool = {id(cs): cs for cs in self._exact.get(action, ())}
        svc = action.partition(":")[0]
        for cs in self._by_service.get(svc, ()):
            pool[id(cs)] = cs
        for cs in self._catch_all:
            pool[id(cs)] = cs
        chosen = sorted(
            (cs for cs in pool.values() if cs.action_match(action)), key=lambda cs: cs.index
        )
        result = (tuple(cs for cs in chosen if cs.deny), tuple(cs for cs in chosen if not cs.deny))
        fast = (
            tuple((cs.check, cs.matched) for cs in result[0]),
            tuple((cs.check, cs.matched) for cs in result[1]),
        )
        if len(self._fast) >= _CANDIDATE_CACHE_MAX:
            self._fast.clear()
        self._fast[action] = fast
        if len(self._cache) >= _CANDIDATE_CACHE_MAX:
            self._cache.clear()
        self._cache[action] = result
        return result

    def __repr__(self) -> str:
        return f"CompiledPolicy({self.policy_id!r}, {self.kind.value}, {len(self.statements)} statements)"


_CATEGORY = {
    PolicyKind.IDENTITY: "identity",
    PolicyKind.RESOURCE: "resource",
    PolicyKind.TRUST: "resource",
    PolicyKind.BOUNDARY: "boundary",
    PolicyKind.SESSION: "session",
    PolicyKind.SCP: "scp",
}


def compile_policy(doc: PolicyDocument, *, policy_id: str, source_type: str) -> CompiledPolicy:
    return CompiledPolicy(doc, policy_id=policy_id, source_type=source_type)


_cache_lock = Lock()
_compiled_cache: OrderedDict[tuple[str, str, str, str], CompiledPolicy] = OrderedDict()
COMPILE_CACHE_MAX = 4096


def compile_cached(
    text: str, kind: PolicyKind | str, policy_id: str, source_type: str
) -> CompiledPolicy:
    """Parse + compile ``text`` once per (kind, text, policy_id, source_type); LRU-bounded.

    Raises MalformedPolicyDocument like :func:`parse_policy` (failures are not cached).
    """
    kind = PolicyKind(kind)
    key = (kind.value, text, policy_id, source_type)
    with _cache_lock:
        hit = _compiled_cache.get(key)
        if hit is not None:
            _compiled_cache.move_to_end(key)
            return hit
    compiled = compile_policy(
        parse_policy(text, kind), policy_id=policy_id, source_type=source_type
    )
    with _cache_lock:
        _compiled_cache[key] = compiled
        _compiled_cache.move_to_end(key)
        while len(_compiled_cache) > COMPILE_CACHE_MAX:
            _compiled_cache.popitem(last=False)
    return compiled


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
