"""Encoded authorization failure messages and DecodeAuthorizationMessage (reference §7).

Every AccessDenied from AssumeRole ends with " Encoded authorization failure
message: <blob>". The blob is the decision's explanation (AWS's JSON layout:
``allowed``, ``explicitDeny``, ``matchedStatements``, ``failures``,
``context``) compressed and sealed with the token key ring, so only rolegate
can read it, and only for a principal allowed
``sts:DecodeAuthorizationMessage``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

from rolegate import tokens
from rolegate.context import CallContext
from rolegate.errors import AccessDenied, InvalidAuthorizationMessage, ValidationError
from rolegate.principals.credentials import key_ring

SUFFIX = " Encoded authorization failure message: "
# encodedMessageType max in the STS model: a message we hand out must fit
# back into DecodeAuthorizationMessage.
MAX_ENCODED = 10240
_INVALID = "Invalid authorization message."


def _items(values: list[Any]) -> dict[str, list[Any]]:
    return {"items": values}


def _decision(result: Any) -> str:
    d = getattr(result, "decision", None)
    return str(getattr(d, "value", d)) if d is not None else "implicitDeny"


def explanation(
    ctx: CallContext,
    *,
    action: str,
    resource: str,
    result: Any = None,
    context: Mapping[str, Any] | None = None,
    failure: str | None = None,
) -> dict[str, Any]:
    """The JSON document AWS decodes to, for one denied request."""
    p = ctx.principal
    principal = {"id": p.user_id, "name": p.name or "", "arn": p.arn} if p is not None else {}
    matched = []
    for m in getattr(result, "matched", ()) or ():
        matched.append(
            {
                "statementId": getattr(m, "sid", None) or "",
                "effect": str(getattr(getattr(m, "effect", ""), "value", getattr(m, "effect", ""))),
                "sourcePolicyId": getattr(m, "policy_id", ""),
                "sourcePolicyType": getattr(m, "source_type", ""),
                "index": getattr(m, "index", 0),
            }
        )
    failures = [str(e) for e in getattr(result, "errors", ()) or ()]
    if failure:
        failures.append(failure)
    conditions = []
    for key in sorted(context or {}, key=str.lower):
        value = (context or {})[key]
        values = value if isinstance(value, list | tuple) else [value]
        conditions.append({"key": key, "values": _items([{"value": str(v)} for v in values])})
    decision = _decision(result)
    return {
        "allowed": decision == "allow",
        "explicitDeny": decision == "explicitDeny",
        "matchedStatements": _items(matched),
        "failures": _items(failures),
        "context": {
            "principal": principal,
            "action": action,
            "resource": resource,
            "conditions": _items(conditions),
        },
    }


def _seal(ctx: CallContext, doc: Mapping[str, Any]) -> str:
    payload = zlib.compress(json.dumps(doc, separators=(",", ":")).encode("utf-8"), 9)
    return tokens.seal_message(payload, key_ring(ctx), int(ctx.now.timestamp()))


def encode(ctx: CallContext, doc: dict[str, Any]) -> str:
    """Seal ``doc``; drop condition values if it would not fit the input limit."""
    text = _seal(ctx, doc)
    if len(text) <= MAX_ENCODED:
        return text
    trimmed = json.loads(json.dumps(doc))
    trimmed["context"]["conditions"] = _items([])
    trimmed["failures"]["items"].append("request context omitted: too large")
    return _seal(ctx, trimmed)


def denied(
    ctx: CallContext,
    message: str,
    *,
    action: str,
    resource: str,
    result: Any = None,
    context: Mapping[str, Any] | None = None,
    failure: str | None = None,
) -> AccessDenied:
    """An AccessDenied whose message carries the sealed explanation."""
    doc = explanation(
        ctx, action=action, resource=resource, result=result, context=context, failure=failure
    )
    return AccessDenied(message + SUFFIX + encode(ctx, doc))


def decode_authorization_message(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """DecodeAuthorizationMessage: needs ``sts:DecodeAuthorizationMessage``."""
    text = params.get("EncodedMessage")
    if not isinstance(text, str) or not text:
        raise ValidationError(
            "1 validation error detected: Value null at 'encodedMessage' failed to satisfy "
            "constraint: Member must not be null"
        )
    if len(text) > MAX_ENCODED:
        raise ValidationError(
            "1 validation error detected: Value at 'encodedMessage' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_ENCODED}"
        )
    # The action has no resource type in AWS's authorization reference.
    ctx.authorize("sts:DecodeAuthorizationMessage", "*")
    try:
        payload = tokens.open_message(text, key_ring(ctx))
        decoded = zlib.decompress(payload).decode("utf-8")
        json.loads(decoded)
    except (InvalidAuthorizationMessage, ValueError, zlib.error):
        # One opaque answer for forged, truncated or foreign messages.
        raise InvalidAuthorizationMessage(_INVALID) from None
    return {"DecodedMessage": decoded}
