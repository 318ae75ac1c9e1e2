"""`rolegate keys retire` takes effect within about a second on every node
sharing the database, with the default settings."""

from __future__ import annotations

import base64
import json
import secrets
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server, drop_schema_of, shared_postgres_url
from tests.trust import ACCOUNT_TRUST


def test_retire_on_two_nodes(tmp_path: Path) -> None:
    url = shared_postgres_url()
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    env = {"ROLEGATE_MASTER_KEY": master}
    a = Server(tmp_path / "a", database_url=url, env=env)
    b = Server(tmp_path / "b", database_url=url, env=env)
    try:
        a.start()
        b.start()
        a.client("iam").create_role(RoleName="ret", AssumeRolePolicyDocument=ACCOUNT_TRUST)
        old_keys = [k["key_id"] for k in json.loads(a.cli("keys", "list", *a.store_args()).stdout)]
        time.sleep(0.7)  # node b's IAM cache sees the role
        old = a.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/ret", RoleSessionName="old"
        )["Credentials"]
        for node in (a, b):
            node.client("sts", creds=old).get_caller_identity()
        a.cli("keys", "rotate", *a.store_args())
        for key_id in old_keys:
            a.cli("keys", "retire", key_id, *a.store_args())
        time.sleep(1.5)
        for node in (a, b):
            with pytest.raises(ClientError) as e:
                node.client("sts", creds=old).get_caller_identity()
            assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
        # Tokens sealed by the new key open on both nodes.
        new = b.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/ret", RoleSessionName="new"
        )["Credentials"]
        for node in (a, b):
            node.client("sts", creds=new).get_caller_identity()
    finally:
        b.stop()
        a.stop()
        drop_schema_of(url)


def test_retire_on_one_sqlite_node(tmp_path: Path) -> None:
    srv = Server(tmp_path).start()
    try:
        srv.client("iam").create_role(RoleName="ret", AssumeRolePolicyDocument=ACCOUNT_TRUST)
        old = srv.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/ret", RoleSessionName="old"
        )["Credentials"]
        srv.client("sts", creds=old).get_caller_identity()
        old_keys = json.loads(srv.cli("keys", "list", *srv.store_args()).stdout)
        # The only active key is not retired without a newer one.
        refused = srv.cli("keys", "retire", old_keys[0]["key_id"], *srv.store_args(), check=False)
        assert refused.returncode == 1 and "rotate first" in refused.stderr
        srv.cli("keys", "rotate", *srv.store_args())
        for k in old_keys:
            srv.cli("keys", "retire", k["key_id"], *srv.store_args())
        time.sleep(1.5)
        with pytest.raises(ClientError) as e:
            srv.client("sts", creds=old).get_caller_identity()
        assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    finally:
        srv.stop()
