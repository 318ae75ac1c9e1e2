"""Read-only JSON values for data shared through the in-process cache.

Cached entities are handed to every request thread, so one handler mutating
``entity.data`` would silently change what every other request sees (and
what a later ``tx.update`` writes). ``FrozenDict``/``FrozenList`` are real
``dict``/``list`` subclasses, so ``json.dumps``, ``==``, ``isinstance(x,
dict)`` and reads all work, but every mutation raises ``TypeError``.
``copy.deepcopy(x)`` and :func:`thaw` give a plain, mutable deep copy.
"""

from __future__ import annotations

from typing import Any, NoReturn

_MESSAGE = (
    "data from the rolegate store cache is read-only; "
    "take a mutable copy with copy.deepcopy() or rolegate.store.thaw() first"
)


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise TypeError(_MESSAGE)


class FrozenDict(dict[str, Any]):
    __slots__ = ()
    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return thaw(self)

    def __reduce__(self) -> Any:
        return (dict, (thaw(self),))

    # dict and list declare __hash__ = None (a ClassVar); a method that raises
    # keeps the same answer with the class's own message.
    def __hash__(self) -> int:  # type: ignore[override]
        raise TypeError("unhashable type: 'FrozenDict'")


class FrozenList(list[Any]):
    __slots__ = ()
    __setitem__ = __delitem__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __iadd__ = __imul__ = _refuse

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return thaw(self)

    def __reduce__(self) -> Any:
        return (list, (thaw(self),))

    # dict and list declare __hash__ = None (a ClassVar); a method that raises
    # keeps the same answer with the class's own message.
    def __hash__(self) -> int:  # type: ignore[override]
        raise TypeError("unhashable type: 'FrozenList'")


def freeze(value: Any) -> Any:
    """Deep-freeze a JSON value (dicts, lists, scalars)."""
    if isinstance(value, dict):
        out = FrozenDict()
        for k, v in value.items():
            dict.__setitem__(out, k, freeze(v))
        return out
    if isinstance(value, list | tuple):
        out_list = FrozenList()
        list.extend(out_list, (freeze(v) for v in value))
        return out_list
    return value


def thaw(value: Any) -> Any:
    """A plain, mutable deep copy of a (possibly frozen) JSON value."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value
