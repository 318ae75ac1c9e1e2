"""A lone UTF-16 surrogate from a client (the JSON escape ``\\ud800``) is the
client's error wherever JSON is read, and never costs the audit trail.

It parses as JSON (``json.loads`` returns a one-code-point str) and broke
later, wherever the string was first encoded as UTF-8: the store lookup of
a web identity token's issuer (unsigned 500), a session policy packed into
a token (500), and the audit write of a 400's own event, which failed the
whole batch and so dropped the events of other callers' requests.
"""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from rolegate import jsonsafe
from rolegate.policy import jsontext
from tests.inprocess import ENDPOINT, REGION, InProcess
from tests.signing import signed_headers

LONE = "\\ud800"  # the six characters of the JSON escape
POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow",'
    '"Action":"s3:GetObject","Resource":"arn:aws:s3:::' + LONE + '"}]}'
)
POLICY_KEY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
    '"Resource":"*","Condition":{"StringEquals":{"\\udc00":"a"}}}]}'
)
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
    '{"AWS":"123456789012"},"Action":"sts:AssumeRole","Condition":'
    '{"StringEquals":{"aws:username":"' + LONE + '"}}}]}'
)
TRUST_OK = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
    '{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}'
)


# -- jsonsafe ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '"\\ud800"',
        '{"a":"x\\udfffy"}',
        '{"\\ud800":1}',
        '[[[{"a":["ok","\\uDC00"]}]]]',
        '{"a":"\\ude00\\ud83d"}',  # a pair in the wrong order is two lone ones
    ],
)
def test_a_lone_surrogate_escape_is_a_value_error(text: str) -> None:
    for form in (text, text.encode()):
        with pytest.raises(jsonsafe.JsonLoneSurrogate) as info:
            jsonsafe.loads(form)
        assert isinstance(info.value, ValueError)
        with pytest.raises(jsontext.PolicyJsonLoneSurrogate):
            jsontext.loads(form)


def test_surrogates_that_are_no_escape_are_refused_too() -> None:
    # json.loads decodes bytes with surrogatepass: UTF-8's encoding of
    # U+D800 (not UTF-8 at all) becomes the same lone surrogate.
    with pytest.raises(jsonsafe.JsonLoneSurrogate):
        jsonsafe.loads(b'{"a":"\xed\xa0\x80"}')
    with pytest.raises(jsonsafe.JsonLoneSurrogate):
        jsonsafe.loads('{"a":"\ud800"}')  # a str holding one (surrogateescape'd input)
    with pytest.raises(jsonsafe.JsonLoneSurrogate):
        jsonsafe.loads('{"a":"\\ud800"}'.encode("utf-16"))


def test_a_surrogate_pair_and_other_escapes_still_parse() -> None:
    assert jsonsafe.loads('{"a":"\\ud83d\\ude00","\\u00e9":"\\u2603"}') == {
        "a": "\U0001f600",
        "é": "☃",
    }
    assert jsonsafe.loads(b'{"a":"\xf0\x9f\x98\x80"}') == {"a": "\U0001f600"}


# -- over the wire ----------------------------------------------------------


def _b64u(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_web_identity_token_with_a_lone_surrogate_is_invalid_not_500(rg: InProcess) -> None:
    token = (
        _b64u('{"alg":"RS256","kid":"k"}')
        + "."
        + _b64u('{"iss":"https://a' + LONE + '"}')
        + ".c2ln"
    )
    body = (
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
        "&RoleArn=arn:aws:iam::123456789012:role/Kitchen&RoleSessionName=w1"
        "&WebIdentityToken=" + token
    ).encode()
    r = rg.request(
        "POST", ENDPOINT + "/", {"Content-Type": "application/x-www-form-urlencoded"}, body
    )
    assert r.status == 400, r.text
    assert "<Code>InvalidIdentityToken</Code>" in r.text


def _code(call: object, **kw: object) -> str:
    with pytest.raises(ClientError) as e:
        call(**kw)  # type: ignore[operator]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(e.value.response["Error"]["Code"])


def test_policies_with_a_lone_surrogate_are_malformed(rg: InProcess) -> None:
    iam = rg.client("iam")
    sts = rg.client("sts")
    iam.create_role(RoleName="Kitchen", AssumeRolePolicyDocument=TRUST_OK)
    role = "arn:aws:iam::123456789012:role/Kitchen"
    for doc in (POLICY, POLICY_KEY):
        assert _code(iam.create_policy, PolicyName="sur", PolicyDocument=doc) == (
            "MalformedPolicyDocument"
        )
        assert _code(
            iam.put_role_policy, RoleName="Kitchen", PolicyName="sur", PolicyDocument=doc
        ) == ("MalformedPolicyDocument")
        assert _code(sts.assume_role, RoleArn=role, RoleSessionName="sur", Policy=doc) == (
            "MalformedPolicyDocument"
        )
        assert _code(sts.get_federation_token, Name="sur", Policy=doc) == (
            "MalformedPolicyDocument"
        )
    assert _code(iam.create_role, RoleName="sur2", AssumeRolePolicyDocument=TRUST) == (
        "MalformedPolicyDocument"
    )
    for doc in (POLICY, POLICY_KEY):
        # A 4xx of its own (AWS: MalformedPolicyDocument), never a 500.
        assert _code(
            iam.simulate_custom_policy, PolicyInputList=[doc], ActionNames=["s3:GetObject"]
        ) in ("MalformedPolicyDocument", "InvalidInput")
    with pytest.raises(ClientError) as e:
        iam.create_policy(PolicyName="sur", PolicyDocument=POLICY)
    assert "Syntax errors in policy." in e.value.response["Error"]["Message"]
    # Nothing was stored.
    assert not iam.list_policies(Scope="Local")["Policies"]
    assert not iam.list_role_policies(RoleName="Kitchen")["PolicyNames"]


def _signed_json(rg: InProcess, target: str, body: bytes) -> dict[str, str]:
    return signed_headers(
        rg.creds(),
        "organizations",
        REGION,
        ENDPOINT + "/",
        body,
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSOrganizationsV20161128.{target}",
        },
    )


def test_json_body_with_a_lone_surrogate_is_refused_and_the_audit_keeps_everything(
    rg: InProcess,
) -> None:
    iam = rg.client("iam")
    iam.create_user(UserName="before")
    body = b'{"NextToken":"\\ud800"}'
    r = rg.request("POST", ENDPOINT + "/", _signed_json(rg, "ListAccounts", body), body)
    assert r.status == 400, r.text
    for i in range(3):
        iam.create_user(UserName=f"after{i}")
    audit = rg.app.state.audit  # type: ignore[union-attr]
    audit.flush(timeout=30)
    names = [
        (e["eventName"], (e.get("requestParameters") or {}).get("userName"))
        for _, e in rg.store.query_events(limit=1000)
    ]
    assert ("ListAccounts", None) in names
    for user in ("before", "after0", "after1", "after2"):
        assert ("CreateUser", user) in names, names
    # The body itself is refused as it is parsed: not JSON text.
    assert json.loads(r.body)["__type"].endswith("SerializationException"), r.text
