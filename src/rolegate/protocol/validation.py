"""Constraint validation of decoded requests, with AWS's exact messages.

botocore checks only required members, types and minimums client-side
(``botocore/validate.py``: ``range_check`` ignores ``max``), so the server
enforces every ``min``/``max``/``pattern``/``enum`` of the model itself, as
AWS's Coral framework does, and words the failures the way AWS does::

    1 validation error detected: Value 'a b' at 'roleSessionName' failed to
    satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*

Validators are compiled once per shape into closures
``check(value, path, errors) -> None`` that append message items; shapes
without constraints compile to ``None`` so the hot path skips them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.model import Shape

from rolegate.errors import ValidationError
from rolegate.protocol.patterns import compile_java_pattern

Check = Callable[[Any, str, list[str]], None]

# A decoder stores this for a member it could not convert (bad integer...);
# the error is already recorded and validators must not report it again.
INVALID: Any = type("_Invalid", (), {"__repr__": lambda self: "<invalid>"})()

# AWS lists every violation; we stop listing after this many so a hostile body
# with thousands of bad members cannot make a megabyte-sized error message.
MAX_REPORTED_ERRORS = 100


def display_name(member_name: str) -> str:
    """AWS reports members in lowerCamelCase: RoleArn -> roleArn."""
    return member_name[:1].lower() + member_name[1:]


def join_path(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def render_value(value: Any) -> str:
    """A value as Coral prints it inside ``Value '...'`` (Java toString-like)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def violation(value: Any, path: str, constraint: str, *, sensitive: bool = False) -> str:
    """One message item. AWS quotes every non-null value, numbers included
    ("Value '50000' at 'durationSeconds'"), prints ``null`` bare and omits
    the value of members marked sensitive ("Value at 'password'")."""
    if value is None:
        return f"Value null at '{path}' failed to satisfy constraint: {constraint}"
    if sensitive:
        return f"Value at '{path}' failed to satisfy constraint: {constraint}"
    return f"Value '{render_value(value)}' at '{path}' failed to satisfy constraint: {constraint}"


def validation_message(items: list[str]) -> str:
    count = len(items)
    shown = items[:MAX_REPORTED_ERRORS]
    if count == 1:
        return "1 validation error detected: " + shown[0]
    return f"{count} validation errors detected: " + "; ".join(shown)


def raise_validation(items: list[str], *, code: str | None = None) -> None:
    """Raise the one ValidationError for all collected items (if any)."""
    if items:
        raise ValidationError(validation_message(items), code=code)


def _java_length(value: str) -> int:
    """String length as Java counts it (UTF-16 code units): AWS's min/max are
    Java ``String.length()``, so a character outside the BMP counts twice."""
    n = len(value)
    if not value.isascii() and max(value) > "\uffff":
        n += sum(1 for c in value if c > "\uffff")
    return n


