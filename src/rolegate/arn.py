"""Amazon Resource Names: parse, format and a few pure helpers.

An ARN is ``arn:partition:service:region:account:resource``; the resource part
may itself contain colons (``arn:aws:sns:us-east-1:123:topic:sub``), so only
the first five colons split. Nothing here touches I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Arn",
    "parse",
    "format",
    "try_parse",
    "account_of",
    "is_account_id",
    "root_arn",
    "role_arn_from_session_arn",
]


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __post_init__(self) -> None:
        for name in ("partition", "service", "region", "account"):
            value = getattr(self, name)
            if not isinstance(value, str) or ":" in value:
                raise ValueError(f"ARN {name} must be a string without ':': {value!r}")
        if not isinstance(self.resource, str):
            raise ValueError("ARN resource must be a string")
        if not self.partition or not self.service:
            raise ValueError("ARN partition and service must not be empty")

    def __str__(self) -> str:
        return format(self)

    @property
    def resource_type(self) -> str:
        """The part of the resource before the first ``/`` or ``:`` (``user``, ``role``...)."""
        r = self.resource
        for i, ch in enumerate(r):
            if ch in "/:":
                return r[:i]
        return r


def parse(s: str) -> Arn:
    """Split ``s`` into its six fields; raise ValueError if it is not an ARN."""
    if not isinstance(s, str):
        raise ValueError(f"not an ARN: {s!r}")
    parts = s.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {s!r}")
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def try_parse(s: str) -> Arn | None:
    """Like :func:`parse` but returns None for a non-ARN."""
    try:
        return parse(s)
    except ValueError:
        return None


def format(arn: Arn) -> str:
    return f"arn:{arn.partition}:{arn.service}:{arn.region}:{arn.account}:{arn.resource}"


def account_of(s: str) -> str | None:
    """The account field of an ARN (None if not an ARN or empty)."""
    a = try_parse(s)
    if a is None or not a.account:
        return None
    return a.account


def is_account_id(s: str) -> bool:
    return isinstance(s, str) and len(s) == 12 and s.isascii() and s.isdigit()


def root_arn(account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:root"


def role_arn_from_session_arn(session_arn: str) -> str | None:
    """``arn:aws:sts::A:assumed-role/R/S`` -> ``arn:aws:iam::A:role/R`` (path unknown: ``/``)."""
    a = try_parse(session_arn)
    if a is None or a.service != "sts" or not a.resource.startswith("assumed-role/"):
        return None
    parts = a.resource.split("/")
    if len(parts) < 3 or not parts[1]:
        return None
    return f"arn:{a.partition}:iam::{a.account}:role/{parts[1]}"
