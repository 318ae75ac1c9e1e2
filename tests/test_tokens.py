from __future__ import annotations

import base64
import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegate import tokens
from rolegate.errors import AwsError, InvalidAuthorizationMessage
from rolegate.tokens import (
    InvalidSessionToken,
    KeyRing,
    SessionClaims,
    SessionExpired,
    open_message,
    open_token,
    seal,
    seal_message,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
NONCE = bytes(12)
NOW = 1764292915
AKID = "ASIAQWERTYUIOPASDFGH"
RING = KeyRing([("k1", KEY_A)])


def claims(**over: object) -> SessionClaims:
    base: dict[str, object] = dict(
        access_key_id=AKID,
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        kind="assumed-role",
        account_id="123456789012",
        arn="arn:aws:sts::123456789012:assumed-role/deploy-role/ci-session-4411",
        user_id="AROA3XFRBF535EXAMPLE1:ci-session-4411",
        issued_at=NOW,
        expires_at=NOW + 3600,
        role_arn="arn:aws:iam::123456789012:role/service/deploy-role",
        role_id="AROA3XFRBF535EXAMPLE1",
        role_name="deploy-role",
        session_name="ci-session-4411",
        mfa_authenticated=True,
        mfa_auth_time=NOW - 10,
        session_policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
        policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        tags=[("team", "platform"), ("env", "prod")],
        transitive_tag_keys=["team"],
        source_identity="alice",
        chain_depth=1,
        issuer={
            "type": "IAMUser",
            "arn": "arn:aws:iam::123456789012:user/alice",
            "principalId": "AIDAJQABLZS4A3QDU576Q",
            "accountId": "123456789012",
            "userName": "alice",
        },
    )
    base.update(over)
    return SessionClaims(**base)  # type: ignore[arg-type]


CLAIMS = claims()
TOKEN = seal(CLAIMS, RING, NOW)


def _blob(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _text(blob: bytes) -> str:
    return base64.urlsafe_b64encode(blob).rstrip(b"=").decode()


def test_round_trip() -> None:
    opened = open_token(TOKEN, RING, NOW + 1, access_key_id=AKID)
    assert opened == CLAIMS
    assert opened.tags == (("team", "platform"), ("env", "prod"))
    assert opened.policy_arns == ("arn:aws:iam::aws:policy/ReadOnlyAccess",)
    assert opened.mfa_authenticated is True and opened.chain_depth == 1


def test_minimal_claims_round_trip() -> None:
    c = SessionClaims(
        access_key_id=AKID,
        secret_access_key="s",
        kind="session",
        account_id="123456789012",
        arn="arn:aws:iam::123456789012:user/bob",
        user_id="AIDAJQABLZS4A3QDU576Q",
        issued_at=NOW,
        expires_at=NOW + 900,
        federation={"provider": "https://idp.example", "amr": ["pwd", "mfa"]},
    )
    opened = open_token(seal(c, RING, NOW), RING, NOW, access_key_id=AKID)
    assert opened.federation == {"provider": "https://idp.example", "amr": ("pwd", "mfa")}
    assert opened.issuer == {} and opened.role_arn is None


# Pinned: _seal_from_parts is deterministic. A change here is a wire-format
# change: every issued token stops opening, so bump the format byte instead.
PINNED = (
    "AQJrMQAAAAAAAAAAAAAAANK8rN8BbdD0Sfn-cEp4yMybDAYSe8UmaMhHm_SPnjEkFgqS0my39U8ciEa4hYsn"
    "CYJlEZ4rFy_mCfNnZwcwAqGiKmem8KIjl77st-pkSyT88SQEqhSdc3YMnyRyzIaT0aU_dGZbLNbabQpcDrIW"
    "iWkZi2VT0UwgrupzVIkRSV7mU8z54I4GaxxsCreCbdXpVkR3Lhbz2aaV9GMWPENSWtMOu-FkS7OavN3G45V6"
    "P9njdbUTjL2En-Rf_2Bt13FxDwvaj26-K6wE7cUuQRiMNYIXa5GubL0T7jUWma5PPpzBEQVOu9H8_sgzQyIq"
    "WkGiAhQNKLOu_t5dEVskdg8STq58xaQ4YQuOrVhAaqOs4PE1VoPjmui7CsQNkW5p8s6jEbU6BLpG1eTWHK5D"
    "RiVALA5h_69LeH8PGdXKc-Lipeby7L5o_tftoWzyUsn8UpF8ZxdAQ1bqW4TQHhXzwXT4SBmOAi824wMogVTi"
    "H_7WKBW4cfHPGTzLwWzROg_5M_4vV_5ufP-9QjODUOg3govPvAB7rUzsmvwUzFtpALAW2HdmPB-XYBaRoKXW"
    "z3NdVNWRrG1IwBi3kJTzr4P2RVg7lo3KS0XVrP5xYKWbjjVg1XuOjl0RepQee8WpOr2n8-ikBoexVoztr92_"
    "1k4eTXcV0nf0sGF6Yn8OnM6pGtuw3wbD6tL9vGuWhwDiDIpyJCB6hhlLUJnkizKnnGjo_UzcO7ARHfhqhAZ6"
    "sNHRG2QUoKyX2Cey3UxCGzYzQh-Gt3R1Dd64IPb5mGmJZwTtuA3Kn9thlGR4vBr0S327aBaroMrqmvMpCPRJ"
    "2MTy5SOfRMnpeQzo6q2RFPwzmAO4"
)


def test_pinned_token() -> None:
    token = tokens._seal_from_parts(CLAIMS, RING, NOW, NONCE, "k1")
    assert token == seal(CLAIMS, RING, NOW, nonce=NONCE)
    assert token == PINNED
    assert open_token(PINNED, RING, NOW, access_key_id=AKID) == CLAIMS


def test_header_layout() -> None:
    blob = _blob(TOKEN)
    assert blob[0] == 0x01 and blob[1] == 2 and blob[2:4] == b"k1"


def test_compact_and_header_safe() -> None:
    assert len(TOKEN) < 1024
    assert re.fullmatch(r"[A-Za-z0-9_-]+", TOKEN)


def test_nonce_is_fresh() -> None:
    assert seal(CLAIMS, RING, NOW) != seal(CLAIMS, RING, NOW)


def test_rotation() -> None:
    old = KeyRing([("k1", KEY_A)])
    rotated = KeyRing([("k2", KEY_B), ("k1", KEY_A)])
    old_token = seal(CLAIMS, old, NOW)
    assert open_token(old_token, rotated, NOW, access_key_id=AKID) == CLAIMS
    new_token = seal(CLAIMS, rotated, NOW)
    assert _blob(new_token)[2:4] == b"k2"
    with pytest.raises(InvalidSessionToken):
        open_token(new_token, old, NOW, access_key_id=AKID)
    assert tokens._seal_from_parts(CLAIMS, rotated, NOW, NONCE, "k1") == tokens._seal_from_parts(
        CLAIMS, old, NOW, NONCE, "k1"
    )
    with pytest.raises(ValueError):
        tokens._seal_from_parts(CLAIMS, rotated, NOW, NONCE, "k9")


def test_other_deployment() -> None:
    same_id_other_key = KeyRing([("k1", KEY_B)])
    with pytest.raises(InvalidSessionToken) as e:
        open_token(TOKEN, same_id_other_key, NOW, access_key_id=AKID)
    assert "authentication failed" in e.value.reason
    with pytest.raises(InvalidSessionToken) as e:
        open_token(TOKEN, KeyRing([("zz", KEY_A)]), NOW, access_key_id=AKID)
    assert "unknown key id" in e.value.reason


def test_error_is_opaque_and_aws_shaped() -> None:
    with pytest.raises(InvalidSessionToken) as e:
        open_token("garbage", RING, NOW, access_key_id=AKID)
    err = e.value
    assert isinstance(err, AwsError)
    assert err.code == "InvalidClientTokenId" and err.status == 403
    assert err.message == "The security token included in the request is invalid."
    assert err.reason not in err.message


def test_every_bit_flip_rejected() -> None:
    blob = _blob(TOKEN)
    for i in range(len(blob)):
        for bit in range(8):
            bad = bytearray(blob)
            bad[i] ^= 1 << bit
            with pytest.raises(InvalidSessionToken):
                open_token(_text(bytes(bad)), RING, NOW, access_key_id=AKID)


def test_every_truncation_rejected() -> None:
    for n in range(len(TOKEN)):
        with pytest.raises(InvalidSessionToken):
            open_token(TOKEN[:n], RING, NOW, access_key_id=AKID)
    with pytest.raises(InvalidSessionToken):
        open_token(TOKEN + "A", RING, NOW, access_key_id=AKID)


@pytest.mark.parametrize(
    "junk",
    ["", "=", "AQ==", TOKEN + "==", TOKEN.replace("-", "+"), "é" * 40, "A" * 20000, " " + TOKEN],
)
def test_garbage_rejected(junk: str) -> None:
    with pytest.raises(InvalidSessionToken):
        open_token(junk, RING, NOW, access_key_id=AKID)


def test_non_string_rejected() -> None:
    with pytest.raises(InvalidSessionToken):
        open_token(TOKEN.encode(), RING, NOW, access_key_id=AKID)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=300).map(_text))
