"""Policy documents: parse and validate JSON into frozen, self-validating data.

Grammar (AWS IAM JSON policy reference, reference §4.1): top level ``Version``
(``2012-10-17`` | ``2008-10-17`` | absent = 2008), ``Id``, ``Statement`` (object
or array); statement ``Sid``, ``Effect``, ``Action``/``NotAction``,
``Resource``/``NotResource``, ``Principal``/``NotPrincipal``, ``Condition``.
Element names are case-sensitive and appear once; anything else is malformed.

The invariant (STYLE.md §1, after h11's fuzz target): for any input,
:func:`parse_policy` returns a :class:`PolicyDocument` or raises
:class:`~rolegate.errors.MalformedPolicyDocument` - nothing else escapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rolegate.policy import conditions as cond
from rolegate.policy import jsontext
from rolegate.policy.elements import (
    DUP_SID_MSG,
    LEGACY_MSG,
    NO_ACTIONS_MSG,
    NO_RESOURCES_MSG,
    SID_MSG,
    SYNTAX_MSG,
    PolicySyntaxError,
    action_problem,
    resource_problem,
)

__all__ = [
    "PolicyKind",
    "Effect",
    "Condition",
    "Principal",
    "Statement",
    "PolicyDocument",
    "parse_policy",
    "policy_size",
    "VERSION_2012",
    "VERSION_2008",
    "MANAGED_POLICY_MAX_SIZE",
    "TRUST_POLICY_MAX_SIZE",
    "USER_INLINE_MAX_SIZE",
    "GROUP_INLINE_MAX_SIZE",
    "ROLE_INLINE_MAX_SIZE",
    "SESSION_POLICY_MAX_SIZE",
    "MAX_DOCUMENT_CHARS",
]

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"

# Quotas in characters excluding whitespace (IAM User Guide, "IAM and AWS STS
# quotas"; reference §4.6). Callers enforce them with policy_size().
MANAGED_POLICY_MAX_SIZE = 6144
TRUST_POLICY_MAX_SIZE = 2048  # adjustable up to 4096 in AWS
USER_INLINE_MAX_SIZE = 2048  # aggregate of a user's inline policies
GROUP_INLINE_MAX_SIZE = 5120
ROLE_INLINE_MAX_SIZE = 10240
SESSION_POLICY_MAX_SIZE = 2048
# Hard cap on the raw text parse_policy accepts at all (IAM's policyDocumentType
# max length is 131072).
MAX_DOCUMENT_CHARS = 131072


class PolicyKind(StrEnum):
    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


_BAD_CHARS = re.compile(r"[^\t\n\r\x20-\xff]")
_SID = re.compile(r"[A-Za-z0-9]*")
_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STMT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_NO_PRINCIPAL_KINDS = frozenset(
    {PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.SCP}
)


def policy_size(text: str) -> int:
    """Characters of ``text`` excluding whitespace, as IAM counts them for quotas."""
    return sum(1 for c in text if not c.isspace())


def _malformed(msg: str, path: str | None = None) -> PolicySyntaxError:
    return PolicySyntaxError(msg, path=path)


@dataclass(frozen=True, slots=True)
class Condition:
    """One key under one operator: ``{"ForAnyValue:StringLike": {"aws:TagKeys": [...]}}``."""

    operator: str
    key: str
    values: tuple[str, ...]
    qualifier: str | None = field(init=False)
    base: str = field(init=False)
    if_exists: bool = field(init=False)
    key_lower: str = field(init=False)
    negated: bool = field(init=False)

    def __post_init__(self) -> None:
        parsed = cond.split_operator(self.operator)
        if parsed is None:
            raise _malformed(f"Invalid Condition type : {self.operator}")
        qualifier, spec, if_exists = parsed
        if not isinstance(self.key, str) or not self.key:
            raise _malformed(f"Condition {self.operator} has an empty key")
        if not isinstance(self.values, tuple) or not all(isinstance(v, str) for v in self.values):
            raise _malformed(f"Condition {self.operator} {self.key}: values must be strings")
        object.__setattr__(self, "qualifier", qualifier)
        object.__setattr__(self, "base", spec.name)
        object.__setattr__(self, "if_exists", if_exists)
        object.__setattr__(self, "key_lower", self.key.lower())
        object.__setattr__(self, "negated", spec.negated)

    @property
    def spec(self) -> cond.OperatorSpec:
        return cond.OPERATORS[self.base]


@dataclass(frozen=True, slots=True)
class Principal:
    """``"*"`` (``wildcard``) or typed entries like ``("AWS", "arn:aws:iam::1:root")``."""

    wildcard: bool = False
    entries: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.wildcard and not self.entries:
            raise _malformed("Principal must name at least one principal")
        for t, v in self.entries:
            if t not in _PRINCIPAL_TYPES:
                raise _malformed(f"Invalid principal type {t!r}")
            if not isinstance(v, str) or not v:
                raise _malformed(f"Invalid principal in policy: {t!r}")


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    effect: Effect
    sid: str | None = None
    action: tuple[str, ...] | None = None
    not_action: tuple[str, ...] | None = None
    resource: tuple[str, ...] | None = None
    not_resource: tuple[str, ...] | None = None
    principal: Principal | None = None
    not_principal: Principal | None = None
    conditions: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.effect, Effect):
            raise _malformed(SYNTAX_MSG)
        if self.action is not None and self.not_action is not None:
            raise _malformed(SYNTAX_MSG)
        actions = self.action if self.action is not None else self.not_action
        if not actions:
            raise _malformed(NO_ACTIONS_MSG)
        if self.resource is not None and self.not_resource is not None:
            raise _malformed(SYNTAX_MSG)
        resources = "Resource" if self.resource is not None else "NotResource"
        for r in self.resource or self.not_resource or ():
            problem = resource_problem(r)
            if problem:
                raise _malformed(problem[1], resources)
        for a in actions:
            message = action_problem(a)
            if message:
                raise _malformed(message, "Action" if self.action is not None else "NotAction")
        if self.principal is not None and self.not_principal is not None:
            raise _malformed(SYNTAX_MSG)

    @property
    def element_names(self) -> tuple[str, ...]:
        return tuple(
            name
            for name, v in (
                ("Action", self.action),
                ("NotAction", self.not_action),
                ("Resource", self.resource),
                ("NotResource", self.not_resource),
                ("Principal", self.principal),
                ("NotPrincipal", self.not_principal),
            )
            if v is not None
        )


@dataclass(frozen=True)
class PolicyDocument:
    kind: PolicyKind
    statements: tuple[Statement, ...]
    version: str | None = None  # None = absent (2008-10-17 semantics)
    id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, PolicyKind):
            raise TypeError(f"kind must be a PolicyKind, not {self.kind!r}")
        if self.version not in (None, VERSION_2012, VERSION_2008):
            raise _malformed(SYNTAX_MSG)
        if not self.statements:
            raise _malformed(SYNTAX_MSG)
        _check_unique_sids(st.sid for st in self.statements)
        for st in self.statements:
            try:
                _check_statement_for_kind(st, self.kind)
            except PolicySyntaxError as e:
                raise e.within(f"Statement[{st.index}]") from None

    @property
    def variables(self) -> bool:
        """Policy variables are interpreted only under Version 2012-10-17."""
        return self.version == VERSION_2012


_KIND_FIELDS = ("principal", "not_principal", "resource", "not_resource")


def _check_unique_sids(sids: Any, where: Any = None) -> None:
    """``where``: the statements' path segments, to say which repeats a Sid."""
    seen: set[str] = set()
    for i, sid in enumerate(sids):
        if sid:
            if sid in seen:
                at = where[i] if where is not None else f"Statement[{i}]"
                raise _malformed(DUP_SID_MSG, f"{at}.Sid")
            seen.add(sid)


