r"""Java regular expressions from botocore models, translated to Python ``re``.

AWS validates ``pattern`` traits with java.util.regex and ``String.matches``,
so a pattern must match the *whole* value (we use ``fullmatch``) and:

- ``\w``, ``\d``, ``\s`` are ASCII-only in Java unless UNICODE_CHARACTER_CLASS
  is set, so every pattern is compiled with ``re.ASCII``;
- ``\p{L}``, ``\p{Z}``, ``\p{N}`` (tag keys and values) are Unicode general
  categories, which ``re`` lacks: they become explicit code point ranges from
  ``_unicats``;
- ``\u10000-\u10FFFF`` in the "printable Unicode" class is, read literally by
  either engine, ``\u1000`` followed by ``0``; AWS documents it as the
  supplementary planes, so we translate it to ``\U00010000-\U0010FFFF``.

Anything else we do not understand raises at start-up rather than silently
accepting or rejecting values at request time.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from functools import cache

from rolegate.protocol._unicats import RANGES

# The one place botocore's models write a supplementary-plane range.
_SUPPLEMENTARY_JAVA = "\\u10000-\\u10FFFF"
_SUPPLEMENTARY_PY = "\\U00010000-\\U0010FFFF"

# Escapes whose meaning is the same in java.util.regex and Python re (ASCII).
_PASSTHROUGH_LETTER_ESCAPES = set("wWdDsStnrfvb")

Matcher = Callable[[str], "re.Match[str] | None"]


@cache
def _category_ranges(major: str) -> str:
    """The body of a character class for one major Unicode category."""
    if major not in RANGES:
        raise ValueError(f"unsupported Unicode category \\p{{{major}}}")
    parts = []
    for first, last in RANGES[major]:
        if first == last:
            parts.append(f"\\U{first:08X}")
        else:
            parts.append(f"\\U{first:08X}-\\U{last:08X}")
    return "".join(parts)


def translate(pattern: str) -> str:
    """Translate one Java pattern into Python ``re`` syntax (see module doc)."""
    src = pattern.replace(_SUPPLEMENTARY_JAVA, _SUPPLEMENTARY_PY)
    out: list[str] = []
    in_class = False
    i = 0
    n = len(src)
    while i < n:
        ch = src[i]
        if ch == "\\":
            if i + 1 >= n:
                raise ValueError(f"dangling backslash in pattern {pattern!r}")
            nxt = src[i + 1]
            if nxt in "pP":
                m = re.match(r"\{(?:Is)?([A-Za-z]+)\}", src[i + 2 :])
                if m is None:
                    raise ValueError(f"unsupported \\p escape in pattern {pattern!r}")
                body = _category_ranges(m.group(1))
                if nxt == "P":
                    if in_class:
                        raise ValueError(f"\\P inside a class is unsupported: {pattern!r}")
                    out.append(f"[^{body}]")
                else:
                    out.append(body if in_class else f"[{body}]")
                i += 2 + m.end()
                continue
            if nxt == "u":
                out.append(src[i : i + 6])
                i += 6
                continue
            if nxt == "U":
                out.append(src[i : i + 10])
                i += 10
                continue
            if nxt == "x":
                out.append(src[i : i + 4])
                i += 4
                continue
            if nxt.isalpha() and nxt not in _PASSTHROUGH_LETTER_ESCAPES:
                raise ValueError(f"unsupported escape \\{nxt} in pattern {pattern!r}")
            out.append(src[i : i + 2])
            i += 2
            continue
        if ch == "[":
            if in_class:
                raise ValueError(f"nested character classes are unsupported: {pattern!r}")
            in_class = True
            out.append(ch)
            # A leading "]" or "^]" is a literal in both dialects; copy it as is.
            if src.startswith("^", i + 1):
                out.append("^")
                i += 1
            i += 1
            continue
        if ch == "]" and in_class:
            in_class = False
        elif in_class and src.startswith("&&", i):
            raise ValueError(f"class intersection is unsupported: {pattern!r}")
        out.append(ch)
        i += 1
    if in_class:
        raise ValueError(f"unterminated character class in pattern {pattern!r}")
    return "".join(out)


@cache
def compile_java_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a model pattern once; use ``.fullmatch`` (Java ``matches``)."""
    with warnings.catch_warnings():
        # A FutureWarning about set syntax would mean the dialects disagree.
        warnings.simplefilter("error")
        return re.compile(translate(pattern), re.ASCII)
