"""Federation end to end: a real ``rolegate serve`` (dev flag on, for a
loopback http issuer), a pysaml2 IdP signing with xmlsec1, a real OIDC
issuer on loopback with keys rotated mid-test, boto3 and the AWS CLI.

Every attack is sent over the wire and judged by the error code botocore
reports."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import RSAKey
from lxml import etree

from tests.e2e.server import Server, running_server
from tests.federation.oidc_issuer import OidcIssuer

warnings.filterwarnings("ignore", category=DeprecationWarning, module="saml2")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from tests.federation.saml_idp import DIGEST_SHA1, SIG_RSA_SHA1, TestIdP

ACCT = "123456789012"
PROVIDER_NAME = "corp-idp"
SAML_PROVIDER = f"arn:aws:iam::{ACCT}:saml-provider/{PROVIDER_NAME}"
SAML_ROLE = f"arn:aws:iam::{ACCT}:role/saml-dev"
OIDC_ROLE = f"arn:aws:iam::{ACCT}:role/ci-deploy"
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}


def code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def allow(action: str, resource: str = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
        }
    )


def trust(principal: str, actions: list[str], condition: dict | None = None) -> str:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": principal},
        "Action": actions,
    }
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp("rolegate-fed")
    with running_server(tmp, env={"ROLEGATE_DEV_ALLOW_HTTP_ISSUERS": "1"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> TestIdP:
    return TestIdP(tmp_path_factory.mktemp("idp"))


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer() as iss:
        yield iss


@pytest.fixture(scope="module")
def saml_setup(fed: Server, idp: TestIdP) -> None:
    meta = fed.tmp / "idp-metadata.xml"
    meta.write_text(idp.metadata_xml())
    out = fed.aws(
        "iam",
        "create-saml-provider",
        "--name",
        PROVIDER_NAME,
        "--saml-metadata-document",
        f"file://{meta}",
    )
    assert json.loads(out.stdout)["SAMLProviderArn"] == SAML_PROVIDER
    iam = fed.client("iam")
    iam.create_role(
        RoleName="saml-dev",
        AssumeRolePolicyDocument=trust(
            SAML_PROVIDER,
            ["sts:AssumeRoleWithSAML"],
            {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
        ),
    )
    iam.put_role_policy(RoleName="saml-dev", PolicyName="read", PolicyDocument=allow("iam:Get*"))


@pytest.fixture(scope="module")
def oidc_provider(fed: Server, issuer: OidcIssuer) -> str:
    out = fed.aws(
        "iam",
        "create-open-id-connect-provider",
        "--url",
        issuer.url,
        "--client-id-list",
        issuer.client_id,
        "--thumbprint-list",
        "a" * 40,
    )
    arn = json.loads(out.stdout)["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCT}:oidc-provider/{issuer.provider_url}"
    fed.client("iam").create_role(
        RoleName="ci-deploy",
        AssumeRolePolicyDocument=trust(
            arn,
            ["sts:AssumeRoleWithWebIdentity"],
            {"StringEquals": {f"{issuer.provider_url}:aud": issuer.client_id}},
        ),
    )
    fed.client("iam").put_role_policy(
        RoleName="ci-deploy", PolicyName="read", PolicyDocument=allow("iam:Get*")
    )
    return arn


def sts(fed: Server) -> Any:
    """An STS client with no credentials at all: these calls are unsigned."""
    import boto3

    return boto3.client(
        "sts",
        endpoint_url=fed.endpoint,
        region_name="eu-west-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


def saml(fed: Server, assertion: str, role: str = SAML_ROLE, **kw: Any) -> dict[str, Any]:
    return sts(fed).assume_role_with_saml(
        RoleArn=role, PrincipalArn=SAML_PROVIDER, SAMLAssertion=assertion, **kw
    )


def web(fed: Server, token: str, role: str = OIDC_ROLE, **kw: Any) -> dict[str, Any]:
    return sts(fed).assume_role_with_web_identity(
        RoleArn=role, RoleSessionName="ci-run", WebIdentityToken=token, **kw
    )


def advance_clock(fed: Server, seconds: float) -> None:
    """Move the server's test clock forward (cumulatively, never back: the
    JWKS cache's rate limit compares against the last fetch time)."""
    offset = getattr(fed, "_fed_offset", 0.0) + seconds
    fed._fed_offset = offset  # type: ignore[attr-defined]
    fed.set_clock_offset(offset)


