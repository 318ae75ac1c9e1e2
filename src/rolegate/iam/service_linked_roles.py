"""Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole,
GetServiceLinkedRoleDeletionStatus.

Tools create these for AWS services (Terraform's ``aws_iam_service_linked_role``,
ECS and Auto Scaling set-ups). A service-linked role lives under
``/aws-service-role/<service>/``, is named ``AWSServiceRoleFor<Name>`` (plus
``_<CustomSuffix>``), trusts only its service, and is protected: only the
service-linked-role actions may delete it (DeleteRole and
UpdateAssumeRolePolicy answer ``UnmodifiableEntity``, see ``roles.py``).

The names AWS gives come from each service; the table below holds the common
ones, and other services get their first host label in CapWords. Deletion is
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

_NAMES = {
    "autoscaling.amazonaws.com": "AutoScaling",
    "ecs.amazonaws.com": "ECS",
    "elasticloadbalancing.amazonaws.com": "ElasticLoadBalancing",
    "rds.amazonaws.com": "RDS",
    "spot.amazonaws.com": "EC2Spot",
    "spotfleet.amazonaws.com": "EC2SpotFleet",
    "elasticbeanstalk.amazonaws.com": "ElasticBeanstalk",
    "organizations.amazonaws.com": "Organizations",
    "eks.amazonaws.com": "AmazonEKS",
    "eks-nodegroup.amazonaws.com": "AmazonEKSNodegroup",
    "es.amazonaws.com": "AmazonElasticsearchService",
    "opensearchservice.amazonaws.com": "AmazonOpenSearchService",
    "config.amazonaws.com": "Config",
    "cloudtrail.amazonaws.com": "CloudTrail",
    "guardduty.amazonaws.com": "AmazonGuardDuty",
    "securityhub.amazonaws.com": "SecurityHub",
    "ssm.amazonaws.com": "AmazonSSM",
    "elasticache.amazonaws.com": "ElastiCache",
    "redshift.amazonaws.com": "Redshift",
    "support.amazonaws.com": "Support",
    "trustedadvisor.amazonaws.com": "TrustedAdvisor",
    "backup.amazonaws.com": "Backup",
    "kafka.amazonaws.com": "Kafka",
    "sso.amazonaws.com": "SSO",
    "replicator.lambda.amazonaws.com": "LambdaReplicator",
    "ecs.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_ECSService",
    "dynamodb.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_DynamoDBTable",
}
_SERVICE = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com")
_TASK = re.compile(r"task/aws-service-role/([^/]+)/([^/]+)/([0-9a-f-]{36})")


def role_name(service: str, suffix: str | None) -> str:
    base = _NAMES.get(service)
    if base is None:
        first = service.split(".", 1)[0]
        base = "".join(part[:1].upper() + part[1:] for part in first.split("-"))
    return f"AWSServiceRoleFor{base}" + (f"_{suffix}" if suffix else "")


def trust_document(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": [service]},
                    "Action": ["sts:AssumeRole"],
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
