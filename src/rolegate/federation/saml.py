"""Verification of SAML 2.0 responses for AssumeRoleWithSAML (sans I/O).

The one rule that keeps XML signature wrapping (XSW) out: after the signature
is verified, every fact is read from the XML that the signature covers
(``signxml``'s ``VerifyResult.signed_xml``, re-parsed from the canonical bytes
that were digested), never from the tree the client sent. An attacker can move
a genuinely signed assertion around, duplicate it or wrap it, but whatever we
read was signed by the IdP, and the shape checks below (exactly one assertion,
signature at a fixed place, unique IDs) reject the wrappers outright.

Error codes (AWS is only partly documented here; observed messages are kept):

* bad base64, malformed XML, DTDs, missing/invalid/unsigned signature, wrong
  issuer, recipient or audience, attribute problems -> ``InvalidIdentityToken``
  (400). Observed: "Response signature invalid", "Issuer not present in
  specified provider", "RoleSessionName is required in AuthnResponse",
  "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}".
  AWS has no separate code for an unsigned response; it is a signature
  failure, so it gets the same code and message (no oracle for attackers).
* expired SubjectConfirmationData or Conditions -> ``ExpiredTokenException``
  (the reference's §1.4 row for expired SAML/JWT).
* a Response whose Status is not Success -> ``IDPRejectedClaim`` (the STS
  reference: "the IdP reported that authentication failed").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from cryptography import x509
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException

from rolegate.errors import (
    ExpiredTokenException,
    IDPRejectedClaim,
    InvalidIdentityToken,
    InvalidInput,
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

STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
NAMEID_PREFIX = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
# SAML core §8.3.1: no Format attribute means "unspecified".
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"

AWS_SIGNIN_SAML = "https://signin.aws.amazon.com/saml"
# The AWS SP entity id; IAM docs accept it as Audience (never as Recipient).
AWS_SP_ENTITY_ID = "urn:amazon:webservices"
DEFAULT_AUDIENCES: tuple[str, ...] = (AWS_SIGNIN_SAML,)
# Regional sign-in endpoints are equivalent to the global one (IAM user guide,
# "Configure SAML assertions for the authentication response").
_REGIONAL_SIGNIN = re.compile(r"https://[a-z]{2}(?:-[a-z]+)+-\d\.signin\.aws\.amazon\.com/saml")

ATTR_PREFIX = "https://aws.amazon.com/SAML/Attributes/"
ATTR_ROLE = ATTR_PREFIX + "Role"
ATTR_ROLE_SESSION_NAME = ATTR_PREFIX + "RoleSessionName"
ATTR_SESSION_DURATION = ATTR_PREFIX + "SessionDuration"
ATTR_SOURCE_IDENTITY = ATTR_PREFIX + "SourceIdentity"
ATTR_PRINCIPAL_TAG = ATTR_PREFIX + "PrincipalTag:"
ATTR_TRANSITIVE_TAG_KEYS = ATTR_PREFIX + "TransitiveTagKeys"

# SAMLAssertion is 4-100000 characters in the STS model; refuse anything larger
# before decoding so a huge body costs nothing.
MAX_SAML_RESPONSE_CHARS = 100_000
# SessionDuration range from the IAM user guide.
SESSION_DURATION_MIN, SESSION_DURATION_MAX = 900, 43200
# Observed AWS pattern for RoleSessionName and the user guide's for SourceIdentity.
_SESSION_NAME_RE = re.compile(r"[a-zA-Z_0-9+=,.@-]{2,64}")

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


@dataclass(frozen=True)
class SamlAssertion:
    """The facts of one verified assertion, all read from signed XML."""

    assertion_id: str
    issuer: str
    name_id: str
    name_id_format: str
    subject_type: str
    recipient: str
    audiences: tuple[str, ...]
    not_on_or_after: datetime  # SubjectConfirmationData, for replay bookkeeping
    conditions_not_before: datetime | None
    conditions_not_on_or_after: datetime | None
    session_not_on_or_after: datetime | None
    issue_instant: datetime | None
    attributes: dict[str, tuple[str, ...]] = field(hash=False)
    role_pairs: tuple[tuple[str, str], ...]  # (role_arn, provider_arn)
    role_session_name: str
    session_duration: int | None
    source_identity: str | None
    principal_tags: dict[str, str] = field(hash=False)
    transitive_tag_keys: tuple[str, ...]
    signed_element: str  # "Response" or "Assertion": which one carried the signature


@dataclass(frozen=True)
class IdpMetadata:
    """What IAM keeps from an IdP's SAML metadata document."""

    entity_id: str
    signing_certificates: tuple[str, ...]  # base64 DER, as in the metadata
    valid_until: datetime | None


