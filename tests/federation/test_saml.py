"""SAML response verification against a real pysaml2/xmlsec1 IdP, plus attacks."""

from __future__ import annotations

import base64
import copy
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from rolegate.errors import (
    ExpiredTokenException,
    IDPRejectedClaim,
    InvalidIdentityToken,
    InvalidInput,
)
from rolegate.federation import saml as saml_module
from rolegate.federation.saml import (
    SamlAssertion,
    name_qualifier,
    parse_idp_metadata,
    verify_saml_response,
)

# pysaml2 imports a cipher mode that cryptography has deprecated.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="saml2")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from .saml_idp import (
        DIGEST_SHA1,
        DIGEST_SHA256,
        SIG_RSA_SHA1,
        SIG_RSA_SHA256,
        SIG_RSA_SHA512,
        TestIdP,
    )

ROLE = "arn:aws:iam::111122223333:role/SamlRole"
PROVIDER = "arn:aws:iam::111122223333:saml-provider/Corp"
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
ATTRS = {
    "PrincipalTag:Project": "Marketing",
    "PrincipalTag:CostCenter": "12345",
    "TransitiveTagKeys": ["Project", "CostCenter"],
    "SessionDuration": "1800",
    "SourceIdentity": "alice@example.com",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.1": ["staff", "member"],
}


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> TestIdP:
    return TestIdP(tmp_path_factory.mktemp("idp"))


@pytest.fixture(scope="module")
def other_idp(tmp_path_factory: pytest.TempPathFactory) -> TestIdP:
    # Same entity id, different key: a forger who knows everything but the key.
    return TestIdP(tmp_path_factory.mktemp("other-idp"))


def now() -> datetime:
    return datetime.now(UTC)


def verify(idp: TestIdP, b64: str, **kw) -> SamlAssertion:
    kw.setdefault("certificates", [idp.certificate_pem])
    kw.setdefault("now", now())
    kw.setdefault("expected_issuer", idp.entity_id)
    return verify_saml_response(b64, **kw)


def b64(xml: bytes | str) -> str:
    return base64.b64encode(xml.encode() if isinstance(xml, str) else xml).decode()


def tamper(xml: str, edit: Callable[[etree._Element], None]) -> str:
    root = etree.fromstring(xml.encode())
    edit(root)
    return b64(etree.tostring(root))


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.findall(path, NS)
    assert len(found) == 1, path
    return found[0]


def attr_value(root: etree._Element, short_name: str) -> etree._Element:
    name = "https://aws.amazon.com/SAML/Attributes/" + short_name
    return one(root, f".//saml:Attribute[@Name='{name}']/saml:AttributeValue")


# ----------------------------------------------------------------- valid


@pytest.mark.parametrize(
    ("sign_response", "sign_assertion", "signed_element"),
    [(False, True, "Assertion"), (True, False, "Response"), (True, True, "Response")],
)
def test_valid_response_yields_every_field(idp, sign_response, sign_assertion, signed_element):
    session_end = now() + timedelta(hours=2)
    a = verify(
        idp,
        idp.response(
            ROLE,
            PROVIDER,
            "alice",
            attributes=ATTRS,
            sign_response=sign_response,
            sign_assertion=sign_assertion,
            session_not_on_or_after=session_end,
        ),
    )
    assert a.signed_element == signed_element
    assert a.assertion_id.startswith("id-")
    assert a.issuer == idp.entity_id
    assert a.name_id == "alice-persistent-id"
    assert a.name_id_format == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    assert a.subject_type == "persistent"
    assert a.recipient == "https://signin.aws.amazon.com/saml"
    assert a.audiences == ("https://signin.aws.amazon.com/saml",)
    assert now() < a.not_on_or_after <= now() + timedelta(minutes=6)
    assert a.conditions_not_before is not None and a.conditions_not_before <= now()
    assert a.conditions_not_on_or_after == a.not_on_or_after
    assert a.session_not_on_or_after == session_end.replace(microsecond=0)
    assert a.role_pairs == ((ROLE, PROVIDER),)
    assert a.role_session_name == "alice"
    assert a.session_duration == 1800
    assert a.source_identity == "alice@example.com"
    assert a.principal_tags == {"Project": "Marketing", "CostCenter": "12345"}
    assert a.transitive_tag_keys == ("Project", "CostCenter")
    assert a.attributes["urn:oid:1.3.6.1.4.1.5923.1.1.1.1"] == ("staff", "member")
    assert a.attributes["https://aws.amazon.com/SAML/Attributes/RoleSessionName"] == ("alice",)


