"""The ceiling: a bare ASGI app that answers every request with a fixed 1 KB
XML body, run on the same uvicorn stack as rolegate."""

import asyncio
import os
import time

BODY = (
    b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    + b"<GetCallerIdentityResult>"
    + b"<Arn>arn:aws:iam::123456789012:user/admin</Arn><UserId>AIDAEXAMPLE</UserId>"
    + b"<Account>123456789012</Account>"
    + b"<!--"
    + b"x" * 750
    + b"-->"
    + b"</GetCallerIdentityResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000"
    + b"</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
)
HEADERS = [(b"content-type", b"text/xml"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    more = True
    while more:
        msg = await receive()
        more = msg.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


# `bench_loop_order.py`: the same body after BENCH_SPIN_US of busy work (a
# stand-in for rolegate's request handling), with or without one
# `await asyncio.sleep(0)` first, as RolegateApp does for inline requests.
SPIN = float(os.environ.get("BENCH_SPIN_US", "200")) / 1e6
YIELD = os.environ.get("BENCH_YIELD") == "1"


async def spin_app(scope, receive, send):  # type: ignore[no-untyped-def]
    if YIELD:
        await asyncio.sleep(0)
    end = time.perf_counter() + SPIN
    while time.perf_counter() < end:
        pass
    await app(scope, receive, send)
