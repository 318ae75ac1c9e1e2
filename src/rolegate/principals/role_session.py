"""Issuing a role session: the step AssumeRole, AssumeRoleWithSAML and
AssumeRoleWithWebIdentity share once each has decided the caller may have
it. It builds the claims, seals the credentials, notes RoleLastUsed and
shapes both the API output and CloudTrail's responseElements; and the
session's source identity, which all three decide alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import ValidationError
from rolegate.principals.credentials import claim_defaults, issue
from rolegate.principals.roles import note_last_used


@dataclass(frozen=True, slots=True)
class RoleSession:
    output: dict[str, Any]  # the API result (Credentials, AssumedRoleUser, ...)
    audit: dict[str, Any]  # CloudTrail responseElements: no secret


def issue_role_session(
    ctx: CallContext,
    role: Any,
    session_name: str,
    *,
    duration: int,
    policies: Any,
    packed: int,
    tags: Any,
    source_identity: str | None,
    issuer: dict[str, Any],
    chain_depth: int = 0,
    mfa_authenticated: bool = False,
    mfa_auth_time: int | None = None,
    federation: dict[str, Any] | None = None,
) -> RoleSession:
    session_arn = f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{session_name}"
    assumed_role_id = f"{role.entity_id}:{session_name}"
    fields = claim_defaults()
    fields.update(
        kind="assumed-role",
        arn=session_arn,
        user_id=assumed_role_id,
        role_arn=role.arn,
        role_id=role.entity_id,
        role_name=role.name,
        session_name=session_name,
        mfa_authenticated=mfa_authenticated,
        mfa_auth_time=mfa_auth_time,
        session_policy=policies.inline,
        policy_arns=policies.arns,
        tags=tags.tags,
        transitive_tag_keys=tags.transitive_keys,
        source_identity=source_identity,
        chain_depth=chain_depth,
        issuer=issuer,
        federation=federation,
    )
    issued = issue(ctx, account_id=role.account_id, duration=duration, fields=fields)
    note_last_used(ctx, role)

    out: dict[str, Any] = {
        "Credentials": issued.credentials(),
        "AssumedRoleUser": {"AssumedRoleId": assumed_role_id, "Arn": session_arn},
    }
    audit: dict[str, Any] = {
        "credentials": issued.audit_credentials(),
        "assumedRoleUser": {"assumedRoleId": assumed_role_id, "arn": session_arn},
    }
    if policies.given or tags.session_only:
        out["PackedPolicySize"] = packed
        audit["packedPolicySize"] = packed
    if source_identity is not None:
        out["SourceIdentity"] = source_identity
        audit["sourceIdentity"] = source_identity
    return RoleSession(out, audit)


def check_source_identity(requested: str | None, inherited: str | None) -> str | None:
    """The session's source identity: set once, then immutable along a chain."""
    if requested is not None and requested.lower().startswith("aws:"):
        raise ValidationError("SourceIdentity cannot start with the prefix 'aws:'.")
    if inherited and requested is not None and requested != inherited:
        # Recommendation in reference §2.5 step 7: the value cannot change.
        raise ValidationError(
            "The source identity of the calling session cannot be changed: "
            f"it is '{inherited}', the request asked for '{requested}'."
        )
    return requested if requested is not None else inherited
