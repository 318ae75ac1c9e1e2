"""Routing against a real server: signed data alone picks the operation."""

from __future__ import annotations

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server

ORG_TARGET = "AWSOrganizationsV20161128"


def test_presigned_url_replayed_with_an_added_target_header(server: Server) -> None:
    url = server.client("sts").generate_presigned_url(
        "get_caller_identity", Params={}, HttpMethod="GET"
    )
    for op in ("CreateOrganization", "ListAccounts"):
        r = httpx.get(url, headers={"X-Amz-Target": f"{ORG_TARGET}.{op}"})
        # The signer asked for GetCallerIdentity; that is what runs.
        assert r.status_code == 200, r.text
        assert "<GetCallerIdentityResponse" in r.text
    with pytest.raises(ClientError) as e:
        server.client("organizations").describe_organization()
    assert e.value.response["Error"]["Code"] == "AWSOrganizationsNotInUseException"
