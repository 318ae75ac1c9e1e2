"""Which service and operation a request names, read only from what its
signature covers.

The service is the credential scope's (``.../<region>/<service>/aws4_request``):
the client chose it and signed it, so an sts-scoped signature can never run
an Organizations operation, nor the reverse. Unsigned requests are STS (the
two federation actions are the only ones allowed unsigned). The operation
then comes from signed data only:

- Query (STS, IAM): ``Action`` and ``Version`` from the query string (always
  in the canonical request) or the form body (its SHA-256 is in the canonical
  request; sigv4 checks a claimed ``x-amz-content-sha256`` against it). A
  stray ``X-Amz-Target`` means nothing to a Query service and is ignored.
- JSON (Organizations): ``X-Amz-Target``, which must be among the signed
  headers and carry the service's target prefix.

Requests signed for a service rolegate does not serve get an answer their
SDK's parser shows (:func:`not_served`), rather than AWS's "Credential
should be scoped to correct service", which reads like a signing bug.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from rolegate import protocol
from rolegate.errors import AwsError, IncompleteSignature, InvalidAction, MissingAction
from rolegate.protocol.form import parse_form, parse_query_string
from rolegate.protocol.models import ServiceSpec
from rolegate.protocol.xml import xml_text
from rolegate.sigv4 import HttpRequest, SigV4Auth

SERVICES = ("sts", "iam", "organizations")
# The only actions that arrive unsigned (reference §0.6).
UNSIGNED_ACTIONS = frozenset({("sts", "AssumeRoleWithSAML"), ("sts", "AssumeRoleWithWebIdentity")})
# What AWS's Query front end names a request without Version (observed in
# STS/IAM answers: "Could not find operation X for version NO_VERSION_SPECIFIED").
NO_VERSION = "NO_VERSION_SPECIFIED"
_SERVED = "this endpoint serves sts, iam and organizations"


class NotServed(AwsError):
    """A request signed for a service this endpoint does not serve."""

    code = "NotImplemented"
    # 501 says "not here" without inviting a retry: SDKs retry 500/502/503/504.
    status = 501

    def __init__(self, signing_name: str) -> None:
        super().__init__(f"{_SERVED}; requests signed for {signing_name} are not served here")
        self.signing_name = signing_name


class Route(NamedTuple):
    """What a request names, read from signed data and not yet checked
    against the model (:func:`check` does that)."""

    spec: ServiceSpec  # the credential scope's service, compiled
    action: str  # "" when the request names none
    json: bool  # JSON protocol (X-Amz-Target); else Query
    params: dict[str, str]  # Query parameters, first occurrence of each; {} for JSON
    version: str | None  # Query only; None when the request has no Version

    @property
    def service(self) -> str:
        return self.spec.name


def service_of(auth: SigV4Auth | None) -> str:
    """The service a request is for: its credential scope's, else STS."""
    if auth is None:
        return "sts"
    if auth.service not in SERVICES:
        raise NotServed(auth.service)
    return auth.service


def read(req: HttpRequest, auth: SigV4Auth | None, service: str, method: str, body: bytes) -> Route:
    """The operation ``req`` names for ``service``, from signed data only."""
    spec = protocol.get_service(service)
    if spec.protocol == "json":
        target = req.header("x-amz-target") or ""
        if target and auth is not None and "x-amz-target" not in auth.signed_headers:
            # Unsigned, the header could be swapped for any operation on a
            # captured request; botocore and every SDK sign it.
            raise IncompleteSignature(
                "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
            )
        prefix, _, action = target.partition(".")
        if prefix != spec.target_prefix:
            action = ""
        return Route(spec, action, True, {}, None)
    pairs = parse_query_string(req.query) if req.query else []
    if method == "POST" and body:
        pairs.extend(parse_form(body))
    flat: dict[str, str] = {}
    for k, v in pairs:
        if k not in flat:
            flat[k] = v
    return Route(spec, flat.get("Action", ""), False, flat, flat.get("Version"))


