"""The fuzz driver: seeded requests to every served operation, in process
(``RolegateApp.process``) or against a real ``rolegate serve``.

Every operation that rolegate serves (the service model's operations that
have a handler, as the server routes them) gets model-shaped parameters,
mutated (``tests.fuzz.generators``), mostly SigV4-signed with the
bootstrap admin's key so they reach the handlers, some with an assumed-role
session (its token now and then altered), some unsigned or signed for the
wrong service. A case fails when the answer is a 5xx or the server logs an
error (a traceback, "internal failure").

    python -m tests.fuzz --count 1000000 --seed 1 --out fuzz-failures.jsonl
    python -m tests.fuzz --server-count 2000          # also a real server
    python -m tests.fuzz --replay fuzz-failures.jsonl

Case ``i`` of seed ``s`` is generated from ``Random(f"{s}:{i}")`` alone, so
a case regenerates without the ones before it; failing cases are also
written out whole (body and headers), to replay without regenerating.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import rolegate.federation.jwks as jwks_module
from rolegate import protocol
from rolegate.appstate import Settings
from rolegate.bootstrap import bootstrap
from rolegate.federation.jwks import FetchError, JwksCache
from rolegate.server import MAX_BODY, RolegateApp, build_state
from tests.e2e.server import Server
from tests.fuzz import generators as gen

SERVICES = ("sts", "iam", "organizations")
SERVICE_WEIGHTS = (3, 5, 2)
JSON_TARGET_PREFIX = "AWSOrganizationsV20161128"
QUERY_CTYPE = "application/x-www-form-urlencoded; charset=utf-8"
JSON_CTYPE = "application/x-amz-json-1.1"
REGION = "us-east-1"
# Deliberate 5xx answers, not crashes: (status, error code). server.py (the
# routing engineer's) answers a request signed for a service rolegate does
# not serve with 501 NotImplemented. AWS would answer 403
# SignatureDoesNotMatch ("Credential should be scoped to correct service");
# reported, and counted apart in the summary rather than as a failure.
ALLOWED_5XX = frozenset({(501, "NotImplemented")})
UNSENDABLE = -1
# What a failure looks like in a server's log.
LOG_PROBLEM_RE = re.compile(r"Traceback|internal failure|Exception in ASGI", re.IGNORECASE)
_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{gen.ACCOUNT}:root"},
             "Action": ["sts:AssumeRole", "sts:TagSession"]},
        ],
    }
)  # fmt: skip


_S3_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


@dataclass
class Case:
    seed: str
    index: int
    service: str
    op: str
    mode: str  # admin | session | session-altered | unsigned | wrong-service
    headers: dict[str, str]
    body_b64: str
    status: int = 0
    response: str = ""
    problem: str = ""

    @property
    def body(self) -> bytes:
        return base64.b64decode(self.body_b64)


def served_operations(handlers: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """What the server routes: the model's operations that have a handler."""
    return {
        svc: sorted(protocol.get_service(svc).operation_names & set(handlers.get(svc, {})))
        for svc in SERVICES
    }