def error_of(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return code(e.value)


def audit(fed: Server, event_name: str, want: Callable[[dict], bool]) -> list[dict]:
    # The audit writer flushes in the background: poll briefly.
    deadline = time.time() + 10
    while True:
        out = fed.cli("audit", "query", *fed.store_args(), "--event-name", event_name, "--json")
        found = [e for e in json.loads(out.stdout) if want(e)]
        if found or time.time() > deadline:
            return found
        time.sleep(0.3)


# ---------------------------------------------------------------- SAML: works


def test_cli_assume_role_with_saml_gives_working_credentials(
    fed: Server, idp: TestIdP, saml_setup: None
) -> None:
    assertion = idp.response(SAML_ROLE, SAML_PROVIDER, "alice@example.com")
    out = fed.aws(
        "sts",
        "assume-role-with-saml",
        "--role-arn",
        SAML_ROLE,
        "--principal-arn",
        SAML_PROVIDER,
        "--saml-assertion",
        assertion,
        credentials_file="# no credentials: the call is unsigned\n",
    )
    result = json.loads(out.stdout)
    assert result["Subject"] == "alice-persistent-id"
    assert result["SubjectType"] == "persistent"
    assert result["Issuer"] == idp.entity_id
    assert result["Audience"] == "https://signin.aws.amazon.com/saml"
    assert result["NameQualifier"]
    creds = result["Credentials"]
    who = json.loads(fed.aws("sts", "get-caller-identity", creds=creds).stdout)
    assert who["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/saml-dev/alice@example.com"
    # The session has the role's permissions and no more.
    iam = fed.client("iam", creds=creds)
    assert iam.get_role(RoleName="saml-dev")["Role"]["Arn"] == SAML_ROLE
    with pytest.raises(ClientError) as e:
        iam.list_users()
    assert code(e.value) == "AccessDenied"

    events = audit(
        fed,
        "AssumeRoleWithSAML",
        lambda e: (e.get("requestParameters") or {}).get("roleSessionName") == "alice@example.com",
    )
    assert events, "no audit record"
    ev = events[-1]
    ident = ev["userIdentity"]
    assert ident["type"] == "SAMLUser"
    assert ident["userName"] == "alice-persistent-id"
    assert ident["identityProvider"] == result["NameQualifier"]
    assert ident["principalId"] == f"{result['NameQualifier']}:alice-persistent-id"
    assert ev["recipientAccountId"] == ACCT
    assert "sharedEventID" not in ev
    assert ev["responseElements"]["nameQualifier"] == result["NameQualifier"]
    assert "secretAccessKey" not in json.dumps(ev["responseElements"])
    assert assertion not in json.dumps(ev)


def test_saml_trust_conditions_on_sub(fed: Server, idp: TestIdP, saml_setup: None) -> None:
    iam = fed.client("iam")
    for name, sub in (("saml-alice-only", "alice-persistent-id"), ("saml-bob-only", "bob")):
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=trust(
                SAML_PROVIDER, ["sts:AssumeRoleWithSAML"], {"StringEquals": {"saml:sub": sub}}
            ),
        )
    alice_role = f"arn:aws:iam::{ACCT}:role/saml-alice-only"
    bob_role = f"arn:aws:iam::{ACCT}:role/saml-bob-only"
    out = saml(fed, idp.response(alice_role, SAML_PROVIDER, "alice"), role=alice_role)
    assert out["AssumedRoleUser"]["Arn"].endswith("assumed-role/saml-alice-only/alice")
    denied = error_of(
        lambda: saml(fed, idp.response(bob_role, SAML_PROVIDER, "alice"), role=bob_role)
    )
    assert denied == "AccessDenied"


# -------------------------------------------------------------- SAML: attacks


def _b64(xml: bytes | str) -> str:
    return base64.b64encode(xml.encode() if isinstance(xml, str) else xml).decode()


def _one(root: etree._Element, path: str) -> etree._Element:
    found = root.findall(path, NS)
    assert len(found) == 1, path
    return found[0]


def _attr(root: etree._Element, short: str) -> etree._Element:
    name = "https://aws.amazon.com/SAML/Attributes/" + short
    return _one(root, f".//saml:Attribute[@Name='{name}']/saml:AttributeValue")


def _tampered(idp: TestIdP, edit: Callable[[etree._Element], None], **kw: Any) -> str:
    root = etree.fromstring(idp.response_xml(SAML_ROLE, SAML_PROVIDER, "alice", **kw).encode())
    edit(root)
    return _b64(etree.tostring(root))


def _evil(signed: etree._Element) -> etree._Element:
    evil = copy.deepcopy(signed)
    for sig in evil.findall("ds:Signature", NS):
        evil.remove(sig)
    evil.set("ID", "_evil")
    _one(evil, "saml:Subject/saml:NameID").text = "admin"
    _attr(evil, "RoleSessionName").text = "admin"
    return evil


def _xsw_unsigned_wraps_signed(root: etree._Element) -> None:
    # The evil unsigned assertion takes the signed one's place; the signed
    # one is hidden inside it, where an ID lookup would still find it.
    signed = _one(root, "saml:Assertion")
    evil = _evil(signed)
    root.replace(signed, evil)
    evil.append(signed)


def _xsw_signed_in_extensions(root: etree._Element) -> None:
    signed = _one(root, "saml:Assertion")
    signed.addprevious(_evil(signed))
    ext = etree.Element(f"{{{NS['samlp']}}}Extensions")
    _one(root, "saml:Issuer").addnext(ext)
    ext.append(signed)


def _xsw_evil_sibling(root: etree._Element) -> None:
    signed = _one(root, "saml:Assertion")
    signed.addprevious(_evil(signed))


def _edit_session_name(root: etree._Element) -> None:
    _attr(root, "RoleSessionName").text = "admin"


def _strip_signature(root: etree._Element) -> None:
    sig = _one(root, "saml:Assertion/ds:Signature")
    sig.getparent().remove(sig)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(
            lambda idp: idp.response(
                SAML_ROLE, SAML_PROVIDER, "alice", sign_assertion=False, sign_response=False
            ),
            "InvalidIdentityToken",
            id="unsigned",
        ),
        pytest.param(
            lambda idp: _tampered(idp, _strip_signature), "InvalidIdentityToken", id="stripped"
        ),
        pytest.param(
            lambda idp: _tampered(idp, _edit_session_name),
            "InvalidIdentityToken",
            id="edited-after-signing",
        ),
        pytest.param(
            lambda idp: _tampered(idp, _xsw_unsigned_wraps_signed),
            "InvalidIdentityToken",
            id="xsw-signed-inside-unsigned",
        ),
        pytest.param(
            lambda idp: _tampered(idp, _xsw_signed_in_extensions),
            "InvalidIdentityToken",
            id="xsw-signed-in-extensions",
        ),
        pytest.param(
            lambda idp: _tampered(idp, _xsw_evil_sibling),
            "InvalidIdentityToken",
            id="xsw-evil-sibling",
        ),
        pytest.param(
            lambda idp: idp.response(
                SAML_ROLE, SAML_PROVIDER, "alice", sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1
            ),
            "InvalidIdentityToken",
            id="sha1",
        ),
        pytest.param(
            lambda idp: idp.response(
                SAML_ROLE,
                SAML_PROVIDER,
                "alice",
                not_on_or_after=datetime.now(UTC) - timedelta(minutes=30),
            ),
            "ExpiredTokenException",
            id="expired",
        ),
        pytest.param(
            lambda idp: idp.response(
                SAML_ROLE, SAML_PROVIDER, "alice", recipient="https://evil.example.test/saml"
            ),
            "InvalidIdentityToken",
            id="wrong-recipient",
        ),
        pytest.param(
            lambda idp: idp.response(f"arn:aws:iam::{ACCT}:role/other", SAML_PROVIDER, "alice"),
            "AccessDenied",
            id="role-pair-not-in-assertion",
        ),
    ],
)
def test_saml_attacks(
    fed: Server, idp: TestIdP, saml_setup: None, make: Callable[[TestIdP], str], expected: str
) -> None:
    assertion = make(idp)
    assert error_of(lambda: saml(fed, assertion)) == expected


