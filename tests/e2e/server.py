"""Start a real ``rolegate serve`` process and drive it with boto3 and the
AWS CLI. A mock of our own server proves nothing."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROLEGATE = str(BIN / "rolegate")
AWS = str(BIN / "aws")
REGION = "eu-west-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, timeout: float) -> bool:
    """Poll ``http://127.0.0.1:{port}/healthz`` until it answers 200 or
    ``timeout`` seconds pass; whether it answered."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.2)
    return False


def postgres_url_with_fresh_schema() -> str | None:
    """A per-server schema in the test database, so parallel runs don't collide."""
    base = os.environ.get("ROLEGATE_TEST_DATABASE_URL")
    if not base:
        return None
    import psycopg

    schema = "rg_" + secrets.token_hex(6)
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def shared_postgres_url() -> str:
    """A fresh schema in the test PostgreSQL (``ROLEGATE_TEST_DATABASE_URL``, else
    the local one) for servers that share a database; skips the test when
    PostgreSQL is unreachable, unless ``ROLEGATE_REQUIRE_POSTGRES=1``."""
    import psycopg
    import pytest

    base = os.environ.get("ROLEGATE_TEST_DATABASE_URL") or DEFAULT_PG
    try:
        with psycopg.connect(
            base.replace("postgresql+psycopg://", "postgresql://"),
            autocommit=True,
            connect_timeout=3,
        ) as conn:
            schema = "rg_" + secrets.token_hex(6)
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as e:
        if os.environ.get("ROLEGATE_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL not reachable: {e}")
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def drop_schema_of(url: str | None) -> None:
    """Drop the per-test schema named in ``url`` (see postgres_url_with_fresh_schema)."""
    if not url or "search_path%3D" not in url:
        return
    import psycopg

    schema = url.split("search_path%3D", 1)[1].split("&", 1)[0]
    plain = url.replace("postgresql+psycopg://", "postgresql://").split("?")[0]
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class Server:
    def __init__(
        self, tmp: Path, *, database_url: str | None = None, env: dict[str, str] | None = None
    ):
        self.tmp = tmp
        self.data_dir = tmp / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.clock_file = tmp / "clock-offset"
        self.clock_file.write_text("0")
        self.env = dict(os.environ)
        self.env.update(
            ROLEGATE_TEST_CLOCK_FILE=str(self.clock_file),
            ROLEGATE_MASTER_KEY=self.env.get("ROLEGATE_MASTER_KEY") or _master_key(tmp),
        )
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.admin: dict[str, str] = {}

    # -- lifecycle -------------------------------------------------------------
    def store_args(self) -> list[str]:
        if self.database_url:
            return ["--database-url", self.database_url]
        return ["--data-dir", str(self.data_dir)]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ROLEGATE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def start(self, *, workers: int = 1) -> Server:
        boot = self.cli("bootstrap", *self.store_args(), "--json")
        self.admin = json.loads(boot.stdout)
        self.log = open(self.tmp / f"server-{self.port}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                ROLEGATE,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *self.store_args(),
                "--workers",
                str(workers),
            ],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"rolegate serve exited: {(self.tmp / f'server-{self.port}.log').read_text()}"
                )
            try:
                if httpx.get(self.endpoint + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("rolegate serve did not become healthy")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def server_log(self) -> str:
        return (self.tmp / f"server-{self.port}.log").read_text(errors="replace")

    # -- clients ---------------------------------------------------------------
    def set_clock_offset(self, seconds: float) -> None:
        self.clock_file.write_text(str(seconds))
        time.sleep(0.12)  # the server re-reads the file at most every 50 ms

    def creds(self) -> dict[str, str]:
        return {
            "aws_access_key_id": self.admin["access_key_id"],
            "aws_secret_access_key": self.admin["secret_access_key"],
        }

    def client(self, service: str, creds: dict[str, str] | None = None, **kw: Any) -> Any:
        c = creds or self.creds()
        config = Config(retries={"max_attempts": 1})
        if "config" in kw:
            config = config.merge(kw.pop("config"))
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            config=config,
            **_boto_creds(c),
            **kw,
        )

    def aws(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        creds: dict[str, str] | None = None,
        check: bool = True,
        profile_config: str = "",
        credentials_file: str = "",
    ) -> subprocess.CompletedProcess[str]:
        """Run the AWS CLI with throwaway config files and this server as endpoint."""
        cfg = self.tmp / f"aws-config-{secrets.token_hex(3)}"
        cred = self.tmp / f"aws-credentials-{secrets.token_hex(3)}"
        cfg.write_text(profile_config or f"[default]\nregion = {REGION}\noutput = json\n")
        if credentials_file:
            cred.write_text(credentials_file)
        else:
            c = _boto_creds(creds or self.creds())
            lines = [
                "[default]",
                f"aws_access_key_id = {c['aws_access_key_id']}",
                f"aws_secret_access_key = {c['aws_secret_access_key']}",
            ]
            if c.get("aws_session_token"):
                lines.append(f"aws_session_token = {c['aws_session_token']}")
            cred.write_text("\n".join(lines) + "\n")
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update(
            AWS_CONFIG_FILE=str(cfg),
            AWS_SHARED_CREDENTIALS_FILE=str(cred),
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_DEFAULT_REGION=REGION,
            AWS_MAX_ATTEMPTS="1",
            HOME=str(self.tmp),
        )  # keep the CLI's credential cache per server
        e.update(env or {})
        return subprocess.run(
            [AWS, *args], env=e, capture_output=True, text=True, check=check, timeout=120
        )


def _boto_creds(c: dict[str, str]) -> dict[str, str]:
    """Accept boto3 kwargs, STS `Credentials` dicts or bootstrap output."""
    if "AccessKeyId" in c:
        out = {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"]}
        if c.get("SessionToken"):
            out["aws_session_token"] = c["SessionToken"]
        return out
    if "access_key_id" in c:
        return {
            "aws_access_key_id": c["access_key_id"],
            "aws_secret_access_key": c["secret_access_key"],
        }
    return dict(c)


def _master_key(tmp: Path) -> str:
    import base64

    return base64.b64encode(secrets.token_bytes(32)).decode()


@contextmanager
def running_server(tmp: Path, **kw: Any) -> Iterator[Server]:
    url = postgres_url_with_fresh_schema()
    try:
        srv = Server(tmp, database_url=url, **kw).start()
        try:
            yield srv
        finally:
            srv.stop()
    finally:
        drop_schema_of(url)
