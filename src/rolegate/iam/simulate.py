"""The IAM policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy and
the GetContextKeysFor* companions (reference §5.2).

The simulator runs the same engine (``rolegate.policy.evaluate``) that
authorises real requests, so "the simulator says allowed" and "the request is
allowed" cannot drift apart. What this module adds is presentation: AWS's
decision names, which statements decided (with their line/column in the
policy text), missing context keys and the per-policy-type details.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rolegate import policy
from rolegate.context import CallContext
from rolegate.errors import InvalidInput, MalformedPolicyDocument
from rolegate.iam import lookup
from rolegate.iam.lookup import GROUP, KINDS, ROLE, linked
from rolegate.iam.paging import paginate
from rolegate.iam.principals import (
    GROUP_MEMBER_REL,
    PolicyDoc,
    managed_policy_document,
    policy_bundle,
)
from rolegate.iam.simulate_exclusions import parse_exclusions
from rolegate.policy import conditions as cond

_DECISION = {"allow": "allowed", "explicitDeny": "explicitDeny", "implicitDeny": "implicitDeny"}
_PRINCIPAL_TYPE = {"user": "User", "role": "AssumedRole"}
# SourcePolicyType values the model allows; anything else reads as "none".
_SOURCE_TYPES = {"user", "group", "role", "aws-managed", "user-managed", "resource", "none"}
# A sentinel caller for SimulateCustomPolicy without CallerArn: any non-root
# principal of the account (root would short-circuit to "allowed").
_SIMULATED_CALLER = "arn:aws:iam::{account}:user/PolicySimulator"


# --------------------------------------------------------------------------- positions


Position = tuple[int, int]


def _line_col(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def statement_positions(text: str) -> list[tuple[Position, Position]]:
    """(start, end) line/column of each statement in ``text``, in order.

    Start is the statement's opening ``{`` and end the column just past its
    closing ``}`` (1-based, as AWS reports them). Returns ``[]`` if the text
    cannot be scanned; callers fall back to 1/1.
    """
    decoder = json.JSONDecoder()
    spans: list[tuple[int, int]] = []
    try:
        i = _skip_ws(text, 0)
        if text[i] != "{":
            return []
        i += 1
        while True:
            i = _skip_ws(text, i)
            if text[i] == "}":
                break
            key, i = decoder.raw_decode(text, i)
            i = _skip_ws(text, i)
            if text[i] != ":":
                return []
            i = _skip_ws(text, i + 1)
            if key == "Statement":
                if text[i] == "[":
                    j = i + 1
                    while True:
                        j = _skip_ws(text, j)
                        if text[j] == "]":
                            break
                        start = j
                        _, j = decoder.raw_decode(text, j)
                        spans.append((start, j))
                        j = _skip_ws(text, j)
                        if text[j] == ",":
                            j += 1
                else:
                    _, end = decoder.raw_decode(text, i)
                    spans.append((i, end))
                break
            _, i = decoder.raw_decode(text, i)
            i = _skip_ws(text, i)
            if text[i] == ",":
                i += 1
    except (ValueError, IndexError, RecursionError):
        # Positions are presentation only: a statement too deep to scan
        # (raw_decode recurses) reports 1/1 rather than failing the call.
        return []
    return [(_line_col(text, s), _line_col(text, e)) for s, e in spans]


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class _Source:
    """One policy taking part in a simulation."""

    display_id: str  # SourcePolicyId
    source_type: str  # SourcePolicyType
    text: str
    compiled: policy.CompiledPolicy
    positions: tuple[tuple[Position, Position], ...]


class _Sources:
    """Compiles the simulation's policies under unique internal ids.

    Two groups may both have an inline policy named ``p``; a unique internal
    id per policy lets matched statements be traced back to the right text.
    """

    def __init__(self) -> None:
        self.by_id: dict[str, _Source] = {}

    def add(
        self, text: str, kind: policy.PolicyKind, display_id: str, source_type: str
    ) -> policy.CompiledPolicy:
        internal = f"#{len(self.by_id)}"
        try:
            doc = policy.parse_policy(text, kind)
        except MalformedPolicyDocument as exc:
            # The simulator's model has no MalformedPolicyDocument; AWS
            # reports unusable input policies as InvalidInput.
            raise InvalidInput(f"{display_id}: {exc.message}") from None
        compiled = policy.compile_policy(doc, policy_id=internal, source_type=source_type)
        self.by_id[internal] = _Source(
            display_id,
            source_type if source_type in _SOURCE_TYPES else "none",
            text,
            compiled,
            tuple(statement_positions(text)),
        )
        return compiled

    def add_doc(self, doc: PolicyDoc, kind: policy.PolicyKind) -> policy.CompiledPolicy:
        return self.add(doc.document, kind, doc.policy_id, doc.source_type)

    def statement(self, matched: policy.MatchedStatement) -> dict[str, Any]:
        src = self.by_id.get(matched.policy_id)
        if src is None:  # pragma: no cover - every policy comes from add()
            return {"SourcePolicyId": matched.policy_id, "SourcePolicyType": "none"}
        if matched.index < len(src.positions):
            (sl, sc), (el, ec) = src.positions[matched.index]
        else:
            sl, sc, el, ec = 1, 1, 1, 1
        return {
            "SourcePolicyId": src.display_id,
            "SourcePolicyType": src.source_type,
            "StartPosition": {"Line": sl, "Column": sc},
            "EndPosition": {"Line": el, "Column": ec},
        }


# --------------------------------------------------------------------------- context


def _context_value(name: str, ctype: str, value: str) -> str:
    """Validate one value against its ContextKeyType; return it as the engine compares it."""
    base = ctype[:-4] if ctype.endswith("List") else ctype
    ok = True
    if base == "numeric":
        ok = cond.parse_number(value) is not None
    elif base == "date":
        ok = cond.parse_date(value) is not None
    elif base == "ip":
        ok = cond.parse_network(value) is not None
    elif base == "binary":
        ok = cond.parse_binary(value) is not None
    elif base == "boolean":
        value = cond.bool_text(value)
        ok = value in ("true", "false")
    if not ok:
        raise InvalidInput(f"Invalid value '{value}' for context key {name} of type {ctype}.")
    return value


def context_from_entries(entries: Sequence[Mapping[str, Any]] | None) -> dict[str, str | list[str]]:
    """ContextEntries -> the engine's context: list types stay lists, others single values."""
    out: dict[str, str | list[str]] = {}
    for entry in entries or ():
        name = entry.get("ContextKeyName")
        if not name:
            raise InvalidInput("ContextKeyName is required in every context entry.")
        values = [str(v) for v in entry.get("ContextKeyValues") or ()]
        ctype = entry.get("ContextKeyType") or ("stringList" if len(values) > 1 else "string")
        values = [_context_value(name, ctype, v) for v in values]
        if ctype.endswith("List"):
            out[name] = values
        else:
            if len(values) != 1:
                raise InvalidInput(
                    f"Context key {name} of type {ctype} must have exactly one value."
                )
            out[name] = values[0]
    return out


