"""server.py's shell decisions that need no server: which requests run on
the event loop (``_runs_inline``)."""

from __future__ import annotations

import pytest

from rolegate.server import _runs_inline

AR = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"


@pytest.mark.parametrize(
    ("body", "query", "inline"),
    [
        (b"Action=GetCallerIdentity&Version=2011-06-15", b"", True),
        (AR + b"&RoleSessionName=s", b"", True),
        (b"", b"Action=GetCallerIdentity&Version=2011-06-15", True),  # presigned GET
        # MFA codes are claimed once in the database: the pool.
        (AR + b"&SerialNumber=arn%3Aaws%3Aiam%3A%3A1%3Amfa%2Fm&TokenCode=123456", b"", False),
        (AR, b"TokenCode=123456", False),
        (b"Action=AssumeRoleWithSAML&Version=2011-06-15", b"", False),
        (b"Action=CreateRole&Version=2010-05-08", b"", False),
        (b"Version=2011-06-15&" + b"x" * 64 + b"&Action=GetCallerIdentity", b"", False),
        (b"", b"", False),
    ],
)
def test_runs_inline(body: bytes, query: bytes, inline: bool) -> None:
    assert _runs_inline(body, query) is inline
