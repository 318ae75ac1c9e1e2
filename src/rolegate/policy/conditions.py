"""Every condition operator, ``...IfExists``, ``ForAnyValue:`` and ``ForAllValues:``.

The operator table :data:`OPERATORS` is the single source of truth: parsing
rejects any name not in it (never fail open), and :func:`compile_condition`
turns one ``(operator, key, values)`` into ``fn(ctx) -> bool`` over a context
whose keys are lower-cased and whose values are ``str`` or ``tuple[str, ...]``.

Semantics (reference §4.3, AWS "Condition operators"):

- values of one key OR together; for a negated operator the request value must
  differ from **all** of them (negation of the positive match);
- key absent: positive operators false, negated operators true, ``...IfExists``
  true; ``Null`` tests presence;
- ``ForAnyValue``: some request value matches (absent or empty => false);
  ``ForAllValues``: every request value matches (absent or empty => true);
  a negated operator under a set qualifier is negated per request value;
- a policy value whose variable cannot be resolved never matches positively.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from rolegate.policy import match as m
from rolegate.policy.variables import (
    Template,
    Var,
    parse_template,
    resolve,
    template_text,
    var_value,
)

__all__ = [
    "OPERATORS",
    "OperatorSpec",
    "split_operator",
    "compile_condition",
    "parse_number",
    "parse_date",
    "parse_ip",
    "parse_network",
    "parse_binary",
    "ConditionFn",
]


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    name: str
    family: str  # str_eq str_eq_ic str_like num date bool binary ip arn null
    negated: bool
    compare: str = "eq"  # for num/date: eq lt le gt ge
    variables: bool = False  # policy variables allowed in values


def _spec(
    name: str, family: str, negated: bool = False, compare: str = "eq", variables: bool = False
) -> tuple[str, OperatorSpec]:
    return name, OperatorSpec(name, family, negated, compare, variables)


OPERATORS: dict[str, OperatorSpec] = dict(
    [
        _spec("StringEquals", "str_eq", variables=True),
        _spec("StringNotEquals", "str_eq", True, variables=True),
        _spec("StringEqualsIgnoreCase", "str_eq_ic", variables=True),
        _spec("StringNotEqualsIgnoreCase", "str_eq_ic", True, variables=True),
        _spec("StringLike", "str_like", variables=True),
        _spec("StringNotLike", "str_like", True, variables=True),
        _spec("NumericEquals", "num"),
        _spec("NumericNotEquals", "num", True),
        _spec("NumericLessThan", "num", compare="lt"),
        _spec("NumericLessThanEquals", "num", compare="le"),
        _spec("NumericGreaterThan", "num", compare="gt"),
        _spec("NumericGreaterThanEquals", "num", compare="ge"),
        _spec("DateEquals", "date"),
        _spec("DateNotEquals", "date", True),
        _spec("DateLessThan", "date", compare="lt"),
        _spec("DateLessThanEquals", "date", compare="le"),
        _spec("DateGreaterThan", "date", compare="gt"),
        _spec("DateGreaterThanEquals", "date", compare="ge"),
        _spec("Bool", "bool", variables=True),
        _spec("BinaryEquals", "binary"),
        _spec("IpAddress", "ip"),
        _spec("NotIpAddress", "ip", True),
        _spec("ArnEquals", "arn", variables=True),
        _spec("ArnLike", "arn", variables=True),
        _spec("ArnNotEquals", "arn", True, variables=True),
        _spec("ArnNotLike", "arn", True, variables=True),
        _spec("Null", "null"),
    ]
)

QUALIFIERS = ("ForAnyValue", "ForAllValues")


def split_operator(name: str) -> tuple[str | None, OperatorSpec, bool] | None:
    """``"ForAnyValue:StringLikeIfExists"`` -> ``("ForAnyValue", spec(StringLike), True)``; None if unknown."""
    qualifier: str | None = None
    base = name
    if ":" in name:
        qualifier, _, base = name.partition(":")
        if qualifier not in QUALIFIERS:
            return None
    if_exists = False
    spec = OPERATORS.get(base)
    if spec is None and base.endswith("IfExists"):
        spec = OPERATORS.get(base[: -len("IfExists")])
        if spec is None or spec.family == "null":
            return None
        if_exists = True
    if spec is None:
        return None
    return qualifier, spec, if_exists


# --- value parsers (shared with the reference evaluator) --------------------

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_number(s: str) -> Decimal | None:
    s = s.strip()
    if not _NUMBER.fullmatch(s):
        return None
    try:
        return Decimal(s)
    except InvalidOperation:  # pragma: no cover - regex guards
        return None


_EPOCH = re.compile(r"[+-]?\d{1,12}(\.\d+)?")


def parse_date(s: str) -> Decimal | None:
    """ISO 8601 (date, date-time, with zone or Z) or epoch seconds -> epoch seconds."""
    s = s.strip()
    if _EPOCH.fullmatch(s) and not (len(s) == 8 and s.isdigit()):
        return Decimal(s)
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        whole = Decimal(int(dt.timestamp()))
    except (OverflowError, OSError, ValueError):
        return None
    return whole + (Decimal(dt.microsecond) / Decimal(1_000_000))


def parse_ip(s: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    s = s.strip()
    try:
        if "/" in s:
            net = ipaddress.ip_network(s, strict=False)
            if net.num_addresses != 1:
                return None
            return net.network_address
        return ipaddress.ip_address(s)
    except ValueError:
        return None


def parse_network(s: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(s.strip(), strict=False)
    except ValueError:
        return None


def parse_binary(s: str) -> bytes | None:
    try:
        return base64.b64decode(s.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def bool_text(s: str) -> str:
    return s.strip().lower()


# --- compilation ------------------------------------------------------------

ConditionFn = Callable[[Mapping[str, object]], bool]
ValueMatch = Callable[[str, Mapping[str, object]], bool]


def _cmp(op: str) -> Callable[[Any, Any], bool]:
    if op == "lt":
        return lambda a, b: a < b
    if op == "le":
        return lambda a, b: a <= b
    if op == "gt":
        return lambda a, b: a > b
    if op == "ge":
        return lambda a, b: a >= b
    return lambda a, b: a == b


def _templates(values: tuple[str, ...], variables: bool) -> list[Template]:
    return [parse_template(v, variables=variables) for v in values]


def _resolver(template: Template) -> Callable[[Mapping[str, object]], str | None]:
    """``ctx -> text`` of a template with variables (None when one is unresolved)."""
    if len(template) == 1 and isinstance(template[0], Var):
        var = template[0]
        key = var.key

        def one(ctx: Mapping[str, object]) -> str | None:
            v = ctx.get(key)
            if v.__class__ is str:
                return v
            return var_value(var, ctx)

        return one

    def many(ctx: Mapping[str, object]) -> str | None:
        r = resolve(template, ctx)
        if r is None:
            return None
        return "".join(p if isinstance(p, str) else p.text for p in r)

    return many


def _positive_matcher(spec: OperatorSpec, values: tuple[str, ...], variables: bool) -> ValueMatch:
    """``pos(request_value, ctx)``: does the value match any policy value (positive sense)?"""
    fam = spec.family
    var_ok = variables and spec.variables
    if fam in ("str_eq", "str_eq_ic", "bool"):
        templates = _templates(values, var_ok)
        dynamic = [t for t in templates if any(isinstance(p, Var) for p in t)]
        static = [t for t in templates if t not in dynamic]
        norm: Callable[[str], str] | None
        if fam == "str_eq":
            norm = None
        elif fam == "str_eq_ic":
            norm = str.lower
        else:
            norm = bool_text
        texts = (template_text(t) for t in static)
        fixed = frozenset(texts if norm is None else map(norm, texts))
        if not dynamic:
            if norm is None:
                return lambda s, ctx: s in fixed
            # exact hit first: request values are usually already normalised
            return lambda s, ctx: s in fixed or norm(s) in fixed
        resolvers = tuple(_resolver(t) for t in dynamic)

        def pos_dyn(s: str, ctx: Mapping[str, object]) -> bool:
            v = s if norm is None else norm(s)
            if v in fixed:
                return True
            for r in resolvers:
                x = r(ctx)
                if x is not None and (x if norm is None else norm(x)) == v:
                    return True
            return False

        return pos_dyn
    if fam in ("str_like", "arn"):
        arn_mode = fam == "arn"
        matchers = [m.compile_template(t, arn_mode=arn_mode) for t in _templates(values, var_ok)]
        if arn_mode:

            def pos_arn(s: str, ctx: Mapping[str, object]) -> bool:
                if s.count(":") < 5:
                    return False
                return any(f(s, ctx) for f in matchers)

            return pos_arn
        if len(matchers) == 1:
            return matchers[0]
        return lambda s, ctx: any(f(s, ctx) for f in matchers)
    if fam == "num" or fam == "date":
        parse = parse_number if fam == "num" else parse_date
        nums = [parse(v) for v in values]
        if any(n is None for n in nums):
            raise ValueError(f"{spec.name}: invalid value")
        cmp = _cmp(spec.compare)

        def pos_num(s: str, ctx: Mapping[str, object]) -> bool:
            x = parse(s)
            if x is None:
                return False
            return any(cmp(x, n) for n in nums)

        return pos_num
    if fam == "binary":
        blobs = [parse_binary(v) for v in values]
        if any(b is None for b in blobs):
            raise ValueError(f"{spec.name}: invalid base64 value")
        bset = frozenset(blobs)

        def pos_bin(s: str, ctx: Mapping[str, object]) -> bool:
            b = parse_binary(s)
            return b is not None and b in bset

        return pos_bin
    if fam == "ip":
        parsed = [parse_network(v) for v in values]
        nets = [n for n in parsed if n is not None]
        if len(nets) != len(parsed):
            raise ValueError(f"{spec.name}: invalid IP address or CIDR")

        def pos_ip(s: str, ctx: Mapping[str, object]) -> bool:
            addr = parse_ip(s)
            if addr is None:
                return False
            return any(addr.version == n.version and addr in n for n in nets)

        return pos_ip
    raise ValueError(f"unknown operator family {fam}")  # pragma: no cover


def validate_values(spec: OperatorSpec, values: tuple[str, ...], variables: bool) -> str | None:
    """A problem with the policy values of this operator, or None."""
    if spec.family == "null":
        for v in values:
            if v.strip().lower() not in ("true", "false"):
                return f"Null value must be true or false, not {v!r}"
        return None
    try:
        _positive_matcher(spec, values, variables)
    except ValueError as e:
        return str(e)
    return None


def compile_condition(
    qualifier: str | None,
    spec: OperatorSpec,
    if_exists: bool,
    key: str,
    values: tuple[str, ...],
    variables: bool,
) -> ConditionFn:
    """``fn(ctx) -> bool`` for one key under one operator. ``key`` must be lower-cased."""
    if spec.family == "null":
        wants = frozenset(v.strip().lower() == "true" for v in values)

        def null_fn(ctx: Mapping[str, object]) -> bool:
            return (key not in ctx) in wants

        return null_fn

    pos = _positive_matcher(spec, values, variables)
    negated = spec.negated

    if qualifier is None:
        missing = if_exists or negated

        if negated:

            def plain_negated(ctx: Mapping[str, object]) -> bool:
                v = ctx.get(key)
                if v is None:
                    return missing
                if v.__class__ is str:
                    return not pos(v, ctx)
                return not any(pos(x, ctx) for x in cast("Iterable[str]", v))

            return plain_negated

        def plain(ctx: Mapping[str, object]) -> bool:
            v = ctx.get(key)
            if v is None:
                return missing
            if v.__class__ is str:
                return pos(v, ctx)
            return any(pos(x, ctx) for x in cast("Iterable[str]", v))

        return plain

    if qualifier == "ForAnyValue":

        def any_value(ctx: Mapping[str, object]) -> bool:
            v = ctx.get(key)
            if v is None:
                return if_exists
            vals = (v,) if v.__class__ is str else cast("Iterable[str]", v)
            return any(pos(x, ctx) is not negated for x in vals)

        return any_value

    def all_values(ctx: Mapping[str, object]) -> bool:
        v = ctx.get(key)
        if v is None:
            return True
        vals = (v,) if v.__class__ is str else cast("Iterable[str]", v)
        return all(pos(x, ctx) is not negated for x in vals)

    return all_values
