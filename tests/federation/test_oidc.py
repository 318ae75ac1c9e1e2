"""Web identity token verification against a real loopback OIDC issuer, plus attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from rolegate.errors import ExpiredTokenException, IDPCommunicationError, InvalidIdentityToken
from rolegate.federation.jwks import (
    MSG_FETCH_FAILED,
    FetchError,
    JwksCache,
    check_fetch_url,
    httpx_fetcher,
    import_jwks,
)
from rolegate.federation.oidc import (
    WebIdentityClaims,
    find_issuer,
    provider_url_from_issuer,
    verify_web_identity_token,
)

from .oidc_issuer import DEFAULT_CLIENT_ID, OidcIssuer, b64url


@pytest.fixture
def cache() -> JwksCache:
    return JwksCache(allow_http_loopback=True, ttl_seconds=300, min_refetch_interval=10)


def verify(issuer: OidcIssuer, token: str, cache: JwksCache, **kw) -> WebIdentityClaims:
    kw.setdefault("provider_url", issuer.provider_url)
    kw.setdefault("client_ids", [DEFAULT_CLIENT_ID])
    kw.setdefault("now", time.time())
    return verify_web_identity_token(token, jwks=cache, **kw)


def forge(header: dict, claims: dict, signature: bytes = b"sig") -> str:
    return f"{b64url(header)}.{b64url(claims)}.{b64url(signature)}"


def default_claims(issuer: OidcIssuer, **extra) -> dict:
    now = int(time.time())
    return {"iss": issuer.url, "aud": DEFAULT_CLIENT_ID, "sub": "alice-subject-0001",
            "iat": now, "exp": now + 300, **extra}  # fmt: skip


# ----------------------------------------------------------------- valid


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS512", "ES256"])
def test_valid_token(issuer, cache, alg):
    tags = {"principal_tags": {"Project": ["Blue", "ignored"], "Team": ["Core"]},
            "transitive_tag_keys": ["Project"]}  # fmt: skip
    token = issuer.mint(
        {
            "https://aws.amazon.com/tags": tags,
            "https://aws.amazon.com/source_identity": "alice",
            "amr": ["authenticated", "pwd"],
            "email": "alice@example.com",
        },
        alg=alg,
    )
    c = verify(issuer, token, cache)
    assert c.issuer == issuer.url
    assert c.subject == "alice-subject-0001"
    assert c.audience == DEFAULT_CLIENT_ID
    assert c.alg == alg
    assert c.kid == (issuer.current_kid if alg[0] in "RP" else "ec-2")
    assert c.principal_tags == {"Project": "Blue", "Team": "Core"}
    assert c.transitive_tag_keys == ("Project",)
    assert c.source_identity == "alice"
    assert c.amr == ("authenticated", "pwd")
    assert c.claims["email"] == "alice@example.com"
    assert c.expires_at == c.claims["exp"] and c.issued_at == c.claims["iat"]


def test_audience_list_matches_any_client_id(issuer, cache):
    token = issuer.mint({"aud": ["other-app", "second-client"]})
    c = verify(issuer, token, cache, client_ids=["first", "second-client"])
    assert c.audience == "second-client"


def test_warm_cache_fetches_once(issuer, cache):
    now = time.time()
    for _ in range(5):
        verify(issuer, issuer.mint(), cache, now=now)
    assert (issuer.discovery_hits, issuer.jwks_hits, cache.fetch_count) == (1, 1, 1)


def test_ttl_expiry_refetches(issuer, cache):
    now = time.time()
    verify(issuer, issuer.mint(), cache, now=now)
    verify(issuer, issuer.mint(), cache, now=now + 299)
    assert issuer.jwks_hits == 1
    verify(issuer, issuer.mint(lifetime=1000), cache, now=now + 301)
    assert issuer.jwks_hits == 2


def test_key_rotation_new_kid_picked_up_old_kid_dropped(issuer, cache):
    t0 = time.time()
    old_token = issuer.mint(lifetime=3600)
    verify(issuer, old_token, cache, now=t0)
    new_kid = issuer.rotate()
    new_token = issuer.mint(lifetime=3600)
    assert json.loads(base64.urlsafe_b64decode(new_token.split(".")[0] + "=="))["kid"] == new_kid
    # Unknown kid -> one refetch (the rate limit allows it 10 s later).
    c = verify(issuer, new_token, cache, now=t0 + 11)
    assert c.kid == new_kid
    assert issuer.jwks_hits == 2
    # The old kid is gone from the published set, so its tokens now fail.
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, old_token, cache, now=t0 + 12)
    assert issuer.jwks_hits == 2  # refetch for the old kid was rate-limited


def test_provider_url_helpers(issuer):
    assert provider_url_from_issuer("https://token.actions.githubusercontent.com/") == (
        "token.actions.githubusercontent.com"
    )
    assert find_issuer(issuer.mint()) == issuer.url


# --------------------------------------------------------------- attacks


def test_alg_none_is_refused_before_key_lookup(issuer, cache):
    claims = default_claims(issuer)
    for header in ({"alg": "none"}, {"alg": "None"}, {"alg": "NONE", "kid": issuer.current_kid}):
        with pytest.raises(InvalidIdentityToken):
            verify(issuer, forge(header, claims), cache)
        with pytest.raises(InvalidIdentityToken):
            verify(issuer, f"{b64url(header)}.{b64url(claims)}.", cache)
    assert issuer.jwks_hits == 0 and cache.fetch_count == 0


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_with_public_key_as_secret_is_refused(issuer, cache, alg):
    # The classic RS256->HS256 confusion: sign with the published public key.
    verify(issuer, issuer.mint(), cache)  # warm the cache: the key is known
    pem = issuer.public_pem()
    header = {"alg": alg, "kid": issuer.current_kid, "typ": "JWT"}
    signing_input = f"{b64url(header)}.{b64url(default_claims(issuer))}"
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    sig = hmac.new(pem, signing_input.encode(), digest).digest()
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, f"{signing_input}.{b64url(sig)}", cache)
    # Also via joserfc with an oct key holding the JWK's n (another variant).
    n = issuer.jwks()["keys"][0]["n"]
    token = jwt.encode(header, default_claims(issuer), OctKey.import_key(n), algorithms=[alg])
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, token, cache)


def test_key_type_must_match_alg(issuer, cache):
    # An ES256 token relabelled RS256 with the EC key's kid: no RSA key fits.
    token = issuer.mint(alg="ES256")
    h, p, s = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(h + "=="))
    header["alg"] = "RS256"
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, f"{b64url(header)}.{p}.{s}", cache)
    # ES384 claimed for a P-256 key: wrong curve.
    header["alg"] = "ES384"
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, f"{b64url(header)}.{p}.{s}", cache)


def test_unknown_kid_refetches_once_then_fails(issuer, cache):
    t0 = time.time()
    verify(issuer, issuer.mint(), cache, now=t0)
    ghost = RSAKey.generate_key(2048, parameters={"kid": "ghost"})
    token = jwt.encode({"alg": "RS256", "kid": "ghost"}, default_claims(issuer), ghost)
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, token, cache, now=t0 + 11)
    assert issuer.jwks_hits == 2  # the one refetch
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, token, cache, now=t0 + 12)
    assert issuer.jwks_hits == 2  # rate-limited


def test_signed_by_unpublished_key_with_published_kid(issuer, cache):
    forger = RSAKey.generate_key(2048, parameters={"kid": issuer.current_kid})
    token = jwt.encode({"alg": "RS256", "kid": issuer.current_kid}, default_claims(issuer), forger)
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, token, cache)


def test_refetch_rate_limiting_under_kid_flood(issuer, cache):
    t0 = time.time()
    verify(issuer, issuer.mint(), cache, now=t0)
    for i in range(50):
        header = {"alg": "RS256", "kid": f"made-up-{i}"}
        with pytest.raises(InvalidIdentityToken):
            verify(issuer, forge(header, default_claims(issuer)), cache, now=t0 + i * 0.5)
    # 25 s of flooding at 2/s: at most one refetch per 10 s.
    assert issuer.jwks_hits <= 1 + 3


def test_wrong_issuer(issuer, cache):
    for iss in ["https://evil.example.test", issuer.url + "/other", "http://127.0.0.1:1"]:
        with pytest.raises(InvalidIdentityToken, match="issuer"):
            verify(issuer, issuer.mint({"iss": iss}), cache)
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, issuer.mint({"iss": None}), cache)


def test_wrong_audience(issuer, cache):
    with pytest.raises(InvalidIdentityToken, match="Incorrect token audience"):
        verify(issuer, issuer.mint({"aud": "someone-else"}), cache)
    with pytest.raises(InvalidIdentityToken, match="Incorrect token audience"):
        verify(issuer, issuer.mint({"aud": ["a", "b"]}), cache)
    with pytest.raises(InvalidIdentityToken, match="Incorrect token audience"):
        verify(issuer, issuer.mint({"aud": 42}), cache)


def test_expired(issuer, cache):
    now = int(time.time())
    token = issuer.mint({"iat": now - 600, "exp": now - 120})
    with pytest.raises(ExpiredTokenException) as err:
        verify(issuer, token, cache, now=now)
    assert err.value.message == (
        f"Token expired: current date/time {now} must be before the expiration date/time{now - 120}"
    )
    # Inside the leeway it still passes; with no leeway it does not.
    assert verify(issuer, issuer.mint({"exp": now - 30}), cache, now=now).subject
    with pytest.raises(ExpiredTokenException):
        verify(issuer, issuer.mint({"exp": now}), cache, now=now, leeway=0)


def test_not_yet_valid(issuer, cache):
    now = int(time.time())
    with pytest.raises(InvalidIdentityToken, match="nbf"):
        verify(issuer, issuer.mint({"nbf": now + 600}), cache, now=now)
    with pytest.raises(InvalidIdentityToken, match="iat"):
        verify(issuer, issuer.mint({"iat": now + 600, "exp": now + 900}), cache, now=now)
    assert verify(issuer, issuer.mint({"nbf": now + 30}), cache, now=now).subject


@pytest.mark.parametrize(
    "claims",
    [{"sub": None}, {"sub": ""}, {"sub": 7}, {"exp": None}, {"exp": "soon"}, {"exp": True}],
)
def test_required_claims(issuer, cache, claims):
    token = issuer.mint({k: v for k, v in claims.items() if v is not None})
    if None in claims.values():
        body = default_claims(issuer)
        for k in claims:
            body.pop(k)
        token = issuer.mint(body, defaults=False)
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, token, cache)


def test_tampered_payload_and_signature(issuer, cache):
    h, p, s = issuer.mint().split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=="))
    claims["sub"] = "admin"
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, f"{h}.{b64url(claims)}.{s}", cache)
    flipped = s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1]
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, f"{h}.{p}.{flipped}", cache)


def test_crit_header_is_refused(issuer, cache):
    # A validly signed token with a critical extension we don't implement.
    token = issuer.mint(header={"crit": ["b64"], "b64": True})
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, token, cache)


@pytest.mark.parametrize(
    "garbage", ["", "abc", "a.b", "a.b.c.d.e", "!!!.@@@.###", "x" * 20_001, "e30.e30.e30"]
)
def test_garbage_tokens(issuer, cache, garbage):
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, garbage, cache)
    with pytest.raises(InvalidIdentityToken):
        find_issuer(garbage)


def test_find_issuer_rejects_non_object_payload():
    with pytest.raises(InvalidIdentityToken):
        find_issuer(f"{b64url({'alg': 'RS256'})}.{b64url(b'[1,2]')}.c2ln")


@pytest.mark.parametrize(
    "claims",
    [
        {"https://aws.amazon.com/tags": "Project=Blue"},
        {"https://aws.amazon.com/tags": {"principal_tags": {"P": [1]}}},
        {"https://aws.amazon.com/tags": {"transitive_tag_keys": "P"}},
        {"https://aws.amazon.com/source_identity": ["a"]},
        {"amr": {"a": 1}},
    ],
)
def test_malformed_aws_claims(issuer, cache, claims):
    with pytest.raises(InvalidIdentityToken):
        verify(issuer, issuer.mint(claims), cache)


# ----------------------------------------------------- JWKS / transport


def test_jwks_endpoint_down(issuer, cache):
    issuer.down = True
    t0 = time.time()
    with pytest.raises(IDPCommunicationError) as err:
        verify(issuer, issuer.mint(), cache, now=t0)
    assert err.value.message == MSG_FETCH_FAILED
    hits = issuer.discovery_hits
    # Within the refetch interval we fail fast without calling the IdP.
    with pytest.raises(IDPCommunicationError):
        verify(issuer, issuer.mint(), cache, now=t0 + 1)
    assert issuer.discovery_hits == hits
    issuer.down = False
    assert verify(issuer, issuer.mint(), cache, now=t0 + 11).subject


def test_stale_keys_served_briefly_when_idp_goes_down(issuer, cache):
    t0 = time.time()
    verify(issuer, issuer.mint(lifetime=3600), cache, now=t0)
    issuer.down = True
    assert verify(issuer, issuer.mint(lifetime=3600), cache, now=t0 + 400).subject
    with pytest.raises(IDPCommunicationError):
        verify(issuer, issuer.mint(lifetime=3600), cache, now=t0 + 700)


def test_issuer_stopped_entirely():
    issuer = OidcIssuer().start()
    token, provider = issuer.mint(), issuer.provider_url
    issuer.stop()
    cache = JwksCache(allow_http_loopback=True)
    with pytest.raises(IDPCommunicationError):
        verify_web_identity_token(
            token,
            provider_url=provider,
            client_ids=[DEFAULT_CLIENT_ID],
            jwks=cache,
            now=time.time(),
        )


def test_http_issuer_refused_without_dev_flag(issuer):
    strict = JwksCache()  # allow_http_loopback=False
    with pytest.raises(InvalidIdentityToken, match="issuer"):
        verify(issuer, issuer.mint(), strict)
    assert issuer.discovery_hits == 0


def test_non_loopback_http_refused_even_in_dev_mode():
    calls: list[str] = []

    def fetch(url: str) -> dict:
        calls.append(url)
        return {"issuer": "http://idp.example.test", "jwks_uri": "http://idp.example.test/jwks"}

    cache = JwksCache(fetch, allow_http_loopback=True)
    with pytest.raises(IDPCommunicationError):
        cache.keys("http://idp.example.test", "k", now=0)
    assert calls == []
    # And a token claiming such an issuer never gets that far.
    token = forge({"alg": "RS256", "kid": "k"}, {"iss": "http://idp.example.test", "sub": "x"})
    with pytest.raises(InvalidIdentityToken):
        verify_web_identity_token(
            token, provider_url="idp.example.test", client_ids=["c"], jwks=cache, now=0
        )
    assert calls == []


def test_discovery_pointing_jwks_at_plain_http_is_refused():
    def fetch(url: str) -> dict:
        assert url == "https://idp.example.test/.well-known/openid-configuration"
        return {"issuer": "https://idp.example.test", "jwks_uri": "http://10.0.0.1/jwks"}

    with pytest.raises(IDPCommunicationError):
        JwksCache(fetch, allow_http_loopback=True).keys("https://idp.example.test", None, now=0)


def test_discovery_issuer_mismatch_is_refused():
    def fetch(url: str) -> dict:
        return {"issuer": "https://evil.example.test", "jwks_uri": "https://evil.example.test/k"}

    with pytest.raises(IDPCommunicationError):
        JwksCache(fetch).keys("https://idp.example.test", None, now=0)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://idp.example.test/x", True),
        ("http://127.0.0.1:8080/x", True),
        ("http://127.9.9.9/x", True),
        ("http://localhost:1/x", True),
        ("http://[::1]:1/x", True),
        ("http://10.0.0.1/x", False),
        ("http://idp.example.test/x", False),
        ("http://127.0.0.1.evil.test/x", False),
        ("ftp://127.0.0.1/x", False),
        ("https://user:pw@idp.example.test/x", False),
    ],
)
def test_fetch_url_policy(url, allowed):
    if allowed:
        check_fetch_url(url, allow_http_loopback=True)
    else:
        with pytest.raises(FetchError):
            check_fetch_url(url, allow_http_loopback=True)
    if url.startswith("http://"):
        with pytest.raises(FetchError):
            check_fetch_url(url, allow_http_loopback=False)


@pytest.mark.filterwarnings("ignore:Key size should be")
def test_import_jwks_skips_symmetric_small_and_foreign_keys(issuer):
    good = issuer.jwks()["keys"]
    small = RSAKey.generate_key(1024, parameters={"kid": "small"}).as_dict(private=False)
    private = RSAKey.generate_key(2048, parameters={"kid": "priv"}).as_dict(private=True)
    keys = import_jwks(
        {
            "keys": [
                {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                },
                {**good[0], "use": "enc", "kid": "enc"},
                small,
                private,
                "junk",
                *good,
            ]
        }
    )
    assert sorted(k.kid for k in keys) == sorted([*(k["kid"] for k in good), "priv"])
    assert all(not k.is_private for k in keys)
    with pytest.raises(FetchError):
        import_jwks({"keys": "nope"})


def test_httpx_fetcher_caps_size_and_refuses_redirects():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/big":
            return httpx.Response(200, content=b"[" + b"1," * 400_000 + b"1]")
        if request.url.path == "/redirect":
            return httpx.Response(302, headers={"Location": "http://10.0.0.1/"})
        if request.url.path == "/list":
            return httpx.Response(200, json=[1])
        return httpx.Response(200, json={"ok": True})

    fetch = httpx_fetcher(httpx.Client(transport=httpx.MockTransport(handler)))
    assert fetch("https://idp.example.test/ok") == {"ok": True}
    for path in ("/big", "/redirect", "/list"):
        with pytest.raises(FetchError):
            fetch("https://idp.example.test" + path)


def test_concurrent_verification_fetches_once(issuer, cache):
    tokens = [issuer.mint({"sub": f"user-{i:04d}"}) for i in range(32)]
    now = time.time()
    results: list[str] = []
    errors: list[BaseException] = []

    def work(token: str) -> None:
        try:
            results.append(verify(issuer, token, cache, now=now).subject)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == sorted(f"user-{i:04d}" for i in range(32))
    assert issuer.jwks_hits == 1
