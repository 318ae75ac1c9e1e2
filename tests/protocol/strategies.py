"""Hypothesis strategies derived from botocore shapes, for round-trip tests.

Inputs are built so that botocore's QuerySerializer keeps them observable:
nested structures and maps are never empty (an empty one serialises to
nothing at all), while empty lists are fine (they are sent as ``Name=``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

MAX_DEPTH = 4

# Any text the form encoding can carry (surrogates cannot be UTF-8).
INPUT_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
# Text XML 1.0 can carry (no C0 controls except TAB, LF, CR; no U+FFFE/FFFF).
OUTPUT_TEXT = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
        st.sampled_from("\t\n\r &<>'\""),
    ),
    max_size=12,
)
POLICY_JSON = st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers(), max_size=3)


def _timestamps(milliseconds: bool) -> st.SearchStrategy[datetime]:
    base = st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    )
    if milliseconds:
        return base.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
    return base


def strategy_for(
    shape: Shape,
    *,
    output: bool = False,
    whole_seconds: bool = False,
    depth: int = 0,
) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "string":
        if output and shape.name == "policyDocumentType":
            return POLICY_JSON
        if shape.enum:
            return st.sampled_from(list(shape.enum)) | (OUTPUT_TEXT if output else INPUT_TEXT)
        return OUTPUT_TEXT if output else INPUT_TEXT
    if kind == "integer":
        return st.integers(-(2**31), 2**31 - 1)
    if kind == "long":
        return st.integers(-(2**63), 2**63 - 1)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        if whole_seconds:
            return _timestamps(False).map(lambda d: d.replace(microsecond=0))
        return _timestamps(output)
    if kind == "blob":
        return st.binary(max_size=16)
    kw = {"output": output, "whole_seconds": whole_seconds, "depth": depth + 1}
    if kind == "list":
        if depth >= MAX_DEPTH:
            return st.just([])
        return st.lists(strategy_for(shape.member, **kw), max_size=3)
    if kind == "map":
        keys = strategy_for(shape.key, **kw)
        values = strategy_for(shape.value, **kw)
        return st.dictionaries(keys, values, min_size=0 if output else 1, max_size=3)
    if kind == "structure":
        members = shape.members
        if shape.metadata.get("union"):
            # A tagged union carries exactly one of its members.
            return st.one_of(
                [st.fixed_dictionaries({n: strategy_for(m, **kw)}) for n, m in members.items()]
            )
        if depth >= MAX_DEPTH:
            scalars = {
                n: strategy_for(m, **kw)
                for n, m in members.items()
                if m.type_name not in ("structure", "list", "map")
            }
            members_st = scalars
        else:
            members_st = {n: strategy_for(m, **kw) for n, m in members.items()}
        if not members_st:
            return st.just({})
        strat = st.fixed_dictionaries({}, optional=members_st)
        if depth > 0 and not output:
            # An empty nested structure serialises to nothing; keep it visible.
            name, first = next(iter(members_st.items()))
            rest = {k: v for k, v in members_st.items() if k != name}
            strat = st.fixed_dictionaries({name: first}, optional=rest)
        return strat
    raise AssertionError(f"unhandled shape type {kind}")


def policy_json_text(value: dict[str, Any]) -> str:
    return json.dumps(value)
