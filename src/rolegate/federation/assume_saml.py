"""AssumeRoleWithSAML (reference §2.7, §3.3, §8).

Order, so that nothing from an unverified document steers a decision:

1. ``PrincipalArn`` names a SAML provider in the role's account; its
   certificates and entity id come from the metadata IAM stored.
2. The response is verified (``verify_saml_response``: signature with SHA-2
   over what is read, issuer, recipient/audience, validity window).
3. The requested (RoleArn, PrincipalArn) pair must be one of the assertion's
   ``Role`` attribute pairs.
4. Role, trust policy (``Federated`` = the provider ARN, ``saml:*`` keys),
   tags, source identity, duration, session policies (``handlers``).
5. The assertion id is claimed once in the store, just before issuing, so a
   replay (on this node or any other sharing the store) fails and an
   assertion refused for a policy reason is not burnt.

Errors: unknown provider, bad signature, wrong issuer/recipient/audience and
replays are ``InvalidIdentityToken``; expired assertions
``ExpiredTokenException``; an IdP reporting failure ``IDPRejectedClaim``;
denials ``AccessDenied`` "Not authorized to perform sts:AssumeRoleWithSAML".
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import ExpiredTokenException, InvalidIdentityToken
from rolegate.federation import assume_federated as core
from rolegate.federation.saml import SamlAssertion, name_qualifier, verify_saml_response
from rolegate.principals.providers import saml_provider_facts

ACTION = "sts:AssumeRoleWithSAML"
# AWS answers an unknown PrincipalArn with InvalidIdentityToken (the provider
# is where the token's trust comes from, so "no provider" means "token
# unverifiable"), observed as "Specified provider doesn't exist". A provider
# in another account than the role is the same case: it cannot be used.
MSG_NO_PROVIDER = "Specified provider doesn't exist"
MSG_REPLAY = "SAML Assertion ID already used"
MSG_METADATA_EXPIRED = "The SAML provider's metadata has expired"
# Clock skew allowed on the assertion's validity window; the replay claim
# outlives the window by this much plus a margin for node clocks.
SKEW_SECONDS = 300
REPLAY_MARGIN_SECONDS = 60

# Attribute names AWS exposes as saml:<key> condition keys (IAM user guide,
# "Available keys for SAML-based AWS STS federation"): the eduPerson /
# eduOrg / X.500 attributes by their OID names (urn:oid:...), which is how
# IdPs send them with the URI name format. Keys are context keys, matched
# case-insensitively by the engine.
_OID_KEYS = {
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.1": "saml:edupersonaffiliation",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.2": "saml:edupersonnickname",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.3": "saml:edupersonorgdn",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.4": "saml:edupersonorgunitdn",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.5": "saml:edupersonprimaryaffiliation",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.6": "saml:edupersonprincipalname",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.7": "saml:edupersonentitlement",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.8": "saml:edupersonprimaryorgunitdn",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.9": "saml:edupersonscopedaffiliation",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.10": "saml:edupersontargetedid",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.11": "saml:edupersonassurance",
    "urn:oid:1.3.6.1.4.1.5923.1.2.1.2": "saml:eduorghomepageuri",
    "urn:oid:1.3.6.1.4.1.5923.1.2.1.3": "saml:eduorgidentityauthnpolicyuri",
    "urn:oid:1.3.6.1.4.1.5923.1.2.1.4": "saml:eduorglegalname",
    "urn:oid:1.3.6.1.4.1.5923.1.2.1.5": "saml:eduorgsuperioruri",
    "urn:oid:1.3.6.1.4.1.5923.1.2.1.6": "saml:eduorgwhitepagesuri",
    "urn:oid:2.5.4.3": "saml:cn",
    "urn:oid:2.5.4.4": "saml:surname",
    "urn:oid:2.5.4.42": "saml:givenName",
    "urn:oid:2.5.4.45": "saml:x500UniqueIdentifier",
    "urn:oid:0.9.2342.19200300.100.1.1": "saml:uid",
    "urn:oid:0.9.2342.19200300.100.1.3": "saml:mail",
    "urn:oid:2.16.840.1.113730.3.1.241": "saml:name",
}
# The same keys by friendly name, for IdPs that send basic-format names.
_FRIENDLY_KEYS = {v.removeprefix("saml:").lower(): v for v in _OID_KEYS.values()} | {
    "commonname": "saml:commonName",
    "organizationstatus": "saml:organizationStatus",
    "primarygroupsid": "saml:primaryGroupSID",
}
# The keys that stay in the session for later requests (reference §2.7).
_PERSISTENT_KEYS = ("saml:namequalifier", "saml:sub", "saml:sub_type")


def _attribute_context(assertion: SamlAssertion) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values in assertion.attributes.items():
        key = _OID_KEYS.get(name) or _FRIENDLY_KEYS.get(name.lower())
        if key is None or not values:
            continue
        # Multivalued attributes stay lists (ForAnyValue/ForAllValues work);
        # a single value is a plain string like every other key.
        out[key] = values[0] if len(values) == 1 else list(values)
    return out


def _provider(ctx: CallContext, principal_arn: str, account_id: str | None) -> dict[str, Any]:
    facts = (
        saml_provider_facts(ctx.store, account_id, principal_arn)
        if account_id is not None and principal_arn.startswith("arn:")
        else None
    )
    if facts is None:
        raise InvalidIdentityToken(MSG_NO_PROVIDER)
    valid_until = facts.get("valid_until")
    if valid_until is not None and valid_until <= ctx.now:
        # IAM: metadata past validUntil can no longer be used to sign in.
        raise InvalidIdentityToken(MSG_METADATA_EXPIRED)
    return facts


def _replay_key(assertion: SamlAssertion) -> str:
    # Keyed by issuer as well as ID: IDs are only unique per IdP, and one
    # IdP's assertions must not be able to pre-claim another's. Hashed so
    # the key has a fixed size whatever the (signed) ID looks like.
    raw = f"{assertion.issuer}\x00{assertion.assertion_id}".encode()
    return hashlib.sha256(raw).hexdigest()


def _duration_cap(ctx: CallContext, assertion: SamlAssertion) -> int | None:
    caps: list[int] = []
    if assertion.session_duration is not None:
        caps.append(assertion.session_duration)
    if assertion.session_not_on_or_after is not None:
        left = int((assertion.session_not_on_or_after - ctx.now).total_seconds())
        if left <= 0:
            # The IdP's session for this user is already over.
            raise ExpiredTokenException(
                "Token expired: current date/time "
                f"{int(ctx.now.timestamp())} must be before the expiration date/time"
                f"{int(assertion.session_not_on_or_after.timestamp())}"
            )
        caps.append(left)
    return min(caps) if caps else None


def assume_role_with_saml(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role_arn: str = params["RoleArn"]
    principal_arn: str = params["PrincipalArn"]
    policy_arns = core.check_policy_params(params)

    account_id = core.role_account(role_arn)
    # SAML federation is logged in the role's account only (reference §8),
    # failures included.
    if account_id is not None:
        ctx.audit_extra["recipient_account"] = account_id
    provider = _provider(ctx, principal_arn, account_id)
    assert account_id is not None  # _provider refuses a missing account
    ctx.audit_resources.append(
        {"ARN": provider["arn"], "accountId": account_id, "type": core.SAML_PROVIDER_AUDIT_TYPE}
    )

    assertion = verify_saml_response(
        params["SAMLAssertion"],
        certificates=provider["certificates"],
        now=ctx.now,
        expected_issuer=provider["entity_id"],
        skew_seconds=SKEW_SECONDS,
    )
    qualifier = name_qualifier(assertion.issuer, account_id, provider["name"])
    sub = assertion.name_id
    # From here on the caller is known: audit as that SAMLUser.
    ctx.audit_extra["federated_identity"] = {
        "type": "SAMLUser",
        "principalId": f"{qualifier}:{sub}",
        "userName": sub,
        "identityProvider": qualifier,
    }
    core.note_request_parameters(
        params,
        SAMLAssertionID=assertion.assertion_id,
        RoleSessionName=assertion.role_session_name,
        PrincipalTags=dict(assertion.principal_tags),
        TransitiveTagKeys=list(assertion.transitive_tag_keys),
        SourceIdentity=assertion.source_identity,
    )

    if (role_arn, provider["arn"]) not in assertion.role_pairs and (
        role_arn,
        principal_arn,
    ) not in assertion.role_pairs:
        # The IdP did not grant this role to this user.
        ctx.audit_extra["denied"] = True
        raise core.not_authorized(ACTION)

    context: dict[str, Any] = {
        "saml:aud": assertion.recipient,
        "saml:iss": assertion.issuer,
        "saml:sub": sub,
        "saml:sub_type": assertion.subject_type,
        "saml:namequalifier": qualifier,
        "saml:doc": f"{account_id}/{provider['name']}",
    }
    context.update(_attribute_context(assertion))

    request = core.FederatedRequest(
        action=ACTION,
        role_arn=role_arn,
        provider_arn=provider["arn"],
        session_name=assertion.role_session_name,
        requested_duration=params.get("DurationSeconds"),
        policy=params.get("Policy"),
        policy_arns=policy_arns,
        federation_context=context,
        principal_tags=dict(assertion.principal_tags),
        transitive_tag_keys=tuple(assertion.transitive_tag_keys),
        source_identity=assertion.source_identity,
        duration_cap=_duration_cap(ctx, assertion),
        federation_claims={
            "type": "saml",
            "provider": provider["arn"],
            "context_keys": {k: context[k] for k in _PERSISTENT_KEYS},
        },
        issuer_identity=dict(ctx.audit_extra["federated_identity"]),
    )

    def claim() -> None:
        expires = assertion.not_on_or_after + timedelta(
            seconds=SKEW_SECONDS + REPLAY_MARGIN_SECONDS
        )
        if not ctx.store.claim_once("saml", _replay_key(assertion), expires, now=ctx.now):
            raise InvalidIdentityToken(MSG_REPLAY)

    session = core.assume_federated(ctx, request, before_issue=claim)

    extra = {
        "Subject": sub,
        "SubjectType": assertion.subject_type,
        "Issuer": assertion.issuer,
        "Audience": assertion.recipient,
        "NameQualifier": qualifier,
    }
    out = {**session.output, **extra}
    ctx.audit_response = {
        **session.audit_response,
        **{k[:1].lower() + k[1:]: v for k, v in extra.items()},
    }
    return out
