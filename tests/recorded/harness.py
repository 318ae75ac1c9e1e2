"""The recording harness: a RolegateApp over a temporary SQLite store on a
fixed, scripted clock, called in process with requests that botocore's own
serializers build and its SigV4 signer signs.

The clock: ``AppState.test_clock`` (the hook ``ROLEGATE_TEST_CLOCK_FILE``
feeds in e2e runs) is given an object whose ``offset()`` makes
``AppState.now()`` read the harness's scripted time, which starts at
``START`` and advances one second per request (scenarios jump it further to
expire credentials or to reach the next TOTP step). botocore signs at that
same time (``botocore.auth.get_current_datetime`` is swapped for the run).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, create_request_object, prepare_request_dict
from botocore.credentials import Credentials
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from rolegate import protocol
from rolegate.appstate import Settings
from rolegate.bootstrap import bootstrap
from rolegate.server import RolegateApp, _load_handlers, build_state

SERVICES = ("sts", "iam", "organizations")
ENDPOINT = "http://127.0.0.1:8080/"
REGION = "us-east-1"
USER_AGENT = "rolegate-recorded/1 (corpus)"
# 2035-06-01T12:00:00Z. Far from the wall clock on purpose: a timestamp the
# server takes from the wall clock rather than its request clock (start-up
# code: bootstrap, the AWS managed policies) is told apart by its year.
START = 2064398400.5
WALL_CLOCK_BEFORE_YEAR = 2035


@dataclass
class Caller:
    """Who signs a request: a label for the recording and the credentials."""

    label: str
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    @classmethod
    def from_sts(cls, label: str, creds: dict[str, Any]) -> Caller:
        return cls(label, creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken"))

    def botocore(self) -> Credentials:
        return Credentials(self.access_key_id, self.secret_access_key, self.session_token)


@dataclass
class Exchange:
    """One request and its answer, as sent and received (not yet normalised)."""

    index: int
    name: str
    service: str
    op: str
    caller: str
    time: float
    status: int
    headers: dict[str, str]
    body: bytes
    parsed: dict[str, Any] = field(default_factory=dict)

    @property
    def request_id(self) -> str:
        return self.headers.get("x-amzn-requestid", "")

    @property
    def error_code(self) -> str:
        return (self.parsed.get("Error") or {}).get("Code", "") if self.status >= 300 else ""


class _Clock:
    """``AppState.test_clock``: ``now()`` = wall clock + offset = scripted time."""

    def __init__(self, harness: Harness) -> None:
        self._h = harness

    def offset(self) -> float:
        return self._h.t - time.time()


class Harness:
    def __init__(self, tmp: Path) -> None:
        self.t = START
        self.sign_skew = 0.0  # seconds added to the signing time (clock-skew cases)
        self.exchanges: list[Exchange] = []
        self._names: dict[str, int] = {}
        self.settings = Settings(data_dir=str(tmp))
        for var in ("ROLEGATE_TEST_CLOCK_FILE", "ROLEGATE_AUDIT_PROCESS"):
            os.environ.pop(var, None)
        self.state = build_state(self.settings)
        self.state.test_clock = _Clock(self)
        creds = bootstrap(self.state.store)
        self.account_id = creds["account_id"]
        self.admin = Caller("admin", creds["access_key_id"], creds["secret_access_key"])
        self.app = RolegateApp(self.settings, state=self.state)
        session = botocore.session.get_session()
        self.models = {s: session.get_service_model(s) for s in SERVICES}
        self._serializers = {
            s: create_serializer(m.metadata["protocol"], include_validation=False)
            for s, m in self.models.items()
        }
        self._parsers = {s: create_parser(m.metadata["protocol"]) for s, m in self.models.items()}
        self._saved_now = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = self._signing_time

    # ------------------------------------------------------------------ time

    def _signing_time(self, remove_tzinfo: bool = True) -> datetime:
        now = datetime.fromtimestamp(self.t + self.sign_skew, tz=UTC)
        return now.replace(tzinfo=None) if remove_tzinfo else now

    def advance(self, seconds: float) -> None:
        self.t += seconds

    @property
    def now(self) -> int:
        return int(self.t)

    # -------------------------------------------------------------- requests

    def _label(self, name: str) -> str:
        n = self._names.get(name, 0) + 1
        self._names[name] = n
        return name if n == 1 else f"{name}#{n}"

    def call(
        self,
        service: str,
        op: str,
        params: dict[str, Any] | None = None,
        *,
        caller: Caller | None = None,
        name: str | None = None,
        signing_service: str | None = None,
        unsigned: bool = False,
        tamper: Any = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Exchange:
        """Serialize ``op`` as botocore does, sign it (unless ``unsigned``),
        optionally ``tamper(headers, body) -> (headers, body)`` after signing,
        and send it."""
        model = self.models[service]
        op_model = model.operation_model(op)
        req_dict = self._serializers[service].serialize_to_request(params or {}, op_model)
        prepare_request_dict(req_dict, ENDPOINT, user_agent=USER_AGENT)
        request = create_request_object(req_dict)
        for k, v in (extra_headers or {}).items():
            request.headers[k] = v
        caller = caller or self.admin
        if not unsigned:
            SigV4Auth(caller.botocore(), signing_service or model.signing_name, REGION).add_auth(
                request
            )
        prepared = request.prepare()
        headers = [
            (k, v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()
        ]
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode()
        if tamper is not None:
            headers, body = tamper(headers, body)
        return self._send(
            name or f"{service}:{op}",
            service,
            op,
            "anonymous" if unsigned else caller.label,
            prepared.method,
            prepared.url,
            headers,
            body,
        )

    def raw(
        self,
        name: str,
        *,
        body: bytes,
        headers: dict[str, str],
        caller: Caller | None = None,
        signing_service: str | None = "sts",
        method: str = "POST",
        url: str = ENDPOINT,
    ) -> Exchange:
        """A request built by hand (then signed unless ``signing_service`` is None)."""
        req = AWSRequest(
            method=method, url=url, data=body, headers={"User-Agent": USER_AGENT, **headers}
        )
        caller = caller or self.admin
        if signing_service is not None:
            SigV4Auth(caller.botocore(), signing_service, REGION).add_auth(req)
        prepared = req.prepare()
        hdrs = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()]
        return self._send(name, signing_service or "-", "-", caller.label if signing_service else "anonymous",
                          method, prepared.url, hdrs, body)  # fmt: skip

    def _send(self, name: str, service: str, op: str, caller: str, method: str, url: str,
              headers: list[tuple[str, str]], body: bytes) -> Exchange:  # fmt: skip
        parts = urlsplit(url)
        if not any(k.lower() == "host" for k, _ in headers):
            headers = [("Host", parts.netloc), *headers]
        scope = {
            "type": "http",
            "method": method,
            "path": parts.path or "/",
            "raw_path": (parts.path or "/").encode(),
            "query_string": parts.query.encode(),
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            "client": ("192.0.2.10", 50000),
            "scheme": "http",
        }
        status, hdrs, out = self.app.process(scope, body)
        ex = Exchange(
            index=len(self.exchanges),
            name=self._label(name),
            service=service,
            op=op,
            caller=caller,
            time=self.t,
            status=status,
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in hdrs},
            body=out,
        )
        ex.parsed = self._parse(ex)
        self.exchanges.append(ex)
        self.t += 1
        return ex

    def _parse(self, ex: Exchange) -> dict[str, Any]:
        if ex.service not in self.models or ex.op == "-":
            return {}
        op_model = self.models[ex.service].operation_model(ex.op)
        try:
            return self._parsers[ex.service].parse(
                {"status_code": ex.status, "headers": ex.headers, "body": ex.body},
                op_model.output_shape,
            )
        except Exception:  # a body botocore cannot read is recorded as it is
            return {}

    # ------------------------------------------------------------- after

    def audit_events(self) -> list[dict[str, Any]]:
        """Every audit event the run produced, oldest first (the writer flushed)."""
        self.state.audit.flush()
        return [ev for _, ev in self.state.store.query_events()]

    def close(self) -> None:
        botocore.auth.get_current_datetime = self._saved_now
        self.app.close()
        self.app._pool.shutdown(wait=False)


def served_operations() -> dict[str, set[str]]:
    """What the server routes: the model's operations that have a handler."""
    handlers = _load_handlers()
    return {s: protocol.get_service(s).operation_names & set(handlers.get(s, {})) for s in SERVICES}


@contextlib.contextmanager
def harness() -> Iterator[Harness]:
    with tempfile.TemporaryDirectory(prefix="rolegate-recorded-") as tmp:
        h = Harness(Path(tmp))
        try:
            yield h
        finally:
            h.close()


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
