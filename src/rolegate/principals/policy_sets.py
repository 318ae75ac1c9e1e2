"""The policies that apply to an IAM user or role, gathered for the authoriser,
STS and the policy simulator (docs/contracts.md, "principal policies").

This runs on every authenticated request, so it reads only the store's
in-process cache (``store.get``, ``store.links_to``) and does no parsing: the
authoriser compiles the documents through ``policy.compile_cached``.

``PolicyDoc.policy_id`` is the policy name for inline policies (what AWS's
simulator reports as ``SourcePolicyId``) and the policy ARN for managed ones,
which keeps it unique where names could repeat across AWS and the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rolegate.principals.entities import AWS_MANAGED_ACCOUNT, GROUP_MEMBER_REL, linked

SourceType = Literal["user", "group", "role", "aws-managed", "user-managed"]


@dataclass(frozen=True, slots=True)
class PolicyDoc:
    policy_id: str
    source_type: SourceType
    name: str
    document: str


@dataclass(frozen=True, slots=True)
class PolicyBundle:
    entity: Any  # rolegate.store.Entity of the user or role
    identity: tuple[PolicyDoc, ...]  # inline + attached (+ groups' for users)
    boundary: PolicyDoc | None  # the permissions boundary's default version
    tags: dict[str, str]  # the entity's tags (aws:PrincipalTag/*)


def _managed_entity(store: Any, arn: str) -> Any:
    # Inlined ARN split (not iam.lookup.parse_policy_arn) so a malformed stored
    # ARN is simply skipped here instead of raising on the hot path.
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("policy/"):
        return None
    entity = store.get(parts[4], "policy", parts[5].rsplit("/", 1)[1])
    if entity is None or entity.arn != arn:
        return None
    return entity


def _default_document(entity: Any) -> str | None:
    data = entity.data
    version = (data.get("versions") or {}).get(data.get("default_version"))
    return None if version is None else version.get("document")


def managed_policy_document(store: Any, arn: str) -> str | None:
    """The default version's document of the managed policy ``arn``, or None."""
    entity = _managed_entity(store, arn)
    return None if entity is None else _default_document(entity)


def _managed_doc(store: Any, arn: str) -> PolicyDoc | None:
    entity = _managed_entity(store, arn)
    if entity is None:
        # A dangling attachment (policy deleted underneath) grants nothing.
        return None
    document = _default_document(entity)
    if document is None:
        return None
    source: SourceType = (
        "aws-managed" if entity.account_id == AWS_MANAGED_ACCOUNT else "user-managed"
    )
    return PolicyDoc(arn, source, entity.name, document)


# DeletePolicy refuses to delete a policy in use as a boundary, so a missing
# boundary means the store changed underneath; denying everything is the
# fail-closed reading (dropping the boundary would widen permissions).
_DENY_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'


def _missing_boundary(arn: str) -> PolicyDoc:
    source: SourceType = "aws-managed" if ":aws:policy/" in arn else "user-managed"
    return PolicyDoc(arn, source, arn.rsplit("/", 1)[-1], _DENY_ALL)


def _entity_policies(store: Any, entity: Any, source: SourceType, out: list[PolicyDoc]) -> None:
    data = entity.data
    for name, document in (data.get("inline_policies") or {}).items():
        out.append(PolicyDoc(name, source, name, document))
    for arn in data.get("attached_policies") or ():
        doc = _managed_doc(store, arn)
        if doc is not None:
            out.append(doc)


def policy_bundle(
    store: Any, account_id: str, kind: Literal["user", "role"], name: str
) -> PolicyBundle | None:
    """Identity policies, boundary and tags of a user or role; None if it doesn't exist.

    Users: own inline, own attached, then for each group (by name) the
    group's inline and attached policies. Roles: inline and attached.
    """
    entity = store.get(account_id, kind, name)
    if entity is None:
        return None
    return bundle_of(store, entity)


def principal_entity(store: Any, account_id: str, kind: str, entity_id: str) -> Any:
    """The user or role with this unique id in this account, or None.

    Callers are bound to ids, not names: a session or key of a deleted
    entity must not find a later entity that took over its name.
    """
    entity = store.get_by_id(entity_id)
    if entity is None or entity.kind != kind or entity.account_id != account_id:
        return None
    return entity


def bundle_of(store: Any, entity: Any) -> PolicyBundle:
    """``policy_bundle`` of an entity already found."""
    account_id, kind = entity.account_id, entity.kind
    identity: list[PolicyDoc] = []
    _entity_policies(store, entity, kind, identity)
    if kind == "user":
        for group in linked(store, account_id, GROUP_MEMBER_REL, "group", b=entity.name_key):
            _entity_policies(store, group, "group", identity)
    boundary_arn = entity.data.get("permissions_boundary")
    boundary = None
    if boundary_arn:
        boundary = _managed_doc(store, boundary_arn) or _missing_boundary(boundary_arn)
    tags = {t["Key"]: t["Value"] for t in entity.data.get("tags") or ()}
    return PolicyBundle(entity, tuple(identity), boundary, tags)
