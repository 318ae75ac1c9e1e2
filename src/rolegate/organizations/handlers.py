"""Organizations actions: CreateOrganization, DescribeOrganization,
CreateAccount, DescribeCreateAccountStatus, ListAccounts, DescribeAccount.

Where things live in the store:
- membership: ``account.data["organization"]`` of every account in an
  organization, the management account included (``{id, management_account_id,
  feature_set, joined_method, joined_timestamp}``), so DescribeOrganization
  from any member is one cached read;
- CreateAccount requests: entities of kind ``org-create-account`` in the
  management account, named by request id (``car-...``).

CreateAccount finishes synchronously (State SUCCEEDED at once): the account
row, and in it the role ``OrganizationAccountAccessRole`` (or ``RoleName``)
trusting the management account's root with ``AdministratorAccess``
attached, are written in one transaction, as AWS does asynchronously.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from rolegate import ids, jsonsafe
from rolegate.context import CallContext
from rolegate.errors import AccessDenied, AwsError
from rolegate.principals.entities import as_datetime, rng
from rolegate.principals.organization import membership

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
STATUS_KIND = "org-create-account"
MAX_RESULTS = 20  # MaxResults max in the Organizations model
DEFAULT_MAX_SESSION = 3600

_EMAIL_RE = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_ACCOUNT_NAME_RE = re.compile(r"[\u0020-\u007E]+")
_ROLE_NAME_RE = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_ACCOUNT_ID_RE = re.compile(r"\d{12}")
_REQUEST_ID_RE = re.compile(r"car-[a-z0-9]{8,32}")
_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_DIGITS = "0123456789"


# --- errors (JSON protocol: the code is the modeled shape name) ----------


def _err(code: str, message: str, status: int = 400) -> AwsError:
    return AwsError(message, code=code, status=status)


def not_in_use() -> AwsError:
    return _err(
        "AWSOrganizationsNotInUseException",
        "Your account is not a member of an organization.",
    )


def access_denied(message: str = "You don't have permissions to access this resource.") -> AwsError:
    return _err("AccessDeniedException", message, 400)


def invalid_input(message: str) -> AwsError:
    return _err("InvalidInputException", message)


F = TypeVar("F", bound=Callable[..., Any])


def _json_access_denied(fn: F) -> F:
    """``ctx.authorize`` raises STS/IAM's ``AccessDenied``; Organizations (JSON
    protocol) names it ``AccessDeniedException``, which botocore maps."""

    @wraps(fn)
    def wrapper(ctx: CallContext, params: dict[str, Any]) -> Any:
        try:
            return fn(ctx, params)
        except AccessDenied as e:
            raise access_denied(e.message) from None

    return wrapper  # type: ignore[return-value]


# --- helpers ----------------------------------------------------------------


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def org_arn(mgmt: str, org_id: str) -> str:
    return f"arn:aws:organizations::{mgmt}:organization/{org_id}"


def account_arn(mgmt: str, org_id: str, account_id: str) -> str:
    return f"arn:aws:organizations::{mgmt}:account/{org_id}/{account_id}"


def _caller_org(ctx: CallContext) -> dict[str, Any]:
    org = membership(ctx.store.get_account(ctx.account_id))
    if org is None:
        raise not_in_use()
    return org


def _management_org(ctx: CallContext) -> dict[str, Any]:
    """The caller's organization, when the caller's account manages it."""
    org = _caller_org(ctx)
    if org["management_account_id"] != ctx.account_id:
        raise access_denied()
    return org


def organization_shape(store: Any, org: dict[str, Any]) -> dict[str, Any]:
    mgmt = org["management_account_id"]
    mgmt_account = store.get_account(mgmt) or {}
    return {
        "Id": org["id"],
        "Arn": org_arn(mgmt, org["id"]),
        "FeatureSet": org["feature_set"],
        "MasterAccountArn": account_arn(mgmt, org["id"], mgmt),
        "MasterAccountId": mgmt,
        "MasterAccountEmail": mgmt_account.get("email", ""),
        # Policy types are not modelled by rolegate (no SCPs yet).
        "AvailablePolicyTypes": [],
    }


def account_shape(account: dict[str, Any], org: dict[str, Any]) -> dict[str, Any]:
    member = membership(account) or {}
    return {
        "Id": account["account_id"],
        "Arn": account_arn(org["management_account_id"], org["id"], account["account_id"]),
        "Email": account["email"],
        "Name": account["name"],
        "Status": "ACTIVE" if account.get("status", "ACTIVE") == "ACTIVE" else "SUSPENDED",
        "State": "ACTIVE" if account.get("status", "ACTIVE") == "ACTIVE" else "SUSPENDED",
        "JoinedMethod": member.get("joined_method", "CREATED"),
        "JoinedTimestamp": as_datetime(member.get("joined_timestamp") or account["created_at"]),
    }


def _status_shape(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Id": data["id"],
        "AccountName": data["account_name"],
        "State": data["state"],
        "RequestedTimestamp": as_datetime(data["requested"]),
    }
    if data.get("completed"):
        out["CompletedTimestamp"] = as_datetime(data["completed"])
    if data.get("account_id"):
        out["AccountId"] = data["account_id"]
    if data.get("failure_reason"):
        out["FailureReason"] = data["failure_reason"]
    return out


def trust_policy_for(management_account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{management_account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


# --- handlers ---------------------------------------------------------------


@_json_access_denied
def create_organization(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    feature_set = params.get("FeatureSet") or "ALL"
    if feature_set not in ("ALL", "CONSOLIDATED_BILLING"):
        raise invalid_input(f"Invalid FeatureSet: {feature_set}")
    ctx.authorize("organizations:CreateOrganization", "*")
    acct = ctx.account_id
    r = rng(ctx)
    org_id = "o-" + "".join(r.choice(_LOWER_ALNUM) for _ in range(10))
    with ctx.store.transaction() as tx:
        account = tx.get_account(acct)
        if account is None:
            # Accounts made before the accounts table knew them (or in tests);
            # the management account must exist to carry the membership.
            account = tx.create_account(acct, acct, f"admin+{acct}@rolegate.local", now=ctx.now)
        if membership(account) is not None:
            raise _err(
                "AlreadyInOrganizationException",
                "The AWS account is already a member of an organization.",
            )
        data = dict(account.get("data") or {})
        data["organization"] = {
            "id": org_id,
            "management_account_id": acct,
            "feature_set": feature_set,
            "joined_method": "INVITED",
            "joined_timestamp": _iso(ctx.now),
        }
        tx.update_account(acct, data=data, now=ctx.now)
    org = {"id": org_id, "management_account_id": acct, "feature_set": feature_set}
    out = {"Organization": organization_shape(ctx.store, org)}
    ctx.audit_response = {"organization": dict(out["Organization"])}
    return out


@_json_access_denied
def describe_organization(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("organizations:DescribeOrganization", "*")
    org = _caller_org(ctx)
    return {"Organization": organization_shape(ctx.store, org)}


def _validate_create_account(params: dict[str, Any]) -> tuple[str, str, str]:
    email = params.get("Email")
    name = params.get("AccountName")
    role_name = params.get("RoleName") or DEFAULT_ROLE_NAME
    if not isinstance(email, str) or not (6 <= len(email) <= 64) or not _EMAIL_RE.fullmatch(email):
        raise invalid_input("You provided a value that does not match the required pattern: Email.")
    if (
        not isinstance(name, str)
        or not (1 <= len(name) <= 50)
        or not _ACCOUNT_NAME_RE.fullmatch(name)
    ):
        raise invalid_input(
            "You provided a value that does not match the required pattern: AccountName."
        )
    if not isinstance(role_name, str) or not _ROLE_NAME_RE.fullmatch(role_name):
        raise invalid_input(
            "You provided a value that does not match the required pattern: RoleName."
        )
    return email, name, role_name


def _new_account_id(tx: Any, r: Any) -> str:
    for _ in range(20):
        candidate = "".join(r.choice(_DIGITS) for _ in range(12))
        if candidate != "000000000000" and tx.get_account(candidate) is None:
            return candidate
    raise _err("ServiceException", "Could not allocate an account id.", 500)  # pragma: no cover


def _role_data(management_account: str, tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The role entity's data, in the layout of docs/contracts.md (as CreateRole writes it)."""
    return {
        "assume_role_policy": trust_policy_for(management_account),
        "description": None,
        "max_session_duration": DEFAULT_MAX_SESSION,
        "tags": list(tags or []),
        "permissions_boundary": None,
        "inline_policies": {},
        "attached_policies": [ADMIN_POLICY_ARN],
        "last_used": None,
    }


