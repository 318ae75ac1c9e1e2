"""IAM instance profiles: Create/Get/Delete/ListInstanceProfiles,
Add/RemoveRoleFromInstanceProfile, ListInstanceProfilesForRole and the
instance-profile tag actions.

A profile is an entity of kind ``instance-profile`` (data ``{tags}``); the
role it holds (at most one, as in AWS) is a link
``instance-profile-role`` from the profile's name_key to the role's name_key.
Roles are rendered inside a profile as full ``Role`` shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate import ids
from rolegate.context import CallContext
from rolegate.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.lookup import ROLE, EntityKind
from rolegate.iam.paging import paginate
from rolegate.iam.roles import EMBEDDED_ROLE_MEMBERS, INSTANCE_PROFILE_ROLE_REL, role_output
from rolegate.iam.tags import clean_tags, entity_tag_handlers

ROLES_PER_PROFILE = 1  # InstanceSessionsPerInstanceProfile; not adjustable in AWS


class _ProfileKind(EntityKind):
    def not_found(self, name: str) -> NoSuchEntity:
        # AWS's wording for this kind differs from users/roles.
        return NoSuchEntity(f"Instance Profile {name} cannot be found.")


INSTANCE_PROFILE = _ProfileKind(
    "instance-profile",
    "instance profile",
    "InstanceProfile",
    "AIPA",
    "InstanceProfileName",
    "AWS::IAM::InstanceProfile",
    0,
    0,
)


def profile_output(store: Any, profile: Any, *, tags: str = "always") -> dict[str, Any]:
    """The ``InstanceProfile`` shape (``store`` may be a transaction).

    ``tags``: ``"always"`` (GetInstanceProfile: ``[]`` when none), ``"present"``
    (CreateInstanceProfile and authorization details: only when there are
    some) or ``"never"`` (the List actions), as AWS answers (recorded).
    """
    out: dict[str, Any] = {
        "Path": profile.path,
        "InstanceProfileName": profile.name,
        "InstanceProfileId": profile.entity_id,
        "Arn": profile.arn,
        "CreateDate": lookup.as_datetime(profile.created_at),
        "Roles": [
            _embedded(store, r)
            for r in lookup.linked(
                store, profile.account_id, INSTANCE_PROFILE_ROLE_REL, "role", a=profile.name_key
            )
        ],
    }
    stored = [dict(t) for t in profile.data.get("tags") or ()]
    if tags == "always" or (tags == "present" and stored):
        out["Tags"] = stored
    return out


def _embedded(store: Any, role: Any) -> dict[str, Any]:
    full = role_output(role, full=False, store=store)
    return {k: full[k] for k in EMBEDDED_ROLE_MEMBERS}


def profiles_for_role(store: Any, account: str, role: Any) -> list[dict[str, Any]]:
    """The ``InstanceProfile`` shapes holding ``role`` (GetAccountAuthorizationDetails)."""
    profiles = lookup.linked(
        store, account, INSTANCE_PROFILE_ROLE_REL, INSTANCE_PROFILE.kind, b=role.name_key
    )
    return [profile_output(store, p, tags="present") for p in profiles]


def create_instance_profile(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    name = params["InstanceProfileName"]
    path = params.get("Path") or "/"
    tags = clean_tags(params.get("Tags"))
    arn = INSTANCE_PROFILE.arn(account, path, name)
    lookup.authorize(
        ctx,
        "CreateInstanceProfile",
        arn,
        INSTANCE_PROFILE.audit_type,
        context=lookup.tag_context(tags, "aws:RequestTag/"),
    )
    lookup.authorize_tag_on_create(ctx, "TagInstanceProfile", arn, tags)
    with ctx.store.transaction() as tx:
        entity = lookup.insert_entity(
            tx,
            account,
            INSTANCE_PROFILE.kind,
            name,
            entity_id=ids.new_unique_id(INSTANCE_PROFILE.id_prefix, lookup.rng(ctx)),
            arn=arn,
            path=path,
            data={"tags": tags},
            now=ctx.now,
            exists=EntityAlreadyExists(f"Instance Profile {name} already exists."),
        )
        out = {"InstanceProfile": profile_output(tx, entity, tags="present")}
    lookup.record_response(ctx, out)
    return out


def get_instance_profile(ctx: CallContext, params: dict) -> dict:
    entity = lookup.authorize_entity(
        ctx, INSTANCE_PROFILE, "GetInstanceProfile", params["InstanceProfileName"]
    )
    return {"InstanceProfile": profile_output(ctx.store, entity)}


def delete_instance_profile(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    name = params["InstanceProfileName"]
    lookup.authorize_entity(ctx, INSTANCE_PROFILE, "DeleteInstanceProfile", name)
    with ctx.store.transaction() as tx:
        entity = lookup.require(tx, account, INSTANCE_PROFILE, name)
        if tx.links_from(account, INSTANCE_PROFILE_ROLE_REL, entity.name_key):
            raise DeleteConflict(
                "Cannot delete entity, must remove roles from instance profile first."
            )
        tx.delete(account, INSTANCE_PROFILE.kind, entity.name)
    return None


def list_instance_profiles(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    prefix = params.get("PathPrefix") or "/"
    lookup.authorize(
        ctx, "ListInstanceProfiles", f"arn:aws:iam::{account}:instance-profile{prefix}", None
    )
    profiles = ctx.store.list(account, INSTANCE_PROFILE.kind, path_prefix=prefix)
    page, extra = paginate(profiles, params, key=lambda e: e.name_key)
    return {"InstanceProfiles": [profile_output(ctx.store, e, tags="never") for e in page], **extra}


def add_role_to_instance_profile(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    name = params["InstanceProfileName"]
    role_name = params["RoleName"]
    lookup.authorize_entity(ctx, INSTANCE_PROFILE, "AddRoleToInstanceProfile", name)
    # AWS also requires iam:PassRole on the role being placed in the profile.
    role = ctx.store.get(account, ROLE.kind, role_name)
    ctx.authorize(
        "iam:PassRole",
        role.arn if role is not None else ROLE.arn(account, "/", role_name),
        context=lookup.resource_context(role) or None,
    )
    with ctx.store.transaction() as tx:
        profile = lookup.require(tx, account, INSTANCE_PROFILE, name)
        role = lookup.require(tx, account, ROLE, role_name)
        if len(tx.links_from(account, INSTANCE_PROFILE_ROLE_REL, profile.name_key)) >= (
            ROLES_PER_PROFILE
        ):
            raise LimitExceeded(
                f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}"
            )
        # Bump the profile's version: of two concurrent adds, one loses with
        # ConcurrentModification instead of both passing the quota check.
        tx.update(profile, dict(profile.data), now=ctx.now)
        tx.link(account, INSTANCE_PROFILE_ROLE_REL, profile.name_key, role.name_key)
    return None


def remove_role_from_instance_profile(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    name = params["InstanceProfileName"]
    role_name = params["RoleName"]
    lookup.authorize_entity(ctx, INSTANCE_PROFILE, "RemoveRoleFromInstanceProfile", name)
    with ctx.store.transaction() as tx:
        profile = lookup.require(tx, account, INSTANCE_PROFILE, name)
        role = lookup.require(tx, account, ROLE, role_name)
        if not tx.unlink(account, INSTANCE_PROFILE_ROLE_REL, profile.name_key, role.name_key):
            raise NoSuchEntity(
                f"Role {role.name} in Instance Profile {profile.name} cannot be found."
            )
    return None


def list_instance_profiles_for_role(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    role = lookup.authorize_entity(ctx, ROLE, "ListInstanceProfilesForRole", params["RoleName"])
    profiles = lookup.linked(
        ctx.store, account, INSTANCE_PROFILE_ROLE_REL, INSTANCE_PROFILE.kind, b=role.name_key
    )
    page, extra = paginate(profiles, params, key=lambda e: e.name_key)
    return {"InstanceProfiles": [profile_output(ctx.store, e, tags="never") for e in page], **extra}


HANDLERS: dict[str, Callable[..., Any]] = {
    "CreateInstanceProfile": create_instance_profile,
    "GetInstanceProfile": get_instance_profile,
    "DeleteInstanceProfile": delete_instance_profile,
    "ListInstanceProfiles": list_instance_profiles,
    "AddRoleToInstanceProfile": add_role_to_instance_profile,
    "RemoveRoleFromInstanceProfile": remove_role_from_instance_profile,
    "ListInstanceProfilesForRole": list_instance_profiles_for_role,
    **entity_tag_handlers(INSTANCE_PROFILE, __name__),
}
