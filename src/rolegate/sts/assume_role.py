"""AssumeRole (reference §2, §3; processing order §2.5).

1. Validate parameters (model max/patterns); identify the caller; root and
   federated users cannot assume roles.
2. Find the role; a missing role (or account) is AccessDenied with the
   normal message, so a caller cannot probe which roles exist.
3. MFA, tags and source identity of the new session, from the request and
   the caller's session (transitive tags, source identity, MFA facts).
4. Trust decision: ``sts:AssumeRole`` (+ ``sts:TagSession`` when tags are
   passed, + ``sts:SetSourceIdentity`` when the session will carry a source
   identity) evaluated with the caller's policies and the trust policy as the
   resource policy, ``resource_must_allow=True``. The engine applies the
   same-/cross-account rules of §3.2.
5. Duration, session policies, packed size; then seal the credentials.

Every AccessDenied carries a sealed explanation (``authz_message``).
"""

from __future__ import annotations

from typing import Any

from rolegate import arn as arns
from rolegate import authz, policy
from rolegate.context import CallContext
from rolegate.errors import AccessDenied, InvalidContextAssertion, ValidationError
from rolegate.principals import durations, session_policies, session_tags
from rolegate.principals.role_session import check_source_identity, issue_role_session
from rolegate.principals.roles import find_role
from rolegate.principals.trust_binding import effective_document
from rolegate.principals.validation import (
    EXTERNAL_ID_PATTERN,
    NAME_PATTERN,
    Problems,
    check_arn,
    check_mfa,
    check_policy_arns,
    check_role_session_name,
)
from rolegate.sts import authz_message, mfa_check

ACTION = "sts:AssumeRole"
ROOT_MESSAGE = "Roles may not be assumed by root accounts."
ROLE_AUDIT_TYPE = "AWS::IAM::Role"


def not_authorized(caller_arn: str, action: str, resource: str) -> str:
    return f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource}"


def _validate(params: dict[str, Any]) -> tuple[list[str], session_tags.RequestTags]:
    p = Problems()
    if p.required(params.get("RoleArn"), "roleArn"):
        check_arn(p, params.get("RoleArn"), "roleArn")
    if p.required(params.get("RoleSessionName"), "roleSessionName"):
        check_role_session_name(p, params.get("RoleSessionName"))
    durations.check_assume_role_duration(p, params.get("DurationSeconds"))
    # AssumeRole's Policy member has no model maximum any more; the plaintext
    # limit is checked with the policy (session_policies).
    session_policies.check_policy_param(p, params.get("Policy"), model_max=None)
    policy_arns = check_policy_arns(p, params.get("PolicyArns"))
    p.string(
        params.get("ExternalId"), "externalId", min_len=2, max_len=1224, pattern=EXTERNAL_ID_PATTERN
    )
    check_mfa(p, params.get("SerialNumber"), params.get("TokenCode"))
    p.string(
        params.get("SourceIdentity"), "sourceIdentity", min_len=2, max_len=256, pattern=NAME_PATTERN
    )
    tags = session_tags.parse_request_tags(p, params.get("Tags"), params.get("TransitiveTagKeys"))
    p.raise_if_any()
    role_arn = params["RoleArn"]
    parsed = arns.try_parse(role_arn)
    if parsed is None or not parsed.resource:
        # Not an ARN at all (six colon-separated fields, partition, service
        # and resource present): AWS answers this, before any authorisation
        # (recorded against AWS in 2025, e.g. "arn:a:::something/test-role
        # is invalid"). A well-formed ARN that names no role is AccessDenied.
        raise ValidationError(f"{role_arn} is invalid")
    return policy_arns, tags


class TrustCheck:
    """Evaluates the caller's STS actions on a resource a trust policy guards:
    the caller's policies, with ``trust`` as the resource policy that must
    allow (AssumeRole: the role's trust policy; AssumeRoot: what enabled root
    sessions grant the management account)."""

    def __init__(
        self,
        ctx: CallContext,
        resource: str,
        trust: Any,
        context: dict[str, Any],
        *,
        explain: bool = False,
    ) -> None:
        self.ctx = ctx
        self.resource = resource
        self.context = context
        # AssumeRole's denial is worded as AWS words it, without a reason;
        # ``explain`` adds authz's "because ..." / "with an explicit deny in ...".
        self.explain = explain
        caller = authz.caller_policy_set(ctx)
        self.policy_set = policy.PolicySet(
            identity=caller.identity,
            boundary=caller.boundary,
            session=caller.session,
            resource=trust,
        )

    @classmethod
    def for_role(cls, ctx: CallContext, role: Any, context: dict[str, Any]) -> TrustCheck:
        # Principals bound to unique ids when the policy was saved: the
        # caller matches by its aws:userid, not by a name that may be reused.
        trust = policy.compile_cached(
            effective_document(role.data), policy.PolicyKind.TRUST, role.arn, "resource"
        )
        return cls(ctx, role.arn, trust, context)

    def require(self, action: str) -> Any:
        p = self.ctx.principal
        assert p is not None
        s = p.session
        request = policy.Request(
            principal=p.arn,
            action=action,
            resource=self.resource,
            context=self.context,
            principal_account=p.account_id,
            principal_role_arn=s.role_arn if (p.kind == "assumed-role" and s is not None) else None,
        )
        result = policy.evaluate(self.policy_set, request, resource_must_allow=True)
        if authz.decision_of(result) != "allow":
            self.ctx.audit_extra["denied"] = True
            message = (
                authz.denial_message(self.ctx, action, self.resource, result)
                if self.explain
                else not_authorized(p.arn, action, self.resource)
            )
            raise authz_message.denied(
                self.ctx,
                message,
                action=action,
                resource=self.resource,
                result=result,
                context=self.context,
            )
        return result


