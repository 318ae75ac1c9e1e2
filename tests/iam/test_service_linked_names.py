"""CreateServiceLinkedRole's names, paths, trust and refusals, as recorded against AWS
(LocalStack's snapshots, tests/aws/services/iam/test_iam.snapshot.json, TestIAMServiceRoles)
and AWS's table "AWS services that work with IAM"."""

from __future__ import annotations

import json

import pytest

from rolegate.errors import InvalidInput

from .conftest import ACCOUNT

NAMES = [
    (
        "custom-resource.application-autoscaling.amazonaws.com",
        "ApplicationAutoScaling_CustomResource",
    ),
    ("ecs.application-autoscaling.amazonaws.com", "ApplicationAutoScaling_ECSService"),
    ("cassandra.application-autoscaling.amazonaws.com", "ApplicationAutoScaling_CassandraTable"),
    ("autoscaling.amazonaws.com", "AutoScaling"),
    ("elasticloadbalancing.amazonaws.com", "ElasticLoadBalancing"),
    ("ecs.amazonaws.com", "ECS"),
    ("rds.amazonaws.com", "RDS"),
    ("organizations.amazonaws.com", "Organizations"),
    ("sso.amazonaws.com", "SSO"),
    ("support.amazonaws.com", "Support"),
    ("trustedadvisor.amazonaws.com", "TrustedAdvisor"),
    ("config.amazonaws.com", "Config"),
    ("cloudtrail.amazonaws.com", "CloudTrail"),
    ("guardduty.amazonaws.com", "AmazonGuardDuty"),
    ("securityhub.amazonaws.com", "SecurityHub"),
    ("acm.amazonaws.com", "CertificateManager"),
    ("dms.amazonaws.com", "DMSServerless"),
    ("elasticfilesystem.amazonaws.com", "AmazonElasticFileSystem"),
    ("lakeformation.amazonaws.com", "LakeFormationDataAccess"),
    ("waf.amazonaws.com", "WAFLogging"),
    ("accountdiscovery.ssm.amazonaws.com", "AmazonSSM_AccountDiscovery"),
    ("docdb-elastic.amazonaws.com", "DocDB-Elastic"),
    ("eks-fargate.amazonaws.com", "AmazonEKSForFargate"),
]


@pytest.mark.parametrize("service, suffix", NAMES)
def test_name_path_and_trust(iam, service, suffix):
    role = iam("CreateServiceLinkedRole", AWSServiceName=service)["Role"]
    name = f"AWSServiceRoleFor{suffix}"
    assert role["RoleName"] == name
    assert role["Path"] == f"/aws-service-role/{service}/"
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/{service}/{name}"
    # AWS's trust document names the service and the action as plain strings
    assert json.loads(role["AssumeRolePolicyDocument"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
            }
        ],
    }


@pytest.mark.parametrize("service", ["other.amazonaws.com", "my-svc.amazonaws.com"])
def test_service_without_a_service_linked_role(iam, service):
    with pytest.raises(InvalidInput) as e:
        iam("CreateServiceLinkedRole", AWSServiceName=service)
    assert e.value.message == f"Invalid service name: {service}"
    assert iam("ListRoles")["Roles"] == []


def test_custom_suffix_only_where_the_service_takes_one(iam):
    for service in ("autoscaling.amazonaws.com", "connect.amazonaws.com", "lexv2.amazonaws.com"):
        iam("CreateServiceLinkedRole", AWSServiceName=service, CustomSuffix="x1")
    for service in ("ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com", "sso.amazonaws.com"):
        with pytest.raises(InvalidInput) as e:
            iam("CreateServiceLinkedRole", AWSServiceName=service, CustomSuffix="x1")
        assert e.value.message == f"Custom suffix is not allowed for {service}"
