"""Verification of federated identities: SAML responses and OIDC web identity tokens.

Pure verification plus a JWKS cache; the STS handlers own providers, roles,
trust policies and replay bookkeeping.
"""
