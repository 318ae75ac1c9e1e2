"""The credential report: GenerateCredentialReport and GetCredentialReport.

The report is the CSV the IAM User Guide documents ("Getting credential
reports"): one row for the account root, then one per user, with password,
MFA, access key and signing certificate facts. Security tools (Prowler,
ScoutSuite, AWS Config rules) call Generate until it answers ``COMPLETE``,
then Get. rolegate builds the report inside the first Generate call, so that
call answers ``STARTED`` (as AWS's first call does) and the next ``COMPLETE``.

As in AWS, a report is reused for four hours: Generate within that time does
not rebuild it, and Get after it answers ``ReportExpired``.

Stored as an entity of kind ``credential-report`` (one per account) whose
data is ``{"content": <CSV text>, "generated": iso}``: the report holds no
secret, only dates and flags.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from rolegate.context import CallContext
from rolegate.errors import ReportExpired, ReportNotPresent
from rolegate.iam import lookup
from rolegate.iam.login_profiles import FIELD as LOGIN_PROFILE
from rolegate.iam.mfa import mfa_devices_for_user
from rolegate.iam.password_policy import get_policy as password_policy
from rolegate.iam.signing_certificates import KIND as SIGNING_CERTIFICATE

KIND = "credential-report"
NAME = "report"
# AWS regenerates a report at most every four hours and expires it after.
FRESH_FOR = timedelta(hours=4)

COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
)

_NA = "N/A"


def _ts(value: Any) -> str:
    """The report's time format, e.g. ``2026-11-28T10:38:51+00:00``."""
    when = lookup.as_datetime(value)
    return when.astimezone(UTC).replace(microsecond=0).isoformat()


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _key_columns(store: Any, key: Any) -> list[str]:
    if key is None:
        return ["false", _NA, _NA, _NA, _NA]
    used = store.key_last_used(key.akid)
    return [
        _flag(key.status == "Active"),
        _ts(key.created_at),
        _ts(used["LastUsedDate"]) if used else _NA,
        (used.get("Region") or _NA) if used else _NA,
        (used.get("ServiceName") or _NA) if used else _NA,
    ]


def _cert_columns(cert: Any) -> list[str]:
    # cert_N_active / cert_N_last_rotated: the upload date stands for the
    # rotation date (a signing certificate is rotated by uploading a new one).
    if cert is None:
        return ["false", _NA]
    return [_flag(cert.data.get("status") == "Active"), _ts(cert.created_at)]


def _user_row(
    store: Any,
    tx: Any,
    account: str,
    user: Any,
    max_age: int | None,
    certs: list[Any] | None = None,
) -> list[str]:
    profile = user.data.get(LOGIN_PROFILE)
    if profile:
        changed = profile.get("password_changed") or profile["create_date"]
        last_used = profile.get("last_used")
        password = [
            "true",
            _ts(last_used) if last_used else "no_information",
            _ts(changed),
            _ts(lookup.as_datetime(changed) + timedelta(days=max_age)) if max_age else _NA,
        ]
    else:
        password = ["false", _NA, _NA, _NA]
    keys = tx.list_access_keys(account, user.name)[:2]
    keys += [None] * (2 - len(keys))
    # Oldest first, as the two key columns are ordered.
    mine: list[Any] = sorted(certs or (), key=lambda c: (c.created_at, c.name))[:2]
    mine += [None] * (2 - len(mine))
    return [
        user.name,
        user.arn,
        _ts(user.created_at),
        *password,
        _flag(bool(mfa_devices_for_user(store, account, user.name))),
        *_key_columns(store, keys[0]),
        *_key_columns(store, keys[1]),
        *_cert_columns(mine[0]),
        *_cert_columns(mine[1]),
    ]


def build_report(store: Any, account: str) -> str:
    """The CSV text of ``account``'s credential report."""
    acct = store.get_account(account) or {}
    created = acct.get("created_at")
    # The root has no password, keys or certificates in rolegate.
    root = [
        "<root_account>",
        f"arn:aws:iam::{account}:root",
        _ts(created) if created else _NA,
        "not_supported",
        "no_information",
        "not_supported",
        "not_supported",
        "false",
        *["false", _NA, _NA, _NA, _NA] * 2,
        "false",
        _NA,
        "false",
        _NA,
    ]
    policy = password_policy(store, account) or {}
    max_age = policy.get("MaxPasswordAge")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow(root)
    # Access keys are read through a transaction, as ListAccessKeys reads them.
    with store.transaction() as tx:
        certs_by_user: dict[str, list[Any]] = {}
        for cert in tx.list(account, SIGNING_CERTIFICATE):
            certs_by_user.setdefault(str(cert.data.get("user_id")), []).append(cert)
        for user in sorted(store.list(account, "user"), key=lambda u: u.name_key):
            writer.writerow(
                _user_row(store, tx, account, user, max_age, certs_by_user.get(user.entity_id))
            )
    return out.getvalue()


def generate_credential_report(ctx: CallContext, params: dict) -> dict:
    lookup.authorize(ctx, "GenerateCredentialReport", "*", None)
    account = ctx.account_id
    current = ctx.store.get(account, KIND, NAME)
    if current is not None and ctx.now - lookup.as_datetime(current.data["generated"]) < FRESH_FOR:
        return {"State": "COMPLETE"}
    data = {"content": build_report(ctx.store, account), "generated": lookup.iso(ctx.now)}
    with ctx.store.transaction() as tx:
        lookup.put_account_singleton(
            tx,
            account,
            KIND,
            NAME,
            arn=f"arn:aws:iam::{account}:credential-report",
            data=data,
            now=ctx.now,
        )
    return {
        "State": "STARTED",
        "Description": "No report exists. Starting a new report generation task",
    }


def get_credential_report(ctx: CallContext, params: dict) -> dict:
    lookup.authorize(ctx, "GetCredentialReport", "*", None)
    current = ctx.store.get(ctx.account_id, KIND, NAME)
    if current is None:
        raise ReportNotPresent(
            "Credential report does not exist. Use GenerateCredentialReport to generate one."
        )
    generated = lookup.as_datetime(current.data["generated"])
    if ctx.now - generated >= FRESH_FOR:
        raise ReportExpired(
            "Credential report is expired. Use GenerateCredentialReport to generate a new one."
        )
    return {
        "Content": current.data["content"].encode("utf-8"),
        "ReportFormat": "text/csv",
        "GeneratedTime": generated,
    }


HANDLERS: dict[str, Callable[..., Any]] = {
    "GenerateCredentialReport": generate_credential_report,
    "GetCredentialReport": get_credential_report,
}
