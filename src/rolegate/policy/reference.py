"""A naive evaluator, transcribed from AWS's published evaluation logic.

This is the specification the fast evaluator (:mod:`rolegate.policy.evaluate`)
is checked against by a property test (STYLE.md §4, after cedar-spec). It is
deliberately plain: no compilation, no indexing, no caching; every statement
of every policy is examined on every call, and wildcard matching is a
recursive function (exponential in the number of ``*`` - an oracle for tests,
never for serving). Only the value parsers (numbers, dates, IPs, base64) and
context normalisation are shared with the fast path.

Sources: IAM User Guide, "Policy evaluation logic" (and "Determining whether a
request is allowed or denied within an account", "Cross-account policy
evaluation logic"), "Condition operators", "Policy variables"; reference §4.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from rolegate.policy import conditions as cv
from rolegate.policy.document import Condition, PolicyDocument, Statement
from rolegate.policy.evaluate import (
    CompiledPolicy,
    Decision,
    EvaluationResult,
    MatchedStatement,
    PolicySet,
    Request,
    normalize_context,
)

__all__ = ["reference_evaluate", "glob"]


# --- wildcard matching ------------------------------------------------------


def glob(pattern: list[tuple[str, bool]], s: str) -> bool:
    """``pattern`` is a list of (char, is_wildcard); ``*`` any run, ``?`` one character."""
    if not pattern:
        return s == ""
    ch, wild = pattern[0]
    if wild and ch == "*":
        return any(glob(pattern[1:], s[i:]) for i in range(len(s) + 1))
    if not s:
        return False
    if wild and ch == "?":
        return glob(pattern[1:], s[1:])
    return s[0] == ch and glob(pattern[1:], s[1:])


def _chars(text: str, ctx: Mapping[str, Any], variables: bool) -> list[tuple[str, bool]] | None:
    """Expand variables; None when one cannot be resolved."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(text):
        if variables and text.startswith("${", i) and text.find("}", i) != -1:
            end = text.find("}", i)
            body = text[i + 2 : end].strip()
            if body in ("*", "?", "$"):
                out.append((body, False))
                i = end + 1
                continue
            name, default = body, None
            if "," in body:
                name, _, rest = body.partition(",")
                name, rest = name.strip(), rest.strip()
                if len(rest) >= 2 and rest[0] == rest[-1] == "'":
                    default = rest[1:-1]
                else:
                    name = ""
            if name and not any(c.isspace() or c in "${" for c in name):
                value = ctx.get(name.lower())
                if isinstance(value, list | tuple):
                    value = value[0] if len(value) == 1 else None
                if value is None:
                    value = default
                if value is None:
                    return None
                out.extend((c, False) for c in value)
                i = end + 1
                continue
        out.append((text[i], text[i] in "*?"))
        i += 1
    return out


def _arn_like(pattern: list[tuple[str, bool]], s: str) -> bool:
    """Split both on their first five colons and glob segment by segment."""
    colons = [i for i, (c, _) in enumerate(pattern) if c == ":"]
    if len(colons) < 5:
        return glob(pattern, s)
    parts = s.split(":", 5)
    if len(parts) < 6:
        return False
    bounds = [-1, *colons[:5], len(pattern)]
    for k in range(6):
        seg = pattern[bounds[k] + 1 : bounds[k + 1]]
        if not glob(seg, parts[k]):
            return False
    return True


# --- elements -----------------------------------------------------------------


def _action_matches(st: Statement, action: str) -> bool:
    listed = st.action if st.action is not None else st.not_action
    hit = any(glob([(c, c in "*?") for c in a.lower()], action.lower()) for a in listed or ())
    return hit if st.action is not None else not hit


def _resource_matches(
    st: Statement, resource: str, ctx: Mapping[str, Any], variables: bool
) -> bool:
    listed = st.resource if st.resource is not None else st.not_resource
    if listed is None:
        return True  # trust policy: the role itself
    hit = False
    for r in listed:
        if r == "*":
            hit = True
            continue
        chars = _resource_chars(r, ctx, variables)
        if chars is not None and _arn_like(chars, resource):
            hit = True
    return hit if st.resource is not None else not hit


def _resource_chars(
    text: str, ctx: Mapping[str, Any], variables: bool
) -> list[tuple[str, bool]] | None:
    """Variables only after the fifth colon as written ("Variables and tags": "only
    in the resource portion of the ARN ... after the fifth colon"); before it, literal."""
    parts = text.split(":", 5)
    if len(parts) < 6:
        return _chars(text, ctx, False)
    head = _chars(":".join(parts[:5]) + ":", ctx, False)
    tail = _chars(parts[5], ctx, variables)
    return None if head is None or tail is None else head + tail


