"""The crashes and leniencies fixed for the hardening issue, through the
whole pipeline (signing, routing, decoding, handler, encoding) in process."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.credentials import Credentials

from tests.fuzz import driver

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[driver.InProcess]:
    t = driver.InProcess(Path(tmp_path_factory.mktemp("wire")))
    try:
        yield t
    finally:
        t.close()


@pytest.fixture(scope="module")
def session(target: driver.InProcess) -> Credentials:
    creds, _ = driver.setup(target)
    assert creds is not None
    target.problems()
    return creds


def test_altered_token_spelling_is_invalid_client_token_id(
    target: driver.InProcess, session: Credentials
) -> None:
    token = session.token or ""
    assert driver.call(target, "sts", "GetCallerIdentity", session=session)[0] == 200
    mask = {2: 0b1111, 3: 0b11}.get(len(token) % 4)
    assert mask, "this token length leaves no unused bits; the unit tests cover both cases"
    last = ALPHABET.index(token[-1])
    altered = token[:-1] + ALPHABET[last ^ 1]
    assert base64.urlsafe_b64decode(altered + "==") == base64.urlsafe_b64decode(token + "==")
    creds = Credentials(session.access_key, session.secret_key, altered)
    status, out = driver.call(target, "sts", "GetCallerIdentity", session=creds)
    assert status == 403
    assert "<Code>InvalidClientTokenId</Code>" in out
    assert not target.problems()


def test_simulate_principal_policy_exclusion_list_over_query(
    target: driver.InProcess, session: Credentials
) -> None:
    status, out = driver.call(
        target, "iam", "SimulatePrincipalPolicy",
        PolicySourceArn="arn:aws:iam::123456789012:user/admin",
        **{"ActionNames.member.1": "iam:CreateUser",
           "PolicyExclusionList.member.1.PolicyType": "aws-managed",
           "PolicyExclusionList.member.2.PolicyArn": "arn:aws:iam::aws:policy/Admin*",
           "PolicyExclusionList.member.3.InlinePolicyIdentifier.PolicyName": "p",
           "PolicyExclusionList.member.3.InlinePolicyIdentifier.AttachmentType": "user",
           "PolicyExclusionList.member.3.InlinePolicyIdentifier.AttachmentName": "admin"},
    )  # fmt: skip
    assert status == 200, out
    assert "<EvalDecision>implicitDeny</EvalDecision>" in out
    status, out = driver.call(
        target, "iam", "SimulatePrincipalPolicy",
        PolicySourceArn="arn:aws:iam::123456789012:user/admin",
        **{"ActionNames.member.1": "iam:CreateUser",
           "PolicyExclusionList.member.1.PolicyArn": "arn:aws:iam::*:policy/AdministratorAccess"},
    )  # fmt: skip
    assert status == 400 and "<Code>InvalidInput</Code>" in out
    assert not target.problems()


def test_deep_next_token_over_json(target: driver.InProcess, session: Credentials) -> None:
    deep = base64.urlsafe_b64encode(("[" * 5000 + "]" * 5000).encode()).decode()
    status, out = driver.call(target, "organizations", "ListAccounts", NextToken=deep)
    assert status == 400, out
    assert json.loads(out)["__type"] == "InvalidInputException"
    assert not target.problems()


def test_deep_web_identity_token_unsigned(target: driver.InProcess, session: Credentials) -> None:
    def seg(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    payload = seg('{"iss":' + '{"a":' * 2000 + "1" + "}" * 2000 + "}")
    header = seg('{"alg":"RS256"}')
    token = f"{header}.{payload}.{seg('sig')}"
    body = (
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleSessionName=fz"
        "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ffz-role&WebIdentityToken=" + token
    ).encode()
    headers = [("Host", "127.0.0.1"), ("Content-Type", driver.QUERY_CTYPE)]
    status, out = target.send(headers, body)
    assert status == 400, out
    assert b"<Code>InvalidIdentityToken</Code>" in out
    assert not target.problems()
