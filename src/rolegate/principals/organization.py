"""The organization an account belongs to, as Organizations stores it, and
the centralized root access features IAM enables for it (read by AssumeRoot).

Membership is ``account.data["organization"]`` of every account in an
organization (rolegate.organizations). The features are one entity of kind
``org-root-features`` in the management account, named by the organization
id (``{"organization_id", "features": [...]}``): see
``rolegate.iam.org_root_features``, which writes it.
"""

from __future__ import annotations

from typing import Any

ROOT_FEATURES_KIND = "org-root-features"
ROOT_CREDENTIALS_MANAGEMENT = "RootCredentialsManagement"
ROOT_SESSIONS = "RootSessions"
# FeatureType's enum order in the IAM model; outputs list features in it.
ROOT_FEATURES = (ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS)


def membership(account: dict[str, Any] | None) -> dict[str, Any] | None:
    if account is None:
        return None
    org = (account.get("data") or {}).get("organization")
    return dict(org) if org else None


def organization_of(store: Any, account_id: str) -> dict[str, Any] | None:
    """The organization ``account_id`` belongs to, as Organizations stores it."""
    return membership(store.get_account(account_id))


def enabled_features(store: Any, org: dict[str, Any]) -> tuple[str, ...]:
    """The centralized root access features enabled for ``org`` (store or transaction)."""
    entity = store.get(org["management_account_id"], ROOT_FEATURES_KIND, org["id"])
    stored = set((entity.data.get("features") or ()) if entity is not None else ())
    return tuple(f for f in ROOT_FEATURES if f in stored)


def root_sessions_enabled(store: Any, org: dict[str, Any]) -> bool:
    """Whether the organization's management account may start root sessions (AssumeRoot)."""
    return ROOT_SESSIONS in enabled_features(store, org)
