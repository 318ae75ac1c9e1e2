"""Verification of federated identities: SAML responses and OIDC web identity tokens.

Pure verification plus a JWKS cache (the only network I/O); the STS handlers
own providers, roles, trust policies, durations, tags and replay bookkeeping.
"""

from rolegate.federation.jwks import JwksCache, httpx_fetcher
from rolegate.federation.oidc import (
    WebIdentityClaims,
    find_issuer,
    provider_url_from_issuer,
    verify_web_identity_token,
)
from rolegate.federation.saml import (
    IdpMetadata,
    SamlAssertion,
    name_qualifier,
    parse_idp_metadata,
    verify_saml_response,
)

__all__ = [
    "IdpMetadata",
    "JwksCache",
    "SamlAssertion",
    "WebIdentityClaims",
    "find_issuer",
    "httpx_fetcher",
    "name_qualifier",
    "parse_idp_metadata",
    "provider_url_from_issuer",
    "verify_saml_response",
    "verify_web_identity_token",
]
