"""Session policies and the packed-size accounting (reference §2.8, §0 rule 13).

A session may narrow its permissions with one inline policy (``Policy``) and
up to ten managed policies (``PolicyArns``); they can never widen them. AWS
packs policies and tags into the token under a hidden limit and reports the
share used as ``PackedPolicySize``; rolegate uses its own limits below and
fails above 100 % with AWS's messages.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rolegate import arn as arns
from rolegate import policy
from rolegate.errors import PackedPolicyTooLarge, ValidationError
from rolegate.principals.policy_sets import managed_policy_document
from rolegate.principals.validation import Problems

MAX_POLICY_ARNS = 10  # IAM guide: up to 10 managed session policies
# Plaintext of the inline session policy, whitespace excluded (IAM guide:
# "The plaintext ... can't exceed 2,048 characters").
MAX_INLINE_PLAINTEXT = 2048
# rolegate's own packed limits (AWS's are hidden; recommendation in §2.8).
# Chosen so that any inline policy within the plaintext limit plus a few
# ordinary ARNs, and a typical set of tags, fit; ten very long ARNs or fifty
# maximal random tags do not, as in AWS.
PACKED_POLICY_LIMIT = 2048
PACKED_TAGS_LIMIT = 4096

POLICY_TOO_LARGE = "Packed policy consumes {pct}% of allotted space, please use smaller policy."
TAGS_TOO_LARGE = "Packed size of session tags consumes {pct}% of allotted space."


@dataclass(frozen=True, slots=True)
class SessionPolicies:
    inline: str | None  # minified JSON text, as carried in the token
    arns: tuple[str, ...]

    @property
    def given(self) -> bool:
        return self.inline is not None or bool(self.arns)


def check_policy_param(p: Problems, text: object, *, model_max: int | None) -> None:
    """Model constraints of ``Policy`` (GetFederationToken has a max of 2048)."""
    p.string(
        text,
        "policy",
        min_len=1,
        max_len=model_max,
        pattern=r"[\u0009\u000A\u000D\u0020-\u00FF]+",
        sensitive=True,
    )


def load_session_policies(
    store: Any, text: str | None, policy_arns: Sequence[str], *, home_account: str
) -> SessionPolicies:
    """Parse the inline policy and check that every managed ARN exists.

    Managed session policies must be AWS managed or live in ``home_account``
    (the role's account for AssumeRole, the caller's for GetFederationToken).
    Raises MalformedPolicyDocument or ValidationError.
    """
    inline: str | None = None
    if text is not None:
        # parse_policy raises MalformedPolicyDocument with the engine's reason.
        policy.parse_policy(text, policy.PolicyKind.SESSION)
        if policy.policy_size(text) > MAX_INLINE_PLAINTEXT:
            raise ValidationError(
                "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_INLINE_PLAINTEXT}"
            )
        # Minified, so the token stays small; the text was valid JSON above.
        inline = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)

    seen: set[str] = set()
    out: list[str] = []
    for policy_arn in policy_arns:
        if policy_arn in seen:
            continue
        seen.add(policy_arn)
        parsed = arns.try_parse(policy_arn)
        ok = (
            parsed is not None
            and parsed.service == "iam"
            and parsed.resource.startswith("policy/")
            and parsed.account in ("aws", home_account)
            and managed_policy_document(store, policy_arn) is not None
        )
        if not ok:
            # The STS model has no error for this; AWS answers with a 400
            # naming the ARN. ValidationError keeps it a client fault.
            raise ValidationError(f"Policy {policy_arn} does not exist or is not attachable.")
        out.append(policy_arn)
    return SessionPolicies(inline, tuple(out))


def _percent(packed: int, limit: int) -> int:
    return math.ceil(100 * packed / limit) if packed else 0


def packed_policy_percent(policies: SessionPolicies) -> int:
    if not policies.given:
        return 0
    blob = (policies.inline or "") + "\n" + "\n".join(policies.arns)
    return _percent(len(zlib.compress(blob.encode("utf-8"), 9)), PACKED_POLICY_LIMIT)


def packed_tags_percent(tags: Sequence[tuple[str, str]], transitive: Sequence[str]) -> int:
    if not tags and not transitive:
        return 0
    blob = "\n".join(f"{k}={v}" for k, v in tags) + "\n" + "\n".join(transitive)
    return _percent(len(zlib.compress(blob.encode("utf-8"), 9)), PACKED_TAGS_LIMIT)


def packed_size(
    policies: SessionPolicies, tags: Sequence[tuple[str, str]], transitive: Sequence[str]
) -> int:
    """``PackedPolicySize`` (percent), or raise PackedPolicyTooLarge."""
    pol = packed_policy_percent(policies)
    if pol > 100:
        raise PackedPolicyTooLarge(POLICY_TOO_LARGE.format(pct=pol))
    tag = packed_tags_percent(tags, transitive)
    if tag > 100:
        raise PackedPolicyTooLarge(TAGS_TOO_LARGE.format(pct=tag))
    return max(pol, tag)
