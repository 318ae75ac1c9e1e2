"""Long-term access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey,
DeleteAccessKey, GetAccessKeyLastUsed.

The secret exists in clear only in CreateAccessKey's response; the store
encrypts it with the master key (``tx.insert_access_key``) and the audit
record never sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rolegate import ids
from rolegate.context import CallContext
from rolegate.errors import AccessDenied, LimitExceeded, NoSuchEntity
from rolegate.iam import lookup
from rolegate.iam.lookup import USER
from rolegate.iam.paging import paginate

MAX_KEYS_PER_USER = 2  # §4.6


def _f(key: Any, name: str) -> Any:
    # The store hands back AccessKey records; tolerate plain dicts as well.
    return key[name] if isinstance(key, Mapping) else getattr(key, name)


def _key_not_found(akid: str) -> NoSuchEntity:
    return NoSuchEntity(f"The Access Key with id {akid} cannot be found.")


def _metadata(key: Any, user_name: str) -> dict[str, Any]:
    return {
        "UserName": user_name,
        "AccessKeyId": _f(key, "akid"),
        "Status": _f(key, "status"),
        "CreateDate": lookup.as_datetime(_f(key, "created_at")),
    }


def create_access_key(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    name = lookup.caller_user_name(ctx, params)
    lookup.authorize_entity(ctx, USER, "CreateAccessKey", name)
    r = lookup.rng(ctx)
    akid = ids.new_access_key_id("AKIA", r)
    secret = ids.new_secret(r)
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, name)
        if len(tx.list_access_keys(account, user.name)) >= MAX_KEYS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}")
        tx.insert_access_key(akid, account, user.name, user.entity_id, secret, "Active", ctx.now)
    key = {
        "UserName": user.name,
        "AccessKeyId": akid,
        "Status": "Active",
        "SecretAccessKey": secret,
        "CreateDate": ctx.now,
    }
    lookup.record_response(
        ctx, {"AccessKey": {k: v for k, v in key.items() if k != "SecretAccessKey"}}
    )
    ctx.audit_resources.append(
        {"ARN": akid, "accountId": account, "type": lookup.ACCESS_KEY_AUDIT_TYPE}
    )
    return {"AccessKey": key}


def list_access_keys(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    p = ctx.principal
    if not params.get("UserName") and p is not None and p.kind == "root":
        # Root keys are not IAM-user keys; rolegate issues none.
        lookup.authorize(ctx, "ListAccessKeys", p.arn, None)
        return {"AccessKeyMetadata": [], "IsTruncated": False}
    name = lookup.caller_user_name(ctx, params)
    user = lookup.authorize_entity(ctx, USER, "ListAccessKeys", name)
    with ctx.store.transaction(readonly=True) as tx:
        keys = tx.list_access_keys(account, user.name)
    page, extra = paginate(keys, params, key=lambda k: str(_f(k, "akid")))
    return {"AccessKeyMetadata": [_metadata(k, user.name) for k in page], **extra}


def _users_key(tx: Any, account: str, user: Any, akid: str) -> Any:
    for key in tx.list_access_keys(account, user.name):
        if _f(key, "akid") == akid:
            return key
    raise _key_not_found(akid)


def update_access_key(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    akid, status = params["AccessKeyId"], params["Status"]
    name = lookup.caller_user_name(ctx, params)
    lookup.authorize_entity(ctx, USER, "UpdateAccessKey", name)
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, name)
        _users_key(tx, account, user, akid)
        tx.set_access_key_status(akid, status)
    return None


def delete_access_key(ctx: CallContext, params: dict) -> None:
    account = ctx.account_id
    akid = params["AccessKeyId"]
    name = lookup.caller_user_name(ctx, params)
    lookup.authorize_entity(ctx, USER, "DeleteAccessKey", name)
    with ctx.store.transaction() as tx:
        user = lookup.require(tx, account, USER, name)
        _users_key(tx, account, user, akid)
        tx.delete_access_key(akid)
    return None


def _last_used_field(record: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        if record.get(n) is not None:
            return record[n]
    return None


def get_access_key_last_used(ctx: CallContext, params: dict) -> dict:
    account = ctx.account_id
    akid = params["AccessKeyId"]
    key = ctx.store.lookup_access_key(akid)
    if key is None or _f(key, "account_id") != account:
        # Keys of other accounts are indistinguishable from unknown ones, and
        # AWS answers both as a denial on the key (recorded against AWS).
        lookup.authorize(ctx, "GetAccessKeyLastUsed", f"arn:aws:iam::{account}:user/", None)
        ctx.audit_extra["denied"] = True
        caller = ctx.principal.arn if ctx.principal is not None else "anonymous"
        raise AccessDenied(
            f"User: {caller} is not authorized to perform iam:GetAccessKeyLastUsed "
            f"on resource: access key {akid}"
        )
    user_name = _f(key, "user_name")
    user = ctx.store.get(account, "user", user_name)
    arn = user.arn if user is not None else USER.arn(account, "/", user_name)
    lookup.authorize(ctx, "GetAccessKeyLastUsed", arn, USER.audit_type)
    last: dict[str, Any] = {"ServiceName": "N/A", "Region": "N/A"}
    record = ctx.store.key_last_used(akid)
    if record:
        when = _last_used_field(record, "date", "last_used_at", "LastUsedDate")
        if when is not None:
            last["LastUsedDate"] = lookup.as_datetime(when)
        last["ServiceName"] = (
            _last_used_field(record, "service", "last_used_service", "ServiceName") or "N/A"
        )
        last["Region"] = _last_used_field(record, "region", "last_used_region", "Region") or "N/A"
    return {"UserName": user.name if user is not None else user_name, "AccessKeyLastUsed": last}


HANDLERS: dict[str, Callable[..., Any]] = {
    "CreateAccessKey": create_access_key,
    "ListAccessKeys": list_access_keys,
    "UpdateAccessKey": update_access_key,
    "DeleteAccessKey": delete_access_key,
    "GetAccessKeyLastUsed": get_access_key_last_used,
}
