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

from rolegate.policy.variables import Literal, ResolvedTemplate, Template, Var, var_value

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
    """Regex source for a resolved template (no Var pieces).

    Linear-time by construction: every ``*`` but the last becomes an atomic
    lazy group ``(?>.*?piece)`` that commits to the leftmost occurrence of the
    piece that follows it. For globs that is exactly right (an earlier match
    only leaves more text for the rest), and it rules out the catastrophic
    backtracking of ``.*a.*a.*a...`` - policies, session policies included,
    come from callers.
    """
    tokens: list[tuple[str, str]] = []  # ("lit", regex) | ("?", class) | ("*", class)
    colons = 0
    segmented = arn_mode and count_colons(template) >= 5
    for piece in template:
        if isinstance(piece, Var):  # pragma: no cover - callers resolve first
            raise TypeError("unresolved variable")
        if isinstance(piece, Literal):
            literal, text = True, piece.text
        else:
            literal, text = False, piece
        for ch in text:
            cls = "[^:]" if segmented and colons < 5 else "."
            if ch == ":":
                colons += 1
                tokens.append(("lit", ":"))
            elif not literal and ch == "*":
                if tokens and tokens[-1] == ("*", cls):
                    continue  # ** == *
                tokens.append(("*", cls))
            elif not literal and ch == "?":
                tokens.append(("?", cls))
            else:
                tokens.append(("lit", re.escape(ch)))
    last_star = max((i for i, t in enumerate(tokens) if t[0] == "*"), default=-1)
    out: list[str] = []
    open_group = False
    for i, (kind, value) in enumerate(tokens):
        if kind == "*":
            if open_group:
                out.append(")")
                open_group = False
            if i == last_star:
                out.append(value + "*")
            else:
                out.append("(?>" + value + "*?")
                open_group = True
        elif kind == "?":
            out.append(value)
        else:
            out.append(value)
    if open_group:  # pragma: no cover - the last star never opens a group
        out.append(")")
    return "".join(out)


def glob_regex(pattern: str, *, arn_mode: bool = False) -> str:
    return template_regex((pattern,), arn_mode=arn_mode)


@lru_cache(maxsize=4096)
def _compiled(source: str) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL)


def _static_matcher(template: ResolvedTemplate, *, arn_mode: bool) -> Matcher:
    """A matcher for a template without variables."""
    if not template:
        return "".__eq__
    first = template[0]
    if all(isinstance(p, Literal) for p in template) or (
        len(template) == 1 and isinstance(first, str) and "*" not in first and "?" not in first
    ):
        text = "".join(p.text if isinstance(p, Literal) else p for p in template)
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

                def starts_with(s: str, _p: str = prefix) -> bool:
                    return s.startswith(_p)

                return starts_with
    fullmatch = _compiled(template_regex(template, arn_mode=arn_mode)).fullmatch
    return lambda s: fullmatch(s) is not None


def compile_glob(pattern: str, *, arn_mode: bool = False) -> Matcher:
    """A case-sensitive matcher for one glob (no variables)."""
    return _static_matcher((pattern,) if pattern else (), arn_mode=arn_mode)


ContextMatcher = Callable[[str, Mapping[str, object]], bool]


_RESOLVED_CACHE_MAX = 256


def compile_template(template: Template, *, arn_mode: bool) -> ContextMatcher:
    """``match(value, ctx)`` for a template that may hold variables.

    An unresolved variable makes the template match nothing. Matchers for
    resolved templates are cached per tuple of variable values (bounded), so a
    principal's repeated requests never rebuild a pattern.
    """
    variables = [p for p in template if isinstance(p, Var)]
    if not variables:
        m = _static_matcher(_substitute(template, ()), arn_mode=arn_mode)

        def match_static(s: str, ctx: Mapping[str, object], _m: Matcher = m) -> bool:
            return _m(s)

        return match_static
    cache: dict[object, Matcher] = {}

    def build(key: object) -> Matcher:
        resolved = _substitute(template, key if isinstance(key, tuple) else (key,))
        if len(cache) >= _RESOLVED_CACHE_MAX:
            cache.clear()
        f = cache[key] = _static_matcher(resolved, arn_mode=arn_mode)
        return f

    if len(variables) == 1:
        var = variables[0]
        vkey = var.key

        def match_one(s: str, ctx: Mapping[str, object]) -> bool:
            v = ctx.get(vkey)
            if v.__class__ is not str:
                v = var_value(var, ctx)
                if v is None:
                    return False
            f = cache.get(v)
            if f is None:
                f = build(v)
            return f(s)

        return match_one

    def match(s: str, ctx: Mapping[str, object]) -> bool:
        values = []
        for var in variables:
            v = var_value(var, ctx)
            if v is None:
                return False
            values.append(v)
        key = tuple(values)
        f = cache.get(key)
        if f is None:
            f = build(key)
        return f(s)

    return match


def _substitute(template: Template, values: tuple[str, ...]) -> ResolvedTemplate:
    """Replace the template's variables, in order, by Literal values."""
    it = iter(values)
    return tuple(Literal(next(it)) if isinstance(p, Var) else p for p in template)


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

    @property
    def service_linked(self) -> bool:
        """A service-linked role or its session: IAM reserves the ``/aws-service-role/`` path."""
        return self.role_arn is not None and ":role/aws-service-role/" in self.role_arn


def principal_info(
    principal: str, account: str | None, role_arn: str | None, ctx: Mapping[str, object]
) -> PrincipalInfo:
    """Classify ``principal``: root, user, assumed-role, federated-user, role, federated, service, anonymous."""
    pa = ctx.get("aws:principalarn")
    return _principal_info(principal, account, role_arn, pa if isinstance(pa, str) else None)


@lru_cache(maxsize=4096)
def _principal_info(
    principal: str, account: str | None, role_arn: str | None, principal_arn: str | None
) -> PrincipalInfo:
    parts = principal.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
        if principal in ("*", "anonymous", ""):
            return PrincipalInfo(principal, "anonymous", account, "aws", None, None)
        return PrincipalInfo(principal, "service", account, "aws", None, None)
    _, partition, service, _, arn_account, res = parts
    acct = account or arn_account or None
    kind = "other"
    rname = None
    rarn = None
    if service == "iam":
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
    elif service == "sts":
        if res.startswith("assumed-role/"):
            kind = "assumed-role"
            bits = res.split("/")
            rname = bits[1] if len(bits) > 1 else None
            if role_arn:
                rarn = role_arn
            elif principal_arn is not None and ":role/" in principal_arn:
                rarn = principal_arn
            elif rname:
                rarn = f"arn:{partition}:iam::{arn_account}:role/{rname}"
        elif res.startswith("federated-user/"):
            kind = "federated-user"
    return PrincipalInfo(principal, kind, acct, partition, rarn, rname)
