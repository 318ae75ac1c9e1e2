"""Authorisation of every call: the caller's policies, the request context,
and the AWS-style AccessDenied message.

The store is read here, before evaluation, so the policy engine stays pure
(STYLE.md §4): ``caller_policy_set`` gathers compiled policies from the
store's in-process cache, ``base_context`` resolves every global condition key
the caller brings, and ``authorize`` asks the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rolegate import policy
from rolegate.context import CallContext, Principal
from rolegate.errors import AccessDenied
from rolegate.principals.entities import AWS_MANAGED_ACCOUNT
from rolegate.principals.policy_sets import bundle_of, managed_policy_document, principal_entity

_PRINCIPAL_TYPE = {
    "root": "Account",
    "user": "User",
    "assumed-role": "AssumedRole",
    "federated-user": "FederatedUser",
    "anonymous": "Anonymous",
}


_ISO_CACHE: dict[int, str] = {}


def _iso(ts: datetime | int | float) -> str:
    # Seconds resolution, so memoise by epoch second: strftime (~5 µs) ran on
    # every authorised request for aws:CurrentTime and aws:TokenIssueTime.
    key = int(ts.timestamp()) if isinstance(ts, datetime) else int(ts)
    out = _ISO_CACHE.get(key)
    if out is None:
        if len(_ISO_CACHE) > 256:
            _ISO_CACHE.clear()
        out = _ISO_CACHE[key] = datetime.fromtimestamp(key, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def base_context(ctx: CallContext) -> dict[str, Any]:
    """Global condition keys of this request (reference §3.3)."""
    now = ctx.now
    c: dict[str, Any] = {
        "aws:CurrentTime": _iso(now),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SourceIp": ctx.source_ip,
        "aws:UserAgent": ctx.user_agent,
        "aws:SecureTransport": "true" if getattr(ctx, "secure", False) else "false",
        "aws:RequestedRegion": ctx.region,
    }
    p = ctx.principal
    if p is None or p.kind == "anonymous":
        return c
    c["aws:PrincipalAccount"] = p.account_id
    c["aws:PrincipalType"] = _PRINCIPAL_TYPE[p.kind]
    c["aws:userid"] = p.user_id
    s = p.session
    if p.kind == "user":
        c["aws:PrincipalArn"] = p.arn
        c["aws:username"] = p.name
    elif p.kind == "root":
        c["aws:PrincipalArn"] = p.arn
    elif p.kind == "assumed-role":
        c["aws:PrincipalArn"] = s.role_arn if s is not None else p.arn
    elif p.kind == "federated-user":
        c["aws:PrincipalArn"] = p.arn
    if s is not None:
        c["aws:TokenIssueTime"] = _iso(s.issued_at)
        c["aws:MultiFactorAuthPresent"] = "true" if s.mfa_authenticated else "false"
        if s.mfa_authenticated and s.mfa_auth_time is not None:
            c["aws:MultiFactorAuthAge"] = str(max(0, int(now.timestamp()) - int(s.mfa_auth_time)))
        if s.source_identity:
            c["aws:SourceIdentity"] = s.source_identity
        if s.kind == "session" and s.user_name:
            c["aws:username"] = s.user_name
        if s.federation:
            for k, v in (s.federation.get("context_keys") or {}).items():
                c[k] = v
    for k, v in principal_tags(ctx).items():
        c[f"aws:PrincipalTag/{k}"] = v
    return c


def principal_tags(ctx: CallContext) -> dict[str, str]:
    p = ctx.principal
    if p is None:
        return {}
    s = p.session
    if s is not None and p.kind in ("assumed-role", "federated-user"):
        return dict(s.tags)
    if p.kind == "user":
        compiled = _bundle(ctx, "user", p.user_id)
        return dict(compiled.bundle.tags) if compiled else {}
    return {}


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A user's or role's policies, compiled: what authorising its calls reads."""

    bundle: Any  # rolegate.principals.policy_sets.PolicyBundle
    identity: tuple[Any, ...]
    boundary: Any


