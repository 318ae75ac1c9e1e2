"""Wildcard matching for actions, resources, ARNs and principals.

Two glob flavours, both with ``*`` (any run of characters, possibly empty) and
``?`` (exactly one character):

- **plain** (``StringLike``, actions): the whole string is one glob.
- **ARN** (``Resource``, ``ArnLike``): the first five colons split the pattern
  into six segments; in the first five a wildcard stays inside its segment, in
  the resource part ``*`` spans ``/`` and ``:`` alike. A pattern with fewer than
  five colons is matched as a plain glob.

Patterns are compiled once into small closures; fast paths avoid the regex
engine for ``*``, literals and ``prefix*``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from rolegate import arn as arnlib
from rolegate.policy.variables import Literal, Template, Var, resolve

__all__ = [
    "Matcher",
    "compile_glob",
    "compile_template",
    "template_regex",
    "glob_regex",
    "compile_action",
    "action_service",
    "count_colons",
    "PrincipalInfo",
    "principal_info",
    "DIRECT",
    "ROLE",
    "ACCOUNT",
]

Matcher = Callable[[str], bool]


def _true(_: str) -> bool:
    return True


def count_colons(template: Template) -> int:
    return sum(
        p.count(":") if isinstance(p, str) else p.text.count(":")
        for p in template
        if not isinstance(p, Var)
    )


def template_regex(template: Template, *, arn_mode: bool) -> str:
    """Regex source for a resolved template (no Var pieces)."""
    out: list[str] = []
    colons = 0
    segmented = arn_mode and count_colons(template) >= 5
    for piece in template:
        if isinstance(piece, Var):  # pragma: no cover - callers resolve first
            raise TypeError("unresolved variable")
        literal = isinstance(piece, Literal)
        text = piece.text if literal else piece
        for ch in text:
            in_segment = segmented and colons < 5
            if ch == ":":
                colons += 1
                out.append(":")
            elif not literal and ch == "*":
                out.append("[^:]*" if in_segment else ".*")
            elif not literal and ch == "?":
                out.append("[^:]" if in_segment else ".")
            else:
                out.append(re.escape(ch))
    return "".join(out)


def glob_regex(pattern: str, *, arn_mode: bool = False) -> str:
    return template_regex((pattern,), arn_mode=arn_mode)


@lru_cache(maxsize=4096)
def _compiled(source: str) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL)


def _static_matcher(template: Template, *, arn_mode: bool) -> Matcher:
    """A matcher for a template without variables."""
    if not template:
        return "".__eq__
    if all(isinstance(p, Literal) for p in template) or (
        len(template) == 1 and "*" not in template[0] and "?" not in template[0]  # type: ignore[operator]
    ):
        text = "".join(p.text if isinstance(p, Literal) else p for p in template)  # type: ignore[union-attr]
        return text.__eq__
    if len(template) == 1:
        pattern = template[0]
        assert isinstance(pattern, str)
        if pattern == "*":
            return _true
        # prefix* where the star lands in an unsegmented region
        if pattern.endswith("*") and "*" not in pattern[:-1] and "?" not in pattern:
            prefix = pattern[:-1]
            if not arn_mode or prefix.count(":") >= 5 or pattern.count(":") < 5:
                return lambda s, _p=prefix: s.startswith(_p)
    fullmatch = _compiled(template_regex(template, arn_mode=arn_mode)).fullmatch
    return lambda s: fullmatch(s) is not None


def compile_glob(pattern: str, *, arn_mode: bool = False) -> Matcher:
    """A case-sensitive matcher for one glob (no variables)."""
    return _static_matcher((pattern,) if pattern else (), arn_mode=arn_mode)


ContextMatcher = Callable[[str, Mapping[str, object]], bool]


def compile_template(template: Template, *, arn_mode: bool) -> ContextMatcher:
    """``match(value, ctx)`` for a template that may hold variables.

    An unresolved variable makes the template match nothing.
    """
    if not any(isinstance(p, Var) for p in template):
        m = _static_matcher(template, arn_mode=arn_mode)
        return lambda s, ctx, _m=m: _m(s)

    def match(s: str, ctx: Mapping[str, object]) -> bool:
        resolved = resolve(template, ctx)
        if resolved is None:
            return False
        return _compiled(template_regex(resolved, arn_mode=arn_mode)).fullmatch(s) is not None

    return match


# --- actions ---------------------------------------------------------------


def action_service(action: str) -> str:
    """The lower-cased service prefix of ``svc:Name`` (``""`` when there is none)."""
    head, sep, _ = action.partition(":")
    return head.lower() if sep else ""


def compile_action(pattern: str) -> Matcher:
    """Case-insensitive: the returned matcher expects an already lower-cased action."""
    return compile_glob(pattern.lower())


# --- principals ------------------------------------------------------------

# How a resource-policy principal named the caller (higher = more direct).
ACCOUNT = 0  # the account (id or :root) - the identity side must also allow
ROLE = 1  # the role of a role session - boundary and session policies still apply
DIRECT = 2  # the user / exact session / federated user / "*" / service


class PrincipalInfo:
    """Facts about the request principal that principal matching needs, computed once."""

    __slots__ = ("arn", "kind", "account", "partition", "role_arn", "role_name")

    def __init__(
        self,
        arn: str,
        kind: str,
        account: str | None,
        partition: str,
        role_arn: str | None,
        role_name: str | None,
    ) -> None:
        self.arn = arn
        self.kind = kind
        self.account = account
        self.partition = partition
        self.role_arn = role_arn
        self.role_name = role_name


def principal_info(
    principal: str, account: str | None, role_arn: str | None, ctx: Mapping[str, object]
) -> PrincipalInfo:
    """Classify ``principal``: root, user, assumed-role, federated-user, role, federated, service, anonymous."""
    a = arnlib.try_parse(principal)
    if a is None:
        if principal in ("*", "anonymous", ""):
            return PrincipalInfo(principal, "anonymous", account, "aws", None, None)
        return PrincipalInfo(principal, "service", account, "aws", None, None)
    acct = account or a.account or None
    res = a.resource
    kind = "other"
    rname = None
    rarn = None
    if a.service == "iam":
        if res == "root":
            kind = "root"
        elif res.startswith("user/"):
            kind = "user"
        elif res.startswith("role/"):
            kind = "role"
            rarn = principal
            rname = res.rsplit("/", 1)[-1]
        elif res.startswith(("saml-provider/", "oidc-provider/")):
            kind = "federated"
    elif a.service == "sts":
        if res.startswith("assumed-role/"):
            kind = "assumed-role"
            parts = res.split("/")
            rname = parts[1] if len(parts) > 1 else None
            if role_arn:
                rarn = role_arn
            else:
                pa = ctx.get("aws:principalarn")
                if isinstance(pa, str) and ":role/" in pa:
                    rarn = pa
                elif rname:
                    rarn = f"arn:{a.partition}:iam::{a.account}:role/{rname}"
        elif res.startswith("federated-user/"):
            kind = "federated-user"
    return PrincipalInfo(principal, kind, acct, a.partition, rarn, rname)
