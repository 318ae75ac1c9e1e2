"""IAM identity providers: OpenID Connect and SAML 2.0 (reference §5.2, §2.6-2.7).

The handlers live in :mod:`rolegate.iam.oidc_providers` and
:mod:`rolegate.iam.saml_providers` (shared pieces in
:mod:`rolegate.iam.provider_common`); this module merges their ``HANDLERS``
and re-exports their public names.

These handlers only *register* providers. The federation code that later
verifies web-identity tokens and SAML assertions reads what is stored here
through ``rolegate.principals.providers`` (``oidc_provider_by_url``,
``saml_provider_facts``), so the expensive work (parsing SAML metadata,
extracting signing certificates) is done once, at registration, and bad
metadata is rejected up front.

Store entities (``docs/contracts.md``):
- ``oidc-provider``: name = the URL without its scheme (``host/path``);
  data ``{url, scheme, client_ids, thumbprints, tags}``.
- ``saml-provider``: name = the provider name;
  data ``{metadata, entity_id, certificates, valid_until, tags}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolegate.context import CallContext
from rolegate.iam import oidc_providers, saml_providers
from rolegate.iam.oidc_providers import (
    MAX_CLIENT_ID_LEN,
    MAX_CLIENT_IDS,
    MAX_OIDC_PROVIDERS,
    MAX_THUMBPRINTS,
    OIDC_AUDIT_TYPE,
    add_client_id_to_open_id_connect_provider,
    create_open_id_connect_provider,
    delete_open_id_connect_provider,
    get_open_id_connect_provider,
    list_open_id_connect_providers,
    parse_oidc_url,
    remove_client_id_from_open_id_connect_provider,
    update_open_id_connect_provider_thumbprint,
)
from rolegate.iam.saml_providers import (
    DEFAULT_SAML_VALIDITY,
    MAX_SAML_PROVIDERS,
    SAML_AUDIT_TYPE,
    create_saml_provider,
    delete_saml_provider,
    get_saml_provider,
    list_saml_providers,
    parse_saml_metadata,
    update_saml_provider,
)

__all__ = [
    "HANDLERS",
    "OIDC_AUDIT_TYPE",
    "MAX_OIDC_PROVIDERS",
    "MAX_CLIENT_IDS",
    "MAX_CLIENT_ID_LEN",
    "MAX_THUMBPRINTS",
    "parse_oidc_url",
    "create_open_id_connect_provider",
    "get_open_id_connect_provider",
    "list_open_id_connect_providers",
    "delete_open_id_connect_provider",
    "add_client_id_to_open_id_connect_provider",
    "remove_client_id_from_open_id_connect_provider",
    "update_open_id_connect_provider_thumbprint",
    "SAML_AUDIT_TYPE",
    "MAX_SAML_PROVIDERS",
    "DEFAULT_SAML_VALIDITY",
    "parse_saml_metadata",
    "create_saml_provider",
    "update_saml_provider",
    "get_saml_provider",
    "list_saml_providers",
    "delete_saml_provider",
]

HANDLERS: dict[str, Callable[[CallContext, dict[str, Any]], dict[str, Any] | None]] = {
    **oidc_providers.HANDLERS,
    **saml_providers.HANDLERS,
}
