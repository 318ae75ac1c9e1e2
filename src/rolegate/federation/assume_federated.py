"""The steps AssumeRoleWithSAML and AssumeRoleWithWebIdentity share once the
third-party identity has been verified (``assume_saml`` /
``assume_web_identity`` do the verifying; ``handlers`` holds the table): the
role lookup, the trust decision for a ``Federated`` principal, session tags
and source identity, duration, session policies and credential issuance, all
built from the same ``rolegate.principals`` steps as AssumeRole, so the three
AssumeRole* actions cannot drift apart.

Both calls arrive unsigned (reference §0.6); the server hands them an
anonymous principal. Everything the session gets comes from the verified
assertion/token and the role, never from the (unauthenticated) caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rolegate import authz, policy
from rolegate.context import CallContext
from rolegate.errors import AccessDenied, InvalidIdentityToken, ValidationError
from rolegate.principals import durations, session_policies, session_tags
from rolegate.principals.role_session import check_source_identity, issue_role_session
from rolegate.principals.roles import find_role, parse_role_arn
from rolegate.principals.validation import Problems, check_policy_arns, check_role_session_name

ROLE_AUDIT_TYPE = "AWS::IAM::Role"
SAML_PROVIDER_AUDIT_TYPE = "AWS::IAM::SAMLProvider"
OIDC_PROVIDER_AUDIT_TYPE = "AWS::IAM::OIDCProvider"


def not_authorized(action: str) -> AccessDenied:
    # AWS's observed text for every federation denial (no role, trust policy,
    # role pair): it names neither the caller nor the role, so an anonymous
    # caller learns nothing about which roles exist.
    return AccessDenied(f"Not authorized to perform {action}")


@dataclass(frozen=True, slots=True)
class FederatedRequest:
    """What a verified assertion or token asks for, ready for the trust check."""

    action: str  # sts:AssumeRoleWithSAML | sts:AssumeRoleWithWebIdentity
    role_arn: str
    provider_arn: str  # the Federated principal of the trust policy
    session_name: str
    requested_duration: int | None
    policy: str | None
    policy_arns: list[str]
    # Trust-policy keys the federation contributes (saml:*, <provider>:*, ...).
    federation_context: dict[str, Any]
    principal_tags: dict[str, str] = field(default_factory=dict)
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None
    # Upper bound on the session length from the IdP (SAML SessionDuration /
    # SessionNotOnOrAfter), in seconds; None = only the role's limit applies.
    duration_cap: int | None = None
    # Sealed into the session (SessionClaims.federation); "context_keys" are
    # copied into every later request's context by rolegate.authz.
    federation_claims: dict[str, Any] = field(default_factory=dict)
    issuer_identity: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FederatedSession:
    """The issued session and the parts of the output both actions share."""

    output: dict[str, Any]
    audit_response: dict[str, Any]
    role: Any


def role_account(role_arn: str) -> str | None:
    """The account of a role ARN, or None for anything that is not one."""
    ref = parse_role_arn(role_arn)
    return ref.account_id if ref is not None else None


def check_policy_params(params: Mapping[str, Any]) -> list[str]:
    """Model constraints of ``Policy`` / ``PolicyArns`` (the protocol layer
    checks required/min; maxima and patterns are ours, as for AssumeRole)."""
    p = Problems()
    session_policies.check_policy_param(p, params.get("Policy"), model_max=None)
    arns = check_policy_arns(p, params.get("PolicyArns"))
    p.raise_if_any()
    return arns


def check_session_name(value: str) -> None:
    p = Problems()
    check_role_session_name(p, value)
    p.raise_if_any()


def parse_idp_tags(tags: Mapping[str, str], transitive: tuple[str, ...]) -> Any:
    """Validate the IdP's session tags with AssumeRole's validator.

    Bad tags here are the identity provider's fault, not the caller's
    parameters, so the error is ``InvalidIdentityToken`` carrying the
    validator's explanation rather than a ValidationError about a request
    member the caller never sent.
    """
    try:
        return session_tags.parse_request_tags(
            Problems(),
            [{"Key": k, "Value": v} for k, v in tags.items()] if tags else None,
            list(transitive) if transitive else None,
        )
    except ValidationError as e:
        raise InvalidIdentityToken(
            f"Invalid session tags from the identity provider: {e.message}"
        ) from None


def _trust_allows(
    role: Any, req: FederatedRequest, action: str, context: Mapping[str, Any]
) -> bool:
    trust = policy.compile_cached(
        role.data.get("assume_role_policy") or "", policy.PolicyKind.TRUST, role.arn, "resource"
    )
    # A Federated principal has no identity policies: the trust policy alone
    # decides (the engine judges "federated" principals on the resource
    # policy), and it must allow.
    result = policy.evaluate(
        policy.PolicySet(identity=(), resource=trust),
        policy.Request(
            principal=req.provider_arn,
            action=action,
            resource=role.arn,
            context=context,
            principal_account=role.account_id,
        ),
        resource_must_allow=True,
    )
    return getattr(result.decision, "value", result.decision) == "allow"


def assume_federated(
    ctx: CallContext, req: FederatedRequest, *, before_issue: Callable[[], None] | None = None
) -> FederatedSession:
    """Trust decision, duration, policies and issuance for a verified identity.

    ``before_issue`` runs after every check has passed and before the
    credentials are minted (SAML claims its assertion id there).

    Raises AccessDenied (no role, trust policy), ValidationError (duration),
    MalformedPolicyDocument / PackedPolicyTooLarge (session policies).
    """
    role = find_role(ctx.store, req.role_arn)
    if role is None:
        ctx.audit_extra["denied"] = True
        raise not_authorized(req.action)
    ctx.audit_resources.insert(
        0, {"ARN": role.arn, "accountId": role.account_id, "type": ROLE_AUDIT_TYPE}
    )

    request_tags = parse_idp_tags(req.principal_tags, req.transitive_tag_keys)
    role_tags = session_tags.tags_from_entity(role.data)
    tags = session_tags.build_session_tags(role_tags, (), request_tags)
    source_identity = check_source_identity(req.source_identity, None)

    context: dict[str, Any] = dict(authz.base_context(ctx))
    context.update(req.federation_context)
    context["aws:FederatedProvider"] = req.provider_arn
    context["sts:RoleSessionName"] = req.session_name
    if source_identity is not None:
        context["sts:SourceIdentity"] = source_identity
    context.update(session_tags.request_tag_context(request_tags))
    # The IdP's tags are the principal's tags as far as this trust decision
    # goes (they become the session's aws:PrincipalTag values).
    for k, v in request_tags.tags:
        context[f"aws:PrincipalTag/{k}"] = v
    context.update(session_tags.resource_tag_context(role_tags, ()))

    needed = [req.action]
    if request_tags.given:
        needed.append("sts:TagSession")
    if source_identity is not None:
        needed.append("sts:SetSourceIdentity")
    for action in needed:
        if not _trust_allows(role, req, action, context):
            ctx.audit_extra["denied"] = True
            raise not_authorized(req.action)

    duration = durations.assume_role_duration(
        req.requested_duration,
        max_session_duration=int(role.data.get("max_session_duration") or 3600),
        chained=False,
    )
    if req.duration_cap is not None:
        # The IdP may shorten the session below the usual 900 s minimum
        # (SessionNotOnOrAfter close at hand); it can never lengthen it.
        duration = max(1, min(duration, req.duration_cap))
    policies = session_policies.load_session_policies(
        ctx.store, req.policy, req.policy_arns, home_account=role.account_id
    )
    packed = session_policies.packed_size(policies, tags.session_only, tags.transitive_keys)

    if before_issue is not None:
        before_issue()
    session = issue_role_session(
        ctx,
        role,
        req.session_name,
        duration=duration,
        policies=policies,
        packed=packed,
        tags=tags,
        source_identity=source_identity,
        issuer=dict(req.issuer_identity),
        federation=dict(req.federation_claims) or None,
    )
    return FederatedSession(session.output, session.audit, role)


def note_request_parameters(params: dict[str, Any], **values: Any) -> None:
    """Add derived values to the request parameters CloudTrail records.

    The server records ``params`` as ``requestParameters`` after the handler
    returns; AWS shows facts from the verified assertion there (the
    assertion id, session name, tags), never the assertion or token itself,
    which the audit layer drops by name.
    """
    for k, v in values.items():
        if v not in (None, {}, [], ()):
            params[k] = v
