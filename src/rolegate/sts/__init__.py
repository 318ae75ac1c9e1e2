"""STS actions (reference §2): handlers keyed by Action name.

The server authenticates the caller, applies the limits of temporary
credentials (which APIs each kind may call) and writes the audit record;
each handler validates its input, authorises itself and fills
``ctx.audit_resources`` / ``ctx.audit_response``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.sts.access_key_info import get_access_key_info
from rolegate.sts.assume_role import assume_role
from rolegate.sts.assume_root import assume_root
from rolegate.sts.authz_message import decode_authorization_message
from rolegate.sts.caller_identity import get_caller_identity
from rolegate.sts.federation_token import get_federation_token
from rolegate.sts.revoke import revoke_older_sessions
from rolegate.sts.session_token import get_session_token

Handler = Callable[[CallContext, dict[str, Any]], "dict[str, Any] | None"]

HANDLERS: dict[str, Handler] = {
    "AssumeRole": assume_role,
    "AssumeRoot": assume_root,
    "GetSessionToken": get_session_token,
    "GetFederationToken": get_federation_token,
    "GetCallerIdentity": get_caller_identity,
    "GetAccessKeyInfo": get_access_key_info,
    "DecodeAuthorizationMessage": decode_authorization_message,
}

__all__ = ["HANDLERS", "revoke_older_sessions"]
