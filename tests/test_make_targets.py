"""`make run` and `make bench` say what they do before the long, silent
install (a dry run with the install stamp pointed at a missing file)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ANNOUNCED = "rolegate: installing the pinned set"


def dry_run(target: str, stamp: Path) -> subprocess.CompletedProcess[str]:
    """``make -n target`` with the install stamp at ``stamp``; it must succeed."""
    out = subprocess.run(
        ["make", "-n", target, f"STAMP={stamp}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out


@pytest.mark.parametrize("target", ["run", "bench"])
def test_the_install_is_announced_before_it_runs(tmp_path: Path, target: str) -> None:
    out = dry_run(target, tmp_path / "missing-stamp")
    lines = out.stdout.splitlines()
    # -n shows each command and runs those that call make: the message is
    # the line the echo printed, not the command that holds it.
    said = next(i for i, line in enumerate(lines) if line.startswith(ANNOUNCED))
    pip = next(i for i, line in enumerate(lines) if "pip install" in line)
    assert said < pip


@pytest.mark.parametrize("target", ["run", "bench"])
def test_nothing_is_announced_when_installed(tmp_path: Path, target: str) -> None:
    stamp = tmp_path / "fresh-stamp"
    stamp.touch()  # newer than pyproject.toml and constraints.txt
    out = dry_run(target, stamp)
    assert not any(line.startswith(ANNOUNCED) for line in out.stdout.splitlines())
    assert "pip install" not in out.stdout
