"""Web identity tokens and IdP documents that are hostile in shape rather
than in signature: non-canonical base64url spellings of a signed token and
JSON nested deep enough to overflow a recursive parser."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from rolegate.errors import IDPCommunicationError, InvalidIdentityToken
from rolegate.federation.jwks import FetchError, JwksCache, httpx_fetcher
from rolegate.federation.oidc import find_issuer, verify_web_identity_token

from .oidc_issuer import DEFAULT_CLIENT_ID, OidcIssuer, b64url

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
DEEP_LIST = "[" * 5000 + "]" * 5000
# 2,000 levels: deep enough to overflow json.loads, short enough (as base64url)
# for the 20,000 characters a WebIdentityToken may have.
DEEP_DICT = '{"a":' * 2000 + "1" + "}" * 2000


@pytest.fixture
def cache() -> JwksCache:
    return JwksCache(allow_http_loopback=True)


def verify(issuer: OidcIssuer, token: str, cache: JwksCache) -> object:
    return verify_web_identity_token(
        token,
        provider_url=issuer.provider_url,
        client_ids=[DEFAULT_CLIENT_ID],
        jwks=cache,
        now=time.time(),
    )


def other_spellings(segment: str) -> list[str]:
    """``segment`` with the unused low bits of its last character changed."""
    mask = {2: 0b1111, 3: 0b11}[len(segment) % 4]
    last = B64URL.index(segment[-1])
    return [
        segment[:-1] + B64URL[(last & ~mask) | low]
        for low in range(mask + 1)
        if (last & ~mask) | low != last
    ]


def test_signature_spelled_differently_is_refused(issuer: OidcIssuer, cache: JwksCache) -> None:
    token = issuer.mint()
    assert verify(issuer, token, cache)
    header, payload, signature = token.split(".")
    assert len(signature) % 4 in (2, 3)  # RS256: 256 bytes -> 342 characters
    for spelling in other_spellings(signature):
        assert base64.urlsafe_b64decode(spelling + "==") == base64.urlsafe_b64decode(
            signature + "=="
        )
        with pytest.raises(InvalidIdentityToken):
            verify(issuer, f"{header}.{payload}.{spelling}", cache)


@pytest.mark.parametrize("junk", ["=", "==", "!", " ", "+", "/", "\n"])
def test_characters_outside_base64url_are_refused(
    issuer: OidcIssuer, cache: JwksCache, junk: str
) -> None:
    header, payload, signature = issuer.mint().split(".")
    for token in (
        f"{header}.{payload}.{signature}{junk}",
        f"{header}.{payload}{junk}.{signature}",
        f"{header[:5]}{junk}{header[5:]}.{payload}.{signature}",
    ):
        with pytest.raises(InvalidIdentityToken):
            verify(issuer, token, cache)


@pytest.mark.parametrize("deep", [DEEP_LIST, DEEP_DICT, '{"alg":' + DEEP_LIST + "}"])
def test_deep_json_in_the_header_is_invalid_identity_token(
    issuer: OidcIssuer, cache: JwksCache, deep: str
) -> None:
    payload = b64url(json.dumps({"iss": issuer.url}).encode())
    token = f"{b64url(deep.encode())}.{payload}.{b64url(b'sig')}"
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, token, cache)


@pytest.mark.parametrize("deep", [DEEP_LIST, DEEP_DICT, '{"iss":' + DEEP_DICT + "}"])
def test_deep_json_in_the_payload_is_invalid_identity_token(
    issuer: OidcIssuer, cache: JwksCache, deep: str
) -> None:
    header = b64url(json.dumps({"alg": "RS256", "kid": issuer.current_kid}).encode())
    token = f"{header}.{b64url(deep.encode())}.{b64url(b'sig')}"
    with pytest.raises(InvalidIdentityToken):
        find_issuer(token)
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, token, cache)


def test_deep_claims_under_a_valid_signature_are_invalid_identity_token(
    issuer: OidcIssuer, cache: JwksCache
) -> None:
    nested: object = "x"
    for _ in range(900):
        nested = {"a": nested}
    token = issuer.mint({"nested": nested})
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, token, cache)


@pytest.mark.parametrize("deep", [DEEP_LIST, DEEP_DICT, '{"keys":' + DEEP_LIST + "}"])
def test_deep_idp_documents_are_a_fetch_failure(deep: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=deep.encode())

    fetch = httpx_fetcher(httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(FetchError):
        fetch("https://idp.example.test/.well-known/openid-configuration")
    cache = JwksCache(fetch)
    with pytest.raises(IDPCommunicationError):
        cache.keys("https://idp.example.test", None, now=time.time())
