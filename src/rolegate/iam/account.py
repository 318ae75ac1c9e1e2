"""Account-level IAM: CreateAccountAlias, DeleteAccountAlias,
ListAccountAliases and GetAccountSummary.

An account has at most one alias; as in AWS, creating a new one replaces the
old. Aliases are unique across all accounts of the deployment: each is
claimed by an ``account-alias`` entity under the ``aws`` pseudo-account
(whose primary key makes the claim atomic), and mirrored as an
``account-alias`` entity in the owning account for cheap listing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import EntityAlreadyExists, NoSuchEntity, ValidationError
from rolegate.iam.lookup import AWS_MANAGED_ACCOUNT
from rolegate.iam.paging import paginate
from rolegate.iam.sts_preferences import global_endpoint_token_version
from rolegate.store import Conflict

ALIAS_KIND = "account-alias"
_ALIAS_RE = re.compile(r"[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]", re.ASCII)

# GetAccountSummary's fixed quotas (AWS defaults, reference §4.6).
QUOTAS = {
    "UsersQuota": 5000,
    "GroupsQuota": 300,
    "RolesQuota": 1000,
    "PoliciesQuota": 1500,
    "InstanceProfilesQuota": 1000,
    "ServerCertificatesQuota": 20,
    "AccessKeysPerUserQuota": 2,
    "GroupsPerUserQuota": 10,
    "AttachedPoliciesPerUserQuota": 10,
    "AttachedPoliciesPerRoleQuota": 10,
    "AttachedPoliciesPerGroupQuota": 10,
    "PolicyVersionsInUseQuota": 10000,
    "VersionsPerPolicyQuota": 5,
    "PolicySizeQuota": 6144,
    "UserPolicySizeQuota": 2048,
    "GroupPolicySizeQuota": 5120,
    "RolePolicySizeQuota": 10240,
    "AssumeRolePolicySizeQuota": 2048,
    "SigningCertificatesPerUserQuota": 2,
}


def _check_alias(alias: str) -> None:
    # The protocol layer checks the model pattern too; kept for direct callers.
    if not _ALIAS_RE.fullmatch(alias):
        raise ValidationError(
            f"1 validation error detected: Value '{alias}' at 'accountAlias' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"
        )


def _arn(account: str, alias: str) -> str:
    # Aliases have no ARN in AWS; this only names the stored entities.
    return f"arn:aws:iam::{account}:account-alias/{alias}"


def _entity_id(owner: str, alias: str) -> str:
    # Internal only (aliases have no id in AWS); unique per (owner, alias).
    return f"alias-{owner}-{hashlib.sha256(alias.encode()).hexdigest()[:32]}"


def create_account_alias(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    alias = params["AccountAlias"]
    ctx.authorize("iam:CreateAccountAlias", "*")
    _check_alias(alias)
    taken = EntityAlreadyExists(f"The account alias {alias} already exists.")
    with ctx.store.transaction() as tx:
        claim = tx.get(AWS_MANAGED_ACCOUNT, ALIAS_KIND, alias)
        if claim is not None:
            if claim.data.get("account_id") != account:
                raise taken
            return None  # already this account's alias
        for old in tx.list(account, ALIAS_KIND):
            tx.delete(AWS_MANAGED_ACCOUNT, ALIAS_KIND, old.name)
            tx.delete(account, ALIAS_KIND, old.name)
        try:
            for owner in (AWS_MANAGED_ACCOUNT, account):
                tx.insert(
                    owner,
                    ALIAS_KIND,
                    alias,
                    entity_id=_entity_id(owner, alias),
                    arn=_arn(account, alias),
                    path="/",
                    data={"account_id": account},
                    now=ctx.now,
                )
        except Conflict:
            raise taken from None
    return None


def delete_account_alias(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    alias = params["AccountAlias"]
    ctx.authorize("iam:DeleteAccountAlias", "*")
    with ctx.store.transaction() as tx:
        own = tx.get(account, ALIAS_KIND, alias)
        if own is None:
            raise NoSuchEntity(f"The account alias {alias} cannot be found.")
        tx.delete(account, ALIAS_KIND, own.name)
        claim = tx.get(AWS_MANAGED_ACCOUNT, ALIAS_KIND, alias)
        if claim is not None and claim.data.get("account_id") == account:
            tx.delete(AWS_MANAGED_ACCOUNT, ALIAS_KIND, claim.name)
    return None


def list_account_aliases(ctx: CallContext, params: dict) -> dict:
    ctx.authorize("iam:ListAccountAliases", "*")
    aliases = ctx.store.list(ctx.account_id, ALIAS_KIND)
    page, extra = paginate(aliases, params, key=lambda e: e.name_key)
    return {"AccountAliases": [e.name for e in page], **extra}


def get_account_summary(ctx: CallContext, params: dict) -> dict:
    ctx.authorize("iam:GetAccountSummary", "*")
    store = ctx.store
    account = ctx.account_id

    def count(kind: str) -> int:
        return len(store.list(account, kind))

    users = store.list(account, "user")
    groups = store.list(account, "group")
    roles = store.list(account, "role")
    mfa = store.list(account, "mfa")
    attachments = sum(len(e.data.get("attached_policies") or ()) for e in (*users, *groups, *roles))
    summary = {
        "Users": len(users),
        "Groups": len(groups),
        "Roles": len(roles),
        "Policies": count("policy"),
        "InstanceProfiles": count("instance-profile"),
        "Providers": count("oidc-provider") + count("saml-provider"),
        "MFADevices": len(mfa),
        "MFADevicesInUse": sum(1 for d in mfa if d.data.get("user_name")),
        "AccountMFAEnabled": 0,
        # The account root has no access keys, password or signing
        # certificates in rolegate; AWS always lists these flags.
        "AccountAccessKeysPresent": 0,
        "AccountPasswordPresent": 0,
        "AccountSigningCertificatesPresent": 0,
        "ServerCertificates": count("server-certificate"),
        "PolicyVersionsInUse": attachments,
        **QUOTAS,
        "GlobalEndpointTokenVersion": global_endpoint_token_version(store, account),
    }
    return {"SummaryMap": summary}


HANDLERS: dict[str, Callable[..., Any]] = {
    "CreateAccountAlias": create_account_alias,
    "DeleteAccountAlias": delete_account_alias,
    "ListAccountAliases": list_account_aliases,
    "GetAccountSummary": get_account_summary,
}
