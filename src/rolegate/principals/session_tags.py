"""Session tags and transitive tags (reference §2.8, §3.3; IAM guide id_session-tags).

Keys are case-insensitive but keep their case; one value per key. A new
session's principal tags are, lowest precedence first: the role's (or, for
GetFederationToken, the user's) tags, then the caller's inherited transitive
session tags, then the tags in the request. Transitive keys stay transitive
along a chain, and a request may not re-set a key it inherited as transitive.

The session token carries the complete effective principal tag set (a
snapshot taken at issue), so ``aws:PrincipalTag/*`` is resolved from the token
alone (``rolegate.authz.principal_tags``), with no store read per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rolegate.errors import InvalidParameterValue, ValidationError
from rolegate.principals.validation import Problems, check_tag_key, check_tag_value

MAX_SESSION_TAGS = 50  # tags per session, inherited transitive ones included
MAX_TRANSITIVE_KEYS = 50

# AWS's answers (InvalidParameterValue), as recorded against AWS in 2025.
DUPLICATE_MESSAGE = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
TRANSITIVE_NOT_A_TAG = "The specified transitive tag key must be included in the requested tags."
INHERITED_CONFLICT = (
    "One of the specified transitive tag keys can't be set because it conflicts with a "
    "transitive tag key from the calling session."
)


@dataclass(frozen=True, slots=True)
class RequestTags:
    """The validated ``Tags`` and ``TransitiveTagKeys`` of one request."""

    tags: tuple[tuple[str, str], ...] = ()
    transitive_keys: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        """Whether the request passes any tag, which needs ``sts:TagSession``."""
        return bool(self.tags or self.transitive_keys)


@dataclass(frozen=True, slots=True)
class SessionTags:
    """What the new session carries: principal tags and its transitive keys."""

    tags: tuple[tuple[str, str], ...]
    transitive_keys: tuple[str, ...]
    # The session tags proper (inherited transitive + requested), which count
    # towards the packed size; role/user tags do not.
    session_only: tuple[tuple[str, str], ...]


def parse_request_tags(
    p: Problems, tags: Any, transitive_keys: Any, *, allow_transitive: bool = True
) -> RequestTags:
    """Validate the request's tags; problems go to ``p``, semantic errors raise."""
    pairs: list[tuple[str, str]] = []
    if tags is not None:
        if not isinstance(tags, list | tuple):
            p.add(tags, "tags", "Member must be a list")
        else:
            p.list_length(tags, "tags", maximum=MAX_SESSION_TAGS)
            for i, tag in enumerate(tags, start=1):
                key = tag.get("Key") if isinstance(tag, dict) else None
                value = tag.get("Value") if isinstance(tag, dict) else None
                if p.required(key, f"tags.{i}.member.key"):
                    check_tag_key(p, key, f"tags.{i}.member.key")
                if p.required(value, f"tags.{i}.member.value"):
                    check_tag_value(p, value, f"tags.{i}.member.value")
                if isinstance(key, str) and isinstance(value, str):
                    pairs.append((key, value))
    keys: list[str] = []
    if transitive_keys is not None:
        if not allow_transitive:
            # GetFederationToken has no TransitiveTagKeys member; the protocol
            # layer drops it, this only guards direct callers.
            raise ValidationError("Transitive tags are not supported by this operation.")
        if not isinstance(transitive_keys, list | tuple):
            p.add(transitive_keys, "transitiveTagKeys", "Member must be a list")
        else:
            p.list_length(transitive_keys, "transitiveTagKeys", maximum=MAX_TRANSITIVE_KEYS)
            for i, key in enumerate(transitive_keys, start=1):
                check_tag_key(p, key, f"transitiveTagKeys.{i}.member")
                if isinstance(key, str):
                    keys.append(key)
    p.raise_if_any()

    seen: set[str] = set()
    for key, _ in pairs:
        low = key.lower()
        if low in seen:
            raise InvalidParameterValue(DUPLICATE_MESSAGE)
        seen.add(low)
    # Only session tags can be transitive: a transitive key must name a tag of
    # this request (IAM guide: "you can set session tags as transitive").
    out_keys: list[str] = []
    seen_keys: set[str] = set()
    for key in keys:
        low = key.lower()
        if low not in seen:
            raise InvalidParameterValue(TRANSITIVE_NOT_A_TAG)
        if low not in seen_keys:
            seen_keys.add(low)
            out_keys.append(key)
    return RequestTags(tuple(pairs), tuple(out_keys))


