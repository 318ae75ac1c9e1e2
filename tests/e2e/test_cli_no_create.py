"""`rolegate audit|keys|roles` never create state: no store, no master.key.

Only serve, run-local and bootstrap may create a store; the other commands
name what is missing, exit non-zero and leave the data dir as it was."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import ROLEGATE

COMMANDS = [
    ["audit", "tail"],
    ["audit", "tail", "--json"],
    ["audit", "query", "--event-name", "AssumeRole"],
    ["keys", "list"],
    ["keys", "rotate"],
    ["keys", "retire", "k0000"],
    ["roles", "revoke-sessions", "123456789012", "app"],
]
IDS = [" ".join(c) for c in COMMANDS]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROLEGATE_")}
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ROLEGATE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _tree(p: Path) -> list[str]:
    return sorted(str(x.relative_to(p)) for x in p.rglob("*")) if p.exists() else []


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_a_data_dir_without_a_store_is_refused_and_left_alone(
    tmp_path: Path, cmd: list[str]
) -> None:
    data = tmp_path / "nowhere"
    out = _run([*cmd, "--data-dir", str(data)], _env())
    assert out.returncode != 0
    assert str(data.resolve() / "rolegate.db") in out.stderr
    assert "Traceback" not in out.stderr
    assert not data.exists()


def test_an_empty_existing_data_dir_stays_empty(tmp_path: Path) -> None:
    out = _run(["keys", "list", "--data-dir", str(tmp_path)], _env())
    assert out.returncode != 0 and "rolegate.db" in out.stderr
    assert _tree(tmp_path) == []


@pytest.fixture(scope="module")
def store_with_env_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store whose master key lives only in ROLEGATE_MASTER_KEY, as on a server."""
    data = tmp_path_factory.mktemp("store") / "data"
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    boot = _run(["bootstrap", "--data-dir", str(data), "--json"], _env(ROLEGATE_MASTER_KEY=key))
    assert boot.returncode == 0, boot.stderr
    assert not (data / "master.key").exists()
    return data, key


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_a_missing_master_key_is_refused_without_creating_one(
    store_with_env_key: tuple[Path, str], cmd: list[str]
) -> None:
    data, _ = store_with_env_key
    before = _tree(data)
    out = _run([*cmd, "--data-dir", str(data)], _env())
    assert out.returncode != 0
    assert "master key" in out.stderr and "ROLEGATE_MASTER_KEY" in out.stderr
    assert str(data.resolve() / "master.key") in out.stderr
    assert "Traceback" not in out.stderr
    assert not (data / "master.key").exists()
    assert _tree(data) == before


def test_a_wrong_master_key_is_refused_clearly(store_with_env_key: tuple[Path, str]) -> None:
    data, _ = store_with_env_key
    wrong = base64.b64encode(secrets.token_bytes(32)).decode()
    out = _run(["audit", "tail", "--data-dir", str(data)], _env(ROLEGATE_MASTER_KEY=wrong))
    assert out.returncode != 0
    assert "master key" in out.stderr and "Traceback" not in out.stderr


def test_the_right_key_reads_the_store(store_with_env_key: tuple[Path, str]) -> None:
    data, key = store_with_env_key
    out = _run(["keys", "list", "--data-dir", str(data)], _env(ROLEGATE_MASTER_KEY=key))
    assert out.returncode == 0, out.stderr
    assert '"key_id"' in out.stdout or out.stdout.strip() == "[]"
    out = _run(["audit", "tail", "--data-dir", str(data)], _env(ROLEGATE_MASTER_KEY=key))
    assert out.returncode == 0, out.stderr


def test_bootstrap_still_creates(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    out = _run(["bootstrap", "--data-dir", str(data), "--json"], _env())
    assert out.returncode == 0, out.stderr
    assert (data / "rolegate.db").exists() and (data / "master.key").exists()
