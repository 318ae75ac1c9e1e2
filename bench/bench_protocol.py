"""Micro-benchmark of the protocol layer on the AssumeRole hot path.

Standalone: ``.venv/bin/python bench/bench_protocol.py``. Prints µs per call
and writes bench/results/protocol.json. Compare with DESIGN.md's budget:
parse_qsl ~20 µs vs a dedicated parser ~4 µs for a 300 B body; an XML
f-string template ~1 µs.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

from rolegate.errors import AccessDenied
from rolegate.protocol import (
    decode_request,
    encode_error,
    encode_response,
    get_service,
    parse_form,
)

# What boto3 sends for a typical AssumeRole (reference §1.1), ~300 bytes.
BODY = (
    b"Action=AssumeRole&Version=2011-06-15"
    b"&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy-role"
    b"&RoleSessionName=build-4711&DurationSeconds=3600"
    b"&ExternalId=ext-7f3a9c&Tags.member.1.Key=team&Tags.member.1.Value=payments"
    b"&TransitiveTagKeys.member.1=team"
    b"&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fread-only"
    b"&SourceIdentity=alice"
)

RESULT = {
    "Credentials": {
        "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
        "SessionToken": "A" * 400,
        "Expiration": datetime(2026, 11, 28, 2, 21, 55, tzinfo=UTC),
    },
    "AssumedRoleUser": {
        "AssumedRoleId": "AROA3XFRBF535EXAMPLE:build-4711",
        "Arn": "arn:aws:sts::123456789012:assumed-role/deploy-role/build-4711",
    },
    "PackedPolicySize": 6,
    "SourceIdentity": "alice",
}


def per_call_us(fn, number: int) -> float:
    """Best of many short runs, in µs per call: on a shared machine the
    minimum is the least disturbed measurement."""
    # CPU time of this thread, not wall time: time spent descheduled while
    # other processes run is not the code's cost.
    timer = timeit.Timer(fn, timer=time.thread_time)
    return min(timer.repeat(number=number // 40, repeat=200)) / (number // 40) * 1e6


def main() -> None:
    spec = get_service("sts")  # model loading and compilation are start-up costs
    params = dict(parse_form(BODY))
    error = AccessDenied("User: arn:aws:iam::123456789012:user/u is not authorized")
    figures = {
        "body_bytes": len(BODY),
        "parse_form_us": per_call_us(lambda: parse_form(BODY), 20000),
        "parse_qsl_us": per_call_us(
            lambda: parse_qsl(BODY.decode(), keep_blank_values=True), 20000
        ),
        "decode_request_us": per_call_us(lambda: decode_request(spec, "AssumeRole", params), 20000),
        "parse_and_decode_us": per_call_us(
            lambda: decode_request(spec, "AssumeRole", dict(parse_form(BODY))), 20000
        ),
        "encode_response_us": per_call_us(
            lambda: encode_response(spec, "AssumeRole", RESULT, "c6104cbe-af31-11e0"), 20000
        ),
        "encode_error_us": per_call_us(lambda: encode_error(spec, error, "req"), 20000),
    }
    figures = {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}
    report = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        # Other work on the machine inflates every figure; record how busy it was.
        "load_average_1m": os.getloadavg()[0],
        "results": figures,
    }
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    out = Path(__file__).resolve().parent / "results" / "protocol.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
