"""Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole,
GetServiceLinkedRoleDeletionStatus.

Tools create these for AWS services (Terraform's ``aws_iam_service_linked_role``,
ECS and Auto Scaling set-ups). A service-linked role lives under
``/aws-service-role/<service>/``, is named ``AWSServiceRoleFor<Name>`` (plus
``_<CustomSuffix>``), trusts only its service, and is protected: only the
service-linked-role actions may delete it (DeleteRole and
UpdateAssumeRolePolicy answer ``UnmodifiableEntity``, see ``roles.py``).

The names AWS gives come from each service; the table below holds AWS's
recorded names and those of the IAM User Guide, and a service not in it has
no service-linked role (InvalidInput, as AWS answers). Deletion is
immediate here, so a deletion task is ``SUCCEEDED`` once its role is gone.
rolegate has no service policies for these roles: none is attached.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from rolegate import ids
from rolegate.context import CallContext
from rolegate.errors import InvalidInput
from rolegate.iam import lookup
from rolegate.iam.lookup import ROLE
from rolegate.iam.roles import SERVICE_LINKED as FIELD
from rolegate.iam.roles import is_service_linked, role_output

PATH_PREFIX = "/aws-service-role/"

# What follows "AWSServiceRoleFor" in each service's role name. Recorded
# against AWS (LocalStack's snapshots, tests/aws/services/iam/test_iam.snapshot.json,
# TestIAMServiceRoles) where marked, else from "AWS services that work with IAM"
# (IAM User Guide, the "Service-linked role" column and each service's page).
# A service missing here has no service-linked role: InvalidInput.
_NAMES = {
    # recorded
    "accountdiscovery.ssm.amazonaws.com": "AmazonSSM_AccountDiscovery",
    "acm.amazonaws.com": "CertificateManager",
    "appmesh.amazonaws.com": "AppMesh",
    "autoscaling-plans.amazonaws.com": "AutoScalingPlans_EC2AutoScaling",
    "autoscaling.amazonaws.com": "AutoScaling",
    "backup.amazonaws.com": "Backup",
    "batch.amazonaws.com": "Batch",
    "cassandra.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_CassandraTable",
    "cks.kms.amazonaws.com": "KeyManagementServiceCustomKeyStores",
    "cloudtrail.amazonaws.com": "CloudTrail",
    "codestar-notifications.amazonaws.com": "CodeStarNotifications",
    "config.amazonaws.com": "Config",
    "connect.amazonaws.com": "AmazonConnect",
    "dms-fleet-advisor.amazonaws.com": "DMSFleetAdvisor",
    "dms.amazonaws.com": "DMSServerless",
    "docdb-elastic.amazonaws.com": "DocDB-Elastic",
    "ec2-instance-connect.amazonaws.com": "Ec2InstanceConnect",
    "ec2.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_EC2SpotFleetRequest",
    "ecr.amazonaws.com": "ECRTemplate",
    "ecs.amazonaws.com": "ECS",
    "eks-connector.amazonaws.com": "AmazonEKSConnector",
    "eks-fargate.amazonaws.com": "AmazonEKSForFargate",
    "eks-nodegroup.amazonaws.com": "AmazonEKSNodegroup",
    "eks.amazonaws.com": "AmazonEKS",
    "elasticache.amazonaws.com": "ElastiCache",
    "elasticbeanstalk.amazonaws.com": "ElasticBeanstalk",
    "elasticfilesystem.amazonaws.com": "AmazonElasticFileSystem",
    "elasticloadbalancing.amazonaws.com": "ElasticLoadBalancing",
    "email.cognito-idp.amazonaws.com": "AmazonCognitoIdpEmailService",
    "emr-containers.amazonaws.com": "AmazonEMRContainers",
    "emrwal.amazonaws.com": "EMRWAL",
    "fis.amazonaws.com": "FIS",
    "grafana.amazonaws.com": "AmazonGrafana",
    "imagebuilder.amazonaws.com": "ImageBuilder",
    "iotmanagedintegrations.amazonaws.com": "IoTManagedIntegrations",
    "kafka.amazonaws.com": "Kafka",
    "kafkaconnect.amazonaws.com": "KafkaConnect",
    "lakeformation.amazonaws.com": "LakeFormationDataAccess",
    "lex.amazonaws.com": "LexBots",
    "lexv2.amazonaws.com": "LexV2Bots",
    "lightsail.amazonaws.com": "Lightsail",
    "m2.amazonaws.com": "AWSM2",
    "memorydb.amazonaws.com": "MemoryDB",
    "mq.amazonaws.com": "AmazonMQ",
    "mrk.kms.amazonaws.com": "KeyManagementServiceMultiRegionKeys",
    "notifications.amazonaws.com": "AwsUserNotifications",
    "observability.aoss.amazonaws.com": "AmazonOpenSearchServerless",
    "opensearchservice.amazonaws.com": "AmazonOpenSearchService",
    "ops.apigateway.amazonaws.com": "APIGateway",
    "ops.emr-serverless.amazonaws.com": "AmazonEMRServerless",
    "opsdatasync.ssm.amazonaws.com": "SystemsManagerOpsDataSync",
    "opsinsights.ssm.amazonaws.com": "AmazonSSM_OpsInsights",
    "pullthroughcache.ecr.amazonaws.com": "ECRPullThroughCache",
    "ram.amazonaws.com": "ResourceAccessManager",
    "rds.amazonaws.com": "RDS",
    "redshift.amazonaws.com": "Redshift",
    "replication.cassandra.amazonaws.com": "KeyspacesReplication",
    "replication.ecr.amazonaws.com": "ECRReplication",
    "repository.sync.codeconnections.amazonaws.com": "GitSync",
    "resource-explorer-2.amazonaws.com": "ResourceExplorer",
    "rolesanywhere.amazonaws.com": "RolesAnywhere",
    "s3-outposts.amazonaws.com": "S3OnOutposts",
    "ses.amazonaws.com": "AmazonSES",
    "shield.amazonaws.com": "AWSShield",
    "ssm-incidents.amazonaws.com": "IncidentManager",
    "ssm-quicksetup.amazonaws.com": "SSMQuickSetup",
    "ssm.amazonaws.com": "AmazonSSM",
    "sso.amazonaws.com": "SSO",
    "vpcorigin.cloudfront.amazonaws.com": "CloudFrontVPCOrigin",
    "waf.amazonaws.com": "WAFLogging",
    "wafv2.amazonaws.com": "WAFV2Logging",
    # IAM User Guide
    "access-analyzer.amazonaws.com": "AccessAnalyzer",
    "compute-optimizer.amazonaws.com": "ComputeOptimizer",
    "custom-resource.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_CustomResource",
    "dax.amazonaws.com": "DAX",
    "delivery.logs.amazonaws.com": "LogDelivery",
    "dynamodb.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_DynamoDBTable",
    "ecs.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_ECSService",
    "elasticmapreduce.amazonaws.com": "EMRCleanup",
    "es.amazonaws.com": "AmazonElasticsearchService",
    "events.amazonaws.com": "CloudWatchEvents",
    "fsx.amazonaws.com": "AmazonFSx",
    "globalaccelerator.amazonaws.com": "GlobalAccelerator",
    "guardduty.amazonaws.com": "AmazonGuardDuty",
    "inspector2.amazonaws.com": "AmazonInspector2",
    "lambda.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_LambdaConcurrency",
    "macie.amazonaws.com": "AmazonMacie",
    "organizations.amazonaws.com": "Organizations",
    "rds.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_RDSCluster",
    "replicator.lambda.amazonaws.com": "LambdaReplicator",
    "sagemaker.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_SageMakerEndpoint",
    "securityhub.amazonaws.com": "SecurityHub",
    "spot.amazonaws.com": "EC2Spot",
    "spotfleet.amazonaws.com": "EC2SpotFleet",
    "support.amazonaws.com": "Support",
    "transitgateway.amazonaws.com": "VPCTransitGateway",
    "trustedadvisor.amazonaws.com": "TrustedAdvisor",
}
# Services AWS answered "Custom suffix is not allowed for <service>" (recorded as above).
_NO_SUFFIX = frozenset(
    {
        "accountdiscovery.ssm.amazonaws.com",
        "acm.amazonaws.com",
        "appmesh.amazonaws.com",
        "autoscaling-plans.amazonaws.com",
        "backup.amazonaws.com",
        "batch.amazonaws.com",
        "cassandra.application-autoscaling.amazonaws.com",
        "cks.kms.amazonaws.com",
        "cloudtrail.amazonaws.com",
        "codestar-notifications.amazonaws.com",
        "config.amazonaws.com",
        "dms-fleet-advisor.amazonaws.com",
        "dms.amazonaws.com",
        "docdb-elastic.amazonaws.com",
        "ec2-instance-connect.amazonaws.com",
        "ec2.application-autoscaling.amazonaws.com",
        "ecr.amazonaws.com",
        "ecs.amazonaws.com",
        "eks-connector.amazonaws.com",
        "eks-fargate.amazonaws.com",
        "eks-nodegroup.amazonaws.com",
        "eks.amazonaws.com",
        "elasticache.amazonaws.com",
        "elasticbeanstalk.amazonaws.com",
        "elasticfilesystem.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
        "email.cognito-idp.amazonaws.com",
        "emr-containers.amazonaws.com",
        "emrwal.amazonaws.com",
        "fis.amazonaws.com",
        "grafana.amazonaws.com",
        "imagebuilder.amazonaws.com",
        "iotmanagedintegrations.amazonaws.com",
        "kafka.amazonaws.com",
        "kafkaconnect.amazonaws.com",
        "lakeformation.amazonaws.com",
        "lex.amazonaws.com",
        "lightsail.amazonaws.com",
        "m2.amazonaws.com",
        "memorydb.amazonaws.com",
        "mq.amazonaws.com",
        "mrk.kms.amazonaws.com",
        "notifications.amazonaws.com",
        "observability.aoss.amazonaws.com",
        "opensearchservice.amazonaws.com",
        "ops.apigateway.amazonaws.com",
        "ops.emr-serverless.amazonaws.com",
        "opsdatasync.ssm.amazonaws.com",
        "opsinsights.ssm.amazonaws.com",
        "pullthroughcache.ecr.amazonaws.com",
        "ram.amazonaws.com",
        "rds.amazonaws.com",
        "redshift.amazonaws.com",
        "replication.cassandra.amazonaws.com",
        "replication.ecr.amazonaws.com",
        "repository.sync.codeconnections.amazonaws.com",
        "resource-explorer-2.amazonaws.com",
        "rolesanywhere.amazonaws.com",
        "s3-outposts.amazonaws.com",
        "ses.amazonaws.com",
        "shield.amazonaws.com",
        "ssm-incidents.amazonaws.com",
        "ssm-quicksetup.amazonaws.com",
        "ssm.amazonaws.com",
        "sso.amazonaws.com",
        "vpcorigin.cloudfront.amazonaws.com",
        "waf.amazonaws.com",
        "wafv2.amazonaws.com",
    }
)
_SERVICE = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com")
_TASK = re.compile(r"task/aws-service-role/([^/]+)/([^/]+)/([0-9a-f-]{36})")


def role_name(service: str, suffix: str | None) -> str:
    """AWS's name for ``service``'s role; InvalidInput when it has none or refuses ``suffix``."""
    base = _NAMES.get(service)
    if base is None:
        raise InvalidInput(f"Invalid service name: {service}")
    if suffix and service in _NO_SUFFIX:
        raise InvalidInput(f"Custom suffix is not allowed for {service}")
    return f"AWSServiceRoleFor{base}" + (f"_{suffix}" if suffix else "")


def trust_document(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def create_service_linked_role(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    service = params["AWSServiceName"]
    if not _SERVICE.fullmatch(service):
        raise InvalidInput(f"Invalid service name: {service}")
    name = role_name(service, params.get("CustomSuffix"))
    path = f"{PATH_PREFIX}{service}/"
    arn = ROLE.arn(account, path, name)
    lookup.authorize(
        ctx,
        "CreateServiceLinkedRole",
        arn,
        ROLE.audit_type,
        context={"iam:AWSServiceName": service},
    )
    taken = InvalidInput(
        f"Service role name {name} has been taken in this account, please try a different suffix."
    )
    with ctx.store.transaction() as tx:
        entity = lookup.insert_entity(
            tx,
            account,
            ROLE.kind,
            name,
            entity_id=ids.new_unique_id(ROLE.id_prefix, lookup.rng(ctx)),
            arn=arn,
            path=path,
            data={
                "assume_role_policy": trust_document(service),
                "description": params.get("Description"),
                "max_session_duration": 3600,
                "tags": [],
                "permissions_boundary": None,
                "inline_policies": {},
                "attached_policies": [],
                "last_used": None,
                FIELD: service,
            },
            now=ctx.now,
            exists=taken,
        )
    out = role_output(entity)
    out.pop("RoleLastUsed", None)
    lookup.record_response(ctx, {"Role": out})
    return {"Role": out}


def delete_service_linked_role(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    name = params["RoleName"]
    role = lookup.authorize_entity(ctx, ROLE, "DeleteServiceLinkedRole", name)
    if not is_service_linked(role):
        raise InvalidInput(f"Role {role.name} is not a service-linked role.")
    with ctx.store.transaction() as tx:
        current = lookup.require(tx, account, ROLE, name)
        tx.delete(account, ROLE.kind, current.name)
    task = f"task/aws-service-role/{role.data[FIELD]}/{role.name}/{uuid.uuid4()}"
    return {"DeletionTaskId": task}


def get_service_linked_role_deletion_status(ctx: CallContext, params: dict) -> dict:
    task = params["DeletionTaskId"]
    lookup.authorize(ctx, "GetServiceLinkedRoleDeletionStatus", "*", None)
    if _TASK.fullmatch(task) is None:
        raise InvalidInput(f"Invalid deletion task id: {task}")
    return {"Status": "SUCCEEDED"}  # deletion is immediate here


HANDLERS: dict[str, Callable[..., Any]] = {
    "CreateServiceLinkedRole": create_service_linked_role,
    "DeleteServiceLinkedRole": delete_service_linked_role,
    "GetServiceLinkedRoleDeletionStatus": get_service_linked_role_deletion_status,
}
