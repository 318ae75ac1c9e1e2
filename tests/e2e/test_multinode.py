"""Two `rolegate serve` processes on one PostgreSQL database accept each
other's session tokens and see each other's IAM changes."""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path

from tests.e2e.server import Server, drop_schema_of, shared_postgres_url
from tests.trust import ACCOUNT_TRUST


def test_two_nodes_share_tokens(tmp_path: Path) -> None:
    url = shared_postgres_url()
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    a = Server(
        tmp_path / "a",
        database_url=url,
        env={"ROLEGATE_MASTER_KEY": master, "ROLEGATE_KEYRING_REFRESH": "0.5"},
    ).start()
    b = Server(
        tmp_path / "b",
        database_url=url,
        env={"ROLEGATE_MASTER_KEY": master, "ROLEGATE_KEYRING_REFRESH": "0.5"},
    )
    try:
        b.start()
        assert a.admin["access_key_id"] == b.admin["access_key_id"]  # bootstrap is idempotent
        iam_a = a.client("iam")
        iam_a.create_role(RoleName="shared", AssumeRolePolicyDocument=ACCOUNT_TRUST)
        iam_a.attach_role_policy(
            RoleName="shared", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
        )
        time.sleep(0.7)  # node b's cache checks the shared generation at most every 0.5 s
        creds = a.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/shared", RoleSessionName="xx"
        )["Credentials"]
        assert (
            b.client("sts", creds=creds)
            .get_caller_identity()["Arn"]
            .endswith("assumed-role/shared/xx")
        )
        b.client("iam", creds=creds).list_roles()
        creds_b = b.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/shared", RoleSessionName="yy"
        )["Credentials"]
        a.client("iam", creds=creds_b).get_role(RoleName="shared")
        # A sealing key added by `keys rotate` is picked up by both nodes.
        a.cli("keys", "rotate", "--database-url", url)
        time.sleep(0.7)
        creds_c = a.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/shared", RoleSessionName="zz"
        )["Credentials"]
        b.client("sts", creds=creds_c).get_caller_identity()
    finally:
        b.stop()
        a.stop()
        drop_schema_of(url)
