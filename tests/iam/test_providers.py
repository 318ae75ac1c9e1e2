"""OIDC and SAML identity providers: registration, validation and the lookups
the federation code uses later."""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from rolegate.errors import (
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from rolegate.principals.providers import oidc_provider_by_url, saml_provider_facts

from .conftest import ACCOUNT, OTHER_ACCOUNT, T0, Iam

TP1 = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
TP2 = "A" * 40
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.example.com/oidc"


def call(iam: Iam, action: str, *, dev_http: bool = False, **params: Any) -> dict[str, Any]:
    """Like ``iam(...)`` but lets a test turn on ROLEGATE_DEV_ALLOW_HTTP_ISSUERS."""
    from rolegate.iam import HANDLERS

    ctx = iam.context(action)
    ctx.app.dev_allow_http_issuers = dev_http
    iam.last = ctx
    return HANDLERS[action](ctx, params) or {}


# --------------------------------------------------------------------------- OIDC


def test_create_get_list_delete_oidc(iam: Iam) -> None:
    out = iam(
        "CreateOpenIDConnectProvider",
        Url="https://token.example.com/oidc",
        ClientIDList=["sts.amazonaws.com", "app-1"],
        ThumbprintList=[TP1],
        Tags=[{"Key": "team", "Value": "infra"}],
    )
    assert out["OpenIDConnectProviderArn"] == OIDC_ARN
    assert out["Tags"] == [{"Key": "team", "Value": "infra"}]
    assert [c[:2] for c in iam.auth.calls] == [
        ("iam:CreateOpenIDConnectProvider", OIDC_ARN),
        ("iam:TagOpenIDConnectProvider", OIDC_ARN),  # created with Tags
    ]
    assert iam.auth.calls[0][2] == {"aws:RequestTag/team": "infra", "aws:TagKeys": ["team"]}
    assert iam.last.audit_resources[0]["ARN"] == OIDC_ARN

    got = iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN)
    assert got["Url"] == "token.example.com/oidc"
    assert got["ClientIDList"] == ["sts.amazonaws.com", "app-1"]
    assert got["ThumbprintList"] == [TP1]
    assert got["CreateDate"] == T0
    assert got["Tags"] == [{"Key": "team", "Value": "infra"}]

    listed = iam("ListOpenIDConnectProviders")
    assert listed == {"OpenIDConnectProviderList": [{"Arn": OIDC_ARN}]}

    iam("DeleteOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN)
    assert iam("ListOpenIDConnectProviders") == {"OpenIDConnectProviderList": []}
    with pytest.raises(NoSuchEntity) as e:
        iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN)
    assert e.value.message == f"OpenIDConnect Provider not found for arn {OIDC_ARN}"
    # Deleting again: the API reference calls it idempotent, AWS answers 404
    # (recorded against AWS).
    with pytest.raises(NoSuchEntity) as e:
        iam("DeleteOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN)
    assert e.value.message == f"OpenId connect Provider {OIDC_ARN} cannot be found."


def test_thumbprint_is_optional(iam: Iam) -> None:
    out = iam("CreateOpenIDConnectProvider", Url="https://accounts.example.org")
    got = iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=out["OpenIDConnectProviderArn"])
    assert got["ThumbprintList"] == [] and got["ClientIDList"] == []
    assert "Tags" not in out


def test_duplicate_oidc_url(iam: Iam) -> None:
    iam("CreateOpenIDConnectProvider", Url="https://token.example.com/oidc")
    with pytest.raises(EntityAlreadyExists):
        iam("CreateOpenIDConnectProvider", Url="https://token.example.com/oidc")


@pytest.mark.parametrize(
    "url",
    [
        "http://token.example.com",  # AWS accepts only https
        "https://token.example.com:8443",  # no port
        "https://token.example.com/?a=b",  # no query
        "https://token.example.com/#frag",
        "ftp://token.example.com",
        "https://",
        "http://127.0.0.1:9000",  # loopback http needs the dev flag
    ],
)
def test_bad_oidc_urls(iam: Iam, url: str) -> None:
    with pytest.raises(InvalidInput):
        iam("CreateOpenIDConnectProvider", Url=url)


def test_oidc_url_without_scheme_is_a_validation_error(iam: Iam) -> None:
    # As AWS answers (recorded against AWS).
    with pytest.raises(ValidationError) as e:
        iam("CreateOpenIDConnectProvider", Url="token.example.com")
    assert e.value.message == "Invalid Open ID Connect Provider URL"


