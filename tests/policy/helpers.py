"""Small builders for policy tests."""

from __future__ import annotations

import json
from typing import Any

from rolegate.policy import PolicyKind, PolicySet, Request, compile_policy, evaluate, parse_policy
from rolegate.policy.reference import reference_evaluate

ACCT = "111122223333"
OTHER = "444455556666"
USER = f"arn:aws:iam::{ACCT}:user/alice"
ROLE = f"arn:aws:iam::{ACCT}:role/app"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/app/s1"
FED_USER = f"arn:aws:sts::{ACCT}:federated-user/bob"
ROOT = f"arn:aws:iam::{ACCT}:root"


def stmt(effect: str = "Allow", action: Any = "*", resource: Any = "*", **extra: Any) -> dict:
    s: dict[str, Any] = {"Effect": effect, "Action": action}
    if resource is not None:
        s["Resource"] = resource
    s.update(extra)
    return s


def doc(*statements: dict, version: str | None = "2012-10-17") -> dict:
    d: dict[str, Any] = {"Statement": list(statements)}
    if version:
        d["Version"] = version
    return d


def compiled(
    d: Any, kind: PolicyKind | str = PolicyKind.IDENTITY, pid: str = "p", source: str = "user"
):
    text = d if isinstance(d, str) else json.dumps(d)
    return compile_policy(parse_policy(text, kind), policy_id=pid, source_type=source)


def pset(
    identity: list | tuple = (),
    resource: Any = None,
    boundary: Any = None,
    session: Any = None,
    scp: Any = (),
    resource_kind: PolicyKind = PolicyKind.RESOURCE,
) -> PolicySet:
    return PolicySet(
        identity=tuple(compiled(d, PolicyKind.IDENTITY, f"id{i}") for i, d in enumerate(identity)),
        resource=compiled(resource, resource_kind, "res", "resource") if resource else None,
        boundary=compiled(boundary, PolicyKind.BOUNDARY, "b", "boundary") if boundary else None,
        session=None
        if session is None
        else tuple(
            compiled(d, PolicyKind.SESSION, f"s{i}", "session") for i, d in enumerate(session)
        ),
        scp=tuple(compiled(d, PolicyKind.SCP, f"scp{i}", "scp") for i, d in enumerate(scp)),
    )


def decide(
    ps: PolicySet,
    principal: str = USER,
    action: str = "s3:GetObject",
    resource: str = "arn:aws:s3:::b/k",
    context: dict | None = None,
    **kw: Any,
) -> str:
    must = kw.pop("resource_must_allow", False)
    req = Request(principal, action, resource, context or {}, **kw)
    fast = evaluate(ps, req, resource_must_allow=must)
    ref = reference_evaluate(ps, req, resource_must_allow=must)
    assert fast.decision == ref.decision, (fast, ref)
    assert set(fast.matched) == set(ref.matched), (fast.matched, ref.matched)
    return fast.decision.value


def cond_allows(condition: dict, context: dict | None, version: str = "2012-10-17") -> bool:
    """Does an Allow statement with this Condition allow the request?"""
    ps = pset([doc(stmt(Condition=condition), version=version)])
    return decide(ps, context=context or {}) == "allow"