def test_saml_forged_by_another_key(
    fed: Server, idp: TestIdP, saml_setup: None, tmp_path: Path
) -> None:
    forger = TestIdP(tmp_path / "forger", entity_id=idp.entity_id)
    assert error_of(lambda: saml(fed, forger.response(SAML_ROLE, SAML_PROVIDER, "alice"))) == (
        "InvalidIdentityToken"
    )


def test_saml_replay(fed: Server, idp: TestIdP, saml_setup: None) -> None:
    assertion = idp.response(SAML_ROLE, SAML_PROVIDER, "alice")
    saml(fed, assertion)
    with pytest.raises(ClientError) as e:
        saml(fed, assertion)
    assert code(e.value) == "InvalidIdentityToken"
    assert "already used" in e.value.response["Error"]["Message"]


def test_saml_unknown_provider(fed: Server, idp: TestIdP, saml_setup: None) -> None:
    ghost = f"arn:aws:iam::{ACCT}:saml-provider/ghost"
    assertion = idp.response(SAML_ROLE, ghost, "alice")
    with pytest.raises(ClientError) as e:
        sts(fed).assume_role_with_saml(
            RoleArn=SAML_ROLE, PrincipalArn=ghost, SAMLAssertion=assertion
        )
    assert code(e.value) == "InvalidIdentityToken"