def test_dev_flag_allows_loopback_http_issuer(iam: Iam) -> None:
    out = call(
        iam, "CreateOpenIDConnectProvider", dev_http=True, Url="http://127.0.0.1:9000/issuer"
    )
    assert (
        out["OpenIDConnectProviderArn"]
        == f"arn:aws:iam::{ACCOUNT}:oidc-provider/127.0.0.1:9000/issuer"
    )
    facts = oidc_provider_by_url(iam.store, ACCOUNT, "127.0.0.1:9000/issuer")
    assert facts is not None
    assert facts["scheme"] == "http" and facts["issuer"] == "http://127.0.0.1:9000/issuer"
    # ... but never for a non-loopback host.
    with pytest.raises(InvalidInput):
        call(iam, "CreateOpenIDConnectProvider", dev_http=True, Url="http://idp.example.com")


@pytest.mark.parametrize(
    "prints", [["abc"], ["g" * 40], [TP1] * 1 + [f"{i:040x}" for i in range(5)]]
)
def test_bad_thumbprints(iam: Iam, prints: list[str]) -> None:
    with pytest.raises(InvalidInput):
        iam("CreateOpenIDConnectProvider", Url="https://a.example.com", ThumbprintList=prints)


def test_client_id_limits(iam: Iam) -> None:
    with pytest.raises(LimitExceeded):
        iam(
            "CreateOpenIDConnectProvider",
            Url="https://a.example.com",
            ClientIDList=[f"c{i}" for i in range(101)],
        )
    with pytest.raises(InvalidInput):
        iam("CreateOpenIDConnectProvider", Url="https://a.example.com", ClientIDList=["x" * 256])


def test_client_ids_and_thumbprints_update(iam: Iam) -> None:
    iam("CreateOpenIDConnectProvider", Url="https://token.example.com/oidc", ClientIDList=["a"])
    iam("AddClientIDToOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN, ClientID="b")
    iam("AddClientIDToOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN, ClientID="b")
    iam("RemoveClientIDFromOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN, ClientID="a")
    iam("RemoveClientIDFromOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN, ClientID="zz")
    iam(
        "UpdateOpenIDConnectProviderThumbprint",
        OpenIDConnectProviderArn=OIDC_ARN,
        ThumbprintList=[TP1, TP2],
    )
    got = iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN)
    assert got["ClientIDList"] == ["b"]
    assert got["ThumbprintList"] == [TP1, TP2]
    assert iam.auth.calls[-2][:2] == ("iam:UpdateOpenIDConnectProviderThumbprint", OIDC_ARN)
    with pytest.raises(NoSuchEntity):
        iam(
            "AddClientIDToOpenIDConnectProvider",
            OpenIDConnectProviderArn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/nope.example.com",
            ClientID="b",
        )


def test_oidc_tags(iam: Iam) -> None:
    iam("CreateOpenIDConnectProvider", Url="https://token.example.com/oidc")
    iam(
        "TagOpenIDConnectProvider",
        OpenIDConnectProviderArn=OIDC_ARN,
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    )
    iam(
        "TagOpenIDConnectProvider",
        OpenIDConnectProviderArn=OIDC_ARN,
        Tags=[{"Key": "A", "Value": "3"}],
    )
    iam("UntagOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN, TagKeys=["b"])
    out = iam("ListOpenIDConnectProviderTags", OpenIDConnectProviderArn=OIDC_ARN)
    assert out["Tags"] == [{"Key": "A", "Value": "3"}]
    assert out["IsTruncated"] is False


def test_oidc_arn_checks(iam: Iam) -> None:
    with pytest.raises(InvalidInput):
        iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn="arn:aws:iam::123456789012:role/x")
    iam("CreateOpenIDConnectProvider", Url="https://token.example.com/oidc")
    other = OIDC_ARN.replace(ACCOUNT, OTHER_ACCOUNT)
    with pytest.raises(NoSuchEntity):
        iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=other)
    # Issuer URLs are case-sensitive.
    with pytest.raises(NoSuchEntity):
        iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN.replace("/oidc", "/OIDC"))


def test_oidc_provider_by_url(iam: Iam) -> None:
    iam("CreateOpenIDConnectProvider", Url="https://token.example.com/oidc", ClientIDList=["aud-1"])
    facts = oidc_provider_by_url(iam.store, ACCOUNT, "token.example.com/oidc")
    assert facts == {
        "arn": OIDC_ARN,
        "url": "token.example.com/oidc",
        "scheme": "https",
        "issuer": "https://token.example.com/oidc",
        "client_ids": ["aud-1"],
        "thumbprints": [],
        "tags": {},
    }
    assert oidc_provider_by_url(iam.store, ACCOUNT, "TOKEN.example.com/OIDC") is None
    assert oidc_provider_by_url(iam.store, OTHER_ACCOUNT, "token.example.com/oidc") is None


def test_oidc_denied_before_lookup(iam: Iam) -> None:
    from rolegate.errors import AccessDenied

    iam.auth.deny.add("iam:GetOpenIDConnectProvider")
    with pytest.raises(AccessDenied):
        iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=OIDC_ARN)