class Generator:
    """Makes case ``i`` of a seed from its own Random."""

    def __init__(self, seed: str, operations: dict[str, list[str]], tokens: list[str]):
        self.seed = seed
        self.operations = {s: ops for s, ops in operations.items() if ops}
        self.tokens = tokens
        session = botocore.session.get_session()
        self.models = {s: session.get_service_model(s) for s in self.operations}

    def case(self, index: int) -> Case:
        rnd = random.Random(f"{self.seed}:{index}")
        services = list(self.operations)
        weights = [SERVICE_WEIGHTS[SERVICES.index(s)] for s in services]
        service = rnd.choices(services, weights)[0]
        op_name = rnd.choice(self.operations[service])
        model = self.models[service]
        shape = model.operation_model(op_name).input_shape
        token = gen.TAME.set(rnd.random() < 0.5)
        try:
            return self._case(rnd, index, service, op_name, model, shape)
        finally:
            gen.TAME.reset(token)

    def _case(self, rnd: random.Random, index: int, service: str, op_name: str,
              model: Any, shape: Any) -> Case:  # fmt: skip
        if service == "organizations":
            body = gen.json_body(rnd, shape, self.tokens)
            headers = {
                "Content-Type": JSON_CTYPE,
                "X-Amz-Target": f"{JSON_TARGET_PREFIX}.{op_name}",
            }
            if rnd.random() < 0.02:
                headers["X-Amz-Target"] = rnd.choice(["", "AWSOrganizationsV20161128.", "x.y.z"])
        else:
            pairs: list[tuple[str, str]] = [("Action", op_name), ("Version", model.api_version)]
            if rnd.random() < 0.02:
                pairs = [("Action", rnd.choice(["", op_name.lower(), "X" * 300])), ("Version", "")]
            if shape is not None:
                gen.query_pairs(rnd, shape, "", pairs, self.tokens)
            body = gen.encode_pairs(rnd, pairs)
            headers = {"Content-Type": QUERY_CTYPE}
        if not gen.TAME.get():
            body = gen.mangle_body(rnd, body)
        r = rnd.random()
        mode = (
            "admin" if r < 0.75 else "session" if r < 0.83 else "session-altered" if r < 0.9
            else "unsigned" if r < 0.97 else "wrong-service"
        )  # fmt: skip
        return Case(self.seed, index, service, op_name, mode, headers,
                    base64.b64encode(body).decode())  # fmt: skip


# --------------------------------------------------------------------------- targets


class Target(Protocol):
    admin: Credentials

    def send(self, headers: list[tuple[str, str]], body: bytes) -> tuple[int, bytes]: ...
    def problems(self) -> str: ...
    def close(self) -> None: ...


