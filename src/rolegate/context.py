"""What a request handler is given: the contract between the request
pipeline (``rolegate.pipeline``, which builds the context and calls the
handler) and the ``iam``/``sts``/``organizations`` handlers.

A handler is ``def handler(ctx: CallContext, params: dict) -> dict | None``.
``params`` is the request decoded by ``rolegate.protocol`` into the shape
boto3 would have been given (model member names, lists as lists, integers as
ints, timestamps as aware datetimes, blobs as bytes); the returned dict is the
output shape as boto3 would return it (policy documents as plain JSON text:
the protocol layer URL-encodes ``policyDocumentType`` members). Handlers raise
``rolegate.errors.AwsError`` subclasses for every failure.

Handlers authorise themselves, because only they know the resource an action
acts on: ``ctx.authorize("iam:CreateRole", role_arn)`` raises ``AccessDenied``
with AWS's message, or returns the decision it made. (``pipeline.authorise``
is where the authorisation table will take this over.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

PrincipalKind = Literal["root", "user", "assumed-role", "federated-user", "anonymous"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller.

    ``user_id`` is ``aws:userid`` (``AIDA...`` for users, ``AROA...:session`` for
    role sessions, ``<acct>:<name>`` for federated users, the account id for
    root). ``session`` is the opened session token (``rolegate.tokens``) when
    the caller used temporary credentials, else None.
    """

    kind: PrincipalKind
    arn: str
    account_id: str
    user_id: str
    name: str | None = None  # IAM user name / role name / federated name
    access_key_id: str | None = None
    session: Any = None  # rolegate.tokens.SessionClaims | None


AuthorizeFn = Callable[..., Any]


@dataclass(slots=True)
class CallContext:
    service: str  # "sts" | "iam" | "organizations"
    action: str  # e.g. "CreateRole"
    principal: Principal | None  # None only for unsigned STS federation calls
    request_id: str
    now: datetime  # aware UTC; the only clock handlers may read
    region: str
    source_ip: str
    user_agent: str
    store: Any  # rolegate.store.Store
    app: Any = None  # server state: key ring, caches, settings
    secure: bool = False  # arrived over TLS (aws:SecureTransport)
    authorize_fn: AuthorizeFn | None = None
    # Filled in by handlers for the audit record (CloudTrail requestParameters
    # / responseElements / resources); secrets never go here.
    audit_resources: list[dict[str, str]] = field(default_factory=list)
    audit_response: Mapping[str, Any] | None = None
    audit_extra: dict[str, Any] = field(default_factory=dict)
    # Per-request memo of what authz read or built (policy bundles, the
    # compiled policy set, the base condition context), so a handler that
    # authorises several times pays for it once. Never audited.
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        assert self.principal is not None
        return self.principal.account_id

    def authorize(
        self,
        action: str,
        resource: str,
        *,
        context: Mapping[str, Any] | None = None,
        resource_policy: Any = None,
        resource_account: str | None = None,
    ) -> Any:
        """Authorise ``action`` on ``resource`` for the caller, or raise AccessDenied."""
        if self.authorize_fn is None:  # fail closed
            from rolegate.errors import AccessDenied

            raise AccessDenied("Not authorized.")
        return self.authorize_fn(
            self,
            action,
            resource,
            context=context,
            resource_policy=resource_policy,
            resource_account=resource_account,
        )