def test_fuzz_only_invalid_session_token(text: str) -> None:
    with pytest.raises(InvalidSessionToken):
        open_token(text, RING, NOW, access_key_id=AKID)


def test_wrong_access_key_id() -> None:
    with pytest.raises(InvalidSessionToken, match="invalid"):
        open_token(TOKEN, RING, NOW, access_key_id="ASIAOTHERKEYIDXXXXXX")
    with pytest.raises(InvalidSessionToken):
        open_token(TOKEN, RING, NOW, access_key_id="")


def test_expiry_only_after_authenticity() -> None:
    assert open_token(TOKEN, RING, NOW + 3599, access_key_id=AKID) == CLAIMS
    with pytest.raises(SessionExpired) as e:
        open_token(TOKEN, RING, NOW + 3600, access_key_id=AKID)
    assert e.value.code == "ExpiredToken" and e.value.status == 403
    assert e.value.message == "The security token included in the request is expired"
    # A forged token that is also "expired" is reported as invalid, not expired.
    bad = bytearray(_blob(TOKEN))
    bad[-1] ^= 1
    with pytest.raises(InvalidSessionToken):
        open_token(_text(bytes(bad)), RING, NOW + 10**6, access_key_id=AKID)
    # Wrong key id beats expiry too.
    with pytest.raises(InvalidSessionToken):
        open_token(TOKEN, RING, NOW + 10**6, access_key_id="ASIAOTHERKEYIDXXXXXX")


