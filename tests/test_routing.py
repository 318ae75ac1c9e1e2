"""Routing: the credential scope's service picks the service and only signed
data picks the operation; an unsigned header never steers a request."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.inprocess import ENDPOINT, REGION, InProcess
from tests.signing import signed_headers

ORG_TARGET = "AWSOrganizationsV20161128"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def sign(
    rg: InProcess,
    service: str,
    body: bytes,
    headers: dict[str, str],
    *,
    unsigned: dict[str, str] | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers signed for ``service`` (botocore's signer), plus ``unsigned`` added after."""
    out = signed_headers(rg.creds(), service, REGION, ENDPOINT + "/", body, headers)
    out.update(unsigned or {})
    return out, body


def no_organization(rg: InProcess) -> bool:
    with pytest.raises(ClientError) as e:
        rg.client("organizations").describe_organization()
    return e.value.response["Error"]["Code"] == "AWSOrganizationsNotInUseException"


def test_presigned_sts_url_with_an_added_target_header_stays_sts(rg: InProcess) -> None:
    url = rg.client("sts").generate_presigned_url(
        "get_caller_identity", Params={}, HttpMethod="GET"
    )
    for target in ("CreateOrganization", "ListAccounts"):
        r = rg.request("GET", url, {"X-Amz-Target": f"{ORG_TARGET}.{target}"})
        assert r.status == 200, r.text
        assert "<GetCallerIdentityResponse" in r.text
    assert no_organization(rg)


def test_sts_signature_with_a_signed_target_header_is_still_sts(rg: InProcess) -> None:
    # Signed or not, X-Amz-Target means nothing to a Query service: with no
    # Action there is no operation.
    headers, body = sign(
        rg,
        "sts",
        b"{}",
        {"X-Amz-Target": f"{ORG_TARGET}.CreateOrganization", "Content-Type": FORM},
    )
    r = rg.request("POST", ENDPOINT + "/", headers, body)
    assert r.status == 400 and "<Code>MissingAction</Code>" in r.text
    assert no_organization(rg)


def test_organizations_needs_a_signed_target(rg: InProcess) -> None:
    ok, body = sign(
        rg,
        "organizations",
        b"{}",
        {"X-Amz-Target": f"{ORG_TARGET}.ListRoots", "Content-Type": "application/x-amz-json-1.1"},
    )
    # The signature is good, but the operation it names was swapped after signing.
    ok["X-Amz-Target"] = f"{ORG_TARGET}.CreateOrganization"
    r = rg.request("POST", ENDPOINT + "/", ok, body)
    assert r.status == 403 and "SignatureDoesNotMatch" in r.text
    # Target not signed at all.
    headers, body = sign(
        rg,
        "organizations",
        b"{}",
        {"Content-Type": "application/x-amz-json-1.1"},
        unsigned={"X-Amz-Target": f"{ORG_TARGET}.CreateOrganization"},
    )
    r = rg.request("POST", ENDPOINT + "/", headers, body)
    assert r.status == 400, r.text
    doc = json.loads(r.body)
    assert doc["__type"] == "IncompleteSignature"
    assert "X-Amz-Target" in doc["message"]
    assert no_organization(rg)


