from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolegate.errors import ValidationError
from rolegate.iam.paging import decode_marker, encode_marker, paginate


@given(st.lists(st.text(min_size=1, max_size=20), unique=True), st.integers(1, 7))
def test_pages_cover_everything_once(keys, size):
    seen: list[str] = []
    params: dict = {"MaxItems": size}
    while True:
        page, extra = paginate(keys, params, key=lambda k: k)
        seen.extend(page)
        assert len(page) <= size
        if not extra["IsTruncated"]:
            break
        assert len(extra["Marker"]) <= 320 or max(map(len, keys)) > 200
        params = {"MaxItems": size, "Marker": extra["Marker"]}
    assert seen == sorted(keys)


@given(st.text(max_size=100))
def test_marker_round_trip(key):
    assert decode_marker(encode_marker(key)) == key


def test_bad_inputs():
    with pytest.raises(ValidationError, match="Invalid Marker."):  # as AWS answers
        paginate(["a"], {"Marker": "%%%"}, key=str)
    with pytest.raises(ValidationError):
        paginate(["a"], {"MaxItems": 0}, key=str)
    with pytest.raises(ValidationError):
        paginate(["a"], {"MaxItems": 1001}, key=str)
    page, extra = paginate([str(i) for i in range(150)], {}, key=str)
    assert len(page) == 100 and extra["IsTruncated"] is True
