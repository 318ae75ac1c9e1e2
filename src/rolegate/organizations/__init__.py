"""AWS Organizations: the subset real clients use to make accounts.

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

Handler = Callable[[CallContext, dict[str, Any]], "dict[str, Any] | None"]

HANDLERS: dict[str, Handler] = {
    "CreateOrganization": create_organization,
    "DescribeOrganization": describe_organization,
    "CreateAccount": create_account,
    "DescribeCreateAccountStatus": describe_create_account_status,
    "ListAccounts": list_accounts,
    "DescribeAccount": describe_account,
}

__all__ = ["HANDLERS"]
