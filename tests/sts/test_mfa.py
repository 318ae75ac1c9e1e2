"""MFA on AssumeRole and GetSessionToken: right, wrong, reused, wrong serial."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from rolegate.errors import AccessDenied
from tests.sts.conftest import A, World, allow, role_arn, trust

MFA_REQUIRED = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def enable_device(world: World, user: str) -> tuple[str, pyotp.TOTP]:
    dev = world.iam(A, "CreateVirtualMFADevice", VirtualMFADeviceName=f"{user}-phone")[
        "VirtualMFADevice"
    ]
    totp = pyotp.TOTP(dev["Base32StringSeed"].decode())
    t = world.now.timestamp()
    world.iam(
        A,
        "EnableMFADevice",
        UserName=user,
        SerialNumber=dev["SerialNumber"],
        AuthenticationCode1=totp.at(t - 30),
        AuthenticationCode2=totp.at(t),
    )
    # Move past the steps spent enabling the device.
    world.advance(90)
    return dev["SerialNumber"], totp


def code(world: World, totp: pyotp.TOTP) -> str:
    return totp.at(world.now.timestamp())


@pytest.fixture
def setup(world: World) -> tuple[Any, str, pyotp.TOTP]:
    alice = world.user(A, "alice")
    serial, totp = enable_device(world, "alice")
    world.role(A, "gated", trust({"AWS": alice.arn}, condition=MFA_REQUIRED))
    return alice, serial, totp


def test_assume_role_requires_mfa_when_trust_says_so(world: World, setup: Any) -> None:
    alice, serial, totp = setup
    with pytest.raises(AccessDenied):
        world.assume(alice, role_arn(A, "gated"))
    out = world.assume(
        alice, role_arn(A, "gated"), SerialNumber=serial, TokenCode=code(world, totp)
    )
    c = world.claims(out["Credentials"])
    assert c.mfa_authenticated is True
    assert c.mfa_auth_time == int(world.now.timestamp())


def test_wrong_code_reused_code_and_wrong_serial(world: World, setup: Any) -> None:
    alice, serial, totp = setup
    right = code(world, totp)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(AccessDenied) as e:
        world.assume(alice, role_arn(A, "gated"), SerialNumber=serial, TokenCode=wrong)
    assert e.value.message.startswith(
        "MultiFactorAuthentication failed with invalid MFA one time pass code."
    )
    world.assume(alice, role_arn(A, "gated"), SerialNumber=serial, TokenCode=right)
    with pytest.raises(AccessDenied):  # accepted once only
        world.assume(alice, role_arn(A, "gated"), SerialNumber=serial, TokenCode=right)
    world.advance(30)
    with pytest.raises(AccessDenied) as e:
        world.assume(
            alice,
            role_arn(A, "gated"),
            SerialNumber=f"arn:aws:iam::{A}:mfa/nobodys",
            TokenCode=code(world, totp),
        )
    assert "unable to validate MFA code" in e.value.message


def test_someone_elses_device_does_not_count(world: World, setup: Any) -> None:
    _, serial, totp = setup
    bob = world.user(A, "bob")
    world.role(A, "bobs", trust({"AWS": bob.arn}, condition=MFA_REQUIRED))
    with pytest.raises(AccessDenied):
        world.assume(bob, role_arn(A, "bobs"), SerialNumber=serial, TokenCode=code(world, totp))


def test_mfa_age_is_in_the_context_and_carried_by_sessions(world: World, setup: Any) -> None:
    alice, serial, totp = setup
    world.role(
        A,
        "fresh",
        trust({"AWS": alice.arn}, condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "600"}}),
    )
    # GetSessionToken with MFA: its sessions carry the MFA facts into AssumeRole.
    st = world.sts(alice, "GetSessionToken", SerialNumber=serial, TokenCode=code(world, totp))
    session = world.principal(st["Credentials"])
    assert session.session.mfa_authenticated is True
    world.assume(session, role_arn(A, "gated"))
    world.assume(session, role_arn(A, "fresh"))
    world.advance(900)
    with pytest.raises(AccessDenied):  # the MFA is now too old
        world.assume(session, role_arn(A, "fresh"))
    # Without MFA, GetSessionToken credentials say "false".
    plain = world.principal(world.sts(alice, "GetSessionToken")["Credentials"])
    assert plain.session.mfa_authenticated is False
    with pytest.raises(AccessDenied):
        world.assume(plain, role_arn(A, "gated"))


def test_role_sessions_own_no_device(world: World, setup: Any) -> None:
    alice, serial, totp = setup
    world.role(A, "r", trust({"AWS": alice.arn}), allow("sts:AssumeRole"))
    s = world.principal(world.assume(alice, role_arn(A, "r"))["Credentials"])
    with pytest.raises(AccessDenied) as e:
        world.assume(s, role_arn(A, "gated"), SerialNumber=serial, TokenCode=code(world, totp))
    assert "unable to validate MFA code" in e.value.message