def inherited_transitive(session: Any) -> tuple[tuple[str, str], ...]:
    """The caller session's transitive tags (key case as stored), or ()."""
    if session is None:
        return ()
    keys = {k.lower() for k in getattr(session, "transitive_tag_keys", ()) or ()}
    if not keys:
        return ()
    return tuple((k, v) for k, v in (getattr(session, "tags", ()) or ()) if k.lower() in keys)


def _merge(layers: Iterable[Iterable[tuple[str, str]]]) -> dict[str, tuple[str, str]]:
    """Merge layers by case-insensitive key; later layers win, with their case."""
    out: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for k, v in layer:
            out[k.lower()] = (k, v)
    return out


def build_session_tags(
    base: Mapping[str, str], inherited: tuple[tuple[str, str], ...], request: RequestTags
) -> SessionTags:
    """Combine role/user tags, inherited transitive tags and request tags."""
    inherited_keys = {k.lower() for k, _ in inherited}
    for key, _ in request.tags:
        if key.lower() in inherited_keys:
            # IAM guide: a session tag with the key of an inherited transitive
            # tag makes the operation fail (it cannot be overridden mid-chain).
            raise InvalidParameterValue(INHERITED_CONFLICT)
    session_only = _merge([inherited, request.tags])
    if len(session_only) > MAX_SESSION_TAGS:
        raise ValidationError(
            f"The number of session tags, inherited transitive tags included, exceeds "
            f"the limit of {MAX_SESSION_TAGS}."
        )
    merged = _merge([base.items(), inherited, request.tags])
    transitive = [k for k, _ in inherited] + list(request.transitive_keys)
    seen: set[str] = set()
    keys: list[str] = []
    for k in transitive:
        if k.lower() not in seen:
            seen.add(k.lower())
            keys.append(k)
    return SessionTags(
        tags=tuple(merged.values()),
        transitive_keys=tuple(keys),
        session_only=tuple(session_only.values()),
    )


def request_tag_context(request: RequestTags) -> dict[str, str | list[str]]:
    """``aws:RequestTag/*``, ``aws:TagKeys`` and ``sts:TransitiveTagKeys`` for a request."""
    ctx: dict[str, str | list[str]] = {}
    if request.tags:
        for k, v in request.tags:
            ctx[f"aws:RequestTag/{k}"] = v
        ctx["aws:TagKeys"] = [k for k, _ in request.tags]
    if request.transitive_keys:
        ctx["sts:TransitiveTagKeys"] = list(request.transitive_keys)
    return ctx


def resource_tag_context(
    role_tags: Mapping[str, str], inherited: tuple[tuple[str, str], ...]
) -> dict[str, str]:
    """``aws:ResourceTag/*`` and ``iam:ResourceTag/*`` of the target role.

    The caller's transitive tags replace matching role tag values when the
    next trust policy is evaluated (reference §2.8).
    """
    merged = _merge([role_tags.items(), inherited])
    ctx: dict[str, str] = {}
    for k, v in merged.values():
        ctx[f"aws:ResourceTag/{k}"] = v
        ctx[f"iam:ResourceTag/{k}"] = v
    return ctx


def tags_from_entity(data: Mapping[str, Any]) -> dict[str, str]:
    """IAM entity data keeps tags as ``[{Key, Value}]``."""
    return {t["Key"]: t["Value"] for t in data.get("tags") or () if "Key" in t}
