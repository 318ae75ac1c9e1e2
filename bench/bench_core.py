"""Micro-benchmarks of the pure core: session token seal/open, SigV4 verify.

Run: python bench/bench_core.py  -> prints and writes bench/results/core.json

Each figure is the median over REPEATS runs of NUMBER calls, in µs of process
CPU time per call (the minimum is reported too).
The inputs are what a real request carries: an assumed-role token with tags,
a session policy and an issuer, and a botocore-shaped AssumeRole POST signed
with session credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rolegate import sigv4, tokens  # noqa: E402

NUMBER = 2000
REPEATS = 15

NOW = 1764292915
RING = tokens.KeyRing([("k2026", bytes(range(32))), ("k2025", bytes(range(1, 33)))])
CLAIMS = tokens.SessionClaims(
    access_key_id="ASIAQWERTYUIOPASDFGH",
    secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    kind="assumed-role",
    account_id="123456789012",
    arn="arn:aws:sts::123456789012:assumed-role/deploy-role/ci-session-4411",
    user_id="AROA3XFRBF535EXAMPLE1:ci-session-4411",
    issued_at=NOW,
    expires_at=NOW + 3600,
    role_arn="arn:aws:iam::123456789012:role/service/deploy-role",
    role_id="AROA3XFRBF535EXAMPLE1",
    role_name="deploy-role",
    session_name="ci-session-4411",
    session_policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
    policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",),
    tags=(("team", "platform"), ("env", "prod")),
    transitive_tag_keys=("team",),
    source_identity="alice",
    issuer={
        "type": "IAMUser",
        "arn": "arn:aws:iam::123456789012:user/alice",
        "principalId": "AIDAJQABLZS4A3QDU576Q",
        "accountId": "123456789012",
        "userName": "alice",
    },
)

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SIGNED_AT = datetime(2026, 11, 28, 1, 21, 55, tzinfo=UTC)
BODY = (
    b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr"
    b"&RoleSessionName=ss&Tags.member.1.Key=a&Tags.member.1.Value=b"
    b"&TransitiveTagKeys.member.1=a&DurationSeconds=900"
)


def _signed_request(token: str) -> sigv4.HttpRequest:
    """Sign like botocore: content-type;host;x-amz-date;x-amz-security-token."""
    amz_date = SIGNED_AT.strftime("%Y%m%dT%H%M%SZ")
    headers = [
        ("Host", "127.0.0.1:8080"),
        ("Accept-Encoding", "identity"),
        ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        ("User-Agent", "Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux lang/python#3.11"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Security-Token", token),
        ("Content-Length", str(len(BODY))),
    ]
    req = sigv4.HttpRequest("POST", "/", "", headers, BODY)
    signed = ("content-type", "host", "x-amz-date", "x-amz-security-token")
    scope = f"{amz_date[:8]}/eu-west-1/sts/aws4_request"
    creq = sigv4.canonical_request(req, signed)
    sts = sigv4.string_to_sign(creq, amz_date, scope)
    key = sigv4.signing_key(SECRET, amz_date[:8], "eu-west-1", "sts")
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    authz = (
        f"AWS4-HMAC-SHA256 Credential=ASIAQWERTYUIOPASDFGH/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={sig}"
    )
    return sigv4.HttpRequest("POST", "/", "", [*headers, ("Authorization", authz)], BODY)


def measure(fn: Callable[[], object]) -> dict[str, float]:
    fn()  # warm caches (lru caches, first-call imports)
    # CPU time of this process, not wall time: on a shared machine the wall
    # clock also counts the time other processes hold the CPU.
    runs = [
        t / NUMBER * 1e6
        for t in timeit.repeat(fn, number=NUMBER, repeat=REPEATS, timer=time.process_time)
    ]
    return {"median_us": round(statistics.median(runs), 2), "min_us": round(min(runs), 2)}


def main() -> None:
    token = tokens.seal(CLAIMS, RING, NOW)
    assert tokens.open_token(token, RING, NOW, access_key_id=CLAIMS.access_key_id) == CLAIMS
    req = _signed_request(token)
    auth = sigv4.parse_auth(req)
    assert auth is not None
    sigv4.verify(req, auth, SECRET, SIGNED_AT, service="sts")
    cache = sigv4.SigningKeyCache()

    results: dict[str, object] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        # Other work on the machine inflates every figure; judge them with this.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "token_chars": len(token),
        "number": NUMBER,
        "repeats": REPEATS,
        "token_seal": measure(lambda: tokens.seal(CLAIMS, RING, NOW)),
        "token_open": measure(
            lambda: tokens.open_token(token, RING, NOW, access_key_id=CLAIMS.access_key_id)
        ),
        "sigv4_parse_auth": measure(lambda: sigv4.parse_auth(req)),
        "sigv4_verify_cached_key": measure(
            lambda: sigv4.verify(req, auth, SECRET, SIGNED_AT, service="sts", key_cache=cache)
        ),
        "sigv4_verify_uncached_key": measure(
            lambda: sigv4.verify(req, auth, SECRET, SIGNED_AT, service="sts")
        ),
        "sigv4_parse_and_verify_cached": measure(
            lambda: sigv4.verify(
                req, sigv4.parse_auth(req), SECRET, SIGNED_AT, service="sts", key_cache=cache
            )  # type: ignore[arg-type]
        ),
        "budget_us": {"token_seal_or_open": 3.5, "sigv4_verify_cached": 10, "sigv4_uncached": 20},
    }
    out = ROOT / "bench" / "results" / "core.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"token: {len(token)} chars; load average {results['load_average_1m']}")
    for name, value in results.items():
        if isinstance(value, dict) and "median_us" in value:
            print(f"{name:32s} median {value['median_us']:7.2f} µs   min {value['min_us']:7.2f} µs")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