def _principal_named(
    st: Statement, req: Request, ctx: Mapping[str, Any], bounded: bool
) -> int | None:
    """How the statement's Principal names the caller: 2 directly, 1 by role, 0 by account.

    ``bounded``: the caller has a permissions boundary, and then a Deny with
    NotPrincipal "will always deny" it "regardless of the values specified in the
    NotPrincipal element" (IAM User Guide, NotPrincipal).
    """
    p = st.principal or st.not_principal
    if p is None:
        return 2
    if st.not_principal is not None:
        if bounded and st.effect.value == "Deny":
            return 0
        return None if _not_principal_excludes(p, req, ctx) else 0
    return _principal_named_plain(p, req, ctx)


def _not_principal_excludes(p: Any, req: Request, ctx: Mapping[str, Any]) -> bool:
    """NotPrincipal spares a caller only if it and all its parents are listed (IAM User Guide)."""
    if p.wildcard:
        return True
    who = req.principal
    parts = who.split(":", 5)
    if not (len(parts) == 6 and parts[0] == "arn"):
        if who in ("*", "anonymous", ""):
            return False
        return ("Service", who) in {(t, v.lower()) for t, v in p.entries} or (
            "Federated",
            who,
        ) in p.entries
    service, res = parts[2], parts[5]
    if service == "iam" and res.startswith(("saml-provider/", "oidc-provider/")):
        return ("Federated", who) in p.entries
    aws = [v for t, v in p.entries if t == "AWS"]
    account = req.principal_account or parts[4] or None
    accounts = {v for v in aws if len(v) == 12 and v.isdigit()}
    accounts |= {
        v.split(":")[4]
        for v in aws
        if v.startswith("arn:")
        and v.count(":") >= 5
        and v.split(":", 5)[2] == "iam"
        and v.split(":", 5)[5] == "root"
    }
    if account is None or account not in accounts:
        return False
    if service == "iam" and res == "root":
        return True
    if service == "sts" and res.startswith("assumed-role/"):
        # the role ARN and the exact session ARN must both be listed
        pa = ctx.get("aws:principalarn")
        role_arn = req.principal_role_arn or (
            pa if isinstance(pa, str) and ":role/" in pa else None
        )
        if role_arn is None and len(res.split("/")) > 1 and res.split("/")[1]:
            role_arn = f"arn:{parts[1]}:iam::{parts[4]}:role/{res.split('/')[1]}"
        return role_arn in aws and who in aws
    return who in aws


def _principal_named_plain(p: Any, req: Request, ctx: Mapping[str, Any]) -> int | None:
    if p.wildcard:
        return 2
    who = req.principal
    parts = who.split(":", 5)
    is_arn = len(parts) == 6 and parts[0] == "arn"
    if not is_arn:
        # a service or web-identity provider (or anonymous): only Service / Federated name it
        if who in ("*", "anonymous", ""):
            return None
        for t, v in p.entries:
            if (t == "Service" and v.lower() == who.lower()) or (t == "Federated" and v == who):
                return 2
        return None
    service, res = parts[2], parts[5]
    if service == "iam" and res.startswith(("saml-provider/", "oidc-provider/")):
        return 2 if ("Federated", who) in p.entries else None
    account = req.principal_account or parts[4] or None
    session = service == "sts" and res.startswith("assumed-role/")
    role_arn = None
    if session:
        pa = ctx.get("aws:principalarn")
        if req.principal_role_arn:
            role_arn = req.principal_role_arn
        elif isinstance(pa, str) and ":role/" in pa:
            role_arn = pa
        elif len(res.split("/")) > 1 and res.split("/")[1]:
            role_arn = f"arn:{parts[1]}:iam::{parts[4]}:role/{res.split('/')[1]}"
    best = None
    for t, v in p.entries:
        if t != "AWS":
            continue
        vp = v.split(":", 5)
        v_is_arn = len(vp) == 6 and vp[0] == "arn"
        got = None
        if (len(v) == 12 and v.isdigit()) or (v_is_arn and vp[2] == "iam" and vp[5] == "root"):
            acct = v if not v_is_arn else vp[4]
            if account is not None and account == acct:
                got = 0
        elif v_is_arn and vp[2] == "iam" and vp[5].startswith("role/"):
            if v == role_arn or (service == "iam" and res.startswith("role/") and v == who):
                got = 1
        elif v_is_arn:
            if v == who:
                got = 2
        elif v[:4] in ("AIDA", "AROA"):
            uid = ctx.get("aws:userid")
            if isinstance(uid, str) and uid == v:
                got = 2
            elif isinstance(uid, str) and uid.partition(":")[0] == v and session:
                got = 1
        if got is not None:
            best = got if best is None else max(best, got)
    return best


