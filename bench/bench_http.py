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

from loadgen import plain_request, run_load, signed_request, start_uvicorn_app  # noqa: E402

from tests.e2e.server import Server  # noqa: E402

DURATION = float(os.environ.get("BENCH_SECONDS", "5"))
CONNS = 64


def main() -> None:
    results: dict[str, object] = {"connections": CONNS, "duration_s": DURATION, "workers": 1}
    bare, bport = start_uvicorn_app("bare_app:app")
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
        results["bare_asgi_1kb"] = run_load(
            "127.0.0.1", bport, lambda c, i: [same], connections=CONNS, duration=DURATION
        )
        get = plain_request("127.0.0.1", bport)
        results["bare_asgi_1kb_plain_get"] = run_load(
            "127.0.0.1", bport, lambda c, i: [get], connections=CONNS, duration=DURATION
        )
    finally:
        bare.terminate()
        bare.wait()

    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp)).start(workers=1)
        try:
            ak, sk = srv.admin["access_key_id"], srv.admin["secret_access_key"]
            gci = signed_request(
                "127.0.0.1",
                srv.port,
                "Action=GetCallerIdentity&Version=2011-06-15",
                service="sts",
                access_key=ak,
                secret_key=sk,
            )
            results["get_caller_identity"] = run_load(
                "127.0.0.1", srv.port, lambda c, i: [gci], connections=CONNS, duration=DURATION
            )

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
            srv.stop()

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
        r = results[k]  # type: ignore[assignment]
        print(
            f"{k:24s} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  {r['statuses']}"
        )  # type: ignore[index]
    print(f"GetCallerIdentity / bare = {results['gci_fraction_of_bare']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
