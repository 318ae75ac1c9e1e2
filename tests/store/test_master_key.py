"""The master key: sources, the 0600 key file, race-safe creation, mismatch detection, AEAD."""

from __future__ import annotations

import base64
import os
import stat
import threading
from pathlib import Path

import pytest

from rolegate.store import DecryptionError, MasterKeyError, Store
from rolegate.store.crypto import MASTER_KEY_ENV, Sealer, load_master_key

from .conftest import Target


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)


def test_key_file_created_0600_and_reused(target: Target) -> None:
    store = target.open()
    path = target.data_dir / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text())) == 32
    ct = store.encrypt(b"hello")
    store.close()
    again = target.open()
    assert again.decrypt(ct) == b"hello"
    assert not list(target.data_dir.glob(".master.key.*"))  # no temp files left


def test_key_file_creation_race(tmp_path: Path) -> None:
    keys: list[bytes] = []
    barrier = threading.Barrier(8)

    def make() -> None:
        barrier.wait()
        keys.append(load_master_key(None, tmp_path, dialect="sqlite"))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600


def test_explicit_and_env_keys_take_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = os.urandom(32)
    assert load_master_key(explicit, tmp_path, dialect="sqlite") == explicit
    env = os.urandom(32)
    monkeypatch.setenv(MASTER_KEY_ENV, base64.b64encode(env).decode())
    assert load_master_key(None, tmp_path, dialect="sqlite") == env
    assert not (tmp_path / "master.key").exists()
    monkeypatch.setenv(MASTER_KEY_ENV, base64.b64encode(b"short").decode())
    with pytest.raises(MasterKeyError, match="32 bytes"):
        load_master_key(None, tmp_path, dialect="sqlite")
    monkeypatch.setenv(MASTER_KEY_ENV, "not base64 !!")
    with pytest.raises(MasterKeyError, match="base64"):
        load_master_key(None, tmp_path, dialect="sqlite")
    with pytest.raises(MasterKeyError):
        load_master_key(b"x" * 31, tmp_path, dialect="sqlite")


def test_postgres_without_key_source_is_a_clear_error() -> None:
    with pytest.raises(MasterKeyError, match=MASTER_KEY_ENV):
        load_master_key(None, None, dialect="postgresql")


def test_wrong_master_key_is_refused(target: Target) -> None:
    target.open(master_key=b"A" * 32).close()
    with pytest.raises(MasterKeyError, match="same master key"):
        target.open(master_key=b"B" * 32)
    target.open(master_key=b"A" * 32)


def test_encrypt_decrypt_binds_header_and_context() -> None:
    s = Sealer(os.urandom(32))
    ct = s.encrypt(b"secret", context=b"akid:AKIA1")
    assert ct.startswith(f"rg1.{s.kid}.") and "secret" not in ct
    assert s.decrypt(ct, context=b"akid:AKIA1") == b"secret"
    assert s.encrypt(b"secret") != s.encrypt(b"secret")  # random nonces
    with pytest.raises(DecryptionError):
        s.decrypt(ct, context=b"akid:AKIA2")  # moved to another row
    with pytest.raises(DecryptionError):
        Sealer(os.urandom(32)).decrypt(ct, context=b"akid:AKIA1")  # other key
    version, kid, body = ct.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    for bad in (f"{version}.{kid}.{flipped}", f"rg2.{kid}.{body}", "garbage", f"rg1.{kid}.!!", ""):
        with pytest.raises(DecryptionError):
            s.decrypt(bad, context=b"akid:AKIA1")
    with pytest.raises(TypeError):
        s.encrypt("text")  # type: ignore[arg-type]
    with pytest.raises(MasterKeyError):
        Sealer(b"short")


def test_store_encrypt_roundtrip(store: Store) -> None:
    ct = store.encrypt(b"\x00\xffbinary", context=b"c")
    assert store.decrypt(ct, context=b"c") == b"\x00\xffbinary"
    with pytest.raises(DecryptionError):
        store.decrypt(ct)
