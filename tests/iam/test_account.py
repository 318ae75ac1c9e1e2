from __future__ import annotations

import pytest

from rolegate.errors import AccessDenied, EntityAlreadyExists, NoSuchEntity, ValidationError
from tests.iam.conftest import OTHER_ACCOUNT, Iam, allow, trust


def _other(iam) -> Iam:
    from rolegate.context import Principal

    return iam.as_(
        Principal(
            kind="root",
            arn=f"arn:aws:iam::{OTHER_ACCOUNT}:root",
            account_id=OTHER_ACCOUNT,
            user_id=OTHER_ACCOUNT,
        )
    )


def test_alias_lifecycle(iam):
    assert iam("ListAccountAliases") == {"AccountAliases": [], "IsTruncated": False}
    iam("CreateAccountAlias", AccountAlias="my-corp")
    assert iam.auth.calls[-1][:2] == ("iam:CreateAccountAlias", "*")
    assert iam("ListAccountAliases")["AccountAliases"] == ["my-corp"]
    # Idempotent for the owner; a new alias replaces the old one.
    iam("CreateAccountAlias", AccountAlias="my-corp")
    iam("CreateAccountAlias", AccountAlias="my-corp-2")
    assert iam("ListAccountAliases")["AccountAliases"] == ["my-corp-2"]

    other = _other(iam)
    with pytest.raises(EntityAlreadyExists, match="my-corp-2"):
        other("CreateAccountAlias", AccountAlias="my-corp-2")
    # The replaced alias was released.
    other("CreateAccountAlias", AccountAlias="my-corp")
    assert other("ListAccountAliases")["AccountAliases"] == ["my-corp"]

    with pytest.raises(NoSuchEntity):
        iam("DeleteAccountAlias", AccountAlias="my-corp")
    iam("DeleteAccountAlias", AccountAlias="my-corp-2")
    assert iam("ListAccountAliases")["AccountAliases"] == []
    other("DeleteAccountAlias", AccountAlias="my-corp")
    iam("CreateAccountAlias", AccountAlias="my-corp")
    assert iam("ListAccountAliases")["AccountAliases"] == ["my-corp"]


@pytest.mark.parametrize("alias", ["ab", "Upper", "a--b", "-ab", "ab-", "a_b", "x" * 64])
def test_alias_pattern(iam, alias):
    with pytest.raises(ValidationError):
        iam("CreateAccountAlias", AccountAlias=alias)


def test_account_actions_are_authorised(iam):
    iam.auth.deny.update({"iam:GetAccountSummary", "iam:CreateAccountAlias"})
    with pytest.raises(AccessDenied):
        iam("GetAccountSummary")
    with pytest.raises(AccessDenied):
        iam("CreateAccountAlias", AccountAlias="abc")


def test_account_summary(iam):
    empty = iam("GetAccountSummary")["SummaryMap"]
    assert iam.auth.calls[-1][:2] == ("iam:GetAccountSummary", "*")
    assert empty["Users"] == 0 and empty["Roles"] == 0 and empty["Policies"] == 0
    assert empty["UsersQuota"] == 5000 and empty["RolesQuota"] == 1000
    assert empty["AccessKeysPerUserQuota"] == 2 and empty["GlobalEndpointTokenVersion"] == 1
    assert empty["AccountMFAEnabled"] == 0 and empty["PolicyVersionsInUse"] == 0

    iam("CreateUser", UserName="u1")
    iam("CreateUser", UserName="u2")
    iam("CreateGroup", GroupName="g")
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    pol = iam("CreatePolicy", PolicyName="p", PolicyDocument=allow())["Policy"]
    iam("AttachUserPolicy", UserName="u1", PolicyArn=pol["Arn"])
    iam("AttachRolePolicy", RoleName="r", PolicyArn=pol["Arn"])
    iam("CreateInstanceProfile", InstanceProfileName="ip")
    iam("CreateVirtualMFADevice", VirtualMFADeviceName="dev")
    s = iam("GetAccountSummary")["SummaryMap"]
    assert (s["Users"], s["Groups"], s["Roles"], s["Policies"]) == (2, 1, 1, 1)
    assert s["InstanceProfiles"] == 1 and s["PolicyVersionsInUse"] == 2
    assert s["MFADevices"] == 1 and s["MFADevicesInUse"] == 0
    assert s["Providers"] == 0
    # Another account's summary is its own.
    assert _other(iam)("GetAccountSummary")["SummaryMap"]["Users"] == 0
