"""Which services an IAM policy grants, and ListPoliciesGrantingServiceAccess.

Shared by the access advisor (``rolegate.iam.last_accessed``), which reports
the services an entity's policies allow, and by
ListPoliciesGrantingServiceAccess, which names the policies that allow each
requested service namespace.

AWS answers both from *permissions policy logic only* (IAM User Guide,
"Refining permissions in AWS using last accessed information"): identity
policies (inline and managed; a user's groups' too), no boundaries, no
resource policies, no SCPs. A policy "allows a service" when one of its
``Allow`` statements can match some action of that service; ``Resource`` and
``Condition`` are not evaluated (they can only narrow *how* the service is
used, not whether the policy names it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rolegate import policy
from rolegate.context import CallContext
from rolegate.errors import AwsError, InvalidInput, ValidationError
from rolegate.iam import lookup
from rolegate.iam.lookup import GROUP, KINDS, ROLE, USER, EntityKind
from rolegate.iam.principals import GROUP_MEMBER_REL, managed_policy_document
from rolegate.policy.match import compile_glob

# The services rolegate serves: the only ones whose use it can observe, and
# the universe a wildcard service pattern ("*", "s*:Get*") expands to. AWS
# expands "*" to its ~400 services; listing services that can never be called
# here would only bury the three that can (a deliberate departure).
SERVED_SERVICES: dict[str, str] = {
    "iam": "AWS Identity and Access Management",
    "organizations": "AWS Organizations",
    "sts": "AWS Security Token Service",
}

# ServiceName for namespaces a policy may name explicitly; anything else is
# reported under its namespace (the API requires some name).
_SERVICE_NAMES: dict[str, str] = {
    **SERVED_SERVICES,
    "cloudtrail": "AWS CloudTrail",
    "cloudwatch": "Amazon CloudWatch",
    "dynamodb": "Amazon DynamoDB",
    "ec2": "Amazon EC2",
    "ecr": "Amazon Elastic Container Registry",
    "ecs": "Amazon Elastic Container Service",
    "eks": "Amazon Elastic Kubernetes Service",
    "kms": "AWS Key Management Service",
    "lambda": "AWS Lambda",
    "logs": "Amazon CloudWatch Logs",
    "rds": "Amazon RDS",
    "s3": "Amazon S3",
    "secretsmanager": "AWS Secrets Manager",
    "sns": "Amazon SNS",
    "sqs": "Amazon SQS",
    "ssm": "AWS Systems Manager",
}


def service_name(namespace: str) -> str:
    return _SERVICE_NAMES.get(namespace, namespace)


@dataclass(frozen=True, slots=True)
class _Grant:
    """One Allow statement reduced to its actions, lowercased."""

    patterns: tuple[str, ...]
    negated: bool  # NotAction: everything except ``patterns``


@lru_cache(maxsize=1024)
def _grants(document: str) -> tuple[_Grant, ...]:
    """The Allow statements of a stored identity policy document.

    Stored documents were validated when written; one that no longer parses
    (a parser tightened since) grants nothing here, which under-reports
    rather than inventing access.
    """
    try:
        parsed = policy.parse_policy(document, policy.PolicyKind.IDENTITY)
    except (AwsError, TypeError, ValueError):
        return ()
    out = []
    for st in parsed.statements:
        if st.effect != policy.Effect.ALLOW:
            continue
        if st.action is not None:
            out.append(_Grant(tuple(a.lower() for a in st.action), False))
        elif st.not_action is not None:
            out.append(_Grant(tuple(a.lower() for a in st.not_action), True))
    return tuple(out)


def _split(pattern: str) -> tuple[str, str]:
    """``("svc", "action")`` of an action pattern; ``*`` is every service's every action."""
    if pattern == "*":
        return "*", "*"
    svc, _, act = pattern.partition(":")
    return svc, act


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> Callable[[str], bool]:
    return compile_glob(pattern)


def named_services(documents: Iterable[str]) -> set[str]:
    """Service namespaces named literally (no wildcard) in Allow statements."""
    out: set[str] = set()
    for document in documents:
        for grant in _grants(document):
            if grant.negated:
                continue
            for pattern in grant.patterns:
                svc, _ = _split(pattern)
                if "*" not in svc and "?" not in svc and svc:
                    out.add(svc)
    return out


def _grant_allows_service(grant: _Grant, namespace: str) -> bool:
    if not grant.negated:
        return any(_glob(_split(p)[0])(namespace) for p in grant.patterns)
    # NotAction allows the service unless it excludes all of its actions.
    return not any(_glob(svc)(namespace) and act == "*" for svc, act in map(_split, grant.patterns))


def allows_service(document: str, namespace: str) -> bool:
    """Whether ``document`` allows some action of ``namespace`` (lowercase)."""
    return any(_grant_allows_service(g, namespace) for g in _grants(document))


def allows_action(documents: Iterable[str], namespace: str, action: str) -> bool:
    """Whether some document allows ``namespace:action`` (both lowercase)."""
    full = f"{namespace}:{action}"
    for document in documents:
        for grant in _grants(document):
            hit = any(_glob(p)(full) for p in grant.patterns)
            if hit != grant.negated:
                return True
    return False


