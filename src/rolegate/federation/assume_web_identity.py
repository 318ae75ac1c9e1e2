"""AssumeRoleWithWebIdentity (reference §2.6, §3.3, §8).

Order:

1. ``ProviderId`` is only for the OAuth 2.0 providers AWS builds in; an
   OIDC ID token is sent without it.
2. The token's (unverified) ``iss`` only selects the IAM OIDC provider in the
   role's account whose URL equals it; no provider -> InvalidIdentityToken
   with AWS's observed message. Keys are then fetched for that registered
   provider (``JwksCache``) and the token verified against them
   (``verify_web_identity_token``: asymmetric algs only, iss, exp/nbf/iat,
   aud in the provider's client ids).
3. Role, trust policy (``Federated`` = the provider ARN,
   ``<host/path>:aud|sub|amr``), tags and source identity claims, duration,
   session policies (``handlers``).

There is no replay cache for tokens: AWS has none either (a JWT is a bearer
token valid until ``exp``; workloads reuse theirs for every refresh).
"""

from __future__ import annotations

import re
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import IDPCommunicationError, InvalidIdentityToken, ValidationError
from rolegate.federation import assume_federated as core
from rolegate.federation.jwks import MSG_FETCH_FAILED
from rolegate.federation.oidc import (
    MSG_ISSUER,
    find_issuer,
    provider_url_from_issuer,
    verify_web_identity_token,
)
from rolegate.principals.providers import oidc_provider_by_url

ACTION = "sts:AssumeRoleWithWebIdentity"
# The OAuth 2.0 providers whose access tokens AWS accepts with ProviderId
# (STS API reference). Anything else is an OIDC issuer and must be
# registered as an IAM OIDC provider, with no ProviderId.
OAUTH_PROVIDERS = frozenset({"www.amazon.com", "graph.facebook.com"})
# JWT leeway for exp/nbf/iat (clock skew between the IdP and us).
LEEWAY_SECONDS = 60
# SourceIdentity syntax (STS model pattern; the user guide's 2-64 length).
_SOURCE_IDENTITY_RE = re.compile(r"[A-Za-z0-9_+=,.@-]{2,64}")


def _no_provider(iss: str) -> InvalidIdentityToken:
    return InvalidIdentityToken(f"No OpenIDConnect provider found in your account for {iss}")


def _check_provider_id(value: Any) -> None:
    if value is None:
        return
    if value not in OAUTH_PROVIDERS:
        # AWS rejects a ProviderId that is not one of its OAuth 2.0
        # providers as a bad parameter before looking at the token.
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at 'providerId' failed to satisfy "
            "constraint: Member must satisfy enum value set: [www.amazon.com, graph.facebook.com]"
        )
    # Verifying an Amazon/Facebook OAuth access token means asking that
    # provider's token-info endpoint, which a self-hosted STS has no business
    # doing; such tokens cannot be validated here.
    raise InvalidIdentityToken(
        f"OAuth 2.0 access tokens from {value} are not supported; use an OpenID Connect ID token"
    )


def assume_role_with_web_identity(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role_arn: str = params["RoleArn"]
    session_name: str = params["RoleSessionName"]
    token: str = params["WebIdentityToken"]
    core.check_session_name(session_name)
    policy_arns = core.check_policy_params(params)
    _check_provider_id(params.get("ProviderId"))

    account_id = core.role_account(role_arn)
    iss = find_issuer(token)
    if account_id is None:
        # Not a role ARN: no account to find a provider in.
        raise _no_provider(iss)
    # Web identity federation is logged in the role's account only
    # (reference §8), failures included.
    ctx.audit_extra["recipient_account"] = account_id

    provider = oidc_provider_by_url(ctx.store, account_id, provider_url_from_issuer(iss))
    if provider is None:
        raise _no_provider(iss)
    if iss.rstrip("/") != provider["issuer"]:
        # The lookup ignores the scheme (IAM stores URLs without it), but the
        # issuer must be exactly the registered one: an https provider is
        # never fetched over http (even in dev mode), nor the reverse.
        raise InvalidIdentityToken(MSG_ISSUER)
    ctx.audit_resources.append(
        {"ARN": provider["arn"], "accountId": account_id, "type": core.OIDC_PROVIDER_AUDIT_TYPE}
    )

    jwks = getattr(ctx.app, "jwks", None)
    if jwks is None:  # a server built without the federation extra
        raise IDPCommunicationError(MSG_FETCH_FAILED)
    claims = verify_web_identity_token(
        token,
        provider_url=provider["url"],
        client_ids=provider["client_ids"],
        jwks=jwks,
        now=ctx.now.timestamp(),
        leeway=LEEWAY_SECONDS,
        thumbprints=provider["thumbprints"],
    )
    ctx.audit_extra["federated_identity"] = {
        "type": "WebIdentityUser",
        "principalId": f"{claims.issuer}:{claims.audience}:{claims.subject}",
        "userName": claims.subject,
        "identityProvider": claims.issuer,
    }
    source_identity = claims.source_identity
    if source_identity is not None and (
        not _SOURCE_IDENTITY_RE.fullmatch(source_identity)
        or source_identity.lower().startswith("aws:")
    ):
        raise InvalidIdentityToken("Invalid source identity in token")
    core.note_request_parameters(
        params,
        PrincipalTags=dict(claims.principal_tags),
        TransitiveTagKeys=list(claims.transitive_tag_keys),
        SourceIdentity=source_identity,
    )

    prefix = provider["url"]
    context: dict[str, Any] = {
        f"{prefix}:aud": claims.audience,
        f"{prefix}:sub": claims.subject,
    }
    if claims.amr:
        context[f"{prefix}:amr"] = list(claims.amr)
    request = core.FederatedRequest(
        action=ACTION,
        role_arn=role_arn,
        provider_arn=provider["arn"],
        session_name=session_name,
        requested_duration=params.get("DurationSeconds"),
        policy=params.get("Policy"),
        policy_arns=policy_arns,
        federation_context=context,
        principal_tags=dict(claims.principal_tags),
        transitive_tag_keys=tuple(claims.transitive_tag_keys),
        source_identity=source_identity,
        federation_claims={
            "type": "oidc",
            "provider": provider["arn"],
            # IAM: aws:FederatedProvider stays available to the sessions of
            # roles assumed through an OIDC provider.
            "context_keys": {"aws:FederatedProvider": provider["arn"]},
        },
        issuer_identity=dict(ctx.audit_extra["federated_identity"]),
    )
    session = core.assume_federated(ctx, request)

    extra = {
        "SubjectFromWebIdentityToken": claims.subject,
        "Provider": claims.issuer,
        "Audience": claims.audience,
    }
    ctx.audit_response = {
        **session.audit_response,
        "subjectFromWebIdentityToken": claims.subject,
        "provider": claims.issuer,
        "audience": claims.audience,
    }
    return {**session.output, **extra}