def _check_prohibited(elements: Mapping[str, Any], kind: PolicyKind) -> None:
    """Elements this kind of policy may not have (checked with the syntax)."""
    if kind in _NO_PRINCIPAL_KINDS and ("principal" in elements or "not_principal" in elements):
        element = "Principal" if "principal" in elements else "NotPrincipal"
        raise _malformed("Policy document should not specify a principal.", element)
    if kind is PolicyKind.TRUST:
        if "not_principal" in elements:
            raise _malformed("Has prohibited field NotPrincipal", "NotPrincipal")
        if "resource" in elements or "not_resource" in elements:
            element = "Resource" if "resource" in elements else "NotResource"
            raise _malformed("Has prohibited field Resource", element)


def _check_statement_for_kind(st: Statement, kind: PolicyKind) -> None:
    _check_prohibited({k: v for k in _KIND_FIELDS if (v := getattr(st, k)) is not None}, kind)
    has_principal = st.principal is not None or st.not_principal is not None
    if kind in (PolicyKind.RESOURCE, PolicyKind.TRUST) and not has_principal:
        raise _malformed("Missing required field Principal")
    if kind is not PolicyKind.TRUST and not (st.resource or st.not_resource):
        raise _malformed(NO_RESOURCES_MSG)
    if st.sid is not None and kind is not PolicyKind.RESOURCE and not _SID.fullmatch(st.sid):
        raise _malformed(SID_MSG, "Sid")


