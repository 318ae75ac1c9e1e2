"""Virtual MFA devices: TOTP (RFC 6238: SHA-1, 30-second steps, 6 digits).

Pure: the time (``now``, epoch seconds) and randomness (``rng``) are passed
in, as ``cryptography``'s ``TOTP.verify(totp, time)`` does. Codes are
compared in constant time. Replay protection is the caller's: it claims the
matched counter once (``store.claim_once("mfa", f"{serial}:{counter}", ...)``),
which is why the checks return the counter rather than a bool.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import io
from typing import Protocol

import pyotp
import segno

__all__ = [
    "CODE_DIGITS",
    "STEP_SECONDS",
    "check_two_consecutive",
    "new_seed",
    "provisioning_uri",
    "qr_png",
    "totp_counter_for",
]

STEP_SECONDS = 30
CODE_DIGITS = 6
# 32 Base32 characters = 160 bits, the key size RFC 4226 §4 recommends.
SEED_LENGTH = 32
_BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class ChoiceRng(Protocol):
    def choice(self, seq: str, /) -> str: ...


def new_seed(rng: ChoiceRng) -> str:
    """A fresh Base32 seed (what IAM returns as ``Base32StringSeed``)."""
    return "".join(rng.choice(_BASE32_ALPHABET) for _ in range(SEED_LENGTH))


def _totp(seed: str) -> pyotp.TOTP:
    try:
        base64.b32decode(seed + "=" * (-len(seed) % 8), casefold=True)
    except (binascii.Error, ValueError):
        raise ValueError("MFA seed is not valid Base32") from None
    return pyotp.TOTP(seed, digits=CODE_DIGITS, interval=STEP_SECONDS)


def provisioning_uri(seed: str, account_name: str, issuer: str) -> str:
    """``otpauth://totp/<issuer>:<account>?secret=...&issuer=...`` for authenticator apps."""
    return _totp(seed).provisioning_uri(name=account_name, issuer_name=issuer)


def qr_png(uri: str) -> bytes:
    """The provisioning URI as a QR code PNG (IAM's ``QRCodePNG``)."""
    out = io.BytesIO()
    # Error level M survives a smudged phone screen; scale 4 keeps ~40 modules
    # comfortably scannable without bloating the response.
    segno.make(uri, error="m", micro=False).save(out, kind="png", scale=4, border=4)
    return out.getvalue()


def _well_formed(code: object) -> bool:
    return isinstance(code, str) and len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


def _matches(totp: pyotp.TOTP, counter: int, code: str) -> bool:
    if counter < 0:
        return False
    return hmac.compare_digest(totp.generate_otp(counter).encode(), code.encode())


def totp_counter_for(seed: str, code: str, now: int, window: int = 1) -> int | None:
    """The time step ``code`` is valid for within ``window`` steps of ``now``, else None.

    Every step in the window is checked (no early exit), so the time taken
    does not say which step matched.
    """
    if not _well_formed(code) or window < 0:
        return None
    totp = _totp(seed)
    current = int(now) // STEP_SECONDS
    found: int | None = None
    for counter in range(current - window, current + window + 1):
        if _matches(totp, counter, code) and found is None:
            found = counter
    return found


def check_two_consecutive(
    seed: str, code1: str, code2: str, now: int, *, window: int = 2
) -> int | None:
    """Counter of ``code2`` if ``code1``, ``code2`` are consecutive codes, else None.

    For EnableMFADevice/ResyncMFADevice: the user types one code, waits for
    the next, then submits, so ``code2`` is usually the current step.
    ``code2``'s step may lie up to ``window`` steps before ``now`` or one
    after (a fast device clock).
    """
    if not (_well_formed(code1) and _well_formed(code2)) or window < 0:
        return None
    totp = _totp(seed)
    current = int(now) // STEP_SECONDS
    found: int | None = None
    for counter in range(current - window, current + 2):
        ok = _matches(totp, counter - 1, code1) & _matches(totp, counter, code2)
        if ok and found is None:
            found = counter
    return found
