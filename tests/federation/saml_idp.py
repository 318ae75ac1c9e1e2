"""A real SAML 2.0 identity provider for tests, built on pysaml2.

pysaml2 signs with the ``xmlsec1`` binary, so the responses are produced by
an independent XML-DSig implementation, not by the verifier under test.

    idp = TestIdP(tmp_path)
    provider.metadata = idp.metadata_xml()
    b64 = idp.response(role_arn, provider_arn, "alice", attributes={...})

pysaml2 stamps IssueInstant/NotBefore from the real clock, so verify with a
``now`` close to the real time (``datetime.now(UTC)``).
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import saml, xmldsig
from saml2.assertion import Policy
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.server import Server

AWS_SIGNIN_SAML = "https://signin.aws.amazon.com/saml"
ATTR_PREFIX = "https://aws.amazon.com/SAML/Attributes/"
NAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

SIG_RSA_SHA1 = xmldsig.SIG_RSA_SHA1
SIG_RSA_SHA256 = xmldsig.SIG_RSA_SHA256
SIG_RSA_SHA512 = xmldsig.SIG_RSA_SHA512
DIGEST_SHA1 = xmldsig.DIGEST_SHA1
DIGEST_SHA256 = xmldsig.DIGEST_SHA256

_SP_METADATA = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">
 <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <md:AssertionConsumerService index="1"
     Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}"/>
 </md:SPSSODescriptor>
</md:EntityDescriptor>"""


def _policy(lifetime_seconds: int) -> dict:
    return {
        "default": {
            "lifetime": {"seconds": lifetime_seconds},
            "attribute_restrictions": None,
            "name_form": NAME_FORMAT_URI,
        }
    }


class TestIdP:
    """A pysaml2 IdP with a fresh RSA key and self-signed certificate."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        tmpdir: str | Path,
        *,
        entity_id: str = "https://idp.example.test/saml",
        key_size: int = 2048,
        sp_entity_ids: Sequence[str] = (AWS_SIGNIN_SAML, "urn:amazon:webservices"),
    ) -> None:
        xmlsec = shutil.which("xmlsec1")
        if xmlsec is None:
            raise RuntimeError("pysaml2 needs the xmlsec1 binary (apt-get install xmlsec1)")
        self.dir = Path(tmpdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.entity_id = entity_id
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rolegate-test-idp")])
        start = datetime.now(UTC) - timedelta(days=1)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=366))
            .sign(self.key, hashes.SHA256())
        )
        key_file = self.dir / "idp-key.pem"
        cert_file = self.dir / "idp-cert.pem"
        key_file.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        cert_file.write_bytes(self.certificate_pem.encode())
        config = IdPConfig()
        config.load(
            {
                "entityid": entity_id,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (
                                    entity_id + "/sso",
                                    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                                )
                            ]
                        },
                        "policy": _policy(300),
                    }
                },
                "key_file": str(key_file),
                "cert_file": str(cert_file),
                "metadata": {
                    "inline": [
                        _SP_METADATA.format(entity=sp, acs=AWS_SIGNIN_SAML) for sp in sp_entity_ids
                    ]
                },
                "xmlsec_binary": xmlsec,
            }
        )
        self._config = config
        self.server = Server(config=config)

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def certificate_b64(self) -> str:
        """Base64 DER, as it appears in metadata."""
        return base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()

    def metadata_xml(self, *, valid_until: datetime | None = None) -> str:
        """The IdP's SAML metadata (EntityDescriptor with the signing cert)."""
        xml = create_metadata_string(None, config=self._config).decode()
        if valid_until is not None:
            # pysaml2 only stamps validUntil on EntitiesDescriptor; add it here.
            stamp = valid_until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            xml = xml.replace(" entityID=", f' validUntil="{stamp}" entityID=', 1)
        return xml

    def response_xml(
        self,
        role_arn: str,
        provider_arn: str,
        session_name: str | None,
        *,
        attributes: Mapping[str, Sequence[str]] | None = None,
        sign_response: bool = False,
        sign_assertion: bool = True,
        sign_alg: str = SIG_RSA_SHA256,
        digest_alg: str = DIGEST_SHA256,
        not_on_or_after: datetime | None = None,
        recipient: str = AWS_SIGNIN_SAML,
        audience: str = AWS_SIGNIN_SAML,
        name_id: str = "alice-persistent-id",
        name_id_format: str = saml.NAMEID_FORMAT_PERSISTENT,
        session_not_on_or_after: datetime | None = None,
        role_values: Sequence[str] | None = None,
    ) -> str:
        """The signed Response as XML text (for tests that tamper with it).

        ``attributes`` keys without a scheme are relative to
        ``https://aws.amazon.com/SAML/Attributes/`` (e.g. ``PrincipalTag:Team``).
        ``role_values`` replaces the Role attribute values verbatim.
        """
        identity: dict[str, list[str]] = {
            ATTR_PREFIX + "Role": list(role_values or [f"{role_arn},{provider_arn}"])
        }
        if session_name is not None:
            identity[ATTR_PREFIX + "RoleSessionName"] = [session_name]
        for key, values in (attributes or {}).items():
            full = key if key.startswith(("https://", "http://", "urn:")) else ATTR_PREFIX + key
            identity[full] = [values] if isinstance(values, str) else list(values)
        lifetime = 300
        if not_on_or_after is not None:
            lifetime = int((not_on_or_after - datetime.now(UTC)).total_seconds())
        session_noa = None
        if session_not_on_or_after is not None:
            session_noa = session_not_on_or_after.strftime("%Y-%m-%dT%H:%M:%SZ")
        response = self.server.create_authn_response(
            identity,
            None,  # IdP-initiated: no InResponseTo
            recipient,
            audience,
            name_id=saml.NameID(format=name_id_format, text=name_id),
            authn={"class_ref": saml.AUTHN_PASSWORD, "authn_auth": self.entity_id},
            sign_response=sign_response,
            sign_assertion=sign_assertion,
            sign_alg=sign_alg,
            digest_alg=digest_alg,
            release_policy=Policy(_policy(lifetime)),
            session_not_on_or_after=session_noa,
        )
        return str(response)

    def response(self, role_arn: str, provider_arn: str, session_name: str | None, **kw) -> str:
        """The signed Response, base64-encoded as in the SAMLResponse POST field."""
        return base64.b64encode(
            self.response_xml(role_arn, provider_arn, session_name, **kw).encode()
        ).decode()