def name_qualifier(issuer: str, account_id: str, provider_name: str) -> str:
    """``saml:namequalifier`` / the NameQualifier output (reference §2.3)."""
    digest = hashlib.sha1((issuer + account_id + "/" + provider_name).encode()).digest()
    return base64.b64encode(digest).decode("ascii")


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


# ---------------------------------------------------------------- checks


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


def _acceptable_recipient(value: str, expected: Sequence[str]) -> bool:
    if value in expected:
        return True
    return AWS_SIGNIN_SAML in expected and bool(_REGIONAL_SIGNIN.fullmatch(value))


def _acceptable_audience(value: str, expected: Sequence[str]) -> bool:
    if _acceptable_recipient(value, expected):
        return True
    return AWS_SIGNIN_SAML in expected and value == AWS_SP_ENTITY_ID


def _expired(now: datetime, not_on_or_after: datetime) -> ExpiredTokenException:
    # Same shape as the observed web-identity message (reference §1.4).
    return ExpiredTokenException(
        f"Token expired: current date/time {int(now.timestamp())} must be before "
        f"the expiration date/time{int(not_on_or_after.timestamp())}"
    )


def _subject(
    assertion: etree._Element, *, now: datetime, skew: timedelta, expected: Sequence[str]
) -> tuple[str, str, str, datetime]:
    subjects = assertion.findall("saml:Subject", _NS)
    if len(subjects) != 1:
        raise InvalidIdentityToken("Invalid SAML response: expected one Subject")
    subject = subjects[0]
    name_ids = subject.findall("saml:NameID", _NS)
    if len(name_ids) != 1:
        # EncryptedID / BaseID are not supported: AWS needs a readable NameID.
        raise InvalidIdentityToken("Invalid SAML response: expected one NameID")
    name_id = _text(name_ids[0], what="NameID").strip()
    if not name_id:
        raise InvalidIdentityToken("Invalid SAML response: empty NameID")
    name_id_format = name_ids[0].get("Format") or NAMEID_UNSPECIFIED

    confirmations = subject.findall("saml:SubjectConfirmation", _NS)
    # IAM: "exactly one SubjectConfirmation element with a
    # SubjectConfirmationData element that includes both NotOnOrAfter and Recipient".
    if len(confirmations) != 1 or confirmations[0].get("Method") != BEARER:
        raise InvalidIdentityToken("Invalid SAML response: expected one bearer SubjectConfirmation")
    data = confirmations[0].findall("saml:SubjectConfirmationData", _NS)
    if len(data) != 1:
        raise InvalidIdentityToken("Invalid SAML response: missing SubjectConfirmationData")
    recipient = data[0].get("Recipient")
    not_on_or_after = _parse_time(data[0].get("NotOnOrAfter"), what="NotOnOrAfter")
    if recipient is None or not_on_or_after is None:
        raise InvalidIdentityToken(
            "Invalid SAML response: SubjectConfirmationData needs Recipient and NotOnOrAfter"
        )
    if not _acceptable_recipient(recipient, expected):
        raise InvalidIdentityToken("Invalid SAML response: incorrect Recipient")
    not_before = _parse_time(data[0].get("NotBefore"), what="NotBefore")
    if not_before is not None and now + skew < not_before:
        raise InvalidIdentityToken("Invalid SAML response: assertion is not yet valid")
    if now - skew >= not_on_or_after:
        raise _expired(now, not_on_or_after)
    return name_id, name_id_format, recipient, not_on_or_after