def test_messages_round_trip_and_domain_separation() -> None:
    msg = seal_message(b'{"allowed": false}', RING, NOW)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", msg)
    assert open_message(msg, RING) == b'{"allowed": false}'
    pinned = seal_message(b"x", RING, NOW, nonce=NONCE)
    assert pinned == seal_message(b"x", RING, NOW, nonce=NONCE)
    with pytest.raises(InvalidSessionToken):
        open_token(msg, RING, NOW, access_key_id=AKID)
    with pytest.raises(InvalidAuthorizationMessage) as e:
        open_message(TOKEN, RING)
    assert e.value.code == "InvalidAuthorizationMessageException" and e.value.status == 400
    # Same bytes, format byte swapped: the associated data still differs.
    blob = bytearray(_blob(TOKEN))
    blob[0] = 0x02
    with pytest.raises(InvalidAuthorizationMessage):
        open_message(_text(bytes(blob)), RING)
    with pytest.raises(InvalidAuthorizationMessage):
        open_message("x" * 10241, RING)
    with pytest.raises(InvalidAuthorizationMessage):
        open_message(msg, KeyRing([("k1", KEY_B)]))


def test_keyring_validation() -> None:
    with pytest.raises(ValueError):
        KeyRing([])
    with pytest.raises(ValueError, match="32 bytes"):
        KeyRing([("k1", b"short")])
    with pytest.raises(TypeError):
        KeyRing([("k1", "x" * 32)])  # type: ignore[list-item]
    for bad_id in ("", "x" * 17, "bad id", "ü"):
        with pytest.raises(ValueError, match="key id"):
            KeyRing([(bad_id, KEY_A)])
    with pytest.raises(ValueError, match="duplicate"):
        KeyRing([("k1", KEY_A), ("k1", KEY_B)])
    ring = KeyRing([("a" * 16, KEY_A), ("k2", KEY_B)])
    assert ring.primary_key_id == "a" * 16 and ring.key_ids == ("a" * 16, "k2")
    assert "k2" in ring and "k3" not in ring
    assert KEY_A.hex() not in repr(ring) and "k2" in repr(ring)


def test_claims_validation_and_repr() -> None:
    with pytest.raises(ValueError):
        claims(kind="root")
    with pytest.raises(ValueError):
        claims(expires_at=NOW)
    with pytest.raises(ValueError):
        claims(chain_depth=-1)
    assert "wJalr" not in repr(CLAIMS)
    assert CLAIMS.expired(NOW + 3600) and not CLAIMS.expired(NOW)
    assert replace(CLAIMS, chain_depth=2).chain_depth == 2


def test_seal_nonce_length_checked() -> None:
    with pytest.raises(ValueError):
        seal(CLAIMS, RING, NOW, nonce=b"short")
