"""Trust policies the wire tests give their roles."""

from __future__ import annotations

import json
from typing import Any

ACCOUNT = "123456789012"

# Anyone in the test account may assume the role.
ACCOUNT_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
        ],
    }
)


def role_session(world: Any, role: str, session: str) -> dict[str, Any]:
    """Create ``role`` with ACCOUNT_TRUST and assume it as the admin; the
    session's Credentials. ``world`` is anything with ``client(service)``: an
    in-process rolegate (tests.inprocess) or a served one (tests.e2e.server)."""
    world.client("iam").create_role(RoleName=role, AssumeRolePolicyDocument=ACCOUNT_TRUST)
    return dict(
        world.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName=session
        )["Credentials"]
    )