# --- parsing ----------------------------------------------------------------


class _Dup(Exception):
    pass


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Dup(k)
        out[k] = v
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def _load(text: str) -> Any:
    if len(text) > MAX_DOCUMENT_CHARS:
        raise _malformed(f"Policy document is too large ({len(text)} characters)")
    bad = _BAD_CHARS.search(text)
    if bad:
        raise _malformed(
            f"Policy document contains an invalid character U+{ord(bad.group()):04X} at position {bad.start()}"
        )
    try:
        return jsontext.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise PolicySyntaxError(SYNTAX_MSG, line=e.lineno, column=e.colno, detail=e.msg) from None
    except _Dup as e:
        raise PolicySyntaxError(SYNTAX_MSG, detail=f"duplicate key {e.args[0]!r}") from None
    except ValueError as e:
        raise PolicySyntaxError(SYNTAX_MSG, detail=str(e)) from None


def _string_list(value: Any) -> tuple[str, ...]:
    """A string or an array of strings (possibly empty); anything else is a syntax error."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _malformed(SYNTAX_MSG)


def _scalar_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int | float):
        return json.dumps(v)
    raise _malformed(SYNTAX_MSG)


def _parse_principal(value: Any, element: str) -> Principal:
    if value == "*":
        return Principal(wildcard=True)
    if not isinstance(value, dict) or not value:
        raise _malformed(f'Invalid {element}: must be "*" or an object of principal types')
    entries: list[tuple[str, str]] = []
    wildcard = False
    for t, v in value.items():
        if t not in _PRINCIPAL_TYPES:
            raise _malformed(f"Invalid {element} type {t!r}")
        for item in _string_list(v):
            if item == "*" and t == "AWS":
                wildcard = True
            else:
                entries.append((t, item))
    return Principal(wildcard=wildcard, entries=tuple(entries))


def _parse_conditions(value: Any) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise _malformed(SYNTAX_MSG)
    out: list[Condition] = []
    for op, block in value.items():
        if not isinstance(block, dict):
            raise _malformed(SYNTAX_MSG, op)
        if cond.split_operator(op) is None:
            if block:
                raise _malformed(SYNTAX_MSG, op)
            continue  # AWS accepts an unknown operator with nothing under it
        for key, raw in block.items():
            items = raw if isinstance(raw, list) else [raw]
            try:
                out.append(Condition(op, key, tuple(_scalar_text(v) for v in items)))
            except PolicySyntaxError as e:
                raise e.within(f"{op}.{key}") from None
    return tuple(out)


@dataclass
class _Draft:
    """One statement after the syntax phase, before its checks by meaning."""

    index: int
    sid: str | None
    effect: str
    elements: dict[str, Any]  # Statement's keyword arguments
    conditions: tuple[Condition, ...]


_ELEMENTS = (
    ("Action", "action"),
    ("NotAction", "not_action"),
    ("Resource", "resource"),
    ("NotResource", "not_resource"),
)


def _syntax(raw: Any, index: int) -> _Draft:
    if not isinstance(raw, dict):
        raise _malformed(SYNTAX_MSG, "")
    unknown = set(raw) - _STMT_KEYS
    if unknown:
        raise _malformed(SYNTAX_MSG, sorted(unknown)[0])
    sid = raw.get("Sid")
    eff = raw.get("Effect")
    if sid is not None and not isinstance(sid, str):
        raise _malformed(SYNTAX_MSG, "Sid")
    if not isinstance(eff, str) or eff.lower() not in ("allow", "deny"):
        raise _malformed(SYNTAX_MSG, "Effect" if "Effect" in raw else "")
    if "Action" in raw and "NotAction" in raw:
        raise _malformed(SYNTAX_MSG, "NotAction")
    if "Resource" in raw and "NotResource" in raw:
        raise _malformed(SYNTAX_MSG, "NotResource")
    elements: dict[str, Any] = {}
    for element, attr in _ELEMENTS:
        if element in raw:
            try:
                elements[attr] = _string_list(raw[element])
            except PolicySyntaxError as e:
                raise e.within(element) from None
    for element, attr in (("Principal", "principal"), ("NotPrincipal", "not_principal")):
        if element in raw:
            try:
                elements[attr] = _parse_principal(raw[element], element)
            except PolicySyntaxError as e:
                raise e.within(element) from None
    try:
        conditions = _parse_conditions(raw["Condition"]) if "Condition" in raw else ()
    except PolicySyntaxError as e:
        raise e.within("Condition") from None
    return _Draft(index, sid, eff, elements, conditions)


def _legacy(d: _Draft, variables: bool) -> None:
    """What AWS's legacy parser refuses: an Effect in the wrong case, ARNs
    it cannot read, condition values its operator cannot take."""
    if d.effect not in ("Allow", "Deny"):
        raise _malformed(LEGACY_MSG, "Effect")
    resources = "Resource" if "resource" in d.elements else "NotResource"
    for r in d.elements.get("resource") or d.elements.get("not_resource") or ():
        problem = resource_problem(r)
        if problem and problem[0]:
            raise _malformed(LEGACY_MSG, resources)
    for c in d.conditions:
        if cond.validate_values(c.spec, c.values, variables):
            raise _malformed(LEGACY_MSG, f"Condition.{c.operator}.{c.key}")


def parse_policy(doc: str | bytes | Mapping[str, Any], kind: PolicyKind | str) -> PolicyDocument:
    """Parse and validate one policy document of ``kind``.

    Raises :class:`MalformedPolicyDocument` with AWS's message for any
    invalid input, checking in AWS's order (see ``SYNTAX_MSG``).
    """
    try:
        kind = PolicyKind(kind)
    except ValueError:
        raise TypeError(f"unknown policy kind {kind!r}") from None
    if isinstance(doc, bytes | bytearray):
        try:
            doc = bytes(doc).decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("Policy document is not valid UTF-8") from None
    if isinstance(doc, str):
        data = _load(doc)
    elif isinstance(doc, Mapping):
        try:
            jsontext.check_depth(doc)  # before json.dumps, which recurses
            text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            raise _malformed(SYNTAX_MSG) from None
        data = _load(text)
    else:
        raise _malformed("Policy document must be a JSON object")
    if not isinstance(data, dict):
        raise _malformed(SYNTAX_MSG, "")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _malformed(SYNTAX_MSG, sorted(unknown)[0])
    version = data.get("Version")
    pid = data.get("Id")
    raw = data.get("Statement")
    raw_list = [raw] if isinstance(raw, dict) else raw
    if "Version" in data and version not in (VERSION_2012, VERSION_2008):
        raise _malformed(SYNTAX_MSG, "Version")
    if pid is not None and not isinstance(pid, str):
        raise _malformed(SYNTAX_MSG, "Id")
    if not isinstance(raw_list, list) or not raw_list:
        raise _malformed(SYNTAX_MSG, "Statement")
    # Where each statement is, for the error's path: an object is the Statement itself.
    where = (
        ["Statement"]
        if isinstance(raw, dict)
        else [f"Statement[{i}]" for i in range(len(raw_list))]
    )
    variables = version == VERSION_2012
    drafts = []
    for i, s in enumerate(raw_list):
        try:
            drafts.append(_syntax(s, i))
        except PolicySyntaxError as e:
            raise e.within(where[i]) from None
    try:
        for d in drafts:
            _check_prohibited(d.elements, kind)
        for d in drafts:
            _legacy(d, variables)
    except PolicySyntaxError as e:
        raise e.within(where[d.index]) from None
    _check_unique_sids((d.sid for d in drafts), where)
    for d in drafts:
        if not (d.elements.get("action") or d.elements.get("not_action")):
            raise _malformed(NO_ACTIONS_MSG, where[d.index])
        if kind is not PolicyKind.TRUST and not (
            d.elements.get("resource") or d.elements.get("not_resource")
        ):
            raise _malformed(NO_RESOURCES_MSG, where[d.index])
    statements = []
    for d in drafts:
        try:
            statements.append(
                Statement(
                    index=d.index,
                    effect=Effect(d.effect),
                    sid=d.sid,
                    conditions=d.conditions,
                    **d.elements,
                )
            )
        except PolicySyntaxError as e:
            raise e.within(where[d.index]) from None
    try:
        return PolicyDocument(kind=kind, statements=tuple(statements), version=version, id=pid)
    except PolicySyntaxError as e:
        if isinstance(raw, dict) and e.path and e.path.startswith("Statement[0]"):
            e.path = "Statement" + e.path[len("Statement[0]") :]
        raise
