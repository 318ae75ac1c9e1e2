"""``X-Forwarded-*`` headers are a client's claim, not a fact.

A policy on ``aws:SourceIp`` or ``aws:SecureTransport`` is only worth
something if the caller cannot choose the value. By default rolegate takes
the peer address and the connection's scheme; a deployment behind a proxy
it trusts opts in with ``ROLEGATE_TRUST_PROXY=1`` and then reads the
proxy's ``X-Forwarded-For`` and ``X-Forwarded-Proto``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server, running_server

ACCT = "123456789012"


def _forwarding(client: Any, headers: dict[str, str]) -> Any:
    def add(request: Any, **_: Any) -> None:
        for k, v in headers.items():
            request.headers[k] = v

    client.meta.events.register("before-sign", add)
    return client


def _user_with_conditions(server: Server, name: str) -> dict[str, str]:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:ListUsers",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            },
            {
                "Effect": "Allow",
                "Action": "iam:ListRoles",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            },
        ],
    }
    iam.put_user_policy(UserName=name, PolicyName="cond", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    time.sleep(0.6)  # the cache of another worker may be up to 0.5 s old
    return {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }


def _denied(call: Any) -> bool:
    try:
        call()
    except ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDenied"
        return True
    return False


def test_forwarded_headers_are_ignored_by_default(server: Server) -> None:
    creds = _user_with_conditions(server, "fwd-default")
    spoof = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    iam = _forwarding(server.client("iam", creds=creds), spoof)
    assert _denied(iam.list_users)
    assert _denied(iam.list_roles)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp("proxied")
    with running_server(tmp, env={"ROLEGATE_TRUST_PROXY": "1"}) as srv:
        yield srv


def test_trusted_proxy_headers_decide(proxied: Server) -> None:
    creds = _user_with_conditions(proxied, "fwd-proxy")
    # The proxy appended the client's address to what the client sent.
    forwarded = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7", "X-Forwarded-Proto": "https"}
    iam = _forwarding(proxied.client("iam", creds=creds), forwarded)
    assert not _denied(iam.list_users)
    assert not _denied(iam.list_roles)
    # A client claiming an address on the left gains nothing.
    spoofed = {"X-Forwarded-For": "203.0.113.7, 198.51.100.1", "X-Forwarded-Proto": "http"}
    other = _forwarding(proxied.client("iam", creds=creds), spoofed)
    assert _denied(other.list_users)
    assert _denied(other.list_roles)
