"""`rolegate serve`'s connection settings: slow-client limits and the port check.

The limits (rolegate.http_protocol has the why): deadlines for a request's
headers and body, the idle time of a kept-alive connection, how many
connections a worker holds and the listen backlog. Each is a flag, else a
``ROLEGATE_*`` variable, else a default; they are checked only by the
commands that serve, so a bad value never stops ``rolegate audit``.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import resource
import socket
from typing import Any

from rolegate.http_protocol import DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT

DEFAULT_KEEPALIVE_TIMEOUT = 30.0
DEFAULT_BACKLOG = 1024


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _count(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number: {text!r}")
    return int(text)


def _default_max_connections() -> int:
    """Connections a worker serves at once before answering 503: 1024, or
    fewer when the open-files limit would run out first (the store, the
    audit and the listening socket need descriptors too)."""
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return 1024
    if soft == resource.RLIM_INFINITY:
        return 1024
    return max(16, min(1024, soft - 128))


def _env_or(name: str, parse: Any, default: Any) -> Any:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return parse(text)
    except argparse.ArgumentTypeError as e:
        raise SystemExit(f"rolegate: {name}: {e}") from None


def add_limit_args(p: argparse.ArgumentParser) -> None:
    # Slow clients (rolegate.http_protocol): deadlines for a request's
    # headers and body, the idle time of a kept-alive connection, and how
    # many connections a worker holds.
    p.add_argument(
        "--header-timeout",
        type=_positive,
        help="seconds for a request's line and headers to arrive (ROLEGATE_HEADER_TIMEOUT)",
    )
    p.add_argument(
        "--body-timeout",
        type=_positive,
        help="seconds for a request's body to arrive after its headers (ROLEGATE_BODY_TIMEOUT)",
    )
    p.add_argument(
        "--keepalive-timeout",
        type=_positive,
        help="seconds an idle kept-alive connection stays open (ROLEGATE_KEEPALIVE_TIMEOUT)",
    )
    p.add_argument(
        "--max-connections",
        type=_count,
        help="connections per worker before requests get 503 (ROLEGATE_MAX_CONNECTIONS)",
    )
    p.add_argument(
        "--backlog",
        type=_count,
        help="connections the kernel queues before they are accepted (ROLEGATE_BACKLOG)",
    )


def resolve_limits(args: argparse.Namespace) -> None:
    """Flags first, then ROLEGATE_* (checked only by the commands that serve)."""
    for attr, env, parse, default in (
        ("header_timeout", "ROLEGATE_HEADER_TIMEOUT", _positive, DEFAULT_HEADER_TIMEOUT),
        ("body_timeout", "ROLEGATE_BODY_TIMEOUT", _positive, DEFAULT_BODY_TIMEOUT),
        ("keepalive_timeout", "ROLEGATE_KEEPALIVE_TIMEOUT", _positive, DEFAULT_KEEPALIVE_TIMEOUT),
        ("max_connections", "ROLEGATE_MAX_CONNECTIONS", _count, _default_max_connections()),
        ("backlog", "ROLEGATE_BACKLOG", _count, DEFAULT_BACKLOG),
    ):
        if getattr(args, attr, None) is None:
            setattr(args, attr, _env_or(env, parse, default))


def port_taken(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, or None when it can.

    Bound and released at once, with SO_REUSEADDR as uvicorn binds, so a
    port in TIME_WAIT is not reported taken. Another process may still take
    it before uvicorn binds; this check is for the common case of a second
    ``make run``, which would otherwise be reported after "serving on ...".
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        return f"cannot listen on {host}:{port}: {e.strerror}"
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                why = f"port {port} is already in use on {host} (another rolegate, or another program)"
            else:
                why = f"cannot listen on {host}:{port}: {e.strerror}"
            return (
                f"{why}; choose another port with --port N, or PORT=N for make run "
                f"(make run PORT={port + 1})"
            )
    return None