def test_role_pairs_accept_either_order_and_several(idp):
    other_role = "arn:aws:iam::111122223333:role/Other"
    a = verify(
        idp,
        idp.response(
            ROLE,
            PROVIDER,
            "alice",
            role_values=[f"{PROVIDER},{ROLE}", f" {other_role} , {PROVIDER} ", "garbage"],
        ),
    )
    assert a.role_pairs == ((ROLE, PROVIDER), (other_role, PROVIDER))


def test_transient_and_other_name_id_formats(idp):
    transient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    email = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    a = verify(idp, idp.response(ROLE, PROVIDER, "alice", name_id_format=transient))
    assert a.subject_type == "transient"
    a = verify(idp, idp.response(ROLE, PROVIDER, "alice", name_id_format=email, name_id="a@b.c"))
    assert (a.subject_type, a.name_id) == (email, "a@b.c")


def test_regional_recipient_and_aws_entity_audience(idp):
    regional = "https://eu-west-1.signin.aws.amazon.com/saml"
    a = verify(
        idp,
        idp.response(
            ROLE, PROVIDER, "alice", recipient=regional, audience="urn:amazon:webservices"
        ),
    )
    assert a.recipient == regional
    assert a.audiences == ("urn:amazon:webservices",)


def test_custom_expected_audiences_for_self_hosted_endpoint(idp):
    mine = "https://rolegate.example.test/saml"
    b = idp.response(ROLE, PROVIDER, "alice", recipient=mine, audience=mine)
    assert verify(idp, b, expected_audiences=[mine]).recipient == mine
    with pytest.raises(InvalidIdentityToken):
        verify(idp, b)  # default: AWS sign-in only


def test_certificate_as_base64_der_and_rotation(idp, other_idp):
    b = idp.response(ROLE, PROVIDER, "alice")
    assert verify(idp, b, certificates=[idp.certificate_b64]).role_session_name == "alice"
    # Metadata with two certificates (rotation): either may have signed.
    both = [other_idp.certificate_pem, idp.certificate_b64]
    assert verify(idp, b, certificates=both).issuer == idp.entity_id


def test_untampered_reserialisation_still_verifies(idp):
    xml = idp.response_xml(ROLE, PROVIDER, "alice")
    assert verify(idp, tamper(xml, lambda root: None)).name_id == "alice-persistent-id"


def test_base64_with_line_breaks(idp):
    b = idp.response(ROLE, PROVIDER, "alice")
    wrapped = "\r\n".join(b[i : i + 76] for i in range(0, len(b), 76))
    assert verify(idp, wrapped).role_session_name == "alice"


def test_name_qualifier():
    # base64(SHA1("https://idp.example.test/saml" + "111122223333" + "/" + "Corp"))
    import hashlib

    expected = base64.b64encode(
        hashlib.sha1(b"https://idp.example.test/saml111122223333/Corp").digest()
    ).decode()
    assert name_qualifier("https://idp.example.test/saml", "111122223333", "Corp") == expected
    assert len(expected) == 28


def test_parse_idp_metadata(idp):
    assert parse_idp_metadata(idp.metadata_xml()).valid_until is None
    until = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    md = parse_idp_metadata(idp.metadata_xml(valid_until=until))
    assert md.entity_id == idp.entity_id
    assert md.signing_certificates == (idp.certificate_b64,)
    assert md.valid_until == until
    b = idp.response(ROLE, PROVIDER, "alice")
    assert verify(idp, b, certificates=md.signing_certificates).issuer == idp.entity_id
    with pytest.raises(InvalidInput):
        parse_idp_metadata("<not-metadata/>")
    with pytest.raises(InvalidInput):
        parse_idp_metadata('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')


# --------------------------------------------------------------- attacks


def test_unsigned_response_is_rejected(idp):
    b = idp.response(ROLE, PROVIDER, "alice", sign_assertion=False, sign_response=False)
    with pytest.raises(InvalidIdentityToken, match="Response signature invalid"):
        verify(idp, b)


def test_signature_stripped_is_rejected(idp):
    xml = idp.response_xml(ROLE, PROVIDER, "alice")

    def strip(root):
        sig = one(root, "saml:Assertion/ds:Signature")
        sig.getparent().remove(sig)

    with pytest.raises(InvalidIdentityToken, match="Response signature invalid"):
        verify(idp, tamper(xml, strip))


