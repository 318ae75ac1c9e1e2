"""What of a request and its response the audit must never hold.

Redaction follows botocore's ``sensitive`` trait rather than a hand-kept list
of names: a shape (or a member reference) marked ``"sensitive": true`` in a
service model is a secret wherever it appears — at the top level, inside
structures, lists and maps — in every operation's input and output. The
models are walked once per process (:func:`plans`, warmed when the audit
writer starts); a request only follows the precomputed plan of its own
operation, and most operations have none.

What takes a secret's place, after CloudTrail:

- STS and IAM leave the member out: reference §8 (AssumeRoleWithSAML
  records ``sAMLAssertionID``, never the assertion; web identity "never the
  token"; responses carry "no secretAccessKey", as CloudTrail's AssumeRole
  and CreateAccessKey examples show, while ``sessionToken`` is recorded: the
  model does not mark ``tokenType`` sensitive), and CloudTrail's
  CreateLoginProfile events show ``userName`` and ``passwordResetRequired``
  only;
- elsewhere (Organizations) the member stays, its value replaced by
  ``HIDDEN_DUE_TO_SECURITY_REASONS``, CloudTrail's marker for sensitive
  members (e.g. CreateAccount's ``email`` and ``accountName``, Transfer's
  ``hostKey``, SNS's ``message`` in their CloudTrail examples).

A few one-time proofs the models do not mark (MFA codes, an encoded
authorization message) are left out too. Every secret value found is also
scrubbed from the error message and the resources (:class:`Redacted`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

from botocore.model import Shape

from rolegate import protocol

MARKER = "HIDDEN_DUE_TO_SECURITY_REASONS"

SERVICES = ("sts", "iam", "organizations")

# Not marked sensitive in the models, but one-time proofs or opaque blobs
# that CloudTrail does not show either: left out of requestParameters.
_UNMODELLED_INPUTS = frozenset(
    {"TokenCode", "AuthenticationCode1", "AuthenticationCode2", "EncodedMessage"}
)

# Services whose CloudTrail events leave sensitive members out (see above).
_LEFT_OUT = frozenset({"sts", "iam"})


class _Leaf(NamedTuple):
    drop: bool  # leave the member out rather than write MARKER


_DROP = _Leaf(True)
_HIDE = _Leaf(False)


class _Struct(NamedTuple):
    members: Mapping[str, Any]  # wire key -> plan


class _List(NamedTuple):
    member: Any


class _Map(NamedTuple):
    key_secret: bool
    value: Any


Plan = _Leaf | _Struct | _List | _Map


class OperationPlan(NamedTuple):
    params: _Struct | None  # keys as decoded: member names
    response: _Struct | None  # keys as handlers write them: lowerCamelCase


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


class _Compiler:
    def __init__(self, *, drop: bool, camel: bool) -> None:
        self._leaf = _DROP if drop else _HIDE
        self._camel = camel
        self._memo: dict[str, Plan | None] = {}

    def compile(self, shape: Shape | None, active: frozenset[str] = frozenset()) -> Plan | None:
        if shape is None:
            return None
        if shape.metadata.get("sensitive"):
            return self._leaf
        if shape.name in self._memo:
            return self._memo[shape.name]
        if shape.name in active:  # recursive shapes: the outer walk covers them
            return None
        inner = active | {shape.name}
        out: Plan | None = None
        if shape.type_name == "structure":
            members = {}
            for name, member in shape.members.items():
                sub = self.compile(member, inner)
                if sub is not None:
                    members[_lower_first(name) if self._camel else name] = sub
            out = _Struct(members) if members else None
        elif shape.type_name == "list":
            sub = self.compile(shape.member, inner)
            out = None if sub is None else _List(sub)
        elif shape.type_name == "map":
            key_secret = bool(shape.key.metadata.get("sensitive"))
            sub = self.compile(shape.value, inner)
            out = _Map(key_secret, sub) if key_secret or sub is not None else None
        self._memo[shape.name] = out
        return out


def _service_plans(service: str) -> dict[str, OperationPlan]:
    model = protocol.get_service(service).model
    drop = service in _LEFT_OUT
    inputs = _Compiler(drop=drop, camel=False)
    outputs = _Compiler(drop=drop, camel=True)
    out: dict[str, OperationPlan] = {}
    for name in model.operation_names:
        op = model.operation_model(name)
        params = inputs.compile(op.input_shape)
        members = dict(params.members) if isinstance(params, _Struct) else {}
        for extra in _UNMODELLED_INPUTS:
            if op.input_shape is not None and extra in op.input_shape.members:
                members[extra] = _DROP
        response = outputs.compile(op.output_shape)
        plan = OperationPlan(
            _Struct(members) if members else None,
            response if isinstance(response, _Struct) else None,
        )
        if plan.params is not None or plan.response is not None:
            out[name] = plan
    return out


_PLANS: dict[str, dict[str, OperationPlan]] | None = None
_lock = threading.Lock()


def plans() -> dict[str, dict[str, OperationPlan]]:
    """Every served operation's plan, by service and action (computed once)."""
    global _PLANS
    if _PLANS is None:
        with _lock:
            if _PLANS is None:
                _PLANS = {svc: _service_plans(svc) for svc in SERVICES}
    return _PLANS


