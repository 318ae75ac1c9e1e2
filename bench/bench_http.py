"""HTTP figures for issue 3: GetCallerIdentity and CreateUser+DeleteUser
through 64 keep-alive connections against one `rolegate serve` worker,
beside a bare ASGI app on the same uvicorn stack (the ceiling).

Run: python bench/bench_http.py  -> prints and writes bench/results/http.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import (  # noqa: E402
    describe,
    median_of_runs,
    plain_request,
    run_load,
    signed_request,
    start_uvicorn_app,
)

from tests.e2e.server import Server  # noqa: E402

DURATION = float(os.environ.get("BENCH_SECONDS", "5"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
CONNS = 64


def main() -> None:
    results: dict[str, object] = {"connections": CONNS, "duration_s": DURATION, "workers": 1}
    bare, bport = start_uvicorn_app("bare_app:app")
    tmpdir = tempfile.TemporaryDirectory()
    srv = Server(Path(tmpdir.name)).start(workers=1)
    try:
        # The ceiling gets the same request as rolegate (a signed
        # GetCallerIdentity POST: 9 headers and a body for uvicorn to parse),
        # so the ratio compares like with like. A bodiless GET with one
        # header is kept beside it for reference.
        same = signed_request(
            "127.0.0.1",
            bport,
            "Action=GetCallerIdentity&Version=2011-06-15",
            service="sts",
            access_key="AKIAIOSFODNN7EXAMPLE",
            secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        ak, sk = srv.admin["access_key_id"], srv.admin["secret_access_key"]
        gci = signed_request(
            "127.0.0.1",
            srv.port,
            "Action=GetCallerIdentity&Version=2011-06-15",
            service="sts",
            access_key=ak,
            secret_key=sk,
        )
        # Alternated, so that a slow spell of the machine hits both alike.
        bare_runs, gci_runs = [], []
        for _ in range(REPEAT):
            bare_runs.append(
                run_load(
                    "127.0.0.1", bport, lambda c, i: [same], connections=CONNS, duration=DURATION
                )
            )
            gci_runs.append(
                run_load(
                    "127.0.0.1", srv.port, lambda c, i: [gci], connections=CONNS, duration=DURATION
                )
            )
        results["bare_asgi_1kb"] = median_of_runs(bare_runs)
        results["get_caller_identity"] = median_of_runs(gci_runs)
        get = plain_request("127.0.0.1", bport)
        results["bare_asgi_1kb_plain_get"] = run_load(
            "127.0.0.1", bport, lambda c, i: [get], connections=CONNS, duration=DURATION
        )
        bare.terminate()
        bare.wait()

        per_conn = int(os.environ.get("BENCH_PAIRS_PER_CONN", "120"))
        pairs = {
            c: [
                [
                    signed_request(
                        "127.0.0.1",
                        srv.port,
                        f"Action=CreateUser&Version=2010-05-08&UserName=b{c}x{i}",
                        service="iam",
                        access_key=ak,
                        secret_key=sk,
                    ),
                    signed_request(
                        "127.0.0.1",
                        srv.port,
                        f"Action=DeleteUser&Version=2010-05-08&UserName=b{c}x{i}",
                        service="iam",
                        access_key=ak,
                        secret_key=sk,
                    ),
                ]
                for i in range(per_conn)
            ]
            for c in range(CONNS)
        }

        def make(c: int, i: int) -> list[bytes]:
            return pairs[c][i % per_conn]

        r = run_load("127.0.0.1", srv.port, make, connections=CONNS, duration=DURATION)
        r["pairs_per_s"] = round(r["rps"] / 2, 1)
        results["create_delete_user"] = r
    finally:
        if bare.poll() is None:
            bare.terminate()
            bare.wait()
        srv.stop()
        tmpdir.cleanup()

    bare_rps = results["bare_asgi_1kb"]["rps"]  # type: ignore[index]
    gci_rps = results["get_caller_identity"]["rps"]  # type: ignore[index]
    results["gci_fraction_of_bare"] = round(gci_rps / bare_rps, 3) if bare_rps else None
    results["targets"] = {"gci_rps": 3000, "gci_p99_ms": 20, "fraction_of_bare": 0.40}
    out = ROOT / "bench" / "results" / "http.json"
    out.write_text(json.dumps(results, indent=2))
    for k in (
        "bare_asgi_1kb",
        "bare_asgi_1kb_plain_get",
        "get_caller_identity",
        "create_delete_user",
    ):
        print(describe(k, results[k]))  # type: ignore[arg-type]
    print(
        f"GetCallerIdentity / bare = {results['gci_fraction_of_bare']} (medians of {REPEAT} runs each)"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
