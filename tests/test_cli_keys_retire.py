"""`rolegate keys retire` refuses what it cannot honestly do: a key id that
does not exist (it printed {"retired": ...} and exited 0), and the only
active key (the server then silently made a new one)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from rolegate.cli import main
from rolegate.store import LastActiveSealingKey, Store


def _store_with_key(data_dir: Path) -> str:
    store = Store.open(data_dir=data_dir, database_url=None)
    try:
        store.ensure_sealing_key("k1", secrets.token_bytes(32))
    finally:
        store.close()
    return "k1"


def _states(data_dir: Path) -> dict[str, bool]:
    store = Store.open(data_dir=data_dir, database_url=None)
    try:
        return dict(store.sealing_key_states())
    finally:
        store.close()


def _retire(data_dir: Path, key_id: str) -> int:
    return main(["keys", "retire", key_id, "--data-dir", str(data_dir), "--database-url", ""])


def test_an_unknown_key_id_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store_with_key(tmp_path)
    capsys.readouterr()
    assert _retire(tmp_path, "knope") == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert "knope" in out.err and "no sealing key" in out.err
    assert _states(tmp_path) == {"k1": False}


def test_the_only_active_key_is_not_retired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = _store_with_key(tmp_path)
    capsys.readouterr()
    assert _retire(tmp_path, key) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert "rotate first: rolegate keys rotate" in out.err
    assert _states(tmp_path) == {key: False}


def test_after_a_rotation_the_old_key_retires(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = _store_with_key(tmp_path)
    args = ["--data-dir", str(tmp_path), "--database-url", ""]
    assert main(["keys", "rotate", *args]) == 0
    new = json.loads(capsys.readouterr().out)["added"]
    assert _retire(tmp_path, key) == 0
    assert json.loads(capsys.readouterr().out) == {"retired": key}
    assert _states(tmp_path) == {key: True, new: False}
    # ...and now the new one is the last active key.
    assert _retire(tmp_path, new) == 1
    assert "rotate first" in capsys.readouterr().err
    # Retiring a retired key again changes nothing and says so.
    assert _retire(tmp_path, key) == 0
    assert "already retired" in capsys.readouterr().err


def test_store_refuses_the_last_active_key_only_when_asked(tmp_path: Path) -> None:
    store = Store.open(data_dir=tmp_path, database_url=None)
    try:
        store.ensure_sealing_key("k1", secrets.token_bytes(32))
        with pytest.raises(LastActiveSealingKey):
            store.retire_sealing_key("k1", keep_one_active=True)
        assert store.retire_sealing_key("k1") is True  # the default is unchanged
    finally:
        store.close()
