"""Clients of services rolegate does not serve, against a real server: boto3
and the AWS CLI print what the endpoint serves."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server

SERVED = "this endpoint serves sts, iam and organizations"


def test_boto3_s3_and_ec2(server: Server) -> None:
    for service, call in (
        ("s3", lambda c: c.list_buckets()),
        ("ec2", lambda c: c.describe_instances()),
    ):
        with pytest.raises(ClientError) as e:
            call(server.client(service))
        err = e.value.response["Error"]
        assert err["Code"] == "NotImplemented"
        assert err["Message"] == f"{SERVED}; requests signed for {service} are not served here"


@pytest.mark.parametrize(
    ("service", "command", "operation"),
    [("s3", "ls", "ListBuckets"), ("ec2", "describe-instances", "DescribeInstances")],
)
def test_aws_cli(server: Server, service: str, command: str, operation: str) -> None:
    r = server.aws(service, command, check=False)
    assert r.returncode != 0
    assert (
        f"An error occurred (NotImplemented) when calling the {operation} operation: "
        f"{SERVED}; requests signed for {service} are not served here"
    ) in r.stderr, r.stderr


def test_aws_cli_still_serves_sts(server: Server) -> None:
    # What is served still works through the same CLI set-up.
    assert '"Account": "123456789012"' in server.aws("sts", "get-caller-identity").stdout