def _principal_context(
    kind: str, entity: Any, account_id: str, tags: Mapping[str, str]
) -> dict[str, Any]:
    """The aws:* keys a real request by this user or role would carry.

    Supplied automatically so policies using ``${aws:username}`` or
    ``aws:PrincipalTag/...`` simulate as they will run; ContextEntries given
    by the caller override them.
    """
    out: dict[str, Any] = {
        "aws:PrincipalArn": entity.arn,
        "aws:PrincipalAccount": account_id,
        "aws:PrincipalType": _PRINCIPAL_TYPE[kind],
    }
    if kind == "user":
        out["aws:username"] = entity.name
        out["aws:userid"] = entity.entity_id
    else:
        out["aws:userid"] = f"{entity.entity_id}:PolicySimulator"
    for k, v in tags.items():
        out[f"aws:PrincipalTag/{k}"] = v
    return out


def _merge_context(auto: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    # Keys are case-insensitive: a given key replaces an automatic one in any case.
    given_lower = {k.lower() for k in given}
    merged = {k: v for k, v in auto.items() if k.lower() not in given_lower}
    merged.update(given)
    return merged


# --------------------------------------------------------------------------- simulation


@dataclass(slots=True)
class _Simulation:
    sources: _Sources
    identity: tuple[policy.CompiledPolicy, ...]
    boundary: policy.CompiledPolicy | None
    resource_policy: policy.CompiledPolicy | None
    principal: str
    principal_account: str
    principal_role_arn: str | None
    context: dict[str, Any]
    resource_owner: str | None


def _check_actions(actions: Sequence[str]) -> list[str]:
    out = []
    for a in actions:
        service, sep, name = a.partition(":")
        if not sep or not service or not name:
            raise InvalidInput(f"Action {a} is not valid: it must be of the form service:action.")
        out.append(a)
    if not out:
        raise InvalidInput("ActionNames must contain at least one action.")
    return out


def _owner_account(resource_owner: str | None) -> str | None:
    if not resource_owner:
        return None
    if resource_owner.isdigit() and len(resource_owner) == 12:
        return resource_owner
    parts = resource_owner.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[4].isdigit():
        return parts[4]
    raise InvalidInput(f"ResourceOwner {resource_owner} is not a valid account ARN.")


def _evaluate_one(sim: _Simulation, action: str, resource: str) -> dict[str, Any]:
    request = policy.Request(
        principal=sim.principal,
        action=action,
        resource=resource,
        context=sim.context,
        principal_account=sim.principal_account,
        principal_role_arn=sim.principal_role_arn,
    )
    if sim.resource_owner is not None:
        # The resource's account: from ResourceOwner when given (buckets'
        # ARNs carry none). Request derives it from the ARN otherwise.
        object.__setattr__(request, "resource_account", sim.resource_owner)
    ps = policy.PolicySet(
        identity=sim.identity, boundary=sim.boundary, resource=sim.resource_policy
    )
    result = policy.evaluate(ps, request, collect_missing_keys=True)
    decision = _DECISION[str(result.decision.value)]
    matched = [sim.sources.statement(m) for m in result.matched]
    missing = list(result.missing_context_keys)
    out: dict[str, Any] = {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision,
        "MatchedStatements": matched,
        "MissingContextValues": missing,
    }
    boundary_detail = None
    if sim.boundary is not None:
        # "true" means the boundary has a matching Allow and no matching Deny.
        alone = policy.evaluate(policy.PolicySet(identity=(sim.boundary,)), request)
        boundary_detail = {"AllowedByPermissionsBoundary": alone.decision.value == "allow"}
        out["PermissionsBoundaryDecisionDetail"] = boundary_detail
    if resource != "*":
        # AWS fills EvalDecisionDetails only for cross-account simulations
        # and returns it empty for same-account ones with a resource ARN.
        details: dict[str, str] = {}
        if request.resource_account not in (None, sim.principal_account):
            identity_side = policy.evaluate(
                policy.PolicySet(identity=sim.identity, boundary=sim.boundary),
                policy.Request(
                    principal=sim.principal,
                    action=action,
                    resource=resource,
                    context=sim.context,
                    principal_account=sim.principal_account,
                    principal_role_arn=sim.principal_role_arn,
                ),
            )
            details["IAM Policy"] = _DECISION[str(identity_side.decision.value)]
            if sim.resource_policy is not None:
                details["Resource Policy"] = (
                    "explicitDeny"
                    if any(
                        m.source_type == "resource" and m.effect == "Deny" for m in result.matched
                    )
                    else "allowed"
                    if result.allowed_by_resource
                    else "implicitDeny"
                )
        out["EvalDecisionDetails"] = details
        specific: dict[str, Any] = {
            "EvalResourceName": resource,
            "EvalResourceDecision": decision,
            "MatchedStatements": matched,
            "MissingContextValues": missing,
        }
        if details:
            # Empty, AWS leaves it out of the per-resource result (recorded).
            specific["EvalDecisionDetails"] = details
        if boundary_detail is not None:
            specific["PermissionsBoundaryDecisionDetail"] = boundary_detail
        out["ResourceSpecificResults"] = [specific]
    return out


def _run(sim: _Simulation, params: Mapping[str, Any]) -> dict[str, Any]:
    actions = _check_actions(list(params.get("ActionNames") or ()))
    resources = list(params.get("ResourceArns") or ()) or ["*"]
    results = [_evaluate_one(sim, a, r) for a in actions for r in resources]
    # Index keys keep the input order through the marker-based paginator.
    keyed = [(f"{i:08d}", r) for i, r in enumerate(results)]
    page, extra = paginate(keyed, params, key=lambda kr: kr[0])
    return {"EvaluationResults": [r for _, r in page], **extra}


def _add_inputs(
    sources: _Sources, params: Mapping[str, Any]
) -> tuple[list[policy.CompiledPolicy], policy.CompiledPolicy | None, policy.CompiledPolicy | None]:
    """PolicyInputList, PermissionsBoundaryPolicyInputList and ResourcePolicy, compiled."""
    identity = [
        sources.add(text, policy.PolicyKind.IDENTITY, f"PolicyInputList.{i}", "none")
        for i, text in enumerate(params.get("PolicyInputList") or (), start=1)
    ]
    boundaries = list(params.get("PermissionsBoundaryPolicyInputList") or ())
    if len(boundaries) > 1:
        raise InvalidInput("PermissionsBoundaryPolicyInputList may contain only one policy.")
    boundary = (
        sources.add(
            boundaries[0],
            policy.PolicyKind.BOUNDARY,
            "PermissionsBoundaryPolicyInputList.1",
            "none",
        )
        if boundaries
        else None
    )
    resource_text = params.get("ResourcePolicy")
    resource = (
        sources.add(resource_text, policy.PolicyKind.RESOURCE, "ResourcePolicy", "resource")
        if resource_text
        else None
    )
    return identity, boundary, resource


def _source_entity(ctx: CallContext, source_arn: str) -> tuple[lookup.EntityKind, Any]:
    """The user, group or role a PolicySourceArn names (in the caller's account)."""
    parts = source_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam":
        raise InvalidInput(f"Invalid ARN: {source_arn}")
    kind_name, _, rest = parts[5].partition("/")
    kind = KINDS.get(kind_name)
    if kind is None or not rest:
        raise InvalidInput(
            f"PolicySourceArn {source_arn} must be the ARN of an IAM user, group or role."
        )
    name = rest.rsplit("/", 1)[-1]
    entity = ctx.store.get(ctx.account_id, kind.kind, name) if parts[4] == ctx.account_id else None
    if entity is None or entity.arn.lower() != source_arn.lower():
        raise kind.not_found(name)
    return kind, entity


def _group_docs(store: Any, group: Any, source: str = "group") -> list[PolicyDoc]:
    # principals.policy_bundle covers users and roles; a group's own
    # policies are gathered the same way (inline by name, managed by ARN).
    docs: list[PolicyDoc] = []
    for name, text in (group.data.get("inline_policies") or {}).items():
        docs.append(PolicyDoc(name, source, name, text))  # type: ignore[arg-type]
    for arn in group.data.get("attached_policies") or ():
        text = managed_policy_document(store, arn)
        if text is not None:
            source = (
                "aws-managed"
                if arn.split(":", 5)[4] == lookup.AWS_MANAGED_ACCOUNT
                else "user-managed"
            )
            docs.append(PolicyDoc(arn, source, arn.rsplit("/", 1)[-1], text))  # type: ignore[arg-type]
    return docs


def _owned_docs(ctx: CallContext, kind: str, entity: Any) -> list[tuple[PolicyDoc, str, str]]:
    """The user's or role's policies with the entity each is attached to, in
    policy_bundle's order: an InlinePolicyIdentifier names the entity, which
    policy_bundle's flat list does not keep for a user's groups."""
    owned = [(d, kind, entity.name) for d in _group_docs(ctx.store, entity, kind)]
    if kind == "user":
        for group in linked(
            ctx.store, ctx.account_id, GROUP_MEMBER_REL, "group", b=entity.name_key
        ):
            owned.extend((d, "group", group.name) for d in _group_docs(ctx.store, group))
    return owned


def simulate_principal_policy(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    source_arn = params["PolicySourceArn"]
    ctx.authorize("iam:SimulatePrincipalPolicy", source_arn)
    kind, entity = _source_entity(ctx, source_arn)
    ctx.audit_resources.append(
        {"ARN": entity.arn, "accountId": ctx.account_id, "type": kind.audit_type}
    )
    sources = _Sources()
    exclusions = parse_exclusions(params.get("PolicyExclusionList"))

    owned: list[tuple[PolicyDoc, str, str]]  # (policy, attached to kind, attached to name)
    boundary_doc: PolicyDoc | None = None
    auto_context: dict[str, Any] = {}
    if kind is GROUP:
        owned = [(d, "group", entity.name) for d in _group_docs(ctx.store, entity)]
    else:
        bundle = policy_bundle(ctx.store, ctx.account_id, kind.kind, entity.name)  # type: ignore[arg-type]
        if bundle is None:
            raise kind.not_found(entity.name)
        owned = _owned_docs(ctx, kind.kind, entity)
        boundary_doc = None if exclusions.excludes_boundary() else bundle.boundary
        auto_context = _principal_context(kind.kind, entity, ctx.account_id, bundle.tags)

    identity = [
        sources.add_doc(d, policy.PolicyKind.IDENTITY)
        for d, owner_kind, owner in owned
        if not exclusions.excludes(d, owner_kind, owner)
    ]
    inputs, input_boundary, resource_policy = _add_inputs(sources, params)
    identity.extend(inputs)
    # A boundary given in the request replaces the entity's own for the simulation.
    boundary = input_boundary
    if boundary is None and boundary_doc is not None:
        boundary = sources.add_doc(boundary_doc, policy.PolicyKind.BOUNDARY)

    caller = params.get("CallerArn") or entity.arn
    sim = _Simulation(
        sources=sources,
        identity=tuple(identity),
        boundary=boundary,
        resource_policy=resource_policy,
        principal=caller,
        principal_account=ctx.account_id,
        principal_role_arn=entity.arn if kind is ROLE and caller == entity.arn else None,
        context=_merge_context(auto_context, context_from_entries(params.get("ContextEntries"))),
        resource_owner=_owner_account(params.get("ResourceOwner")),
    )
    return _run(sim, params)


def simulate_custom_policy(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:SimulateCustomPolicy", "*")
    sources = _Sources()
    identity, boundary, resource_policy = _add_inputs(sources, params)
    if not identity:
        raise InvalidInput("PolicyInputList must contain at least one policy.")
    caller = params.get("CallerArn") or _SIMULATED_CALLER.format(account=ctx.account_id)
    parts = caller.split(":", 5)
    caller_account = parts[4] if len(parts) == 6 and parts[4] else ctx.account_id
    sim = _Simulation(
        sources=sources,
        identity=tuple(identity),
        boundary=boundary,
        resource_policy=resource_policy,
        principal=caller,
        principal_account=caller_account,
        principal_role_arn=None,
        context=context_from_entries(params.get("ContextEntries")),
        resource_owner=_owner_account(params.get("ResourceOwner")),
    )
    return _run(sim, params)


# --------------------------------------------------------------------------- context keys


def _context_keys(texts: Sequence[str], kinds: Sequence[policy.PolicyKind]) -> list[str]:
    """Every condition key the policies reference, first spelling kept, case-insensitively unique."""
    seen: dict[str, str] = {}
    for text, kind in zip(texts, kinds, strict=True):
        try:
            doc = policy.parse_policy(text, kind)
        except MalformedPolicyDocument as exc:
            raise InvalidInput(exc.message) from None
        for st in doc.statements:
            for c in st.conditions:
                seen.setdefault(c.key.lower(), c.key)
    return list(seen.values())


def get_context_keys_for_custom_policy(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:GetContextKeysForCustomPolicy", "*")
    texts = list(params.get("PolicyInputList") or ())
    return {"ContextKeyNames": _context_keys(texts, [policy.PolicyKind.IDENTITY] * len(texts))}


def get_context_keys_for_principal_policy(
    ctx: CallContext, params: dict[str, Any]
) -> dict[str, Any]:
    source_arn = params["PolicySourceArn"]
    ctx.authorize("iam:GetContextKeysForPrincipalPolicy", source_arn)
    kind, entity = _source_entity(ctx, source_arn)
    if kind is GROUP:
        docs = _group_docs(ctx.store, entity)
    else:
        bundle = policy_bundle(ctx.store, ctx.account_id, kind.kind, entity.name)  # type: ignore[arg-type]
        docs = list(bundle.identity) if bundle is not None else []
    texts = [d.document for d in docs] + list(params.get("PolicyInputList") or ())
    return {"ContextKeyNames": _context_keys(texts, [policy.PolicyKind.IDENTITY] * len(texts))}


HANDLERS: dict[str, Callable[[CallContext, dict[str, Any]], dict[str, Any] | None]] = {
    "SimulatePrincipalPolicy": simulate_principal_policy,
    "SimulateCustomPolicy": simulate_custom_policy,
    "GetContextKeysForCustomPolicy": get_context_keys_for_custom_policy,
    "GetContextKeysForPrincipalPolicy": get_context_keys_for_principal_policy,
}

__all__ = ["HANDLERS", "context_from_entries", "statement_positions"]
