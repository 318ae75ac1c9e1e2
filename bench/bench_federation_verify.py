"""Federation verification throughput: OIDC JWTs with a warm JWKS cache, and SAML.

Run: python bench/bench_federation_verify.py -> prints and writes
bench/results/federation_verify.json

The JWKS cache is warmed once through an in-memory ``fetch`` (no network), so
the figures are the per-token cost AssumeRoleWithWebIdentity pays in steady
state: header parsing, key selection, signature check, claim checks. Each
figure is the median (and minimum) over REPEATS runs of NUMBER calls, as
µs per call and verifications per second. SAML is measured too when pysaml2
and xmlsec1 are installed (dev extras), with an assertion-signed response.
"""

from __future__ import annotations

import json
import platform
import shutil
import statistics
import sys
import tempfile
import timeit
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from joserfc import jwt  # noqa: E402
from joserfc.jwk import ECKey, RSAKey  # noqa: E402

from rolegate.federation.jwks import JwksCache  # noqa: E402
from rolegate.federation.oidc import verify_web_identity_token  # noqa: E402

NUMBER = 300
REPEATS = 9
NOW = 1764292915
ISSUER = "https://oidc.example.test/tenant-1"
CLIENT_ID = "sts.amazonaws.com"


def _measure(fn: Callable[[], object], number: int = NUMBER) -> dict[str, float]:
    fn()  # warm-up (and fail fast if the input is wrong)
    runs = timeit.repeat(fn, number=number, repeat=REPEATS)
    per_call = [r / number * 1e6 for r in runs]
    median = statistics.median(per_call)
    return {
        "median_us": round(median, 2),
        "min_us": round(min(per_call), 2),
        "verifications_per_s": round(1e6 / median, 1),
    }


def _jwt_cases() -> dict[str, dict[str, float]]:
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    # A realistic key set: the current keys plus a few older ones.
    extra = [RSAKey.generate_key(2048, parameters={"kid": f"old-{i}"}) for i in range(3)]
    keys = [k.as_dict(private=False, use="sig") for k in (rsa, ec, *extra)]
    documents = {
        ISSUER + "/.well-known/openid-configuration": {
            "issuer": ISSUER,
            "jwks_uri": ISSUER + "/keys",
        },
        ISSUER + "/keys": {"keys": keys},
    }
    cache = JwksCache(documents.__getitem__, ttl_seconds=10**9)
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "repo:example/app:ref:refs/heads/main",
        "iat": NOW - 10,
        "exp": NOW + 300,
        "https://aws.amazon.com/tags": {
            "principal_tags": {"team": ["platform"], "env": ["prod"]},
            "transitive_tag_keys": ["team"],
        },
    }
    results: dict[str, dict[str, float]] = {}
    for name, key, alg in (("jwt_rs256", rsa, "RS256"), ("jwt_es256", ec, "ES256")):
        token = jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims, key, [alg])

        def run(token: str = token) -> object:
            return verify_web_identity_token(
                token,
                provider_url=ISSUER.removeprefix("https://"),
                client_ids=[CLIENT_ID],
                jwks=cache,
                now=NOW,
            )

        results[name] = _measure(run)
        results[name]["token_chars"] = len(token)
    results["jwks_fetches"] = {"count": cache.fetch_count}
    return results


def _saml_case() -> dict[str, float] | None:
    if shutil.which("xmlsec1") is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from tests.federation.saml_idp import TestIdP
    except ImportError:
        return None
    from rolegate.federation.saml import verify_saml_response

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idp = TestIdP(tmp)
        response = idp.response(
            "arn:aws:iam::111122223333:role/SamlRole",
            "arn:aws:iam::111122223333:saml-provider/Corp",
            "alice",
            attributes={"PrincipalTag:team": "platform", "TransitiveTagKeys": ["team"]},
        )
        now = datetime.now(UTC)

        def run() -> object:
            return verify_saml_response(
                response,
                certificates=[idp.certificate_pem],
                now=now,
                expected_issuer=idp.entity_id,
            )

        result = _measure(run, number=max(NUMBER // 5, 20))
        result["response_chars"] = len(response)
        return result


def main() -> None:
    results: dict[str, object] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "number": NUMBER,
        "repeats": REPEATS,
    }
    results.update(_jwt_cases())
    saml = _saml_case()
    if saml is not None:
        results["saml_assertion_signed"] = saml
    for name, value in results.items():
        if isinstance(value, dict) and "median_us" in value:
            print(
                f"{name:24s} {value['median_us']:9.1f} µs  (min {value['min_us']:.1f})"
                f"  {value['verifications_per_s']:9.1f} /s"
            )
    out = ROOT / "bench" / "results" / "federation_verify.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
