"""The README's walk through both AWS CLIs, as a new user runs it.

CLI v2 comes from Debian's `awscli` package (/usr/bin/aws, installed by
.ci/system-deps), v1 from pip (the venv's bin/aws); each is called by its own
path. Every test runs once per CLI against a real `rolegate serve` of its own
(create-organization happens once per server), with a throwaway HOME holding
~/.aws/config and ~/.aws/credentials and the exports `make run` prints
(AWS_ENDPOINT_URL, AWS_DEFAULT_REGION).

CLIs older than the `AWS_ENDPOINT_URL` setting (v2 < 2.13.0, v1 < 1.29.0;
Debian bookworm ships 2.9.19) ignore it and call AWS itself. For them the
walk passes `--endpoint-url` on every command, which is what such a user has
to do, and the profile scenarios (role_arn + source_profile), whose AssumeRole
the CLI makes through an STS client that no option points elsewhere, are
reported as expected failures without being run, so that no test sends a
request to AWS.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.server import BIN, Server, running_server

ACCT = "123456789012"
REGION = "us-east-1"  # what `make run` prints
V2 = "/usr/bin/aws"
V1 = str(BIN / "aws")
# The first releases that read AWS_ENDPOINT_URL and `endpoint_url` in the config.
ENDPOINT_SETTING_SINCE = {2: (2, 13, 0), 1: (1, 29, 0)}
NOT_AUTHORIZED = "is not authorized to perform"


@dataclass(frozen=True)
class Cli:
    major: int
    path: str
    version: tuple[int, int, int]
    banner: str

    @property
    def reads_endpoint_setting(self) -> bool:
        return self.version >= ENDPOINT_SETTING_SINCE[self.major]

    def denied_exit(self, rc: int) -> bool:
        # v2 exits 254 for a service error; v1 255 (254 in some releases).
        return rc == 254 if self.major == 2 else rc in (254, 255)


def _find_cli(major: int, path: str) -> Cli:
    if not os.access(path, os.X_OK):
        why = f"AWS CLI v{major} is not installed at {path}"
        if major == 2:
            why += " (Debian's `awscli` package; `.ci/system-deps` installs it)"
        if major == 1 or os.environ.get("CI") == "true":
            pytest.fail(why + "; CI runs both CLIs", pytrace=False)
        pytest.skip(why)
    out = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=60, env=_base_env()
    )
    banner = (out.stdout + out.stderr).strip()
    m = re.match(r"aws-cli/(\d+)\.(\d+)\.(\d+) ", banner)
    assert out.returncode == 0 and m, banner
    version = (int(m[1]), int(m[2]), int(m[3]))
    assert version[0] == major, f"{path} is not AWS CLI v{major}: {banner}"
    return Cli(major, path, version, banner)


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


@pytest.fixture(scope="module", params=[2, 1], ids=["v2", "v1"])
def cli(request: pytest.FixtureRequest) -> Cli:
    return _find_cli(request.param, V2 if request.param == 2 else V1)


@pytest.fixture(scope="module")
def rg(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp(f"rolegate-cli-v{cli.major}")) as srv:
        yield srv


class User:
    """A new user's shell: a HOME with ~/.aws files and the exports `make run` printed."""

    def __init__(self, cli: Cli, srv: Server, home: Path, config: str = "") -> None:
        self.cli, self.srv, self.home = cli, srv, home
        aws = home / ".aws"
        aws.mkdir(parents=True, exist_ok=True)
        (aws / "config").write_text("[default]\noutput = json\n" + config)
        (aws / "credentials").write_text(
            "[default]\n"
            f"aws_access_key_id = {srv.admin['access_key_id']}\n"
            f"aws_secret_access_key = {srv.admin['secret_access_key']}\n"
        )

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        e = _base_env()
        e.update(
            HOME=str(self.home),
            AWS_ENDPOINT_URL=self.srv.endpoint,
            AWS_DEFAULT_REGION=REGION,
            AWS_MAX_ATTEMPTS="1",
        )
        e.update(env or {})
        pre = [] if self.cli.reads_endpoint_setting else ["--endpoint-url", self.srv.endpoint]
        return subprocess.run(
            [self.cli.path, *pre, *args, "--output", "json"],
            env=e,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str, env: dict[str, str] | None = None) -> dict:
        r = self.run(*args, env=env)
        assert r.returncode == 0, (self.cli.banner, args, r.stdout, r.stderr)
        return json.loads(r.stdout) if r.stdout.strip() else {}

    def denied(
        self, *args: str, operation: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        r = self.run(*args, env=env)
        assert self.cli.denied_exit(r.returncode), (self.cli.banner, r.returncode, r.stderr)
        assert r.stdout == ""
        assert f"An error occurred (AccessDenied) when calling the {operation} operation" in (
            r.stderr
        ), r.stderr
        assert NOT_AUTHORIZED in r.stderr
        return r


def _trust(condition: dict | None = None) -> str:
    st: dict = {"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "sts:AssumeRole"}
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def _needs_endpoint_setting(cli: Cli, what: str) -> None:
    if not cli.reads_endpoint_setting:
        since = ".".join(map(str, ENDPOINT_SETTING_SINCE[cli.major]))
        pytest.xfail(
            f"{cli.banner.split()[0]} predates AWS_ENDPOINT_URL and `endpoint_url` "
            f"(v{cli.major} >= {since}); {what} goes to AWS's own endpoint, so it is not run"
        )


@pytest.fixture(scope="module")
def app_role(cli: Cli, rg: Server, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The README's role: trusted by the account, ReadOnlyAccess attached."""
    u = User(cli, rg, tmp_path_factory.mktemp("home"))
    role = u.ok(
        "iam", "create-role", "--role-name", "app", "--assume-role-policy-document", _trust()
    )
    arn = f"arn:aws:iam::{ACCT}:role/app"
    assert role["Role"]["Arn"] == arn and role["Role"]["RoleId"].startswith("AROA")
    assert role["Role"]["AssumeRolePolicyDocument"] == json.loads(_trust())
    u.ok(
        "iam",
        "attach-role-policy",
        "--role-name",
        "app",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    attached = u.ok("iam", "list-attached-role-policies", "--role-name", "app")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["ReadOnlyAccess"]
    return arn


@pytest.fixture(scope="module")
def partner_role(cli: Cli, rg: Server, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A role whose trust policy requires sts:ExternalId xyz-123."""
    u = User(cli, rg, tmp_path_factory.mktemp("home"))
    doc = _trust({"StringEquals": {"sts:ExternalId": "xyz-123"}})
    u.ok("iam", "create-role", "--role-name", "partner", "--assume-role-policy-document", doc)
    u.ok(
        "iam",
        "attach-role-policy",
        "--role-name",
        "partner",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    return f"arn:aws:iam::{ACCT}:role/partner"


# -- the tests -----------------------------------------------------------------


def test_version_banner(cli: Cli) -> None:
    assert cli.banner.startswith(f"aws-cli/{cli.major}.")
    if cli.major == 2 and cli.path == V2:
        assert "debian" in cli.banner  # Debian's build, not an installer's


def test_aws_endpoint_url_alone_reaches_rolegate(cli: Cli, rg: Server, tmp_path: Path) -> None:
    """`make run`'s exports and nothing else, as the README says."""
    _needs_endpoint_setting(cli, "every command without --endpoint-url")
    User(cli, rg, tmp_path)  # ~/.aws/credentials; the region and endpoint from the exports
    e = _base_env()
    e.update(HOME=str(tmp_path), AWS_ENDPOINT_URL=rg.endpoint, AWS_DEFAULT_REGION=REGION)
    r = subprocess.run(
        [cli.path, "sts", "get-caller-identity"], env=e, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Arn"] == f"arn:aws:iam::{ACCT}:user/admin"


def test_get_caller_identity(cli: Cli, rg: Server, tmp_path: Path) -> None:
    ident = User(cli, rg, tmp_path).ok("sts", "get-caller-identity")
    assert ident["Account"] == ACCT
    assert ident["Arn"] == f"arn:aws:iam::{ACCT}:user/admin"
    assert ident["UserId"].startswith("AIDA")


def test_assume_role_then_use_the_credentials(
    cli: Cli, rg: Server, app_role: str, tmp_path: Path
) -> None:
    u = User(cli, rg, tmp_path)
    out = u.ok("sts", "assume-role", "--role-arn", app_role, "--role-session-name", "me")
    c = out["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA") and len(c["SecretAccessKey"]) == 40
    assert c["SessionToken"] and c["Expiration"]
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/app/me"
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":me")
    # export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_SESSION_TOKEN=...
    sess = {
        "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
        "AWS_SESSION_TOKEN": c["SessionToken"],
    }
    ident = u.ok("sts", "get-caller-identity", env=sess)
    assert ident["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/app/me"
    assert ident["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]
    assert ident["Account"] == ACCT
    roles = u.ok("iam", "list-roles", env=sess)["Roles"]
    assert "app" in [r["RoleName"] for r in roles]
    r = u.denied("iam", "create-user", "--user-name", "intruder", operation="CreateUser", env=sess)
    assert (
        f"User: arn:aws:sts::{ACCT}:assumed-role/app/me is not authorized to perform: "
        f"iam:CreateUser on resource: arn:aws:iam::{ACCT}:user/intruder"
    ) in r.stderr
    assert "intruder" not in [x["UserName"] for x in u.ok("iam", "list-users")["Users"]]


def test_profile_with_role_arn_and_source_profile(
    cli: Cli, rg: Server, app_role: str, tmp_path: Path
) -> None:
    _needs_endpoint_setting(cli, "the AssumeRole the CLI makes for a role_arn profile")
    u = User(cli, rg, tmp_path, f"[profile app]\nrole_arn = {app_role}\nsource_profile = default\n")
    ident = u.ok("--profile", "app", "sts", "get-caller-identity")
    assert ident["Arn"].startswith(f"arn:aws:sts::{ACCT}:assumed-role/app/")
    assert ident["Account"] == ACCT
    session = ident["Arn"].rsplit("/", 1)[1]
    assert ident["UserId"].endswith(":" + session)
    # the CLI caches the role's credentials under ~/.aws/cli/cache and reuses them
    cached = list((tmp_path / ".aws" / "cli" / "cache").glob("*.json"))
    assert len(cached) == 1
    assert json.loads(cached[0].read_text())["Credentials"]["AccessKeyId"].startswith("ASIA")
    roles = u.ok("--profile", "app", "iam", "list-roles")["Roles"]
    assert "app" in [r["RoleName"] for r in roles]
    assert u.ok("--profile", "app", "sts", "get-caller-identity")["Arn"] == ident["Arn"]
    u.denied("--profile", "app", "iam", "create-user", "--user-name", "x", operation="CreateUser")


def test_profile_with_external_id(cli: Cli, rg: Server, partner_role: str, tmp_path: Path) -> None:
    # the explicit call first: it needs no profile
    u = User(cli, rg, tmp_path)
    out = u.ok(
        "sts",
        "assume-role",
        "--role-arn",
        partner_role,
        "--role-session-name",
        "pp",
        "--external-id",
        "xyz-123",
    )
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/partner/pp"
    for extra in ([], ["--external-id", "wrong"]):
        r = u.denied(
            "sts",
            "assume-role",
            "--role-arn",
            partner_role,
            "--role-session-name",
            "pp",
            *extra,
            operation="AssumeRole",
        )
        assert (
            f"User: arn:aws:iam::{ACCT}:user/admin is not authorized to perform: "
            f"sts:AssumeRole on resource: {partner_role}"
        ) in r.stderr
    _needs_endpoint_setting(cli, "the AssumeRole the CLI makes for a role_arn profile")
    u = User(
        cli,
        rg,
        tmp_path / "profiles",
        f"[profile partner]\nrole_arn = {partner_role}\nsource_profile = default\n"
        "external_id = xyz-123\n"
        f"[profile wrong]\nrole_arn = {partner_role}\nsource_profile = default\n"
        "external_id = wrong\n"
        f"[profile none]\nrole_arn = {partner_role}\nsource_profile = default\n",
    )
    ident = u.ok("--profile", "partner", "sts", "get-caller-identity")
    assert ident["Arn"].startswith(f"arn:aws:sts::{ACCT}:assumed-role/partner/")
    for profile in ("wrong", "none"):
        r = u.denied("--profile", profile, "sts", "get-caller-identity", operation="AssumeRole")
        assert f"sts:AssumeRole on resource: {partner_role}" in r.stderr
    cached = list((tmp_path / "profiles" / ".aws" / "cli" / "cache").glob("*.json"))
    assert len(cached) == 1  # only the accepted profile's credentials


def test_organizations_create_and_list_accounts(cli: Cli, rg: Server, tmp_path: Path) -> None:
    u = User(cli, rg, tmp_path)
    org = u.ok("organizations", "create-organization")["Organization"]
    assert re.fullmatch(r"o-[a-z0-9]{10,32}", org["Id"])
    assert org["FeatureSet"] == "ALL"
    assert org["MasterAccountId"] == ACCT
    assert org["Arn"] == f"arn:aws:organizations::{ACCT}:organization/{org['Id']}"
    assert u.ok("organizations", "describe-organization")["Organization"]["Id"] == org["Id"]
    st = u.ok(
        "organizations", "create-account", "--email", "a@example.com", "--account-name", "prod"
    )["CreateAccountStatus"]
    assert re.fullmatch(r"car-[a-z0-9]{8,32}", st["Id"])
    assert st["AccountName"] == "prod"
    assert st["State"] in ("IN_PROGRESS", "SUCCEEDED")
    deadline = time.time() + 30
    while st["State"] == "IN_PROGRESS" and time.time() < deadline:
        time.sleep(0.5)
        st = u.ok(
            "organizations",
            "describe-create-account-status",
            "--create-account-request-id",
            st["Id"],
        )["CreateAccountStatus"]
    assert st["State"] == "SUCCEEDED", st
    new = st["AccountId"]
    assert re.fullmatch(r"\d{12}", new) and new != ACCT
    accounts = {a["Id"]: a for a in u.ok("organizations", "list-accounts")["Accounts"]}
    assert set(accounts) == {ACCT, new}
    assert accounts[new]["Email"] == "a@example.com"
    assert accounts[new]["Name"] == "prod"
    assert accounts[new]["Status"] == "ACTIVE"
    assert accounts[new]["Arn"] == f"arn:aws:organizations::{ACCT}:account/{org['Id']}/{new}"
    assert accounts[ACCT]["Arn"] == org["MasterAccountArn"]
    # the same email again: the request is accepted and then fails, as in AWS
    again = u.ok(
        "organizations", "create-account", "--email", "a@example.com", "--account-name", "dup"
    )["CreateAccountStatus"]
    assert again["State"] in ("IN_PROGRESS", "FAILED")
    r = u.run("organizations", "create-organization")
    assert r.returncode != 0 and "AlreadyInOrganizationException" in r.stderr, r.stderr
    # into the new account through the role Organizations creates there
    if cli.reads_endpoint_setting:
        prof = User(
            cli,
            rg,
            tmp_path / "prod",
            f"[profile prod]\nrole_arn = arn:aws:iam::{new}:role/OrganizationAccountAccessRole\n"
            "source_profile = default\n",
        )
        ident = prof.ok("--profile", "prod", "sts", "get-caller-identity")
        assert ident["Account"] == new
        assert ident["Arn"].startswith(
            f"arn:aws:sts::{new}:assumed-role/OrganizationAccountAccessRole/"
        )
