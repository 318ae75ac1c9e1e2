"""Revoking a role's active sessions, as the AWS console does.

Session tokens are stateless, so a session cannot be deleted; instead the
role gets the inline policy ``AWSRevokeOlderSessions`` denying everything to
sessions whose ``aws:TokenIssueTime`` is earlier than the moment of
revocation. Running it again moves the moment forward (the policy is
overwritten). ``rolegate roles revoke-sessions ACCOUNT ROLE`` calls this.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rolegate.errors import NoSuchEntity

POLICY_NAME = "AWSRevokeOlderSessions"


def revoke_policy_document(now: datetime) -> str:
    # Millisecond precision as the console writes it. A session issued later in
    # the same second (issued_at is whole seconds) is also revoked: erring
    # towards revoking is the safe direction.
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": ["*"],
                "Resource": ["*"],
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": stamp}},
            }
        ],
    }
    return json.dumps(doc, separators=(",", ":"))


def revoke_older_sessions(store: Any, account_id: str, role_name: str, now: datetime) -> str:
    """Write/overwrite the role's ``AWSRevokeOlderSessions``; returns the document."""
    document = revoke_policy_document(now)
    with store.transaction() as tx:
        role = tx.get(account_id, "role", role_name)
        if role is None:
            raise NoSuchEntity(f"The role with name {role_name} cannot be found.")
        data = dict(role.data)
        inline = dict(data.get("inline_policies") or {})
        inline[POLICY_NAME] = document
        data["inline_policies"] = inline
        tx.update(role, data)
    return document
