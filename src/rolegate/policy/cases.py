"""The JSON case format of ``testdata/policy/README.md`` -> engine inputs.

A case is ``{"policies": {identity, resource, boundary, session, scp}, "request": {...}}``.
An empty ``session`` list means no session policies; a resource policy with no
``Resource``/``NotResource`` element in any statement is a role trust policy
(parsed as such, and it must itself allow).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rolegate.errors import MalformedPolicyDocument
from rolegate.policy import jsontext
from rolegate.policy.document import PolicyKind, parse_policy
from rolegate.policy.elements import SYNTAX_MSG
from rolegate.policy.evaluate import (
    CompiledPolicy,
    EvaluationResult,
    PolicySet,
    Request,
    compile_policy,
    evaluate,
)

__all__ = ["case_inputs", "evaluate_case", "resource_policy_kind"]


def _compile(doc: Any, kind: PolicyKind, policy_id: str, source_type: str) -> CompiledPolicy:
    if isinstance(doc, str):
        text = doc
    else:
        try:
            jsontext.check_depth(doc)  # json.dumps recurses
        except ValueError:
            raise MalformedPolicyDocument(SYNTAX_MSG) from None
        text = json.dumps(doc)
    return compile_policy(parse_policy(text, kind), policy_id=policy_id, source_type=source_type)


def resource_policy_kind(doc: Any) -> PolicyKind:
    """TRUST when no statement names a resource, else RESOURCE."""
    if isinstance(doc, str):
        try:
            doc = jsontext.loads(doc)
        except ValueError:
            return PolicyKind.RESOURCE
    if isinstance(doc, Mapping):
        stmts = doc.get("Statement")
        stmts = [stmts] if isinstance(stmts, Mapping) else stmts
        if (
            isinstance(stmts, list)
            and stmts
            and all(
                isinstance(s, Mapping) and "Resource" not in s and "NotResource" not in s
                for s in stmts
            )
        ):
            return PolicyKind.TRUST
    return PolicyKind.RESOURCE


def _list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPolicyDocument(f"case: policies.{name} must be a list")
    return value


def case_inputs(case: Mapping[str, Any]) -> tuple[PolicySet, Request, bool]:
    """(policy set, request, resource_must_allow) for one case. Raises MalformedPolicyDocument or ValueError."""
    pols = case.get("policies") or {}
    req = case.get("request")
    if not isinstance(pols, Mapping) or not isinstance(req, Mapping):
        raise ValueError("case needs 'policies' and 'request' objects")
    identity = tuple(
        _compile(d, PolicyKind.IDENTITY, f"identity[{i}]", "identity")
        for i, d in enumerate(_list(pols.get("identity"), "identity"))
    )
    resource = None
    must_allow = False
    if pols.get("resource") is not None:
        kind = resource_policy_kind(pols["resource"])
        must_allow = kind is PolicyKind.TRUST
        resource = _compile(pols["resource"], kind, "resource", "resource")
    boundary = None
    if pols.get("boundary") is not None:
        boundary = _compile(pols["boundary"], PolicyKind.BOUNDARY, "boundary", "boundary")
    session_docs = _list(pols.get("session"), "session")
    session = (
        tuple(
            _compile(d, PolicyKind.SESSION, f"session[{i}]", "session")
            for i, d in enumerate(session_docs)
        )
        if session_docs
        else None
    )
    scp = tuple(
        _compile(d, PolicyKind.SCP, f"scp[{i}]", "scp")
        for i, d in enumerate(_list(pols.get("scp"), "scp"))
    )
    ps = PolicySet(
        identity=identity, resource=resource, boundary=boundary, session=session, scp=scp
    )
    context = req.get("context") or {}
    if not isinstance(context, Mapping):
        raise ValueError("request.context must be an object")
    for k in ("principal", "action", "resource"):
        if not isinstance(req.get(k), str):
            raise ValueError(f"request.{k} must be a string")
    request = Request(
        principal=req["principal"],
        action=req["action"],
        resource=req["resource"],
        context=context,
        principal_account=req.get("principal_account"),
        principal_role_arn=req.get("principal_role_arn"),
    )
    return ps, request, must_allow


def evaluate_case(case: Mapping[str, Any]) -> EvaluationResult:
    ps, request, must_allow = case_inputs(case)
    return evaluate(ps, request, resource_must_allow=must_allow)
