"""Virtual MFA devices (reference §5.2-5.3); the MFA check STS uses is
``rolegate.principals.mfa_devices.verify_mfa_for_user`` (re-exported here).

A device is a store entity of kind ``mfa`` named by its path and name as
its serial has them (``team/phone`` for ``arn:aws:iam::1:mfa/team/phone``;
devices stored before by the bare name are still found), with data ``{seed_enc, user_name, enable_date, tags}``. The TOTP seed
is a secret: it is stored only encrypted under the store's master key and
leaves the server exactly once, in the CreateVirtualMFADevice response.

Every accepted TOTP code is claimed with ``store.claim_once("mfa",
"<serial>:<counter>", ...)``: a code used to enable a device, or to get
credentials from STS, can never be used again (RFC 6238 §5.2).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from rolegate import mfa as totp
from rolegate.context import CallContext
from rolegate.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    LimitExceeded,
    NoSuchEntity,
)
from rolegate.iam import lookup
from rolegate.iam.lookup import USER, as_datetime, iso
from rolegate.iam.paging import paginate
from rolegate.iam.tags import clean_tags, list_output, merge_tags, remove_tags
from rolegate.principals.mfa_devices import (
    MFA_KIND,
    claim,
    epoch,
    find_device,
    same_user,
    seed_of,
    verify_mfa_for_user,
)
from rolegate.store import Conflict

MFA_AUDIT_TYPE = "AWS::IAM::MFADevice"
# The label issuer shown by authenticator apps.
MFA_ISSUER = "rolegate"
MAX_MFA_DEVICES_PER_USER = 8  # IAM quota (reference §4.6)

_INVALID_CODE = "Authentication code for device is not valid."


# --------------------------------------------------------------------------- helpers


def _serial(account_id: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:mfa{path}{name}"


def _device_key(path: str, name: str) -> str:
    """The store name of a device: its path and name as the serial has them.

    AWS identifies a virtual device by path and name together (CreateVirtualMFADevice:
    "Use with path to uniquely identify a virtual MFA device"), so two may share a name.
    """
    return f"{path}{name}"[1:]


def _no_device(serial: str) -> NoSuchEntity:
    return NoSuchEntity(f"MFA Device with serial number {serial} does not exist.")


def _require_device(reader: Any, account_id: str, serial: str) -> Any:
    entity = find_device(reader, account_id, serial)
    if entity is None:
        raise _no_device(serial)
    return entity


def _check_two_codes(ctx: CallContext, entity: Any, code1: str, code2: str) -> None:
    """Two consecutive valid, unused codes, or InvalidAuthenticationCode."""
    seed = seed_of(ctx.store, entity)
    now = epoch(ctx.now)
    counter = totp.check_two_consecutive(seed, code1, code2, now)
    if counter is None:
        raise InvalidAuthenticationCode(_INVALID_CODE)
    # Claim both steps so neither code can be replayed (e.g. against STS).
    # The second claim is attempted even if the first fails so a partial
    # replay leaves both burnt.
    first = claim(ctx.store, entity.arn, counter - 1, now)
    second = claim(ctx.store, entity.arn, counter, now)
    if not (first and second):
        raise InvalidAuthenticationCode(_INVALID_CODE)


def _audit(ctx: CallContext, arn: str, rtype: str) -> None:
    entry = {"ARN": arn, "accountId": ctx.account_id, "type": rtype}
    if entry not in ctx.audit_resources:
        ctx.audit_resources.append(entry)


def _new_entity_id(ctx: CallContext) -> str:
    # Devices have no AWS-visible id; the store still wants a unique one.
    alphabet = string.ascii_uppercase + string.digits
    r = lookup.rng(ctx)
    return "AMFA" + "".join(r.choice(alphabet) for _ in range(17))


def _create_date(entity: Any) -> datetime:
    return as_datetime(entity.created_at)


def _user_shape(user: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.entity_id,
        "Arn": user.arn,
        "CreateDate": _create_date(user),
    }
    return out


def mfa_devices_for_user(store: Any, account_id: str, user_name: str) -> list[Any]:
    """The MFA device entities enabled for ``user_name`` (DeleteUser's conflict check)."""
    return [
        e for e in store.list(account_id, MFA_KIND) if same_user(e.data.get("user_name"), user_name)
    ]


# --------------------------------------------------------------------------- handlers


def create_virtual_mfa_device(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["VirtualMFADeviceName"]
    path = params.get("Path") or "/"
    serial = _serial(ctx.account_id, path, name)
    tags = clean_tags(params.get("Tags"))
    lookup.authorize(
        ctx,
        "CreateVirtualMFADevice",
        serial,
        MFA_AUDIT_TYPE,
        context=lookup.tag_context(tags, "aws:RequestTag/"),
    )
    lookup.authorize_tag_on_create(ctx, "TagMFADevice", serial, tags)
    seed = totp.new_seed(lookup.rng(ctx))
    uri = totp.provisioning_uri(seed, f"{name}@{ctx.account_id}", MFA_ISSUER)
    qr = totp.qr_png(uri)
    data = {
        "seed_enc": ctx.store.encrypt(seed.encode("ascii")),
        "user_name": None,
        "enable_date": None,
        "tags": tags,
    }
    # AWS's words, recorded in 2026 (LocalStack's test_iam_mfa snapshot); older
    # CloudTrail records show "MFADevice entity at the same path and name already exists."
    duplicate = "MFA device already exists."
    with ctx.store.transaction() as tx:
        if find_device(tx, ctx.account_id, serial) is not None:
            raise EntityAlreadyExists(duplicate)
        try:
            tx.insert(
                ctx.account_id,
                MFA_KIND,
                _device_key(path, name),
                entity_id=_new_entity_id(ctx),
                arn=serial,
                path=path,
                data=data,
                now=ctx.now,
            )
        except Conflict:
            raise EntityAlreadyExists(duplicate) from None
    # The seed and QR code are secrets: never in the audit record.
    ctx.audit_response = {"virtualMFADevice": {"serialNumber": serial}}
    device: dict[str, Any] = {
        "SerialNumber": serial,
        "Base32StringSeed": seed.encode("ascii"),
        "QRCodePNG": qr,
    }
    if tags:
        device["Tags"] = tags
    return {"VirtualMFADevice": device}


def enable_mfa_device(ctx: CallContext, params: dict[str, Any]) -> None:
    serial = params["SerialNumber"]
    user = lookup.authorize_entity(ctx, USER, "EnableMFADevice", params["UserName"])
    device = _require_device(ctx.store, ctx.account_id, serial)
    if device.data.get("user_name"):
        raise EntityAlreadyExists("MFA Device is already in use.")
    if len(mfa_devices_for_user(ctx.store, ctx.account_id, user.name)) >= MAX_MFA_DEVICES_PER_USER:
        raise LimitExceeded(
            f"Cannot exceed quota for MFADevicesPerUser: {MAX_MFA_DEVICES_PER_USER}"
        )
    _check_two_codes(ctx, device, params["AuthenticationCode1"], params["AuthenticationCode2"])
    with ctx.store.transaction() as tx:
        current = _require_device(tx, ctx.account_id, serial)
        if current.data.get("user_name"):
            raise EntityAlreadyExists("MFA Device is already in use.")
        data = dict(current.data)
        data["user_name"] = user.name
        data["enable_date"] = iso(ctx.now)
        tx.update(current, data, now=ctx.now)
    _audit(ctx, serial, MFA_AUDIT_TYPE)
    return None


def resync_mfa_device(ctx: CallContext, params: dict[str, Any]) -> None:
    """Accepts two fresh consecutive codes from the user's device.

    Codes are checked within ±1 step of ``ctx.now`` (the server clock is the
    reference), so there is no drift state to store; a successful resync
    just proves the device still generates valid codes and burns them.
    """
    serial = params["SerialNumber"]
    user = lookup.authorize_entity(ctx, USER, "ResyncMFADevice", params["UserName"])
    device = _require_device(ctx.store, ctx.account_id, serial)
    if not same_user(device.data.get("user_name"), user.name):
        raise _no_device(serial)
    _check_two_codes(ctx, device, params["AuthenticationCode1"], params["AuthenticationCode2"])
    _audit(ctx, serial, MFA_AUDIT_TYPE)
    return None


def deactivate_mfa_device(ctx: CallContext, params: dict[str, Any]) -> None:
    serial = params["SerialNumber"]
    user_name = params.get("UserName")
    if not user_name:
        # UserName is optional in the model: the device knows its user.
        found = find_device(ctx.store, ctx.account_id, serial)
        user_name = found.data.get("user_name") if found is not None else None
        if not user_name:
            user_name = lookup.caller_user_name(ctx, params)
    user = lookup.authorize_entity(ctx, USER, "DeactivateMFADevice", user_name)
    with ctx.store.transaction() as tx:
        device = _require_device(tx, ctx.account_id, serial)
        if not same_user(device.data.get("user_name"), user.name):
            raise NoSuchEntity(
                f"MFA Device with serial number {serial} does not exist for user {user.name}."
            )
        data = dict(device.data)
        data["user_name"] = None
        data["enable_date"] = None
        tx.update(device, data, now=ctx.now)
    _audit(ctx, serial, MFA_AUDIT_TYPE)
    return None


def delete_virtual_mfa_device(ctx: CallContext, params: dict[str, Any]) -> None:
    serial = params["SerialNumber"]
    lookup.authorize(ctx, "DeleteVirtualMFADevice", serial, MFA_AUDIT_TYPE)
    with ctx.store.transaction() as tx:
        device = _require_device(tx, ctx.account_id, serial)
        if device.data.get("user_name"):
            raise DeleteConflict("MFA device is still in use")
        tx.delete(ctx.account_id, MFA_KIND, device.name)
    return None


def _mfa_device_shape(entity: Any) -> dict[str, Any]:
    return {
        "UserName": entity.data["user_name"],
        "SerialNumber": entity.arn,
        "EnableDate": as_datetime(entity.data["enable_date"]),
    }


def list_mfa_devices(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    user_name = lookup.caller_user_name(ctx, params)
    user = lookup.authorize_entity(ctx, USER, "ListMFADevices", user_name)
    devices = mfa_devices_for_user(ctx.store, ctx.account_id, user.name)
    page, extra = paginate(devices, params, key=lambda e: e.arn)
    return {"MFADevices": [_mfa_device_shape(e) for e in page], **extra}


def get_mfa_device(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    serial = params["SerialNumber"]
    # The reference lists only the user resource type: the named user, or
    # without UserName the signing user (never the device's ARN, and never
    # the device's own user, which would answer a caller allowed only on
    # itself about anyone's device). The device must be that user's.
    user_name = lookup.caller_user_name(ctx, params)
    lookup.authorize_entity(ctx, USER, "GetMFADevice", user_name)
    found = find_device(ctx.store, ctx.account_id, serial)
    if found is None or not same_user(found.data.get("user_name"), user_name):
        raise _no_device(serial)
    out: dict[str, Any] = {"SerialNumber": found.arn}
    if found.data.get("user_name"):
        out["UserName"] = found.data["user_name"]
        out["EnableDate"] = as_datetime(found.data["enable_date"])
    return out


def list_virtual_mfa_devices(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    # The request resource is the account's mfa/ prefix, so both "*" and
    # "arn:aws:iam::<acct>:mfa/*" policies grant it.
    ctx.authorize("iam:ListVirtualMFADevices", f"arn:aws:iam::{ctx.account_id}:mfa/")
    status = params.get("AssignmentStatus") or "Any"
    devices = ctx.store.list(ctx.account_id, MFA_KIND)
    if status == "Assigned":
        devices = [e for e in devices if e.data.get("user_name")]
    elif status == "Unassigned":
        devices = [e for e in devices if not e.data.get("user_name")]
    page, extra = paginate(devices, params, key=lambda e: e.arn)
    out: list[dict[str, Any]] = []
    for e in page:
        item: dict[str, Any] = {"SerialNumber": e.arn}
        user_name = e.data.get("user_name")
        if user_name:
            item["EnableDate"] = as_datetime(e.data["enable_date"])
            user = ctx.store.get(ctx.account_id, "user", user_name)
            if user is not None:
                item["User"] = _user_shape(user)
        if e.data.get("tags"):
            item["Tags"] = [dict(t) for t in e.data["tags"]]
        out.append(item)
    return {"VirtualMFADevices": out, **extra}


def _device_for_tagging(
    ctx: CallContext, action: str, serial: str, context: Mapping[str, Any]
) -> None:
    found = find_device(ctx.store, ctx.account_id, serial)
    lookup.authorize(
        ctx, action, serial, MFA_AUDIT_TYPE, context={**lookup.resource_context(found), **context}
    )
    if found is None:
        raise _no_device(serial)


def _change_device(ctx: CallContext, serial: str, change: Callable[[dict[str, Any]], None]) -> None:
    with ctx.store.transaction() as tx:
        device = _require_device(tx, ctx.account_id, serial)
        data = dict(device.data)
        change(data)
        tx.update(device, data, now=ctx.now)


def tag_mfa_device(ctx: CallContext, params: dict[str, Any]) -> None:
    serial = params["SerialNumber"]
    tags = clean_tags(params.get("Tags"))
    _device_for_tagging(ctx, "TagMFADevice", serial, lookup.tag_context(tags, "aws:RequestTag/"))

    def change(data: dict[str, Any]) -> None:
        data["tags"] = merge_tags(data.get("tags") or [], tags)

    _change_device(ctx, serial, change)
    return None


def untag_mfa_device(ctx: CallContext, params: dict[str, Any]) -> None:
    serial = params["SerialNumber"]
    keys = list(params.get("TagKeys") or [])
    _device_for_tagging(ctx, "UntagMFADevice", serial, {"aws:TagKeys": keys} if keys else {})

    def change(data: dict[str, Any]) -> None:
        data["tags"] = remove_tags(data.get("tags") or [], keys)

    _change_device(ctx, serial, change)
    return None


def list_mfa_device_tags(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    serial = params["SerialNumber"]
    _device_for_tagging(ctx, "ListMFADeviceTags", serial, {})
    device = _require_device(ctx.store, ctx.account_id, serial)
    return list_output(device.data.get("tags") or [], params)


HANDLERS: dict[str, Callable[[CallContext, dict[str, Any]], dict[str, Any] | None]] = {
    "CreateVirtualMFADevice": create_virtual_mfa_device,
    "EnableMFADevice": enable_mfa_device,
    "ResyncMFADevice": resync_mfa_device,
    "DeactivateMFADevice": deactivate_mfa_device,
    "DeleteVirtualMFADevice": delete_virtual_mfa_device,
    "ListMFADevices": list_mfa_devices,
    "GetMFADevice": get_mfa_device,
    "ListVirtualMFADevices": list_virtual_mfa_devices,
    "TagMFADevice": tag_mfa_device,
    "UntagMFADevice": untag_mfa_device,
    "ListMFADeviceTags": list_mfa_device_tags,
}

__all__ = ["HANDLERS", "mfa_devices_for_user", "verify_mfa_for_user"]
