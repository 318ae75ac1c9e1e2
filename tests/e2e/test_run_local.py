"""What `make run` / `rolegate run-local` print: a taken port before anything
is served, the admin's secret once (first start), how to get a new key."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.server import REPO, ROLEGATE, free_port, wait_healthy


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLEGATE_"))}


@contextmanager
def _listening() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_serve_on_a_taken_port_says_so_before_serving(tmp_path: Path) -> None:
    with _listening() as port:
        out = subprocess.run(
            [ROLEGATE, "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode != 0
    assert "serving" not in out.stdout
    assert str(port) in out.stderr and "--port" in out.stderr and "PORT=" in out.stderr
    assert "Traceback" not in out.stderr


def test_make_run_on_a_taken_port_fails_clearly_and_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with _listening() as port:
        out = subprocess.run(
            ["make", "-s", "run", f"PORT={port}", f"DATA={data}"],
            cwd=REPO,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode != 0
    printed = out.stdout + out.stderr
    assert f"port {port}" in printed and "PORT=" in printed
    assert "serving" not in printed and "export AWS_" not in printed
    assert not data.exists()


def _start_and_read(data: Path) -> str:
    """Start run-local, wait until it serves, stop it; what it printed."""
    port = free_port()
    log = data.parent / f"run-{port}.log"
    with open(log, "w+") as f:
        proc = subprocess.Popen(
            [ROLEGATE, "run-local", "--port", str(port), "--data-dir", str(data)],
            env=_env(),
            stdout=f,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(port, 90)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        f.seek(0)
        return f.read()


def test_the_admin_secret_is_printed_once_then_only_its_id(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _start_and_read(data)
    exports = dict(re.findall(r"export (AWS_[A-Z_]+)=(\S+)", first))
    secret, akid = exports["AWS_SECRET_ACCESS_KEY"], exports["AWS_ACCESS_KEY_ID"]
    second = _start_and_read(data)
    assert secret not in second
    assert "AWS_SECRET_ACCESS_KEY=" not in second
    assert f"export AWS_ACCESS_KEY_ID={akid}" in second
    assert f"rolegate bootstrap --new-key --data-dir {data}" in second
    # Not kept in clear anywhere to be shown again.
    for p in data.rglob("*"):
        if p.is_file():
            assert secret.encode() not in p.read_bytes(), p
