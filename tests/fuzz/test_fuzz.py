"""The fuzzer in CI: a few thousand seeded cases in process and a few
hundred against a real ``rolegate serve``; no 5xx, no traceback. ``make
fuzz`` runs the same driver for a million (tests/fuzz/driver.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.fuzz.driver import ALLOWED_5XX, Case, fuzz, replay

SEED = os.environ.get("FUZZ_SEED", "20261208")
IN_PROCESS_COUNT = int(os.environ.get("FUZZ_CI_COUNT", "3000"))
SERVER_COUNT = int(os.environ.get("FUZZ_CI_SERVER_COUNT", "300"))


def _report(failures: list[Case], out: Path) -> str:
    lines = [f"{len(failures)} failing cases written to {out} (replay: python -m tests.fuzz "
             f"--replay {out})"]  # fmt: skip
    for case in failures[:5]:
        lines.append(f"#{case.index} {case.service}:{case.op} ({case.mode}) -> {case.status}")
        lines.append((case.problem or case.response)[-1500:])
    return "\n".join(lines)


def test_in_process(tmp_path: Path) -> None:
    out = tmp_path / "failures.jsonl"
    summary = fuzz(seed=SEED, count=IN_PROCESS_COUNT, out=out, printer=lambda _: None)
    assert summary.sent == IN_PROCESS_COUNT
    assert not summary.failures, _report(summary.failures, out)
    # The cases reach handlers: successes and handler-level errors, not only
    # validation and authentication failures.
    assert summary.codes["OK"] > IN_PROCESS_COUNT // 20
    assert summary.codes["NoSuchEntity"] + summary.codes["InvalidInput"] > 0


def test_real_server(tmp_path: Path) -> None:
    out = tmp_path / "failures.jsonl"
    summary = fuzz(seed=SEED, count=SERVER_COUNT, start=10**6, server=True, out=out,
                   printer=lambda _: None)  # fmt: skip
    assert summary.sent + summary.codes["unsendable"] == SERVER_COUNT
    assert not summary.failures, _report(summary.failures, out)


def test_failures_replay(tmp_path: Path) -> None:
    """A recorded case replays whole: here one that passes, so nothing fails."""
    case = Case(seed="x", index=0, service="sts", op="GetCallerIdentity", mode="admin",
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                body_b64="QWN0aW9uPUdldENhbGxlcklkZW50aXR5JlZlcnNpb249MjAxMS0wNi0xNQ==")  # fmt: skip
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(case.__dict__) + "\n")
    lines: list[str] = []
    assert replay(path, printer=lines.append) == 0
    assert lines[-1] == "replayed 1: 0 still fail"


@pytest.mark.parametrize(("status", "code"), sorted(ALLOWED_5XX))
def test_only_deliberate_5xx_are_allowed(status: int, code: str) -> None:
    assert status >= 500 and code == "NotImplemented"