def allowed_services(documents: Iterable[str]) -> list[str]:
    """The namespaces ``documents`` allow, sorted: served services matched by
    any pattern, plus services named literally."""
    docs = list(documents)
    universe = set(SERVED_SERVICES) | named_services(docs)
    return sorted(ns for ns in universe if any(allows_service(d, ns) for d in docs))


# --- who has which policies ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrantingPolicy:
    """One identity policy of an entity, as ListPoliciesGrantingServiceAccess reports it."""

    name: str
    document: str
    arn: str | None  # managed policies
    owner_kind: EntityKind | None  # inline policies: the user, group or role holding it
    owner_name: str | None

    def output(self) -> dict[str, Any]:
        if self.arn is not None:
            return {"PolicyName": self.name, "PolicyType": "MANAGED", "PolicyArn": self.arn}
        assert self.owner_kind is not None
        return {
            "PolicyName": self.name,
            "PolicyType": "INLINE",
            "EntityType": self.owner_kind.kind.upper(),
            "EntityName": self.owner_name,
        }


def _own_policies(store: Any, kind: EntityKind, entity: Any) -> list[GrantingPolicy]:
    out = [
        GrantingPolicy(name, text, None, kind, entity.name)
        for name, text in sorted((entity.data.get("inline_policies") or {}).items())
    ]
    for arn in entity.data.get("attached_policies") or ():
        text = managed_policy_document(store, arn)
        if text is not None:  # a dangling attachment grants nothing
            out.append(GrantingPolicy(arn.rsplit("/", 1)[-1], text, arn, None, None))
    return out


def entity_policies(
    store: Any, account: str, kind: EntityKind, entity: Any
) -> list[GrantingPolicy]:
    """The identity policies that apply to a user (with its groups'), group or role.

    Permissions boundaries are not included, as AWS documents for both
    ListPoliciesGrantingServiceAccess and the access advisor.
    """
    out = _own_policies(store, kind, entity)
    if kind is USER:
        for group in lookup.linked(store, account, GROUP_MEMBER_REL, "group", b=entity.name_key):
            out.extend(_own_policies(store, GROUP, group))
    return out


# --- ARNs naming users, groups, roles and policies -------------------------


def split_iam_arn(arn: str) -> tuple[str, str, str]:
    """``(account, resource type, name)`` of ``arn:aws:iam::<acct>:<type>/<path><name>``.

    InvalidInput for anything else (AWS's ``InvalidInput`` 400 is what the
    model lists for these operations; the exact message is unconfirmed).
    """
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[3] != "" or not parts[4]:
        raise InvalidInput(f"ARN {arn} is not valid.")
    rtype, _, rest = parts[5].partition("/")
    name = rest.rsplit("/", 1)[-1]
    if not rest or not name:
        raise InvalidInput(f"ARN {arn} is not valid.")
    return parts[4], rtype, name


def find_principal(ctx: CallContext, arn: str, allowed: Iterable[str]) -> tuple[EntityKind, Any]:
    """The user/group/role ``arn`` names in the caller's account, or NoSuchEntity."""
    account, rtype, name = split_iam_arn(arn)
    kind = KINDS.get(rtype)
    if kind is None or rtype not in allowed:
        raise InvalidInput(f"ARN {arn} is not valid.")
    entity = ctx.store.get(account, kind.kind, name) if account == ctx.account_id else None
    # Paths are part of the ARN: the same name under another path is not it.
    if entity is None or entity.arn != arn:
        raise kind.not_found(name)
    return kind, entity


# --- ListPoliciesGrantingServiceAccess ------------------------------------------


def list_policies_granting_service_access(ctx: CallContext, params: Mapping[str, Any]) -> dict:
    arn = params["Arn"]
    namespaces = [str(n) for n in params.get("ServiceNamespaces") or ()]
    # Authorised on the identity, before any existence check.
    ctx.authorize("iam:ListPoliciesGrantingServiceAccess", arn)
    if params.get("Marker"):
        # All entries fit one page (at most 200 namespaces), so rolegate never
        # hands out a marker: any marker given is not one of ours.
        raise ValidationError("Invalid Marker.")
    if not namespaces:
        # The protocol layer enforces the model's min of 1; kept for direct callers.
        raise ValidationError(
            "1 validation error detected: Value '[]' at 'serviceNamespaces' failed to "
            "satisfy constraint: Member must have length greater than or equal to 1"
        )
    entity_kind, entity = find_principal(ctx, arn, ("user", "group", "role"))
    policies = entity_policies(ctx.store, ctx.account_id, entity_kind, entity)
    out = []
    # One entry per requested namespace, in request order, duplicates once.
    for ns in dict.fromkeys(namespaces):
        key = ns.lower()
        out.append(
            {
                "ServiceNamespace": ns,
                "Policies": [p.output() for p in policies if allows_service(p.document, key)],
            }
        )
    return {"PoliciesGrantingServiceAccess": out, "IsTruncated": False}


HANDLERS: dict[str, Callable[..., Any]] = {
    "ListPoliciesGrantingServiceAccess": list_policies_granting_service_access,
}

__all__ = [
    "GROUP",
    "HANDLERS",
    "ROLE",
    "SERVED_SERVICES",
    "USER",
    "GrantingPolicy",
    "allowed_services",
    "allows_action",
    "allows_service",
    "entity_policies",
    "find_principal",
    "service_name",
    "split_iam_arn",
]
