"""uvicorn's httptools protocol with responses written once per loop pass.

uvicorn writes each response to its socket as soon as the application
sends it. Under load one worker answers a request every few hundred
microseconds, and each write lands on a client that has gone idle since
the last one: on a virtual machine, waking it (an inter-processor
interrupt, a VM exit on both sides) cost more than the write itself.
Here every write is held until the loop has run the callbacks that were
ready with it (the rest of that pass's requests) or until ``FLUSH_AFTER``
connections hold bytes, then each connection's bytes go out in one write. This is what Redis does before it sleeps and
what Netty's flush consolidation does.

AssumeRole, one worker, 64 connections, three alternated runs each:
3,307-3,506 req/s written at once, 3,568-3,904 deferred. A lone request
waits one loop pass more (microseconds).

Order and delivery are kept: every write of a connection goes through its
``DeferredWrites``, so bytes leave in the order they were written, and
``close`` sends what is held before closing. ``abort`` drops it, as an
abort drops the transport's own buffer.

Slow clients: uvicorn bounds only the idle time between requests
(``timeout_keep_alive``, armed after a response). A connection that sent
nothing, or part of a request line and headers, or headers announcing a
body it never sends, stayed open for good, and enough of them exhaust the
server's file descriptors. So a request's headers must arrive within
``ROLEGATE_HEADER_TIMEOUT`` seconds of the connection (or of the request's
first byte on a kept-alive one), and its body within ``ROLEGATE_BODY_TIMEOUT``
of the headers. Both are deadlines, not idle timers, so dripping a byte at a
time does not extend them (what nginx's ``client_header_timeout`` does not
prevent and Apache's mod_reqtimeout does). Past one the client gets a 408
and the connection is closed.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Connections held before a pass's end forces a flush: bounds what a
# response waits for (16 AssumeRoles, ~4 ms here) when a pass is long.
# AssumeRole at 64 connections, alternated runs: 8 -> 3,448-3,775 req/s,
# 16 -> 3,622-3,825, 32 -> 3,649-3,915, unbounded -> 3,674-3,834.
FLUSH_AFTER = 16

DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_BODY_TIMEOUT = 30.0

_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\n"
    b"content-length: 16\r\nconnection: close\r\n\r\nrequest timeout\n"
)


def timeout_setting(name: str, default: float) -> float:
    """A positive number of seconds from the environment (``rolegate serve``
    checks and sets it); ``default`` when unset."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    value = float(text)
    if not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {text!r}")
    return value


class _Flusher:
    """The connections of one loop with bytes held, flushed by one callback."""

    __slots__ = ("_loop", "_pending", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: list[DeferredWrites] = []
        self._scheduled = False

    def add(self, writer: DeferredWrites) -> None:
        if len(self._pending) >= FLUSH_AFTER:
            # Before, not after, taking the new one: its response is still
            # being written (head, then body) and should leave whole.
            self._flush()
        self._pending.append(writer)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._scheduled_flush)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for writer in pending:
            writer.flush()

    def _scheduled_flush(self) -> None:
        self._scheduled = False
        self._flush()


_FLUSHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Flusher] = (
    weakref.WeakKeyDictionary()
)


def _flusher(loop: asyncio.AbstractEventLoop) -> _Flusher:
    f = _FLUSHERS.get(loop)
    if f is None:
        f = _FLUSHERS[loop] = _Flusher(loop)
    return f


class DeferredWrites:
    """A transport whose writes wait for the end of the loop pass."""

    __slots__ = ("_flusher", "_held", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._flusher = _flusher(loop)
        self._held: list[bytes] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._held is None:
            self._held = [bytes(data)]
            self._flusher.add(self)
        else:
            self._held.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held and not self.transport.is_closing():
            self.transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._held = None
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        # get_extra_info, pause_reading, resume_reading, set_protocol, ...
        return getattr(self.transport, name)


class DeferredFlushProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` writing through :class:`DeferredWrites`, with
    deadlines for a request's headers and body.

    Named to uvicorn as ``http="rolegate.http_protocol:DeferredFlushProtocol"``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read per connection (two getenv calls) so that a test or an
        # embedding can change them without re-importing the module.
        self._header_timeout = timeout_setting("ROLEGATE_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT)
        self._body_timeout = timeout_setting("ROLEGATE_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT)
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_body = False

    # uvicorn narrows asyncio's BaseTransport parameter to Transport, as
    # this does; DeferredWrites stands in for a Transport (not a subclass).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(DeferredWrites(transport, self.loop))  # type: ignore[arg-type]
        self._arm(self._header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a kept-alive connection's next request
            self._arm(self._header_timeout)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        # Cancelled by on_message_complete, at once for a request without a body.
        self._arm(self._body_timeout)
        self._reading_body = True

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        self._reading_body = False
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        transport = self.transport
        if transport.is_closing():
            return
        cycle = self.cycle
        if self._reading_body:
            # This request's body is late; nothing has answered it yet.
            answered = cycle is not None and cycle.response_started
        elif cycle is not None and not cycle.response_complete:
            # Headers of a pipelined request are late while the one before
            # is still being answered: that time is ours, not the client's.
            self._arm(self._header_timeout)
            return
        else:
            answered = False
        if not answered:
            transport.write(_TIMED_OUT)
        transport.close()