def assume_role(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    policy_arns, request_tags = _validate(params)
    role_arn: str = params["RoleArn"]
    session_name: str = params["RoleSessionName"]
    p = ctx.principal
    if p is None or p.kind == "anonymous":
        raise AccessDenied(not_authorized("anonymous", ACTION, role_arn))

    def deny(message: str, failure: str | None = None) -> AccessDenied:
        ctx.audit_extra["denied"] = True
        return authz_message.denied(ctx, message, action=ACTION, resource=role_arn, failure=failure)

    if is_root(p):
        raise deny(ROOT_MESSAGE, "root")
    if p.kind == "federated-user":
        # GetFederationToken sessions may call no STS API but GetCallerIdentity.
        raise deny(not_authorized(p.arn, ACTION, role_arn), "federated user")
    if authz.principal_gone(ctx):
        # A session or key of a deleted user or role: refused before MFA
        # codes are claimed or a trust policy is read.
        raise deny(not_authorized(p.arn, ACTION, role_arn), "caller deleted")

    role = find_role(ctx.store, role_arn)
    if role is None:
        raise deny(not_authorized(p.arn, ACTION, role_arn), "no such role")
    ctx.audit_resources = [{"ARN": role.arn, "accountId": role.account_id, "type": ROLE_AUDIT_TYPE}]
    if role.account_id != p.account_id:
        # Audited in both accounts with a shared event id (reference §8).
        ctx.audit_extra["recipient_accounts"] = [p.account_id, role.account_id]

    # MFA: a code in this request, else what the calling session carries.
    try:
        fresh = mfa_check.verify_request_mfa(
            ctx, params.get("SerialNumber"), params.get("TokenCode")
        )
    except AccessDenied as e:
        raise deny(e.message, "mfa") from None
    mfa = fresh if fresh.authenticated else mfa_check.inherited(ctx)

    caller_session = p.session
    chained = p.kind == "assumed-role"
    inherited_tags = session_tags.inherited_transitive(caller_session)
    role_tags = session_tags.tags_from_entity(role.data)
    tags = session_tags.build_session_tags(role_tags, inherited_tags, request_tags)
    source_identity = check_source_identity(
        params.get("SourceIdentity"), getattr(caller_session, "source_identity", None)
    )

    now = int(ctx.now.timestamp())
    context: dict[str, Any] = dict(authz.base_context(ctx))
    context.update(fresh.context(now))
    context["sts:RoleSessionName"] = session_name
    if params.get("ExternalId") is not None:
        # Only when passed: a trust policy requiring sts:ExternalId must not
        # match a request without one (confused-deputy guard).
        context["sts:ExternalId"] = params["ExternalId"]
    if source_identity is not None:
        context["sts:SourceIdentity"] = source_identity
    context.update(session_tags.request_tag_context(request_tags))
    context.update(session_tags.resource_tag_context(role_tags, inherited_tags))

    trust = TrustCheck.for_role(ctx, role, context)
    trust.require(ACTION)
    if request_tags.given:
        trust.require("sts:TagSession")
    if source_identity is not None:
        # Needed when set here and when carried along a chain (IAM guide,
        # "Permissions required to set source identity").
        trust.require("sts:SetSourceIdentity")
    if params.get("ProvidedContexts"):
        # Trusted context assertions are sealed by a context provider (IAM
        # Identity Center); rolegate has none, so none can be verified. Fail
        # closed rather than issue a session without the context the caller
        # believes it carries.
        raise InvalidContextAssertion(
            "The request was rejected because the context assertion that was provided is "
            "invalid: rolegate trusts no context provider."
        )

    duration = durations.assume_role_duration(
        params.get("DurationSeconds"),
        max_session_duration=int(role.data.get("max_session_duration") or 3600),
        chained=chained,
    )
    policies = session_policies.load_session_policies(
        ctx.store, params.get("Policy"), policy_arns, home_account=role.account_id
    )
    packed = session_policies.packed_size(policies, tags.session_only, tags.transitive_keys)

    session = issue_role_session(
        ctx,
        role,
        session_name,
        duration=duration,
        policies=policies,
        packed=packed,
        tags=tags,
        source_identity=source_identity,
        issuer=caller_issuer(ctx),
        chain_depth=(getattr(caller_session, "chain_depth", 0) + 1) if chained else 0,
        mfa_authenticated=mfa.authenticated,
        mfa_auth_time=mfa.auth_time,
    )
    ctx.audit_response = session.audit
    return session.output


def is_root(p: Any) -> bool:
    """The account root, with long-term keys or with its GetSessionToken credentials."""
    return p.kind == "root" or p.arn == arns.root_arn(p.account_id)


def caller_issuer(ctx: CallContext) -> dict[str, Any]:
    """Who created a session, for the audit (``SessionClaims.issuer``)."""
    p = ctx.principal
    assert p is not None
    kind = (
        "Root"
        if is_root(p)
        else {
            "user": "IAMUser",
            "assumed-role": "AssumedRole",
            "federated-user": "FederatedUser",
        }.get(p.kind, "Unknown")
    )
    out: dict[str, Any] = {
        "type": kind,
        "arn": p.arn,
        "principalId": p.user_id,
        "accountId": p.account_id,
    }
    if p.name:
        out["userName"] = p.name
    return out
