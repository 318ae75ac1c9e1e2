"""STS figures for issue 4: AssumeRole requests/s and p50/p99 through 64
keep-alive connections with one server worker and with two, plus the cost
of sealing and opening a session token.

Run: python bench/bench_sts.py  -> prints and writes bench/results/sts.json
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import describe, median_of_runs, run_load, signed_request  # noqa: E402

from tests.e2e.server import Server  # noqa: E402

DURATION = float(os.environ.get("BENCH_SECONDS", "5"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
CONNS = 64
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def token_costs() -> dict[str, float]:
    import secrets

    from rolegate import tokens

    ring = tokens.KeyRing([("k1", secrets.token_bytes(32))])
    now = int(time.time())
    claims = tokens.SessionClaims(
        access_key_id="ASIAEXAMPLEEXAMPLE00",
        secret_access_key="s" * 40,
        kind="assumed-role",
        account_id="123456789012",
        arn="arn:aws:sts::123456789012:assumed-role/bench/s",
        user_id="AROAEXAMPLEEXAMPLE000:s",
        issued_at=now,
        expires_at=now + 3600,
        role_arn="arn:aws:iam::123456789012:role/bench",
        role_id="AROAEXAMPLEEXAMPLE000",
        role_name="bench",
        session_name="s",
        tags=(("Project", "x"),),
        issuer={"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/admin"},
    )
    tok = tokens.seal(claims, ring, now)

    def per_op(fn, n=20000) -> float:  # type: ignore[no-untyped-def]
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            runs.append((time.perf_counter() - t0) / n * 1e6)
        return round(statistics.median(runs), 2)

    return {
        "seal_us": per_op(lambda: tokens.seal(claims, ring, now)),
        "open_us": per_op(
            lambda: tokens.open_token(tok, ring, now, access_key_id=claims.access_key_id)
        ),
        "token_chars": len(tok),
    }


def assume_role_load(workers: int, env: dict[str, str] | None = None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp), env=env).start(workers=workers)
        try:
            srv.client("iam").create_role(RoleName="bench", AssumeRolePolicyDocument=TRUST)
            time.sleep(0.7)
            ak, sk = srv.admin["access_key_id"], srv.admin["secret_access_key"]
            body = (
                "Action=AssumeRole&Version=2011-06-15&RoleArn="
                + quote("arn:aws:iam::123456789012:role/bench", safe="")
                + "&RoleSessionName=bench&DurationSeconds=900"
            )
            raw = signed_request(
                "127.0.0.1", srv.port, body, service="sts", access_key=ak, secret_key=sk
            )
            return run_load(
                "127.0.0.1", srv.port, lambda c, i: [raw], connections=CONNS, duration=DURATION
            )
        finally:
            srv.stop()


def main() -> None:
    results: dict[str, object] = {"connections": CONNS, "duration_s": DURATION}
    results["token"] = token_costs()
    # Alternated, so that a slow spell of the machine hits both alike.
    one_runs, two_runs = [], []
    for _ in range(REPEAT):
        one_runs.append(assume_role_load(1))
        two_runs.append(assume_role_load(2))
    results["assume_role_1_worker"] = median_of_runs(one_runs)
    results["assume_role_2_workers"] = median_of_runs(two_runs)
    # For comparison: one worker with its audit rows committed by a thread
    # instead of a child process (ROLEGATE_AUDIT_PROCESS=0; two workers on
    # this 2-core machine already run that way).
    results["assume_role_1_worker_audit_thread"] = assume_role_load(
        1, {"ROLEGATE_AUDIT_PROCESS": "0"}
    )
    one = results["assume_role_1_worker"]["rps"]  # type: ignore[index]
    two = results["assume_role_2_workers"]["rps"]  # type: ignore[index]
    results["two_over_one"] = round(two / one, 2) if one else None
    results["targets"] = {"one_worker_rps": 2000, "p99_ms": 25, "two_over_one": 1.5}
    out = ROOT / "bench" / "results" / "sts.json"
    out.write_text(json.dumps(results, indent=2))
    t = results["token"]
    print(f"token seal {t['seal_us']} us  open {t['open_us']} us  ({t['token_chars']} chars)")  # type: ignore[index]
    for k in ("assume_role_1_worker", "assume_role_2_workers", "assume_role_1_worker_audit_thread"):
        print(describe(k, results[k]))  # type: ignore[arg-type]
    print(f"two workers / one = {results['two_over_one']} (medians of {REPEAT} runs each)")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
