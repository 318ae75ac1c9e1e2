"""Authorisation as a table: per served operation, the IAM action(s), how
their resource ARNs are built from the request (the Service Authorization
Reference's ARN formats), the condition keys the request supplies, and the
checks a decision needs beyond policy evaluation.

``table.TABLE`` is the data, ``model.plan`` the pure builder, ``model.Resolver``
the interface through which the pipeline supplies stored facts (paths, tags,
boundaries), ``sar`` the reference as rolegate ships it.
"""

from rolegate.authorization.model import (
    Caller,
    Check,
    OperationAuth,
    RequestView,
    Resolver,
    Step,
    Unresolvable,
    plan,
)
from rolegate.authorization.table import TABLE, entry

__all__ = [
    "TABLE",
    "Caller",
    "Check",
    "OperationAuth",
    "RequestView",
    "Resolver",
    "Step",
    "Unresolvable",
    "entry",
    "plan",
]
