"""The ceiling: a bare ASGI app that answers every request with a fixed 1 KB
XML body, run on the same uvicorn stack as rolegate."""

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
