"""Fixtures for handler-level IAM tests: a real Store on a temporary SQLite
directory (handler logic is what is under test here; the store's own suite
covers both engines), and an ``iam`` caller that runs handlers with a
CallContext as the server would, recording every authorisation request.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rolegate.context import CallContext, Principal
from tests.conftest import open_test_store

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

ADMIN = Principal(
    kind="user",
    arn=f"arn:aws:iam::{ACCOUNT}:user/admin",
    account_id=ACCOUNT,
    user_id="AIDAADMINADMINADMINAD",
    name="admin",
    access_key_id="AKIAADMINADMINADMINA",
)
ROOT = Principal(
    kind="root", arn=f"arn:aws:iam::{ACCOUNT}:root", account_id=ACCOUNT, user_id=ACCOUNT
)


def role_session(role: str = "deployer", session: str = "s1") -> Principal:
    return Principal(
        kind="assumed-role",
        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        account_id=ACCOUNT,
        user_id=f"AROAEXAMPLEEXAMPLEEX:{session}",
        name=role,
    )


def user_principal(name: str) -> Principal:
    return Principal(
        kind="user",
        arn=f"arn:aws:iam::{ACCOUNT}:user/{name}",
        account_id=ACCOUNT,
        user_id="AIDAEXAMPLEEXAMPLEEX",
        name=name,
    )


@dataclass
class AuthLog:
    """Records every authorize call; ``deny`` makes matching actions fail."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    deny: set[str] = field(default_factory=set)

    def __call__(self, ctx: CallContext, action: str, resource: str, **kw: Any) -> None:
        self.calls.append((action, resource, dict(kw.get("context") or {})))
        if action in self.deny or "*" in self.deny:
            from rolegate.errors import AccessDenied

            raise AccessDenied(
                f"User: {ctx.principal.arn if ctx.principal else 'anonymous'} is not authorized "
                f"to perform: {action} on resource: {resource}"
            )


class Iam:
    """Calls IAM handlers the way the server does: ``iam("CreateUser", UserName="a")``."""

    def __init__(self, store: Any, principal: Principal | None = ADMIN) -> None:
        self.store = store
        self.principal = principal
        self.auth = AuthLog()
        self.now = T0
        self.rng = random.Random(7)
        self.last: CallContext | None = None

    def as_(self, principal: Principal | None) -> Iam:
        other = Iam(self.store, principal)
        other.auth, other.now, other.rng = self.auth, self.now, self.rng
        return other

    def context(self, action: str) -> CallContext:
        app = type("App", (), {"rng": self.rng})()
        return CallContext(
            service="iam",
            action=action,
            principal=self.principal,
            request_id="req-1",
            now=self.now,
            region="us-east-1",
            source_ip="127.0.0.1",
            user_agent="pytest",
            store=self.store,
            app=app,
            authorize_fn=self.auth,
        )

    def __call__(self, action: str, **params: Any) -> dict[str, Any]:
        from rolegate.iam import HANDLERS

        ctx = self.context(action)
        self.last = ctx
        self.now = self.now + timedelta(seconds=1)
        return HANDLERS[action](ctx, params) or {}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    from rolegate.iam.aws_managed import ensure_aws_managed_policies

    s = open_test_store(tmp_path)
    with s.transaction() as tx:
        tx.create_account(ACCOUNT, "main", "main@example.com")
        tx.create_account(OTHER_ACCOUNT, "other", "other@example.com")
    ensure_aws_managed_policies(s)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def iam(store: Any) -> Iam:
    return Iam(store)


def doc(*statements: dict[str, Any]) -> str:
    import json

    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str = "s3:GetObject", resource: str = "*") -> str:
    return doc({"Effect": "Allow", "Action": action, "Resource": resource})


def trust(principal: Any = None) -> str:
    return doc(
        {
            "Effect": "Allow",
            "Principal": principal or {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
    )


def all_pages(
    call: Callable[..., dict[str, Any]], action: str, member: str, **params: Any
) -> list[Any]:
    out: list[Any] = []
    marker = None
    while True:
        extra = {"Marker": marker} if marker else {}
        page = call(action, **params, **extra)
        out.extend(page[member])
        if not page["IsTruncated"]:
            assert "Marker" not in page
            return out
        marker = page["Marker"]