# --- conditions -----------------------------------------------------------------


def _value_text(v: str, ctx: Mapping[str, Any], variables: bool) -> list[tuple[str, bool]] | None:
    return _chars(v, ctx, variables)


def _one_matches(c: Condition, request_value: str, ctx: Mapping[str, Any], variables: bool) -> bool:
    """Positive sense: does one request value match any of the condition's values?"""
    spec = c.spec
    fam = spec.family
    var_ok = variables and spec.variables
    for pv in c.values:
        if fam in ("str_eq", "str_eq_ic", "bool", "str_like", "arn"):
            chars = _value_text(pv, ctx, var_ok)
            if chars is None:
                continue  # unresolved variable: never a positive match
            if fam == "str_like":
                if glob(chars, request_value):
                    return True
                continue
            if fam == "arn":
                if request_value.count(":") >= 5 and _arn_like(chars, request_value):
                    return True
                continue
            text = "".join(ch for ch, _ in chars)
            if fam == "str_eq" and text == request_value:
                return True
            if fam == "str_eq_ic" and text.lower() == request_value.lower():
                return True
            if fam == "bool" and text.strip().lower() == request_value.strip().lower():
                return True
        elif fam in ("num", "date"):
            parse = cv.parse_number if fam == "num" else cv.parse_date
            a, b = parse(request_value), parse(pv)
            if a is None or b is None:
                continue
            if {"eq": a == b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[spec.compare]:
                return True
        elif fam == "binary":
            blob, want = cv.parse_binary(request_value), cv.parse_binary(pv)
            if blob is not None and blob == want:
                return True
        elif fam == "ip":
            addr, net = cv.parse_ip(request_value), cv.parse_network(pv)
            if addr is not None and net is not None and addr.version == net.version and addr in net:
                return True
    return False


def _condition_holds(c: Condition, ctx: Mapping[str, Any], variables: bool) -> bool:
    present = c.key_lower in ctx
    if c.base == "Null":
        return any((not present) == (v.strip().lower() == "true") for v in c.values)
    raw = ctx.get(c.key_lower)
    values = [raw] if isinstance(raw, str) else list(raw or [])
    if c.qualifier == "ForAllValues":
        # true when absent or empty; else every request value must match
        return all(_one_matches(c, v, ctx, variables) != c.negated for v in values)
    if c.qualifier == "ForAnyValue":
        if not present:
            return c.if_exists
        return any(_one_matches(c, v, ctx, variables) != c.negated for v in values)
    if not present:
        return c.if_exists or c.negated
    return any(_one_matches(c, v, ctx, variables) for v in values) != c.negated


# --- the decision -----------------------------------------------------------------


def _applies(doc: PolicyDocument, st: Statement, req: Request, ctx: Mapping[str, Any]) -> bool:
    return (
        _action_matches(st, req.action)
        and _resource_matches(st, req.resource, ctx, doc.variables)
        and all(_condition_holds(c, ctx, doc.variables) for c in st.conditions)
    )


def _statements(
    cp: CompiledPolicy, category: str, req: Request, ctx: Mapping[str, Any], bounded: bool
) -> Iterator[tuple[MatchedStatement, int]]:
    """Yield (MatchedStatement, how-named) for every statement of ``cp`` that applies."""
    doc = cp.document
    for st in doc.statements:
        named = _principal_named(st, req, ctx, bounded) if category == "resource" else 2
        if named is None or not _applies(doc, st, req, ctx):
            continue
        ms = MatchedStatement(
            cp.policy_id, cp.source_type, st.index, st.sid, st.effect.value, category
        )
        yield ms, named


def _scp_applies(req: Request, ctx: Mapping[str, Any]) -> bool:
    """SCPs restrict neither AWS service principals nor service-linked roles (whose
    path /aws-service-role/ IAM reserves): Organizations User Guide, "Service
    control policies": "SCPs don't affect service-linked roles"."""
    who = req.principal
    parts = who.split(":", 5)
    if not (len(parts) == 6 and parts[0] == "arn" and parts[1] and parts[2]):
        return who in ("*", "anonymous", "")  # anything else names a service
    service, res = parts[2], parts[5]
    role_arn = None
    if service == "iam" and res.startswith("role/"):
        role_arn = who
    elif service == "sts" and res.startswith("assumed-role/"):
        pa = ctx.get("aws:principalarn")
        role_arn = req.principal_role_arn or (
            pa if isinstance(pa, str) and ":role/" in pa else None
        )
    return not (role_arn and ":role/aws-service-role/" in role_arn)


# A statement that applies, with how its principal named the caller (match.DIRECT...).
Found = tuple[MatchedStatement, int]


def reference_evaluate(
    policy_set: PolicySet, request: Request, *, resource_must_allow: bool = False
) -> EvaluationResult:
    ctx = normalize_context(request.context)
    ps = policy_set

    def scan(policies: Iterable[CompiledPolicy], category: str) -> list[Found]:
        bounded = ps.boundary is not None
        return [x for cp in policies for x in _statements(cp, category, request, ctx, bounded)]

    found = {
        "identity": scan(ps.identity, "identity"),
        "boundary": scan([ps.boundary] if ps.boundary else [], "boundary"),
        "session": scan(ps.session or [], "session"),
    }
    levels = [scan(level, "scp") for level in ps.scp_levels] if _scp_applies(request, ctx) else []
    found["resource"] = scan([ps.resource] if ps.resource else [], "resource")
    everything = [
        *found["identity"],
        *found["boundary"],
        *found["session"],
        *(x for lv in levels for x in lv),
        *found["resource"],
    ]

    def allows(items: Iterable[Found]) -> list[MatchedStatement]:
        return [ms for ms, _ in items if ms.effect == "Allow"]

    # 1. An explicit deny in any policy wins.
    denies = [ms for ms, _ in everything if ms.effect == "Deny"]
    if denies:
        return EvaluationResult(Decision.EXPLICIT_DENY, tuple(denies), "deny")

    def deny(reason: str) -> EvaluationResult:
        return EvaluationResult(Decision.IMPLICIT_DENY, (), reason)

    def allow(*groups: Iterable[MatchedStatement]) -> EvaluationResult:
        return EvaluationResult(Decision.ALLOW, tuple(x for g in groups for x in g))

    who = request.principal
    parts = who.split(":", 5)
    is_arn = len(parts) == 6 and parts[0] == "arn"
    service, res = (parts[2], parts[5]) if is_arn else ("", "")
    caller = is_arn and not (
        service == "iam" and res.startswith(("saml-provider/", "oidc-provider/"))
    )
    r_allow = [(ms, n) for ms, n in found["resource"] if ms.effect == "Allow"]

    # Service and federated principals: the resource (trust) policy alone decides.
    if not caller:
        return allow([ms for ms, _ in r_allow]) if r_allow else deny("resource")

    # 2. Organizations SCPs: every level must allow.
    scp_allowed = [allows(lv) for lv in levels]
    if any(not a for a in scp_allowed):
        return deny("scp")
    scp_matched = [x for a in scp_allowed for x in a]

    # Same or cross account?
    account = request.principal_account or parts[4] or None
    rparts = request.resource.split(":", 5)
    racct = account
    if len(rparts) == 6 and rparts[0] == "arn" and len(rparts[4]) == 12 and rparts[4].isdigit():
        racct = rparts[4]
    cross = account is not None and racct != account

    # 3. Resource-based policy.
    if (cross or resource_must_allow) and not r_allow:
        return deny("resource")
    if service == "iam" and res == "root":
        return allow(scp_matched, [ms for ms, _ in r_allow])
    best = max((n for _, n in r_allow), default=-1)
    if not cross and best == 2:
        return allow(scp_matched, [ms for ms, _ in r_allow])
    role_grant = not cross and best == 1

    # 4. Identity-based policies.
    id_allow = allows(found["identity"])
    if not id_allow and not role_grant:
        return deny("identity")
    # 5. Permissions boundary.
    b_allow = allows(found["boundary"])
    if ps.boundary is not None and not b_allow:
        return deny("boundary")
    # 6. Session policies.
    s_allow = allows(found["session"])
    if ps.session is not None and not s_allow:
        return deny("session")
    if ps.session is None and service == "sts" and res.startswith("federated-user/"):
        return deny("session")
    used_resource = [ms for ms, _ in r_allow] if (cross or role_grant) else []
    return allow(scp_matched, used_resource, id_allow, b_allow, s_allow)
