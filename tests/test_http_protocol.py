"""Responses written once per loop pass (rolegate.http_protocol): bytes
leave whole, in order, and none is lost to a close."""

from __future__ import annotations

import asyncio
from typing import Any

from rolegate import http_protocol
from rolegate.http_protocol import FLUSH_AFTER, DeferredWrites


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "write after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1234)}.get(name, default)


async def _next_pass() -> None:
    # A callback scheduled now runs in the loop's next pass; two sleeps are
    # past it whatever the loop's bookkeeping.
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def test_writes_wait_for_the_pass_and_leave_as_one() -> None:
    async def main() -> None:
        t = FakeTransport()
        w = DeferredWrites(t, asyncio.get_running_loop())  # type: ignore[arg-type]
        w.write(b"HTTP/1.1 200 OK\r\n\r\n")
        w.write(b"")
        w.write(bytearray(b"body"))
        assert t.writes == []
        await _next_pass()
        assert t.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        w.write(b"second")
        await _next_pass()
        assert t.writes[-1] == b"second"

    asyncio.run(main())


def test_connections_keep_their_own_bytes_in_order() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ts = [FakeTransport() for _ in range(3)]
        ws = [DeferredWrites(t, loop) for t in ts]  # type: ignore[arg-type]
        for i in range(3):
            for w in ws:
                w.writelines([f"{id(w)}-{i};".encode()])
        await _next_pass()
        for t, w in zip(ts, ws, strict=True):
            assert t.writes == [b"".join(f"{id(w)}-{i};".encode() for i in range(3))]

    asyncio.run(main())


def test_close_sends_what_is_held_first_and_abort_drops_it() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        t = FakeTransport()
        w = DeferredWrites(t, loop)  # type: ignore[arg-type]
        w.write(b"last response")
        w.close()
        assert t.writes == [b"last response"] and t.closed
        await _next_pass()  # the scheduled flush finds nothing, writes nothing
        assert t.writes == [b"last response"]

        t2 = FakeTransport()
        w2 = DeferredWrites(t2, loop)  # type: ignore[arg-type]
        w2.write(b"dropped")
        w2.abort()
        await _next_pass()
        assert t2.writes == [] and t2.aborted

    asyncio.run(main())


def test_a_transport_closed_underneath_is_not_written() -> None:
    async def main() -> None:
        t = FakeTransport()
        w = DeferredWrites(t, asyncio.get_running_loop())  # type: ignore[arg-type]
        w.write(b"x")
        t.close()  # the peer went away (connection_lost closes it)
        await _next_pass()
        assert t.writes == []
        assert w.is_closing()
        assert w.get_extra_info("peername") == ("127.0.0.1", 1234)

    asyncio.run(main())


def test_a_long_pass_flushes_after_flush_after_connections() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ts = [FakeTransport() for _ in range(FLUSH_AFTER + 1)]
        ws = [DeferredWrites(t, loop) for t in ts]  # type: ignore[arg-type]
        for w in ws:
            w.write(b"head;")
            w.write(b"body")
        # The connection that found FLUSH_AFTER waiting sent them off and
        # still holds its own whole response.
        assert all(t.writes == [b"head;body"] for t in ts[:FLUSH_AFTER])
        assert ts[-1].writes == []
        await _next_pass()
        assert ts[-1].writes == [b"head;body"]

    asyncio.run(main())


def test_each_loop_has_its_own_flusher() -> None:
    seen = []

    async def main() -> None:
        seen.append(http_protocol._flusher(asyncio.get_running_loop()))

    asyncio.run(main())
    asyncio.run(main())
    assert seen[0] is not seen[1]