@pytest.mark.parametrize("sign_response", [False, True])
@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(
            lambda r: setattr(attr_value(r, "RoleSessionName"), "text", "admin"), id="session-name"
        ),
        pytest.param(lambda r: setattr(one(r, ".//saml:NameID"), "text", "admin"), id="name-id"),
        pytest.param(
            lambda r: setattr(
                attr_value(r, "Role"),
                "text",
                f"arn:aws:iam::111122223333:role/Admin,{PROVIDER}",
            ),
            id="role-pair",
        ),
        pytest.param(
            lambda r: one(r, ".//saml:SubjectConfirmationData").set(
                "NotOnOrAfter", "2999-01-01T00:00:00Z"
            ),
            id="lifetime",
        ),
    ],
)
def test_assertion_edited_after_signing_is_rejected(idp, edit, sign_response):
    xml = idp.response_xml(
        ROLE, PROVIDER, "alice", sign_response=sign_response, sign_assertion=not sign_response
    )
    with pytest.raises(InvalidIdentityToken, match="Response signature invalid"):
        verify(idp, tamper(xml, edit))


def _evil_copy(signed: etree._Element, *, new_id: str | None = "evil-id") -> etree._Element:
    evil = copy.deepcopy(signed)
    for sig in evil.findall("ds:Signature", NS):
        evil.remove(sig)
    if new_id is not None:
        evil.set("ID", new_id)
    one(evil, "saml:Subject/saml:NameID").text = "admin"
    attr_value(evil, "RoleSessionName").text = "admin"
    attr_value(evil, "Role").text = f"arn:aws:iam::111122223333:role/Admin,{PROVIDER}"
    return evil


def _xsw_evil_before(root):
    signed = one(root, "saml:Assertion")
    signed.addprevious(_evil_copy(signed))


def _xsw_evil_after(root):
    signed = one(root, "saml:Assertion")
    signed.addnext(_evil_copy(signed))


def _xsw_signed_in_extensions(root):
    # Signed assertion hidden in samlp:Extensions, evil one in its place.
    signed = one(root, "saml:Assertion")
    evil = _evil_copy(signed)
    signed.addprevious(evil)
    ext = etree.Element(f"{{{NS['samlp']}}}Extensions")
    one(root, "saml:Issuer").addnext(ext)
    ext.append(signed)


def _xsw_signed_in_object(root):
    # Evil assertion carries the original signature; the signed assertion is
    # moved inside ds:Signature/ds:Object so the reference still resolves.
    signed = one(root, "saml:Assertion")
    evil = _evil_copy(signed)
    sig = copy.deepcopy(one(signed, "ds:Signature"))
    one(evil, "saml:Issuer").addnext(sig)
    obj = etree.SubElement(sig, f"{{{NS['ds']}}}Object")
    signed.addprevious(evil)
    obj.append(signed)


def _xsw_duplicate_id_before(root):
    signed = one(root, "saml:Assertion")
    signed.addprevious(_evil_copy(signed, new_id=None))


def _xsw_duplicate_id_in_extensions(root):
    signed = one(root, "saml:Assertion")
    evil = _evil_copy(signed, new_id=None)
    evil.insert(1, copy.deepcopy(one(signed, "ds:Signature")))
    ext = etree.Element(f"{{{NS['samlp']}}}Extensions")
    one(root, "saml:Issuer").addnext(ext)
    ext.append(signed)
    ext.addnext(evil)


def _xsw_response_wrapper(root):
    # Response-signed case: wrap the whole signed Response inside a new
    # unsigned Response that carries the evil assertion and the signature.
    signed_resp = copy.deepcopy(root)
    for child in list(root):
        if child.tag == f"{{{NS['saml']}}}Assertion":
            evil = _evil_copy(child)
            root.replace(child, evil)
    root.set("ID", "evil-response")
    sig = one(root, "ds:Signature")
    ext = etree.Element(f"{{{NS['samlp']}}}Extensions")
    sig.addnext(ext)
    for s in signed_resp.findall("ds:Signature", NS):
        signed_resp.remove(s)
    ext.append(signed_resp)
    sig_copy = copy.deepcopy(sig)
    signed_resp.insert(1, sig_copy)


XSW = [
    pytest.param(_xsw_evil_before, False, id="evil-before-signed"),
    pytest.param(_xsw_evil_after, False, id="evil-after-signed"),
    pytest.param(_xsw_signed_in_extensions, False, id="signed-moved-into-extensions"),
    pytest.param(_xsw_signed_in_object, False, id="signed-moved-into-signature-object"),
    pytest.param(_xsw_duplicate_id_before, False, id="duplicate-id"),
    pytest.param(_xsw_duplicate_id_in_extensions, False, id="duplicate-id-signed-in-extensions"),
    pytest.param(_xsw_response_wrapper, True, id="signed-response-wrapped"),
]


