"""Virtual MFA devices with real TOTP codes (pyotp, from the returned seed) and
the STS-side check ``verify_mfa_for_user``."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pyotp
import pytest

from rolegate.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    NoSuchEntity,
    ValidationError,
)
from rolegate.iam.mfa import mfa_devices_for_user, verify_mfa_for_user

from .conftest import ACCOUNT, Iam, role_session, user_principal

SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/alice-phone"
BAD_SERIAL_MSG = "MultiFactorAuthentication failed, unable to validate MFA code"
BAD_CODE_MSG = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def create_device(iam: Iam, name: str = "alice-phone", **extra: Any) -> tuple[str, pyotp.TOTP]:
    out = iam("CreateVirtualMFADevice", VirtualMFADeviceName=name, **extra)
    device = out["VirtualMFADevice"]
    seed = device["Base32StringSeed"]
    assert isinstance(seed, bytes)
    return device["SerialNumber"], pyotp.TOTP(seed.decode("ascii"))


def codes(totp: pyotp.TOTP, iam: Iam) -> dict[str, str]:
    """Two consecutive codes, the second for the step of the next call's clock."""
    now = iam.now
    return {
        "AuthenticationCode1": totp.at(now - timedelta(seconds=30)),
        "AuthenticationCode2": totp.at(now),
    }


def enable(iam: Iam, serial: str, totp: pyotp.TOTP, user: str = "alice") -> None:
    iam("EnableMFADevice", UserName=user, SerialNumber=serial, **codes(totp, iam))


@pytest.fixture
def alice(iam: Iam) -> Iam:
    iam("CreateUser", UserName="alice")
    iam("CreateUser", UserName="bob")
    return iam


def test_create_returns_seed_and_png(iam: Iam) -> None:
    out = iam(
        "CreateVirtualMFADevice",
        VirtualMFADeviceName="alice-phone",
        Path="/team/",
        Tags=[{"Key": "owner", "Value": "alice"}],
    )
    device = out["VirtualMFADevice"]
    assert device["SerialNumber"] == f"arn:aws:iam::{ACCOUNT}:mfa/team/alice-phone"
    seed = device["Base32StringSeed"]
    assert isinstance(seed, bytes) and len(base64.b32decode(seed)) >= 10
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    assert device["Tags"] == [{"Key": "owner", "Value": "alice"}]
    assert [c[:2] for c in iam.auth.calls] == [
        ("iam:CreateVirtualMFADevice", device["SerialNumber"]),
        ("iam:TagMFADevice", device["SerialNumber"]),  # created with Tags
    ]
    # The seed is a secret: not in the audit record, and stored only encrypted.
    assert seed.decode() not in repr(iam.last.audit_response)
    entity = iam.store.get(ACCOUNT, "mfa", "team/alice-phone")
    assert seed.decode() not in repr(entity.data)
    assert iam.store.decrypt(entity.data["seed_enc"]) == seed


def test_duplicate_device(iam: Iam) -> None:
    create_device(iam)
    with pytest.raises(EntityAlreadyExists):
        create_device(iam)


