"""``rolegate policy evaluate|validate``: the policy engine from the command line.

- ``rolegate policy evaluate [FILE]`` reads one JSON case (testdata/policy format:
  its ``policies`` and ``request``) from FILE or stdin and prints
  ``{"decision": ..., "matched": [...]}``.
- ``rolegate policy evaluate --jsonl FILE`` evaluates one case a line and prints
  one result a line, in order, each with the case's ``id``.
- ``rolegate policy validate FILE [--kind K] [--json]`` prints ``ok`` or the
  MalformedPolicyDocument message (AWS's words) and, on the next line, where:
  ``at line L, column C (parser's words)`` for text that is not JSON, ``at
  Statement[0].Condition.StringEquals`` (the JSON path) for the rest; exit
  status 0 / 1. ``--json`` prints the same as one object.

``register(subparsers)`` adds the ``policy`` command to a parent argparse CLI;
``main(argv)`` runs it standalone (``python -m rolegate.policy.cli``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from rolegate.errors import MalformedPolicyDocument
from rolegate.policy import jsontext
from rolegate.policy.cases import evaluate_case
from rolegate.policy.document import PolicyKind, parse_policy
from rolegate.policy.elements import PolicySyntaxError

__all__ = ["register", "main", "build_parser"]

# A case wraps its policies in three more levels (case, policies, list).
_CASE_DEPTH = jsontext.MAX_DEPTH + 3


def _read(path: str | None) -> str:
    if path is None or path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def _result(case: Any) -> dict[str, Any]:
    if not isinstance(case, dict):
        raise ValueError("a case must be a JSON object")
    return evaluate_case(case).as_dict()


def _cmd_evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.jsonl:
        status = 0
        with open(args.jsonl, encoding="utf-8") if args.jsonl != "-" else _nullctx(sys.stdin) as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                case_id: Any = None
                try:
                    case = jsontext.loads(line, max_depth=_CASE_DEPTH)
                    case_id = case.get("id") if isinstance(case, dict) else None
                    res = _result(case)
                    out.write(json.dumps({"id": case_id, **res}) + "\n")
                except (MalformedPolicyDocument, ValueError) as e:
                    status = 1
                    msg = e.message if isinstance(e, MalformedPolicyDocument) else str(e)
                    out.write(json.dumps({"id": case_id, "error": msg, "line": lineno}) + "\n")
        return status
    try:
        case = jsontext.loads(_read(args.file), max_depth=_CASE_DEPTH)
        res = _result(case)
    except (MalformedPolicyDocument, ValueError) as e:
        err.write((e.message if isinstance(e, MalformedPolicyDocument) else str(e)) + "\n")
        return 1
    out.write(json.dumps(res) + "\n")
    return 0


class _nullctx:
    def __init__(self, f: TextIO) -> None:
        self.f = f

    def __enter__(self) -> TextIO:
        return self.f

    def __exit__(self, *exc: object) -> None:
        return None


def _cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        text = _read(args.file)
    except OSError as e:
        err.write(f"{e}\n")
        return 2
    try:
        parse_policy(text, PolicyKind(args.kind))
    except MalformedPolicyDocument as e:
        where = e.where() if isinstance(e, PolicySyntaxError) else ""
        if args.json:
            out.write(json.dumps(_error_fields(e)) + "\n")
        else:
            # AWS's message first (what the API answers), then where it applies.
            out.write(e.message + "\n" + (f"  at {where}\n" if where else ""))
        return 1
    out.write(json.dumps({"ok": True}) + "\n" if args.json else "ok\n")
    return 0


def _error_fields(e: MalformedPolicyDocument) -> dict[str, Any]:
    if isinstance(e, PolicySyntaxError):
        return {
            "error": e.message,
            "path": e.path,
            "line": e.line,
            "column": e.column,
            "detail": e.detail,
        }
    return {"error": e.message, "path": None, "line": None, "column": None, "detail": None}


def _add_commands(policy: argparse.ArgumentParser) -> None:
    sub = policy.add_subparsers(dest="policy_command", required=True)
    ev = sub.add_parser("evaluate", help="evaluate a JSON case (testdata/policy format)")
    ev.add_argument("file", nargs="?", help="case file (default: stdin)")
    ev.add_argument(
        "--jsonl", metavar="FILE", help="evaluate one case a line, print one result a line"
    )
    ev.set_defaults(policy_func=_cmd_evaluate)
    va = sub.add_parser("validate", help="validate a policy document")
    va.add_argument("file", help="policy document (- for stdin)")
    va.add_argument("--kind", default="identity", choices=[k.value for k in PolicyKind])
    va.add_argument(
        "--json", action="store_true", help="print {error, path, line, column, detail} as JSON"
    )
    va.set_defaults(policy_func=_cmd_validate)


def _run(args: argparse.Namespace) -> int:
    return int(args.policy_func(args, sys.stdout, sys.stderr))


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``policy`` command to a parent CLI's ``add_subparsers()`` object.

    The parsed namespace gets ``func`` (``func(args) -> int``).
    """
    policy: argparse.ArgumentParser = subparsers.add_parser(
        "policy", help="evaluate or validate IAM policies"
    )
    _add_commands(policy)
    policy.set_defaults(func=_run)
    return policy


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rolegate")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry: accepts ``policy evaluate ...`` or just ``evaluate ...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "policy":
        argv = ["policy", *argv]
    args = build_parser().parse_args(argv)
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
