"""Requests signed for a service this endpoint does not serve get an error
their own SDK parser shows, naming what is served."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.inprocess import InProcess, in_process

SERVED = "this endpoint serves sts, iam and organizations"


@pytest.fixture(scope="module")
def rg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process(tmp_path_factory.mktemp("not-served")) as world:
        yield world


CALLS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("s3", "s3", lambda c: c.list_buckets()),  # REST-XML
    ("s3", "s3", lambda c: c.get_object(Bucket="b", Key="k")),
    ("ec2", "ec2", lambda c: c.describe_instances()),  # EC2
    ("sns", "sns", lambda c: c.list_topics()),  # Query
    ("dynamodb", "dynamodb", lambda c: c.list_tables()),  # JSON 1.0
    ("lambda", "lambda", lambda c: c.list_functions()),  # REST-JSON
    ("route53", "route53", lambda c: c.list_hosted_zones()),  # REST-XML, <ErrorResponse>
    ("acm-pca", "acm-pca", lambda c: c.list_certificate_authorities()),  # RPC v2 CBOR
]


@pytest.mark.parametrize(("service", "signing_name", "call"), CALLS, ids=[c[0] for c in CALLS])
def test_sdk_shows_what_is_served(
    rg: InProcess, service: str, signing_name: str, call: Callable[[Any], Any]
) -> None:
    with pytest.raises(ClientError) as e:
        call(rg.client(service))
    err = e.value.response["Error"]
    assert err["Code"] == "NotImplemented", e.value.response
    assert err["Message"] == (
        f"{SERVED}; requests signed for {signing_name} are not served here"
    ), e.value.response
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "An error occurred (NotImplemented) when calling the" in str(e.value)


def test_served_services_are_unaffected(rg: InProcess) -> None:
    assert rg.client("sts").get_caller_identity()["Account"] == "123456789012"
