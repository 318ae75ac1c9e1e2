"""Server-side checks of STS input constraints (reference §1.5, §2.2).

botocore enforces only ``required``, types and *minimums* before sending, so
the maximum lengths, ranges and patterns of the STS model must be enforced
here, with AWS's ValidationError wording. Problems are collected and reported
together, as AWS does ("2 validation errors detected: ...; ...").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from rolegate.errors import ValidationError

# Model patterns. ``\w`` in AWS's (Java) patterns is ASCII-only, hence re.ASCII.
NAME_PATTERN = r"[\w+=,.@-]*"
EXTERNAL_ID_PATTERN = r"[\w+=,.@:\/-]*"
SERIAL_PATTERN = r"[\w+=/:,.@-]*"
TOKEN_CODE_PATTERN = r"[\d]*"
ACCESS_KEY_PATTERN = r"[\w]*"
ARN_PATTERN = (
    r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]+"
)
# How the model writes the ARN pattern; quoted verbatim in messages.
ARN_PATTERN_TEXT = (
    r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+"
)
POLICY_PATTERN = r"[\u0009\u000A\u000D\u0020-\u00FF]+"
TAG_KEY_PATTERN_TEXT = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+"
TAG_VALUE_PATTERN_TEXT = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"

_TAG_EXTRA_CHARS = frozenset("_.:/=+-@")


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


_COMPILED: dict[str, re.Pattern[str]] = {}


def _full_match(pattern: str, value: str) -> bool:
    rx = _COMPILED.get(pattern)
    if rx is None:
        rx = _COMPILED[pattern] = _compile(pattern)
    return rx.fullmatch(value) is not None


def is_tag_char(ch: str) -> bool:
    """``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]`` for one character (Unicode classes)."""
    if ch in _TAG_EXTRA_CHARS:
        return True
    return unicodedata.category(ch)[0] in ("L", "Z", "N")


def _tag_text_ok(value: str) -> bool:
    return all(is_tag_char(ch) for ch in value)


@dataclass(slots=True)
class Problems:
    """Collects constraint violations; :meth:`raise_if_any` reports them at once."""

    items: list[str] = field(default_factory=list)

    def add(self, value: object, member: str, constraint: str, *, sensitive: bool = False) -> None:
        if value is None:
            shown = "null"
        elif sensitive:
            # AWS leaves the value of sensitive members (policies, codes) out.
            self.items.append(f"Value at '{member}' failed to satisfy constraint: {constraint}")
            return
        else:
            shown = f"'{value}'"
        self.items.append(f"Value {shown} at '{member}' failed to satisfy constraint: {constraint}")

    def required(self, value: object, member: str) -> bool:
        if value is None:
            self.add(None, member, "Member must not be null")
            return False
        return True

    def string(
        self,
        value: object,
        member: str,
        *,
        min_len: int | None = None,
        max_len: int | None = None,
        pattern: str | None = None,
        pattern_text: str | None = None,
        matcher: Callable[[str], bool] | None = None,
        sensitive: bool = False,
    ) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(value, member, "Member must be a string", sensitive=sensitive)
            return
        if min_len is not None and len(value) < min_len:
            self.add(
                value,
                member,
                f"Member must have length greater than or equal to {min_len}",
                sensitive=sensitive,
            )
        if max_len is not None and len(value) > max_len:
            self.add(
                value,
                member,
                f"Member must have length less than or equal to {max_len}",
                sensitive=sensitive,
            )
        ok = True
        if pattern is not None:
            ok = _full_match(pattern, value)
        elif matcher is not None:
            ok = matcher(value)
        if not ok:
            self.add(
                value,
                member,
                f"Member must satisfy regular expression pattern: {pattern_text or pattern}",
                sensitive=sensitive,
            )

    def integer(self, value: object, member: str, *, minimum: int, maximum: int) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(value, member, "Member must be an integer")
            return
        if value < minimum:
            self.add(value, member, f"Member must have value greater than or equal to {minimum}")
        if value > maximum:
            self.add(value, member, f"Member must have value less than or equal to {maximum}")

    def list_length(self, value: object, member: str, *, maximum: int) -> None:
        if isinstance(value, list | tuple) and len(value) > maximum:
            self.add(
                f"[{', '.join(map(str, value))}]"[:200],
                member,
                f"Member must have length less than or equal to {maximum}",
            )

    def raise_if_any(self) -> None:
        if not self.items:
            return
        n = len(self.items)
        head = "1 validation error detected: " if n == 1 else f"{n} validation errors detected: "
        raise ValidationError(head + "; ".join(self.items))


def check_role_session_name(p: Problems, value: object, member: str = "roleSessionName") -> None:
    p.string(value, member, min_len=2, max_len=64, pattern=NAME_PATTERN)


def check_arn(p: Problems, value: object, member: str) -> None:
    p.string(
        value, member, min_len=20, max_len=2048, pattern=ARN_PATTERN, pattern_text=ARN_PATTERN_TEXT
    )


def check_mfa(p: Problems, serial: object, code: object) -> None:
    p.string(serial, "serialNumber", min_len=9, max_len=256, pattern=SERIAL_PATTERN)
    p.string(code, "tokenCode", min_len=6, max_len=6, pattern=TOKEN_CODE_PATTERN, sensitive=True)


def check_policy_arns(p: Problems, value: object, *, maximum: int = 10) -> list[str]:
    """Validate ``PolicyArns`` ([{"arn": ...}]) and return the ARNs in order."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        p.add(value, "policyArns", "Member must be a list")
        return []
    arns: list[str] = []
    for i, item in enumerate(value, start=1):
        arn = item.get("arn") if isinstance(item, dict) else None
        check_arn(p, arn, f"policyArns.{i}.member.arn")
        if isinstance(arn, str):
            arns.append(arn)
    if len(value) > maximum:
        # The model sets no maximum, the docs say 10; AWS answers with the
        # list-length form of the message.
        p.add(
            "[" + ", ".join(arns)[:200] + "]",
            "policyArns",
            f"Member must have length less than or equal to {maximum}",
        )
    return arns


def check_tag_key(p: Problems, value: object, member: str) -> None:
    p.string(
        value,
        member,
        min_len=1,
        max_len=128,
        matcher=_tag_text_ok,
        pattern_text=TAG_KEY_PATTERN_TEXT,
    )


def check_tag_value(p: Problems, value: object, member: str) -> None:
    p.string(
        value,
        member,
        min_len=0,
        max_len=256,
        matcher=_tag_text_ok,
        pattern_text=TAG_VALUE_PATTERN_TEXT,
    )
