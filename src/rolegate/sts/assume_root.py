"""AssumeRoot: a short root session in a member account, for one privileged task.

The IAM User Guide ("Centrally manage root access for member accounts",
"Perform a privileged task on an AWS Organizations member account") and the
STS API reference set the rules:

1. Input: ``TargetPrincipal`` (the member's account id, or its root ARN
   ``arn:aws:iam::<member>:root``), ``TaskPolicyArn`` (one of the five AWS
   managed policies under ``arn:aws:iam::aws:policy/root-task/``),
   ``DurationSeconds`` 0-900, default 900.
2. The caller: a principal of the organization's management account (AWS
   also allows the delegated administrator for IAM; rolegate has none), never
   a root user's own credentials. The organization must have root sessions
   enabled (``iam:EnableOrganizationsRootSessions``). The target must be a
   member account of that organization, not the management account.
3. Authorisation: the caller's identity policies must allow
   ``sts:AssumeRoot`` on the target's root (resource type ``root-user``,
   ``arn:aws:iam::<member>:root``), with the condition key
   ``sts:TaskPolicyArn`` (Service Authorization Reference, STS). Enabled
   root sessions stand in for a trust policy: the member account trusts its
   management account, so the grant that remains to check is the caller's.
4. The session is the member's root user narrowed by the task policy as a
   session policy (claims kind ``"assumed-root"``). The task policies are Deny-only:
   the root keeps what root may do in its own account, minus what the task
   policy denies (``authz.caller_policy_set`` builds that).

Every failure that is about who may do what is AccessDenied with an encoded
authorization message and is audited as denied. AWS documents no error codes
for AssumeRoot beyond ``RegionDisabledException`` and
``ExpiredTokenException``; where AWS's messages are not recorded, these follow
AssumeRole's conventions (reference §1.4) and say so below.
"""

from __future__ import annotations

import re
from typing import Any

from rolegate import arn as arns
from rolegate import authz, policy
from rolegate.context import CallContext
from rolegate.errors import AccessDenied, ValidationError
from rolegate.principals import organization
from rolegate.principals.credentials import claim_defaults, issue
from rolegate.principals.entities import aws_managed_policy_arn
from rolegate.principals.validation import Problems, check_arn
from rolegate.sts import authz_message
from rolegate.sts.assume_role import TrustCheck, caller_issuer, is_root, not_authorized

ACTION = "sts:AssumeRoot"
TASK_POLICY_PATH = "/root-task/"
TASK_POLICY_NAMES = (
    "IAMAuditRootUserCredentials",
    "IAMCreateRootUserPassword",
    "IAMDeleteRootUserCredentials",
    "S3UnlockBucketPolicy",
    "SQSUnlockQueuePolicy",
)
TASK_POLICY_ARNS = frozenset(aws_managed_policy_arn(TASK_POLICY_PATH, n) for n in TASK_POLICY_NAMES)

# RootDurationSecondsType in the STS model; the default is the docs'.
DURATION_MIN = 0
DURATION_MAX = 900
DURATION_DEFAULT = 900
# A session must end after it starts (SessionClaims requires it), so a
# requested 0 s becomes the shortest session a token can express: 1 s.
# AWS's behaviour for 0 is not documented; this is the fail-closed reading.
SHORTEST_SESSION = 1
# TargetPrincipalType in the STS model.
TARGET_MIN = 12
TARGET_MAX = 2048

_ACCOUNT_ID = re.compile(r"\d{12}")
# CloudTrail resources[].type for the target; AWS's value is not recorded.
ROOT_AUDIT_TYPE = "AWS::IAM::RootUser"
# Messages where AWS's are not recorded (AccessDenied, as AssumeRole words
# its non-policy refusals: "Roles may not be assumed by root accounts.").
ROOT_CALLER_MESSAGE = "AssumeRoot may not be called with root user credentials."
_INVALID_TARGET = "{} is not a valid account ID or root user ARN."
_INVALID_TASK_POLICY = (
    "TaskPolicyArn {} is not a task policy for root sessions: use one of "
    + ", ".join(sorted(TASK_POLICY_ARNS))
    + "."
)


def _validate(params: dict[str, Any]) -> tuple[str, str, int]:
    """(target account, task policy ARN, duration), or ValidationError."""
    p = Problems()
    target = params.get("TargetPrincipal")
    if p.required(target, "targetPrincipal"):
        p.string(target, "targetPrincipal", min_len=TARGET_MIN, max_len=TARGET_MAX)
    task = params.get("TaskPolicyArn")
    task_arn = task.get("arn") if isinstance(task, dict) else None
    if p.required(task, "taskPolicyArn"):
        # The model leaves PolicyDescriptorType.arn optional, but a task
        # policy without an ARN names no task.
        if p.required(task_arn, "taskPolicyArn.arn"):
            check_arn(p, task_arn, "taskPolicyArn.arn")
    p.integer(
        params.get("DurationSeconds"), "durationSeconds", minimum=DURATION_MIN, maximum=DURATION_MAX
    )
    p.raise_if_any()
    assert isinstance(target, str) and isinstance(task_arn, str)
    account = target_account(target)
    if account is None:
        # Not an account at all: a malformed parameter, answered before any
        # authorisation, as AssumeRole answers a RoleArn that is no ARN.
        raise ValidationError(_INVALID_TARGET.format(target))
    if task_arn not in TASK_POLICY_ARNS:
        # The docs: "You must use one of following AWS managed policies".
        # AWS's error for another ARN is not recorded; it is bad input, not
        # a permission question, so ValidationError.
        raise ValidationError(_INVALID_TASK_POLICY.format(task_arn))
    duration = params.get("DurationSeconds")
    return account, task_arn, DURATION_DEFAULT if duration is None else int(duration)


