"""Form parsing: agrees with urllib on well-formed input, rejects the rest
as an AwsError, and nothing else ever escapes (the h11-style fuzz invariant)."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, quote_plus, unquote_to_bytes, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegate.errors import AwsError
from rolegate.protocol import decode_request, form, get_service, parse_form, parse_query_string
from rolegate.protocol.form import MAX_FORM_FIELDS, _decode_piece

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(st.lists(st.tuples(TEXT.filter(bool), TEXT), max_size=8))
def test_matches_urlencode(pairs: list[tuple[str, str]]) -> None:
    body = urlencode(pairs).encode()
    assert parse_form(body) == pairs


@given(st.lists(st.tuples(TEXT.filter(bool), TEXT), max_size=8))
def test_agrees_with_parse_qsl(pairs: list[tuple[str, str]]) -> None:
    body = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs)
    expected = parse_qsl(body, keep_blank_values=True, strict_parsing=False)
    assert parse_form(body.encode()) == expected


def test_plus_percent_and_blank_pieces() -> None:
    assert parse_form(b"a=1+2&&b=%2B%20c&c&d=") == [
        ("a", "1 2"),
        ("b", "+ c"),
        ("c", ""),
        ("d", ""),
    ]
    assert parse_form(b"") == []
    assert parse_form(b"k=%E2%82%AC") == [("k", "€")]


@pytest.mark.parametrize("body", [b"a=%zz", b"a=%4", b"a=%", b"%G1=x", b"a=100%"])
def test_bad_percent_escapes(body: bytes) -> None:
    with pytest.raises(AwsError) as info:
        parse_form(body)
    assert info.value.status == 400
    assert info.value.code == "MalformedQueryString"
    assert "percent-encoding" in info.value.message


@pytest.mark.parametrize("body", [b"a=%FF", b"a=%C3%28", b"a=\xff", b"%ED%A0%80=1"])
def test_invalid_utf8(body: bytes) -> None:
    with pytest.raises(AwsError) as info:
        parse_form(body)
    assert info.value.status == 400
    assert "UTF-8" in info.value.message


def test_field_count_is_capped() -> None:
    with pytest.raises(AwsError):
        parse_form(b"&".join([b"a=1"] * (MAX_FORM_FIELDS + 1)))


def test_long_values_bypass_the_cache() -> None:
    value = "x" * 10_000
    assert parse_form(f"Policy={value}".encode()) == [("Policy", value)]


def test_query_string() -> None:
    assert parse_query_string(b"Action=GetCallerIdentity&Version=2011-06-15") == [
        ("Action", "GetCallerIdentity"),
        ("Version", "2011-06-15"),
    ]
    assert parse_query_string("a=%41") == [("a", "A")]


# Bodies made of the characters that matter to the parser and decoder.
FORMISH = st.lists(
    st.sampled_from(
        [
            b"&",
            b"=",
            b".",
            b"%",
            b"+",
            b"member",
            b"entry",
            b"1",
            b"0",
            b"99999999",
            b"Tags",
            b"Key",
            b"Value",
            b"RoleArn",
            b"DurationSeconds",
            b"RoleSessionName",
            b"PolicyArns",
            b"arn",
            b"TransitiveTagKeys",
            b"%FF",
            b"%41",
            b"x",
            b"-",
            b"\xff",
            b"key",
            b"value",
            b"ContextEntries",
            b"ContextKeyValues",
            b"ContextKeyType",
        ]
    ),
    max_size=40,
).map(b"".join)

QUERY_OPS = [
    (service, op)
    for service in ("sts", "iam")
    for op in ("AssumeRole", "SimulateCustomPolicy", "CreateRole", "TagRole", "UntagRole")
    if op in get_service(service).operation_names
]


@settings(max_examples=400, deadline=None)
@given(body=st.binary(max_size=200) | FORMISH, which=st.sampled_from(QUERY_OPS))
def test_any_bytes_decode_or_raise_aws_error(body: bytes, which: tuple[str, str]) -> None:
    service, action = which
    try:
        decode_request(service, action, dict(parse_form(body)))
    except AwsError as exc:
        assert 400 <= exc.status < 500
        assert exc.message


def test_secret_fields_are_never_cached() -> None:
    # Other tests may have cached non-secret pieces that contain 123456.
    form._pieces.clear()
    body = b"Action=CreateLoginProfile&UserName=u&Password=Sup3r%2Bsecret&TokenCode=123456"
    assert dict(form.parse_form(body))["Password"] == "Sup3r+secret"
    cached = b"".join(form._pieces)
    assert b"Sup3r" not in cached and b"123456" not in cached
    assert b"UserName=u" in form._pieces


@given(st.binary(max_size=2000), st.booleans())
def test_long_pieces_decode_by_runs_as_short_ones_do(data: bytes, escape_all: bool) -> None:
    """Pieces of 512 bytes and more are unescaped by runs: same answer as quote's inverse."""
    text = ("%" + data.hex("%").upper()) if (escape_all and data) else quote(data, safe="")
    raw = text.encode()
    try:
        expected = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(AwsError):
            _decode_piece(raw)
        return
    assert _decode_piece(raw) == expected
