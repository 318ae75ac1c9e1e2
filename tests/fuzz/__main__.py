"""``python -m tests.fuzz``: the fuzzer from the command line (``make fuzz``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.fuzz.driver import fuzz, replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--seed", default="1", help="cases are a function of seed and index")
    parser.add_argument("--count", type=int, default=10_000, help="in-process requests")
    parser.add_argument("--start", type=int, default=0, help="first case index")
    parser.add_argument("--server-count", type=int, default=0,
                        help="requests to a real `rolegate serve` after the in-process run")  # fmt: skip
    parser.add_argument("--reset-every", type=int, default=25_000,
                        help="a fresh data dir every N in-process requests (bounds the store)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures.jsonl"),
                        help="failing cases, one JSON object a line (appended)")  # fmt: skip
    parser.add_argument("--progress", type=float, default=10.0, help="seconds between reports")
    parser.add_argument("--replay", type=Path, help="resend the cases of a failures file")
    parser.add_argument("--replay-server", action="store_true", help="replay against a server")
    args = parser.parse_args(argv)
    if args.replay:
        return 1 if replay(args.replay, server=args.replay_server) else 0
    failed = 0
    runs = [("in-process", False, args.count, args.start)]
    if args.server_count:
        # Indices past the in-process run: the server sees other cases.
        runs.append(("server", True, args.server_count, args.start + args.count))
    for name, server, count, start in runs:
        if count <= 0:
            continue
        print(f"[{name}] seed {args.seed}, cases {start}..{start + count - 1}", flush=True)
        summary = fuzz(
            seed=args.seed, count=count, start=start, server=server,
            reset_every=args.reset_every, out=args.out, progress=args.progress,
            printer=lambda line: print(line, flush=True),
        )  # fmt: skip
        print(f"[{name}] done: {summary.line()}", flush=True)
        print(f"[{name}] top answers: {summary.codes.most_common(12)}", flush=True)
        failed += len(summary.failures)
    if failed:
        print(f"{failed} failing cases appended to {args.out}; "
              f"replay with: python -m tests.fuzz --replay {args.out}", flush=True)  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