@pytest.mark.parametrize(("attack", "sign_response"), XSW)
def test_signature_wrapping_is_rejected(idp, attack, sign_response):
    xml = idp.response_xml(
        ROLE, PROVIDER, "alice", sign_response=sign_response, sign_assertion=not sign_response
    )
    with pytest.raises(InvalidIdentityToken):
        verify(idp, tamper(xml, attack))


@pytest.mark.parametrize(("attack", "sign_response"), XSW)
def test_signature_wrapping_is_rejected_without_shape_checks(
    idp, attack, sign_response, monkeypatch
):
    # Second layer alone: with the "exactly one assertion" pre-check disabled,
    # reading only signed XML must still refuse or yield the signed facts.
    monkeypatch.setattr(saml_module, "_check_shape", lambda root: None)
    xml = idp.response_xml(
        ROLE, PROVIDER, "alice", sign_response=sign_response, sign_assertion=not sign_response
    )
    try:
        a = verify(idp, tamper(xml, attack))
    except InvalidIdentityToken:
        return
    assert (a.name_id, a.role_session_name) == ("alice-persistent-id", "alice")
    assert a.role_pairs == ((ROLE, PROVIDER),)


def test_unsigned_response_fields_are_never_trusted(idp):
    # Assertion signed, Response not: edits to the unsigned envelope neither
    # break verification nor leak into the result.
    xml = idp.response_xml(ROLE, PROVIDER, "alice")

    def edit(root):
        one(root, "saml:Issuer").text = "https://evil.example.test"
        root.set("Destination", "https://evil.example.test")

    a = verify(idp, tamper(xml, edit))
    assert a.issuer == idp.entity_id


@pytest.mark.parametrize(
    ("sign_alg", "digest_alg"),
    [(SIG_RSA_SHA1, DIGEST_SHA1), (SIG_RSA_SHA1, DIGEST_SHA256), (SIG_RSA_SHA256, DIGEST_SHA1)],
)
def test_sha1_is_refused(idp, sign_alg, digest_alg):
    b = idp.response(ROLE, PROVIDER, "alice", sign_alg=sign_alg, digest_alg=digest_alg)
    with pytest.raises(InvalidIdentityToken, match="Response signature invalid"):
        verify(idp, b)


def test_sha512_is_accepted(idp):
    b = idp.response(ROLE, PROVIDER, "alice", sign_alg=SIG_RSA_SHA512)
    assert verify(idp, b).role_session_name == "alice"


def test_expired_assertion(idp):
    b = idp.response(ROLE, PROVIDER, "alice")
    with pytest.raises(ExpiredTokenException, match="Token expired: current date/time"):
        verify(idp, b, now=now() + timedelta(minutes=11))
    # Within the skew it still passes.
    assert verify(idp, b, now=now() + timedelta(minutes=9)).role_session_name == "alice"
    past = idp.response(ROLE, PROVIDER, "alice", not_on_or_after=now() - timedelta(minutes=10))
    with pytest.raises(ExpiredTokenException):
        verify(idp, past)
    with pytest.raises(ExpiredTokenException):
        verify(idp, past, skew_seconds=0, now=now() - timedelta(minutes=9, seconds=50))


def test_not_yet_valid(idp):
    b = idp.response(ROLE, PROVIDER, "alice")
    with pytest.raises(InvalidIdentityToken, match="not yet valid"):
        verify(idp, b, now=now() - timedelta(minutes=10))


def test_wrong_recipient(idp):
    b = idp.response(ROLE, PROVIDER, "alice", recipient="https://evil.example.test/saml")
    with pytest.raises(InvalidIdentityToken, match="Recipient"):
        verify(idp, b)


def test_wrong_audience(idp):
    b = idp.response(ROLE, PROVIDER, "alice", audience="https://other-sp.example.test")
    with pytest.raises(InvalidIdentityToken, match="Audience"):
        verify(idp, b)


def test_wrong_certificate(idp, other_idp):
    forged = other_idp.response(ROLE, PROVIDER, "alice")  # same entity id, other key
    with pytest.raises(InvalidIdentityToken, match="Response signature invalid"):
        verify(idp, forged)


def test_wrong_issuer(idp):
    with pytest.raises(InvalidIdentityToken, match="Issuer not present in specified provider"):
        verify(idp, idp.response(ROLE, PROVIDER, "alice"), expected_issuer="https://other.test")


