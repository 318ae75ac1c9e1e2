"""Organizations tests share the STS handler-level world (store, key ring, authoriser)."""

from tests.sts.conftest import world  # noqa: F401  (re-exported fixture)
