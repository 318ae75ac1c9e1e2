"""Fixtures the federation tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .oidc_issuer import OidcIssuer


@pytest.fixture
def issuer() -> Iterator[OidcIssuer]:
    """A loopback OIDC issuer for one test (test_handlers_oidc keeps one per module)."""
    with OidcIssuer() as iss:
        yield iss
