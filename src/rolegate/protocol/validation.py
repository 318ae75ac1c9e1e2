"""Constraint validation of decoded requests, with AWS's exact messages.

botocore checks only required members, types and minimums client-side
(``botocore/validate.py``: ``range_check`` ignores ``max``), so the server
enforces every ``min``/``max``/``pattern``/``enum`` of the model itself, as
AWS's Coral framework does, and words the failures the way AWS does::

    1 validation error detected: Value 'a b' at 'roleSessionName' failed to
    satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*

Validators are compiled once per shape into closures
``check(value, parent, name, errors) -> None`` that append message items;
shapes without constraints compile to ``None`` so the hot path skips them.
A member's path (``tags.1.member.key``) is only built when something fails:
``node_path(parent, name)``, where ``name`` is a member's display name or a
list position (an int).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.model import Shape

from rolegate.errors import ValidationError
from rolegate.protocol.patterns import compile_java_pattern

Check = Callable[[Any, str, "str | int", list[str]], None]

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


def node_path(parent: str, name: str | int) -> str:
    """The AWS path of a member (``name`` str) or list element (``name`` int)."""
    if type(name) is int:
        return f"{parent}.{name}.member"
    # A str here; mypy narrows ``type(x) is int`` on the true side only.
    return f"{parent}.{name}" if parent else name  # type: ignore[return-value]


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


_NO_MAX = 1 << 62


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

        def forward(value: Any, parent: str, name: str | int, errors: list[str]) -> None:
            target = cell[0]
            if target is not None:
                target(value, parent, name, errors)

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
        union = bool(shape.metadata.get("union"))
        if union:
            return self._union(shape, tuple(members))
        if not members:
            return None
        plan = tuple(members)  # model order, which is the order AWS reports in

        def check_structure(value: Any, parent: str, name: str | int, errors: list[str]) -> None:
            # This structure's own path, as the parent of its members.
            here = node_path(parent, name) if name != "" else parent
            get = value.get
            for member, display, is_required, check in plan:
                v = get(member)
                if v is None:
                    if is_required:
                        errors.append(
                            violation(None, node_path(here, display), "Member must not be null")
                        )
                elif check is not None and v is not INVALID:
                    check(v, here, display, errors)

        return check_structure

    def _union(
        self, shape: Shape, members: tuple[tuple[str, str, bool, Check | None], ...]
    ) -> Check:
        """A tagged union (``"union": true`` in the model): exactly one member
        set, then that member's own checks. The text follows the constraint
        wording of the other violations; no recorded AWS answer for a union
        set twice over the Query protocol was found."""
        names = tuple(shape.members)
        checks = {name: check for name, _, _, check in members}
        displays = {name: display for name, display, _, _ in members}
        allowed = ", ".join(display_name(n) for n in names)

        def check_union(value: Any, parent: str, name: str | int, errors: list[str]) -> None:
            here = node_path(parent, name) if name != "" else parent
            chosen = [n for n in names if value.get(n) is not None]
            if len(chosen) != 1:
                errors.append(
                    f"Value at '{here}' failed to satisfy constraint: Member must have "
                    f"exactly one of its members set ({allowed})"
                )
                return
            member = chosen[0]
            check = checks.get(member)
            v = value[member]
            if check is not None and v is not INVALID:
                check(v, here, displays.get(member, display_name(member)), errors)

        return check_union

    def _list(self, shape: Shape) -> Check | None:
        meta = shape.metadata
        lo, hi = meta.get("min"), meta.get("max")
        element = self.compile(shape.member)
        sensitive = bool(meta.get("sensitive"))
        if lo is None and hi is None and element is None:
            return None
        low, high = lo or 0, _NO_MAX if hi is None else hi

        def check_list(value: Any, parent: str, name: str | int, errors: list[str]) -> None:
            here = node_path(parent, name)
            if not low <= len(value) <= high:
                n = len(value)
                if n < low:
                    constraint = f"Member must have length greater than or equal to {lo}"
                else:
                    constraint = f"Member must have length less than or equal to {hi}"
                errors.append(violation(value, here, constraint, sensitive=sensitive))
            if element is not None:
                for i, item in enumerate(value, 1):
                    if item is None:
                        errors.append(
                            violation(None, node_path(here, i), "Member must not be null")
                        )
                    elif item is not INVALID:
                        element(item, here, i, errors)

        return check_list

    def _map(self, shape: Shape) -> Check | None:
        meta = shape.metadata
        lo, hi = meta.get("min"), meta.get("max")
        key_check = self.compile(shape.key)
        value_check = self.compile(shape.value)
        if lo is None and hi is None and key_check is None and value_check is None:
            return None
        low, high = lo or 0, _NO_MAX if hi is None else hi

        def check_map(value: Any, parent: str, name: str | int, errors: list[str]) -> None:
            here = node_path(parent, name)
            n = len(value)
            if n < low:
                errors.append(
                    violation(value, here, f"Member must have length greater than or equal to {lo}")
                )
            if n > high:
                errors.append(
                    violation(value, here, f"Member must have length less than or equal to {hi}")
                )
            for k, v in value.items():
                entry = f"{here}.{k}"
                if key_check is not None:
                    key_check(k, entry, "key", errors)
                if value_check is not None and v is not None and v is not INVALID:
                    value_check(v, entry, "value", errors)

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
        low, high = lo or 0, _NO_MAX if hi is None else hi
        lo_msg = f"Member must have length greater than or equal to {lo}"
        hi_msg = f"Member must have length less than or equal to {hi}"
        pattern_msg = f"Member must satisfy regular expression pattern: {pattern}"
        enum_msg = f"Member must satisfy enum value set: {enum_text}"

        def check_string(value: Any, parent: str, name: str | int, errors: list[str]) -> None:
            n = len(value) if value.isascii() else _java_length(value)
            pattern_ok = fullmatch is None or fullmatch(value) is not None
            enum_ok = allowed is None or value in allowed
            if low <= n <= high and pattern_ok and enum_ok:
                return  # the common case: one length check, one match
            path = node_path(parent, name)
            if n < low:
                errors.append(violation(value, path, lo_msg, sensitive=sensitive))
            if n > high:
                errors.append(violation(value, path, hi_msg, sensitive=sensitive))
            if not pattern_ok:
                errors.append(violation(value, path, pattern_msg, sensitive=sensitive))
            if not enum_ok:
                errors.append(violation(value, path, enum_msg, sensitive=sensitive))

        return check_string

    def _number(self, shape: Shape) -> Check | None:
        meta = shape.metadata
        lo, hi = meta.get("min"), meta.get("max")
        if lo is None and hi is None:
            return None
        low = -_NO_MAX if lo is None else lo
        high = _NO_MAX if hi is None else hi
        lo_msg = f"Member must have value greater than or equal to {lo}"
        hi_msg = f"Member must have value less than or equal to {hi}"

        def check_number(value: Any, parent: str, name: str | int, errors: list[str]) -> None:
            if low <= value <= high:
                return
            path = node_path(parent, name)
            errors.append(violation(value, path, lo_msg if value < low else hi_msg))

        return check_number

    def _blob(self, shape: Shape) -> Check | None:
        meta = shape.metadata
        lo, hi = meta.get("min"), meta.get("max")
        if lo is None and hi is None:
            return None
        low, high = lo or 0, _NO_MAX if hi is None else hi

        def check_blob(value: Any, parent: str, name: str | int, errors: list[str]) -> None:
            n = len(value)
            if low <= n <= high:
                return
            if n < low:
                constraint = f"Member must have length greater than or equal to {lo}"
            else:
                constraint = f"Member must have length less than or equal to {hi}"
            # A blob's value is never echoed: it is binary and often a secret.
            errors.append(violation(value, node_path(parent, name), constraint, sensitive=True))

        return check_blob
