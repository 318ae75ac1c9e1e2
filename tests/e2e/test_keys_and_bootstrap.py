"""The fixed CLI: `bootstrap` is idempotent; `keys rotate` adds a sealing key
while old tokens keep working until `keys retire` removes their key."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server, drop_schema_of, postgres_url_with_fresh_schema
from tests.trust import ACCOUNT_TRUST


@pytest.fixture
def pg_url() -> Iterator[str | None]:
    url = postgres_url_with_fresh_schema()
    yield url
    drop_schema_of(url)


def test_bootstrap_idempotent(tmp_path: Path, pg_url: str | None) -> None:
    srv = Server(tmp_path, database_url=pg_url)
    first = json.loads(srv.cli("bootstrap", *srv.store_args(), "--json").stdout)
    assert set(first) == {"account_id", "user_arn", "access_key_id", "secret_access_key"}
    assert first["account_id"] == "123456789012"
    assert first["user_arn"] == "arn:aws:iam::123456789012:user/admin"
    again = json.loads(srv.cli("bootstrap", *srv.store_args(), "--json").stdout)
    assert (
        again["user_arn"] == first["user_arn"] and again["access_key_id"] == first["access_key_id"]
    )
    new = json.loads(srv.cli("bootstrap", *srv.store_args(), "--json", "--new-key").stdout)
    assert new["access_key_id"] != first["access_key_id"]
    other = json.loads(
        srv.cli("bootstrap", *srv.store_args(), "--account-id", "210987654321", "--json").stdout
    )
    assert other["user_arn"] == "arn:aws:iam::210987654321:user/admin"


def test_rotate_then_retire(tmp_path: Path, pg_url: str | None) -> None:
    srv = Server(
        tmp_path,
        database_url=pg_url,
        env={"ROLEGATE_KEYRING_REFRESH": "0.3"},
    ).start()
    try:
        srv.client("iam").create_role(RoleName="rot", AssumeRolePolicyDocument=ACCOUNT_TRUST)
        old_keys = json.loads(srv.cli("keys", "list", *srv.store_args()).stdout)
        old = srv.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/rot", RoleSessionName="old"
        )["Credentials"]
        srv.cli("keys", "rotate", *srv.store_args())
        time.sleep(0.6)
        new = srv.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/rot", RoleSessionName="new"
        )["Credentials"]
        srv.client("sts", creds=old).get_caller_identity()  # old key still opens
        srv.client("sts", creds=new).get_caller_identity()
        for k in old_keys:
            srv.cli("keys", "retire", k["key_id"], *srv.store_args())
        time.sleep(0.6)
        with pytest.raises(ClientError) as e:
            srv.client("sts", creds=old).get_caller_identity()
        assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
        srv.client("sts", creds=new).get_caller_identity()
    finally:
        srv.stop()
