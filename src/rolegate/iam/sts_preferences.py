"""SetSecurityTokenServicePreferences: which session tokens the global STS
endpoint issues, per account.

In AWS, ``v1Token`` (the default) tokens from ``sts.amazonaws.com`` are valid
only in Regions enabled by default, and ``v2Token`` tokens are longer and
valid in every Region. rolegate serves every Region from one endpoint and
its sealed session tokens (``rolegate.tokens``) are valid wherever its key
ring is, so the preference changes no token: it is stored so that clients
that set it read it back, as AWS reports it, in GetAccountSummary's
``GlobalEndpointTokenVersion`` (1 or 2).

Stored as the account's one ``sts-preferences`` entity,
``{"global_endpoint_token_version": "v1Token"|"v2Token"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import ValidationError
from rolegate.iam import lookup

KIND = "sts-preferences"
NAME = "preferences"
_VERSIONS = {"v1Token": 1, "v2Token": 2}
DEFAULT_VERSION = "v1Token"


def global_endpoint_token_version(store: Any, account: str) -> int:
    """GetAccountSummary's ``GlobalEndpointTokenVersion``: 1 (the default) or 2."""
    current = store.get(account, KIND, NAME)
    value = current.data.get("global_endpoint_token_version") if current is not None else None
    return _VERSIONS.get(value or DEFAULT_VERSION, 1)


def set_security_token_service_preferences(ctx: CallContext, params: Mapping[str, Any]) -> None:
    version = params["GlobalEndpointTokenVersion"]
    ctx.authorize("iam:SetSecurityTokenServicePreferences", "*")
    if version not in _VERSIONS:
        # The protocol layer checks the model's enum; kept for direct callers.
        raise ValidationError(
            f"1 validation error detected: Value '{version}' at 'globalEndpointTokenVersion' "
            "failed to satisfy constraint: Member must satisfy enum value set: [v1Token, v2Token]"
        )
    account = ctx.account_id
    with ctx.store.transaction() as tx:
        lookup.put_account_singleton(
            tx,
            account,
            KIND,
            NAME,
            arn=f"arn:aws:iam::{account}:sts-preferences",
            data={"global_endpoint_token_version": version},
            now=ctx.now,
        )


HANDLERS: dict[str, Callable[..., Any]] = {
    "SetSecurityTokenServicePreferences": set_security_token_service_preferences,
}