def test_organizations_signature_cannot_run_a_query_action(rg: InProcess) -> None:
    headers, body = sign(
        rg,
        "organizations",
        b"Action=CreateUser&Version=2010-05-08&UserName=mallory",
        {"Content-Type": FORM},
    )
    r = rg.request("POST", ENDPOINT + "/", headers, body)
    assert r.status == 400, r.text
    assert json.loads(r.body)["__type"] == "UnknownOperationException"
    # Nor a target of another service's prefix.
    headers, body = sign(
        rg,
        "organizations",
        b"{}",
        {
            "X-Amz-Target": "AWSSecurityTokenServiceV20110615.GetCallerIdentity",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    r = rg.request("POST", ENDPOINT + "/", headers, body)
    assert r.status == 400 and json.loads(r.body)["__type"] == "UnknownOperationException"
    with pytest.raises(ClientError) as e:
        rg.client("iam").get_user(UserName="mallory")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_iam_and_sts_signatures_run_only_their_own_service(rg: InProcess) -> None:
    for service, body in (
        ("iam", b"Action=GetCallerIdentity&Version=2011-06-15"),
        ("sts", b"Action=CreateUser&Version=2010-05-08&UserName=mallory"),
    ):
        headers, body = sign(rg, service, body, {"Content-Type": FORM})
        r = rg.request("POST", ENDPOINT + "/", headers, body)
        assert r.status == 400 and "<Code>InvalidAction</Code>" in r.text, r.text


def test_unsigned_requests_are_not_steered_by_headers(rg: InProcess) -> None:
    # An unsigned request naming Organizations in a header is an unsigned STS
    # request, and only the two federation actions may be unsigned.
    for target in ("CreateOrganization", "ListAccounts"):
        r = rg.request(
            "POST",
            ENDPOINT + "/",
            {
                "X-Amz-Target": f"{ORG_TARGET}.{target}",
                "Content-Type": "application/x-amz-json-1.1",
            },
            b"{}",
        )
        assert r.status == 403 and "<Code>MissingAuthenticationToken</Code>" in r.text, r.text
    # The federation actions still route to STS with a stray header.
    r = rg.request(
        "POST",
        ENDPOINT + "/",
        {"X-Amz-Target": f"{ORG_TARGET}.ListAccounts", "Content-Type": FORM},
        b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
        b"&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fnone"
        b"&RoleSessionName=ss&WebIdentityToken=abcdefghijklmnopqrstuvwxyz",
    )
    assert r.status == 400 and "<Code>InvalidIdentityToken</Code>" in r.text, r.text
    assert no_organization(rg)


# -- Version -------------------------------------------------------------------


def test_unknown_version_runs_nothing(rg: InProcess) -> None:
    headers, body = sign(
        rg, "iam", b"Action=CreateUser&Version=1999-01-01&UserName=ghost", {"Content-Type": FORM}
    )
    r = rg.request("POST", ENDPOINT + "/", headers, body)
    assert r.status == 400, r.text
    assert "<Code>InvalidAction</Code>" in r.text
    assert "Could not find operation CreateUser for version 1999-01-01" in r.text
    # STS's version on an IAM-scoped request is just as unknown to IAM.
    headers, body = sign(
        rg, "iam", b"Action=CreateUser&Version=2011-06-15&UserName=ghost", {"Content-Type": FORM}
    )
    r = rg.request("POST", ENDPOINT + "/", headers, body)
    assert "Could not find operation CreateUser for version 2011-06-15" in r.text
    with pytest.raises(ClientError) as e:
        rg.client("iam").get_user(UserName="ghost")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_missing_version(rg: InProcess) -> None:
    headers, body = sign(rg, "iam", b"Action=CreateUser&UserName=ghost", {"Content-Type": FORM})
    r = rg.request("POST", ENDPOINT + "/", headers, body)
    assert r.status == 400, r.text
    assert "Could not find operation CreateUser for version NO_VERSION_SPECIFIED" in r.text
    headers, body = sign(rg, "sts", b"Action=GetCallerIdentity", {"Content-Type": FORM})
    r = rg.request("POST", ENDPOINT + "/", headers, body)
    assert r.status == 400 and "<Code>InvalidAction</Code>" in r.text, r.text
    with pytest.raises(ClientError):
        rg.client("iam").get_user(UserName="ghost")


def test_unsigned_federation_with_a_wrong_version(rg: InProcess) -> None:
    r = rg.request(
        "POST",
        ENDPOINT + "/",
        {"Content-Type": FORM},
        b"Action=AssumeRoleWithWebIdentity&Version=2010-05-08"
        b"&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fnone"
        b"&RoleSessionName=ss&WebIdentityToken=abcdefghijklmnopqrstuvwxyz",
    )
    assert r.status == 400, r.text
    assert "Could not find operation AssumeRoleWithWebIdentity for version 2010-05-08" in r.text


def test_the_right_versions_still_work(rg: InProcess) -> None:
    assert rg.client("sts").get_caller_identity()["Account"] == "123456789012"
    rg.client("iam").create_user(UserName="real")
    assert rg.client("organizations").create_organization()["Organization"]["Id"]
