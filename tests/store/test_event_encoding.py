"""The audit's JSON text: orjson writes what the stdlib encoder wrote."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rolegate.store.audit_events import _EVENT_ENCODER, encode_event

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.datetimes(timezones=st.just(UTC))
    | st.dates()
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text() | st.integers(-5, 5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _values, max_size=6))
def test_same_document_as_the_stdlib_encoder(event: dict[str, Any]) -> None:
    assert json.loads(encode_event(event)) == json.loads(_EVENT_ENCODER.encode(event))


def test_text_is_compact_utf8_and_times_are_cloudtrails() -> None:
    ev = {
        "eventName": "AssumeRole",
        "userAgent": "café ☕",
        "when": datetime(2026, 11, 28, 1, 2, 3, tzinfo=UTC),
        "day": date(2026, 11, 28),
        "n": [1, (2, 3)],
        7: True,
    }
    out = encode_event(ev)
    assert out == _EVENT_ENCODER.encode(ev)
    assert out == (
        '{"eventName":"AssumeRole","userAgent":"café ☕","when":"2026-11-28T01:02:03Z",'
        '"day":"2026-11-28","n":[1,[2,3]],"7":true}'
    )


def test_what_orjson_refuses_falls_back_and_encoding_is_total() -> None:
    big = {"n": 2**80}
    assert encode_event(big) == '{"n":' + str(2**80) + "}"
    # What neither JSON encoder takes is written as its repr, not refused:
    # an event is never dropped for what it holds.
    assert json.loads(encode_event({"n": {1, 2}})) == {"n": "<set: {1, 2}>"}


def test_a_lone_surrogate_is_written_as_a_json_escape_losslessly() -> None:
    ev = {"eventName": "ListAccounts", "requestParameters": {"nextToken": "a\ud800é", "\udc80": 1}}
    out = encode_event(ev)
    out.encode("utf-8")  # what the database needs
    assert out.isascii() and "\\ud800" in out and "\\udc80" in out
    assert json.loads(out) == ev


def test_an_event_that_is_no_json_at_all_is_recorded_as_a_stub() -> None:
    cyclic: dict = {"eventID": "e-1", "eventName": "GetCallerIdentity"}
    cyclic["self"] = cyclic
    out = json.loads(encode_event(cyclic))
    assert out["eventID"] == "e-1" and out["eventName"] == "GetCallerIdentity"
    assert "rolegateEncodingError" in out and "rolegateEventRepr" in out