def _acting_identity(p: Principal) -> tuple[str, str] | None:
    """(kind, unique id) of the IAM user or role whose policies the caller
    acts with, or None when there is none (root, root's federated users).

    Ids, not names (reference §3.1): a role's sessions carry its ``AROA`` id,
    a user's keys and GetSessionToken credentials its ``AIDA`` id, and a
    federated user the id of the user that called GetFederationToken
    (``issuer.principalId``, sealed in the token).
    """
    s = p.session
    if p.kind == "assumed-role":
        role_id = getattr(s, "role_id", None)
        return ("role", role_id) if role_id else None
    if p.kind == "federated-user":
        if s is None or not s.user_name:
            return None
        issuer = s.issuer if isinstance(s.issuer, Mapping) else {}
        # A token without the issuing user's id cannot prove it is that user's.
        return ("user", str(issuer.get("principalId") or ""))
    if p.kind == "user":
        return ("user", p.user_id)
    return None


def _bundle(ctx: CallContext, kind: str, entity_id: str | None) -> _Compiled | None:
    """The compiled policies of the caller's user or role, or None if it is gone.

    Kept on the store's cache view of the account (``Store.derived``) until
    the account, or the AWS managed policies, change: gathering and
    compiling them cost AssumeRole about a tenth of its time per request.
    """
    if not entity_id:
        return None
    cache = ctx.memo.setdefault("bundles", {})
    key = (kind, entity_id)
    if key in cache:
        return cache[key]
    store = ctx.store
    account = ctx.principal.account_id  # type: ignore[union-attr]

    def build() -> _Compiled | None:
        entity = principal_entity(store, account, kind, entity_id)
        if entity is None:
            return None
        bundle = bundle_of(store, entity)
        return _Compiled(
            bundle,
            tuple(_compile(d, policy.PolicyKind.IDENTITY) for d in bundle.identity),
            None
            if bundle.boundary is None
            else _compile(bundle.boundary, policy.PolicyKind.BOUNDARY),
        )

    derived = getattr(store, "derived", None)
    out = (
        derived(
            account, ("principal-policies", kind, entity_id), build, also=(AWS_MANAGED_ACCOUNT,)
        )
        if derived is not None
        else build()
    )
    cache[key] = out
    return out


def principal_gone(ctx: CallContext) -> bool:
    """Whether the caller speaks for a user or role that no longer exists.

    A session or key outlives nothing: once its entity is deleted (even if
    another took over the name) every call it makes is refused, as AWS
    refuses a deleted role's sessions for want of the role's policies.
    """
    p = ctx.principal
    if p is None:
        return False
    who = _acting_identity(p)
    return who is not None and _bundle(ctx, *who) is None


def _compile(doc: Any, kind: Any) -> Any:
    return policy.compile_cached(doc.document, kind, doc.policy_id, doc.source_type)


def _session_policies(ctx: CallContext, s: Any) -> tuple[Any, ...] | None:
    out = []
    if s.session_policy:
        out.append(
            policy.compile_cached(s.session_policy, policy.PolicyKind.SESSION, "session", "session")
        )
    for arn in s.policy_arns:
        text = managed_policy_document(ctx.store, arn)
        if text is not None:
            out.append(policy.compile_cached(text, policy.PolicyKind.SESSION, arn, "session"))
    if not out and not s.policy_arns:
        return None
    # A session whose managed policy ARN vanished keeps only what remains;
    # an empty tuple denies everything, which is the fail-closed reading.
    return tuple(out)


# What an AssumeRoot session is narrowed by when its task policy cannot be
# read: nothing at all.
_DENY_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'
_ROOT_TASK_PREFIX = "arn:aws:iam::aws:policy/root-task/"


def _deny_all() -> Any:
    return policy.compile_cached(_DENY_ALL, policy.PolicyKind.SESSION, "deny-all", "session")


def _root_task_policies(ctx: CallContext, s: Any) -> tuple[Any, ...]:
    """The session policies of an AssumeRoot session: its one task policy.

    The principal's ARN is the account root, which the engine allows
    everything in its own account but what a Deny matches; the root-task
    policies are Deny-only, so they narrow by their Denies (reference §2.8
    "never widen"). Anything else than exactly one readable root-task policy
    fails closed: a Deny of everything, since an empty session set would
    leave the root's full powers.
    """
    arns = tuple(s.policy_arns)
    text = None
    if len(arns) == 1 and arns[0].startswith(_ROOT_TASK_PREFIX):
        text = managed_policy_document(ctx.store, arns[0])
    if text is None:
        return (_deny_all(),)
    return (policy.compile_cached(text, policy.PolicyKind.SESSION, arns[0], "session"),)


