"""The same IAM walk through the `aws` CLI."""

from __future__ import annotations

import json

from tests.e2e.server import Server
from tests.trust import ACCOUNT_TRUST


def test_cli_walk(server: Server) -> None:
    out = json.loads(server.aws("iam", "create-user", "--user-name", "cliuser").stdout)
    assert out["User"]["UserName"] == "cliuser"
    users = json.loads(server.aws("iam", "list-users").stdout)["Users"]
    assert "cliuser" in {u["UserName"] for u in users}
    server.aws(
        "iam",
        "create-role",
        "--role-name",
        "clirole",
        "--assume-role-policy-document",
        ACCOUNT_TRUST,
    )
    role = json.loads(server.aws("iam", "get-role", "--role-name", "clirole").stdout)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRole"
    server.aws(
        "iam",
        "attach-role-policy",
        "--role-name",
        "clirole",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    att = json.loads(
        server.aws("iam", "list-attached-role-policies", "--role-name", "clirole").stdout
    )
    assert att["AttachedPolicies"][0]["PolicyName"] == "ReadOnlyAccess"
    key = json.loads(server.aws("iam", "create-access-key", "--user-name", "cliuser").stdout)[
        "AccessKey"
    ]
    assert key["AccessKeyId"].startswith("AKIA")
    r = server.aws("iam", "get-user", "--user-name", "ghost", check=False)
    assert r.returncode != 0 and "NoSuchEntity" in r.stderr
    ident = json.loads(server.aws("sts", "get-caller-identity").stdout)
    assert ident["Arn"].endswith(":user/admin")
    # The CLI paginates on its own: every user comes back whatever the page size.
    for i in range(3):
        server.aws("iam", "create-user", "--user-name", f"clipage{i}", "--path", "/clipage/")
    paged = json.loads(
        server.aws("iam", "list-users", "--path-prefix", "/clipage/", "--page-size", "1").stdout
    )
    assert [u["UserName"] for u in paged["Users"]] == ["clipage0", "clipage1", "clipage2"]