class ValidatorCompiler:
    """Compiles validators for one service's shapes, memoised by shape name
    (shapes are shared across operations; recursion goes through a cell)."""

    def __init__(self) -> None:
        self._memo: dict[str, Check | None] = {}

    def compile(self, shape: Shape) -> Check | None:
        key = shape.name
        if key in self._memo:
            return self._memo[key]
        cell: list[Check | None] = [None]

        def forward(value: Any, path: str, errors: list[str]) -> None:
            target = cell[0]
            if target is not None:
                target(value, path, errors)

        # Recursive shapes see the forwarder; it is replaced once compiled.
        self._memo[key] = forward
        built = self._build(shape)
        cell[0] = built
        self._memo[key] = built
        return built

    def _build(self, shape: Shape) -> Check | None:
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        if kind == "string":
            return self._string(shape)
        if kind in ("integer", "long", "float", "double"):
            return self._number(shape)
        if kind == "blob":
            return self._blob(shape)
        return None  # boolean, timestamp: no constraints in the models

    def _structure(self, shape: Shape) -> Check | None:
        required = set(shape.required_members)
        members: list[tuple[str, str, bool, Check | None]] = []
        for name, member in shape.members.items():
            check = self.compile(member)
            if check is None and name not in required:
                continue
            members.append((name, display_name(name), name in required, check))
        if not members:
            return None
        plan = tuple(members)

        def check_structure(value: Any, path: str, errors: list[str]) -> None:
            get = value.get
            for name, display, is_required, check in plan:
                v = get(name)
                if v is None:
                    if is_required:
                        errors.append(
                            violation(None, join_path(path, display), "Member must not be null")
                        )
                elif check is not None and v is not INVALID:
                    check(v, join_path(path, display), errors)

        return check_structure

    def _length_checks(self, shape: Shape) -> tuple[int | None, int | None]:
        meta = shape.metadata
        return meta.get("min"), meta.get("max")

    def _list(self, shape: Shape) -> Check | None:
        lo, hi = self._length_checks(shape)
        element = self.compile(shape.member)
        sensitive = bool(shape.metadata.get("sensitive"))
        if lo is None and hi is None and element is None:
            return None

        def check_list(value: Any, path: str, errors: list[str]) -> None:
            n = len(value)
            if lo is not None and n < lo:
                errors.append(
                    violation(
                        value,
                        path,
                        f"Member must have length greater than or equal to {lo}",
                        sensitive=sensitive,
                    )
                )
            if hi is not None and n > hi:
                errors.append(
                    violation(
                        value,
                        path,
                        f"Member must have length less than or equal to {hi}",
                        sensitive=sensitive,
                    )
                )
            if element is not None:
                for i, item in enumerate(value, 1):
                    if item is None:
                        errors.append(
                            violation(None, f"{path}.{i}.member", "Member must not be null")
                        )
                    elif item is not INVALID:
                        element(item, f"{path}.{i}.member", errors)

        return check_list

    def _map(self, shape: Shape) -> Check | None:
        lo, hi = self._length_checks(shape)
        key_check = self.compile(shape.key)
        value_check = self.compile(shape.value)
        if lo is None and hi is None and key_check is None and value_check is None:
            return None

        def check_map(value: Any, path: str, errors: list[str]) -> None:
            n = len(value)
            if lo is not None and n < lo:
                errors.append(
                    violation(value, path, f"Member must have length greater than or equal to {lo}")
                )
            if hi is not None and n > hi:
                errors.append(
                    violation(value, path, f"Member must have length less than or equal to {hi}")
                )
            for k, v in value.items():
                if key_check is not None:
                    key_check(k, f"{path}.{k}.key", errors)
                if value_check is not None and v is not None and v is not INVALID:
                    value_check(v, f"{path}.{k}.value", errors)

        return check_map

    def _string(self, shape: Shape) -> Check | None:
        meta = shape.metadata
        lo, hi = meta.get("min"), meta.get("max")
        pattern = meta.get("pattern")
        enum = shape.enum
        sensitive = bool(meta.get("sensitive"))
        if lo is None and hi is None and pattern is None and not enum:
            return None
        fullmatch = compile_java_pattern(pattern).fullmatch if pattern is not None else None
        allowed = frozenset(enum) if enum else None
        enum_text = "[" + ", ".join(enum) + "]" if enum else ""
        lo_msg = f"Member must have length greater than or equal to {lo}"
        hi_msg = f"Member must have length less than or equal to {hi}"
        pattern_msg = f"Member must satisfy regular expression pattern: {pattern}"
        enum_msg = f"Member must satisfy enum value set: {enum_text}"

        def check_string(value: Any, path: str, errors: list[str]) -> None:
            if lo is not None or hi is not None:
                n = len(value) if value.isascii() else _java_length(value)
                if lo is not None and n < lo:
                    errors.append(violation(value, path, lo_msg, sensitive=sensitive))
                if hi is not None and n > hi:
                    errors.append(violation(value, path, hi_msg, sensitive=sensitive))
            if fullmatch is not None and fullmatch(value) is None:
                errors.append(violation(value, path, pattern_msg, sensitive=sensitive))
            if allowed is not None and value not in allowed:
                errors.append(violation(value, path, enum_msg, sensitive=sensitive))

        return check_string

    def _number(self, shape: Shape) -> Check | None:
        meta = shape.metadata
        lo, hi = meta.get("min"), meta.get("max")
        if lo is None and hi is None:
            return None
        lo_msg = f"Member must have value greater than or equal to {lo}"
        hi_msg = f"Member must have value less than or equal to {hi}"

        def check_number(value: Any, path: str, errors: list[str]) -> None:
            if lo is not None and value < lo:
                errors.append(violation(value, path, lo_msg))
            if hi is not None and value > hi:
                errors.append(violation(value, path, hi_msg))

        return check_number

    def _blob(self, shape: Shape) -> Check | None:
        meta = shape.metadata
        lo, hi = meta.get("min"), meta.get("max")
        if lo is None and hi is None:
            return None

        def check_blob(value: Any, path: str, errors: list[str]) -> None:
            # A blob's value is never echoed: it is binary and often a secret.
            if lo is not None and len(value) < lo:
                errors.append(
                    violation(
                        value,
                        path,
                        f"Member must have length greater than or equal to {lo}",
                        sensitive=True,
                    )
                )
            if hi is not None and len(value) > hi:
                errors.append(
                    violation(
                        value,
                        path,
                        f"Member must have length less than or equal to {hi}",
                        sensitive=True,
                    )
                )

        return check_blob
