"""AWS managed policies (``arn:aws:iam::aws:policy/...``), pre-loaded into the
pseudo-account ``aws`` at start-up from ``aws_managed_policies.json``.

``ensure_aws_managed_policies`` is idempotent and safe to run on every node
at every start: ids are derived from the policy name (every deployment and
every node agrees on them without coordination), an unchanged policy is left
alone, and a changed document becomes a new default version, as AWS itself
publishes updates.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from rolegate.principals.entities import AWS_MANAGED_ACCOUNT, aws_managed_policy_arn, iso
from rolegate.store import Conflict

MAX_VERSIONS = 5
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@cache
def definitions() -> tuple[dict[str, Any], ...]:
    """The bundled policies: ``{name, path, description, document}`` (document as text)."""
    raw = resources.files("rolegate.iam").joinpath("aws_managed_policies.json").read_text("utf-8")
    out = []
    for p in json.loads(raw)["policies"]:
        out.append({**p, "document": json.dumps(p["document"], indent=4)})
    return tuple(out)


def policy_arn(path: str, name: str) -> str:
    return aws_managed_policy_arn(path, name)


def policy_id(name: str) -> str:
    """``ANPA`` + 17 characters derived from the name: stable across deployments."""
    digest = hashlib.sha256(f"rolegate-aws-managed:{name}".encode()).digest()
    return "ANPA" + "".join(_ID_ALPHABET[b % 32] for b in digest[:17])


def ensure_aws_managed_policies(store: Any, now: datetime | None = None) -> None:
    """Create or update the AWS managed policies in account ``aws``."""
    # Start-up code in the shell, not a request handler: the wall clock is fine.
    when = now or datetime.now(UTC)
    with store.transaction() as tx:
        for p in definitions():
            _ensure_one(tx, p, when)


def _ensure_one(tx: Any, p: dict[str, Any], when: datetime) -> None:
    stamp = iso(when)

    name, path, document = p["name"], p["path"], p["document"]
    existing = tx.get(AWS_MANAGED_ACCOUNT, "policy", name)
    if existing is None:
        try:
            tx.insert(
                AWS_MANAGED_ACCOUNT,
                "policy",
                name,
                entity_id=policy_id(name),
                arn=policy_arn(path, name),
                path=path,
                data={
                    "description": p.get("description"),
                    "default_version": "v1",
                    "versions": {"v1": {"document": document, "create_date": stamp}},
                    "next_version": 2,
                    "tags": [],
                },
                # One instant for the policy and its first version: a
                # CreateDate after the UpdateDate would look corrupt.
                now=when,
            )
        except Conflict:
            pass  # another node inserted it first; same id, same content
        return
    data = existing.data
    current = (data.get("versions") or {}).get(data.get("default_version"), {})
    if current.get("document") == document and data.get("description") == p.get("description"):
        return
    versions = dict(data.get("versions") or {})
    number = int(data.get("next_version") or len(versions) + 1)
    version_id = f"v{number}"
    versions[version_id] = {"document": document, "create_date": stamp}
    # Keep within AWS's five versions by dropping the oldest non-default ones.
    for old in sorted(versions, key=lambda v: int(v[1:])):
        if len(versions) <= MAX_VERSIONS:
            break
        if old != version_id:
            del versions[old]
    tx.update(
        existing,
        {
            **data,
            "description": p.get("description"),
            "versions": versions,
            "default_version": version_id,
            "next_version": number + 1,
        },
    )
