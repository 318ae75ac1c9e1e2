"""Every case of the shared corpus, through the Python API and the --jsonl CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rolegate.policy.cases import evaluate_case

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
CASES_FILE = TESTDATA / "policy" / "sample_cases.jsonl"
CASES = [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_python_api(case):
    result = evaluate_case(case)
    assert result.decision.value == case["expected"], case["why"]
    if case["expected"] == "explicitDeny":
        assert result.matched and all(m.effect == "Deny" for m in result.matched)
    elif case["expected"] == "allow":
        assert result.matched and all(m.effect == "Allow" for m in result.matched)
    else:
        assert result.matched == ()


def test_cases_through_jsonl_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "rolegate.policy.cli", "evaluate", "--jsonl", str(CASES_FILE)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["id"] for x in lines] == [c["id"] for c in CASES]
    for out, case in zip(lines, CASES, strict=True):
        assert out["decision"] == case["expected"], case["id"]
        assert isinstance(out["matched"], list)
        for mst in out["matched"]:
            assert set(mst) == {"policy_id", "source_type", "index", "sid", "effect"}
