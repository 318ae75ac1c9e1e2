"""An in-process rolegate for wire tests: a real Store, key ring and audit
writer behind ``RolegateApp.process``, driven by real boto3 clients whose
HTTP send is short-circuited into the app (botocore's ``before-send``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from rolegate.appstate import AppState, Settings
from rolegate.audit import AuditWriter
from rolegate.bootstrap import bootstrap
from rolegate.iam.aws_managed import ensure_aws_managed_policies
from rolegate.server import KeyRingSource, RolegateApp
from tests.conftest import open_test_store

ENDPOINT = "http://127.0.0.1:8080"
REGION = "eu-west-1"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class InProcess:
    app: RolegateApp
    store: Any
    admin: dict[str, str]

    def creds(self) -> dict[str, str]:
        return {
            "aws_access_key_id": self.admin["access_key_id"],
            "aws_secret_access_key": self.admin["secret_access_key"],
        }

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> Reply:
        parts = urlsplit(url)
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        if not any(k.lower() == "host" for k, _ in pairs):
            pairs.insert(0, ("host", parts.netloc))
        scope = {
            "type": "http",
            "method": method,
            "path": parts.path or "/",
            "raw_path": (parts.path or "/").encode(),
            "query_string": parts.query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in pairs],
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
        }
        status, hdrs, out = self.app.process(scope, body)
        return Reply(status, {k.decode(): v.decode() for k, v in hdrs}, out)

    def client(self, service: str, creds: dict[str, str] | None = None, **kw: Any) -> Any:
        c = dict(creds or self.creds())
        if "AccessKeyId" in c:
            c = {
                "aws_access_key_id": c["AccessKeyId"],
                "aws_secret_access_key": c["SecretAccessKey"],
                "aws_session_token": c["SessionToken"],
            }
        cl = boto3.client(
            service,
            endpoint_url=kw.pop("endpoint_url", ENDPOINT),
            region_name=kw.pop("region_name", REGION),
            config=Config(retries={"max_attempts": 1}),
            **c,
            **kw,
        )
        cl.meta.events.register("before-send", self._send)
        return cl

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = body.read()
        headers = [
            (k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
        ]
        reply = self.request(request.method, request.url, headers, body)
        return AWSResponse(request.url, reply.status, reply.headers, _Raw(reply.body))

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self.app.state is not None and self.app.state.audit is not None:
            self.app.state.audit.close()
        self.store.close()


def in_process(tmp_path: Path) -> InProcess:
    store = open_test_store(tmp_path)
    ensure_aws_managed_policies(store)
    admin = bootstrap(store)
    keys = KeyRingSource(store)
    settings = Settings(data_dir=str(tmp_path))
    state = AppState(store=store, key_ring=keys.ring(), settings=settings)
    state.extra["keys"] = keys
    state.audit = AuditWriter(store)
    return InProcess(RolegateApp(settings, state=state), store, admin)