def _conditions(
    assertion: etree._Element, *, now: datetime, skew: timedelta, expected: Sequence[str]
) -> tuple[datetime | None, datetime | None, tuple[str, ...]]:
    conditions = assertion.findall("saml:Conditions", _NS)
    if len(conditions) > 1:
        raise InvalidIdentityToken("Invalid SAML response: more than one Conditions")
    if not conditions:
        return None, None, ()
    cond = conditions[0]
    not_before = _parse_time(cond.get("NotBefore"), what="NotBefore")
    not_on_or_after = _parse_time(cond.get("NotOnOrAfter"), what="NotOnOrAfter")
    if not_before is not None and now + skew < not_before:
        raise InvalidIdentityToken("Invalid SAML response: assertion is not yet valid")
    if not_on_or_after is not None and now - skew >= not_on_or_after:
        raise _expired(now, not_on_or_after)
    audiences: list[str] = []
    # SAML core §2.5.1.4: every AudienceRestriction must be satisfied, each by
    # any one of its Audience values. No restriction at all is allowed (IAM
    # says AWS "should" be an audience; the Recipient check still binds it).
    for restriction in cond.findall("saml:AudienceRestriction", _NS):
        values = [
            _text(a, what="Audience").strip() for a in restriction.findall("saml:Audience", _NS)
        ]
        audiences.extend(values)
        if not any(_acceptable_audience(v, expected) for v in values):
            raise InvalidIdentityToken("Invalid SAML response: incorrect Audience")
    return not_before, not_on_or_after, tuple(audiences)


def _attributes(assertion: etree._Element) -> dict[str, tuple[str, ...]]:
    collected: dict[str, list[str]] = {}
    for attr in assertion.iterfind("saml:AttributeStatement/saml:Attribute", _NS):
        name = attr.get("Name")
        if not name:
            continue
        values = collected.setdefault(name, [])
        for value in attr.findall("saml:AttributeValue", _NS):
            values.append(_value_text(value).strip())
    return {k: tuple(v) for k, v in collected.items()}


