"""Why RolegateApp yields once before inline work: the latency tail under
uvloop with and without that yield, on a bare app doing fixed busy work.

uvloop reads every ready socket, then runs the tasks those reads started. A
request that lands just after the read waits for that whole batch and was
then seen to run at the end of the next one: two rounds of 64 requests, so
the p99 sits at about twice the median. One `await asyncio.sleep(0)` before
the work lets the loop poll again first, and late arrivals join the round.

Run: python bench/bench_loop_order.py -> bench/results/loop_order.json
(rounds alternate the two variants; this machine is noisy, so compare the
medians of the p99/p50 ratios, not single runs).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import plain_request, run_load, start_uvicorn_app  # noqa: E402

DURATION = float(os.environ.get("BENCH_SECONDS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "6"))
SPIN_US = os.environ.get("BENCH_SPIN_US", "200")
CONNS = 64


def run_variant(yield_first: bool) -> dict[str, Any]:
    proc, port = start_uvicorn_app(
        "bare_app:spin_app",
        {"BENCH_SPIN_US": SPIN_US, "BENCH_YIELD": "1" if yield_first else "0"},
    )
    try:
        req = plain_request("127.0.0.1", port)
        r = run_load("127.0.0.1", port, lambda c, i: [req], connections=CONNS, duration=DURATION)
    finally:
        proc.terminate()
        proc.wait()
    r["p99_over_p50"] = round(r["p99_ms"] / r["p50_ms"], 2) if r["p50_ms"] else None
    return r


def main() -> None:
    runs: dict[str, list[dict[str, Any]]] = {"no_yield": [], "yield": []}
    for _ in range(ROUNDS):
        for name, flag in (("no_yield", False), ("yield", True)):
            r = run_variant(flag)
            runs[name].append(r)
            print(
                f"{name:9s} {r['rps']:>8.1f} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms"
                f"  p99/p50 {r['p99_over_p50']}"
            )
    summary = {
        name: {
            "median_rps": statistics.median(float(r["rps"]) for r in rs),  # type: ignore[arg-type]
            "median_p99_over_p50": round(
                statistics.median(float(r["p99_over_p50"]) for r in rs),  # type: ignore[arg-type]
                2,
            ),
        }
        for name, rs in runs.items()
    }
    out = ROOT / "bench" / "results" / "loop_order.json"
    out.write_text(
        json.dumps(
            {"spin_us": float(SPIN_US), "connections": CONNS, "summary": summary, "runs": runs},
            indent=2,
        )
    )
    for name, s in summary.items():
        print(f"{name:9s} median {s['median_rps']:.0f} req/s, p99/p50 {s['median_p99_over_p50']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