@_json_access_denied
def create_account(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    email, name, role_name = _validate_create_account(params)
    ctx.authorize("organizations:CreateAccount", "*")
    org = _management_org(ctx)
    mgmt = ctx.account_id
    r = rng(ctx)
    request_id = "car-" + "".join(r.choice(_LOWER_ALNUM) for _ in range(32))
    stamp = _iso(ctx.now)
    status: dict[str, Any] = {
        "id": request_id,
        "account_name": name,
        "state": "SUCCEEDED",
        "requested": stamp,
        "completed": stamp,
    }
    tags = [
        {"Key": t["Key"], "Value": t["Value"]}
        for t in params.get("Tags") or ()
        if isinstance(t, dict) and "Key" in t and "Value" in t
    ]
    with ctx.store.transaction() as tx:
        if ctx.store.find_account_by_email(email) is not None:
            # AWS reports this through the request's status, not as an error.
            status.update(state="FAILED", failure_reason="EMAIL_ALREADY_EXISTS")
        else:
            new_id = _new_account_id(tx, r)
            tx.create_account(
                new_id,
                name,
                email,
                data={
                    "organization": {
                        "id": org["id"],
                        "management_account_id": mgmt,
                        "feature_set": org["feature_set"],
                        "joined_method": "CREATED",
                        "joined_timestamp": stamp,
                    },
                    "tags": tags,
                },
                now=ctx.now,
            )
            tx.insert(
                new_id,
                "role",
                role_name,
                entity_id=ids.new_unique_id("AROA", r),
                arn=f"arn:aws:iam::{new_id}:role/{role_name}",
                path="/",
                data=_role_data(mgmt),
            )
            status["account_id"] = new_id
        tx.insert(
            mgmt,
            STATUS_KIND,
            request_id,
            entity_id=request_id,
            arn=f"arn:aws:organizations::{mgmt}:create-account-status/{org['id']}/{request_id}",
            path="/",
            data=status,
        )
    out = {"CreateAccountStatus": _status_shape(status)}
    ctx.audit_response = {"createAccountStatus": {"id": request_id, "state": status["state"]}}
    return out


@_json_access_denied
def describe_create_account_status(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    request_id = params.get("CreateAccountRequestId")
    if not isinstance(request_id, str) or not _REQUEST_ID_RE.fullmatch(request_id):
        raise invalid_input(
            "You provided a value that does not match the required pattern: CreateAccountRequestId."
        )
    ctx.authorize("organizations:DescribeCreateAccountStatus", "*")
    _management_org(ctx)
    entity = ctx.store.get(ctx.account_id, STATUS_KIND, request_id)
    if entity is None:
        raise _err(
            "CreateAccountStatusNotFoundException",
            "We can't find an create account request with the CreateAccountRequestId that you specified.",
        )
    return {"CreateAccountStatus": _status_shape(dict(entity.data))}


def _org_accounts(store: Any, org: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for account in store.list_accounts():  # ordered by id
        member = membership(account)
        if member is not None and member.get("id") == org["id"]:
            out.append(account)
    return out


def _encode_token(last_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        after = jsonsafe.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (ValueError, KeyError, TypeError):
        raise invalid_input("The NextToken value is not valid.") from None
    if not isinstance(after, str) or not _ACCOUNT_ID_RE.fullmatch(after):
        raise invalid_input("The NextToken value is not valid.")
    return after


@_json_access_denied
def list_accounts(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    max_results = params.get("MaxResults")
    if max_results is None:
        max_results = MAX_RESULTS
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not (1 <= max_results <= MAX_RESULTS)
    ):
        raise invalid_input(f"MaxResults must be between 1 and {MAX_RESULTS}.")
    token = params.get("NextToken")
    after = _decode_token(token) if token else None
    ctx.authorize("organizations:ListAccounts", "*")
    org = _management_org(ctx)
    accounts = [
        a for a in _org_accounts(ctx.store, org) if after is None or a["account_id"] > after
    ]
    page = accounts[:max_results]
    out: dict[str, Any] = {"Accounts": [account_shape(a, org) for a in page]}
    if len(accounts) > max_results:
        out["NextToken"] = _encode_token(page[-1]["account_id"])
    return out


@_json_access_denied
def describe_account(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    account_id = params.get("AccountId")
    if not isinstance(account_id, str) or not _ACCOUNT_ID_RE.fullmatch(account_id):
        raise invalid_input(
            "You provided a value that does not match the required pattern: AccountId."
        )
    org = _management_org(ctx)
    ctx.authorize(
        "organizations:DescribeAccount",
        account_arn(org["management_account_id"], org["id"], account_id),
    )
    account = ctx.store.get_account(account_id)
    member = membership(account)
    if account is None or member is None or member.get("id") != org["id"]:
        raise _err(
            "AccountNotFoundException",
            "You specified an account that doesn't exist.",
        )
    return {"Account": account_shape(account, org)}
