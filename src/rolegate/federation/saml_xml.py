"""Hardened XML for SAML: parsing untrusted XML, verifying an XML signature
and the shape checks that keep signature wrapping (XSW) out.

No DTDs, entities or network access when parsing; signatures must use SHA-2
and only the transforms SAML needs; the signed tree must hold exactly one
assertion at a fixed place. What the assertion says is read in
:mod:`rolegate.federation.saml`, from the XML these functions return as signed.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from cryptography import x509
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException

from rolegate.errors import (
    InvalidIdentityToken,
)

log = logging.getLogger(__name__)

NS_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_DSIG = "http://www.w3.org/2000/09/xmldsig#"
NS_METADATA = "urn:oasis:names:tc:SAML:2.0:metadata"

_RESPONSE = f"{{{NS_PROTOCOL}}}Response"
_ASSERTION = f"{{{NS_ASSERTION}}}Assertion"
_ENCRYPTED_ASSERTION = f"{{{NS_ASSERTION}}}EncryptedAssertion"
_SIGNATURE = f"{{{NS_DSIG}}}Signature"
_NS = {"samlp": NS_PROTOCOL, "saml": NS_ASSERTION, "ds": NS_DSIG, "md": NS_METADATA}

MSG_SIGNATURE = "Response signature invalid"

# Signatures must use SHA-2 (SHA-1 is refused: collisions are practical).
_SIGNATURE_METHODS = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
    }
)
_DIGEST_ALGORITHMS = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)
# The only transforms a SAML signature needs (SAML core §5.4.4). Anything else
# (XPath, XSLT, base64) changes what is digested and has no business here.
_ALLOWED_TRANSFORMS = frozenset(
    {"http://www.w3.org/2000/09/xmldsig#enveloped-signature"}
    | {m.value for m in CanonicalizationMethod}
)


# ---------------------------------------------------------------- parsing


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not thread-safe. No entity
    # expansion, no network, no DTD loading, libxml2's default size limits.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def _parse_xml(data: bytes, error: type[Exception], message: str) -> etree._Element:
    # Refuse DTDs before parsing at all: they are never needed in SAML and are
    # the vehicle for XXE and entity expansion ("billion laughs").
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise error(f"{message}: DTDs are not allowed")
    try:
        root = etree.fromstring(data, parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise error(message) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise error(f"{message}: DTDs are not allowed")
    if any(True for _ in root.iter(etree.Entity)):
        raise error(f"{message}: entities are not allowed")
    return root


def _text(el: etree._Element, *, what: str) -> str:
    """All character data of ``el``, refusing element children.

    Joining every text node (not just ``.text``) is what defeats comment
    injection: ``admin<!---->@evil`` reads as ``admin@evil``, never ``admin``.
    """
    for child in el:
        if isinstance(child.tag, str):
            raise InvalidIdentityToken(f"Invalid SAML response: unexpected markup in {what}")
    return "".join(el.itertext())


def _value_text(el: etree._Element) -> str:
    # AttributeValue may legally hold structured content (e.g. a NameID for
    # eduPersonTargetedID); its joined character data is what policies see.
    return "".join(el.itertext())


def _parse_time(value: str | None, *, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidIdentityToken(f"Invalid SAML response: bad {what} timestamp") from exc
    # SAML core §1.3.3: times are UTC; a missing zone means UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _load_certificate(text: str) -> x509.Certificate | None:
    text = text.strip()
    try:
        if "-----BEGIN" in text:
            return x509.load_pem_x509_certificate(text.encode())
        der = base64.b64decode("".join(text.split()), validate=True)
        return x509.load_der_x509_certificate(der)
    except (ValueError, binascii.Error):
        log.warning("ignoring an unparsable SAML provider certificate")
        return None


# ------------------------------------------------------------- signatures


def _verify_signature(
    xml: bytes,
    *,
    location: str,
    certificates: Sequence[x509.Certificate],
    now: datetime,
    enforce_certificate_validity: bool,
) -> etree._Element:
    """Verify the signature at ``location`` with any of ``certificates``.

    Returns the signed element re-parsed from the digested canonical bytes.
    """
    base = SignatureConfiguration(
        require_x509=True,
        location=location,
        expect_references=1,
        signature_methods=_SIGNATURE_METHODS,
        digest_algorithms=_DIGEST_ALGORITHMS,
    )
    failures: list[str] = []
    for cert in certificates:
        when = now
        if not enforce_certificate_validity:
            # The certificates are pinned trust anchors from the provider's
            # metadata, not a PKI chain; like IAM, we don't expire them (the
            # admin rotates them by uploading new metadata). signxml checks
            # validity at verification_time, so clamp it into the window.
            when = min(max(now, cert.not_valid_before_utc), cert.not_valid_after_utc)
        config = replace(base, verification_time=when)
        try:
            result = XMLVerifier().verify(
                xml,
                x509_cert=cert,
                parser=_parser(),
                id_attribute="ID",
                expect_config=config,
            )
        # signxml's own errors, plus what its XML/base64/enum handling lets
        # through on hostile input (schema DocumentInvalid, bad base64, an
        # unknown algorithm URI -> ValueError, unknown curve -> KeyError).
        except (SignXMLException, etree.LxmlError, ValueError, KeyError, TypeError) as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            continue
        assert not isinstance(result, list)  # expect_references=1
        _check_transforms(result.signature_xml)
        if result.signed_xml is None:
            raise InvalidIdentityToken(MSG_SIGNATURE)
        return result.signed_xml
    log.info("SAML signature rejected: %s", "; ".join(failures) or "no usable certificate")
    raise InvalidIdentityToken(MSG_SIGNATURE)


def _check_transforms(signature: etree._Element) -> None:
    for transform in signature.iterfind(
        "ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform", _NS
    ):
        if transform.get("Algorithm") not in _ALLOWED_TRANSFORMS:
            log.info("SAML signature uses transform %s", transform.get("Algorithm"))
            raise InvalidIdentityToken(MSG_SIGNATURE)


def _single_assertion(element: etree._Element) -> etree._Element:
    """The one assertion of a signed Response (or the signed Assertion itself)."""
    if element.tag == _ASSERTION:
        inner = element.findall(f".//{_ASSERTION}")
        if inner:
            raise InvalidIdentityToken("Invalid SAML response: nested assertions")
        return element
    if element.tag != _RESPONSE:
        raise InvalidIdentityToken(MSG_SIGNATURE)
    if element.find(f".//{_ENCRYPTED_ASSERTION}") is not None:
        raise InvalidIdentityToken("Invalid SAML response: encrypted assertions are not supported")
    assertions = element.findall(f".//{_ASSERTION}")
    direct = element.findall(_ASSERTION)
    if len(assertions) != 1 or len(direct) != 1:
        raise InvalidIdentityToken("Invalid SAML response: expected exactly one assertion")
    return direct[0]


# ---------------------------------------------------------------- shape


def _check_shape(root: etree._Element) -> None:
    """Shape checks on the untrusted tree (first layer against XSW).

    They decide nothing on their own: all data comes from the signed XML.
    They reject wrapping attempts early, and the tests disable them to show
    the second layer (reading only signed XML) holds by itself.
    """
    if root.find(f".//{_ENCRYPTED_ASSERTION}") is not None:
        # Decryption (IAM's AssertionEncryptionMode) is not implemented.
        raise InvalidIdentityToken("Invalid SAML response: encrypted assertions are not supported")
    if len(root.findall(f".//{_ASSERTION}")) != 1 or len(root.findall(_ASSERTION)) != 1:
        raise InvalidIdentityToken("Invalid SAML response: expected exactly one assertion")
