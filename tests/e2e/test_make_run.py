"""`make run`, then the printed settings, then `aws iam list-users` works."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.e2e.server import AWS, REPO, free_port, wait_healthy


def test_make_run_then_aws_cli(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLEGATE_"))}
    log = open(tmp_path / "make-run.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        ["make", "-s", "run", f"PORT={port}", f"DATA={data}"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_healthy(port, 120)
        log.seek(0)
        printed = log.read()
        exports = dict(re.findall(r"export (AWS_[A-Z_]+)=(\S+)", printed))
        assert {
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ENDPOINT_URL",
            "AWS_DEFAULT_REGION",
        } <= set(exports), printed
        cli_env = dict(env)
        cli_env.update(exports)
        cli_env["AWS_CONFIG_FILE"] = str(tmp_path / "none-config")
        cli_env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "none-creds")
        r = subprocess.run(
            [AWS, "iam", "list-users"], env=cli_env, capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0, r.stderr
        assert '"UserName": "admin"' in r.stdout
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
