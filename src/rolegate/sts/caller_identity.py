"""GetCallerIdentity: who the signature says the caller is (reference §2.3).

No permission is needed and an explicit Deny does not apply, so this never
consults the authoriser: it is how tools (Vault, Kubernetes authenticators)
prove an identity, and it must answer for every kind of principal.
"""

from __future__ import annotations

from typing import Any

from rolegate.context import CallContext
from rolegate.errors import MissingAuthenticationToken


def get_caller_identity(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    p = ctx.principal
    if p is None or p.kind == "anonymous":
        raise MissingAuthenticationToken("Request is missing Authentication Token")
    # For GetSessionToken credentials the principal is the user itself, so
    # its ARN and AIDA id come back, as in AWS.
    return {"UserId": p.user_id, "Account": p.account_id, "Arn": p.arn}
