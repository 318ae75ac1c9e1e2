"""MFA in STS requests: ``SerialNumber`` + ``TokenCode`` (reference §2.5 step 3).

The code is checked as TOTP against the calling IAM user's enabled MFA
device by ``rolegate.principals.mfa_devices.verify_mfa_for_user``, which also claims the
code once only, so a replayed code fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.context import CallContext
from rolegate.errors import AccessDenied, AwsError
from rolegate.principals.mfa_devices import verify_mfa_for_user

BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
BAD_SERIAL = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA "
    "serial number is valid and associated with this user."
)


@dataclass(frozen=True, slots=True)
class MfaFacts:
    authenticated: bool
    auth_time: int | None  # epoch seconds of the MFA check

    def context(self, now: int) -> dict[str, str]:
        """``aws:MultiFactorAuthPresent`` / ``aws:MultiFactorAuthAge`` for the request."""
        if not self.authenticated:
            return {}
        out = {"aws:MultiFactorAuthPresent": "true"}
        if self.auth_time is not None:
            out["aws:MultiFactorAuthAge"] = str(max(0, now - self.auth_time))
        return out


NONE = MfaFacts(False, None)


def caller_user_name(ctx: CallContext) -> str | None:
    """The IAM user whose devices may answer: the caller, or the user behind
    GetSessionToken credentials. Role and federated sessions own no device."""
    p = ctx.principal
    if p is None or p.kind != "user":
        return None
    if p.name:
        return p.name
    s = p.session
    return getattr(s, "user_name", None) if s is not None else None


def verify_request_mfa(ctx: CallContext, serial: str | None, code: str | None) -> MfaFacts:
    """Check the request's MFA parameters; raise AccessDenied with AWS's messages."""
    if serial is None and code is None:
        return NONE
    if serial is None or code is None:
        # Both or neither: a serial alone proves nothing, a code alone has no device.
        raise AccessDenied(BAD_CODE if serial is not None else BAD_SERIAL)
    user_name = caller_user_name(ctx)
    if user_name is None:
        raise AccessDenied(BAD_SERIAL)
    assert ctx.principal is not None
    try:
        # Returns the authentication time (epoch seconds) and claims the code.
        when = verify_mfa_for_user(
            ctx.store, ctx.principal.account_id, user_name, serial, code, ctx.now
        )
    except AccessDenied:
        raise
    except AwsError as e:
        # Whatever the device lookup says, the client sees STS's AccessDenied.
        raise AccessDenied(e.message or BAD_CODE) from e
    return MfaFacts(True, int(when))


def inherited(ctx: CallContext) -> MfaFacts:
    """MFA facts of the calling session (an MFA-authenticated GetSessionToken
    or role session passes them on to the sessions it creates)."""
    p = ctx.principal
    s = p.session if p is not None else None
    if s is not None and getattr(s, "mfa_authenticated", False):
        return MfaFacts(True, getattr(s, "mfa_auth_time", None))
    return NONE
