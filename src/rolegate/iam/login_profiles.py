"""Console passwords: CreateLoginProfile, GetLoginProfile, UpdateLoginProfile,
DeleteLoginProfile, ChangePassword, and :func:`verify_password` for the
(future) web console.

Storage: the login profile lives in the user entity's ``data`` under
``login_profile`` (so UpdateUser's rename carries it along and DeleteUser
sees it in the same row)::

    {"password": <sealed hash>, "create_date": iso, "password_changed": iso,
     "password_reset_required": bool, "max_signin_session_duration": int | None,
     "previous": [<sealed hash>, ...]}          # newest first, for reuse prevention

A password is never stored, logged or returned: it is hashed with scrypt
(n=2**14, r=8, p=1, 16-byte salt from ``os.urandom``, 32-byte key) into the
versioned text ``scrypt1$<n>$<r>$<p>$<salt b64>$<key b64>``, and that text is
further sealed with the store's master key (``store.encrypt``) bound to the
user's id, so a copied row is useless without the master key and a hash
cannot be moved to another user. Hashes are compared with
``hmac.compare_digest``. Request parameters named Password/NewPassword/
OldPassword are dropped by the audit layer (``rolegate.audit.events``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import (
    AccessDenied,
    AwsError,
    EntityAlreadyExists,
    NoSuchEntity,
    PasswordPolicyViolation,
    ValidationError,
)
from rolegate.iam import lookup, password_policy
from rolegate.iam.lookup import USER

FIELD = "login_profile"
HASH_VERSION = "scrypt1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
MAX_HISTORY = 24  # PasswordReusePrevention's maximum


# --- hashing ------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The versioned scrypt hash text of ``password`` (a fresh salt unless given)."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=KEY_BYTES
    )
    return f"{HASH_VERSION}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def check_hash(password: str, encoded: str) -> bool:
    """Whether ``password`` matches the hash text (constant-time comparison)."""
    try:
        version, n, r, p, salt, key = encoded.split("$")
        if version != HASH_VERSION:
            return False
        expected = base64.b64decode(key, validate=True)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash of nothing anyone knows: verifying against it costs what a real check
# costs, so a missing user or profile is not told apart by timing.
_DUMMY_HASH = hash_password(os.urandom(16).hex())


def _context(user: Any) -> bytes:
    return f"login-profile:{user.account_id}:{user.entity_id}".encode()


def _seal(store: Any, user: Any, hashed: str) -> str:
    return str(store.encrypt(hashed.encode("ascii"), context=_context(user)))


def _matches(store: Any, user: Any, sealed: str, password: str) -> bool:
    try:
        hashed = store.decrypt(sealed, context=_context(user)).decode("ascii")
    except Exception:  # noqa: BLE001 - any unreadable record simply does not match
        check_hash(password, _DUMMY_HASH)
        return False
    return check_hash(password, hashed)


def verify_password(store: Any, account_id: str, user_name: str, password: str) -> bool:
    """Whether ``password`` is the console password of the IAM user (for the console).

    False for a missing user or login profile (after the same scrypt work).
    Expiry and ``PasswordResetRequired`` are the console's to enforce
    (:func:`login_state`).
    """
    user = store.get(account_id, "user", user_name)
    profile = user.data.get(FIELD) if user is not None else None
    if not profile or not isinstance(password, str):
        check_hash(password if isinstance(password, str) else "", _DUMMY_HASH)
        return False
    return _matches(store, user, profile["password"], password)


def login_state(
    store: Any, account_id: str, user_name: str, now: datetime
) -> dict[str, Any] | None:
    """The console-relevant facts of a user's login profile, or None without one:
    ``{"password_reset_required", "expired", "hard_expiry"}``."""
    user = store.get(account_id, "user", user_name)
    profile = user.data.get(FIELD) if user is not None else None
    if not profile:
        return None
    policy = password_policy.get_policy(store, account_id) or {}
    return {
        "password_reset_required": bool(profile.get("password_reset_required")),
        "expired": _expired(profile, policy, now),
        "hard_expiry": bool(policy.get("HardExpiry")),
    }


def _expired(profile: Mapping[str, Any], policy: Mapping[str, Any], now: datetime) -> bool:
    max_age = policy.get("MaxPasswordAge")
    if not max_age:
        return False
    changed = lookup.as_datetime(profile.get("password_changed") or profile["create_date"])
    return now >= changed + timedelta(days=int(max_age))


# --- helpers ------------------------------------------------------------------


def _no_profile(name: str) -> NoSuchEntity:
    return NoSuchEntity(f"Login Profile for User {name} cannot be found.")


def _check_reuse(
    store: Any, user: Any, profile: Mapping[str, Any] | None, policy: Any, password: str
) -> None:
    """PasswordReusePrevention N: the new password may not be any of the last N."""
    reuse = int((policy or {}).get("PasswordReusePrevention") or 0)
    if not reuse or not profile:
        return
    recent = [profile["password"], *list(profile.get("previous") or ())][:reuse]
    if any(_matches(store, user, sealed, password) for sealed in recent):
        raise PasswordPolicyViolation(
            f"Password should not be one of your previous {reuse} passwords"
        )


def _with_new_password(
    profile: Mapping[str, Any], sealed: str, now: datetime, **changes: Any
) -> dict[str, Any]:
    history = [profile["password"], *list(profile.get("previous") or ())][:MAX_HISTORY]
    return {
        **profile,
        "password": sealed,
        "password_changed": lookup.iso(now),
        "previous": history,
        **changes,
    }


def _output(user: Any, profile: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "UserName": user.name,
        "CreateDate": lookup.as_datetime(profile["create_date"]),
        "PasswordResetRequired": bool(profile.get("password_reset_required")),
    }
    if profile.get("max_signin_session_duration") is not None:
        out["MaxSigninSessionDuration"] = int(profile["max_signin_session_duration"])
    return out


def _save(tx: Any, user: Any, profile: dict[str, Any] | None, now: datetime) -> Any:
    data = dict(user.data)
    if profile is None:
        data.pop(FIELD, None)
    else:
        data[FIELD] = profile
    return tx.update(user, data, now=now)


# --- handlers -------------------------------------------------------------------


def create_login_profile(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    name = lookup.caller_user_name(ctx, params)
    lookup.authorize_entity(ctx, USER, "CreateLoginProfile", name)
    password = params.get("Password")
    if password is None:
        # The model made Password optional for AssumeRoot sessions (root
        # password recovery), which rolegate does not issue; for an IAM user
        # it is required, as AWS's documentation says.
        raise ValidationError(
            "1 validation error detected: Value null at 'password' failed to satisfy "
            "constraint: Member must not be null"
        )
    password_policy.check_password(ctx.store, account, password)
    hashed = hash_password(password)  # the slow part, outside the transaction
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, name)
        if user.data.get(FIELD):
            raise EntityAlreadyExists(f"Login Profile for user {user.name} already exists.")
        profile: dict[str, Any] = {
            "password": _seal(ctx.store, user, hashed),
            "create_date": lookup.iso(ctx.now),
            "password_changed": lookup.iso(ctx.now),
            "password_reset_required": bool(params.get("PasswordResetRequired", False)),
            "max_signin_session_duration": params.get("MaxSigninSessionDuration"),
            "previous": [],
        }
        _save(tx, user, profile, ctx.now)
    out = {"LoginProfile": _output(user, profile)}
    lookup.record_response(ctx, out)
    return out


def get_login_profile(ctx: CallContext, params: dict) -> dict:
    name = lookup.caller_user_name(ctx, params)
    user = lookup.authorize_entity(ctx, USER, "GetLoginProfile", name)
    profile = user.data.get(FIELD)
    if not profile:
        raise _no_profile(user.name)
    return {"LoginProfile": _output(user, profile)}


def update_login_profile(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    name = lookup.caller_user_name(ctx, params)
    lookup.authorize_entity(ctx, USER, "UpdateLoginProfile", name)
    password = params.get("Password")
    hashed = None
    if password is not None:
        # The slow parts (scrypt) run outside the transaction.
        policy = password_policy.check_password(ctx.store, account, password)
        cached = ctx.store.get(account, "user", name)
        if cached is not None:
            _check_reuse(ctx.store, cached, cached.data.get(FIELD), policy, password)
        hashed = hash_password(password)
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, name)
        profile = user.data.get(FIELD)
        if not profile:
            raise _no_profile(user.name)
        changes: dict[str, Any] = {}
        if params.get("PasswordResetRequired") is not None:
            changes["password_reset_required"] = bool(params["PasswordResetRequired"])
        if params.get("ResetMaxSigninSessionDuration"):
            changes["max_signin_session_duration"] = None
        elif params.get("MaxSigninSessionDuration") is not None:
            changes["max_signin_session_duration"] = params["MaxSigninSessionDuration"]
        if hashed is not None:
            updated = _with_new_password(
                profile, _seal(ctx.store, user, hashed), ctx.now, **changes
            )
        else:
            updated = {**profile, **changes}
        _save(tx, user, updated, ctx.now)
    return None


def delete_login_profile(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    name = lookup.caller_user_name(ctx, params)
    lookup.authorize_entity(ctx, USER, "DeleteLoginProfile", name)
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, name)
        if not user.data.get(FIELD):
            raise _no_profile(user.name)
        _save(tx, user, None, ctx.now)
    return None


def change_password(ctx: CallContext, params: dict) -> None:
    """The calling IAM user changes its own console password.

    Error choices (the model lists NoSuchEntity, InvalidUserType,
    LimitExceeded, EntityTemporarilyUnmodifiable, PasswordPolicyViolation):
    - a caller that is not an IAM user (root, role session, federated user)
      -> ``InvalidUserType`` 400, the model's meaning of that code;
    - a wrong OldPassword -> ``AccessDenied`` 403. None of the model's codes
      means "wrong password" (InvalidUserType is about the kind of caller),
      and AWS's own console reports a failed change as an authorisation
      failure ("Either user is not authorized to perform iam:ChangePassword
      or ..."); AccessDenied is a common error every action may return;
    - an expired password under HardExpiry -> ``AccessDenied`` too (only an
      administrator may reset it, via UpdateLoginProfile).
    As in AWS, the account policy's AllowUsersToChangePassword lets users
    change their own password without an iam:ChangePassword grant.
    """
    account = ctx.account_id
    p = ctx.principal
    if p is None or p.kind != "user" or not p.name:
        raise AwsError(
            "Only IAM users can change their password with ChangePassword.",
            code="InvalidUserType",
            status=400,
        )
    user = ctx.store.get(account, "user", p.name)
    user_arn = user.arn if user is not None else p.arn
    policy = password_policy.get_policy(ctx.store, account)
    try:
        lookup.authorize(ctx, "ChangePassword", user_arn, USER.audit_type)
    except AccessDenied:
        if not (policy or {}).get("AllowUsersToChangePassword"):
            raise
        entry = {"ARN": user_arn, "accountId": account, "type": USER.audit_type}
        if entry not in ctx.audit_resources:
            ctx.audit_resources.append(entry)
    if user is None:
        raise USER.not_found(p.name)
    profile = user.data.get(FIELD)
    if not profile:
        raise _no_profile(user.name)
    old, new = params["OldPassword"], params["NewPassword"]
    if not _matches(ctx.store, user, profile["password"], old):
        raise AccessDenied("The old password is incorrect.")
    if (policy or {}).get("HardExpiry") and _expired(profile, policy or {}, ctx.now):
        raise AccessDenied("The password has expired; an administrator must reset it.")
    password_policy.check_password(ctx.store, account, new)
    _check_reuse(ctx.store, user, profile, policy, new)
    hashed = hash_password(new)
    with ctx.store.transaction() as tx:
        current = lookup.require(tx, account, USER, user.name)
        fresh = current.data.get(FIELD)
        if not fresh or fresh.get("password") != profile["password"]:
            # Changed or removed since the old password was verified.
            raise AwsError(
                f"Login Profile for User {user.name} is being modified; retry.",
                code="EntityTemporarilyUnmodifiable",
                status=409,
            )
        sealed = _seal(ctx.store, current, hashed)
        _save(
            tx,
            current,
            _with_new_password(fresh, sealed, ctx.now, password_reset_required=False),
            ctx.now,
        )
    return None


HANDLERS: dict[str, Callable[..., Any]] = {
    "CreateLoginProfile": create_login_profile,
    "GetLoginProfile": get_login_profile,
    "UpdateLoginProfile": update_login_profile,
    "DeleteLoginProfile": delete_login_profile,
    "ChangePassword": change_password,
}
