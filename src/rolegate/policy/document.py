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

from rolegate.errors import MalformedPolicyDocument
from rolegate.policy import conditions as cond

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
_VENDOR_MSG = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."


def policy_size(text: str) -> int:
    """Characters of ``text`` excluding whitespace, as IAM counts them for quotas."""
    return sum(1 for c in text if not c.isspace())


def _malformed(msg: str) -> MalformedPolicyDocument:
    return MalformedPolicyDocument(msg)


def _where(index: int, sid: str | None) -> str:
    return f"Statement[{index}]" + (f" (Sid {sid!r})" if sid else "")


# --- data -------------------------------------------------------------------


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
        where = _where(self.index, self.sid)
        if not isinstance(self.effect, Effect):
            raise _malformed(f"{where}: Invalid effect: {self.effect!r}")
        if (self.action is None) == (self.not_action is None):
            raise _malformed(
                f"{where}: Policy statement must contain exactly one of Action or NotAction"
            )
        for a in self.action if self.action is not None else self.not_action:  # type: ignore[union-attr]
            if a != "*" and not _valid_action(a):
                raise _malformed(f"{where}: {_VENDOR_MSG} Action {a!r} is invalid")
        if self.resource is not None and self.not_resource is not None:
            raise _malformed(
                f"{where}: Policy statement must contain only one of Resource or NotResource"
            )
        for r in self.resource or self.not_resource or ():
            if not _valid_resource(r):
                raise _malformed(f'{where}: Resource {r} must be in ARN format or "*".')
        if self.principal is not None and self.not_principal is not None:
            raise _malformed(
                f"{where}: Policy statement must contain only one of Principal or NotPrincipal"
            )

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


def _valid_action(a: str) -> bool:
    vendor, sep, name = a.partition(":")
    return bool(sep and vendor and name) and ":" not in name and not any(c.isspace() for c in a)


def _colons_outside_variables(r: str) -> int:
    return len(re.sub(r"\$\{[^}]*\}", "", r).split(":")) - 1


def _valid_resource(r: str) -> bool:
    if r == "*":
        return True
    return r.startswith("arn:") and _colons_outside_variables(r) >= 5


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
            raise _malformed(f"The policy failed legacy parsing: invalid Version {self.version!r}")
        if not self.statements:
            raise _malformed("Policy document must contain at least one statement")
        seen: set[str] = set()
        for st in self.statements:
            _check_statement_for_kind(st, self.kind)
            if st.sid:
                if st.sid in seen:
                    raise _malformed(
                        f"Statement IDs (SID) in a single policy must be unique: {st.sid!r}"
                    )
                seen.add(st.sid)

    @property
    def variables(self) -> bool:
        """Policy variables are interpreted only under Version 2012-10-17."""
        return self.version == VERSION_2012


def _check_statement_for_kind(st: Statement, kind: PolicyKind) -> None:
    where = _where(st.index, st.sid)
    has_principal = st.principal is not None or st.not_principal is not None
    if kind in _NO_PRINCIPAL_KINDS and has_principal:
        raise _malformed(f"Policy document should not specify a principal. ({where})")
    if kind in (PolicyKind.RESOURCE, PolicyKind.TRUST) and not has_principal:
        raise _malformed(f"{where}: Missing required field Principal")
    if kind is PolicyKind.TRUST:
        if st.not_principal is not None:
            raise _malformed(f"{where}: Has prohibited field NotPrincipal")
        if st.resource is not None or st.not_resource is not None:
            raise _malformed(f"{where}: Has prohibited field Resource")
    elif st.resource is None and st.not_resource is None:
        raise _malformed(f"{where}: Missing required field Resource")
    if st.sid is not None and kind is not PolicyKind.RESOURCE and not _SID.fullmatch(st.sid):
        raise _malformed(f"{where}: Statement IDs (SID) must be alpha-numeric.")


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
        return json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant)
    except _Dup as e:
        raise _malformed(f"Syntax errors in policy. Duplicate key {e.args[0]!r}") from None
    except (ValueError, RecursionError) as e:
        raise _malformed(f"Syntax errors in policy. {e}") from None


