"""A small keep-alive HTTP/1.1 load generator for the benchmarks.

Requests are signed before the clock starts (SigV4 signatures stay valid for
15 minutes and STS/IAM have no replay nonce), so the client spends its time
on sockets only; on a 2-core machine a heavier client would steal the
server's core and measure itself.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def signed_request(
    host: str,
    port: int,
    body: str,
    *,
    service: str,
    access_key: str,
    secret_key: str,
    token: str | None = None,
    region: str = "us-east-1",
) -> bytes:
    url = f"http://{host}:{port}/"
    req = AWSRequest(
        method="POST",
        url=url,
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(access_key, secret_key, token), service, region).add_auth(req)
    lines = ["POST / HTTP/1.1", f"Host: {host}:{port}"]
    for k, v in req.headers.items():
        if k.lower() == "host":
            continue
        lines.append(f"{k}: {v}")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body.encode()


def plain_request(host: str, port: int, path: str = "/") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending its requests one at a time.

    A bare ``asyncio.Protocol`` rather than streams: the client shares this
    2-core machine with the server (with two workers, its CPU is theirs), and
    streams cost it about three times the CPU per response (~40 against
    ~12 us here: a reader, futures and two awaits per response, where this
    parses in ``data_received``).
    """

    def __init__(self, run: _Load, cid: int) -> None:
        self.run = run
        self.cid = cid
        self.i = 0
        self.queue: list[bytes] = []
        self.buf = bytearray()
        self.t0 = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.send_next()

    def send_next(self) -> None:
        t0 = time.perf_counter()
        if t0 >= self.run.stop_at:
            assert self.transport is not None
            self.transport.close()
            self.run.finished()
            return
        if not self.queue:
            self.queue = list(self.run.make(self.cid, self.i))
            self.i += 1
        self.t0 = t0
        self.transport.write(self.queue.pop(0))  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buf[:end]).lower()
        at = head.find(b"\ncontent-length:")
        length = 0
        if at >= 0:
            stop = head.find(b"\r", at + 16)
            length = int(head[at + 16 : stop if stop >= 0 else None])
        if len(buf) < end + 4 + length:
            return
        status = int(buf[9:12])
        if len(buf) != end + 4 + length:
            raise RuntimeError("a response arrived before its request was sent")
        buf.clear()
        self.run.record(self.t0, time.perf_counter(), status)
        self.send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if time.perf_counter() < self.run.stop_at:
            self.run.failed(exc or ConnectionResetError("server closed the connection"))


