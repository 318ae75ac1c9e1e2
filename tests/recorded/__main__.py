"""Record or check the corpus's responses (see tests/recorded/__init__.py).

.venv/bin/python -m tests.recorded --record   # run the corpus, write responses.jsonl.gz
.venv/bin/python -m tests.recorded            # run it and compare (what the test does)
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from tests.recorded import corpus, recording


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.recorded")
    ap.add_argument(
        "--record",
        action="store_true",
        help="write the recording (deliberate behaviour changes only)",
    )
    ap.add_argument("--limit", type=int, default=5, help="differences to show when comparing")
    args = ap.parse_args(argv)
    if args.record and not corpus.MATERIAL.exists():
        corpus.MATERIAL.write_text(json.dumps(corpus.make_material(), indent=1) + "\n")
        print(f"made {corpus.MATERIAL}")
    start = time.monotonic()
    records = recording.run_corpus()
    took = time.monotonic() - start
    missing = recording.coverage(records)
    ops = {(r.get("service"), r.get("op")) for r in records if r.get("op") not in (None, "-")}
    print(f"{len(records)} requests, {len(ops)} operations, {took:.1f} s")
    if any(missing.values()):
        print(f"served operations the corpus does not call: {missing}")
    if args.record:
        if any(missing.values()):
            print("not recorded: cover every served operation first")
            return 1
        recording.write(records)
        print(f"wrote {recording.RECORDING} ({recording.RECORDING.stat().st_size} bytes)")
        return 0
    diffs = recording.differences(recording.read(), records, limit=args.limit)
    for d in diffs:
        print(d, end="\n\n")
    print("same as the recording" if not diffs else "DIFFERENT from the recording")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
