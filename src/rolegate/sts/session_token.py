"""GetSessionToken (reference §2.1, §2.4).

For IAM users and the root user with long-term keys only; no permission is
needed. The credentials act as the user (kind ``session``): the server lets
them call IAM only when created with MFA, and STS only for AssumeRole and
GetCallerIdentity.
"""

from __future__ import annotations

from typing import Any

from rolegate.context import CallContext
from rolegate.errors import AccessDenied
from rolegate.principals import durations
from rolegate.principals.credentials import claim_defaults, issue
from rolegate.principals.validation import Problems, check_mfa
from rolegate.sts import mfa_check
from rolegate.sts.assume_role import caller_issuer, is_root


def refuse_session_credentials(ctx: CallContext, action: str) -> None:
    """Temporary credentials cannot mint more long-lived ones (reference §0 rule 10)."""
    p = ctx.principal
    if p is None or p.kind == "anonymous":
        raise AccessDenied(f"Not authorized to perform: sts:{action}")
    if p.session is not None or p.kind not in ("user", "root"):
        raise AccessDenied(f"Cannot call {action} with session credentials")


def get_session_token(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    p = Problems()
    durations.check_token_duration(p, params.get("DurationSeconds"))
    check_mfa(p, params.get("SerialNumber"), params.get("TokenCode"))
    p.raise_if_any()
    refuse_session_credentials(ctx, "GetSessionToken")
    caller = ctx.principal
    assert caller is not None
    root = is_root(caller)
    duration = durations.token_duration(params.get("DurationSeconds"), root=root)
    mfa = mfa_check.verify_request_mfa(ctx, params.get("SerialNumber"), params.get("TokenCode"))
    fields = claim_defaults()
    fields.update(
        kind="session",
        arn=caller.arn,
        user_id=caller.user_id,
        user_arn=caller.arn,
        user_name=None if root else caller.name,
        mfa_authenticated=mfa.authenticated,
        mfa_auth_time=mfa.auth_time,
        issuer=caller_issuer(ctx),
    )
    issued = issue(ctx, account_id=caller.account_id, duration=duration, fields=fields)
    ctx.audit_response = {"credentials": issued.audit_credentials()}
    return {"Credentials": issued.credentials()}