# ---------------------------------------------------------- web identity: works


def test_cli_web_identity_profile_gets_credentials(
    fed: Server, issuer: OidcIssuer, oidc_provider: str
) -> None:
    token_file = fed.tmp / "web-identity-token"
    token_file.write_text(issuer.mint({"sub": "system:serviceaccount:ci:deployer"}))
    profile = (
        "[default]\n"
        "region = eu-west-1\n"
        "output = json\n"
        f"role_arn = {OIDC_ROLE}\n"
        f"web_identity_token_file = {token_file}\n"
        "role_session_name = ci-run-1\n"
    )
    out = fed.aws(
        "sts",
        "get-caller-identity",
        profile_config=profile,
        credentials_file="# none: credentials come from the web identity token\n",
    )
    who = json.loads(out.stdout)
    assert who["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/ci-deploy/ci-run-1"
    assert who["Account"] == ACCT

    events = audit(
        fed,
        "AssumeRoleWithWebIdentity",
        lambda e: (e.get("requestParameters") or {}).get("roleSessionName") == "ci-run-1",
    )
    assert events
    ev = events[-1]
    assert ev["userIdentity"] == {
        "type": "WebIdentityUser",
        "principalId": f"{issuer.url}:{issuer.client_id}:system:serviceaccount:ci:deployer",
        "userName": "system:serviceaccount:ci:deployer",
        "identityProvider": issuer.url,
    }
    assert ev["recipientAccountId"] == ACCT
    assert ev["responseElements"]["subjectFromWebIdentityToken"] == (
        "system:serviceaccount:ci:deployer"
    )
    assert token_file.read_text() not in json.dumps(ev)


def test_web_identity_outputs_and_key_rotation(
    fed: Server, issuer: OidcIssuer, oidc_provider: str
) -> None:
    out = web(fed, issuer.mint())
    assert out["SubjectFromWebIdentityToken"] == "alice-subject-0001"
    assert out["Provider"] == issuer.url
    assert out["Audience"] == issuer.client_id
    old_kid = issuer.current_kid
    stale = issuer.mint()
    # The IdP rotates: the server's cached JWKS lacks the new kid and must
    # refetch; the old kid is gone from the JWKS (after the refetch interval
    # the server also forgets it).
    issuer.rotate()
    fresh = issuer.mint()
    # The server refetches a JWKS on an unknown kid at most every 10 s per
    # issuer; move its clock past that instead of sleeping.
    advance_clock(fed, 11)
    assert web(fed, fresh)["SubjectFromWebIdentityToken"] == "alice-subject-0001"
    assert issuer.current_kid != old_kid
    assert error_of(lambda: web(fed, stale)) == "InvalidIdentityToken"
    creds = web(fed, issuer.mint())["Credentials"]
    who = fed.client("sts", creds=creds).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/ci-deploy/ci-run"


def test_web_identity_trust_conditions_on_sub(
    fed: Server, issuer: OidcIssuer, oidc_provider: str
) -> None:
    iam = fed.client("iam")
    iam.create_role(
        RoleName="main-branch-only",
        AssumeRolePolicyDocument=trust(
            oidc_provider,
            ["sts:AssumeRoleWithWebIdentity"],
            {"StringLike": {f"{issuer.provider_url}:sub": "repo:org/app:ref:refs/heads/main"}},
        ),
    )
    role = f"arn:aws:iam::{ACCT}:role/main-branch-only"
    ok = web(fed, issuer.mint({"sub": "repo:org/app:ref:refs/heads/main"}), role=role)
    assert ok["AssumedRoleUser"]["Arn"].endswith("/main-branch-only/ci-run")
    with pytest.raises(ClientError) as e:
        web(fed, issuer.mint({"sub": "repo:org/app:ref:refs/heads/evil"}), role=role)
    assert code(e.value) == "AccessDenied"
    assert e.value.response["Error"]["Message"] == (
        "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    )


# -------------------------------------------------------- web identity: attacks


def _b64url(data: bytes | dict) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(issuer: OidcIssuer, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": issuer.url,
        "aud": issuer.client_id,
        "sub": "alice-subject-0001",
        "iat": now,
        "exp": now + 300,
        **extra,
    }


def _alg_none(issuer: OidcIssuer) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": issuer.current_kid}
    return f"{_b64url(header)}.{_b64url(_claims(issuer))}."


def _hs256_with_public_key(issuer: OidcIssuer) -> str:
    # Key confusion: HMAC "signed" with the provider's public RSA key (PEM)
    # as the secret, the classic RS256 -> HS256 downgrade.
    header = {"alg": "HS256", "typ": "JWT", "kid": issuer.current_kid}
    signing_input = f"{_b64url(header)}.{_b64url(_claims(issuer))}"
    sig = hmac.new(issuer.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(sig)}"


def _unknown_kid(issuer: OidcIssuer) -> str:
    # Signed with a real key the IdP never published.
    ghost = RSAKey.generate_key(2048, parameters={"kid": "ghost-kid"})
    return jwt.encode({"alg": "RS256", "kid": "ghost-kid"}, _claims(issuer), ghost)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(_alg_none, "InvalidIdentityToken", id="alg-none"),
        pytest.param(_hs256_with_public_key, "InvalidIdentityToken", id="hs256-public-key"),
        pytest.param(_unknown_kid, "InvalidIdentityToken", id="unknown-kid"),
        pytest.param(
            lambda i: i.mint({"iss": "http://127.0.0.1:1"}),
            "InvalidIdentityToken",
            id="wrong-iss",
        ),
        pytest.param(
            lambda i: i.mint({"iss": i.url.replace("http://", "https://")}),
            "InvalidIdentityToken",
            id="iss-with-other-scheme",
        ),
        pytest.param(
            lambda i: i.mint({"iss": i.url + "/other-tenant"}),
            "InvalidIdentityToken",
            id="iss-other-path",
        ),
        pytest.param(
            lambda i: i.mint({"aud": "not-our-client"}), "InvalidIdentityToken", id="wrong-aud"
        ),
        pytest.param(
            lambda i: i.mint({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}),
            "ExpiredTokenException",
            id="expired",
        ),
        pytest.param(
            lambda i: i.mint({"sub": "x"}, kid=i.current_kid)[:-8] + "AAAAAAAA",
            "InvalidIdentityToken",
            id="bad-signature",
        ),
    ],
)
def test_web_identity_attacks(
    fed: Server,
    issuer: OidcIssuer,
    oidc_provider: str,
    make: Callable[[OidcIssuer], str],
    expected: str,
) -> None:
    token = make(issuer)
    assert error_of(lambda: web(fed, token)) == expected


