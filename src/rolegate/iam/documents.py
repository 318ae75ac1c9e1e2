"""Checks on policy documents before IAM stores them: grammar for the right
policy kind (the policy engine's parser), AWS's size quotas, and the
existence of user/role principals named in trust policies.

Documents are stored as the exact text the caller sent: GetRole, GetPolicyVersion
and friends must return it unchanged.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from rolegate import protocol
from rolegate.errors import LimitExceeded, MalformedPolicyDocument
from rolegate.policy import VERSION_2008, PolicyKind, jsontext, parse_policy, policy_size

# Reference §4.6 / IAM quotas; sizes count characters other than whitespace.
MANAGED_POLICY_QUOTA = 6144
TRUST_POLICY_QUOTA = 2048


def check_identity_policy(text: str) -> None:
    parse_policy(text, PolicyKind.IDENTITY)


VERSION_MSG = "Policy document must be version 2012-10-17 or greater."


def check_managed_policy(text: str) -> None:
    """A customer managed policy: Version 2012-10-17 is required, and that is
    checked before anything else (both recorded against AWS; inline policies
    may still leave Version out)."""
    try:
        data = jsontext.loads(text)
    except ValueError:  # bad or too deep: parse_policy gives AWS's syntax error
        data = None
    if isinstance(data, dict) and data.get("Version") in (None, VERSION_2008):
        raise MalformedPolicyDocument(VERSION_MSG)
    check_identity_policy(text)
    if policy_size(text) > MANAGED_POLICY_QUOTA:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_QUOTA}")


def check_trust_policy(store: Any, text: str, *, update: bool = False) -> None:
    """A role's trust policy: TRUST grammar, STS actions only, the 2048 quota,
    and well-formed, existing principals.

    Bad JSON is "This policy contains invalid Json" for both; a non-STS
    action is worded differently by UpdateAssumeRolePolicy (``update``) and
    CreateRole (all recorded against AWS).
    """
    try:
        jsontext.loads(text)
    except (jsontext.PolicyJsonTooDeep, jsontext.PolicyJsonLoneSurrogate):
        pass  # well-formed JSON: parse_policy refuses it with AWS's syntax error
    except ValueError:
        raise MalformedPolicyDocument("This policy contains invalid Json") from None
    document = parse_policy(text, PolicyKind.TRUST)
    for st in document.statements:
        if not all(_trust_action(a) for a in st.action or ()):
            if update:
                raise MalformedPolicyDocument(
                    "AssumeRole policy may only specify STS AssumeRole actions."
                )
            # AWS's own wording, double space included; it also accepts the
            # other STS actions (sts:TagSession, sts:SetSourceIdentity, ...).
            raise MalformedPolicyDocument(
                "Trust Policy statement actions can only be sts:AssumeRole, "
                "sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity"
            )
    if policy_size(text) > TRUST_POLICY_QUOTA:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}")
    for st in document.statements:
        # A trust policy has no NotPrincipal (the grammar refuses it); "*" is
        # the principal's wildcard flag, not an entry.
        for kind, value in st.principal.entries if st.principal else ():
            if kind == "AWS" and not (
                _AWS_PRINCIPAL.fullmatch(value) and _principal_exists(store, value)
            ):
                raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{value}"')
            if kind == "Service" and not _SERVICE_PRINCIPAL.fullmatch(value):
                raise MalformedPolicyDocument(f'Invalid principal in policy: "SERVICE":"{value}"')
            if kind == "Federated" and not _FEDERATED_PRINCIPAL.fullmatch(value):
                raise MalformedPolicyDocument(
                    "Federated principals must be valid domain names or SAML metadata ARNs"
                )


def inline_total(policies: dict[str, str]) -> int:
    return sum(policy_size(doc) for doc in policies.values())


# Actions STS authorises that are not API operations (Service Authorization
# Reference); the operations themselves come from botocore's model.
_STS_PERMISSION_ONLY = ("GetServiceBearerToken", "SetContext", "SetSourceIdentity", "TagSession")


@cache
def _sts_actions() -> frozenset[str]:
    names = set(protocol.get_service("sts").operation_names) | set(_STS_PERMISSION_ONLY)
    return frozenset(n.lower() for n in names)


def _trust_action(action: str) -> bool:
    """Whether a trust policy may name ``action``: an STS action, or a
    wildcard that can only match STS actions (or ``*``)."""
    if action == "*":
        return True
    vendor, _, name = action.partition(":")
    if vendor.lower() != "sts":
        return False
    return "*" in name or "?" in name or name.lower() in _sts_actions()


# What an "AWS" principal may be: "*", an account id, the unique id AWS
# shows for a deleted user or role, or the ARN of an account root, user,
# role, role session or federated user -- never a partial wildcard
# (reference: "no partial wildcards in principal ARNs").
_AWS_PRINCIPAL = re.compile(
    r"\*|\d{12}|A[A-Z]{3}[A-Z0-9]{16,}"
    r"|arn:aws[a-z-]*:iam::\d{12}:(?:root|(?:user|role)/[^*?]+)"
    r"|arn:aws[a-z-]*:sts::\d{12}:(?:assumed-role/[^*?/]+/[^*?/]+|federated-user/[^*?/]+)"
)


# AWS accepts only the service principals it knows ("tagging.amazonaws.com"
# is refused); rolegate has no such list, so it refuses only what cannot be
# one: anything but a host name under a domain ("ec2", "amazonaws.com").
_SERVICE_PRINCIPAL = re.compile(r"(?i)[a-z0-9-]+(?:\.[a-z0-9-]+){2,}")
# A web identity provider's domain ("accounts.google.com") or the ARN of a
# SAML or OIDC provider.
_FEDERATED_PRINCIPAL = re.compile(
    r"(?i)[a-z0-9-]+(?:\.[a-z0-9-]+)+"
    r"|arn:aws[a-z-]*:iam::\d{12}:(?:saml-provider/[\w+=,.@-]+|oidc-provider/[^\s*?]+)"
)


def _principal_exists(store: Any, arn: str) -> bool:
    """False only for a user/role ARN in an account rolegate hosts that names no entity.

    AWS resolves user and role principals to unique ids when the policy is
    saved and rejects ones that don't exist. Accounts rolegate doesn't host
    can't be checked, and accounts, roots, sessions and wildcards aren't
    entities, so they pass.
    """
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam":
        return True
    account, resource = parts[4], parts[5]
    kind = resource.split("/", 1)[0]
    if kind not in ("user", "role") or "/" not in resource:
        return True
    if "*" in resource or "?" in resource:
        # AWS rejects partial wildcards in principals; the grammar check owns that.
        return True
    if store.get_account(account) is None:
        return True
    name = resource.rsplit("/", 1)[1]
    entity = store.get(account, kind, name)
    # Names are case-insensitive in IAM, so the ARN is compared the same way.
    return entity is not None and entity.arn.lower() == arn.lower()