class _Load:
    def __init__(
        self,
        make: Callable[[int, int], Sequence[bytes]],
        connections: int,
        duration: float,
        warmup: float,
    ) -> None:
        self.make = make
        self.latencies: list[float] = []
        self.started: list[float] = []
        self.statuses: dict[int, int] = {}
        self.start_measure = time.perf_counter() + warmup
        self.stop_at = self.start_measure + duration
        self.open = connections
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def record(self, t0: float, t1: float, status: int) -> None:
        if t0 >= self.start_measure:
            self.latencies.append(t1 - t0)
            self.started.append(t0 - self.start_measure)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def finished(self) -> None:
        self.open -= 1
        if self.open == 0 and not self.done.done():
            self.done.set_result(None)

    def failed(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


async def _run(
    host: str,
    port: int,
    make: Callable[[int, int], Sequence[bytes]],
    connections: int,
    duration: float,
    warmup: float,
) -> dict[str, Any]:
    cpu0 = time.process_time()
    load = _Load(make, connections, duration, warmup)
    loop = asyncio.get_running_loop()
    for cid in range(connections):
        await loop.create_connection(lambda cid=cid: _Connection(load, cid), host, port)
    await load.done
    latencies, started, statuses = load.latencies, load.started, load.statuses
    # The client's own CPU per response (warm-up included): on this 2-core
    # machine it is taken from the server whenever the server needs both.
    client_cpu_us = (time.process_time() - cpu0) / max(1, len(latencies)) * 1e6
    lat = sorted(latencies)
    n = len(lat)
    return {
        "requests": n,
        "seconds": duration,
        "rps": round(n / duration, 1),
        "p50_ms": round(lat[n // 2] * 1000, 2) if n else None,
        "p99_ms": round(lat[min(n - 1, int(n * 0.99))] * 1000, 2) if n else None,
        "mean_ms": round(statistics.fmean(lat) * 1000, 2) if n else None,
        "statuses": {str(k): v for k, v in statuses.items()},
        "connections": connections,
        "client_cpu_us_per_request": round(client_cpu_us * duration / (duration + warmup), 1),
        **window_stats(started, latencies),
    }


WINDOW = 0.1  # seconds


def window_stats(started: Sequence[float], latencies: Sequence[float]) -> dict[str, Any]:
    """How steady the run was, in 100 ms windows of request start times.

    On this shared 2-core VM everything (server and client alike) sometimes
    runs ~40% slower for half a second: the server stays at 100% CPU but
    completes fewer requests, and the client needs more CPU per request too.
    Such windows set the p99 of a closed-loop run. ``slow_windows`` counts
    windows whose completions fell below 75% of the median window; the p99
    of the other windows is reported beside the overall one, never instead
    of it, so that a reader can tell the server's tail from the machine's.
    """
    if not started:
        return {}
    buckets: dict[int, list[float]] = {}
    for t, lat in zip(started, latencies, strict=True):
        buckets.setdefault(int(t / WINDOW), []).append(lat)
    # The last window is cut short by the end of the run.
    full = [k for k in buckets if k != max(buckets)] or list(buckets)
    median = statistics.median(len(buckets[k]) for k in full)
    slow = {k for k in full if len(buckets[k]) < 0.75 * median}
    steady = sorted(lat for k, v in buckets.items() if k not in slow for lat in v)
    n = len(steady)
    return {
        "windows": len(full),
        "slow_windows": len(slow),
        "p99_ms_steady_windows": round(steady[min(n - 1, int(n * 0.99))] * 1000, 2) if n else None,
    }


def run_load(
    host: str,
    port: int,
    make: Callable[[int, int], Sequence[bytes]],
    *,
    connections: int = 64,
    duration: float = 5.0,
    warmup: float = 1.0,
) -> dict[str, Any]:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    return asyncio.run(_run(host, port, make, connections, duration, warmup))


def start_uvicorn_app(
    target: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Serve ``target`` (``module:attr`` in bench/) on rolegate's uvicorn stack
    (uvloop, httptools with rolegate's once-per-pass writes, no access log,
    no Server header: what ``rolegate serve`` runs) on a free port; wait
    until it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = (
        "import sys, uvicorn; uvicorn.run(sys.argv[1], port=int(sys.argv[2]), loop='uvloop', "
        "http='rolegate.http_protocol:DeferredFlushProtocol', access_log=False, "
        "server_header=False, log_level='warning')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", run, target, str(port)],
        cwd=os.path.dirname(os.path.abspath(__file__)),
        env=dict(os.environ, **(env or {})),
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, port


def median_of_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of one load, summarised by the median of each figure.

    This machine's slow spells (see ``window_stats``) come and go between
    runs; one run's p99 says more about the neighbours than about rolegate.
    """
    out: dict[str, Any] = {}
    for key in ("rps", "p50_ms", "p99_ms", "mean_ms", "p99_ms_steady_windows"):
        vals = [float(r[key]) for r in runs if r.get(key) is not None]
        if vals:
            out[key] = round(statistics.median(vals), 2)
    statuses: dict[str, int] = {}
    for r in runs:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    out["statuses"] = statuses
    out["slow_windows"] = f"{sum(r.get('slow_windows', 0) for r in runs)}/" + str(
        sum(r.get("windows", 0) for r in runs)
    )
    out["runs"] = list(runs)
    return out


def describe(name: str, r: dict[str, Any]) -> str:
    """One printed line of a load result."""
    line = f"{name:24s} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms"
    if r.get("p99_ms_steady_windows") is not None:
        slow = r["slow_windows"]
        if isinstance(slow, int):
            slow = f"{slow}/{r['windows']}"
        line += f" (steady windows {r['p99_ms_steady_windows']} ms, slow {slow})"
    return line + f"  {r['statuses']}"