def caller_policy_set(ctx: CallContext) -> Any:
    """The caller's identity ∩ boundary ∩ session policies, compiled."""
    cached = ctx.memo.get("policy_set")
    if cached is not None:
        return cached
    p = ctx.principal
    identity: tuple[Any, ...] = ()
    boundary = None
    session = None
    if p is not None and p.session is not None and p.session.kind == "assumed-root":
        session = _root_task_policies(ctx, p.session)
    elif p is not None and p.kind in ("user", "assumed-role", "federated-user"):
        s = p.session
        who = _acting_identity(p)
        compiled = None if who is None else _bundle(ctx, *who)
        if who is not None and compiled is None:
            # The entity is gone: nothing may allow (a Deny of everything,
            # so no resource or trust policy naming the caller admits it).
            ps = policy.PolicySet(identity=(), boundary=None, session=(_deny_all(),))
            ctx.memo["policy_set"] = ps
            return ps
        if compiled is not None:
            identity = compiled.identity
            boundary = compiled.boundary
        if s is not None and p.kind in ("assumed-role", "federated-user"):
            session = _session_policies(ctx, s)
            if p.kind == "federated-user" and session is None:
                session = ()
    ps = policy.PolicySet(identity=identity, boundary=boundary, session=session)
    ctx.memo["policy_set"] = ps
    return ps


def _principal_arn_for_message(p: Principal | None) -> str:
    return p.arn if p is not None else "anonymous"


def decision_of(result: Any) -> str:
    d = getattr(result, "decision", None)
    return str(getattr(d, "value", d))


def denial_message(ctx: CallContext, action: str, resource: str, result: Any) -> str:
    who = _principal_arn_for_message(ctx.principal)
    head = f"User: {who} is not authorized to perform: {action} on resource: {resource}"
    if decision_of(result) == "explicitDeny":
        where = "an identity-based policy"
        wheres = {
            "session": "a session policy",
            "boundary": "a permissions boundary",
            "resource": "a resource-based policy",
            "scp": "a service control policy",
        }
        for m in getattr(result, "matched", ()):
            if m.effect == "Deny" and m.category in wheres:
                where = wheres[m.category]
        return f"{head} with an explicit deny in {where}"
    reason = getattr(result, "reason", None)
    if reason == "scp":
        return f"{head} because no service control policy allows the {action} action"
    if reason == "boundary":
        return f"{head} because no permissions boundary allows the {action} action"
    if reason == "session":
        return f"{head} because no session policy allows the {action} action"
    return f"{head} because no identity-based policy allows the {action} action"


def authorize(
    ctx: CallContext,
    action: str,
    resource: str,
    *,
    context: Mapping[str, Any] | None = None,
    resource_policy: Any = None,
    resource_account: str | None = None,
) -> Any:
    p = ctx.principal
    if p is None:
        raise AccessDenied(f"Not authorized to perform: {action}")
    if principal_gone(ctx):
        # Worded as for a caller no policy allows: its policies went with it.
        ctx.audit_extra["denied"] = True
        raise AccessDenied(
            f"User: {p.arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action"
        )
    if p.kind == "root" and p.session is None and (resource_account in (None, p.account_id)):
        # The account root may do anything in its own account (SCPs aside).
        # Not a root *session* (GetSessionToken as root, AssumeRoot): its
        # session policies are evaluated, where the engine gives the root
        # ARN everything in its account that a Deny does not match.
        return None
    ps = caller_policy_set(ctx)
    if resource_policy is not None:
        ps = policy.PolicySet(
            identity=ps.identity, boundary=ps.boundary, session=ps.session, resource=resource_policy
        )
    full = ctx.memo.get("base_context")
    if full is None:
        full = ctx.memo["base_context"] = base_context(ctx)
    if context:
        full = {**full, **context}
    role_arn = p.session.role_arn if (p.kind == "assumed-role" and p.session is not None) else None
    req = policy.Request(
        principal=p.arn,
        action=action,
        resource=resource,
        context=full,
        principal_account=p.account_id,
        principal_role_arn=role_arn,
    )
    result = policy.evaluate(ps, req)
    if decision_of(result) == "allow":
        return result
    ctx.audit_extra["denied"] = True
    raise AccessDenied(denial_message(ctx, action, resource, result))