class _ErrorLog(logging.Handler):
    """Every ERROR (or worse) the server logs, with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _no_network(url: str, *args: Any) -> dict:
    # The fuzzer never reaches an IdP: every key fetch fails as an outage would.
    raise FetchError(f"fuzzing: no network for {url}")


def _no_chain(host: str, port: int, *, timeout: float) -> list[bytes]:
    raise FetchError("fuzzing: no network")


class InProcess:
    """A RolegateApp over a temporary SQLite directory, called directly."""

    def __init__(self, tmp: Path) -> None:
        self.settings = Settings(data_dir=str(tmp))
        self.state = build_state(self.settings)
        creds = bootstrap(self.state.store)
        self.admin = Credentials(creds["access_key_id"], creds["secret_access_key"])
        self.state.jwks = JwksCache(_no_network, allow_http_loopback=True)
        self.app = RolegateApp(self.settings, state=self.state)
        self.log = _ErrorLog()
        self._logger = logging.getLogger("rolegate")
        self._logger.addHandler(self.log)
        # CreateOpenIDConnectProvider without thumbprints dials the IdP.
        self._chain = jwks_module.presented_chain
        jwks_module.presented_chain = _no_chain

    def send(self, headers: list[tuple[str, str]], body: bytes) -> tuple[int, bytes]:
        if len(body) > MAX_BODY:  # what RolegateApp.__call__ answers before process()
            return 413, b"request body too large\n"
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            "client": ("127.0.0.1", 5555),
        }
        status, _, out = self.app.process(scope, body)
        return status, out

    def problems(self) -> str:
        lines, self.log.lines = self.log.lines, []
        return "\n".join(lines)

    def close(self) -> None:
        jwks_module.presented_chain = self._chain
        self._logger.removeHandler(self.log)
        self.app.close()


class RealServer:
    """``rolegate serve`` in a subprocess; its stdout and stderr go to a log
    file, which is read after every request for tracebacks."""

    def __init__(self, tmp: Path) -> None:
        self.server = Server(tmp).start()
        self.admin = Credentials(
            self.server.admin["access_key_id"], self.server.admin["secret_access_key"]
        )
        self._conn: http.client.HTTPConnection | None = None
        self._log_path = tmp / f"server-{self.server.port}.log"
        self._offset = 0

    def send(self, headers: list[tuple[str, str]], body: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
            try:
                self._conn.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    self._conn.putheader(k, v.encode("latin-1"))
                self._conn.putheader("Content-Length", str(len(body)))
                self._conn.endheaders(body)
                resp = self._conn.getresponse()
                return resp.status, resp.read()
            except ValueError:
                # http.client refuses a header value with CR/LF in it (an
                # altered token): no client can send it, so it is skipped.
                self._conn.close()
                self._conn = None
                return UNSENDABLE, b""
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def problems(self) -> str:
        with open(self._log_path, "rb") as f:
            f.seek(self._offset)
            new = f.read()
        self._offset += len(new)
        text = new.decode("utf-8", "replace")
        return text if LOG_PROBLEM_RE.search(text) else ""

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self.server.stop()


# --------------------------------------------------------------------------- signing


def sign(case: Case, target: Target, session: Credentials | None) -> list[tuple[str, str]]:
    headers = dict(case.headers)
    headers["Host"] = "127.0.0.1:8080"
    if case.mode == "unsigned":
        return list(headers.items())
    creds = target.admin
    service = case.service
    if case.mode.startswith("session") and session is not None:
        creds = session
        if case.mode == "session-altered":
            rnd = random.Random(f"{case.seed}:{case.index}:token")
            creds = Credentials(session.access_key, session.secret_key,
                                gen.mutate_token(rnd, session.token or ""))  # fmt: skip
    elif case.mode == "wrong-service":
        service = random.Random(f"{case.seed}:{case.index}:svc").choice(["s3", "ec2", "sts", "iam"])
    req = AWSRequest(method="POST", url="http://127.0.0.1:8080/", data=case.body, headers=headers)
    SigV4Auth(creds, service, REGION).add_auth(req)
    return [(k, v) for k, v in req.headers.items()]


def call(target: Target, service: str, op: str, session: Credentials | None = None,
         **params: str) -> tuple[int, str]:  # fmt: skip
    """A well-formed admin call (for setup and health checks)."""
    model = botocore.session.get_session().get_service_model(service)
    pairs = [("Action", op), ("Version", model.api_version), *params.items()]
    body = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    case = Case("setup", 0, service, op, "admin", {"Content-Type": QUERY_CTYPE},
                base64.b64encode(body.encode()).decode())  # fmt: skip
    if service == "organizations":
        case.headers = {"Content-Type": JSON_CTYPE, "X-Amz-Target": f"{JSON_TARGET_PREFIX}.{op}"}
        case.body_b64 = base64.b64encode(json.dumps(params).encode()).decode()
    if session is not None:
        case.mode = "session"
    status, out = target.send(sign(case, target, session), case.body)
    return status, out.decode("utf-8", "replace")


def _xml(tag: str, text: str) -> str:
    m = re.search(f"<{tag}>([^<]*)</{tag}>", text)
    return m.group(1) if m else ""


def setup(target: Target) -> tuple[Credentials | None, list[str]]:
    """Entities the fuzz values name, and an assumed-role session."""
    call(target, "iam", "CreateUser", UserName="fz-user")
    call(target, "iam", "CreateGroup", GroupName="fz-group")
    call(target, "iam", "AddUserToGroup", GroupName="fz-group", UserName="fz-user")
    call(target, "iam", "CreateRole", RoleName="fz-role", AssumeRolePolicyDocument=_TRUST)
    call(target, "iam", "CreatePolicy", PolicyName="fz-policy", PolicyDocument=_S3_POLICY)
    call(target, "iam", "CreateOpenIDConnectProvider", Url="https://127.0.0.1:1/fz",
         **{"ClientIDList.member.1": "fz", "ThumbprintList.member.1": "a" * 40})  # fmt: skip
    call(target, "organizations", "CreateOrganization", FeatureSet="ALL")
    status, out = call(target, "sts", "AssumeRole", RoleArn=gen.KNOWN_ARNS[1],
                       RoleSessionName="fz", DurationSeconds="3600")  # fmt: skip
    if status != 200:
        return None, []
    token = _xml("SessionToken", out)
    session = Credentials(_xml("AccessKeyId", out), _xml("SecretAccessKey", out), token)
    return session, [token]


# --------------------------------------------------------------------------- running


@dataclass
class Summary:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[Case] = field(default_factory=list)
    allowed_5xx: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.sent / self.seconds if self.seconds else 0.0
        return (
            f"{self.sent} requests in {self.seconds:.1f}s ({rate:.0f}/s), "
            f"{len(self.failures)} failures ({self.allowed_5xx} deliberate 5xx), "
            f"statuses {dict(sorted(self.statuses.items()))}"
        )


_CODE_RE = re.compile(rb"<Code>([^<]{1,80})</Code>|\"__type\":\s*\"([^\"]{1,120})\"")


def _code(out: bytes) -> str:
    m = _CODE_RE.search(out[:2000])
    if not m:
        return "-"
    return (m.group(1) or m.group(2) or b"-").decode("utf-8", "replace").rsplit("#", 1)[-1]


def run_cases(target: Target, cases: Iterator[Case], session: Credentials | None,
              summary: Summary, on_failure: Callable[[Case], None]) -> None:  # fmt: skip
    for case in cases:
        headers = sign(case, target, session)
        status, out = target.send(headers, case.body)
        if status == UNSENDABLE:
            summary.codes["unsendable"] += 1
            continue
        summary.sent += 1
        summary.statuses[status] += 1
        summary.codes[_code(out) if status != 200 else "OK"] += 1
        problem = target.problems()
        if status >= 500 and (status, _code(out)) in ALLOWED_5XX:
            summary.allowed_5xx += 1
        elif status >= 500 or problem:
            case.status = status
            case.response = out[:1000].decode("utf-8", "replace")
            case.problem = problem[-4000:]
            summary.failures.append(case)
            on_failure(case)


def fuzz(
    *, seed: str, count: int, start: int = 0, server: bool = False, reset_every: int = 25_000,
    out: Path | None = None, progress: float = 0.0,
    printer: Callable[[str], None] = print,
) -> Summary:  # fmt: skip
    """Run ``count`` cases from index ``start``; write failures to ``out`` (JSONL)."""
    summary = Summary()
    t0 = last = time.monotonic()
    sink = out.open("a") if out else None

    def on_failure(case: Case) -> None:
        if sink is not None:
            sink.write(json.dumps(asdict(case)) + "\n")
            sink.flush()
        printer(f"FAIL #{case.index} {case.service}:{case.op} ({case.mode}) -> {case.status}"
                f" {case.problem.splitlines()[-1] if case.problem else case.response[:200]}")  # fmt: skip

    done = 0
    chunk = count if server else max(1, reset_every)
    try:
        while done < count:
            n = min(chunk, count - done)
            with tempfile.TemporaryDirectory(prefix="rolegate-fuzz-") as tmp:
                target: Target = RealServer(Path(tmp)) if server else InProcess(Path(tmp))
                try:
                    session, tokens = setup(target)
                    target.problems()  # setup's own log lines are not the fuzzer's findings
                    generator = Generator(seed, served_operations(_handlers(target)), tokens)
                    step = 500 if progress else n
                    for begin in range(start + done, start + done + n, step):
                        end = min(begin + step, start + done + n)
                        cases = (generator.case(i) for i in range(begin, end))
                        run_cases(target, cases, session, summary, on_failure)
                        summary.seconds = time.monotonic() - t0
                        if progress and time.monotonic() - last >= progress:
                            last = time.monotonic()
                            printer(f"[{'server' if server else 'in-process'}] {summary.line()}")
                finally:
                    target.close()
            done += n
    finally:
        if sink is not None:
            sink.close()
    summary.seconds = time.monotonic() - t0
    return summary


def _handlers(target: Target) -> dict[str, dict[str, Any]]:
    if isinstance(target, InProcess):
        return target.app.handlers
    # The served set is the code's, not the process's: build the table the
    # server builds, without a store behind it.
    return RolegateApp(Settings(data_dir=None)).handlers


def replay(path: Path, *, server: bool = False, printer: Callable[[str], None] = print) -> int:
    """Send the recorded cases again; the number that still fail."""
    cases = [Case(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    summary = Summary()
    with tempfile.TemporaryDirectory(prefix="rolegate-replay-") as tmp:
        target: Target = RealServer(Path(tmp)) if server else InProcess(Path(tmp))
        try:
            session, _ = setup(target)
            target.problems()
            run_cases(target, iter(cases), session, summary, lambda c: None)
        finally:
            target.close()
    for case in summary.failures:
        printer(f"still failing: #{case.index} {case.service}:{case.op} -> {case.status}\n"
                f"{case.problem or case.response}")  # fmt: skip
    printer(f"replayed {len(cases)}: {len(summary.failures)} still fail")
    return len(summary.failures)
