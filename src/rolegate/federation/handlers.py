"""STS federation handlers: AssumeRoleWithSAML and AssumeRoleWithWebIdentity.

``HANDLERS`` is merged into the STS table by the server. The per-action
modules verify the assertion or token; the steps both share after that are
in ``assume_federated``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.federation.assume_saml import assume_role_with_saml
from rolegate.federation.assume_web_identity import assume_role_with_web_identity

HANDLERS: dict[str, Callable[[CallContext, dict[str, Any]], dict[str, Any] | None]] = {
    "AssumeRoleWithSAML": assume_role_with_saml,
    "AssumeRoleWithWebIdentity": assume_role_with_web_identity,
}
