"""Requests signed with botocore's own SigV4 signer, for tests that send
them by hand (forwarded, or with headers added after signing)."""

from __future__ import annotations

from collections.abc import Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def credentials(creds: Credentials | Mapping[str, str]) -> Credentials:
    """botocore Credentials from boto3 client keywords (``aws_access_key_id``...)."""
    if isinstance(creds, Credentials):
        return creds
    return Credentials(
        creds["aws_access_key_id"],
        creds["aws_secret_access_key"],
        creds.get("aws_session_token"),
    )


def signed_headers(
    creds: Credentials | Mapping[str, str],
    service: str,
    region: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    method: str = "POST",
) -> dict[str, str]:
    """``headers`` plus what SigV4 adds (Authorization, X-Amz-Date, ...) for
    ``method url`` with ``body``, signed for ``service`` in ``region``."""
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(credentials(creds), service, region).add_auth(req)
    return dict(req.headers.items())
