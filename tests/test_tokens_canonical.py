"""One token, one spelling: base64url with its unused trailing bits changed
decodes to the same bytes, so a lenient decoder accepts many spellings of
one sealed token. Every spelling but the one rolegate issued is refused."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegate.errors import InvalidAuthorizationMessage, InvalidClientTokenId
from rolegate.tokens import (
    InvalidSessionToken,
    KeyRing,
    SessionClaims,
    open_message,
    open_token,
    seal,
    seal_message,
)

NOW = 1764292915
AKID = "ASIAQWERTYUIOPASDFGH"
RING = KeyRing([("k1", bytes(range(32)))])
ALPHABET = string.ascii_letters + string.digits + "-_"


def _claims(session_name: str, role_name: str) -> SessionClaims:
    return SessionClaims(
        role_name=role_name,
        access_key_id=AKID,
        secret_access_key="secret",
        kind="assumed-role",
        account_id="123456789012",
        arn=f"arn:aws:sts::123456789012:assumed-role/r/{session_name}",
        user_id="AROAEXAMPLE:" + session_name,
        issued_at=NOW,
        expires_at=NOW + 3600,
        session_name=session_name,
    )


def _tokens_with_slack() -> dict[int, str]:
    """Tokens whose length mod 4 is 2 and 3: both leave unused bits in the last char."""
    found: dict[int, str] = {}
    for n in range(1, 20):
        token = seal(_claims("s" * n, "r" * (n % 3)), RING, NOW, nonce=bytes(12))
        found.setdefault(len(token) % 4, token)
    assert {2, 3} <= set(found)
    return found


TOKENS = _tokens_with_slack()


def _same_bytes_spellings(token: str) -> list[str]:
    """The other spellings of ``token`` whose last character differs only in unused bits."""
    unused = {2: 4, 3: 2}[len(token) % 4]
    last = ALPHABET.index(token[-1])
    base = last & ~((1 << unused) - 1)
    return [token[:-1] + ALPHABET[base | low] for low in range(1 << unused) if base | low != last]


@pytest.mark.parametrize("slack", [2, 3])
def test_unused_trailing_bits_refused(slack: int) -> None:
    token = TOKENS[slack]
    assert open_token(token, RING, NOW, access_key_id=AKID).session_name
    for spelling in _same_bytes_spellings(token):
        with pytest.raises(InvalidSessionToken) as info:
            open_token(spelling, RING, NOW, access_key_id=AKID)
        assert info.value.reason == "not canonical base64url"


@pytest.mark.parametrize("suffix", ["=", "==", "A", "AAA", "\n", " "])
def test_padding_and_stray_characters_refused(suffix: str) -> None:
    token = TOKENS[2]
    with pytest.raises(InvalidClientTokenId):
        open_token(token + suffix, RING, NOW, access_key_id=AKID)


def test_message_spellings_refused() -> None:
    for n in range(1, 4):
        text = seal_message(b"m" * n, RING, NOW, nonce=bytes(12))
        if len(text) % 4 in (2, 3):
            assert open_message(text, RING) == b"m" * n
            for spelling in _same_bytes_spellings(text):
                with pytest.raises(InvalidAuthorizationMessage):
                    open_message(spelling, RING)


@settings(max_examples=300, deadline=None)
@given(
    which=st.sampled_from([2, 3]),
    edit=st.sampled_from(["replace", "insert", "delete", "swapcase", "unused-bits"]),
    where=st.integers(min_value=0),
    char=st.sampled_from(ALPHABET + "=+/. \n\x00é"),
)
def test_any_altered_spelling_is_invalid_client_token_id(
    which: int, edit: str, where: int, char: str
) -> None:
    token = TOKENS[which]
    i = where % len(token)
    if edit == "replace":
        altered = token[:i] + char + token[i + 1 :]
    elif edit == "insert":
        altered = token[:i] + char + token[i:]
    elif edit == "delete":
        altered = token[:i] + token[i + 1 :]
    elif edit == "swapcase":
        altered = token[:i] + token[i].swapcase() + token[i + 1 :]
    else:
        spellings = _same_bytes_spellings(token)
        altered = spellings[where % len(spellings)]
    if altered == token:
        return
    with pytest.raises(InvalidClientTokenId) as info:
        open_token(altered, RING, NOW, access_key_id=AKID)
    assert info.value.code == "InvalidClientTokenId"
    assert info.value.status == 403
