"""Java model patterns translated to Python ``re``."""

from __future__ import annotations

import unicodedata

import botocore.loaders
import pytest

from rolegate.protocol._unicats import RANGES, UNIDATA_VERSION, scan
from rolegate.protocol.patterns import compile_java_pattern, translate


def _all_patterns() -> list[str]:
    loader = botocore.loaders.create_loader()
    found = set()
    for service in ("sts", "iam", "organizations"):
        for shape in loader.load_service_model(service, "service-2")["shapes"].values():
            if "pattern" in shape:
                found.add(shape["pattern"])
    return sorted(found)


@pytest.mark.parametrize("pattern", _all_patterns())
def test_every_model_pattern_compiles(pattern: str) -> None:
    compile_java_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ("[\\w+=,.@-]*", "Bob.smith@x", True),
        ("[\\w+=,.@-]*", "é", False),  # Java \w is ASCII
        ("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", "ß 名 ٣ \u2028", True),
        ("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", "a!b", False),
        ("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", "\t", False),  # tab is Cc, not Z
        (
            "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+",
            "arn:aws:iam::1:role/😀",
            True,
        ),
        (
            "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+",
            "a\x01",
            False,
        ),
        ("(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)", "/", True),
        ("(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)", "/a/", True),
        ("(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)", "/a", False),
        ("[\\d]*", "١٢", False),  # Java \d is ASCII
        ("^o-[a-z0-9]{10,32}$", "o-abcdefghij", True),
    ],
)
def test_java_semantics(pattern: str, value: str, ok: bool) -> None:
    assert (compile_java_pattern(pattern).fullmatch(value) is not None) is ok


def test_unsupported_constructs_fail_loudly() -> None:
    for bad in ("\\p{Lu}x[", "[a&&b]", "\\Qx\\E", "[[a]]"):
        with pytest.raises(ValueError):
            translate(bad)


@pytest.mark.skipif(
    unicodedata.unidata_version != UNIDATA_VERSION, reason="tables are for another Unicode"
)
@pytest.mark.parametrize("major", ["Z", "N"])
def test_category_tables_match_unicodedata(major: str) -> None:
    # L is checked too, but it costs a full scan; Z and N share the code path.
    assert scan(major) == RANGES[major]


@pytest.mark.skipif(
    unicodedata.unidata_version != UNIDATA_VERSION, reason="tables are for another Unicode"
)
def test_letter_table_matches_unicodedata() -> None:
    assert scan("L") == RANGES["L"]
