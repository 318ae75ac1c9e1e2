"""Service-linked roles: created for a service under /aws-service-role/, with
AWS's names and trust, protected from DeleteRole and UpdateAssumeRolePolicy,
deleted through DeleteServiceLinkedRole."""

from __future__ import annotations

import json

import pytest

from rolegate.errors import InvalidInput, UnmodifiableEntity

from .conftest import ACCOUNT, trust


def test_lifecycle(iam):
    role = iam("CreateServiceLinkedRole", AWSServiceName="autoscaling.amazonaws.com")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling"
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    assert role["Arn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/"
        "AWSServiceRoleForAutoScaling"
    )
    assert json.loads(role["AssumeRolePolicyDocument"])["Statement"][0]["Principal"] == {
        "Service": "autoscaling.amazonaws.com"
    }
    assert iam.auth.calls[-1][0] == "iam:CreateServiceLinkedRole"
    assert iam.auth.calls[-1][2] == {"iam:AWSServiceName": "autoscaling.amazonaws.com"}
    with pytest.raises(InvalidInput) as e:
        iam("CreateServiceLinkedRole", AWSServiceName="autoscaling.amazonaws.com")
    assert e.value.message == (
        "Service role name AWSServiceRoleForAutoScaling has been taken in this account, "
        "please try a different suffix."
    )
    custom = iam(
        "CreateServiceLinkedRole", AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="x1"
    )["Role"]
    assert custom["RoleName"] == "AWSServiceRoleForAutoScaling_x1"
    ecs = iam("CreateServiceLinkedRole", AWSServiceName="ecs.amazonaws.com")["Role"]
    assert ecs["RoleName"] == "AWSServiceRoleForECS"

    name = "AWSServiceRoleForAutoScaling"
    with pytest.raises(UnmodifiableEntity) as e:
        iam("DeleteRole", RoleName=name)
    assert e.value.message == (
        f"Cannot perform the operation on the protected role '{name}' - "
        "this role is only modifiable by AWS"
    )
    with pytest.raises(UnmodifiableEntity):
        iam("UpdateAssumeRolePolicy", RoleName=name, PolicyDocument=trust())
    task = iam("DeleteServiceLinkedRole", RoleName=name)["DeletionTaskId"]
    assert task.startswith(f"task/aws-service-role/autoscaling.amazonaws.com/{name}/")
    assert iam("GetServiceLinkedRoleDeletionStatus", DeletionTaskId=task) == {"Status": "SUCCEEDED"}
    assert [r["RoleName"] for r in iam("ListRoles")["Roles"]] == [
        "AWSServiceRoleForAutoScaling_x1",
        "AWSServiceRoleForECS",
    ]
    iam("CreateRole", RoleName="plain", AssumeRolePolicyDocument=trust())
    with pytest.raises(InvalidInput):
        iam("DeleteServiceLinkedRole", RoleName="plain")
    with pytest.raises(InvalidInput):
        iam("CreateServiceLinkedRole", AWSServiceName="not a service")
