"""The MFA check STS uses: a ``SerialNumber``/``TokenCode`` pair against the
user's enabled virtual device (IAM's devices: ``rolegate.iam.mfa``).

A device is a store entity of kind ``mfa`` named by its path and name as its
serial has them; its TOTP seed is stored encrypted under the master key.
Every accepted TOTP code is claimed with ``store.claim_once("mfa",
"<serial>:<counter>", ...)``: a code used to enable a device, or to get
credentials from STS, can never be used again (RFC 6238 §5.2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rolegate import mfa as totp
from rolegate.errors import AccessDenied

MFA_KIND = "mfa"
CLAIM_NAMESPACE = "mfa"
TOTP_STEP = 30
# How long a claimed counter must stay remembered: a code for step c is
# accepted until step c + 1 (±1 step window), so a few steps past that it
# can no longer verify anyway and the claim may be forgotten.
_CLAIM_MARGIN_STEPS = 4

_STS_BAD_SERIAL = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA "
    "serial number is valid and associated with this user."
)
_STS_BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def epoch(now: datetime | int | float) -> int:
    return int(now.timestamp()) if isinstance(now, datetime) else int(now)


def device_keys(serial: str, account_id: str) -> tuple[str, str] | None:
    """(key, bare name) a virtual-device serial names in ``account_id``, else None.

    Serials of virtual devices are ARNs ``arn:aws:iam::<acct>:mfa<path><name>``;
    anything else (hardware serials, other accounts) names nothing here. The bare
    name finds devices stored before the path was part of the key.
    """
    parts = serial.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[4] != account_id:
        return None
    resource = parts[5]
    if not resource.startswith("mfa/"):
        return None
    name = resource.rsplit("/", 1)[1]
    return (resource[len("mfa/") :], name) if name else None


def find_device(reader: Any, account_id: str, serial: str) -> Any:
    """The device entity with this serial (``reader``: the store or a transaction)."""
    keys = device_keys(serial, account_id)
    if keys is None:
        return None
    for key in dict.fromkeys(keys):
        entity = reader.get(account_id, MFA_KIND, key)
        if entity is not None and entity.arn.lower() == serial.lower():
            return entity
    return None


def seed_of(store: Any, entity: Any) -> str:
    return store.decrypt(entity.data["seed_enc"]).decode("ascii")


def same_user(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def claim_expiry(counter: int) -> int:
    return (counter + _CLAIM_MARGIN_STEPS) * TOTP_STEP


def claim(store: Any, serial: str, counter: int, now: int) -> bool:
    # ``now`` is the request's clock, not the store's: the claim must outlive
    # the code's acceptance window as the verifier sees it.
    return bool(
        store.claim_once(CLAIM_NAMESPACE, f"{serial}:{counter}", claim_expiry(counter), now=now)
    )


def verify_mfa_for_user(
    store: Any,
    account_id: str,
    user_name: str,
    serial_number: str,
    token_code: str,
    now: datetime | int,
) -> int:
    """Check an STS ``SerialNumber``/``TokenCode`` pair for ``user_name``.

    Returns the MFA authentication time (epoch seconds, ``now``) to put in
    the session (``mfa_auth_time``). Raises ``AccessDenied`` with AWS's
    messages: the serial must name a device enabled for this user; the code
    must be valid now (±1 step) and never used before (it is claimed here,
    so a second request with the same code fails).
    """
    when = epoch(now)
    device = find_device(store, account_id, serial_number)
    if device is None or not same_user(device.data.get("user_name"), user_name):
        raise AccessDenied(_STS_BAD_SERIAL)
    code = str(token_code or "")
    if len(code) != 6 or not code.isdigit():
        raise AccessDenied(_STS_BAD_CODE)
    counter = totp.totp_counter_for(seed_of(store, device), code, when)
    if counter is None or not claim(store, device.arn, counter, when):
        raise AccessDenied(_STS_BAD_CODE)
    return when
