"""Profile one action through the whole server pipeline, in process and
without HTTP: `python bench/profile_inprocess.py gci|ar|user N [noaudit|profile]`.

It builds a real app state (SQLite in a temp dir), bootstraps the admin,
signs requests with botocore and calls ``RolegateApp.process`` N times,
printing requests/s and CPU µs per request (or a cProfile listing)."""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from typing import Any
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from rolegate.appstate import Settings
from rolegate.bootstrap import bootstrap
from rolegate.server import RolegateApp, build_state


def main() -> None:
    which, n = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else ""
    st = Settings(data_dir=tempfile.mkdtemp())
    state = build_state(st)
    creds = bootstrap(state.store)
    app = RolegateApp(st, state=state)

    def scope_body(body: str, service: str) -> tuple[dict[str, Any], bytes]:
        req = AWSRequest(
            method="POST",
            url="http://127.0.0.1:8080/",
            data=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        SigV4Auth(
            Credentials(creds["access_key_id"], creds["secret_access_key"]), service, "us-east-1"
        ).add_auth(req)
        headers = [(b"host", b"127.0.0.1:8080")] + [
            (k.lower().encode(), v.encode()) for k, v in req.headers.items()
        ]
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 5555),
        }
        return scope, body.encode()

    if which == "gci":
        reqs = [scope_body("Action=GetCallerIdentity&Version=2011-06-15", "sts")]
    elif which == "ar":
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        s, b = scope_body(
            "Action=CreateRole&Version=2010-05-08&RoleName=bench&AssumeRolePolicyDocument="
            + quote(json.dumps(trust), safe=""),
            "iam",
        )
        assert app.process(s, b)[0] == 200
        reqs = [
            scope_body(
                "Action=AssumeRole&Version=2011-06-15&RoleArn="
                + quote("arn:aws:iam::123456789012:role/bench", safe="")
                + "&RoleSessionName=bench&DurationSeconds=900",
                "sts",
            )
        ]
    else:
        reqs = []
        for i in range(max(1, n // 2)):
            reqs.append(scope_body(f"Action=CreateUser&Version=2010-05-08&UserName=u{i}", "iam"))
            reqs.append(scope_body(f"Action=DeleteUser&Version=2010-05-08&UserName=u{i}", "iam"))

    real_audit = state.audit
    if mode == "noaudit":

        class _Null:
            def submit(self, ev: Any) -> None: ...

        state.audit = _Null()
    for s, b in reqs[:2]:
        app.process(s, b)
    prof = cProfile.Profile() if mode == "profile" else None
    t0, c0 = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    status = 0
    for i in range(n):
        s, b = reqs[(i + 2) % len(reqs)] if which == "user" else reqs[i % len(reqs)]
        status = app.process(s, b)[0]
    if prof:
        prof.disable()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"{which} {mode}: {n / dt:.0f}/s wall, {dc / n * 1e6:.0f} us CPU/request, last status {status}"
    )
    if prof:
        pstats.Stats(prof).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(40)
    state.audit = real_audit
    real_audit.close()
    state.store.close()


if __name__ == "__main__":
    main()
