"""SimulatePrincipalPolicy's PolicyExclusionList: simulate as if some of the
principal's policies were detached, without detaching them.

Semantics from the IAM model's documentation (botocore 1.44.18,
``iam/2010-05-08/service-2.json``: ``PolicyExclusionList``,
``PolicyIdentifier``, ``InlinePolicyIdentifier``):

- each entry is a tagged union, exactly one of ``PolicyType`` (every policy
  of that type), ``PolicyArn`` (managed policies; the resource name part may
  hold at most one ``*`` and any number of ``?``) or
  ``InlinePolicyIdentifier`` (an inline policy by name on a user, group or
  role; the entity name takes the same wildcards);
- syntactically invalid identifiers are ``InvalidInput``; valid ones that
  match nothing attached are ignored;
- identifiers of resource control policies are ignored, and so are SCPs
  here: this simulator evaluates none.

Only what is attached to the principal is excluded; the policies passed in
the request (``PolicyInputList``, ``PermissionsBoundaryPolicyInputList``,
``ResourcePolicy``) are the caller's own and always take part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rolegate.errors import InvalidInput
from rolegate.iam.principals import PolicyDoc

__all__ = ["Exclusions", "parse_exclusions"]

_POLICY_TYPES = frozenset(
    {"inline", "aws-managed", "user-managed", "permission-boundary", "scp", "rcp"}
)
_INLINE_SOURCES = frozenset({"user", "group", "role"})
_ATTACHMENT_TYPES = frozenset({"user", "group", "role"})
# Account part of a managed policy ARN: an account id, or "aws" for AWS's own.
_POLICY_ARN_RE = re.compile(r"arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}|aws):policy/(.+)")
_NAME_RE = re.compile(r"[\w+=,.@-]+")
_MAX_NAME = 128


def _wildcard(pattern: str, what: str) -> re.Pattern[str]:
    """``*`` (at most one) and ``?`` as the model documents them; IAM names
    are case-insensitive, so the match is too."""
    if pattern.count("*") > 1:
        raise InvalidInput(f"{what} {pattern} may contain at most one '*' wildcard.")
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Inline:
    policy_name: str
    attachment_type: str
    attachment: re.Pattern[str]


@dataclass(slots=True)
class Exclusions:
    """The parsed list; ``excludes``/``excludes_boundary`` answer per policy."""

    types: set[str] = field(default_factory=set)
    arns: list[re.Pattern[str]] = field(default_factory=list)
    inline: list[_Inline] = field(default_factory=list)

    def excludes(self, doc: PolicyDoc, owner_type: str, owner_name: str) -> bool:
        """Whether ``doc``, attached to the ``owner_type`` named ``owner_name``,
        is left out of the simulation."""
        if doc.source_type in _INLINE_SOURCES:
            if "inline" in self.types:
                return True
            return any(
                rule.attachment_type == owner_type
                and rule.policy_name.lower() == doc.name.lower()
                and rule.attachment.fullmatch(owner_name) is not None
                for rule in self.inline
            )
        if doc.source_type in self.types:
            return True
        return any(p.fullmatch(doc.policy_id) is not None for p in self.arns)

    def excludes_boundary(self) -> bool:
        return "permission-boundary" in self.types


def _arn_pattern(arn: Any) -> re.Pattern[str]:
    if not isinstance(arn, str) or not 20 <= len(arn) <= 2048:
        raise InvalidInput(f"Invalid ARN in PolicyExclusionList: {arn}")
    match = _POLICY_ARN_RE.fullmatch(arn)
    # Wildcards belong in the resource name only, never in partition or account.
    if match is None:
        raise InvalidInput(
            f"PolicyArn {arn} in PolicyExclusionList is not a valid managed policy ARN."
        )
    prefix = arn[: match.start(3)]
    name = _wildcard(match.group(3), "PolicyArn")
    return re.compile(re.escape(prefix) + name.pattern, re.IGNORECASE | re.DOTALL)


def _inline_rule(value: Any) -> _Inline:
    if not isinstance(value, Mapping):
        raise InvalidInput("InlinePolicyIdentifier must be a structure.")
    name = value.get("PolicyName")
    kind = value.get("AttachmentType")
    entity = value.get("AttachmentName")
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or len(name) > _MAX_NAME:
        raise InvalidInput(f"Invalid PolicyName in InlinePolicyIdentifier: {name}")
    if kind not in _ATTACHMENT_TYPES:
        raise InvalidInput(
            f"Invalid AttachmentType in InlinePolicyIdentifier: {kind}; "
            "expected one of user, group, role."
        )
    if (
        not isinstance(entity, str)
        or not 1 <= len(entity) <= _MAX_NAME
        or not _NAME_RE.fullmatch(entity.replace("*", "a").replace("?", "a"))
    ):
        raise InvalidInput(f"Invalid AttachmentName in InlinePolicyIdentifier: {entity}")
    return _Inline(name, kind, _wildcard(entity, "AttachmentName"))


def parse_exclusions(entries: Sequence[Any] | None) -> Exclusions:
    """PolicyExclusionList as decoded from the wire; ``InvalidInput`` when
    an identifier is malformed."""
    out = Exclusions()
    if entries is None:
        return out
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise InvalidInput("PolicyExclusionList must be a list of PolicyIdentifier.")
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise InvalidInput("Each PolicyExclusionList entry must be a PolicyIdentifier.")
        present = [k for k in ("PolicyType", "PolicyArn", "InlinePolicyIdentifier") if k in entry]
        if len(present) != 1:
            raise InvalidInput(
                "Each PolicyIdentifier must set exactly one of PolicyType, PolicyArn "
                "and InlinePolicyIdentifier."
            )
        if present[0] == "PolicyType":
            if entry["PolicyType"] not in _POLICY_TYPES:
                raise InvalidInput(f"Invalid PolicyType: {entry['PolicyType']}")
            out.types.add(entry["PolicyType"])
        elif present[0] == "PolicyArn":
            out.arns.append(_arn_pattern(entry["PolicyArn"]))
        else:
            out.inline.append(_inline_rule(entry["InlinePolicyIdentifier"]))
    return out