def target_account(target: str) -> str | None:
    """The account a TargetPrincipal names: a 12-digit id or ``arn:aws:iam::<id>:root``."""
    if _ACCOUNT_ID.fullmatch(target):
        return target
    a = arns.try_parse(target)
    if (
        a is not None
        and a.partition == "aws"
        and a.service == "iam"
        and not a.region
        and a.resource == "root"
        and _ACCOUNT_ID.fullmatch(a.account)
    ):
        return a.account
    return None


def _root_trust(management_account: str) -> Any:
    """The member's side of the decision as a resource policy.

    With root sessions enabled, a member account lets its management account
    start root sessions in it; what is left to check is the caller's own
    grant (and any Deny in its boundary or session policies), exactly as a
    trust policy naming an account does (reference §3.2).
    """
    text = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        f'"Principal":{{"AWS":"arn:aws:iam::{management_account}:root"}},'
        f'"Action":"{ACTION}","Resource":"*"}}]}}'
    )
    return policy.compile_cached(
        text, policy.PolicyKind.RESOURCE, f"root-sessions:{management_account}", "resource"
    )


def assume_root(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    target, task_arn, duration = _validate(params)
    resource = arns.root_arn(target)
    p = ctx.principal
    if p is None or p.kind == "anonymous":
        raise AccessDenied(not_authorized("anonymous", ACTION, resource))

    context: dict[str, Any] = {**authz.base_context(ctx), "sts:TaskPolicyArn": task_arn}

    def deny(message: str, failure: str) -> AccessDenied:
        ctx.audit_extra["denied"] = True
        return authz_message.denied(
            ctx, message, action=ACTION, resource=resource, failure=failure, context=context
        )

    refused = not_authorized(p.arn, ACTION, resource)
    ctx.audit_resources = [{"ARN": resource, "accountId": target, "type": ROOT_AUDIT_TYPE}]
    if target != p.account_id:
        # Audited in the caller's and the member account (as a cross-account
        # AssumeRole is), whatever the outcome.
        ctx.audit_extra["recipient_accounts"] = [p.account_id, target]

    # Who is calling. Root sessions (this API's own output) are root too.
    if is_root(p) or (p.session is not None and p.session.kind == "assumed-root"):
        raise deny(ROOT_CALLER_MESSAGE, "root")
    if p.kind not in ("user", "assumed-role"):
        # Federated users may call no STS API but GetCallerIdentity (the
        # server refuses them earlier; this keeps the handler closed alone).
        raise deny(refused, "caller type")

    # The organization: the caller's account must manage it, root sessions
    # must be on, and the target must be one of its members. Each refusal is
    # the same AccessDenied, so a caller cannot map other organizations.
    org = organization.organization_of(ctx.store, p.account_id)
    if org is None or org.get("management_account_id") != p.account_id:
        raise deny(refused, "caller is not in an organization's management account")
    if org.get("feature_set", "ALL") != "ALL" or not organization.root_sessions_enabled(
        ctx.store, org
    ):
        raise deny(refused, "root sessions are not enabled for the organization")
    if target == p.account_id:
        raise deny(refused, "target is the management account")
    member = organization.organization_of(ctx.store, target)
    if member is None or member.get("id") != org["id"]:
        raise deny(refused, "target is not a member account of the organization")

    TrustCheck(ctx, resource, _root_trust(p.account_id), context, explain=True).require(ACTION)

    s = p.session
    source_identity = getattr(s, "source_identity", None)
    fields = {
        **claim_defaults(),
        "kind": "assumed-root",
        "arn": resource,
        "user_id": target,
        "user_arn": resource,
        "policy_arns": (task_arn,),
        "source_identity": source_identity,
        "issuer": caller_issuer(ctx),
    }
    issued = issue(ctx, account_id=target, duration=max(duration, SHORTEST_SESSION), fields=fields)
    out: dict[str, Any] = {"Credentials": issued.credentials()}
    audit: dict[str, Any] = {"credentials": issued.audit_credentials()}
    if source_identity:
        out["SourceIdentity"] = source_identity
        audit["sourceIdentity"] = source_identity
    ctx.audit_response = audit
    return out
