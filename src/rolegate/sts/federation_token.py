"""GetFederationToken (reference §2.1-§2.4, §2.8).

An IAM user (or root) with long-term keys mints credentials for a federated
user ``arn:aws:sts::<acct>:federated-user/<Name>``. It needs
``sts:GetFederationToken`` on that ARN (and ``sts:TagSession`` to pass tags).
The session's permissions are the caller's intersected with the session
policies; without a session policy it has none (``rolegate.authz`` treats a
federated session without policies as an empty session set).
"""

from __future__ import annotations

from typing import Any

from rolegate.context import CallContext
from rolegate.principals import durations, session_policies, session_tags
from rolegate.principals.credentials import claim_defaults, issue
from rolegate.principals.validation import NAME_PATTERN, Problems, check_policy_arns
from rolegate.sts.assume_role import caller_issuer, is_root
from rolegate.sts.session_token import refuse_session_credentials

# sessionPolicyDocumentType: GetFederationToken keeps the model maximum of 2048.
POLICY_MODEL_MAX = 2048


def _user_tags(ctx: CallContext) -> dict[str, str]:
    p = ctx.principal
    if p is None or p.kind != "user" or not p.name:
        return {}
    user = ctx.store.get(p.account_id, "user", p.name)
    return session_tags.tags_from_entity(user.data) if user is not None else {}


def get_federation_token(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    p = Problems()
    name = params.get("Name")
    if p.required(name, "name"):
        p.string(name, "name", min_len=2, max_len=32, pattern=NAME_PATTERN)
    session_policies.check_policy_param(p, params.get("Policy"), model_max=POLICY_MODEL_MAX)
    policy_arns = check_policy_arns(p, params.get("PolicyArns"))
    durations.check_token_duration(p, params.get("DurationSeconds"))
    # GetFederationToken has no TransitiveTagKeys: federated sessions cannot chain.
    request_tags = session_tags.parse_request_tags(p, params.get("Tags"), None)
    p.raise_if_any()
    refuse_session_credentials(ctx, "GetFederationToken")
    caller = ctx.principal
    assert caller is not None and isinstance(name, str)
    account = caller.account_id
    fed_arn = f"arn:aws:sts::{account}:federated-user/{name}"

    context = session_tags.request_tag_context(request_tags)
    ctx.authorize("sts:GetFederationToken", fed_arn, context=context)
    if request_tags.given:
        ctx.authorize("sts:TagSession", fed_arn, context=context)

    root = is_root(caller)
    duration = durations.token_duration(params.get("DurationSeconds"), root=root)
    policies = session_policies.load_session_policies(
        ctx.store, params.get("Policy"), policy_arns, home_account=account
    )
    # Principal tags: the user's tags, overridden by the request's.
    tags = session_tags.build_session_tags(_user_tags(ctx), (), request_tags)
    packed = session_policies.packed_size(policies, tags.session_only, ())

    fed_id = f"{account}:{name}"
    fields = claim_defaults()
    fields.update(
        kind="federated-user",
        arn=fed_arn,
        user_id=fed_id,
        session_name=name,
        user_arn=caller.arn,
        user_name=None if root else caller.name,
        session_policy=policies.inline,
        policy_arns=policies.arns,
        tags=tags.tags,
        issuer=caller_issuer(ctx),
    )
    issued = issue(ctx, account_id=account, duration=duration, fields=fields)
    out: dict[str, Any] = {
        "Credentials": issued.credentials(),
        "FederatedUser": {"FederatedUserId": fed_id, "Arn": fed_arn},
        "PackedPolicySize": packed,
    }
    ctx.audit_response = {
        "credentials": issued.audit_credentials(),
        "federatedUser": {"federatedUserId": fed_id, "arn": fed_arn},
        "packedPolicySize": packed,
    }
    return out
