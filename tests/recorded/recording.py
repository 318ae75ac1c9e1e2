"""Run the corpus, normalise every exchange and its audit events, and
compare a run with the recording (``responses.jsonl.gz``)."""

from __future__ import annotations

import difflib
import gzip
import json
import re
from pathlib import Path
from typing import Any

from tests.recorded import corpus
from tests.recorded.harness import Harness, dumps, harness, served_operations
from tests.recorded.normalise import Normaliser

HERE = Path(__file__).resolve().parent
RECORDING = HERE / "responses.jsonl.gz"
# The response headers that matter; x-amzn-requestid is checked to be the
# body's and the audit's request id (it normalises to <request-id>).
KEPT_HEADERS = ("content-type", "x-amzn-requestid", "x-amzn-errortype", "x-amzn-query-error")


def run_corpus() -> list[dict[str, Any]]:
    """The corpus's exchanges, normalised, one dict per request."""
    with harness() as h:
        corpus.run(h)
        events = h.audit_events()
        return normalise_run(h, events)


def normalise_run(h: Harness, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_request: dict[str, list[dict[str, Any]]] = {}
    for ev in events:
        by_request.setdefault(str(ev.get("requestID")), []).append(ev)
    norm = Normaliser()
    out = []
    for ex in h.exchanges:
        rid = ex.request_id
        headers = {k: norm.text(v, rid) for k, v in sorted(ex.headers.items()) if k in KEPT_HEADERS}
        try:
            body: Any = ex.body.decode("utf-8")
        except UnicodeDecodeError:
            body = {"base64": __import__("base64").b64encode(ex.body).decode()}
        else:
            body = norm.text(body, rid)
        audit = [norm.value(ev, rid) for ev in sorted(by_request.pop(rid, []), key=_event_order)]
        out.append(
            {
                "i": ex.index,
                "name": ex.name,
                "service": ex.service,
                "op": ex.op,
                "caller": ex.caller,
                "status": ex.status,
                "headers": headers,
                "body": body,
                "audit": audit,
            }
        )
    # Events no request of the corpus asked for (there should be none).
    for rid, evs in sorted(by_request.items()):
        out.append({"i": len(out), "name": "unmatched audit events", "request": rid,
                    "audit": [norm.value(e, rid) for e in evs]})  # fmt: skip
    return out


def _event_order(ev: dict[str, Any]) -> bool:
    """A cross-account call's events: the caller's account's first, then the
    other's (random account ids must not decide); otherwise as stored."""
    return ev.get("recipientAccountId") != (ev.get("userIdentity") or {}).get("accountId")


def coverage(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Served operations the corpus does not call (should be empty)."""
    called = {(r.get("service"), r.get("op")) for r in records}
    return {
        svc: sorted(op for op in ops if (svc, op) not in called)
        for svc, ops in served_operations().items()
    }


def write(records: list[dict[str, Any]], path: Path = RECORDING) -> None:
    text = "".join(dumps(r) + "\n" for r in records)
    with gzip.GzipFile(path, "wb", mtime=0) as f:  # mtime=0: same bytes for the same recording
        f.write(text.encode("utf-8"))


def read(path: Path = RECORDING) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


# ------------------------------------------------------------------- diffs


def _pretty(record: dict[str, Any]) -> list[str]:
    """A record as lines for a readable diff: XML split at tags, JSON indented."""
    lines = [f"status: {record.get('status')}", f"headers: {dumps(record.get('headers'))}"]
    body = record.get("body")
    if isinstance(body, str) and body.startswith("<"):
        lines += ["body:"] + ["  " + x for x in re.sub(r">\s*<", ">\n<", body).splitlines()]
    elif isinstance(body, str):
        try:
            lines += ["body:"] + [
                "  " + x for x in json.dumps(json.loads(body), indent=1).splitlines()
            ]
        except ValueError:
            lines += ["body: " + body]
    else:
        lines += [f"body: {dumps(body)}"]
    for n, ev in enumerate(record.get("audit") or []):
        lines += [f"audit[{n}]:"] + [
            "  " + x for x in json.dumps(ev, indent=1, sort_keys=True).splitlines()
        ]
    return lines


def differences(expected: list[dict[str, Any]], actual: list[dict[str, Any]],
                limit: int = 5) -> list[str]:  # fmt: skip
    """Readable reports of the first ``limit`` records that differ."""
    reports = []
    if len(expected) != len(actual):
        reports.append(f"the run made {len(actual)} records, the recording has {len(expected)}")
    for n in range(max(len(expected), len(actual))):
        e = expected[n] if n < len(expected) else {}
        a = actual[n] if n < len(actual) else {}
        if e == a:
            continue
        name = a.get("name") or e.get("name")
        head = f"#{n} {name} ({a.get('service', e.get('service'))}:{a.get('op', e.get('op'))} as {a.get('caller', e.get('caller'))})"
        if e.get("name") != a.get("name"):
            head += f" - the recording has {e.get('name')!r} here"
        diff = difflib.unified_diff(_pretty(e), _pretty(a), "recorded", "now", n=2, lineterm="")
        reports.append(head + "\n" + "\n".join(diff))
        if len(reports) >= limit:
            break
    return reports
