"""The account password policy: UpdateAccountPasswordPolicy,
GetAccountPasswordPolicy, DeleteAccountPasswordPolicy, and the check every
new console password goes through (:func:`check_password`).

Storage: one entity per account, kind ``password-policy``, name ``default``,
whose ``data`` is the ``PasswordPolicy`` output shape minus the derived
``ExpirePasswords`` (an entity rather than the account's data so writes get
the store's optimistic versioning). Without one, AWS's default rules apply:
at least 8 characters and three of the four character classes (uppercase,
lowercase, numbers, symbols), and not the account's name or email.

The actions act on the account, so they are authorised on resource ``*``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import NoSuchEntity, PasswordPolicyViolation, ValidationError
from rolegate.iam import lookup

KIND = "password-policy"
NAME = "default"

DEFAULT_MINIMUM_LENGTH = 8  # AWS's rules while no password policy is set
# UpdateAccountPasswordPolicy without MinimumPasswordLength (botocore's model).
UPDATE_DEFAULT_MINIMUM_LENGTH = 6
# The symbols AWS counts for RequireSymbols (and for the default policy).
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")

_BOOL_FIELDS = (
    "RequireSymbols",
    "RequireNumbers",
    "RequireUppercaseCharacters",
    "RequireLowercaseCharacters",
    "AllowUsersToChangePassword",
)


def _not_found(account: str) -> NoSuchEntity:
    return NoSuchEntity(f"The Password Policy with domain name {account} cannot be found.")


def _int_in(params: Mapping[str, Any], name: str, lo: int, hi: int) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{name[:1].lower() + name[1:]}' "
            f"failed to satisfy constraint: Member must have value between {lo} and {hi}"
        )
    return value


def get_policy(reader: Any, account_id: str) -> dict[str, Any] | None:
    """The account's stored policy (``PasswordPolicy`` members), or None.

    ``reader`` is the store (cached) or a transaction.
    """
    entity = reader.get(account_id, KIND, NAME)
    return None if entity is None else dict(entity.data)


def _classes(password: str) -> dict[str, bool]:
    return {
        "upper": any(c.isascii() and c.isupper() for c in password),
        "lower": any(c.isascii() and c.islower() for c in password),
        "number": any(c in "0123456789" for c in password),
        "symbol": any(c in SYMBOLS for c in password),
    }


def policy_violation(
    password: str, policy: Mapping[str, Any] | None, *, account: Mapping[str, Any] | None = None
) -> str | None:
    """Why ``password`` breaks ``policy`` (None: AWS's default rules), or None if it does not.

    The first broken rule is reported, in AWS's wording.
    """
    classes = _classes(password)
    if policy is None:
        if len(password) < DEFAULT_MINIMUM_LENGTH or sum(classes.values()) < 3:
            return (
                f"Password should have at least {DEFAULT_MINIMUM_LENGTH} characters and "
                "at least three of the following: uppercase letters, lowercase letters, "
                "numbers, and symbols ! @ # $ % ^ & * ( ) _ + - = [ ] { } | '"
            )
        if account:
            lowered = password.lower()
            for attr in ("name", "email"):
                value = str(account.get(attr) or "").lower()
                if value and lowered == value:
                    return "Password should not be identical to the account name or email address"
        return None
    minimum = int(policy.get("MinimumPasswordLength") or DEFAULT_MINIMUM_LENGTH)
    if len(password) < minimum:
        return f"Password should have at least {minimum} characters"
    if policy.get("RequireUppercaseCharacters") and not classes["upper"]:
        return "Password should have at least one uppercase letter"
    if policy.get("RequireLowercaseCharacters") and not classes["lower"]:
        return "Password should have at least one lowercase letter"
    if policy.get("RequireNumbers") and not classes["number"]:
        return "Password should have at least one number"
    if policy.get("RequireSymbols") and not classes["symbol"]:
        return "Password should have at least one symbol"
    return None


def check_password(reader: Any, account_id: str, password: str) -> dict[str, Any] | None:
    """Raise PasswordPolicyViolation unless ``password`` satisfies the account's policy.

    Returns the stored policy (None when the defaults applied) for callers
    that enforce reuse prevention.
    """
    policy = get_policy(reader, account_id)
    account = None
    if policy is None:
        getter = getattr(reader, "get_account", None)
        account = getter(account_id) if getter is not None else None
    message = policy_violation(password, policy, account=account)
    if message is not None:
        raise PasswordPolicyViolation(message)
    return policy


def update_account_password_policy(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    lookup.authorize(ctx, "UpdateAccountPasswordPolicy", "*", None)
    # As in AWS, parameters left out revert to their defaults (not kept).
    minimum = _int_in(params, "MinimumPasswordLength", 6, 128) or UPDATE_DEFAULT_MINIMUM_LENGTH
    max_age = _int_in(params, "MaxPasswordAge", 1, 1095)
    reuse = _int_in(params, "PasswordReusePrevention", 1, 24)
    data: dict[str, Any] = {"MinimumPasswordLength": minimum}
    for name in _BOOL_FIELDS:
        data[name] = bool(params.get(name, False))
    if max_age is not None:
        data["MaxPasswordAge"] = max_age
    if reuse is not None:
        data["PasswordReusePrevention"] = reuse
    if params.get("HardExpiry") is not None:
        data["HardExpiry"] = bool(params["HardExpiry"])
    with ctx.store.transaction() as tx:
        lookup.put_account_singleton(
            tx,
            account,
            KIND,
            NAME,
            arn=f"arn:aws:iam::{account}:account-password-policy",
            data=data,
            now=ctx.now,
        )
    return None


def policy_output(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"MinimumPasswordLength": int(data["MinimumPasswordLength"])}
    for name in _BOOL_FIELDS:
        out[name] = bool(data.get(name))
    out["ExpirePasswords"] = data.get("MaxPasswordAge") is not None
    if data.get("MaxPasswordAge") is not None:
        out["MaxPasswordAge"] = int(data["MaxPasswordAge"])
    if data.get("PasswordReusePrevention") is not None:
        out["PasswordReusePrevention"] = int(data["PasswordReusePrevention"])
    if data.get("HardExpiry") is not None:
        out["HardExpiry"] = bool(data["HardExpiry"])
    return out


def get_account_password_policy(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    lookup.authorize(ctx, "GetAccountPasswordPolicy", "*", None)
    data = get_policy(ctx.store, account)
    if data is None:
        raise _not_found(account)
    return {"PasswordPolicy": policy_output(data)}


def delete_account_password_policy(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    lookup.authorize(ctx, "DeleteAccountPasswordPolicy", "*", None)
    with ctx.store.transaction() as tx:
        if not tx.delete(account, KIND, NAME):
            # Deleting words it differently from reading (recorded against AWS).
            raise NoSuchEntity("The account policy with name PasswordPolicy cannot be found.")
    return None


HANDLERS: dict[str, Callable[..., Any]] = {
    "UpdateAccountPasswordPolicy": update_account_password_policy,
    "GetAccountPasswordPolicy": get_account_password_policy,
    "DeleteAccountPasswordPolicy": delete_account_password_policy,
}
