"""AWS Organizations: the subset real clients use to make accounts and to
read the organization tree (one root, no OUs).

JSON protocol (``X-Amz-Target: AWSOrganizationsV20161128.<Action>``),
decoded by ``rolegate.protocol``; handlers take and return the model's
shapes like every other service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.organizations.handlers import (
    create_account,
    create_organization,
    describe_account,
    describe_create_account_status,
    describe_organization,
    list_accounts,
)
from rolegate.organizations.tree import (
    list_accounts_for_parent,
    list_children,
    list_create_account_status,
    list_parents,
    list_roots,
)

Handler = Callable[[CallContext, dict[str, Any]], "dict[str, Any] | None"]

HANDLERS: dict[str, Handler] = {
    "CreateOrganization": create_organization,
    "DescribeOrganization": describe_organization,
    "CreateAccount": create_account,
    "DescribeCreateAccountStatus": describe_create_account_status,
    "ListAccounts": list_accounts,
    "DescribeAccount": describe_account,
    "ListRoots": list_roots,
    "ListParents": list_parents,
    "ListChildren": list_children,
    "ListAccountsForParent": list_accounts_for_parent,
    "ListCreateAccountStatus": list_create_account_status,
}

__all__ = ["HANDLERS"]
