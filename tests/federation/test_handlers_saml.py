"""AssumeRoleWithSAML at handler level: a real store, key ring and policy
engine, a pysaml2 IdP (``TestIdP``) signing with xmlsec1, the IAM handlers
to register the provider and the role."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rolegate.context import Principal
from rolegate.errors import (
    AccessDenied,
    ExpiredTokenException,
    InvalidIdentityToken,
    MalformedPolicyDocument,
    ValidationError,
)
from rolegate.federation.handlers import HANDLERS
from rolegate.federation.saml import name_qualifier
from tests.conftest import open_test_store
from tests.federation.saml_idp import SIG_RSA_SHA1, TestIdP
from tests.sts.conftest import A, B, World, allow, doc

ANON = Principal(kind="anonymous", arn="", account_id="", user_id="anonymous")
PROVIDER = f"arn:aws:iam::{A}:saml-provider/corp"
ROLE = f"arn:aws:iam::{A}:role/saml-dev"


def saml_trust(*, actions: Any = "sts:AssumeRoleWithSAML", condition: dict | None = None) -> str:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": actions,
    }
    st["Condition"] = condition or {
        "StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}
    }
    return doc(st)


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> TestIdP:
    return TestIdP(tmp_path_factory.mktemp("idp"))


@pytest.fixture
def world(tmp_path: Path, idp: TestIdP) -> Iterator[World]:
    import os
    import random

    from rolegate import tokens
    from rolegate.appstate import AppState, Settings
    from rolegate.iam.aws_managed import ensure_aws_managed_policies

    store = open_test_store(tmp_path)
    with store.transaction() as tx:
        tx.create_account(A, "main", "main@example.com")
        tx.create_account(B, "other", "other@example.com")
    ensure_aws_managed_policies(store)
    ring = tokens.KeyRing([("k1", os.urandom(32))])
    app = AppState(store=store, key_ring=ring, settings=Settings(data_dir=str(tmp_path)))
    app.extra["rng"] = random.Random(5)
    # pysaml2 stamps assertions with the real clock.
    w = World(store=store, ring=ring, app=app, now=datetime.now(UTC).replace(microsecond=0))
    w.iam(A, "CreateSAMLProvider", Name="corp", SAMLMetadataDocument=idp.metadata_xml())
    w.role(A, "saml-dev", saml_trust(), allow("s3:*"))
    try:
        yield w
    finally:
        store.close()


def call(w: World, **params: Any) -> dict[str, Any]:
    ctx = w.ctx("sts", "AssumeRoleWithSAML", ANON)
    w.last = ctx
    return HANDLERS["AssumeRoleWithSAML"](ctx, params) or {}


def assume(w: World, assertion: str, role: str = ROLE, principal: str = PROVIDER, **kw: Any) -> Any:
    return call(w, RoleArn=role, PrincipalArn=principal, SAMLAssertion=assertion, **kw)


def test_success_outputs_session_and_audit(world: World, idp: TestIdP) -> None:
    out = assume(world, idp.response(ROLE, PROVIDER, "alice@example.com"))
    qualifier = name_qualifier(idp.entity_id, A, "corp")
    assert (
        out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{A}:assumed-role/saml-dev/alice@example.com"
    )
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["Subject"] == "alice-persistent-id"
    assert out["SubjectType"] == "persistent"
    assert out["Issuer"] == idp.entity_id
    assert out["Audience"] == "https://signin.aws.amazon.com/saml"
    assert out["NameQualifier"] == qualifier
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert out["Credentials"]["Expiration"] - world.now == timedelta(seconds=3600)

    claims = world.claims(out["Credentials"])
    assert claims.role_arn == ROLE and claims.chain_depth == 0
    assert claims.federation["context_keys"] == {
        "saml:namequalifier": qualifier,
        "saml:sub": "alice-persistent-id",
        "saml:sub_type": "persistent",
    }
    # The session works: it has the role's permissions.
    session = world.principal(out["Credentials"])
    assert world.allowed(session, "s3:GetObject", "arn:aws:s3:::b/k")
    assert not world.allowed(session, "iam:ListUsers")

    ctx = world.last
    assert ctx.audit_extra["recipient_account"] == A
    assert ctx.audit_extra["federated_identity"] == {
        "type": "SAMLUser",
        "principalId": f"{qualifier}:alice-persistent-id",
        "userName": "alice-persistent-id",
        "identityProvider": qualifier,
    }
    resp = ctx.audit_response
    assert "secretAccessKey" not in json.dumps(resp)
    assert resp["nameQualifier"] == qualifier and resp["subjectType"] == "persistent"
    assert {r["type"] for r in ctx.audit_resources} == {"AWS::IAM::Role", "AWS::IAM::SAMLProvider"}


def test_saml_keys_persist_into_later_requests(world: World, idp: TestIdP) -> None:
    from rolegate.authz import base_context

    world.role(
        A,
        "sub-bound",
        saml_trust(),
        allow("s3:*", "*", {"StringEquals": {"saml:sub": "alice-persistent-id"}}),
    )
    role = f"arn:aws:iam::{A}:role/sub-bound"
    out = assume(world, idp.response(role, PROVIDER, "alice"), role=role)
    session = world.principal(out["Credentials"])
    keys = base_context(world.ctx("s3", "Probe", session))
    assert keys["saml:sub"] == "alice-persistent-id"
    assert keys["saml:sub_type"] == "persistent"
    assert "saml:aud" not in keys  # only three keys persist (reference §2.7)
    # ... and identity policies of the role can condition on them.
    assert world.allowed(session, "s3:GetObject", "arn:aws:s3:::b/k")


def test_replay_is_refused(world: World, idp: TestIdP) -> None:
    assertion = idp.response(ROLE, PROVIDER, "alice")
    assume(world, assertion)
    with pytest.raises(InvalidIdentityToken, match="already used"):
        assume(world, assertion)


def test_denied_assertion_is_not_burnt(world: World, idp: TestIdP) -> None:
    assertion = idp.response(ROLE, PROVIDER, "alice")
    with pytest.raises(ValidationError):
        assume(world, assertion, DurationSeconds=7200)  # role max is 3600
    assume(world, assertion)


def test_unknown_provider_and_other_account(world: World, idp: TestIdP) -> None:
    assertion = idp.response(ROLE, PROVIDER, "alice")
    with pytest.raises(InvalidIdentityToken, match="provider doesn't exist"):
        assume(world, assertion, principal=f"arn:aws:iam::{A}:saml-provider/nope")
    with pytest.raises(InvalidIdentityToken, match="provider doesn't exist"):
        assume(world, assertion, principal=f"arn:aws:iam::{B}:saml-provider/corp")


def test_role_pair_must_be_in_assertion(world: World, idp: TestIdP) -> None:
    world.role(A, "other", saml_trust())
    assertion = idp.response(ROLE, PROVIDER, "alice")
    with pytest.raises(AccessDenied, match="Not authorized to perform sts:AssumeRoleWithSAML"):
        assume(world, assertion, role=f"arn:aws:iam::{A}:role/other")


def test_missing_role_is_access_denied(world: World, idp: TestIdP) -> None:
    ghost = f"arn:aws:iam::{A}:role/ghost"
    with pytest.raises(AccessDenied, match="^Not authorized to perform sts:AssumeRoleWithSAML$"):
        assume(world, idp.response(ghost, PROVIDER, "alice"), role=ghost)


def test_signature_and_sha1_refused(world: World, idp: TestIdP, tmp_path: Path) -> None:
    with pytest.raises(InvalidIdentityToken, match="signature invalid"):
        assume(world, idp.response(ROLE, PROVIDER, "alice", sign_alg=SIG_RSA_SHA1))
    other = TestIdP(tmp_path / "other", entity_id=idp.entity_id)
    with pytest.raises(InvalidIdentityToken, match="signature invalid"):
        assume(world, other.response(ROLE, PROVIDER, "alice"))


def test_expired(world: World, idp: TestIdP) -> None:
    assertion = idp.response(ROLE, PROVIDER, "alice")
    world.advance(3600)
    with pytest.raises(ExpiredTokenException, match="Token expired"):
        assume(world, assertion)


@pytest.mark.parametrize(
    ("condition", "ok"),
    [
        ({"StringEquals": {"saml:sub": "alice-persistent-id"}}, True),
        ({"StringEquals": {"saml:sub": "mallory"}}, False),
        ({"StringEquals": {"saml:sub_type": "persistent", "saml:doc": f"{A}/corp"}}, True),
        ({"StringEquals": {"saml:iss": "https://idp.example.test/saml"}}, True),
        ({"StringEquals": {"aws:FederatedProvider": PROVIDER}}, True),
        ({"StringEquals": {"sts:RoleSessionName": "alice"}}, True),
        ({"ForAnyValue:StringEquals": {"saml:edupersonaffiliation": "staff"}}, True),
        ({"ForAnyValue:StringEquals": {"saml:edupersonaffiliation": "faculty"}}, False),
    ],
)
def test_trust_conditions(world: World, idp: TestIdP, condition: dict, ok: bool) -> None:
    world.role(A, "cond", saml_trust(condition=condition))
    role = f"arn:aws:iam::{A}:role/cond"
    assertion = idp.response(
        role,
        PROVIDER,
        "alice",
        attributes={"urn:oid:1.3.6.1.4.1.5923.1.1.1.1": ["member", "staff"]},
    )
    if ok:
        assert assume(world, assertion, role=role)["Subject"] == "alice-persistent-id"
    else:
        with pytest.raises(AccessDenied):
            assume(world, assertion, role=role)


def test_trust_naming_another_provider_denies(world: World, idp: TestIdP) -> None:
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{A}:saml-provider/elsewhere"},
            "Action": "sts:AssumeRoleWithSAML",
        }
    )
    world.role(A, "strict", trust)
    role = f"arn:aws:iam::{A}:role/strict"
    with pytest.raises(AccessDenied):
        assume(world, idp.response(role, PROVIDER, "alice"), role=role)


def test_tags_need_tag_session(world: World, idp: TestIdP) -> None:
    attrs = {"PrincipalTag:Team": "blue", "TransitiveTagKeys": ["Team"]}
    with pytest.raises(AccessDenied):
        assume(world, idp.response(ROLE, PROVIDER, "alice", attributes=attrs))
    world.role(
        A,
        "tagged",
        saml_trust(
            actions=["sts:AssumeRoleWithSAML", "sts:TagSession"],
            condition={
                "StringEquals": {"aws:RequestTag/Team": "blue", "aws:PrincipalTag/Team": "blue"}
            },
        ),
    )
    role = f"arn:aws:iam::{A}:role/tagged"
    out = assume(world, idp.response(role, PROVIDER, "alice", attributes=attrs), role=role)
    claims = world.claims(out["Credentials"])
    assert dict(claims.tags) == {"Team": "blue"}
    assert claims.transitive_tag_keys == ("Team",)
    assert out["PackedPolicySize"] >= 1


def test_source_identity_needs_set_source_identity(world: World, idp: TestIdP) -> None:
    attrs = {"SourceIdentity": "alice"}
    with pytest.raises(AccessDenied):
        assume(world, idp.response(ROLE, PROVIDER, "alice", attributes=attrs))
    world.role(A, "si", saml_trust(actions=["sts:AssumeRoleWithSAML", "sts:SetSourceIdentity"]))
    role = f"arn:aws:iam::{A}:role/si"
    out = assume(world, idp.response(role, PROVIDER, "alice", attributes=attrs), role=role)
    assert out["SourceIdentity"] == "alice"
    assert world.claims(out["Credentials"]).source_identity == "alice"


def test_durations(world: World, idp: TestIdP) -> None:
    world.role(A, "long", saml_trust(), max_session=43200)
    role = f"arn:aws:iam::{A}:role/long"

    def seconds(out: dict[str, Any]) -> float:
        return (out["Credentials"]["Expiration"] - world.now).total_seconds()

    out = assume(world, idp.response(role, PROVIDER, "ab"), role=role, DurationSeconds=7200)
    assert seconds(out) == 7200
    out = assume(
        world,
        idp.response(role, PROVIDER, "ab", attributes={"SessionDuration": "1800"}),
        role=role,
        DurationSeconds=7200,
    )
    assert seconds(out) == 1800
    out = assume(
        world,
        idp.response(
            role, PROVIDER, "ab", session_not_on_or_after=world.now + timedelta(seconds=1200)
        ),
        role=role,
    )
    assert 1100 <= seconds(out) <= 1200
    with pytest.raises(ValidationError, match="MaxSessionDuration"):
        assume(world, idp.response(ROLE, PROVIDER, "ab"), DurationSeconds=7200)


def test_session_policies(world: World, idp: TestIdP) -> None:
    narrow = allow("s3:GetObject", "arn:aws:s3:::only/*")
    out = assume(world, idp.response(ROLE, PROVIDER, "ab"), Policy=narrow)
    session = world.principal(out["Credentials"])
    assert world.allowed(session, "s3:GetObject", "arn:aws:s3:::only/x")
    assert not world.allowed(session, "s3:PutObject", "arn:aws:s3:::only/x")
    assert out["PackedPolicySize"] >= 1
    with pytest.raises(MalformedPolicyDocument):
        assume(world, idp.response(ROLE, PROVIDER, "ab"), Policy='{"Version": "2012-10-17"}')


def test_request_parameters_recorded_without_assertion(world: World, idp: TestIdP) -> None:
    from rolegate.audit.events import build_events

    params: dict[str, Any] = {
        "RoleArn": ROLE,
        "PrincipalArn": PROVIDER,
        "SAMLAssertion": idp.response(ROLE, PROVIDER, "alice"),
    }
    ctx = world.ctx("sts", "AssumeRoleWithSAML", ANON)
    HANDLERS["AssumeRoleWithSAML"](ctx, params)
    (event,) = build_events(ctx, params=params, error=None, event_time=world.now)
    assert event["userIdentity"]["type"] == "SAMLUser"
    assert event["recipientAccountId"] == A
    rp = event["requestParameters"]
    assert "sAMLAssertion" not in rp and rp["sAMLAssertionID"]
    assert rp["roleSessionName"] == "alice"
    text = json.dumps(event)
    assert params["SAMLAssertion"] not in text
    assert base64.b64decode(params["SAMLAssertion"])  # still the caller's input


def test_idp_reported_failure_is_idp_rejected_claim(world: World, idp: TestIdP) -> None:
    from lxml import etree

    from rolegate.errors import IDPRejectedClaim

    root = etree.fromstring(idp.response_xml(ROLE, PROVIDER, "alice").encode())
    ns = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}
    root.find("samlp:Status/samlp:StatusCode", ns).set(
        "Value", "urn:oasis:names:tc:SAML:2.0:status:Responder"
    )
    with pytest.raises(IDPRejectedClaim):
        assume(world, base64.b64encode(etree.tostring(root)).decode())