def test_web_identity_unregistered_provider(fed: Server, oidc_provider: str) -> None:
    with OidcIssuer() as stranger, pytest.raises(ClientError) as e:
        stranger_url = stranger.url
        web(fed, stranger.mint())
    assert code(e.value) == "InvalidIdentityToken"
    assert e.value.response["Error"]["Message"] == (
        f"No OpenIDConnect provider found in your account for {stranger_url}"
    )


def test_web_identity_idp_down_is_communication_error(
    fed: Server, tmp_path: Path, oidc_provider: str
) -> None:
    # A registered provider whose issuer is unreachable (never fetched before).
    with OidcIssuer() as flaky:
        fed.client("iam").create_open_id_connect_provider(
            Url=flaky.url, ClientIDList=[flaky.client_id], ThumbprintList=["b" * 40]
        )
        arn = f"arn:aws:iam::{ACCT}:oidc-provider/{flaky.provider_url}"
        fed.client("iam").create_role(
            RoleName="flaky-role",
            AssumeRolePolicyDocument=trust(arn, ["sts:AssumeRoleWithWebIdentity"]),
        )
        token = flaky.mint()
        flaky.down = True
        with pytest.raises(ClientError) as e:
            web(fed, token, role=f"arn:aws:iam::{ACCT}:role/flaky-role")
    assert code(e.value) == "IDPCommunicationError"
