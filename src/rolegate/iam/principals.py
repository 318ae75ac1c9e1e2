"""The policies that apply to an IAM user or role (docs/contracts.md,
"principal policies"): kept in :mod:`rolegate.principals.policy_sets`, one
layer below the services that share them (the authoriser, STS, the policy
simulator), and named here for IAM's modules and the contract.
"""

from __future__ import annotations

from rolegate.principals.entities import GROUP_MEMBER_REL
from rolegate.principals.policy_sets import (
    PolicyBundle,
    PolicyDoc,
    SourceType,
    bundle_of,
    managed_policy_document,
    policy_bundle,
    principal_entity,
)

__all__ = [
    "GROUP_MEMBER_REL",
    "PolicyBundle",
    "PolicyDoc",
    "SourceType",
    "bundle_of",
    "managed_policy_document",
    "policy_bundle",
    "principal_entity",
]