def _role_pairs(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for value in values:
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 2:
            continue
        a, b = parts
        # AWS accepts "role,provider" and "provider,role".
        if ":saml-provider/" in a and ":role/" in b:
            a, b = b, a
        if ":role/" in a and ":saml-provider/" in b:
            pairs.append((a, b))
    return tuple(pairs)


def _single(attrs: dict[str, tuple[str, ...]], name: str) -> str | None:
    values = attrs.get(name)
    if not values:
        return None
    if len(values) != 1:
        short = name.removeprefix(ATTR_PREFIX)
        raise InvalidIdentityToken(f"{short} in AuthnResponse must have exactly one value")
    return values[0]


def _aws_attributes(
    attrs: dict[str, tuple[str, ...]],
) -> tuple[str, int | None, str | None, dict[str, str], tuple[str, ...]]:
    session_name = _single(attrs, ATTR_ROLE_SESSION_NAME)
    if session_name is None:
        raise InvalidIdentityToken("RoleSessionName is required in AuthnResponse")
    if not _SESSION_NAME_RE.fullmatch(session_name):
        raise InvalidIdentityToken(
            "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"
        )

    duration: int | None = None
    raw_duration = _single(attrs, ATTR_SESSION_DURATION)
    if raw_duration is not None:
        if not raw_duration.isdecimal() or not (
            SESSION_DURATION_MIN <= int(raw_duration) <= SESSION_DURATION_MAX
        ):
            raise InvalidIdentityToken(
                f"SessionDuration in AuthnResponse must be an integer between "
                f"{SESSION_DURATION_MIN} and {SESSION_DURATION_MAX}"
            )
        duration = int(raw_duration)

    source_identity = _single(attrs, ATTR_SOURCE_IDENTITY)
    if source_identity is not None and (
        not _SESSION_NAME_RE.fullmatch(source_identity)
        or source_identity.lower().startswith("aws:")
    ):
        raise InvalidIdentityToken(
            "SourceIdentity in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"
        )

    tags: dict[str, str] = {}
    for name in attrs:
        if name.startswith(ATTR_PRINCIPAL_TAG):
            key = name[len(ATTR_PRINCIPAL_TAG) :]
            value = _single(attrs, name)
            # Tag key/value syntax and counts are the STS handler's job (the
            # same validator as AssumeRole's Tags); here we only extract.
            tags[key] = value if value is not None else ""
    transitive = attrs.get(ATTR_TRANSITIVE_TAG_KEYS, ())
    return session_name, duration, source_identity, tags, transitive


# ---------------------------------------------------------------- public


def decode_saml_response(b64_response: str) -> bytes:
    """Base64-decode a SAMLResponse. Bad input -> ``InvalidIdentityToken``.

    AWS answers an undecodable SAMLResponse with an InvalidIdentityToken-class
    error ("Invalid base64 SAMLResponse" is what its SAML endpoints say); the
    STS model validates only the length, so this is not a ValidationError.
    """
    if len(b64_response) > MAX_SAML_RESPONSE_CHARS:
        raise InvalidIdentityToken("Invalid base64 SAMLResponse")
    try:
        # The POST binding allows line breaks in the base64 text. Unlike a
        # session token, other spellings of the same bytes need not be
        # refused: the XML signature covers the decoded document and the
        # replay claim is keyed by issuer and assertion ID, never by this
        # text. IdPs wrap lines (Shibboleth at 76), so strictness here would
        # only break real clients.
        return base64.b64decode("".join(b64_response.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidIdentityToken("Invalid base64 SAMLResponse") from exc


def verify_saml_response(
    b64_response: str,
    *,
    certificates: Sequence[str],
    now: datetime,
    expected_audiences: Sequence[str] = DEFAULT_AUDIENCES,
    expected_issuer: str | None = None,
    skew_seconds: int = 300,
    enforce_certificate_validity: bool = False,
) -> SamlAssertion:
    """Verify a base64 SAML Response and return its one signed assertion.

    ``certificates``: the provider's signing certificates (PEM or base64 DER);
    any one of them may have signed. ``expected_audiences``: acceptable
    Recipient/Audience values; when it holds the AWS sign-in URL, the regional
    ``https://<region>.signin.aws.amazon.com/saml`` forms (and, as Audience,
    ``urn:amazon:webservices``) are accepted too. ``expected_issuer``: the
    provider's entityID. Replay protection is the caller's: claim
    ``assertion_id`` until ``not_on_or_after``.
    """
    if now.tzinfo is None:
        raise TypeError("now must be an aware datetime")
    now = now.astimezone(UTC)
    skew = timedelta(seconds=skew_seconds)

    xml = decode_saml_response(b64_response)
    root = _parse_xml(xml, InvalidIdentityToken, "Invalid SAML response")
    if root.tag != _RESPONSE:
        raise InvalidIdentityToken("Invalid SAML response: not a samlp:Response")

    _check_shape(root)
    direct = root.findall(_ASSERTION)
    if not direct:
        raise InvalidIdentityToken("Invalid SAML response: expected exactly one assertion")

    certs = [c for c in (_load_certificate(t) for t in certificates) if c is not None]
    if not certs:
        log.warning("SAML provider has no usable signing certificate")
        raise InvalidIdentityToken(MSG_SIGNATURE)

    if root.find(_SIGNATURE) is not None:
        signed = _verify_signature(
            xml, location="./", certificates=certs, now=now,
            enforce_certificate_validity=enforce_certificate_validity,
        )  # fmt: skip
        signed_element = "Response"
    elif direct[0].find(_SIGNATURE) is not None:
        signed = _verify_signature(
            xml, location=f"./{_ASSERTION}/", certificates=certs, now=now,
            enforce_certificate_validity=enforce_certificate_validity,
        )  # fmt: skip
        signed_element = "Assertion"
    else:
        raise InvalidIdentityToken(MSG_SIGNATURE)

    # From here on, only ``signed`` is read for facts. The one exception is
    # the top-level Status, which can only make us refuse: an IdP saying
    # "not Success" is IDPRejectedClaim ("the IdP reported that
    # authentication failed"), signed or not.
    status = (signed if signed.tag == _RESPONSE else root).find(
        "samlp:Status/samlp:StatusCode", _NS
    )
    if status is None or status.get("Value") != STATUS_SUCCESS:
        raise IDPRejectedClaim("The identity provider reported that authentication failed")
    if signed.tag == _RESPONSE:
        destination = signed.get("Destination")
        if destination is not None and not _acceptable_recipient(destination, expected_audiences):
            raise InvalidIdentityToken("Invalid SAML response: incorrect Destination")
    assertion = _single_assertion(signed)  # refuses anything but Response/Assertion

    assertion_id = assertion.get("ID")
    if not assertion_id or assertion.get("Version") != "2.0":
        raise InvalidIdentityToken("Invalid SAML response: assertion needs ID and Version 2.0")
    issuers = assertion.findall("saml:Issuer", _NS)
    if len(issuers) != 1:
        raise InvalidIdentityToken("Invalid SAML response: expected one Issuer")
    issuer = _text(issuers[0], what="Issuer").strip()
    if expected_issuer is not None and issuer != expected_issuer:
        raise InvalidIdentityToken("Issuer not present in specified provider")

    name_id, name_id_format, recipient, not_on_or_after = _subject(
        assertion, now=now, skew=skew, expected=expected_audiences
    )
    cond_nb, cond_noa, audiences = _conditions(
        assertion, now=now, skew=skew, expected=expected_audiences
    )
    session_noa = None
    authn = assertion.find("saml:AuthnStatement", _NS)
    if authn is not None:
        session_noa = _parse_time(authn.get("SessionNotOnOrAfter"), what="SessionNotOnOrAfter")
    attrs = _attributes(assertion)
    session_name, duration, source_identity, tags, transitive = _aws_attributes(attrs)

    return SamlAssertion(
        assertion_id=assertion_id,
        issuer=issuer,
        name_id=name_id,
        name_id_format=name_id_format,
        subject_type=name_id_format.removeprefix(NAMEID_PREFIX),
        recipient=recipient,
        audiences=audiences,
        not_on_or_after=not_on_or_after,
        conditions_not_before=cond_nb,
        conditions_not_on_or_after=cond_noa,
        session_not_on_or_after=session_noa,
        issue_instant=_parse_time(assertion.get("IssueInstant"), what="IssueInstant"),
        attributes=attrs,
        role_pairs=_role_pairs(attrs.get(ATTR_ROLE, ())),
        role_session_name=session_name,
        session_duration=duration,
        source_identity=source_identity,
        principal_tags=tags,
        transitive_tag_keys=transitive,
        signed_element=signed_element,
    )


def parse_idp_metadata(metadata: str | bytes) -> IdpMetadata:
    """Entity id, signing certificates and validUntil of IdP metadata.

    For CreateSAMLProvider/UpdateSAMLProvider; bad documents raise
    ``InvalidInput`` (IAM's code for an unusable SAMLMetadataDocument).
    """
    data = metadata.encode() if isinstance(metadata, str) else metadata
    root = _parse_xml(data, InvalidInput, "Could not parse metadata")
    if root.tag == f"{{{NS_METADATA}}}EntitiesDescriptor":
        entities = root.findall("md:EntityDescriptor", _NS)
        if len(entities) != 1:
            raise InvalidInput("Could not parse metadata: expected one EntityDescriptor")
        root = entities[0]
    if root.tag != f"{{{NS_METADATA}}}EntityDescriptor" or not root.get("entityID"):
        raise InvalidInput("Could not parse metadata: expected an EntityDescriptor with entityID")
    idp = root.find("md:IDPSSODescriptor", _NS)
    if idp is None:
        raise InvalidInput("Could not parse metadata: no IDPSSODescriptor")
    certs: list[str] = []
    for descriptor in idp.findall("md:KeyDescriptor", _NS):
        if descriptor.get("use") not in (None, "signing"):
            continue
        for cert in descriptor.iterfind("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS):
            text = "".join("".join(cert.itertext()).split())
            if _load_certificate(text) is None:
                raise InvalidInput("Could not parse metadata: invalid X509Certificate")
            certs.append(text)
    if not certs:
        raise InvalidInput("Could not parse metadata: no signing certificate")
    valid_until = None
    raw = root.get("validUntil")
    if raw is not None:
        try:
            valid_until = _parse_time(raw, what="validUntil")
        except InvalidIdentityToken as exc:
            raise InvalidInput("Could not parse metadata: bad validUntil") from exc
    return IdpMetadata(root.get("entityID", ""), tuple(certs), valid_until)
