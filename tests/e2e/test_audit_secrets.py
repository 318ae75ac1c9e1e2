"""A served request's secrets never reach the stored audit, refused or not."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server

PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
    + "Q" * 40
    + "\n-----END PRIVATE KEY-----"
)


def test_refused_create_saml_provider_does_not_record_the_private_key(server: Server) -> None:
    iam = server.client("iam")
    with pytest.raises(ClientError):
        iam.create_saml_provider(
            Name="encrypting-idp",
            SAMLMetadataDocument="<EntityDescriptor/>" + "x" * 1000,
            AddPrivateKey=PRIVATE_KEY,
        )
    with pytest.raises(ClientError):
        server.client("organizations").create_account(
            Email="secret-owner@example.com", AccountName="secret-name"
        )
    time.sleep(0.6)  # the audit writer commits in batches
    out = server.cli("audit", "query", *server.store_args(), "--json").stdout
    events = json.loads(out)
    [ev] = [e for e in events if e["eventName"] == "CreateSAMLProvider"]
    assert ev["errorCode"] and ev["requestParameters"]["name"] == "encrypting-idp"
    assert "addPrivateKey" not in ev["requestParameters"]
    assert "BEGIN PRIVATE KEY" not in out and "MIIEvQIBADAN" not in out
    assert "secret-owner@example.com" not in out and "secret-name" not in out
