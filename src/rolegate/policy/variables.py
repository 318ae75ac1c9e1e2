"""Policy variables: ``${aws:username}``, ``${key, 'default'}``, ``${*}`` ``${?}`` ``${$}``.

Variables exist only in ``"Version": "2012-10-17"`` documents; elsewhere the
text is literal. A template is a tuple of pieces:

- ``str``: pattern text as written (``*`` and ``?`` are wildcards where the
  operator supports them),
- :class:`Literal`: text that is never a wildcard (an escape like ``${*}``),
- :class:`Var`: a context key (lower-cased) with an optional default.

Resolution substitutes a variable's value as a :class:`Literal`: a value taken
from the request never acts as a wildcard. A variable without a value and
without a default makes the whole template unresolved (``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "Literal",
    "Var",
    "Template",
    "ResolvedTemplate",
    "parse_template",
    "parse_resource_template",
    "resource_split",
    "has_variables",
    "resolve",
    "var_value",
]


@dataclass(frozen=True, slots=True)
class Literal:
    text: str


@dataclass(frozen=True, slots=True)
class Var:
    key: str  # lower-cased context key name
    default: str | None = None


Piece = str | Literal | Var
Template = tuple[Piece, ...]
# A template whose variables were replaced by their values (resolve()).
ResolvedTemplate = tuple[str | Literal, ...]

_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def _parse_var(body: str) -> Piece | None:
    """The piece for ``${body}``, or None when ``body`` is not a variable."""
    inner = body.strip()
    if inner in _ESCAPES:
        return Literal(_ESCAPES[inner])
    default: str | None = None
    if "," in inner:
        name, _, rest = inner.partition(",")
        rest = rest.strip()
        if len(rest) < 2 or rest[0] != "'" or rest[-1] != "'":
            return None
        default = rest[1:-1]
        inner = name.strip()
    if not inner or any(c.isspace() for c in inner) or "$" in inner or "{" in inner:
        return None
    return Var(inner.lower(), default)


def parse_template(text: str, *, variables: bool = True) -> Template:
    """Split ``text`` into pieces. With ``variables=False`` the text is one literal-pattern piece.

    Text that looks like ``${`` but is not a well-formed variable stays pattern text.
    """
    if not variables or "${" not in text:
        return (text,) if text else ()
    pieces: list[Piece] = []
    buf: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("${", i):
            end = text.find("}", i + 2)
            if end != -1:
                piece = _parse_var(text[i + 2 : end])
                if piece is not None:
                    if buf:
                        pieces.append("".join(buf))
                        buf = []
                    pieces.append(piece)
                    i = end + 1
                    continue
        buf.append(text[i])
        i += 1
    if buf:
        pieces.append("".join(buf))
    # merge adjacent literals for tidiness
    merged: list[Piece] = []
    for p in pieces:
        if merged and isinstance(p, Literal) and isinstance(merged[-1], Literal):
            merged[-1] = Literal(merged[-1].text + p.text)
        else:
            merged.append(p)
    return tuple(merged)


def resource_split(text: str) -> int:
    """Where the resource part of an ARN pattern starts: after its fifth colon (len when none).

    IAM User Guide, "IAM policy elements: Variables and tags": variables work in
    the Resource element "only in the resource portion of the ARN. This portion
    of the ARN appears after the fifth colon (:)". The colons are counted as
    written, so one inside ``${aws:x}`` counts too: a variable that reaches
    into the first five fields is literal text either way.
    """
    at = -1
    for _ in range(5):
        at = text.find(":", at + 1)
        if at == -1:
            return len(text)
    return at + 1


def parse_resource_template(text: str, *, variables: bool = True) -> Template:
    """:func:`parse_template` for a Resource pattern: variables only in the resource part."""
    cut = resource_split(text) if variables else len(text)
    head, tail = text[:cut], parse_template(text[cut:], variables=variables)
    if not head:
        return tail
    if tail and isinstance(tail[0], str):
        return (head + tail[0], *tail[1:])
    return (head, *tail)


def has_variables(template: Template) -> bool:
    return any(isinstance(p, Var) for p in template)


def var_value(var: Var, ctx: Mapping[str, object]) -> str | None:
    """A variable's value in a lower-cased context, its default, or None.

    Only single-valued keys resolve: a list resolves when it has exactly one value.
    """
    v = ctx.get(var.key)
    if isinstance(v, str):
        return v
    if isinstance(v, tuple | list) and len(v) == 1 and isinstance(v[0], str):
        return v[0]
    return var.default


def resolve(template: Template, ctx: Mapping[str, object]) -> ResolvedTemplate | None:
    """Replace every Var by a Literal of its value; None when one is unresolved."""
    out: list[str | Literal] = []
    for p in template:
        if isinstance(p, Var):
            value = var_value(p, ctx)
            if value is None:
                return None
            out.append(Literal(value))
        else:
            out.append(p)
    return tuple(out)


def template_text(template: Template) -> str:
    """Concatenate a resolved template as plain text (wildcards included as written)."""
    return "".join(p if isinstance(p, str) else p.text for p in template if not isinstance(p, Var))
