"""Policy elements checked on their own, and the error that says where a document failed.

AWS's messages for CreatePolicy (recorded against AWS) name neither the
statement nor the element that failed; :class:`PolicySyntaxError` keeps
AWS's message for the API and adds, for tools (``rolegate policy validate``),
the JSON path of the element and, for JSON syntax errors, the line and column.
"""

from __future__ import annotations

import re

from rolegate.errors import MalformedPolicyDocument

__all__ = [
    "PolicySyntaxError",
    "SYNTAX_MSG",
    "LEGACY_MSG",
    "NO_ACTIONS_MSG",
    "NO_RESOURCES_MSG",
    "DUP_SID_MSG",
    "SID_MSG",
    "VENDOR_MSG",
    "resource_problem",
    "action_problem",
]


class PolicySyntaxError(MalformedPolicyDocument):
    """MalformedPolicyDocument (same code, status and message) that knows where.

    ``path`` is like ``Statement[0].Condition.StringEquals`` ("" = the whole
    document); ``line`` and ``column`` (1-based) are the JSON parser's, when the
    text is not JSON at all.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column
        self.detail = detail  # what the JSON parser said, for tools

    def within(self, segment: str) -> PolicySyntaxError:
        """Prefix ``segment`` (``Statement[2]``) to the path as the error leaves a part."""
        if self.path is None:
            self.path = segment
        elif self.path.startswith("["):
            self.path = segment + self.path
        elif self.path:
            self.path = f"{segment}.{self.path}"
        else:
            self.path = segment
        return self

    def where(self) -> str:
        """``line 3, column 7 (Expecting ...)`` / ``Statement[0].Action`` / "" when unknown."""
        if self.line is not None:
            at = f"line {self.line}, column {self.column}"
            return f"{at} ({self.detail})" if self.detail else at
        if self.path:
            return self.path
        return "(document)" if self.path == "" else ""


# AWS's own messages (recorded against AWS for CreatePolicy). AWS names
# neither the statement nor the element that failed, and checks in phases:
# syntax, legacy parsing, unique Sids, actions and resources present, then
# the form of resources and of actions, statement by statement.
SYNTAX_MSG = "Syntax errors in policy."
LEGACY_MSG = "The policy failed legacy parsing"
NO_ACTIONS_MSG = "Policy statement must contain actions."
NO_RESOURCES_MSG = "Policy statement must contain resources."
DUP_SID_MSG = "Statement IDs (SID) in a single policy must be unique."
# CloudTrail's record of AWS's CreatePolicy answer names the expression.
SID_MSG = (
    "Statement IDs (SID) must be alpha-numeric. "
    "Check that your input satisfies the regular expression [0-9A-Za-z]*"
)
VENDOR_MSG = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON_MSG = "Actions/Condition can contain only one colon."
VENDOR_QUALIFIED_MSG = "Resource vendor must be fully qualified and cannot contain regexes."
_PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}
)
_IAM_RESOURCE_PREFIXES = (
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
)
_IAM_PATH_MSG = (
    'IAM resource path must either be "*", root, or start with '
    + ", ".join(_IAM_RESOURCE_PREFIXES)
    + "."
)
_VENDOR_CHARS = re.compile(r"[A-Za-z0-9*?._-]+")


def split_arn(r: str) -> list[str]:
    """``r`` split at colons outside policy variables (``${aws:username}``)."""
    if "${" not in r:
        return r.split(":")
    parts, depth, cur = [], 0, []
    i = 0
    while i < len(r):
        if r.startswith("${", i):
            depth += 1
            cur.append("${")
            i += 2
            continue
        ch = r[i]
        if ch == "}" and depth:
            depth -= 1
        if ch == ":" and not depth:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def resource_problem(r: str) -> tuple[bool, str] | None:
    """What is wrong with resource ``r``: ``(legacy, message)``, or None.

    ``legacy`` problems are reported in the legacy-parsing phase, before any
    statement lacks actions or resources; the others after.
    """
    if r == "*":
        return None
    parts = split_arn(r)
    if parts[0] != "arn":
        if len(parts) == 1:
            return False, f'Resource {r} must be in ARN format or "*".'
        # AWS reads "x:y..." as an ARN with partition y, padded to six fields.
        shown = ":".join(["arn", *parts[1:], *["*"] * (6 - len(parts))])
        if parts[1] not in _PARTITIONS:
            return False, f'Partition "{parts[1]}" is not valid for resource "{shown}".'
        return False, f'Resource {r} must be in ARN format or "*".'
    if len(parts) < 3:
        return False, VENDOR_QUALIFIED_MSG
    partition, service = parts[1], parts[2]
    if partition not in _PARTITIONS and not has_wildcard(partition):
        return False, f'Partition "{partition}" is not valid for resource "{r}".'
    if len(parts) == 3:
        return None  # "arn:aws:svc": AWS fills in the remaining fields
    if not service or len(parts) < 6:
        return True, LEGACY_MSG
    region, account, resource = parts[3], parts[4], ":".join(parts[5:])
    if service == "iam":
        if region:
            return False, f"IAM resource {r} cannot contain region information."
        head = resource.split("/", 1)[0]
        if not (
            resource in ("*", "root")
            or resource.startswith(_IAM_RESOURCE_PREFIXES)
            or has_wildcard(head)
        ):
            return False, _IAM_PATH_MSG
    elif service == "s3":
        if region and not account:
            return False, f"Resource {r} can not contain region information."
        if account and not region:
            return True, LEGACY_MSG
    return None


def has_wildcard(s: str) -> bool:
    return "*" in s or "?" in s or "${" in s


def action_problem(a: str) -> str | None:
    if a == "*":
        return None
    vendor, sep, name = a.partition(":")
    if not sep or not vendor or not name:
        return VENDOR_MSG
    if ":" in name:
        return ONE_COLON_MSG
    if not _VENDOR_CHARS.fullmatch(vendor):
        return f"Vendor {vendor} is not valid"
    return None


# --- data -------------------------------------------------------------------
