"""OIDC providers whose TLS certificate no CA vouches for are trusted through
their IAM thumbprints, as AWS does; a mismatch is AWS's InvalidIdentityToken."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rolegate.errors import IDPCommunicationError, InvalidIdentityToken
from rolegate.federation.jwks import (
    MSG_THUMBPRINT,
    FetchError,
    JwksCache,
    ThumbprintMismatch,
    httpx_fetcher,
)
from tests.federation import tls_certs
from tests.federation.oidc_issuer import OidcIssuer

DISCOVERY = "/.well-known/openid-configuration"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tls_certs.ServerCert]:
    d: Path = tmp_path_factory.mktemp("tls")
    out = {"self": tls_certs.self_signed(d), "ca": tls_certs.ca_signed(d)}
    out["impostor"] = tls_certs.impostor(d, out["ca"])
    return out


@pytest.fixture()
def self_signed(certs: dict[str, tls_certs.ServerCert]) -> Iterator[OidcIssuer]:
    with OidcIssuer(tls=certs["self"]) as issuer:
        yield issuer


def test_a_self_signed_idp_is_refused_without_a_thumbprint(self_signed: OidcIssuer) -> None:
    with pytest.raises(FetchError) as info:
        httpx_fetcher()(self_signed.url + DISCOVERY)
    assert not isinstance(info.value, ThumbprintMismatch)


def test_a_self_signed_idp_is_trusted_by_its_thumbprint(
    self_signed: OidcIssuer, certs: dict[str, tls_certs.ServerCert]
) -> None:
    # Thumbprints are compared case-insensitively (IAM keeps what was given).
    doc = httpx_fetcher()(self_signed.url + DISCOVERY, [certs["self"].leaf_thumbprint.lower()])
    assert doc["issuer"] == self_signed.url


def test_another_thumbprint_is_a_mismatch(self_signed: OidcIssuer) -> None:
    with pytest.raises(ThumbprintMismatch):
        httpx_fetcher()(self_signed.url + DISCOVERY, ["0" * 40])


@pytest.mark.parametrize("which", ["ca_thumbprint", "leaf_thumbprint"])
def test_a_private_ca_chain_is_trusted_by_the_ca_or_the_server_thumbprint(
    certs: dict[str, tls_certs.ServerCert], which: str
) -> None:
    with OidcIssuer(tls=certs["ca"]) as issuer:
        pin = getattr(certs["ca"], which)
        assert httpx_fetcher()(issuer.url + DISCOVERY, [pin])["issuer"] == issuer.url


def test_showing_the_pinned_ca_without_its_signature_is_a_mismatch(
    certs: dict[str, tls_certs.ServerCert],
) -> None:
    # The impostor's chain contains the genuine CA certificate, whose
    # thumbprint is configured, but its server certificate was signed by
    # another key: the pinned certificate is an anchor, not a password.
    with OidcIssuer(tls=certs["impostor"]) as issuer, pytest.raises(ThumbprintMismatch):
        httpx_fetcher()(issuer.url + DISCOVERY, [certs["ca"].ca_thumbprint])


def test_a_ca_the_machine_trusts_needs_no_thumbprint(
    self_signed: OidcIssuer, certs: dict[str, tls_certs.ServerCert], monkeypatch: pytest.MonkeyPatch
) -> None:
    # SSL_CERT_FILE is how an operator adds an internal CA; a configured
    # thumbprint that does not match is then ignored, as AWS ignores
    # thumbprints of providers its root CAs vouch for.
    monkeypatch.setenv("SSL_CERT_FILE", str(certs["self"].cert_file))
    fetch = httpx_fetcher()
    assert fetch(self_signed.url + DISCOVERY)["issuer"] == self_signed.url
    assert fetch(self_signed.url + DISCOVERY, ["0" * 40])["issuer"] == self_signed.url


def test_the_cache_answers_as_aws_does(
    self_signed: OidcIssuer, certs: dict[str, tls_certs.ServerCert]
) -> None:
    cache = JwksCache()
    now = time.time()
    pin = certs["self"].leaf_thumbprint
    assert cache.keys(self_signed.url, self_signed.current_kid, now=now, thumbprints=[pin])
    with pytest.raises(InvalidIdentityToken) as info:
        cache.keys(self_signed.url, self_signed.current_kid, now=now, thumbprints=["0" * 40])
    assert info.value.message == MSG_THUMBPRINT
    # Within the refetch interval the answer stays the same, without a fetch.
    with pytest.raises(InvalidIdentityToken):
        cache.keys(self_signed.url, self_signed.current_kid, now=now + 1, thumbprints=["0" * 40])
    with pytest.raises(IDPCommunicationError):
        cache.keys(self_signed.url, self_signed.current_kid, now=now)
