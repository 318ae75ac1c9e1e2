"""Handler-level STS fixtures: a real Store (temporary SQLite), a real key
ring and policy engine, IAM handlers to set up users and roles, and
CallContexts authorised by the real ``rolegate.authz.authorize``.

Credentials returned by STS handlers are opened with the key ring and turned
into the Principal the server would build (``server._principal_from_claims``),
so a chain of sessions is exercised exactly as requests would carry it.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rolegate.context import CallContext, Principal
from tests.conftest import open_test_store

A = "123456789012"
B = "210987654321"
T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any = "*", resource: Any = "*", condition: dict[str, Any] | None = None) -> str:
    st: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        st["Condition"] = condition
    return doc(st)


def trust(
    principal: Any, *, actions: Any = "sts:AssumeRole", condition: dict[str, Any] | None = None
) -> str:
    st: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": actions}
    if condition:
        st["Condition"] = condition
    return doc(st)


def root(account: str) -> Principal:
    return Principal(
        kind="root", arn=f"arn:aws:iam::{account}:root", account_id=account, user_id=account
    )


@dataclass
class World:
    store: Any
    ring: Any
    app: Any
    now: datetime = T0

    # --- calling handlers ------------------------------------------------

    def ctx(self, service: str, action: str, principal: Principal | None) -> CallContext:
        from rolegate.authz import authorize

        return CallContext(
            service=service,
            action=action,
            principal=principal,
            request_id="req-" + action,
            now=self.now,
            region="eu-west-1",
            source_ip="192.0.2.10",
            user_agent="pytest",
            store=self.store,
            app=self.app,
            authorize_fn=authorize,
        )

    def call(self, service: str, action: str, principal: Principal | None, **params: Any) -> Any:
        import importlib

        handlers = importlib.import_module(f"rolegate.{service}").HANDLERS
        ctx = self.ctx(service, action, principal)
        self.last = ctx
        return handlers[action](ctx, params) or {}

    def sts(self, principal: Principal | None, action: str, **params: Any) -> Any:
        return self.call("sts", action, principal, **params)

    def iam(self, account: str, action: str, **params: Any) -> Any:
        return self.call("iam", action, root(account), **params)

    def advance(self, seconds: float) -> None:
        self.now = self.now + timedelta(seconds=seconds)

    # --- principals --------------------------------------------------------

    def user(
        self, account: str, name: str, *policies: str, tags: list[dict[str, str]] | None = None
    ) -> Principal:
        """Create an IAM user (with inline policies) and return it as a caller."""
        params: dict[str, Any] = {"UserName": name}
        if tags:
            params["Tags"] = tags
        out = self.iam(account, "CreateUser", **params)["User"]
        for i, text in enumerate(policies):
            self.iam(
                account, "PutUserPolicy", UserName=name, PolicyName=f"p{i}", PolicyDocument=text
            )
        key = self.iam(account, "CreateAccessKey", UserName=name)["AccessKey"]
        return Principal(
            kind="user",
            arn=out["Arn"],
            account_id=account,
            user_id=out["UserId"],
            name=name,
            access_key_id=key["AccessKeyId"],
        )

    def role(
        self,
        account: str,
        name: str,
        trust_doc: str,
        *policies: str,
        max_session: int | None = None,
        tags: list[dict[str, str]] | None = None,
        path: str = "/",
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": trust_doc,
            "Path": path,
        }
        if max_session:
            params["MaxSessionDuration"] = max_session
        if tags:
            params["Tags"] = tags
        out = self.iam(account, "CreateRole", **params)["Role"]
        for i, text in enumerate(policies):
            self.iam(
                account, "PutRolePolicy", RoleName=name, PolicyName=f"p{i}", PolicyDocument=text
            )
        return out

    def principal(self, creds: dict[str, Any]) -> Principal:
        """What the server authenticates for these credentials."""
        from rolegate import tokens
        from rolegate.server import _principal_from_claims

        claims = tokens.open_token(
            creds["SessionToken"],
            self.ring,
            int(self.now.timestamp()),
            access_key_id=creds["AccessKeyId"],
        )
        return _principal_from_claims(claims, creds["AccessKeyId"])

    def claims(self, creds: dict[str, Any]) -> Any:
        from rolegate import tokens

        return tokens.open_token(
            creds["SessionToken"],
            self.ring,
            int(self.now.timestamp()),
            access_key_id=creds["AccessKeyId"],
        )

    def assume(self, caller: Principal, role_arn: str, session: str = "sess", **params: Any) -> Any:
        return self.sts(caller, "AssumeRole", RoleArn=role_arn, RoleSessionName=session, **params)

    def allowed(self, caller: Principal, action: str, resource: str = "*") -> bool:
        """Whether ``caller`` may do ``action`` now (the authoriser's answer)."""
        from rolegate.authz import authorize
        from rolegate.errors import AccessDenied

        try:
            authorize(self.ctx("iam", "Probe", caller), action, resource)
        except AccessDenied:
            return False
        return True


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    from rolegate import tokens
    from rolegate.appstate import AppState, Settings
    from rolegate.iam.aws_managed import ensure_aws_managed_policies

    store = open_test_store(tmp_path)
    with store.transaction() as tx:
        tx.create_account(A, "main", "main@example.com")
        tx.create_account(B, "other", "other@example.com")
    ensure_aws_managed_policies(store)
    ring = tokens.KeyRing([("k1", os.urandom(32))])
    app = AppState(store=store, key_ring=ring, settings=Settings(data_dir=str(tmp_path)))
    app.extra["rng"] = random.Random(11)
    try:
        yield World(store=store, ring=ring, app=app)
    finally:
        store.close()


def role_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:role{path}{name}"