# --------------------------------------------------------------------------- SAML


@functools.cache  # RSA key generation is the slow part of these tests
def _certificate(cn: str = "idp.example.com") -> x509.Certificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2025, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2035, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )


def _b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def metadata(
    cert: x509.Certificate | None = None,
    *,
    entity_id: str = "https://idp.example.com/saml",
    use: str | None = "signing",
    valid_until: str | None = None,
) -> str:
    cert = cert or _certificate()
    use_attr = f' use="{use}"' if use else ""
    vu = f' validUntil="{valid_until}"' if valid_until else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}"{vu}>
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor{use_attr}>
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>
{_b64(cert)}
      </ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


SAML_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/corp-idp"


def test_create_get_list_delete_saml(iam: Iam) -> None:
    cert = _certificate()
    doc = metadata(cert)
    assert len(doc) >= 1000  # the model's minimum
    out = iam(
        "CreateSAMLProvider",
        Name="corp-idp",
        SAMLMetadataDocument=doc,
        Tags=[{"Key": "k", "Value": "v"}],
    )
    assert out == {"SAMLProviderArn": SAML_ARN, "Tags": [{"Key": "k", "Value": "v"}]}
    assert [c[:2] for c in iam.auth.calls] == [
        ("iam:CreateSAMLProvider", SAML_ARN),
        ("iam:TagSAMLProvider", SAML_ARN),  # created with Tags
    ]
    assert iam.last.audit_resources == [
        {"ARN": SAML_ARN, "accountId": ACCOUNT, "type": "AWS::IAM::SAMLProvider"}
    ]

    got = iam("GetSAMLProvider", SAMLProviderArn=SAML_ARN)
    assert got["SAMLMetadataDocument"] == doc
    assert got["CreateDate"] == T0
    # No validUntil in the metadata: 100 years.
    assert got["ValidUntil"] - T0 == timedelta(days=36500)
    assert got["Tags"] == [{"Key": "k", "Value": "v"}]
    # Members AWS answers with (recorded): a stable UUID, no encryption required.
    assert got["AssertionEncryptionMode"] == "Allowed" and got["PrivateKeyList"] == []
    assert len(got["SAMLProviderUUID"]) == 36
    assert (
        iam("GetSAMLProvider", SAMLProviderArn=SAML_ARN)["SAMLProviderUUID"]
        == (got["SAMLProviderUUID"])
    )

    listed = iam("ListSAMLProviders")["SAMLProviderList"]
    assert [e["Arn"] for e in listed] == [SAML_ARN]
    assert listed[0]["CreateDate"] == T0

    facts = saml_provider_facts(iam.store, ACCOUNT, "corp-idp")
    assert facts is not None
    assert facts["arn"] == SAML_ARN
    assert facts["entity_id"] == "https://idp.example.com/saml"
    assert facts["certificates"] == [_b64(cert)]
    assert saml_provider_facts(iam.store, ACCOUNT, SAML_ARN) == facts
    assert saml_provider_facts(iam.store, OTHER_ACCOUNT, "corp-idp") is None

    iam("DeleteSAMLProvider", SAMLProviderArn=SAML_ARN)
    assert saml_provider_facts(iam.store, ACCOUNT, "corp-idp") is None
    with pytest.raises(NoSuchEntity):
        iam("GetSAMLProvider", SAMLProviderArn=SAML_ARN)
    with pytest.raises(NoSuchEntity):
        iam("DeleteSAMLProvider", SAMLProviderArn=SAML_ARN)


