"""AssumeRoleWithWebIdentity at handler level: a real store, key ring and
policy engine, a real OIDC issuer on loopback (``OidcIssuer``) and the
server's ``JwksCache`` in dev mode (http to loopback allowed)."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rolegate.context import Principal
from rolegate.errors import (
    AccessDenied,
    ExpiredTokenException,
    IDPCommunicationError,
    InvalidIdentityToken,
    ValidationError,
)
from rolegate.federation.handlers import HANDLERS
from rolegate.federation.jwks import JwksCache
from tests.conftest import open_test_store
from tests.federation.oidc_issuer import OidcIssuer
from tests.sts.conftest import A, B, World, allow, doc

ANON = Principal(kind="anonymous", arn="", account_id="", user_id="anonymous")
ROLE = f"arn:aws:iam::{A}:role/ci"


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer() as iss:
        yield iss


def provider_arn(issuer: OidcIssuer, account: str = A) -> str:
    return f"arn:aws:iam::{account}:oidc-provider/{issuer.provider_url}"


def oidc_trust(
    issuer: OidcIssuer, *, actions: Any = "sts:AssumeRoleWithWebIdentity", condition: Any = None
) -> str:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn(issuer)},
        "Action": actions,
        "Condition": condition
        or {"StringEquals": {f"{issuer.provider_url}:aud": issuer.client_id}},
    }
    return doc(st)


@pytest.fixture
def world(tmp_path: Path, issuer: OidcIssuer) -> Iterator[World]:
    from rolegate import tokens
    from rolegate.appstate import AppState, Settings
    from rolegate.iam.aws_managed import ensure_aws_managed_policies

    store = open_test_store(tmp_path)
    with store.transaction() as tx:
        tx.create_account(A, "main", "main@example.com")
        tx.create_account(B, "other", "other@example.com")
    ensure_aws_managed_policies(store)
    ring = tokens.KeyRing([("k1", os.urandom(32))])
    app = AppState(
        store=store,
        key_ring=ring,
        settings=Settings(data_dir=str(tmp_path)),
        dev_allow_http_issuers=True,
    )
    app.jwks = JwksCache(allow_http_loopback=True, min_refetch_interval=0)
    app.extra["rng"] = random.Random(7)
    # Tokens carry real-clock iat/exp.
    w = World(store=store, ring=ring, app=app, now=datetime.now(UTC).replace(microsecond=0))
    w.iam(
        A,
        "CreateOpenIDConnectProvider",
        Url=issuer.url,
        ClientIDList=[issuer.client_id],
        ThumbprintList=["0" * 40],
    )
    w.role(A, "ci", oidc_trust(issuer), allow("s3:*"))
    try:
        yield w
    finally:
        store.close()


def call(w: World, **params: Any) -> dict[str, Any]:
    ctx = w.ctx("sts", "AssumeRoleWithWebIdentity", ANON)
    w.last = ctx
    return HANDLERS["AssumeRoleWithWebIdentity"](ctx, params) or {}


def assume(w: World, token: str, role: str = ROLE, session: str = "build-42", **kw: Any) -> Any:
    return call(w, RoleArn=role, RoleSessionName=session, WebIdentityToken=token, **kw)


def test_success(world: World, issuer: OidcIssuer) -> None:
    out = assume(world, issuer.mint({"sub": "repo:org/app:ref:refs/heads/main"}))
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{A}:assumed-role/ci/build-42"
    assert out["SubjectFromWebIdentityToken"] == "repo:org/app:ref:refs/heads/main"
    assert out["Provider"] == issuer.url
    assert out["Audience"] == issuer.client_id
    assert (out["Credentials"]["Expiration"] - world.now).total_seconds() == 3600
    session = world.principal(out["Credentials"])
    assert world.allowed(session, "s3:ListBucket", "arn:aws:s3:::b")

    ctx = world.last
    assert ctx.audit_extra["recipient_account"] == A
    assert ctx.audit_extra["federated_identity"] == {
        "type": "WebIdentityUser",
        "principalId": f"{issuer.url}:{issuer.client_id}:repo:org/app:ref:refs/heads/main",
        "userName": "repo:org/app:ref:refs/heads/main",
        "identityProvider": issuer.url,
    }
    resp = ctx.audit_response
    assert resp["provider"] == issuer.url and resp["audience"] == issuer.client_id
    assert "secretAccessKey" not in json.dumps(resp)
    claims = world.claims(out["Credentials"])
    assert claims.federation["context_keys"] == {"aws:FederatedProvider": provider_arn(issuer)}


def test_es256_token(world: World, issuer: OidcIssuer) -> None:
    assert assume(world, issuer.mint(alg="ES256"))["Audience"] == issuer.client_id


@pytest.mark.parametrize(
    ("condition", "ok"),
    [
        ({"StringEquals": {"{p}:sub": "alice-subject-0001"}}, True),
        ({"StringEquals": {"{p}:sub": "mallory"}}, False),
        ({"StringLike": {"{p}:sub": "alice-*"}}, True),
        ({"ForAnyValue:StringEquals": {"{p}:amr": "mfa"}}, True),
        ({"ForAnyValue:StringEquals": {"{p}:amr": "hwk"}}, False),
        ({"StringEquals": {"aws:FederatedProvider": "{arn}"}}, True),
        ({"StringEquals": {"sts:RoleSessionName": "build-42"}}, True),
    ],
)
def test_trust_conditions(world: World, issuer: OidcIssuer, condition: dict, ok: bool) -> None:
    text = (
        json.dumps(condition)
        .replace("{p}", issuer.provider_url)
        .replace("{arn}", provider_arn(issuer))
    )
    world.role(A, "cond", oidc_trust(issuer, condition=json.loads(text)))
    role = f"arn:aws:iam::{A}:role/cond"
    token = issuer.mint({"amr": ["pwd", "mfa"]})
    if ok:
        assume(world, token, role=role)
    else:
        with pytest.raises(
            AccessDenied, match="^Not authorized to perform sts:AssumeRoleWithWebIdentity$"
        ):
            assume(world, token, role=role)


def test_unregistered_provider(world: World, issuer: OidcIssuer) -> None:
    with OidcIssuer() as other:
        message = f"No OpenIDConnect provider found in your account for {other.url}"
        token = other.mint()
    with pytest.raises(InvalidIdentityToken, match=message):
        assume(world, token)
    # A provider registered in another account does not count.
    world.role(B, "ci", oidc_trust(issuer))
    with pytest.raises(InvalidIdentityToken, match="No OpenIDConnect provider"):
        assume(world, issuer.mint(), role=f"arn:aws:iam::{B}:role/ci")


def test_token_errors(world: World, issuer: OidcIssuer) -> None:
    with pytest.raises(InvalidIdentityToken, match="audience"):
        assume(world, issuer.mint({"aud": "someone-else"}))
    with pytest.raises(ExpiredTokenException, match="Token expired"):
        now = int(time.time())
        assume(world, issuer.mint({"iat": now - 7200, "exp": now - 3600}))
    with pytest.raises(InvalidIdentityToken):
        assume(world, "not.a.jwt")


def test_missing_role_and_provider_id(world: World, issuer: OidcIssuer) -> None:
    with pytest.raises(AccessDenied):
        assume(world, issuer.mint(), role=f"arn:aws:iam::{A}:role/ghost")
    with pytest.raises(ValidationError, match="providerId"):
        assume(world, issuer.mint(), ProviderId="accounts.google.com")
    with pytest.raises(InvalidIdentityToken, match="not supported"):
        assume(world, issuer.mint(), ProviderId="www.amazon.com")


def test_idp_down(world: World, issuer: OidcIssuer) -> None:
    world.app.jwks = JwksCache(allow_http_loopback=True)
    issuer.down = True
    try:
        with pytest.raises(IDPCommunicationError):
            assume(world, issuer.mint())
    finally:
        issuer.down = False


def test_http_issuer_needs_dev_mode(world: World, issuer: OidcIssuer) -> None:
    world.app.jwks = JwksCache(allow_http_loopback=False)
    with pytest.raises(InvalidIdentityToken):
        assume(world, issuer.mint())


def test_tags_and_source_identity_claims(world: World, issuer: OidcIssuer) -> None:
    claims = {
        "https://aws.amazon.com/tags": {
            "principal_tags": {"Team": ["blue"], "Env": ["dev"]},
            "transitive_tag_keys": ["Team"],
        },
        "https://aws.amazon.com/source_identity": "alice",
    }
    with pytest.raises(AccessDenied):
        assume(world, issuer.mint(claims))
    world.role(
        A,
        "tagged",
        oidc_trust(
            issuer,
            actions=[
                "sts:AssumeRoleWithWebIdentity",
                "sts:TagSession",
                "sts:SetSourceIdentity",
            ],
            condition={
                "StringEquals": {"aws:RequestTag/Team": "blue", "sts:SourceIdentity": "alice"}
            },
        ),
    )
    out = assume(world, issuer.mint(claims), role=f"arn:aws:iam::{A}:role/tagged")
    c = world.claims(out["Credentials"])
    assert dict(c.tags) == {"Team": "blue", "Env": "dev"}
    assert c.transitive_tag_keys == ("Team",)
    assert c.source_identity == "alice" == out["SourceIdentity"]


def test_bad_source_identity_claim(world: World, issuer: OidcIssuer) -> None:
    token = issuer.mint({"https://aws.amazon.com/source_identity": "aws:root"})
    with pytest.raises(InvalidIdentityToken, match="source identity"):
        assume(world, token)


def test_duration(world: World, issuer: OidcIssuer) -> None:
    out = assume(world, issuer.mint(), DurationSeconds=900)
    assert (out["Credentials"]["Expiration"] - world.now).total_seconds() == 900
    with pytest.raises(ValidationError, match="MaxSessionDuration"):
        assume(world, issuer.mint(), DurationSeconds=7200)
