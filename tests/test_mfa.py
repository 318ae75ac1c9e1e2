from __future__ import annotations

import random
import re
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from rolegate import mfa

# RFC 6238 Appendix B (SHA-1): the seed is ASCII "12345678901234567890".
RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_VECTORS = [  # (time, 8-digit code); we use the last 6 digits
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("t", "code8"), RFC_VECTORS)
def test_rfc6238_vectors(t: int, code8: str) -> None:
    code = code8[-6:]
    assert mfa.totp_counter_for(RFC_SEED, code, t, window=0) == t // 30


def test_window() -> None:
    seed = mfa.new_seed(random.Random(1))
    now = 1_700_000_015
    step = now // 30
    totp = pyotp.TOTP(seed)
    prev, cur, nxt, old = (totp.generate_otp(step + d) for d in (-1, 0, 1, -2))
    assert mfa.totp_counter_for(seed, cur, now) == step
    assert mfa.totp_counter_for(seed, prev, now) == step - 1
    assert mfa.totp_counter_for(seed, nxt, now) == step + 1
    if old not in (prev, cur, nxt):
        assert mfa.totp_counter_for(seed, old, now) is None
    assert mfa.totp_counter_for(seed, prev, now, window=0) in (None, step)


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "12345a", "１２３４５６", None, 123456])
def test_malformed_codes(bad: object) -> None:
    assert mfa.totp_counter_for(RFC_SEED, bad, 59) is None  # type: ignore[arg-type]
    assert mfa.check_two_consecutive(RFC_SEED, bad, "287082", 59) is None  # type: ignore[arg-type]


def test_two_consecutive() -> None:
    seed = mfa.new_seed(random.Random(2))
    totp = pyotp.TOTP(seed)
    now = 1_700_000_000
    step = now // 30
    c1, c2 = totp.generate_otp(step - 1), totp.generate_otp(step)
    assert mfa.check_two_consecutive(seed, c1, c2, now) == step
    # Typed slowly: the pair is one step old.
    assert mfa.check_two_consecutive(seed, c1, c2, now + 30) == step
    # Too old for the default window.
    assert mfa.check_two_consecutive(seed, c1, c2, now + 30 * 10) is None
    # Order matters, and two identical current codes are not consecutive.
    if c1 != c2:
        assert mfa.check_two_consecutive(seed, c2, c1, now) is None
        assert mfa.check_two_consecutive(seed, c2, c2, now) is None


def test_new_seed_deterministic_base32() -> None:
    a = mfa.new_seed(random.Random(9))
    assert a == mfa.new_seed(random.Random(9))
    assert re.fullmatch(r"[A-Z2-7]{32}", a)


def test_bad_seed() -> None:
    with pytest.raises(ValueError):
        mfa.totp_counter_for("not base32!", "123456", 0)


def test_provisioning_uri_and_qr() -> None:
    seed = mfa.new_seed(random.Random(3))
    uri = mfa.provisioning_uri(seed, "alice@123456789012", "rolegate")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    q = parse_qs(parts.query)
    assert q["secret"] == [seed] and q["issuer"] == ["rolegate"]
    png = mfa.qr_png(uri)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 10_000
