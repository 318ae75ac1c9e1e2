"""CloudTrail records built from a request: shape, identities, no secrets."""

from __future__ import annotations

import pickle

from rolegate.audit.events import build_events, expand, record
from rolegate.context import CallContext, Principal
from tests.audit_context import NOW, USER, call_context


def ctx(
    principal: Principal | None = USER, action: str = "AssumeRole", service: str = "sts"
) -> CallContext:
    return call_context(service, action, principal)


def test_record_shape_and_secrets_dropped() -> None:
    c = ctx()
    params = {
        "RoleArn": "arn:aws:iam::111122223333:role/r",
        "RoleSessionName": "s",
        "TokenCode": "123456",
        "SerialNumber": "arn:aws:iam::111122223333:mfa/alice",
    }
    c.audit_response = {"credentials": {"accessKeyId": "ASIA...", "sessionToken": "tok"}}
    [ev] = build_events(c, params=params, error=None, event_time=NOW)
    assert ev["eventSource"] == "sts.amazonaws.com" and ev["eventName"] == "AssumeRole"
    assert ev["eventTime"] == "2026-11-28T01:02:03Z" and ev["recipientAccountId"] == "111122223333"
    assert ev["requestParameters"] == {
        "roleArn": "arn:aws:iam::111122223333:role/r",
        "roleSessionName": "s",
        "serialNumber": "arn:aws:iam::111122223333:mfa/alice",
    }
    assert ev["userIdentity"] == {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEEXAMPLE000",
        "arn": "arn:aws:iam::111122223333:user/alice",
        "accountId": "111122223333",
        "accessKeyId": "AKIAEXAMPLEEXAMPLE00",
        "userName": "alice",
    }
    assert (
        ev["readOnly"] is False
        and ev["eventType"] == "AwsApiCall"
        and ev["managementEvent"] is True
    )


def test_failure_has_error_and_no_response() -> None:
    c = ctx(action="ListUsers", service="iam")
    c.audit_response = {"x": 1}
    [ev] = build_events(c, params={}, error=("AccessDenied", "no"), event_time=NOW)
    assert ev["errorCode"] == "AccessDenied" and ev["errorMessage"] == "no"
    assert (
        ev["responseElements"] is None
        and ev["readOnly"] is True
        and ev["requestParameters"] is None
    )


def test_cross_account_one_record_per_account_with_shared_id() -> None:
    c = ctx()
    c.audit_extra["recipient_accounts"] = ["111122223333", "444455556666"]
    evs = build_events(
        c, params={"RoleArn": "arn:aws:iam::444455556666:role/r"}, error=None, event_time=NOW
    )
    assert [e["recipientAccountId"] for e in evs] == ["111122223333", "444455556666"]
    assert evs[0]["sharedEventID"] == evs[1]["sharedEventID"]
    assert evs[0]["eventID"] != evs[1]["eventID"] and evs[0]["requestID"] == evs[1]["requestID"]
    assert evs[1]["userIdentity"] == {
        "type": "AWSAccount",
        "principalId": "AIDAEXAMPLEEXAMPLE000",
        "accountId": "111122223333",
    }


def test_unauthenticated_request_is_recorded() -> None:
    [ev] = build_events(
        ctx(principal=None, action="ListUsers", service="iam"),
        params=None,
        error=("MissingAuthenticationToken", "Request is missing Authentication Token"),
        event_time=NOW,
    )
    assert (
        ev["userIdentity"] == {"type": "Unknown"}
        and ev["errorCode"] == "MissingAuthenticationToken"
    )


def test_federated_session_names_its_provider() -> None:
    from rolegate.tokens import SessionClaims

    claims = SessionClaims(
        access_key_id="ASIAEXAMPLEEXAMPLE00",
        secret_access_key="s" * 40,
        kind="assumed-role",
        account_id="111122223333",
        arn="arn:aws:sts::111122223333:assumed-role/ci/run1",
        user_id="AROAEXAMPLEEXAMPLE000:run1",
        issued_at=1_700_000_000,
        expires_at=1_700_003_600,
        role_arn="arn:aws:iam::111122223333:role/ci",
        role_id="AROAEXAMPLEEXAMPLE000",
        role_name="ci",
        session_name="run1",
        federation={
            "type": "saml",
            "provider": "arn:aws:iam::111122223333:saml-provider/corp",
            "context_keys": {"saml:sub": "alice", "saml:sub_type": "persistent"},
        },
    )
    p = Principal(
        kind="assumed-role",
        arn=claims.arn,
        account_id="111122223333",
        user_id=claims.user_id,
        name="ci",
        access_key_id=claims.access_key_id,
        session=claims,
    )
    [ev] = build_events(
        ctx(principal=p, action="ListUsers", service="iam"), params=None, error=None, event_time=NOW
    )
    # What the worker hands to the audit child: the session's facts, never
    # its secret, and the same events once built on the other side.
    rec = record(
        ctx(principal=p, action="ListUsers", service="iam"), params=None, error=None, event_time=NOW
    )
    blob = pickle.dumps(rec)
    assert claims.secret_access_key.encode() not in blob
    [again] = expand(pickle.loads(blob))
    assert {k: v for k, v in again.items() if k != "eventID"} == {
        k: v for k, v in ev.items() if k != "eventID"
    }
    sc = ev["userIdentity"]["sessionContext"]
    assert ev["userIdentity"]["type"] == "AssumedRole"
    assert sc["sessionIssuer"]["arn"] == "arn:aws:iam::111122223333:role/ci"
    assert sc["webIdFederationData"] == {
        "federatedProvider": "arn:aws:iam::111122223333:saml-provider/corp",
        "attributes": {"saml:sub": "alice", "saml:sub_type": "persistent"},
    }


def test_the_record_leaves_secret_parameters_behind() -> None:
    c = ctx(action="ChangePassword", service="iam")
    params = {"OldPassword": "hunter2-old", "NewPassword": "hunter2-new"}
    rec = record(c, params=params, error=None, event_time=NOW)
    blob = pickle.dumps(rec)
    assert b"hunter2" not in blob
    assert rec.params == {}
    [ev] = expand(pickle.loads(blob))
    assert ev["requestParameters"] is None
    assert ev["eventTime"] == "2026-11-28T01:02:03Z"
    assert ev["userIdentity"]["userName"] == "alice"


def test_cross_account_records_expand_alike() -> None:
    c = ctx()
    c.audit_extra["recipient_accounts"] = ["111122223333", "444455556666"]
    a = build_events(c, params={"RoleArn": "x"}, error=None, event_time=NOW)
    b = expand(
        pickle.loads(pickle.dumps(record(c, params={"RoleArn": "x"}, error=None, event_time=NOW)))
    )
    strip = ("eventID", "sharedEventID")
    assert [{k: v for k, v in e.items() if k not in strip} for e in a] == [
        {k: v for k, v in e.items() if k not in strip} for e in b
    ]
    assert b[1]["userIdentity"] == {
        "type": "AWSAccount",
        "principalId": "AIDAEXAMPLEEXAMPLE000",
        "accountId": "111122223333",
    }
