"""AssumeRoleWithWebIdentity per second through a real `rolegate serve`
(one worker), with a warm JWKS cache, over 64 keep-alive connections.

The issuer is the tests' loopback OIDC issuer (discovery + JWKS over http,
hence ROLEGATE_DEV_ALLOW_HTTP_ISSUERS=1). The request is unsigned, so the
body is built once and replayed: a JWT is a bearer token valid until exp and
has no replay cache (AWS keeps none either), so every request does the full
work: provider lookup, RS256 verification, trust policy, sealing a session.
The JWKS must be fetched once, during warm-up; the figure reports how many
fetches happened during the measured run (expected: 0).

Run: python bench/bench_federation.py -> prints and writes bench/results/federation.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from loadgen import run_load  # noqa: E402

from tests.e2e.server import Server  # noqa: E402
from tests.federation.oidc_issuer import OidcIssuer  # noqa: E402

DURATION = float(os.environ.get("BENCH_SECONDS", "5"))
CONNS = 64
ACCOUNT = "123456789012"


def unsigned_request(host: str, port: int, body: str) -> bytes:
    data = body.encode()
    head = (
        f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def main() -> None:
    results: dict[str, object] = {"connections": CONNS, "duration_s": DURATION, "workers": 1}
    with tempfile.TemporaryDirectory() as tmp, OidcIssuer() as issuer:
        srv = Server(Path(tmp), env={"ROLEGATE_DEV_ALLOW_HTTP_ISSUERS": "1"}).start(workers=1)
        try:
            iam = srv.client("iam")
            provider_arn = iam.create_open_id_connect_provider(
                Url=issuer.url, ClientIDList=[issuer.client_id], ThumbprintList=["a" * 40]
            )["OpenIDConnectProviderArn"]
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": provider_arn},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {f"{issuer.provider_url}:aud": issuer.client_id},
                            "StringLike": {f"{issuer.provider_url}:sub": "repo:org/*"},
                        },
                    }
                ],
            }
            role_arn = iam.create_role(
                RoleName="bench-ci", AssumeRolePolicyDocument=json.dumps(trust)
            )["Role"]["Arn"]
            # Valid for the whole run (exp is checked on every request).
            token = issuer.mint({"sub": "repo:org/app:ref:refs/heads/main"}, lifetime=3600)
            body = urlencode(
                {
                    "Action": "AssumeRoleWithWebIdentity",
                    "Version": "2011-06-15",
                    "RoleArn": role_arn,
                    "RoleSessionName": "bench",
                    "WebIdentityToken": token,
                }
            )
            # Warm the JWKS cache (and check the request works) before measuring.
            warm = httpx.post(
                srv.endpoint,
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            )
            assert warm.status_code == 200, warm.text
            jwks_before = issuer.jwks_hits
            raw = unsigned_request("127.0.0.1", srv.port, body)
            r = run_load(
                "127.0.0.1", srv.port, lambda c, i: [raw], connections=CONNS, duration=DURATION
            )
            r["jwks_fetches_during_run"] = issuer.jwks_hits - jwks_before
            r["token_chars"] = len(token)
            r["alg"] = "RS256"
            results["assume_role_with_web_identity_warm_jwks"] = r
        finally:
            srv.stop()

    out = ROOT / "bench" / "results" / "federation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    r = results["assume_role_with_web_identity_warm_jwks"]
    print(
        f"AssumeRoleWithWebIdentity (warm JWKS): {r['rps']} req/s, "  # type: ignore[index]
        f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "  # type: ignore[index]
        f"statuses {r['statuses']}, JWKS fetches during run {r['jwks_fetches_during_run']}"  # type: ignore[index]
    )


if __name__ == "__main__":
    main()
