"""Centralized root access for an organization's member accounts:
EnableOrganizationsRootCredentialsManagement, EnableOrganizationsRootSessions,
their Disable twins, and ListOrganizationsFeatures.

The features belong to the organization, so they are stored with it: one
entity of kind ``org-root-features`` in the management account, named by the
organization id (``{"organization_id", "features": [...]}``). Naming it by
the id means a later organization of the same management account starts
with nothing enabled, as a new organization does in AWS. AssumeRoot reads it
through ``rolegate.principals.organization.root_sessions_enabled``.

Only the management account may call these actions (rolegate has no
delegated administrators). IAM's trusted access in Organizations
(``ServiceAccessNotEnabledException``) is not modelled: rolegate has no
EnableAWSServiceAccess, so service access counts as enabled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import AwsError
from rolegate.iam import lookup
from rolegate.principals.organization import (
    ROOT_CREDENTIALS_MANAGEMENT,
    ROOT_SESSIONS,
    enabled_features,
    organization_of,
)
from rolegate.principals.organization import ROOT_FEATURES as FEATURES
from rolegate.principals.organization import ROOT_FEATURES_KIND as KIND

# The IAM model gives these shapes no error trait, so the code is the shape
# name and the status botocore's default 400. Messages are the model's
# documentation of each shape (AWS's wording is not recorded elsewhere).
_NO_ORGANIZATION = (
    "The request was rejected because no organization is associated with your account."
)
_NOT_ALL_FEATURES = (
    "The request was rejected because your organization does not have All features enabled."
)
_NOT_MANAGEMENT = (
    "The request was rejected because the account making the request is not the management "
    "account for the organization."
)
_NOT_MANAGEMENT_OR_ADMIN = (
    "The request was rejected because the account making the request is not the management "
    "account or delegated administrator account for centralized root access."
)


def _error(code: str, message: str) -> AwsError:
    return AwsError(message, code=code, status=400)


def _managed_organization(ctx: CallContext, *, enabling: bool) -> dict[str, Any]:
    """The caller's organization, which the caller's account must manage.

    Enable* name ``CallerIsNotManagementAccountException`` for a member
    account; Disable* and List (which a delegated administrator may call in
    AWS) only ``AccountNotManagementOrDelegatedAdministratorException``.
    """
    org = organization_of(ctx.store, ctx.account_id)
    if org is None:
        raise _error("OrganizationNotFoundException", _NO_ORGANIZATION)
    if org.get("management_account_id") != ctx.account_id:
        if enabling:
            raise _error("CallerIsNotManagementAccountException", _NOT_MANAGEMENT)
        raise _error(
            "AccountNotManagementOrDelegatedAdministratorException", _NOT_MANAGEMENT_OR_ADMIN
        )
    if org.get("feature_set", "ALL") != "ALL":
        raise _error("OrganizationNotInAllFeaturesModeException", _NOT_ALL_FEATURES)
    return org


def _output(org: dict[str, Any], features: tuple[str, ...]) -> dict[str, Any]:
    return {"OrganizationId": org["id"], "EnabledFeatures": list(features)}


def _set_feature(ctx: CallContext, action: str, feature: str, *, on: bool) -> dict[str, Any]:
    # Authorise first: a caller without permission learns nothing about the
    # organization (AccessDenied before any organization error).
    ctx.authorize(f"iam:{action}", "*")
    org = _managed_organization(ctx, enabling=on)
    mgmt = org["management_account_id"]
    with ctx.store.transaction() as tx:
        current = set(enabled_features(tx, org))
        # Idempotent, as AWS is: enabling an enabled feature (or disabling a
        # disabled one) answers the current state.
        if on:
            current.add(feature)
        else:
            current.discard(feature)
        features = tuple(f for f in FEATURES if f in current)
        lookup.put_account_singleton(
            tx,
            mgmt,
            KIND,
            org["id"],
            arn=f"arn:aws:organizations::{mgmt}:organization/{org['id']}",
            data={"organization_id": org["id"], "features": list(features)},
            now=ctx.now,
        )
    out = _output(org, features)
    lookup.record_response(ctx, out)
    return out


def enable_root_credentials_management(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return _set_feature(
        ctx, "EnableOrganizationsRootCredentialsManagement", ROOT_CREDENTIALS_MANAGEMENT, on=True
    )


def disable_root_credentials_management(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return _set_feature(
        ctx, "DisableOrganizationsRootCredentialsManagement", ROOT_CREDENTIALS_MANAGEMENT, on=False
    )


def enable_root_sessions(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return _set_feature(ctx, "EnableOrganizationsRootSessions", ROOT_SESSIONS, on=True)


def disable_root_sessions(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return _set_feature(ctx, "DisableOrganizationsRootSessions", ROOT_SESSIONS, on=False)


def list_organizations_features(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:ListOrganizationsFeatures", "*")
    org = _managed_organization(ctx, enabling=False)
    return _output(org, enabled_features(ctx.store, org))


HANDLERS: dict[str, Callable[[CallContext, dict[str, Any]], Any]] = {
    "EnableOrganizationsRootCredentialsManagement": enable_root_credentials_management,
    "DisableOrganizationsRootCredentialsManagement": disable_root_credentials_management,
    "EnableOrganizationsRootSessions": enable_root_sessions,
    "DisableOrganizationsRootSessions": disable_root_sessions,
    "ListOrganizationsFeatures": list_organizations_features,
}
