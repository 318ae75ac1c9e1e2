"""rolegate.pipeline, one step at a time, then run() over stand-ins for the
store, the key ring and the audit writer (no database, no HTTP)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from rolegate import pipeline, protocol, tokens
from rolegate.appstate import AppState, Settings
from rolegate.context import CallContext, Principal
from rolegate.errors import (
    AccessDenied,
    AwsError,
    ExpiredToken,
    IncompleteSignature,
    InternalFailure,
    InvalidAction,
    InvalidClientTokenId,
    MissingAction,
    MissingAuthenticationToken,
    SignatureDoesNotMatch,
    ValidationError,
)
from rolegate.routing import NotServed

ACCOUNT = "123456789012"
AKID, SECRET = "AKIAEXAMPLEEXAMPLE12", "s" * 40
USER_ID = "AIDAEXAMPLEEXAMPLE123"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
ORG_TARGET = "AWSOrganizationsV20161128"
GCI = b"Action=GetCallerIdentity&Version=2011-06-15"


# -- stand-ins ----------------------------------------------------------------


@dataclass
class KeyRec:
    secret: str = SECRET
    status: str = "Active"
    user_id: str = USER_ID
    account_id: str = ACCOUNT


@dataclass
class UserEntity:
    kind: str = "user"
    account_id: str = ACCOUNT
    arn: str = f"arn:aws:iam::{ACCOUNT}:user/alice"
    entity_id: str = USER_ID
    name: str = "alice"


@dataclass
class FakeStore:
    keys: dict[str, KeyRec] = field(default_factory=lambda: {AKID: KeyRec()})
    users: dict[str, UserEntity] = field(default_factory=lambda: {USER_ID: UserEntity()})
    used: list[tuple[str, str, str]] = field(default_factory=list)

    def lookup_access_key(self, akid: str) -> KeyRec | None:
        return self.keys.get(akid)

    def get_by_id(self, entity_id: str) -> UserEntity | None:
        return self.users.get(entity_id)

    def note_key_used(self, akid: str, when: datetime, service: str, region: str) -> None:
        self.used.append((akid, service, region))


class Recorder:
    def __init__(self) -> None:
        self.records: list[Any] = []

    def submit(self, record: Any) -> None:
        self.records.append(record)


class Keys:
    """pipeline.KeySource over a fixed ring; counts reloads."""

    def __init__(self, ring: tokens.KeyRing) -> None:
        self._ring, self.reloads = ring, 0

    def ring(self) -> tokens.KeyRing:
        return self._ring

    def reload_if_stale(self, min_age: float = 2.0) -> bool:
        self.reloads += 1
        return False


RING = tokens.KeyRing([("k1", b"\x01" * 32)])


def make_state(store: FakeStore | None = None) -> AppState:
    state = AppState(store=store or FakeStore(), key_ring=RING, settings=Settings(data_dir=None))
    state.audit = Recorder()
    state.extra["keys"] = Keys(RING)
    return state


def scope_for(
    body: bytes = b"",
    *,
    service: str | None = "sts",
    headers: dict[str, str] | None = None,
    unsigned: dict[str, str] | None = None,
    akid: str = AKID,
    secret: str = SECRET,
    token: str | None = None,
    region: str = "eu-west-1",
    query: str = "",
) -> dict[str, Any]:
    """An ASGI scope signed by botocore for ``service`` (None: unsigned)."""
    hdrs = {"Content-Type": FORM, **(headers or {})}
    url = "http://127.0.0.1:8080/" + (f"?{query}" if query else "")
    req = AWSRequest(method="POST", url=url, data=body, headers=hdrs)
    if service is not None:
        SigV4Auth(Credentials(akid, secret, token), service, region).add_auth(req)
    out = dict(req.headers.items())
    out.update(unsigned or {})
    return {
        "type": "http",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8080")]
        + [(k.lower().encode(), v.encode()) for k, v in out.items()],
        "client": ("10.0.0.7", 5555),
    }


def raw_of(scope: dict[str, Any], body: bytes, hops: int = 0) -> pipeline.RawRequest:
    return pipeline.read(scope, body, datetime.now(UTC), hops)


def session_principal(kind: str, *, mfa: bool = False) -> Principal:
    claims = tokens.SessionClaims(
        access_key_id="ASIAEXAMPLEEXAMPLE12",
        secret_access_key=SECRET,
        kind=kind,  # type: ignore[arg-type]
        account_id=ACCOUNT,
        arn=f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
        if kind == "federated-user"
        else f"arn:aws:iam::{ACCOUNT}:user/alice",
        user_id=USER_ID,
        issued_at=1,
        expires_at=2,
        user_arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
        user_name="alice",
        session_name="bob" if kind == "federated-user" else None,
        mfa_authenticated=mfa,
    )
    return pipeline.principal_from_claims(claims, claims.access_key_id)


# -- read -----------------------------------------------------------------------


def test_read_builds_one_request_and_names_its_origin() -> None:
    scope = scope_for(GCI, headers={"User-Agent": "ua/1"})
    raw = raw_of(scope, GCI)
    assert raw.http.method == "POST" and raw.http.path == "/" and raw.http.body == GCI
    assert raw.source_ip == "10.0.0.7" and raw.secure is False and raw.user_agent == "ua/1"
    assert len(raw.request_id) == 36
    # Without raw_path, the path is quoted as the client would have sent it.
    del scope["raw_path"]
    scope["path"] = "/a b"
    assert raw_of(scope, GCI).http.path == "/a%20b"


def test_read_believes_forwarded_headers_only_behind_trusted_proxies() -> None:
    fwd = {"X-Forwarded-For": "6.6.6.6, 1.2.3.4", "X-Forwarded-Proto": "https"}
    scope = scope_for(GCI, unsigned=fwd)
    assert raw_of(scope, GCI).source_ip == "10.0.0.7"
    one = raw_of(scope, GCI, hops=1)
    assert one.source_ip == "1.2.3.4" and one.secure is True
    assert raw_of(scope, GCI, hops=2).source_ip == "6.6.6.6"
    assert raw_of(scope, GCI, hops=3).source_ip == "10.0.0.7"  # chain too short
    assert pipeline.forwarded(["a,", " ,b"], 1) == "b"


# -- sign and parse -----------------------------------------------------------------


def test_sign_reads_the_service_from_the_credential_scope() -> None:
    assert pipeline.sign(raw_of(scope_for(GCI, service=None), GCI)) == (None, "sts")
    signed = pipeline.sign(raw_of(scope_for(GCI, service="iam"), GCI))
    assert signed.service == "iam" and signed.auth is not None
    assert signed.auth.access_key_id == AKID and signed.auth.region == "eu-west-1"
    with pytest.raises(NotServed):
        pipeline.sign(raw_of(scope_for(GCI, service="s3"), GCI))
    with pytest.raises(IncompleteSignature):
        pipeline.sign(raw_of(scope_for(GCI, service=None, unsigned={"Authorization": "AWS4"}), GCI))


def test_parse_reads_query_parameters_first_occurrence_wins() -> None:
    body = b"Action=GetCallerIdentity&Version=2011-06-15&Action=AssumeRole"
    raw = raw_of(scope_for(body, query="X=1"), body)
    route = pipeline.parse(raw, pipeline.sign(raw))
    assert (route.service, route.action, route.json, route.version) == (
        "sts",
        "GetCallerIdentity",
        False,
        "2011-06-15",
    )
    assert route.params["X"] == "1"


def test_parse_reads_a_json_operation_from_the_signed_target_only() -> None:
    hdrs = {"X-Amz-Target": f"{ORG_TARGET}.ListRoots", "Content-Type": "application/x-amz-json-1.1"}
    raw = raw_of(scope_for(b"{}", service="organizations", headers=hdrs), b"{}")
    route = pipeline.parse(raw, pipeline.sign(raw))
    assert (route.service, route.action, route.json) == ("organizations", "ListRoots", True)
    unsigned = {"X-Amz-Target": f"{ORG_TARGET}.ListRoots"}
    raw = raw_of(scope_for(b"{}", service="organizations", unsigned=unsigned), b"{}")
    with pytest.raises(IncompleteSignature):
        pipeline.parse(raw, pipeline.sign(raw))
    # Another service's prefix names no operation here.
    hdrs["X-Amz-Target"] = "DynamoDB_20120810.ListTables"
    raw = raw_of(scope_for(b"{}", service="organizations", headers=hdrs), b"{}")
    assert pipeline.parse(raw, pipeline.sign(raw)).action == ""


# -- authenticate -------------------------------------------------------------------


def _authenticate(scope: dict[str, Any], body: bytes, state: AppState) -> Principal:
    raw = raw_of(scope, body)
    signed = pipeline.sign(raw)
    return pipeline.authenticate(raw, signed, pipeline.parse(raw, signed), state)


def test_authenticate_a_long_term_key_by_its_owners_unique_id() -> None:
    state = make_state()
    p = _authenticate(scope_for(GCI), GCI, state)
    assert (p.kind, p.arn, p.user_id, p.name, p.access_key_id) == (
        "user",
        f"arn:aws:iam::{ACCOUNT}:user/alice",
        USER_ID,
        "alice",
        AKID,
    )
    assert state.store.used == [(AKID, "sts", "eu-west-1")]


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (lambda s: s.keys.clear(), InvalidClientTokenId),
        (lambda s: setattr(s.keys[AKID], "status", "Inactive"), InvalidClientTokenId),
        (lambda s: s.users.clear(), InvalidClientTokenId),  # the owner is gone
        (lambda s: setattr(s.keys[AKID], "secret", "x" * 40), SignatureDoesNotMatch),
    ],
)
def test_authenticate_refuses_keys(change: Any, refusal: type[AwsError]) -> None:
    state = make_state()
    change(state.store)
    with pytest.raises(refusal):
        _authenticate(scope_for(GCI), GCI, state)


def test_authenticate_unsigned_only_for_the_federation_actions() -> None:
    state = make_state()
    with pytest.raises(MissingAuthenticationToken):
        _authenticate(scope_for(GCI, service=None), GCI, state)
    body = b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
    assert _authenticate(scope_for(body, service=None), body, state).kind == "anonymous"


def test_authenticate_a_session_token() -> None:
    state = make_state()
    now = int(datetime.now(UTC).timestamp())
    akid, secret = "ASIAEXAMPLEEXAMPLE34", "t" * 40
    claims = tokens.SessionClaims(
        access_key_id=akid,
        secret_access_key=secret,
        kind="assumed-role",
        account_id=ACCOUNT,
        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/app/me",
        user_id="AROAEXAMPLEEXAMPLE123:me",
        issued_at=now - 10,
        expires_at=now + 900,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/app",
        role_name="app",
        session_name="me",
    )
    token = tokens.seal(claims, RING, now)
    p = _authenticate(scope_for(GCI, akid=akid, secret=secret, token=token), GCI, state)
    assert (p.kind, p.name, p.session) == ("assumed-role", "app", claims)
    with pytest.raises(InvalidClientTokenId):  # no token
        _authenticate(scope_for(GCI, akid=akid, secret=secret), GCI, state)
    with pytest.raises(InvalidClientTokenId):  # forged: one reload, then refused
        _authenticate(scope_for(GCI, akid=akid, secret=secret, token=token[:-4]), GCI, state)
    assert state.extra["keys"].reloads == 1
    with pytest.raises(SignatureDoesNotMatch):
        _authenticate(scope_for(GCI, akid=akid, secret="u" * 40, token=token), GCI, state)
    old = tokens.seal(
        tokens.SessionClaims(**{**_fields(claims), "issued_at": 1, "expires_at": 2}), RING, 1
    )
    with pytest.raises(ExpiredToken):
        _authenticate(scope_for(GCI, akid=akid, secret=secret, token=old), GCI, state)


def _fields(c: tokens.SessionClaims) -> dict[str, Any]:
    return {name: getattr(c, name) for name in c.__dataclass_fields__}


# -- route ----------------------------------------------------------------------


def _handlers() -> pipeline.Handlers:
    def gci(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"UserId": "u", "Account": ctx.account_id, "Arn": "arn"}

    return {"sts": {"GetCallerIdentity": gci, "GetSessionToken": gci}, "iam": {}}


def _parsed(body: bytes, service: str = "sts") -> Any:
    raw = raw_of(scope_for(body, service=service), body)
    return pipeline.parse(raw, pipeline.sign(raw))


USER = Principal(kind="user", arn="arn:aws:iam::1:user/a", account_id="1", user_id="AIDA")


def test_route_checks_the_operation_against_the_model_and_the_handlers() -> None:
    routed = pipeline.route(_parsed(GCI), USER, _handlers())
    assert routed.route.action == "GetCallerIdentity" and routed.handler is not None
    with pytest.raises(MissingAction):
        pipeline.route(_parsed(b"Version=2011-06-15"), USER, _handlers())
    with pytest.raises(InvalidAction) as e:
        pipeline.route(_parsed(b"Action=GetCallerIdentity"), USER, _handlers())
    assert e.value.message.endswith("for version NO_VERSION_SPECIFIED")
    with pytest.raises(InvalidAction):
        pipeline.route(_parsed(b"Action=GetCallerIdentity&Version=2010-05-08"), USER, _handlers())
    with pytest.raises(InvalidAction):  # in the model, not served
        pipeline.route(_parsed(b"Action=AssumeRoot&Version=2011-06-15"), USER, _handlers())


def test_route_applies_the_session_limits() -> None:
    body = b"Action=GetSessionToken&Version=2011-06-15"
    with pytest.raises(AccessDenied):
        pipeline.route(_parsed(body), session_principal("session"), _handlers())


@pytest.mark.parametrize(
    ("kind", "mfa", "service", "action", "refusal"),
    [
        ("assumed-role", False, "sts", "GetSessionToken", AccessDenied),
        ("assumed-role", False, "sts", "GetFederationToken", AccessDenied),
        ("assumed-role", False, "iam", "CreateRole", None),
        ("session", False, "iam", "ListUsers", InvalidClientTokenId),
        ("session", True, "iam", "ListUsers", None),
        ("session", False, "sts", "AssumeRole", None),
        ("session", False, "sts", "GetAccessKeyInfo", AccessDenied),
        ("federated-user", False, "sts", "GetCallerIdentity", None),
        ("federated-user", False, "sts", "AssumeRole", AccessDenied),
        ("federated-user", False, "iam", "ListUsers", AccessDenied),
    ],
)
def test_session_limits(
    kind: str, mfa: bool, service: str, action: str, refusal: type[AwsError] | None
) -> None:
    p = session_principal(kind, mfa=mfa)
    if refusal is None:
        pipeline.session_limits(service, action, p)
    else:
        with pytest.raises(refusal):
            pipeline.session_limits(service, action, p)
    pipeline.session_limits(service, action, USER)  # long-term keys: no limits
    pipeline.session_limits(service, action, None)


# -- decode, authorise, encode ------------------------------------------------------


def test_decode_validates_against_the_model() -> None:
    handlers = {"sts": {"AssumeRole": lambda ctx, params: None}}
    body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
    routed = pipeline.route(
        _parsed(body + b"&RoleSessionName=me&DurationSeconds=900"), USER, handlers
    )
    params = pipeline.decode(routed, b"")
    assert params["DurationSeconds"] == 900 and params["RoleSessionName"] == "me"
    assert pipeline.authorise(routed, params, USER) is None  # the table's place; passes today
    with pytest.raises(ValidationError):
        pipeline.decode(pipeline.route(_parsed(body), USER, handlers), b"")


def test_decode_reads_a_json_body() -> None:
    handlers = {"organizations": {"DescribeAccount": lambda ctx, params: None}}
    hdrs = {"X-Amz-Target": f"{ORG_TARGET}.DescribeAccount"}
    raw = raw_of(scope_for(b"", service="organizations", headers=hdrs), b"")
    routed = pipeline.route(pipeline.parse(raw, pipeline.sign(raw)), USER, handlers)
    assert pipeline.decode(routed, b'{"AccountId": "111122223333"}') == {
        "AccountId": "111122223333"
    }
    with pytest.raises(AwsError) as e:
        pipeline.decode(routed, b"{")
    assert e.value.code == "SerializationException"


def test_encode_renders_the_output_in_the_operations_protocol() -> None:
    routed = pipeline.route(_parsed(GCI), USER, _handlers())
    out = pipeline.encode(routed, {"UserId": "u", "Account": "1", "Arn": "a"}, "rid-1")
    assert out.status == 200
    assert out.headers == [(b"content-type", b"text/xml"), (b"x-amzn-requestid", b"rid-1")]
    assert out.body == protocol.encode_response(
        "sts", "GetCallerIdentity", {"UserId": "u", "Account": "1", "Arn": "a"}, "rid-1"
    )


def test_encode_error_once_per_protocol() -> None:
    raw = raw_of(scope_for(GCI), GCI)
    rid = raw.request_id.encode()
    xml = pipeline.encode_error(AccessDenied("no"), raw, None)
    assert xml.status == 403 and xml.headers[1] == (b"x-amzn-requestid", rid)
    assert (
        b"https://sts.amazonaws.com/doc/2011-06-15/" in xml.body
        and b"<Code>AccessDenied" in xml.body
    )
    iam = pipeline.encode_error(AccessDenied("no"), raw, pipeline.Signed(None, "iam"))
    assert b"https://iam.amazonaws.com/doc/2010-05-08/" in iam.body
    org = pipeline.encode_error(AccessDenied("no"), raw, pipeline.Signed(None, "organizations"))
    assert org.headers[0] == (b"content-type", b"application/x-amz-json-1.1")
    assert org.body == b'{"__type": "AccessDenied", "message": "no"}'
    # Not served: the envelope of the client's SDK, extra headers after the request id.
    raw = raw_of(scope_for(b"", service="lambda"), b"")
    out = pipeline.encode_error(NotServed("lambda"), raw, None)
    assert out.status == 501
    assert out.headers == [
        (b"content-type", b"application/json"),
        (b"x-amzn-requestid", raw.request_id.encode()),
        (b"x-amzn-errortype", b"NotImplemented"),
    ]


def test_refusal_passes_aws_errors_and_logs_a_bug_once(caplog: pytest.LogCaptureFixture) -> None:
    err = AccessDenied("no")
    assert pipeline.refusal(err, None, None) is err
    assert not caplog.records
    with caplog.at_level(logging.ERROR, logger="rolegate.pipeline"):
        try:
            raise KeyError("boom")
        except KeyError as exc:
            out = pipeline.refusal(exc, pipeline.Signed(None, "iam"), None)
    assert isinstance(out, InternalFailure) and out.status == 500 and "boom" not in out.message
    (rec,) = caplog.records
    assert rec.getMessage() == "internal failure in iam:" and rec.exc_info is not None


def test_context_says_how_far_the_request_got() -> None:
    state = make_state()
    raw = raw_of(scope_for(GCI), GCI)
    ctx = pipeline.context(raw, None, None, None, state)
    assert (ctx.service, ctx.action, ctx.region, ctx.principal) == ("sts", "", "us-east-1", None)
    signed = pipeline.sign(raw)
    # Signed but not parsed: the scope's service, the default region.
    ctx = pipeline.context(raw, pipeline.Signed(signed.auth, "iam"), None, None, state)
    assert (ctx.service, ctx.region) == ("iam", "us-east-1")
    parsed = pipeline.parse(raw, signed)
    ctx = pipeline.context(raw, signed, parsed, USER, state)
    assert (ctx.action, ctx.region, ctx.principal) == ("GetCallerIdentity", "eu-west-1", USER)
    assert ctx.request_id == raw.request_id and ctx.now == raw.now and ctx.source_ip == "10.0.0.7"


# -- run ----------------------------------------------------------------------------


def test_run_answers_and_audits_a_call() -> None:
    state = make_state()
    out = pipeline.run(state, _handlers(), 0, scope_for(GCI), GCI)
    assert out.status == 200 and b"<Account>123456789012</Account>" in out.body
    status, headers, body = out  # the (status, headers, body) the ASGI shell sends
    (rec,) = state.audit.records
    assert (rec.service, rec.action, rec.region, rec.error) == (
        "sts",
        "GetCallerIdentity",
        "eu-west-1",
        None,
    )
    assert rec.principal[2] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert rec.request_id.encode() == dict(headers)[b"x-amzn-requestid"]


@pytest.mark.parametrize(
    ("scope", "body", "code", "service", "action", "region", "authenticated"),
    [
        (scope_for(GCI, service="s3"), GCI, "NotImplemented", "sts", "", "us-east-1", False),
        (
            scope_for(b"", service="organizations", unsigned={"X-Amz-Target": f"{ORG_TARGET}.X"}),
            b"",
            "IncompleteSignature",
            "organizations",
            "",
            "us-east-1",
            False,
        ),
        (
            scope_for(GCI, secret="x" * 40),
            GCI,
            "SignatureDoesNotMatch",
            "sts",
            "GetCallerIdentity",
            "eu-west-1",
            False,
        ),
        (
            scope_for(GCI, service=None),
            GCI,
            "MissingAuthenticationToken",
            "sts",
            "GetCallerIdentity",
            "us-east-1",
            False,
        ),
        (
            scope_for(b"Action=Nope&Version=2010-05-08", service="iam"),
            b"Action=Nope&Version=2010-05-08",
            "InvalidAction",
            "iam",
            "Nope",
            "eu-west-1",
            True,
        ),
    ],
)
def test_run_refusals_are_rendered_once_and_audited_as_far_as_they_got(
    scope: dict[str, Any],
    body: bytes,
    code: str,
    service: str,
    action: str,
    region: str,
    authenticated: bool,
) -> None:
    state = make_state()
    out = pipeline.run(state, _handlers(), 0, scope, body)
    assert code.encode() in out.body and out.status >= 400
    (rec,) = state.audit.records
    assert (rec.service, rec.action, rec.region, rec.error[0]) == (service, action, region, code)
    assert (rec.principal is not None) == authenticated and rec.params is None


def test_run_turns_a_handler_bug_into_internal_failure(caplog: pytest.LogCaptureFixture) -> None:
    def broken(ctx: CallContext, params: dict[str, Any]) -> None:
        ctx.audit_resources.append({"ARN": "arn:x"})
        raise RuntimeError("secret detail")

    state = make_state()
    with caplog.at_level(logging.ERROR, logger="rolegate.pipeline"):
        out = pipeline.run(state, {"sts": {"GetCallerIdentity": broken}}, 0, scope_for(GCI), GCI)
    assert out.status == 500 and b"InternalFailure" in out.body and b"secret" not in out.body
    assert b"<Type>Receiver</Type>" in out.body
    assert [r.getMessage() for r in caplog.records] == ["internal failure in sts:GetCallerIdentity"]
    (rec,) = state.audit.records
    assert rec.error[0] == "InternalFailure" and rec.params == {}
    assert rec.resources == [{"ARN": "arn:x"}]  # the handler's context, as far as it got


def test_run_survives_a_failing_audit(caplog: pytest.LogCaptureFixture) -> None:
    state = make_state()

    class Broken:
        def submit(self, record: Any) -> None:
            raise OSError("disk")

    state.audit = Broken()
    with caplog.at_level(logging.ERROR, logger="rolegate.pipeline"):
        out = pipeline.run(state, _handlers(), 0, scope_for(GCI), GCI)
    assert out.status == 200
    assert [r.getMessage() for r in caplog.records] == ["audit submit failed"]
