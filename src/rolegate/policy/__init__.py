"""The IAM policy language: parse, compile and evaluate (pure; see docs/contracts.md)."""

from __future__ import annotations

from rolegate.policy.document import (
    GROUP_INLINE_MAX_SIZE,
    MANAGED_POLICY_MAX_SIZE,
    MAX_DOCUMENT_CHARS,
    ROLE_INLINE_MAX_SIZE,
    SESSION_POLICY_MAX_SIZE,
    TRUST_POLICY_MAX_SIZE,
    USER_INLINE_MAX_SIZE,
    VERSION_2008,
    VERSION_2012,
    Condition,
    Effect,
    PolicyDocument,
    PolicyKind,
    Principal,
    Statement,
    parse_policy,
    policy_size,
)
from rolegate.policy.evaluate import (
    CompiledPolicy,
    Decision,
    EvaluationResult,
    MatchedStatement,
    PolicySet,
    Request,
    compile_cached,
    compile_policy,
    evaluate,
)

MANAGED = MANAGED_POLICY_MAX_SIZE
TRUST = TRUST_POLICY_MAX_SIZE
USER_INLINE = USER_INLINE_MAX_SIZE
GROUP_INLINE = GROUP_INLINE_MAX_SIZE
ROLE_INLINE = ROLE_INLINE_MAX_SIZE
SESSION = SESSION_POLICY_MAX_SIZE

__all__ = [
    "CompiledPolicy",
    "Condition",
    "Decision",
    "Effect",
    "EvaluationResult",
    "GROUP_INLINE",
    "GROUP_INLINE_MAX_SIZE",
    "MANAGED",
    "MANAGED_POLICY_MAX_SIZE",
    "MAX_DOCUMENT_CHARS",
    "MatchedStatement",
    "PolicyDocument",
    "PolicyKind",
    "PolicySet",
    "Principal",
    "ROLE_INLINE",
    "ROLE_INLINE_MAX_SIZE",
    "Request",
    "SESSION",
    "SESSION_POLICY_MAX_SIZE",
    "Statement",
    "TRUST",
    "TRUST_POLICY_MAX_SIZE",
    "USER_INLINE",
    "USER_INLINE_MAX_SIZE",
    "VERSION_2008",
    "VERSION_2012",
    "compile_cached",
    "compile_policy",
    "evaluate",
    "parse_policy",
    "policy_size",
]
