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

XML parsing, signature verification and the shape checks are in
:mod:`rolegate.federation.saml_xml`; this module reads the assertion's facts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from lxml import etree

from rolegate.errors import (
    ExpiredTokenException,
    IDPRejectedClaim,
    InvalidIdentityToken,
    InvalidInput,
)
from rolegate.federation.saml_xml import (
    _ASSERTION,
    _NS,
    _RESPONSE,
    _SIGNATURE,
    MSG_SIGNATURE,
    NS_METADATA,
    _check_shape,
    _load_certificate,
    _parse_time,
    _parse_xml,
    _single_assertion,
    _text,
    _value_text,
    _verify_signature,
)
from rolegate.federation.saml_xml import NS_ASSERTION as NS_ASSERTION
from rolegate.federation.saml_xml import NS_DSIG as NS_DSIG
from rolegate.federation.saml_xml import NS_PROTOCOL as NS_PROTOCOL

log = logging.getLogger(__name__)

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


# ---------------------------------------------------------------- checks


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
