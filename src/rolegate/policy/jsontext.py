"""Policy JSON with its nesting bounded, so nothing that reads a document can overflow the stack.

``json.loads`` recurses once per level: past the interpreter's limit it
raises ``RecursionError``, which escapes every ``except ValueError`` (a 500),
and below it the parsed value can still be too deep for ``json.dumps`` or any
other recursive walk. :func:`loads` and :func:`check_depth` refuse both with
:class:`PolicyJsonTooDeep`, a ``ValueError``: callers keep one ``except
ValueError`` and answer with their operation's syntax error. ``check_depth``
is iterative, so it is safe on any input.

A valid policy is at most six containers deep (document, Statement array,
statement, Condition, operator, value array); :data:`MAX_DEPTH` leaves room
and stays far below any recursion limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "PolicyJsonTooDeep", "check_depth", "loads"]

MAX_DEPTH = 32


class PolicyJsonTooDeep(ValueError):
    """A policy document nested more than ``max_depth`` containers deep."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested more than {max_depth} levels deep")
        self.max_depth = max_depth


def loads(text: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH, **kw: Any) -> Any:
    """``json.loads(text, **kw)``: ``ValueError`` (``json.JSONDecodeError`` with its
    line and column) for bad JSON, :class:`PolicyJsonTooDeep` past ``max_depth``."""
    try:
        value = json.loads(text, **kw)
    except RecursionError:
        # The C scanner unwinds through Py_EnterRecursiveCall: an ordinary refusal.
        raise PolicyJsonTooDeep(max_depth) from None
    # Fewer openers than the bound cannot nest past it, so the usual document
    # pays two C-speed counts and no walk.
    if isinstance(text, str):
        openers = text.count("[") + text.count("{")
    else:
        openers = text.count(b"[") + text.count(b"{")
    if openers > max_depth:
        check_depth(value, max_depth)
    return value


def check_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`PolicyJsonTooDeep` if ``value`` nests more than ``max_depth``
    mappings and lists (tuples too). Iterative: any depth is safe."""
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
            raise PolicyJsonTooDeep(max_depth)
        for child in children:
            if isinstance(child, Mapping | list | tuple):
                stack.append((child, depth + 1))
