"""JSON from clients, with its nesting bounded.

``json.loads`` recurses once per level of nesting: a few thousand ``[``
raise ``RecursionError``, which is no ``ValueError`` and so escapes every
``except ValueError`` around a parse and becomes a 500. Below the
interpreter's limit the document parses, and the code that walks it
afterwards (policy compilation, msgpack, ``json.dumps`` in the audit trail)
may be the one that overflows. :func:`loads` refuses both with
:class:`JsonTooDeep`, a ``ValueError``, so callers keep one ``except
ValueError`` and answer their operation's own error.

No legitimate document rolegate reads comes near the bound: an ID token's
claims or a JWKS are three or four levels deep, a NextToken two, an IAM
policy five or six.

A lone UTF-16 surrogate is refused too, with :class:`JsonLoneSurrogate`
(also a ``ValueError``). JSON lets a string escape one (``"\\ud800"``) and
``json.loads`` returns it as a one-code-point ``str`` that no UTF-8 encoder
takes: the document parsed, and the crash came later, wherever the string
was first encoded (a store lookup, a packed session token, the audit
child's database write). ``json.loads`` of ``bytes`` decodes with
``surrogatepass``, so the three UTF-8 bytes of a surrogate become one just
the same. A well-formed pair (``"\\ud83d\\ude00"``) is one astral
character after parsing and is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "JsonLoneSurrogate",
    "JsonTooDeep",
    "check_depth",
    "check_text",
    "loads",
]

DEFAULT_MAX_DEPTH = 64


class JsonTooDeep(ValueError):
    """A JSON document nested deeper than allowed."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested more than {max_depth} levels deep")
        self.max_depth = max_depth


class JsonLoneSurrogate(ValueError):
    """A JSON string (a key or a value) holding a lone UTF-16 surrogate."""

    def __init__(self) -> None:
        super().__init__("JSON string contains a lone UTF-16 surrogate, which is not Unicode text")


# Any surrogate code point left in a parsed str is a lone one: json joins a
# well-formed escaped pair into one astral character.
_SURROGATE = re.compile("[\ud800-\udfff]")
# What can put a surrogate into a parsed string: a \u escape, or (bytes
# input, decoded with surrogatepass) the lead byte of an encoded one; bytes
# in UTF-16 or UTF-32 (json detects them; their ASCII has NULs) always walk.
_ESCAPE = "\\u"
_ESCAPE_B = b"\\u"
_UTF8_SURROGATE_B = re.compile(b"\xed[\xa0-\xbf]")


def _may_hold_surrogate(text: str | bytes | bytearray) -> bool:
    if isinstance(text, str):
        return _ESCAPE in text or _SURROGATE.search(text) is not None
    return _ESCAPE_B in text or b"\x00" in text or _UTF8_SURROGATE_B.search(text) is not None


def check_text(value: Any) -> None:
    """Raise :class:`JsonLoneSurrogate` if any string in ``value`` (already
    parsed: mappings, lists, tuples, scalars), key or value at any depth,
    holds a lone surrogate. Iterative."""
    search = _SURROGATE.search
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if search(node) is not None:
                raise JsonLoneSurrogate()
        elif isinstance(node, Mapping):
            for k, v in node.items():
                if isinstance(k, str) and search(k) is not None:
                    raise JsonLoneSurrogate()
                stack.append(v)
        elif isinstance(node, list | tuple):
            stack.extend(node)


def loads(text: str | bytes | bytearray, *, max_depth: int = DEFAULT_MAX_DEPTH, **kw: Any) -> Any:
    """``json.loads(text, **kw)``, raising ``ValueError`` for bad JSON,
    :class:`JsonTooDeep` for nesting deeper than ``max_depth`` containers and
    :class:`JsonLoneSurrogate` for a string holding a lone surrogate."""
    try:
        value = json.loads(text, **kw)
    except RecursionError:
        # The C scanner unwinds cleanly through Py_EnterRecursiveCall, so
        # this is an ordinary refusal, not a damaged interpreter.
        raise JsonTooDeep(max_depth) from None
    # Fewer openers than the bound cannot nest past it: the common case pays
    # two C-speed counts and no walk. (Brackets inside strings only make the
    # count larger, which costs a walk, never a wrong answer.)
    if isinstance(text, str):
        openers = text.count("[") + text.count("{")
    else:
        openers = text.count(b"[") + text.count(b"{")
    if openers > max_depth:
        check_depth(value, max_depth)
    # Only a document with a \u escape (rare outside hostile input) or an
    # encoded surrogate pays the walk; the depth is bounded by now.
    if _may_hold_surrogate(text):
        check_text(value)
    return value


def check_depth(value: Any, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
    """Raise :class:`JsonTooDeep` if ``value`` (already parsed: mappings, lists,
    tuples, scalars) nests more than ``max_depth`` containers. Iterative, so
    it is safe on any depth."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth > max_depth:
            raise JsonTooDeep(max_depth)
        for child in children:
            if isinstance(child, Mapping | list | tuple):
                stack.append((child, depth + 1))
