"""Every request leaves a CloudTrail record; secrets never appear in one."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server


def test_events_for_allowed_denied_and_invalid(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="audited")
    key = iam.create_access_key(UserName="audited")["AccessKey"]
    time.sleep(0.6)
    with pytest.raises(ClientError):
        server.client("iam", creds=key).list_users()
    with pytest.raises(ClientError):
        iam.create_user(UserName="bad name")
    time.sleep(0.5)  # the audit writer commits in batches
    q = server.cli("audit", "query", *server.store_args(), "--json")
    events = json.loads(q.stdout)
    names = [(e["eventName"], e.get("errorCode")) for e in events]
    assert ("CreateUser", None) in names
    assert ("ListUsers", "AccessDenied") in names
    assert ("CreateUser", "ValidationError") in names
    dump = q.stdout
    assert key["SecretAccessKey"] not in dump
    assert server.admin["secret_access_key"] not in dump
    created = [e for e in events if e["eventName"] == "CreateUser" and not e.get("errorCode")]
    ev = created[0]
    assert ev["eventSource"] == "iam.amazonaws.com" and ev["userIdentity"]["type"] == "IAMUser"
    assert ev["requestParameters"]["userName"] == "audited"
    denied = json.loads(
        server.cli(
            "audit",
            "query",
            *server.store_args(),
            "--event-name",
            "ListUsers",
            "--user",
            "arn:aws:iam::123456789012:user/audited",
            "--json",
        ).stdout
    )
    assert denied and all(e["errorCode"] == "AccessDenied" for e in denied)
    tail = server.cli("audit", "tail", *server.store_args(), "-n", "3")
    assert len(tail.stdout.strip().splitlines()) == 3
