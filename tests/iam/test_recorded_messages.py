"""Error answers whose code or wording AWS gives differently from a plain
reading of the API reference (recorded against AWS, LocalStack's snapshots)."""

from __future__ import annotations

import pytest

from rolegate.errors import (
    EntityAlreadyExists,
    InvalidInput,
    MalformedPolicyDocument,
    NoSuchEntity,
    ValidationError,
)

from .conftest import ACCOUNT, trust


def test_policy_arn_that_is_no_arn_is_a_validation_error(iam):
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    with pytest.raises(ValidationError) as e:
        iam("AttachRolePolicy", RoleName="r", PolicyArn="longpolicynamebutnoarn")
    assert e.value.message == "ARN longpolicynamebutnoarn is not valid."
    with pytest.raises(InvalidInput):  # an ARN, but not of a policy
        iam("AttachRolePolicy", RoleName="r", PolicyArn="arn:aws:s3:::bucket")


def test_password_policy_instance_profile_and_mfa_wording(iam):
    with pytest.raises(NoSuchEntity) as e:
        iam("DeleteAccountPasswordPolicy")
    assert e.value.message == "The account policy with name PasswordPolicy cannot be found."

    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust())
    iam("CreateInstanceProfile", InstanceProfileName="p")
    with pytest.raises(NoSuchEntity) as e:
        iam("RemoveRoleFromInstanceProfile", InstanceProfileName="p", RoleName="r")
    assert e.value.message == "Role r in Instance Profile p cannot be found."

    iam("CreateVirtualMFADevice", VirtualMFADeviceName="m")
    with pytest.raises(EntityAlreadyExists) as e:
        iam("CreateVirtualMFADevice", VirtualMFADeviceName="m")
    assert e.value.message == "MFA device already exists."
    serial = f"arn:aws:iam::{ACCOUNT}:mfa/nonexistent-device"
    with pytest.raises(NoSuchEntity) as e:
        iam("DeleteVirtualMFADevice", SerialNumber=serial)
    assert e.value.message == f"MFA Device with serial number {serial} does not exist."


def test_account_summary_trust_json_and_new_profile(iam):
    summary = iam("GetAccountSummary")["SummaryMap"]
    for flag in (
        "AccountAccessKeysPresent",
        "AccountPasswordPresent",
        "AccountSigningCertificatesPresent",
    ):
        assert summary[flag] == 0
    broken = '{"Version":"2012-10-17","Statement":[{"Action":"sts:AssumeRole","Principal":"*","Effect":"Allow",}]}'
    with pytest.raises(MalformedPolicyDocument) as e:
        iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=broken)
    assert e.value.message == "This policy contains invalid Json"
    iam("CreateRole", RoleName="ok", AssumeRolePolicyDocument=trust())
    with pytest.raises(MalformedPolicyDocument) as e:
        iam("UpdateAssumeRolePolicy", RoleName="ok", PolicyDocument=broken)
    assert e.value.message == "This policy contains invalid Json"
    created = iam("CreateInstanceProfile", InstanceProfileName="np")["InstanceProfile"]
    assert "Tags" not in created
    assert iam("GetInstanceProfile", InstanceProfileName="np")["InstanceProfile"]["Tags"] == []