def check(route: Route) -> None:
    """Refuse an operation the served service's model does not have.

    Query: ``Version`` must be the model's apiVersion (AWS answers an unknown
    or missing one with InvalidAction naming the version it was given, and
    runs nothing). JSON: AWS's ``UnknownOperationException``.
    """
    spec = route.spec
    if not route.json and not route.action:
        raise MissingAction("Missing Action")
    version = route.version if route.version is not None else NO_VERSION
    if route.action not in spec.operation_names or (not route.json and version != spec.version):
        raise unknown_operation(route)


def unknown_operation(route: Route) -> AwsError:
    """AWS's answer for an operation the service does not have (or rolegate does not serve)."""
    if route.json:
        return AwsError(
            f"Operation {route.action or '(none)'} is not supported by {route.service}",
            code="UnknownOperationException",
            status=400,
        )
    version = route.version if route.version is not None else NO_VERSION
    return InvalidAction(f"Could not find operation {route.action} for version {version}")


# -- answers for services not served ------------------------------------------

# botocore's protocols by signing name where the request alone does not tell
# (botocore/data/*/service-2.json metadata): REST-XML services, and EC2's own
# error envelope. Other REST services are REST-JSON.
_REST_XML = frozenset({"s3", "cloudfront", "route53"})


def not_served(
    err: NotServed, req: HttpRequest, body: bytes, request_id: str
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """``err`` in the envelope the client's own parser reads, chosen by what
    the request looks like (target header, CBOR, Query Action) and, for REST
    and EC2, by its signing name."""
    name, code, msg = err.signing_name, err.code, err.message
    rid = xml_text(request_id)
    if name == "ec2":
        # EC2 protocol: <Response><Errors><Error>, RequestID in capitals.
        out = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{xml_text(msg)}</Message>"
            f"</Error></Errors><RequestID>{rid}</RequestID></Response>"
        ).encode()
        return err.status, [(b"content-type", b"text/xml")], out
    if (req.header("smithy-protocol") or "").lower() == "rpc-v2-cbor":
        out = _cbor_text_map({"__type": code, "message": msg})
        headers = [(b"content-type", b"application/cbor"), (b"smithy-protocol", b"rpc-v2-cbor")]
        return err.status, headers, out
    if req.header("x-amz-target"):
        out = json.dumps({"__type": code, "message": msg}).encode()
        return err.status, [(b"content-type", b"application/x-amz-json-1.1")], out
    if "Action=" in req.query or (req.method == "POST" and b"Action=" in body):
        out = (
            f'<ErrorResponse xmlns="https://{xml_text(name)}.amazonaws.com/doc/"><Error>'
            f"<Type>Sender</Type><Code>{code}</Code><Message>{xml_text(msg)}</Message></Error>"
            f"<RequestId>{rid}</RequestId></ErrorResponse>"
        ).encode()
        return err.status, [(b"content-type", b"text/xml")], out
    if name in _REST_XML:
        out = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{xml_text(msg)}</Message>"
            f"<RequestId>{rid}</RequestId></Error>"
        ).encode()
        return err.status, [(b"content-type", b"application/xml")], out
    out = json.dumps({"code": code, "message": msg}).encode()
    return (
        err.status,
        [(b"content-type", b"application/json"), (b"x-amzn-errortype", code.encode())],
        out,
    )


def _cbor_text(s: str) -> bytes:
    raw = s.encode("utf-8")
    n = len(raw)
    if n < 24:
        head = bytes([0x60 | n])
    elif n < 0x100:
        head = bytes([0x78, n])
    else:
        head = bytes([0x79]) + n.to_bytes(2, "big")
    return head + raw


def _cbor_text_map(doc: dict[str, Any]) -> bytes:
    """A CBOR map of short text keys and values (RFC 8949 major types 3 and 5)."""
    out = bytearray([0xA0 | len(doc)])
    for k, v in doc.items():
        out += _cbor_text(k) + _cbor_text(str(v))
    return bytes(out)
