"""The access advisor, ListPoliciesGrantingServiceAccess and the STS
preferences against a real `rolegate serve`, through boto3 and the `aws` CLI:
the report comes from the calls the server audited."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import REGION, Server

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "iam:GetUser"], "Resource": "*"}
        ],
    }
)


def _cli_report(server: Server, arn: str) -> dict[str, Any]:
    job = json.loads(
        server.aws("iam", "generate-service-last-accessed-details", "--arn", arn).stdout
    )["JobId"]
    return json.loads(
        server.aws("iam", "get-service-last-accessed-details", "--job-id", job).stdout
    )


def test_report_shows_what_the_user_used(server: Server) -> None:
    iam = server.client("iam")
    user = iam.create_user(UserName="advised")["User"]
    iam.put_user_policy(UserName="advised", PolicyName="sts-iam", PolicyDocument=POLICY)
    key = iam.create_access_key(UserName="advised")["AccessKey"]
    time.sleep(0.6)  # a new key is usable once the server's cache sees it
    server.aws("sts", "get-caller-identity", creds=key)

    # Audit rows are committed by a background writer: poll until the
    # report sees the call.
    deadline = time.monotonic() + 10
    while True:
        report = _cli_report(server, user["Arn"])
        services = {s["ServiceNamespace"]: s for s in report["ServicesLastAccessed"]}
        if "LastAuthenticated" in services.get("sts", {}) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert report["JobStatus"] == "COMPLETED" and report["JobType"] == "SERVICE_LEVEL"
    assert set(services) == {"iam", "sts"}
    sts = services["sts"]
    assert sts["LastAuthenticated"]
    assert sts["LastAuthenticatedEntity"] == user["Arn"]
    assert sts["LastAuthenticatedRegion"] == REGION
    assert sts["TotalAuthenticatedEntities"] == 1
    assert "LastAuthenticated" not in services["iam"]
    assert services["iam"]["TotalAuthenticatedEntities"] == 0

    # boto3 reads the same report, and its entities.
    job = iam.generate_service_last_accessed_details(Arn=user["Arn"], Granularity="ACTION_LEVEL")[
        "JobId"
    ]
    out = iam.get_service_last_accessed_details(JobId=job)
    assert out["JobType"] == "ACTION_LEVEL"
    by_ns = {s["ServiceNamespace"]: s for s in out["ServicesLastAccessed"]}
    assert [a["ActionName"] for a in by_ns["iam"]["TrackedActionsLastAccessed"]] == ["GetUser"]
    entities = iam.get_service_last_accessed_details_with_entities(
        JobId=job, ServiceNamespace="sts"
    )["EntityDetailsList"]
    assert entities[0]["EntityInfo"]["Arn"] == user["Arn"]
    assert entities[0]["LastAuthenticated"] == sts_time(sts)

    granting = iam.list_policies_granting_service_access(
        Arn=user["Arn"], ServiceNamespaces=["sts", "s3"]
    )["PoliciesGrantingServiceAccess"]
    assert granting[0]["Policies"] == [
        {
            "PolicyName": "sts-iam",
            "PolicyType": "INLINE",
            "EntityType": "USER",
            "EntityName": "advised",
        }
    ]
    assert granting[1] == {"ServiceNamespace": "s3", "Policies": []}

    with pytest.raises(ClientError) as e:
        iam.get_service_last_accessed_details(JobId="00000000-0000-4000-8000-000000000000")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.generate_service_last_accessed_details(Arn="arn:aws:iam::123456789012:user/ghost")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"

    # The advised user may call sts and iam:GetUser, not the advisor.
    r = server.aws(
        "iam",
        "generate-service-last-accessed-details",
        "--arn",
        user["Arn"],
        creds=key,
        check=False,
    )
    assert r.returncode != 0 and "AccessDenied" in r.stderr
    with pytest.raises(ClientError) as e:
        server.client("iam", creds=key).get_service_last_accessed_details(JobId=job)
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def sts_time(service: dict[str, Any]) -> Any:
    """The CLI prints ISO text; boto3 parses it: compare as datetimes."""
    from datetime import datetime

    return datetime.fromisoformat(service["LastAuthenticated"].replace("Z", "+00:00"))


def test_sts_preferences(server: Server) -> None:
    iam = server.client("iam")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    r = server.aws(
        "iam",
        "set-security-token-service-preferences",
        "--global-endpoint-token-version",
        "v2Token",
    )
    assert r.stdout.strip() == ""
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
