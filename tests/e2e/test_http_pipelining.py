"""Through a real ``rolegate serve``: responses written once per loop pass
(rolegate.http_protocol) still arrive whole and in order, pipelined or
not, and a ``Connection: close`` response is sent before the close."""

from __future__ import annotations

import socket
from collections.abc import Sequence

from rolegate.http_protocol import FLUSH_AFTER
from tests.e2e.server import Server


def _read_responses(sock: socket.socket, methods: Sequence[str]) -> list[bytes]:
    """One HTTP/1.1 response per request method, as raw bytes."""
    buf = b""
    out: list[bytes] = []
    for method in methods:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed after {len(out)} responses")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and method != "HEAD":
                length = int(value)
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError("connection closed mid-body")
            rest += chunk
        out.append(head + b"\r\n\r\n" + rest[:length])
        buf = rest[length:]
    return out


def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    host = f"127.0.0.1:{server.port}"
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    reqs = [
        f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n",
        f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n\r\n{body}",
        f"HEAD /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n",
        f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
    ]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall("".join(reqs).encode())  # one segment: pipelined
        got = _read_responses(s, ["GET", "POST", "HEAD", "GET"])
        assert s.recv(100) == b""  # then closed, as the last request asked
    assert got[0].startswith(b"HTTP/1.1 200") and got[0].endswith(b"ok\n")
    assert got[1].startswith(b"HTTP/1.1 403")  # unsigned
    assert b"MissingAuthenticationToken" in got[1]
    assert got[2].startswith(b"HTTP/1.1 ")
    assert got[3].startswith(b"HTTP/1.1 200") and got[3].endswith(b"ok\n")


def test_many_connections_at_once_each_get_their_answers(server: Server) -> None:
    socks = [
        socket.create_connection(("127.0.0.1", server.port), timeout=10)
        for _ in range(3 * FLUSH_AFTER)
    ]
    try:
        for i, s in enumerate(socks):
            s.sendall(f"GET /healthz?n={i} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() * 2)
        for s in socks:
            got = _read_responses(s, ["GET", "GET"])
            assert all(r.startswith(b"HTTP/1.1 200") and r.endswith(b"ok\n") for r in got)
    finally:
        for s in socks:
            s.close()


def test_a_malformed_request_is_answered_before_the_close(server: Server) -> None:
    # uvicorn writes its 400 and closes the transport at once; the close
    # must send the held bytes first.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400") and data.endswith(b"Invalid HTTP request received.")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_responses(s, ["GET"])[0].endswith(b"ok\n")