def test_saml_valid_until_from_metadata(iam: Iam) -> None:
    iam(
        "CreateSAMLProvider",
        Name="corp-idp",
        SAMLMetadataDocument=metadata(valid_until="2030-06-01T00:00:00Z"),
    )
    got = iam("GetSAMLProvider", SAMLProviderArn=SAML_ARN)
    assert got["ValidUntil"] == datetime(2030, 6, 1, tzinfo=UTC)


def test_saml_key_without_use_counts_as_signing(iam: Iam) -> None:
    iam("CreateSAMLProvider", Name="corp-idp", SAMLMetadataDocument=metadata(use=None))
    facts = saml_provider_facts(iam.store, ACCOUNT, "corp-idp")
    assert facts is not None and len(facts["certificates"]) == 1


@pytest.mark.parametrize(
    "doc",
    [
        "<not-xml" + " " * 1000,
        metadata(use="encryption"),  # no signing key
        metadata().replace("IDPSSODescriptor", "SPSSODescriptor"),
        metadata().replace('entityID="https://idp.example.com/saml"', ""),
        metadata().replace("<ds:X509Certificate>\n", "<ds:X509Certificate>\nAAAA"),
        # Entities are never expanded and DTDs are refused outright.
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + metadata().split("?>", 1)[1],
    ],
)
def test_bad_saml_metadata(iam: Iam, doc: str) -> None:
    with pytest.raises(InvalidInput, match="Could not parse metadata"):
        iam("CreateSAMLProvider", Name="corp-idp", SAMLMetadataDocument=doc)


def test_duplicate_saml_and_update(iam: Iam) -> None:
    iam("CreateSAMLProvider", Name="corp-idp", SAMLMetadataDocument=metadata())
    with pytest.raises(EntityAlreadyExists):
        iam("CreateSAMLProvider", Name="CORP-idp", SAMLMetadataDocument=metadata())
    new_cert = _certificate("rotated.example.com")
    out = iam(
        "UpdateSAMLProvider",
        SAMLProviderArn=SAML_ARN,
        SAMLMetadataDocument=metadata(new_cert, entity_id="https://new.example.com"),
    )
    assert out == {"SAMLProviderArn": SAML_ARN}
    facts = saml_provider_facts(iam.store, ACCOUNT, "corp-idp")
    assert facts is not None
    assert facts["entity_id"] == "https://new.example.com"
    assert facts["certificates"] == [_b64(new_cert)]
    with pytest.raises(InvalidInput):
        iam("UpdateSAMLProvider", SAMLProviderArn=SAML_ARN, SAMLMetadataDocument="<x/>" * 300)
    with pytest.raises(NoSuchEntity):
        iam(
            "UpdateSAMLProvider",
            SAMLProviderArn=SAML_ARN.replace("corp-idp", "other"),
            SAMLMetadataDocument=metadata(),
        )


def test_saml_tags(iam: Iam) -> None:
    iam("CreateSAMLProvider", Name="corp-idp", SAMLMetadataDocument=metadata())
    iam("TagSAMLProvider", SAMLProviderArn=SAML_ARN, Tags=[{"Key": "a", "Value": "1"}])
    iam("TagSAMLProvider", SAMLProviderArn=SAML_ARN, Tags=[{"Key": "b", "Value": "2"}])
    iam("UntagSAMLProvider", SAMLProviderArn=SAML_ARN, TagKeys=["A"])
    assert iam("ListSAMLProviderTags", SAMLProviderArn=SAML_ARN)["Tags"] == [
        {"Key": "b", "Value": "2"}
    ]


def test_saml_encrypted_assertions_refused(iam: Iam) -> None:
    with pytest.raises(InvalidInput):
        iam(
            "CreateSAMLProvider",
            Name="corp-idp",
            SAMLMetadataDocument=metadata(),
            AssertionEncryptionMode="Required",
        )


def test_provider_quota(iam: Iam) -> None:
    from rolegate.iam import saml_providers as providers

    old = providers.MAX_SAML_PROVIDERS
    providers.MAX_SAML_PROVIDERS = 2
    try:
        doc = metadata()
        iam("CreateSAMLProvider", Name="a", SAMLMetadataDocument=doc)
        iam("CreateSAMLProvider", Name="b", SAMLMetadataDocument=doc)
        with pytest.raises(LimitExceeded):
            iam("CreateSAMLProvider", Name="c", SAMLMetadataDocument=doc)
    finally:
        providers.MAX_SAML_PROVIDERS = old
