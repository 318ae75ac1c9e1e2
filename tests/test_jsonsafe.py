from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolegate import jsonsafe
from rolegate.jsonsafe import JsonTooDeep


def nested(depth: int, kind: str = "list") -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("kind", ["list", "dict"])
@pytest.mark.parametrize("depth", [65, 500, 999, 1000, 5000, 100_000])
def test_deep_nesting_is_a_value_error(kind: str, depth: int) -> None:
    with pytest.raises(JsonTooDeep) as info:
        jsonsafe.loads(nested(depth, kind))
    assert isinstance(info.value, ValueError)
    with pytest.raises(JsonTooDeep):
        jsonsafe.loads(nested(depth, kind).encode())


def test_the_bound_itself_parses() -> None:
    assert jsonsafe.loads(nested(64)) is not None
    assert jsonsafe.loads(nested(3, "dict"), max_depth=3) == {"a": {"a": {"a": 1}}}
    with pytest.raises(JsonTooDeep):
        jsonsafe.loads(nested(4, "dict"), max_depth=3)


def test_brackets_inside_strings_do_not_count() -> None:
    text = '{"a": "' + "[" * 1000 + '"}'
    assert jsonsafe.loads(text) == {"a": "[" * 1000}


def test_wide_documents_parse() -> None:
    text = "[" + ",".join(["[1]"] * 5000) + "]"
    assert len(jsonsafe.loads(text)) == 5000


def test_hooks_are_passed_through() -> None:
    assert jsonsafe.loads('{"a":1,"a":2}', object_pairs_hook=list) == [("a", 1), ("a", 2)]
    with pytest.raises(JsonTooDeep):
        jsonsafe.loads(nested(2000, "dict"), object_pairs_hook=dict)


def test_bad_json_is_still_a_value_error() -> None:
    with pytest.raises(ValueError):
        jsonsafe.loads("[1,")


def test_check_depth_on_parsed_values() -> None:
    value: list = []
    for _ in range(10_000):
        value = [value]
    with pytest.raises(JsonTooDeep):
        jsonsafe.check_depth(value)
    jsonsafe.check_depth({"a": [({"b": 1},)]}, max_depth=4)
    with pytest.raises(JsonTooDeep):
        jsonsafe.check_depth({"a": [({"b": []},)]}, max_depth=4)


@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["list", "dict"]))
def test_never_anything_but_a_result_or_value_error(depth: int, kind: str) -> None:
    try:
        jsonsafe.loads(nested(depth, kind))
    except JsonTooDeep:
        assert depth > 64
    else:
        assert depth <= 64
