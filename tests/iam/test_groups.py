from __future__ import annotations

import pytest

from rolegate.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from tests.iam.conftest import ACCOUNT, all_pages, allow


def test_group_lifecycle(iam):
    g = iam("CreateGroup", GroupName="Devs", Path="/eng/")["Group"]
    assert g["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/eng/Devs"
    assert g["GroupId"].startswith("AGPA")
    with pytest.raises(EntityAlreadyExists) as e:
        iam("CreateGroup", GroupName="devs")
    assert e.value.message == "Group with name devs already exists."
    got = iam("GetGroup", GroupName="DEVS")
    assert (
        got["Group"]["GroupName"] == "Devs" and got["Users"] == [] and got["IsTruncated"] is False
    )
    assert [x["GroupName"] for x in iam("ListGroups")["Groups"]] == ["Devs"]
    assert iam("ListGroups", PathPrefix="/ops/")["Groups"] == []
    iam("DeleteGroup", GroupName="devs")
    with pytest.raises(NoSuchEntity) as e:
        iam("GetGroup", GroupName="devs")
    assert e.value.message == "The group with name devs cannot be found."


def test_membership(iam):
    iam("CreateGroup", GroupName="g1")
    iam("CreateGroup", GroupName="g2")
    for n in ("ann", "ben", "cat"):
        iam("CreateUser", UserName=n)
        iam("AddUserToGroup", GroupName="g1", UserName=n)
    iam("AddUserToGroup", GroupName="g1", UserName="ANN")  # repeat: no-op
    iam("AddUserToGroup", GroupName="g2", UserName="ann")
    users = all_pages(iam, "GetGroup", "Users", GroupName="g1", MaxItems=2)
    assert [u["UserName"] for u in users] == ["ann", "ben", "cat"]
    groups = iam("ListGroupsForUser", UserName="ann")["Groups"]
    assert [g["GroupName"] for g in groups] == ["g1", "g2"]
    iam("RemoveUserFromGroup", GroupName="g1", UserName="ann")
    assert [g["GroupName"] for g in iam("ListGroupsForUser", UserName="ann")["Groups"]] == ["g2"]
    # Removing a non-member succeeds, as AWS answers (recorded); a missing
    # user is named before a missing group.
    iam("RemoveUserFromGroup", GroupName="g1", UserName="ann")
    with pytest.raises(NoSuchEntity) as e:
        iam("RemoveUserFromGroup", GroupName="nogroup", UserName="nobody")
    assert e.value.message == "The user with name nobody cannot be found."
    with pytest.raises(NoSuchEntity) as e:
        iam("AddUserToGroup", GroupName="g1", UserName="nobody")
    assert e.value.message == "The user with name nobody cannot be found."
    with pytest.raises(NoSuchEntity) as e:
        iam("AddUserToGroup", GroupName="nogroup", UserName="ann")
    assert e.value.message == "The group with name nogroup cannot be found."


def test_groups_per_user_quota(iam):
    iam("CreateUser", UserName="joiner")
    for i in range(10):
        iam("CreateGroup", GroupName=f"g{i}")
        iam("AddUserToGroup", GroupName=f"g{i}", UserName="joiner")
    iam("CreateGroup", GroupName="g10")
    with pytest.raises(LimitExceeded) as e:
        iam("AddUserToGroup", GroupName="g10", UserName="joiner")
    assert e.value.message == "Cannot exceed quota for GroupsPerUser: 10"


def test_delete_group_conflicts(iam):
    iam("CreateGroup", GroupName="g")
    iam("CreateUser", UserName="u")
    iam("AddUserToGroup", GroupName="g", UserName="u")
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteGroup", GroupName="g")
    assert e.value.message == "Cannot delete entity, must remove users from group first."
    iam("RemoveUserFromGroup", GroupName="g", UserName="u")
    iam("PutGroupPolicy", GroupName="g", PolicyName="p", PolicyDocument=allow())
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteGroup", GroupName="g")
    assert e.value.message == "Cannot delete entity, must delete policies first."
    iam("DeleteGroupPolicy", GroupName="g", PolicyName="p")
    iam("AttachGroupPolicy", GroupName="g", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteGroup", GroupName="g")
    assert e.value.message == "Cannot delete entity, must detach all policies first."
    iam("DetachGroupPolicy", GroupName="g", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam("DeleteGroup", GroupName="g")


def test_group_actions_authorise_on_the_group(iam):
    iam("CreateGroup", GroupName="g", Path="/x/")
    iam("CreateUser", UserName="u")
    iam("AddUserToGroup", GroupName="g", UserName="u")
    assert iam.auth.calls[-1][:2] == ("iam:AddUserToGroup", f"arn:aws:iam::{ACCOUNT}:group/x/g")


def test_update_group_keeps_members(iam):
    iam("CreateGroup", GroupName="a")
    iam("CreateUser", UserName="u")
    iam("AddUserToGroup", GroupName="a", UserName="u")
    iam("UpdateGroup", GroupName="a", NewGroupName="b", NewPath="/x/")
    got = iam("GetGroup", GroupName="b")
    assert got["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/x/b"
    assert [u["UserName"] for u in got["Users"]] == ["u"]
    assert [g["GroupName"] for g in iam("ListGroupsForUser", UserName="u")["Groups"]] == ["b"]
    with pytest.raises(NoSuchEntity):
        iam("GetGroup", GroupName="a")
    iam("CreateGroup", GroupName="c")
    with pytest.raises(EntityAlreadyExists):
        iam("UpdateGroup", GroupName="b", NewGroupName="C")
