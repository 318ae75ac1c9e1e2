"""Virtual MFA devices are identified by path and name together, as their serial
(arn:aws:iam::ACCOUNT:mfa{path}{name}) is: AWS's CreateVirtualMFADevice reference
("Use with path to uniquely identify a virtual MFA device"). A taken path and name
is "MFA device already exists." (recorded against AWS in 2026, LocalStack's
test_iam_mfa snapshot; CloudTrail once recorded "MFADevice entity at the same path
and name already exists.")."""

from __future__ import annotations

import pytest

from rolegate.errors import EntityAlreadyExists, NoSuchEntity

from .conftest import ACCOUNT, Iam

DUP = "MFA device already exists."


def create(iam: Iam, name: str, path: str | None = None) -> str:
    extra = {"Path": path} if path else {}
    out = iam("CreateVirtualMFADevice", VirtualMFADeviceName=name, **extra)
    return out["VirtualMFADevice"]["SerialNumber"]


def test_same_name_under_two_paths(iam: Iam) -> None:
    root = create(iam, "phone")
    team = create(iam, "phone", "/team/")
    assert root == f"arn:aws:iam::{ACCOUNT}:mfa/phone"
    assert team == f"arn:aws:iam::{ACCOUNT}:mfa/team/phone"
    listed = [d["SerialNumber"] for d in iam("ListVirtualMFADevices")["VirtualMFADevices"]]
    assert sorted(listed) == sorted([root, team])
    iam("TagMFADevice", SerialNumber=team, Tags=[{"Key": "k", "Value": "team"}])
    assert iam("ListMFADeviceTags", SerialNumber=root)["Tags"] == []
    iam("DeleteVirtualMFADevice", SerialNumber=team)
    assert [d["SerialNumber"] for d in iam("ListVirtualMFADevices")["VirtualMFADevices"]] == [root]
    with pytest.raises(NoSuchEntity):
        iam("DeleteVirtualMFADevice", SerialNumber=team)


@pytest.mark.parametrize("path", [None, "/team/"])
def test_same_path_and_name_is_taken(iam: Iam, path: str | None) -> None:
    create(iam, "phone", path)
    with pytest.raises(EntityAlreadyExists) as e:
        create(iam, "phone", path)
    assert e.value.message == DUP
    assert e.value.status == 409


def test_device_stored_by_bare_name_is_still_found(iam: Iam) -> None:
    # devices created before path and name were the key were stored by name alone
    serial = f"arn:aws:iam::{ACCOUNT}:mfa/old/legacy"
    with iam.store.transaction() as tx:
        tx.insert(
            ACCOUNT,
            "mfa",
            "legacy",
            entity_id="AAAALEGACYLEGACYLEGAC",
            arn=serial,
            path="/old/",
            data={"seed_enc": iam.store.encrypt(b"JBSWY3DPEHPK3PXP"), "tags": []},
        )
    with pytest.raises(EntityAlreadyExists):
        create(iam, "legacy", "/old/")
    iam("TagMFADevice", SerialNumber=serial, Tags=[{"Key": "k", "Value": "v"}])
    iam("DeleteVirtualMFADevice", SerialNumber=serial)
    assert iam("ListVirtualMFADevices")["VirtualMFADevices"] == []
