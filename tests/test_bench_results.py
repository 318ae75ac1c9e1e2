"""`make bench` writes where git does not look: its runs go to the ignored
bench/results/, the committed reference figures live in bench/reference/,
which no bench writes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)


def test_results_are_ignored_and_untracked() -> None:
    assert _git("check-ignore", "-q", "bench/results/sts.json").returncode == 0
    assert _git("ls-files", "bench/results").stdout == ""


def test_reference_figures_are_committed_and_not_written_by_any_bench() -> None:
    tracked = _git("ls-files", "bench/reference").stdout.split()
    assert "bench/reference/sts.json" in tracked and len(tracked) >= 5
    for script in (REPO / "bench").glob("*.py"):
        text = script.read_text()
        # A bench may name the folder (run.py prints where the reference
        # figures are) but never builds a path into it to write.
        assert not re.search(r"[\"']reference[\"']\s*/", text), script.name
