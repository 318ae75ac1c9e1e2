"""Policy JSON with its nesting bounded: :mod:`rolegate.jsonsafe` at the
policy language's own bound.

A valid policy is at most six containers deep (document, Statement array,
statement, Condition, operator, value array); :data:`MAX_DEPTH` leaves room
and stays far below any recursion limit, so nothing that walks a parsed
document afterwards (compilation, ``json.dumps``) can overflow the stack.
"""

from __future__ import annotations

from typing import Any

from rolegate import jsonsafe
from rolegate.jsonsafe import JsonLoneSurrogate as PolicyJsonLoneSurrogate
from rolegate.jsonsafe import JsonTooDeep as PolicyJsonTooDeep

__all__ = ["MAX_DEPTH", "PolicyJsonLoneSurrogate", "PolicyJsonTooDeep", "check_depth", "loads"]

MAX_DEPTH = 32


def loads(text: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH, **kw: Any) -> Any:
    """``json.loads(text, **kw)``: ``ValueError`` (``json.JSONDecodeError`` with its
    line and column) for bad JSON, :class:`PolicyJsonTooDeep` past ``max_depth``,
    :class:`PolicyJsonLoneSurrogate` for a string holding a lone surrogate."""
    return jsonsafe.loads(text, max_depth=max_depth, **kw)


def check_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`PolicyJsonTooDeep` if ``value`` nests more than ``max_depth``
    mappings and lists. Iterative: any depth is safe."""
    jsonsafe.check_depth(value, max_depth)