@pytest.mark.parametrize("sign_response", [False, True])
def test_comment_injection_does_not_truncate(idp, sign_response):
    xml = idp.response_xml(
        ROLE,
        PROVIDER,
        "alice",
        name_id="admin@example.com.evil.test",
        attributes={"SourceIdentity": "admin@example.com.evil.test"},
        sign_response=sign_response,
        sign_assertion=not sign_response,
    )
    # Exclusive c14n drops comments, so the signature still verifies...
    xml = xml.replace(">admin@example.com.evil.test<", ">admin@example.com<!---->.evil.test<")
    assert xml.count("<!---->") == 2
    a = verify(idp, b64(xml))
    # ...but the values are read whole, never up to the comment.
    assert a.name_id == "admin@example.com.evil.test"
    assert a.source_identity == "admin@example.com.evil.test"


XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x"><x>&xxe;</x></samlp:Response>"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol3;</samlp:Response>"""


@pytest.mark.parametrize("doc", [XXE, LAUGHS, XXE.encode("utf-16")], ids=["xxe", "laughs", "utf16"])
def test_dtd_and_entities_are_refused(idp, doc):
    with pytest.raises(InvalidIdentityToken, match="Invalid SAML response"):
        verify(idp, b64(doc))


def test_dtd_inside_a_signed_response_is_refused(idp):
    xml = idp.response_xml(ROLE, PROVIDER, "alice")
    xml = xml.replace(
        '<?xml version="1.0"?>', '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "b">]>'
    )
    with pytest.raises(InvalidIdentityToken, match="DTDs are not allowed"):
        verify(idp, b64(xml))


@pytest.mark.parametrize("garbage", ["not base64!!", "QUJD=QUJD", "", "x" * 100_001])
def test_bad_base64(idp, garbage):
    with pytest.raises(InvalidIdentityToken):
        verify(idp, garbage)


@pytest.mark.parametrize("doc", ["<a/>", "not xml", "<samlp:Response xmlns:samlp='x'/>"])
def test_not_a_saml_response(idp, doc):
    with pytest.raises(InvalidIdentityToken):
        verify(idp, b64(doc))


@pytest.mark.parametrize("sign_response", [False, True])
def test_non_success_status_is_idp_rejected_claim(idp, sign_response):
    xml = idp.response_xml(
        ROLE, PROVIDER, "alice", sign_response=sign_response, sign_assertion=not sign_response
    )
    failed = xml.replace(
        "urn:oasis:names:tc:SAML:2.0:status:Success", "urn:oasis:names:tc:SAML:2.0:status:Requester"
    )
    assert failed != xml
    # Response-signed: the edit breaks the signature; assertion-signed: the
    # unsigned status can still only make us refuse.
    expected = InvalidIdentityToken if sign_response else IDPRejectedClaim
    with pytest.raises(expected):
        verify(idp, b64(failed))


def test_encrypted_assertion_is_refused(idp):
    xml = idp.response_xml(ROLE, PROVIDER, "alice")

    def encrypt(root):
        signed = one(root, "saml:Assertion")
        enc = etree.Element(f"{{{NS['saml']}}}EncryptedAssertion")
        root.replace(signed, enc)

    with pytest.raises(InvalidIdentityToken, match="encrypted assertions are not supported"):
        verify(idp, tamper(xml, encrypt))


def test_missing_role_session_name(idp):
    with pytest.raises(InvalidIdentityToken, match="RoleSessionName is required in AuthnResponse"):
        verify(idp, idp.response(ROLE, PROVIDER, None))


@pytest.mark.parametrize("bad", ["a", "has space", "x" * 65, "semi;colon"])
def test_invalid_role_session_name(idp, bad):
    with pytest.raises(InvalidIdentityToken, match=r"must match \[a-zA-Z_0-9\+=,\.@-\]\{2,64\}"):
        verify(idp, idp.response(ROLE, PROVIDER, bad))


@pytest.mark.parametrize("bad", ["899", "43201", "abc", "1e3"])
def test_invalid_session_duration(idp, bad):
    b = idp.response(ROLE, PROVIDER, "alice", attributes={"SessionDuration": bad})
    with pytest.raises(InvalidIdentityToken, match="SessionDuration"):
        verify(idp, b)


def test_naive_now_is_a_programming_error(idp):
    with pytest.raises(TypeError):
        verify(idp, idp.response(ROLE, PROVIDER, "alice"), now=datetime.now())
