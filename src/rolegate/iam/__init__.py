"""The IAM service: ``HANDLERS`` maps each Action name to its handler
(``handler(ctx, params) -> dict | None``, see ``rolegate.context``).

``HANDLERS`` is assembled on first access (PEP 562 module ``__getattr__``)
rather than at import, so importing one submodule (``rolegate.iam.principals``
on the authoriser's hot path, ``rolegate.iam.lookup`` from a sibling) does not
import every other handler module, and the optional modules written
separately (MFA, providers, simulation, authorization details) can import
the shared helpers here without an import cycle.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

# Modules that must exist: their absence is a packaging bug.
_CORE_MODULES = (
    "users",
    "groups",
    "access_keys",
    "roles",
    "policies",
    "inline",
    "attach",
    "tags",
    "login_profiles",
    "password_policy",
    "instance_profiles",
    "account",
    "credential_report",
    "service_linked_roles",
    "org_root_features",
    "signing_certificates",
    "ssh_public_keys",
    "server_certificates",
    "service_specific_credentials",
    "last_accessed",
    "service_access",
    "sts_preferences",
)
# Written in parallel by another engineer; tolerated missing (not yet landed,
# or trimmed from a build), never silently broken: any other import error
# propagates.
_OPTIONAL_MODULES = ("mfa", "providers", "simulate", "authdetails")

_handlers: dict[str, Callable[..., Any]] | None = None


def _load(module: str, *, optional: bool) -> dict[str, Callable[..., Any]]:
    full = f"{__name__}.{module}"
    try:
        mod = importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if optional and exc.name == full:
            return {}
        raise
    return dict(mod.HANDLERS)


def _build() -> dict[str, Callable[..., Any]]:
    merged: dict[str, Callable[..., Any]] = {}
    for module, optional in [(m, False) for m in _CORE_MODULES] + [
        (m, True) for m in _OPTIONAL_MODULES
    ]:
        for action, handler in _load(module, optional=optional).items():
            if action in merged:
                raise RuntimeError(f"IAM action {action} is defined twice (again in {module})")
            merged[action] = handler
    return merged


def __getattr__(name: str) -> Any:
    global _handlers
    if name == "HANDLERS":
        if _handlers is None:
            _handlers = _build()
        return _handlers
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
