"""Compiled policies: statements as closures, indexed by action.

``compile_policy`` turns a validated :class:`PolicyDocument` into closures
(action, resource, principal and condition matchers) and indexes statements by
the service prefix of their actions: exact actions in one table, ``svc:*``-like
patterns per service, and ``NotAction`` / wildcard-service statements in a
catch-all bucket. Per action the candidate statements are computed once and
cached, so evaluation cost grows with the statements that can match the action.
``compile_cached`` parses and compiles a policy text once (LRU-bounded).

The decision over a set of compiled policies is :mod:`rolegate.policy.evaluate`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Any

from rolegate import arn as arnlib
from rolegate.policy import match as m
from rolegate.policy.conditions import OperatorSpec, compile_condition, split_operator
from rolegate.policy.document import Effect, PolicyDocument, PolicyKind, Statement, parse_policy
from rolegate.policy.variables import Var, parse_resource_template, parse_template

__all__ = [
    "COMPILE_CACHE_MAX",
    "MatchedStatement",
    "CompiledStatement",
    "CompiledPolicy",
    "compile_policy",
    "compile_cached",
]


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
