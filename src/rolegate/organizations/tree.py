"""Organizations, the read side of the organization tree: ListRoots,
ListParents, ListChildren, ListAccountsForParent and ListCreateAccountStatus.

rolegate's organizations have exactly one root and no organizational units,
so every member account (the management account included) is a child of the
root. The root is not stored: its id is derived from the organization id
(:func:`root_id`), which gives organizations made before roots existed in
rolegate the same stable id, on every node, with no migration.

Like AWS (without delegated administrators), all five actions are for the
management account only; a member account gets ``AccessDeniedException`` and
an account outside any organization ``AWSOrganizationsNotInUseException``.
Pages are keyed (the last key seen travels in ``NextToken``), so a page is
stable while accounts are added; account pages use ``ListAccounts``' tokens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any, TypeVar

from rolegate import jsonsafe
from rolegate.context import CallContext
from rolegate.errors import AwsError
from rolegate.organizations.handlers import (
    _LOWER_ALNUM,
    MAX_RESULTS,
    STATUS_KIND,
    _caller_org,
    _decode_token,
    _encode_token,
    _err,
    _json_access_denied,
    _management_org,
    _org_accounts,
    _status_shape,
    account_arn,
    account_shape,
    invalid_input,
)
from rolegate.principals.entities import as_datetime
from rolegate.principals.organization import membership

ROOT_NAME = "Root"
# AWS's root ids are "r-" and four characters; the model allows 4-32.
_ROOT_ID_CHARS = 4
# A fixed prefix keeps root ids apart from any other digest of an org id.
_ROOT_ID_SALT = b"rolegate/organizations/root/"

CHILD_TYPES = ("ACCOUNT", "ORGANIZATIONAL_UNIT")
CREATE_ACCOUNT_STATES = ("IN_PROGRESS", "SUCCEEDED", "FAILED")

# The model's ChildId and ParentId patterns, one alternative at a time.
_CHILD_ID_RE = re.compile(r"\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
_PARENT_ID_RE = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")

# InvalidInputException messages: the model's texts for its Reason codes.
_INPUT_REQUIRED = "You must include a value for all required parameters."
_INVALID_ENUM = "You specified an invalid value."
_INVALID_LIST_MEMBER = (
    "You provided a list to a parameter that contains at least one invalid value."
)
_BAD_TOKEN = "The NextToken value is not valid."  # as ListAccounts answers

T = TypeVar("T")
Key = tuple[str, ...]  # what a page is sorted by and resumed after


# --- the root ---------------------------------------------------------------


def root_id(org_id: str) -> str:
    """The id of the organization's root: a pure function of the org id."""
    n = int.from_bytes(hashlib.sha256(_ROOT_ID_SALT + org_id.encode()).digest(), "big")
    chars = []
    for _ in range(_ROOT_ID_CHARS):
        n, digit = divmod(n, len(_LOWER_ALNUM))
        chars.append(_LOWER_ALNUM[digit])
    return "r-" + "".join(chars)


def root_arn(mgmt: str, org_id: str, rid: str) -> str:
    return f"arn:aws:organizations::{mgmt}:root/{org_id}/{rid}"


def ou_arn(mgmt: str, org_id: str, ou_id: str) -> str:
    return f"arn:aws:organizations::{mgmt}:ou/{org_id}/{ou_id}"


def _node_arn(org: dict[str, Any], node_id: str) -> str:
    """The ARN of a root (``r-``), an OU (``ou-``) or an account (12 digits)
    of ``org``: what ListChildren, ListAccountsForParent and ListParents are
    authorised on (the reference's root, organizationalunit and account
    resource types), whether or not the node exists."""
    mgmt, org_id = org["management_account_id"], org["id"]
    if node_id.startswith("r-"):
        return root_arn(mgmt, org_id, node_id)
    if node_id.startswith("ou-"):
        return ou_arn(mgmt, org_id, node_id)
    return account_arn(mgmt, org_id, node_id)


