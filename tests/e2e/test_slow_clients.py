"""Slow clients cannot hold a connection forever: a request's headers and
its body each have a deadline, an idle keep-alive connection is closed, and
other clients are served while many slow connections are open."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import ROLEGATE, Server, running_server

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.5
KEEPALIVE_TIMEOUT = 1.0
# What the server may take past a deadline on this shared 2-core machine.
SLACK = 2.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp("slow")
    env = {
        "ROLEGATE_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "ROLEGATE_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "ROLEGATE_KEEPALIVE_TIMEOUT": str(KEEPALIVE_TIMEOUT),
    }
    with running_server(tmp, env=env) as srv:
        yield srv


def _connect(server: Server) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.settimeout(10)
    return s


def _closed_after(s: socket.socket) -> tuple[float, bytes]:
    """Seconds until the server closes ``s``, and what it sent before."""
    start = time.monotonic()
    got = b""
    while True:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            break
        except TimeoutError:
            raise AssertionError(f"still open after {time.monotonic() - start:.1f}s") from None
        if not chunk:
            break
        got += chunk
    return time.monotonic() - start, got


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    with _connect(server) as s:
        took, _ = _closed_after(s)
    assert took < HEADER_TIMEOUT + SLACK


def test_partial_headers_are_closed_with_408(server: Server) -> None:
    with _connect(server) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        took, got = _closed_after(s)
    assert took < HEADER_TIMEOUT + SLACK
    assert got.startswith(b"HTTP/1.1 408 ")


def test_headers_dripped_byte_by_byte_still_meet_the_deadline(server: Server) -> None:
    request = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: " + b"a" * 100
    with _connect(server) as s:
        start = time.monotonic()
        closed = False
        for byte in request:
            try:
                s.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.1)
            if time.monotonic() - start > HEADER_TIMEOUT + SLACK:
                break
        if not closed:
            _, got = _closed_after(s)
            assert got.startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - start < HEADER_TIMEOUT + SLACK + 0.5


def test_a_body_announced_but_never_sent_is_closed(server: Server) -> None:
    with _connect(server) as s:
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            b"application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nAction=Get"
        )
        took, got = _closed_after(s)
    assert BODY_TIMEOUT - 0.3 < took < BODY_TIMEOUT + SLACK
    assert got.startswith(b"HTTP/1.1 408 ")


def test_an_idle_keep_alive_connection_is_closed(server: Server) -> None:
    with _connect(server) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = s.recv(4096)
        assert first.startswith(b"HTTP/1.1 200 ")
        took, _ = _closed_after(s)
    assert took < KEEPALIVE_TIMEOUT + SLACK


def test_other_clients_are_served_while_many_slow_connections_are_open(server: Server) -> None:
    slow = []
    try:
        for i in range(200):
            s = _connect(server)
            s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n" if i % 2 else b"")
            slow.append(s)
        start = time.monotonic()
        ident = server.client("sts").get_caller_identity()
        assert ident["Account"] == "123456789012"
        assert time.monotonic() - start < HEADER_TIMEOUT
        # And every slow connection is gone after the deadline.
        deadline = time.monotonic() + HEADER_TIMEOUT + SLACK
        for s in slow:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            _closed_after(s)
        assert time.monotonic() < deadline + 0.5
    finally:
        for s in slow:
            s.close()


def test_the_connection_limit_answers_503_beyond_it(tmp_path: Path) -> None:
    with running_server(tmp_path, env={"ROLEGATE_MAX_CONNECTIONS": "8"}) as srv:
        held = [_connect(srv) for _ in range(8)]
        try:
            time.sleep(0.3)
            with _connect(srv) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert s.recv(4096).startswith(b"HTTP/1.1 503 ")
        finally:
            for s in held:
                s.close()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--header-timeout", "0"], {}),
        (["--body-timeout", "soon"], {}),
        (["--max-connections", "-1"], {}),
        ([], {"ROLEGATE_KEEPALIVE_TIMEOUT": "nan"}),
    ],
)
def test_bad_limits_are_refused_before_serving(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    out = subprocess.run(
        [ROLEGATE, "serve", "--data-dir", str(tmp_path), "--port", "1", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert "serving" not in out.stdout and "Traceback" not in out.stderr
    assert "seconds" in out.stderr or "whole number" in out.stderr
