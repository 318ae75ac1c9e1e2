"""Verification: scope and clock checks, the payload hash, and the signature."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from rolegate.errors import IncompleteSignature, SignatureDoesNotMatch
from rolegate.sigv4.canonical import canonical_request, payload_hash, string_to_sign
from rolegate.sigv4.keys import SigningKeyCache, signing_key
from rolegate.sigv4.parse import _echo
from rolegate.sigv4.request import (
    _AMZ_DATE_FORMAT,
    _MISMATCH,
    _REGION_RE,
    MAX_CLOCK_SKEW,
    TERMINATOR,
    HttpRequest,
    SigV4Auth,
)


def _fmt(t: datetime) -> str:
    return t.astimezone(UTC).strftime(_AMZ_DATE_FORMAT)


def _check_scope(auth: SigV4Auth, service: str) -> None:
    if auth.terminator != TERMINATOR:
        raise SignatureDoesNotMatch(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{_echo(auth.terminator)}'."
        )
    if auth.service != service:
        # AWS's message ends with a space; kept for byte-for-byte compatibility.
        raise SignatureDoesNotMatch(
            f"Credential should be scoped to correct service: '{service}'. "
        )
    if not _REGION_RE.fullmatch(auth.region):
        raise SignatureDoesNotMatch(
            f"Credential should be scoped to a valid region, not '{_echo(auth.region)}'. "
        )
    if auth.date != auth.amz_date_raw[:8]:
        raise SignatureDoesNotMatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{_echo(auth.date)}' != '{auth.amz_date_raw[:8]}', "
            f"from '{auth.amz_date_raw}'."
        )


def _check_time(auth: SigV4Auth, now: datetime) -> None:
    signed_at = auth.amz_date
    earliest = now - MAX_CLOCK_SKEW
    if signed_at < earliest:
        raise SignatureDoesNotMatch(
            f"Signature expired: {_fmt(signed_at)} is now earlier than {_fmt(earliest)} "
            f"({_fmt(now)} - 15 min.)"
        )
    latest = now + MAX_CLOCK_SKEW
    if signed_at > latest:
        raise SignatureDoesNotMatch(
            f"Signature not yet current: {_fmt(signed_at)} is still later than {_fmt(latest)} "
            f"({_fmt(now)} + 15 min.)"
        )
    if auth.presigned and auth.expires is not None:
        # A presigned URL is also bounded by its own lifetime; the 15-minute
        # window above still applies (STS behaves so, reference §6.2).
        deadline = now - timedelta(seconds=auth.expires)
        if signed_at < deadline:
            raise SignatureDoesNotMatch(
                f"Signature expired: {_fmt(signed_at)} is now earlier than {_fmt(deadline)} "
                f"({_fmt(now)} - {auth.expires} sec.)"
            )


def verify(
    req: HttpRequest,
    auth: SigV4Auth,
    secret_access_key: str,
    now: datetime,
    *,
    service: str,
    key_cache: SigningKeyCache | None = None,
) -> None:
    """Check ``auth`` against ``req`` and the secret; return None or raise.

    ``service`` is the signing name this endpoint answers for (``sts``,
    ``iam``...). The region is whatever the scope names (any well-formed
    one). Raises ``IncompleteSignature`` if ``host`` is not signed and
    ``SignatureDoesNotMatch`` for every other failure.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if "host" not in auth.signed_headers:
        # Observed (API Gateway front end). Without Host the signature could
        # be replayed against another endpoint sharing the key.
        raise IncompleteSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    _check_scope(auth, service)
    _check_time(auth, now)

    claimed_hash = payload_hash(req)
    if "x-amz-content-sha256" in req._index:
        # The canonical request carries the client's claimed hash, not the
        # body: unless the claim is checked, a captured request could be
        # replayed with any other body. STS/IAM never need UNSIGNED-PAYLOAD.
        actual = hashlib.sha256(req.body).hexdigest()
        if not hmac.compare_digest(claimed_hash.lower().encode(), actual.encode()):
            raise SignatureDoesNotMatch(_MISMATCH)

    if key_cache is not None:
        signer = key_cache.signer(secret_access_key, auth.date, auth.region, auth.service)
        digest = signer.digest
    else:
        key = signing_key(secret_access_key, auth.date, auth.region, auth.service)

        def digest(msg: bytes) -> bytes:
            return hmac.digest(key, msg, "sha256")

    given = auth.signature.encode("utf-8", "replace")
    methods: tuple[str, ...] = (req.method,)
    if auth.presigned and req.method == "GET" and not req.body:
        # boto3's generate_presigned_url signs the operation's model method,
        # POST for every Query and JSON operation, and the Vault and
        # Kubernetes authenticators fetch such URLs with a plain GET. With
        # no body the two requests are the same operation with the same
        # signed parameters, so a POST signature is accepted for the GET.
        # (AWS STS itself refuses it, boto/boto3#756; rolegate serves these
        # logins instead.) Never the reverse: a POST carries a body the
        # signer never saw.
        methods = ("GET", "POST")
    for method in methods:
        signed_req = req if method == req.method else replace(req, method=method)
        canonical = canonical_request(signed_req, auth, payload_sha256=claimed_hash)
        to_sign = string_to_sign(canonical, auth.amz_date_raw, auth.credential_scope)
        expected = digest(to_sign.encode("utf-8")).hex()
        if hmac.compare_digest(expected.encode(), given):
            return
    raise SignatureDoesNotMatch(_MISMATCH)