def test_enable_list_get(alice: Iam) -> None:
    iam = alice
    serial, totp = create_device(iam)
    listed = iam("ListVirtualMFADevices", AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in listed] == [serial]

    enable_time = iam.now
    enable(iam, serial, totp)
    assert iam.auth.calls[-1][:2] == ("iam:EnableMFADevice", f"arn:aws:iam::{ACCOUNT}:user/alice")

    devices = iam("ListMFADevices", UserName="alice")
    assert devices["MFADevices"] == [
        {"UserName": "alice", "SerialNumber": serial, "EnableDate": enable_time}
    ]
    assert devices["IsTruncated"] is False
    # Without UserName: the signing user.
    as_alice = iam.as_(user_principal("alice"))
    assert as_alice("ListMFADevices")["MFADevices"][0]["SerialNumber"] == serial
    with pytest.raises(ValidationError):
        iam.as_(role_session())("ListMFADevices")
    assert iam("ListMFADevices", UserName="bob")["MFADevices"] == []

    assigned = iam("ListVirtualMFADevices", AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert assigned[0]["SerialNumber"] == serial
    assert assigned[0]["User"]["UserName"] == "alice"
    assert assigned[0]["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert assigned[0]["EnableDate"] == enable_time
    assert "Base32StringSeed" not in assigned[0] and "QRCodePNG" not in assigned[0]
    assert iam("ListVirtualMFADevices", AssignmentStatus="Unassigned")["VirtualMFADevices"] == []

    got = iam("GetMFADevice", SerialNumber=serial, UserName="alice")
    assert got == {"SerialNumber": serial, "UserName": "alice", "EnableDate": enable_time}
    assert as_alice("GetMFADevice", SerialNumber=serial) == got  # the signing user's device
    assert [e.arn for e in mfa_devices_for_user(iam.store, ACCOUNT, "ALICE")] == [serial]


def test_wrong_codes(alice: Iam) -> None:
    iam = alice
    serial, totp = create_device(iam)
    with pytest.raises(InvalidAuthenticationCode) as err:
        iam(
            "EnableMFADevice",
            UserName="alice",
            SerialNumber=serial,
            AuthenticationCode1="000000",
            AuthenticationCode2="111111",
        )
    assert err.value.status == 403
    assert err.value.message == "Authentication code for device is not valid."
    # Two codes of the same step are not two consecutive codes.
    now = iam.now
    with pytest.raises(InvalidAuthenticationCode):
        iam(
            "EnableMFADevice",
            UserName="alice",
            SerialNumber=serial,
            AuthenticationCode1=totp.at(now),
            AuthenticationCode2=totp.at(now),
        )
    # Codes from long ago are stale.
    old = iam.now - timedelta(hours=1)
    with pytest.raises(InvalidAuthenticationCode):
        iam(
            "EnableMFADevice",
            UserName="alice",
            SerialNumber=serial,
            AuthenticationCode1=totp.at(old - timedelta(seconds=30)),
            AuthenticationCode2=totp.at(old),
        )
    assert iam("ListMFADevices", UserName="alice")["MFADevices"] == []


def test_enable_errors(alice: Iam) -> None:
    iam = alice
    serial, totp = create_device(iam)
    with pytest.raises(NoSuchEntity):
        iam("EnableMFADevice", UserName="carol", SerialNumber=serial, **codes(totp, iam))
    with pytest.raises(NoSuchEntity):
        iam(
            "EnableMFADevice",
            UserName="alice",
            SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/nope",
            **codes(totp, iam),
        )
    enable(iam, serial, totp)
    iam.now += timedelta(seconds=90)
    with pytest.raises(EntityAlreadyExists):
        enable(iam, serial, totp, user="bob")


def test_enable_codes_cannot_be_replayed_for_sts(alice: Iam) -> None:
    iam = alice
    serial, totp = create_device(iam)
    used = iam.now
    enable(iam, serial, totp)
    with pytest.raises(AccessDenied, match=BAD_CODE_MSG):
        verify_mfa_for_user(iam.store, ACCOUNT, "alice", serial, totp.at(used), used)


def test_verify_mfa_for_user(alice: Iam) -> None:
    iam = alice
    serial, totp = create_device(iam)
    enable(iam, serial, totp)
    later = iam.now + timedelta(minutes=5)
    code = totp.at(later)
    when = verify_mfa_for_user(iam.store, ACCOUNT, "alice", serial, code, later)
    assert when == int(later.timestamp())
    # Once only.
    with pytest.raises(AccessDenied) as err:
        verify_mfa_for_user(iam.store, ACCOUNT, "alice", serial, code, later)
    assert err.value.message == BAD_CODE_MSG
    # A code of the previous step is still accepted (±1 step) but also only once.
    nxt = later + timedelta(seconds=30)
    assert verify_mfa_for_user(
        iam.store, ACCOUNT, "ALICE", serial, totp.at(nxt), int(nxt.timestamp())
    )
    with pytest.raises(AccessDenied, match=BAD_CODE_MSG):
        verify_mfa_for_user(iam.store, ACCOUNT, "alice", serial, "123", nxt)
    with pytest.raises(AccessDenied, match=BAD_CODE_MSG):
        verify_mfa_for_user(
            iam.store, ACCOUNT, "alice", serial, totp.at(nxt + timedelta(hours=1)), nxt
        )
    # Wrong serial, another user's device, a foreign account.
    for user, ser, acct in (
        ("alice", f"arn:aws:iam::{ACCOUNT}:mfa/nope", ACCOUNT),
        ("bob", serial, ACCOUNT),
        ("alice", serial, "210987654321"),
        ("alice", "GAHT12345678", ACCOUNT),
    ):
        with pytest.raises(AccessDenied, match=BAD_SERIAL_MSG):
            verify_mfa_for_user(iam.store, acct, user, ser, totp.at(nxt), nxt)


def test_deactivate_and_delete(alice: Iam) -> None:
    iam = alice
    serial, totp = create_device(iam)
    enable(iam, serial, totp)
    with pytest.raises(DeleteConflict, match="MFA device is still in use"):
        iam("DeleteVirtualMFADevice", SerialNumber=serial)
    with pytest.raises(NoSuchEntity):
        iam("DeactivateMFADevice", UserName="bob", SerialNumber=serial)
    iam("DeactivateMFADevice", UserName="alice", SerialNumber=serial)
    assert iam.auth.calls[-1][:2] == (
        "iam:DeactivateMFADevice",
        f"arn:aws:iam::{ACCOUNT}:user/alice",
    )
    assert iam("ListMFADevices", UserName="alice")["MFADevices"] == []
    # A deactivated device no longer passes STS checks.
    with pytest.raises(AccessDenied, match=BAD_SERIAL_MSG):
        later = iam.now + timedelta(minutes=10)
        verify_mfa_for_user(iam.store, ACCOUNT, "alice", serial, totp.at(later), later)
    iam("DeleteVirtualMFADevice", SerialNumber=serial)
    assert iam("ListVirtualMFADevices")["VirtualMFADevices"] == []
    with pytest.raises(NoSuchEntity):
        iam("DeleteVirtualMFADevice", SerialNumber=serial)


def test_deactivate_without_user_name(alice: Iam) -> None:
    iam = alice
    serial, totp = create_device(iam)
    enable(iam, serial, totp)
    iam("DeactivateMFADevice", SerialNumber=serial)
    assert iam("ListMFADevices", UserName="alice")["MFADevices"] == []
    unassigned = iam("ListVirtualMFADevices", AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [serial]


def test_get_mfa_device_is_authorised_on_the_user(alice: Iam) -> None:
    """The reference lists only the user resource type for iam:GetMFADevice:
    the named user, or without UserName the signing user -- never the
    device's ARN, nor the device's own user. The device must be that user's."""
    iam = alice
    serial, totp = create_device(iam)
    as_alice, as_bob = iam.as_(user_principal("alice")), iam.as_(user_principal("bob"))
    # Unassigned: authorised on the caller's user, and not the caller's device.
    with pytest.raises(NoSuchEntity, match="does not exist"):
        as_bob("GetMFADevice", SerialNumber=serial)
    assert iam.auth.calls[-1][:2] == ("iam:GetMFADevice", f"arn:aws:iam::{ACCOUNT}:user/bob")
    enable(iam, serial, totp)
    got = as_alice("GetMFADevice", SerialNumber=serial)
    assert got["SerialNumber"] == serial and got["UserName"] == "alice"
    assert iam.auth.calls[-1][:2] == ("iam:GetMFADevice", f"arn:aws:iam::{ACCOUNT}:user/alice")
    # Another user's device without UserName: authorised on the caller, not the owner.
    with pytest.raises(NoSuchEntity):
        as_bob("GetMFADevice", SerialNumber=serial)
    assert iam.auth.calls[-1][:2] == ("iam:GetMFADevice", f"arn:aws:iam::{ACCOUNT}:user/bob")
    # Named: that user.
    as_bob("GetMFADevice", SerialNumber=serial, UserName="alice")
    assert iam.auth.calls[-1][:2] == ("iam:GetMFADevice", f"arn:aws:iam::{ACCOUNT}:user/alice")
    # A denial on the user comes first, whatever the device.
    iam.auth.deny = {"iam:GetMFADevice"}
    with pytest.raises(AccessDenied, match="user/alice"):
        as_alice("GetMFADevice", SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/ghost")
    iam.auth.deny = set()
    with pytest.raises(ValidationError):
        iam.as_(role_session())("GetMFADevice", SerialNumber=serial)


def test_user_with_mfa_cannot_be_deleted(alice: Iam) -> None:
    iam = alice
    serial, totp = create_device(iam)
    enable(iam, serial, totp)
    with pytest.raises(DeleteConflict):
        iam("DeleteUser", UserName="alice")


def test_resync(alice: Iam) -> None:
    iam = alice
    serial, totp = create_device(iam)
    enable(iam, serial, totp)
    iam.now += timedelta(minutes=2)
    iam("ResyncMFADevice", UserName="alice", SerialNumber=serial, **codes(totp, iam))
    with pytest.raises(NoSuchEntity):
        iam.now += timedelta(minutes=2)
        iam("ResyncMFADevice", UserName="bob", SerialNumber=serial, **codes(totp, iam))


def test_mfa_device_tags(iam: Iam) -> None:
    serial, _ = create_device(iam)
    iam(
        "TagMFADevice",
        SerialNumber=serial,
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    )
    assert iam.auth.calls[-1][:2] == ("iam:TagMFADevice", serial)
    iam("UntagMFADevice", SerialNumber=serial, TagKeys=["a"])
    assert iam("ListMFADeviceTags", SerialNumber=serial)["Tags"] == [{"Key": "b", "Value": "2"}]
    listed = iam("ListVirtualMFADevices")["VirtualMFADevices"]
    assert listed[0]["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(NoSuchEntity):
        iam("ListMFADeviceTags", SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/other")


def test_list_virtual_devices_paginates(iam: Iam) -> None:
    for i in range(5):
        create_device(iam, f"dev{i}")
    first = iam("ListVirtualMFADevices", MaxItems=2)
    assert len(first["VirtualMFADevices"]) == 2 and first["IsTruncated"] is True
    seen = [d["SerialNumber"] for d in first["VirtualMFADevices"]]
    marker = first["Marker"]
    while marker:
        page = iam("ListVirtualMFADevices", MaxItems=2, Marker=marker)
        seen += [d["SerialNumber"] for d in page["VirtualMFADevices"]]
        marker = page.get("Marker")
    assert seen == [f"arn:aws:iam::{ACCOUNT}:mfa/dev{i}" for i in range(5)]
