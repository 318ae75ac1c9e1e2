"""The CallContext audit tests build records from, and its caller."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rolegate.context import CallContext, Principal

NOW = datetime(2026, 11, 28, 1, 2, 3, tzinfo=UTC)
USER = Principal(
    kind="user",
    arn="arn:aws:iam::111122223333:user/alice",
    account_id="111122223333",
    user_id="AIDAEXAMPLEEXAMPLE000",
    name="alice",
    access_key_id="AKIAEXAMPLEEXAMPLE00",
)


def call_context(
    service: str = "sts",
    action: str = "AssumeRole",
    principal: Principal | None = USER,
    **kw: Any,
) -> CallContext:
    """A storeless CallContext; ``kw`` overrides request_id, now, region,
    source_ip or user_agent."""
    fields: dict[str, Any] = {
        "request_id": "req-1",
        "now": NOW,
        "region": "eu-west-1",
        "source_ip": "10.0.0.1",
        "user_agent": "aws-cli/1",
    }
    fields.update(kw)
    return CallContext(service=service, action=action, principal=principal, store=None, **fields)