def root_shape(org: dict[str, Any]) -> dict[str, Any]:
    rid = root_id(org["id"])
    return {
        "Id": rid,
        "Arn": root_arn(org["management_account_id"], org["id"], rid),
        "Name": ROOT_NAME,
        # Policy types are not modelled by rolegate (no SCPs yet).
        "PolicyTypes": [],
    }


# --- errors -----------------------------------------------------------------


def child_not_found() -> AwsError:
    return _err(
        "ChildNotFoundException",
        "We can't find an organizational unit (OU) or Amazon Web Services account "
        "with the ChildId that you specified.",
    )


def parent_not_found() -> AwsError:
    return _err(
        "ParentNotFoundException",
        "We can't find a root or OU with the ParentId that you specified.",
    )


# --- input ------------------------------------------------------------------


def _max_results(params: dict[str, Any]) -> int:
    value = params.get("MaxResults")
    if value is None:
        return MAX_RESULTS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RESULTS:
        raise invalid_input(f"MaxResults must be between 1 and {MAX_RESULTS}.")
    return value


def _patterned(params: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = params.get(name)
    if value is None:
        raise invalid_input(_INPUT_REQUIRED)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise invalid_input(
            f"You provided a value that does not match the required pattern: {name}."
        )
    return value


def _child_type(params: dict[str, Any]) -> str:
    value = params.get("ChildType")
    if value is None:
        raise invalid_input(_INPUT_REQUIRED)
    if value not in CHILD_TYPES:
        raise invalid_input(_INVALID_ENUM)
    return str(value)


def _states(params: dict[str, Any]) -> frozenset[str] | None:
    """The States filter; None (absent or empty) keeps every request, as AWS does."""
    value = params.get("States")
    if not value:
        return None
    if not isinstance(value, list) or any(s not in CREATE_ACCOUNT_STATES for s in value):
        raise invalid_input(_INVALID_LIST_MEMBER)
    return frozenset(value)


def _account_after(params: dict[str, Any]) -> Key | None:
    token = params.get("NextToken")
    if token is None:
        return None
    if not isinstance(token, str) or not token:
        raise invalid_input(_BAD_TOKEN)
    return (_decode_token(token),)


# --- keyed pages --------------------------------------------------------------
# Roots and create-account requests are not keyed by account id, so their
# tokens carry the operation (a token only resumes the listing that made it)
# and a tuple of strings.


def _encode_cursor(op: str, key: Key) -> str:
    raw = json.dumps({"op": op, "after": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _cursor_after(op: str, params: dict[str, Any], width: int) -> Key | None:
    token = params.get("NextToken")
    if token is None:
        return None
    try:
        if not isinstance(token, str):
            raise ValueError(token)
        doc = jsonsafe.loads(base64.urlsafe_b64decode(token.encode()))
        after = doc["after"]
        if doc["op"] != op:
            raise ValueError(doc["op"])
    except (ValueError, KeyError, TypeError):
        raise invalid_input(_BAD_TOKEN) from None
    if (
        not isinstance(after, list)
        or len(after) != width
        or not all(isinstance(part, str) for part in after)
    ):
        raise invalid_input(_BAD_TOKEN)
    return tuple(after)


def _page(
    items: Sequence[T], key: Callable[[T], Key], after: Key | None, max_results: int
) -> tuple[list[T], Key | None]:
    """One page of ``items`` (sorted by ``key``) after ``after``, and the key
    to resume from when more remain."""
    rest = [item for item in items if after is None or key(item) > after]
    page = rest[:max_results]
    return page, (key(page[-1]) if len(rest) > max_results else None)


def _cursor_page(
    op: str, items: Sequence[T], key: Callable[[T], Key], after: Key | None, max_results: int
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the ``op`` NextToken that resumes after it."""
    page, last = _page(items, key, after, max_results)
    return page, (_encode_cursor(op, last) if last is not None else None)


def _listed(member: str, page: list[Any], token: str | None) -> dict[str, Any]:
    """A List response: ``member`` holds the page; NextToken only when more remain."""
    out: dict[str, Any] = {member: page}
    if token is not None:
        out["NextToken"] = token
    return out


def _by_id(item: dict[str, Any]) -> Key:
    return (str(item["Id"]),)


def _require_root(org: dict[str, Any], parent_id: str) -> None:
    # An OU id is well-formed but never found: rolegate has no OUs.
    if parent_id != root_id(org["id"]):
        raise parent_not_found()


def _account_page(
    ctx: CallContext, org: dict[str, Any], after: Key | None, max_results: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the organization's accounts and its NextToken (ListAccounts' kind)."""
    accounts = _org_accounts(ctx.store, org)  # ordered by id
    page, last = _page(accounts, lambda a: (str(a["account_id"]),), after, max_results)
    return page, (_encode_token(last[0]) if last is not None else None)


def _status_key(data: dict[str, Any]) -> Key:
    # Fixed-width UTC text sorts like the instant it names.
    requested = as_datetime(data["requested"]).astimezone(UTC)
    return requested.isoformat(timespec="microseconds"), str(data["id"])


# --- handlers ---------------------------------------------------------------


@_json_access_denied
def list_roots(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    max_results = _max_results(params)
    after = _cursor_after("ListRoots", params, 1)
    ctx.authorize("organizations:ListRoots", "*")
    org = _management_org(ctx)
    roots = [root_shape(org)]
    return _listed("Roots", *_cursor_page("ListRoots", roots, _by_id, after, max_results))


@_json_access_denied
def list_parents(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    child_id = _patterned(params, "ChildId", _CHILD_ID_RE)
    max_results = _max_results(params)
    after = _cursor_after("ListParents", params, 1)
    ctx.authorize("organizations:ListParents", _node_arn(_caller_org(ctx), child_id))
    org = _management_org(ctx)
    # An OU id never names a child (no OUs), and neither does an account of
    # another organization: AWS does not reveal which accounts exist.
    member = membership(ctx.store.get_account(child_id))
    if member is None or member.get("id") != org["id"]:
        raise child_not_found()
    parents = [{"Id": root_id(org["id"]), "Type": "ROOT"}]
    return _listed("Parents", *_cursor_page("ListParents", parents, _by_id, after, max_results))


@_json_access_denied
def list_children(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    parent_id = _patterned(params, "ParentId", _PARENT_ID_RE)
    child_type = _child_type(params)
    max_results = _max_results(params)
    after = _account_after(params)
    ctx.authorize("organizations:ListChildren", _node_arn(_caller_org(ctx), parent_id))
    org = _management_org(ctx)
    _require_root(org, parent_id)
    if child_type == "ORGANIZATIONAL_UNIT":
        return {"Children": []}
    page, token = _account_page(ctx, org, after, max_results)
    return _listed("Children", [{"Id": a["account_id"], "Type": "ACCOUNT"} for a in page], token)


@_json_access_denied
def list_accounts_for_parent(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    parent_id = _patterned(params, "ParentId", _PARENT_ID_RE)
    max_results = _max_results(params)
    after = _account_after(params)
    ctx.authorize("organizations:ListAccountsForParent", _node_arn(_caller_org(ctx), parent_id))
    org = _management_org(ctx)
    _require_root(org, parent_id)
    page, token = _account_page(ctx, org, after, max_results)
    return _listed("Accounts", [account_shape(a, org) for a in page], token)


@_json_access_denied
def list_create_account_status(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    states = _states(params)
    max_results = _max_results(params)
    after = _cursor_after("ListCreateAccountStatus", params, 2)
    ctx.authorize("organizations:ListCreateAccountStatus", "*")
    org = _management_org(ctx)
    # Requests are named in their ARN by organization: only this one's count.
    marker = f":create-account-status/{org['id']}/"
    requests = sorted(
        (
            dict(e.data)
            for e in ctx.store.list(ctx.account_id, STATUS_KIND)
            if marker in e.arn and (states is None or e.data.get("state") in states)
        ),
        key=_status_key,
    )
    page, token = _cursor_page("ListCreateAccountStatus", requests, _status_key, after, max_results)
    return _listed("CreateAccountStatuses", [_status_shape(d) for d in page], token)
