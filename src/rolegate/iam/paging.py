"""IAM pagination: ``MaxItems`` (1-1000, default 100), opaque ``Marker``,
``IsTruncated``.

The marker names the sort key of the first item of the next page rather than
an offset, so a page boundary survives entities being created or deleted
between calls: nothing is skipped and nothing repeats. It is base64url so it
stays opaque and fits the 320-character ``markerType``.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from rolegate.errors import ValidationError

T = TypeVar("T")

DEFAULT_MAX_ITEMS = 100
MAX_MAX_ITEMS = 1000


def encode_marker(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii").rstrip("=")


def decode_marker(marker: str) -> str:
    try:
        padded = marker + "=" * (-len(marker) % 4)
        # validate=True: a marker with stray characters is rejected, not
        # silently decoded as something else (e.g. "" = the first page).
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        # AWS answers ValidationError here (recorded against AWS).
        raise ValidationError("Invalid Marker.") from exc


def max_items(params: Mapping[str, Any]) -> int:
    value = params.get("MaxItems")
    if value is None:
        return DEFAULT_MAX_ITEMS
    n = int(value)
    # The protocol layer checks the model range too; handlers are also called
    # directly (console, tests), so the bound is kept here as well.
    if n < 1:
        raise ValidationError(
            f"1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1"
        )
    if n > MAX_MAX_ITEMS:
        raise ValidationError(
            f"1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_MAX_ITEMS}"
        )
    return n


def paginate(
    items: Iterable[T], params: Mapping[str, Any], key: Callable[[T], str]
) -> tuple[list[T], dict[str, Any]]:
    """One page of ``items`` ordered by ``key`` (which must be unique per item).

    Returns the page and the ``IsTruncated``/``Marker`` members to merge into
    the output.
    """
    ordered = sorted(items, key=key)
    keys = [key(i) for i in ordered]
    start = 0
    marker = params.get("Marker")
    if marker:
        start = bisect_left(keys, decode_marker(str(marker)))
    limit = max_items(params)
    end = start + limit
    page = ordered[start:end]
    extra: dict[str, Any] = {"IsTruncated": end < len(ordered)}
    if end < len(ordered):
        extra["Marker"] = encode_marker(keys[end])
    return page, extra