def plan_for(service: str, action: str) -> OperationPlan | None:
    return plans().get(service, {}).get(action)


def _collect(value: Any, found: list[str]) -> None:
    if isinstance(value, str):
        if value:
            found.append(value)
    elif isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", "ignore")
        if text:
            found.append(text)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _collect(k, found)
            _collect(v, found)
    elif isinstance(value, list | tuple):
        for v in value:
            _collect(v, found)
    elif value is not None and not isinstance(value, bool):
        found.append(str(value))


def _apply(value: Any, plan: Plan, found: list[str]) -> Any:
    """``value`` with what ``plan`` marks secret hidden; unchanged values are
    returned as they are (no copy for a request with nothing to hide)."""
    if isinstance(plan, _Leaf):
        _collect(value, found)
        return MARKER
    if isinstance(plan, _Struct):
        if not isinstance(value, Mapping):
            return value
        return _apply_struct(value, plan, found)
    if isinstance(plan, _List):
        if not isinstance(value, list | tuple):
            return value
        items = [_apply(v, plan.member, found) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if not isinstance(value, Mapping):
        return value
    if plan.key_secret:
        _collect(value, found)
        return MARKER
    assert plan.value is not None
    entries = {k: _apply(v, plan.value, found) for k, v in value.items()}
    return value if all(entries[k] is v for k, v in value.items()) else entries


def _apply_struct(value: Mapping[str, Any], plan: _Struct, found: list[str]) -> Mapping[str, Any]:
    out: dict[str, Any] | None = None
    for key, sub in plan.members.items():
        if key not in value:
            continue
        old = value[key]
        if isinstance(sub, _Leaf) and sub.drop:
            _collect(old, found)
            if out is None:
                out = dict(value)
            del out[key]
            continue
        new = _apply(old, sub, found)
        if new is not old:
            if out is None:
                out = dict(value)
            out[key] = new
    return value if out is None else out


class Redacted(NamedTuple):
    params: Mapping[str, Any] | None
    response: Mapping[str, Any] | None
    secrets: tuple[str, ...]  # the values hidden, to scrub from free text


def redact(
    service: str,
    action: str,
    params: Mapping[str, Any] | None,
    response: Mapping[str, Any] | None,
) -> Redacted:
    plan = plan_for(service, action)
    if plan is None:
        return Redacted(params, response, ())
    found: list[str] = []
    if params and plan.params is not None:
        params = _apply_struct(params, plan.params, found)
    if response and plan.response is not None:
        response = _apply_struct(response, plan.response, found)
    # Longest first, so that a secret containing another is replaced whole.
    return Redacted(params, response, tuple(sorted(set(found), key=len, reverse=True)))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every occurrence of a hidden value replaced by MARKER."""
    for s in secrets:
        if s in text:
            text = text.replace(s, MARKER)
    return text


def scrub_resources(
    resources: list[dict[str, str]] | None, secrets: tuple[str, ...]
) -> list[dict[str, str]] | None:
    if not resources or not secrets:
        return resources
    return [
        {k: scrub(v, secrets) if isinstance(v, str) else v for k, v in r.items()} for r in resources
    ]