def _string_list(value: Any, where: str, element: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    if isinstance(value, list) and not value:
        raise _malformed(f"{where}: {element} must not be empty")
    raise _malformed(f"{where}: {element} must be a string or an array of strings")


def _scalar_text(v: Any, where: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int | float):
        return json.dumps(v)
    raise _malformed(f"{where}: condition values must be strings, numbers or booleans")


def _parse_principal(value: Any, where: str, element: str) -> Principal:
    if value == "*":
        return Principal(wildcard=True)
    if not isinstance(value, dict) or not value:
        raise _malformed(f'{where}: Invalid {element}: must be "*" or an object of principal types')
    entries: list[tuple[str, str]] = []
    wildcard = False
    for t, v in value.items():
        if t not in _PRINCIPAL_TYPES:
            raise _malformed(f"{where}: Invalid {element} type {t!r}")
        for item in _string_list(v, where, f"{element}.{t}"):
            if item == "*" and t == "AWS":
                wildcard = True
            else:
                entries.append((t, item))
    return Principal(wildcard=wildcard, entries=tuple(entries))


def _parse_conditions(value: Any, where: str, variables: bool) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise _malformed(f"{where}: Condition must be an object")
    out: list[Condition] = []
    for op, block in value.items():
        if cond.split_operator(op) is None:
            raise _malformed(f"{where}: Invalid Condition type : {op}")
        if not isinstance(block, dict):
            raise _malformed(f"{where}: Condition {op} must map keys to values")
        for key, raw in block.items():
            w = f"{where} Condition {op} {key}"
            items = raw if isinstance(raw, list) else [raw]
            values = tuple(_scalar_text(v, w) for v in items)
            c = Condition(op, key, values)
            problem = cond.validate_values(c.spec, values, variables)
            if problem:
                raise _malformed(f"{w}: {problem}")
            out.append(c)
    return tuple(out)


def _parse_statement(raw: Any, index: int, variables: bool) -> Statement:
    where = f"Statement[{index}]"
    if not isinstance(raw, dict):
        raise _malformed(f"{where}: a statement must be an object")
    unknown = set(raw) - _STMT_KEYS
    if unknown:
        raise _malformed(
            f"{where}: Syntax errors in policy. Unknown element {sorted(unknown)[0]!r}"
        )
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise _malformed(f"{where}: Sid must be a string")
    where = _where(index, sid)
    eff = raw.get("Effect")
    if eff not in ("Allow", "Deny"):
        raise _malformed(
            f"{where}: Invalid effect: {eff!r}"
            if eff is not None
            else f"{where}: Missing required field Effect"
        )
    kwargs: dict[str, Any] = {}
    for element, attr in (
        ("Action", "action"),
        ("NotAction", "not_action"),
        ("Resource", "resource"),
        ("NotResource", "not_resource"),
    ):
        if element in raw:
            kwargs[attr] = _string_list(raw[element], where, element)
    if "Action" not in raw and "NotAction" not in raw:
        raise _malformed(f"{where}: Missing required field Action")
    for element, attr in (("Principal", "principal"), ("NotPrincipal", "not_principal")):
        if element in raw:
            kwargs[attr] = _parse_principal(raw[element], where, element)
    if "Condition" in raw:
        kwargs["conditions"] = _parse_conditions(raw["Condition"], where, variables)
    return Statement(index=index, effect=Effect(eff), sid=sid, **kwargs)


def parse_policy(doc: str | bytes | Mapping[str, Any], kind: PolicyKind | str) -> PolicyDocument:
    """Parse and validate one policy document of ``kind``.

    Raises :class:`MalformedPolicyDocument` naming the problem (statement and
    element) for any invalid input.
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
            text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise _malformed(f"Syntax errors in policy. {e}") from None
        data = _load(text)
    else:
        raise _malformed("Policy document must be a JSON object")
    if not isinstance(data, dict):
        raise _malformed("Syntax errors in policy. The document must be a JSON object")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _malformed(f"Syntax errors in policy. Unknown element {sorted(unknown)[0]!r}")
    version = data.get("Version")
    if version is not None and version not in (VERSION_2012, VERSION_2008):
        raise _malformed(f"The policy failed legacy parsing: invalid Version {version!r}")
    pid = data.get("Id")
    if pid is not None and not isinstance(pid, str):
        raise _malformed("Id must be a string")
    if "Statement" not in data:
        raise _malformed("Missing required field Statement")
    raw = data["Statement"]
    raw_list = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw_list, list):
        raise _malformed("Statement must be an object or an array of objects")
    variables = version == VERSION_2012
    statements = tuple(_parse_statement(s, i, variables) for i, s in enumerate(raw_list))
    return PolicyDocument(kind=kind, statements=statements, version=version, id=pid)
