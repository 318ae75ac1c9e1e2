"""`make bench`: run every bench/bench_*.py in turn; each prints its figures
and writes JSON to bench/results/<name>.json.

bench/results/ is ignored by git, so a run never rewrites committed files;
the reference figures the repository keeps are in bench/reference/, which no
bench writes (copy a run's file there, on purpose, to update one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    (HERE / "results").mkdir(exist_ok=True)
    only = set(sys.argv[1:])
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        print(f"== {script.name}", flush=True)
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        if rc:
            failed.append(script.name)
    print(
        f"results: {(HERE / 'results').relative_to(HERE.parent)}/ (not tracked by git); "
        f"reference figures: {(HERE / 'reference').relative_to(HERE.parent)}/"
    )
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
