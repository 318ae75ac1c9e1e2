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
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_MAX_DEPTH", "JsonTooDeep", "check_depth", "loads"]

DEFAULT_MAX_DEPTH = 64


class JsonTooDeep(ValueError):
    """A JSON document nested deeper than allowed."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested more than {max_depth} levels deep")
        self.max_depth = max_depth


def loads(text: str | bytes | bytearray, *, max_depth: int = DEFAULT_MAX_DEPTH, **kw: Any) -> Any:
    """``json.loads(text, **kw)``, raising ``ValueError`` for bad JSON and
    :class:`JsonTooDeep` for nesting deeper than ``max_depth`` containers."""
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
