"""Names and ARNs name an entity exactly.

IAM names are unique regardless of case ("Names are not distinguished by
case. For example, you cannot create resources named both "MyResource" and
"myresource"", IAM API Reference, CreateRole), so a lookup by *name* finds
the one entity whatever the case. An *ARN* is not folded: AssumeRole of
``role/myrole`` does not assume ``role/MyRole``. Folding is ASCII-only
(AWS's names are ASCII, ``[\\w+=,.@-]`` with Java's ASCII ``\\w``), so
KELVIN SIGN (U+212A, lower-cased to ``k`` by Unicode) names nothing.
"""

from __future__ import annotations

import pytest

from rolegate.errors import (
    AccessDenied,
    EntityAlreadyExists,
    MalformedPolicyDocument,
    NoSuchEntity,
)
from rolegate.store import ascii_lower
from tests.sts.conftest import A, World, allow, role_arn, trust

KELVIN = "\u212a"


def test_assume_role_of_an_arn_in_another_case_is_denied(world: World) -> None:
    caller = world.user(A, "caller", allow("sts:AssumeRole"))
    world.role(A, "MyRole", trust({"AWS": A}))
    world.assume(caller, role_arn(A, "MyRole"))
    for wrong in ("myrole", "MYROLE", "Myrole"):
        with pytest.raises(AccessDenied) as e:
            world.assume(caller, role_arn(A, wrong))
        assert e.value.message.startswith(
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole "
            f"on resource: {role_arn(A, wrong)}"
        )


def test_assume_role_with_a_unicode_lookalike_is_denied(world: World) -> None:
    caller = world.user(A, "caller", allow("sts:AssumeRole"))
    world.role(A, "key", trust({"AWS": A}))
    with pytest.raises(AccessDenied):
        world.assume(caller, role_arn(A, f"{KELVIN}ey"))
    with pytest.raises(AccessDenied):
        world.assume(caller, role_arn(A, f"{KELVIN}EY"))


def test_names_are_unique_and_found_regardless_of_ascii_case(world: World) -> None:
    world.role(A, "admin", trust({"AWS": A}))
    with pytest.raises(EntityAlreadyExists):
        world.role(A, "Admin", trust({"AWS": A}))
    # GetRole by name finds the role whatever the ASCII case, with its own name.
    got = world.iam(A, "GetRole", RoleName="ADMIN")["Role"]
    assert got["RoleName"] == "admin"


def test_no_unicode_case_folding_in_names(world: World) -> None:
    world.role(A, "key", trust({"AWS": A}))
    world.user(A, "kate")
    with pytest.raises(NoSuchEntity):
        world.iam(A, "GetRole", RoleName=f"{KELVIN}ey")
    with pytest.raises(NoSuchEntity):
        world.iam(A, "GetUser", UserName=f"{KELVIN}ate")
    assert world.store.get(A, "role", f"{KELVIN}ey") is None


def test_trust_principal_with_a_unicode_lookalike_binds_nobody(world: World) -> None:
    world.user(A, "kate")
    with pytest.raises(MalformedPolicyDocument):
        world.role(A, "r", trust({"AWS": f"arn:aws:iam::{A}:user/{KELVIN}ate"}))


def test_ascii_lower_folds_only_ascii() -> None:
    assert ascii_lower("MyRole") == "myrole"
    assert ascii_lower(f"{KELVIN}ey") == f"{KELVIN}ey"
    assert ascii_lower("\u0130X") == "\u0130x"  # LATIN CAPITAL I WITH DOT stays
