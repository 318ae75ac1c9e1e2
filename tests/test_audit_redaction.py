"""No secret reaches the audit: every modelled operation with a member marked
``sensitive`` in botocore's models, in its input or its output, at any depth.

The test walks the models itself (not rolegate.audit.redact's plans): it puts
a distinct secret at every sensitive path of each operation's request and
response, builds the request's AuditRecord (what crosses the pipe to the
audit child), stores its events and reads them back.
"""

from __future__ import annotations

import itertools
import json
import pickle
from pathlib import Path
from typing import Any

import botocore.loaders
import pytest
from botocore.model import ServiceModel, Shape

from rolegate.audit.events import expand, record
from rolegate.audit.redact import MARKER
from rolegate.context import CallContext
from tests.audit_context import NOW, call_context
from tests.conftest import open_test_store

_counter = itertools.count()


def _models() -> dict[str, ServiceModel]:
    loader = botocore.loaders.create_loader()
    return {
        svc: ServiceModel(loader.load_service_model(svc, "service-2"), service_name=svc)
        for svc in ("sts", "iam", "organizations")
    }


def _fill(shape: Shape, secrets: list[str], camel: bool, seen: frozenset[str]) -> Any:
    """A value of ``shape`` holding a fresh secret at every sensitive path,
    or None when no sensitive path lies below it."""
    if shape.metadata.get("sensitive"):
        secret = f"S3cr3t{next(_counter):04d}x"
        secrets.append(secret)
        return secret.encode() if shape.type_name == "blob" else secret
    if shape.name in seen:
        return None
    seen = seen | {shape.name}
    if shape.type_name == "structure":
        out = {}
        for name, member in shape.members.items():
            v = _fill(member, secrets, camel, seen)
            if v is not None:
                out[name[:1].lower() + name[1:] if camel else name] = v
        if out:
            out["Plain" if not camel else "plain"] = "visible-value"
        return out or None
    if shape.type_name == "list":
        v = _fill(shape.member, secrets, camel, seen)
        return None if v is None else [v, v]
    if shape.type_name == "map":
        if shape.key.metadata.get("sensitive"):
            k = f"S3cr3tKey{next(_counter):04d}x"
            secrets.append(k)
            return {k: "v"}
        v = _fill(shape.value, secrets, camel, seen)
        return None if v is None else {"k": v}
    return None


def _cases() -> list[tuple[str, str]]:
    out = []
    for svc, model in _models().items():
        for op in sorted(model.operation_names):
            om = model.operation_model(op)
            found: list[str] = []
            for shape, camel in ((om.input_shape, False), (om.output_shape, True)):
                if shape is not None:
                    _fill(shape, found, camel, frozenset())
            if found:
                out.append((svc, op))
    return out


CASES = _cases()
MODELS = _models()


def test_the_walk_finds_the_known_secrets() -> None:
    assert ("iam", "CreateSAMLProvider") in CASES
    assert ("sts", "AssumeRoleWithSAML") in CASES
    assert ("organizations", "CreateAccount") in CASES
    assert len(CASES) > 30


@pytest.mark.parametrize("denied", [False, True], ids=["allowed", "failed"])
def test_no_sensitive_value_reaches_a_stored_event(tmp_path: Path, denied: bool) -> None:
    store = open_test_store(tmp_path)
    try:
        for svc, op in CASES:
            om = MODELS[svc].operation_model(op)
            secrets: list[str] = []
            params = _fill(om.input_shape, secrets, False, frozenset()) if om.input_shape else None
            response = (
                _fill(om.output_shape, secrets, True, frozenset()) if om.output_shape else None
            )
            ctx = _ctx(svc, op, request_id=f"req-{svc}-{op}")
            ctx.audit_response = response
            # A handler that echoes what it refused, in the message and resources.
            echo = " ".join(secrets)
            ctx.audit_resources = [{"ARN": f"arn:aws:iam::111122223333:x/{echo}", "type": "T"}]
            error = ("ValidationError", f"bad input: {echo}") if denied else None
            rec = record(ctx, params=params, error=error, event_time=NOW)
            crossing = pickle.dumps(rec)
            events = expand(rec)
            store.append_events(events)
            for s in secrets:
                assert s.encode() not in crossing, (svc, op, s)
            stored = json.dumps([ev for _, ev in store.query_events(event_name=op)])
            for s in secrets:
                assert s not in stored, (svc, op, s)
            if params:
                assert "visible-value" in stored, (svc, op)
    finally:
        store.close()


def _ctx(service: str, action: str, request_id: str = "r") -> CallContext:
    return call_context(
        service, action, request_id=request_id, region="us-east-1", user_agent="test"
    )


def test_saml_provider_private_key_left_out_even_when_refused() -> None:
    params = {"Name": "idp", "SAMLMetadataDocument": "<md/>", "AddPrivateKey": "-----BEGIN KEY"}
    for error in (None, ("InvalidInput", "Invalid private key -----BEGIN KEY")):
        rec = record(_ctx("iam", "CreateSAMLProvider"), params=params, error=error, event_time=NOW)
        [ev] = expand(rec)
        assert ev["requestParameters"] == {"name": "idp", "sAMLMetadataDocument": "<md/>"}
        assert "BEGIN KEY" not in json.dumps(ev)


def test_organizations_account_email_hidden_as_cloudtrail_does() -> None:
    params = {"Email": "owner@example.com", "AccountName": "prod", "RoleName": "R"}
    [ev] = expand(
        record(_ctx("organizations", "CreateAccount"), params=params, error=None, event_time=NOW)
    )
    assert ev["requestParameters"] == {"email": MARKER, "accountName": MARKER, "roleName": "R"}


def test_sts_and_secret_access_keys_are_left_out_and_session_token_kept() -> None:
    c = _ctx("sts", "AssumeRoleWithWebIdentity")
    c.audit_response = {
        "credentials": {"accessKeyId": "ASIA1", "sessionToken": "tok", "secretAccessKey": "sk"}
    }
    params = {"RoleArn": "arn:aws:iam::1:role/r", "WebIdentityToken": "eyJ.jwt"}
    [ev] = expand(record(c, params=params, error=None, event_time=NOW))
    assert ev["requestParameters"] == {"roleArn": "arn:aws:iam::1:role/r"}
    assert ev["responseElements"] == {
        "credentials": {"accessKeyId": "ASIA1", "sessionToken": "tok"}
    }
    c = _ctx("iam", "CreateAccessKey")
    c.audit_response = {"accessKey": {"accessKeyId": "AKIA1", "secretAccessKey": "sk2"}}
    [ev] = expand(record(c, params={"UserName": "u"}, error=None, event_time=NOW))
    assert ev["responseElements"] == {"accessKey": {"accessKeyId": "AKIA1"}}


def test_unmodelled_one_time_codes_still_left_out() -> None:
    params = {"RoleArn": "arn:aws:iam::1:role/r", "TokenCode": "123456", "SerialNumber": "m"}
    [ev] = expand(record(_ctx("sts", "AssumeRole"), params=params, error=None, event_time=NOW))
    assert "tokenCode" not in ev["requestParameters"]
