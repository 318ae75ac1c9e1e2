"""AssumeRoot through real clients: a ``rolegate serve`` driven by boto3 and
the AWS CLI. The management account (bootstrap's) makes an organization and
a member account, enables root sessions, assumes root into the member, uses
the credentials, and meets every refusal."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server, running_server

ACCT = "123456789012"
AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
TASK_ARG = f"arn={AUDIT}"


def code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def allow(action: str, resource: str = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
        }
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # A server of its own: this module turns the bootstrap account into an
    # organization's management account.
    tmp: Path = tmp_path_factory.mktemp("rolegate-root")
    with running_server(tmp) as srv:
        yield srv


@pytest.fixture(scope="module")
def member(server: Server) -> str:
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    status = org.create_account(Email="member@example.com", AccountName="member")
    return str(status["CreateAccountStatus"]["AccountId"])


def assume_root(server: Server, creds: Any, target: str, **kw: Any) -> dict[str, Any]:
    out = server.client("sts", creds=creds).assume_root(
        TargetPrincipal=target, TaskPolicyArn={"arn": kw.pop("task", AUDIT)}, **kw
    )
    return dict(out["Credentials"])


def refused(server: Server, creds: Any, target: str, **kw: Any) -> ClientError:
    with pytest.raises(ClientError) as e:
        assume_root(server, creds, target, **kw)
    return e.value


def root_credentials(server: Server, account: str) -> dict[str, str]:
    """Credentials of ``account``'s root user, as its GetSessionToken gives them.

    rolegate issues no long-term root keys, so the root's own session is
    sealed here with the server's key ring, exactly as GetSessionToken would.
    """
    from rolegate import tokens
    from rolegate.principals.credentials import new_key_pair
    from rolegate.store import Store

    store = Store.open(
        data_dir=None if server.database_url else server.data_dir,
        database_url=server.database_url,
        master_key=base64.b64decode(server.env["ROLEGATE_MASTER_KEY"]),
    )
    try:
        active = [(k.key_id, k.key) for k in store.sealing_keys() if k.retired_at is None]
    finally:
        store.close()
    akid, secret = new_key_pair(account, secrets.SystemRandom())
    now = int(time.time())
    root = f"arn:aws:iam::{account}:root"
    claims = tokens.SessionClaims(
        access_key_id=akid,
        secret_access_key=secret,
        kind="session",
        account_id=account,
        arn=root,
        user_id=account,
        user_arn=root,
        issued_at=now,
        expires_at=now + 3600,
    )
    token = tokens.seal(claims, tokens.KeyRing(active), now)
    return {"AccessKeyId": akid, "SecretAccessKey": secret, "SessionToken": token}


def test_root_sessions_must_be_enabled_first(server: Server, member: str) -> None:
    err = refused(server, None, member)
    assert code(err) == "AccessDenied"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "Encoded authorization failure message: " in err.response["Error"]["Message"]
    iam = server.client("iam")
    out = iam.list_organizations_features()
    assert out["EnabledFeatures"] == [] and out["OrganizationId"].startswith("o-")
    out = iam.enable_organizations_root_credentials_management()
    assert out["EnabledFeatures"] == ["RootCredentialsManagement"]
    r = server.aws("iam", "enable-organizations-root-sessions")
    assert json.loads(r.stdout)["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    listed = json.loads(server.aws("iam", "list-organizations-features").stdout)
    assert listed["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]


@pytest.fixture(scope="module")
def enabled(server: Server, member: str) -> str:
    server.client("iam").enable_organizations_root_sessions()
    return member


def test_assume_root_with_the_cli_and_use_it(server: Server, enabled: str) -> None:
    member = enabled
    r = server.aws(
        "sts", "assume-root", "--target-principal", member, "--task-policy-arn", TASK_ARG
    )
    creds = json.loads(r.stdout)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    ident = json.loads(server.aws("sts", "get-caller-identity", creds=creds).stdout)
    assert ident == {"UserId": member, "Account": member, "Arn": f"arn:aws:iam::{member}:root"}
    # Allowed by the audit task: reading the account's credential summary
    # and the root user's own keys (no --user-name: the caller, the root).
    summary = json.loads(server.aws("iam", "get-account-summary", creds=creds).stdout)
    assert "Users" in summary["SummaryMap"]
    keys = json.loads(server.aws("iam", "list-access-keys", creds=creds).stdout)
    assert keys["AccessKeyMetadata"] == []
    # Denied by it: anything that is not auditing the root user's credentials.
    r = server.aws("iam", "create-user", "--user-name", "intruder", creds=creds, check=False)
    assert r.returncode != 0 and "(AccessDenied)" in r.stderr, r.stderr
    assert "explicit deny in a session policy" in r.stderr


def test_assume_root_with_boto3_and_use_it(server: Server, enabled: str) -> None:
    member = enabled
    creds = assume_root(server, None, f"arn:aws:iam::{member}:root", DurationSeconds=300)
    ident = server.client("sts", creds=creds).get_caller_identity()
    assert (ident["Arn"], ident["UserId"], ident["Account"]) == (
        f"arn:aws:iam::{member}:root",
        member,
        member,
    )
    iam = server.client("iam", creds=creds)
    assert iam.get_account_summary()["SummaryMap"]
    for call in (
        lambda: iam.create_user(UserName="intruder"),
        # The task works on the root user only, not on IAM users.
        lambda: iam.list_access_keys(UserName="OrganizationAccountAccessRole"),
        lambda: iam.list_roles(),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e.value) == "AccessDenied"
    # Root cannot assume roles; session credentials get no new sessions.
    sts = server.client("sts", creds=creds)
    with pytest.raises(ClientError) as e:
        sts.assume_role(
            RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
            RoleSessionName="xx",
        )
    assert code(e.value) == "AccessDenied"
    assert "Roles may not be assumed by root accounts." in str(e.value)
    for call in (sts.get_session_token, lambda: sts.get_federation_token(Name="fed")):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e.value) == "AccessDenied"
    # Nor can a root session start another one.
    assert code(refused(server, creds, member)) == "AccessDenied"


def test_every_refusal(server: Server, enabled: str) -> None:
    member = enabled
    # The root user's own credentials (of the management account).
    # Root's credentials here are GetSessionToken's, which may call no STS
    # action but AssumeRole and GetCallerIdentity: refused before the handler
    # (whose own root check tests/sts/test_assume_root.py covers).
    root_creds = root_credentials(server, ACCT)
    ident = server.client("sts", creds=root_creds).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{ACCT}:root"
    err = refused(server, root_creds, member)
    assert code(err) == "AccessDenied"
    # Target: the management account itself, an account outside the organization.
    for target in (ACCT, "999999999999"):
        err = refused(server, None, target)
        assert code(err) == "AccessDenied"
        assert f"on resource: arn:aws:iam::{target}:root" in err.response["Error"]["Message"]
    # A task policy that is no root-task policy; a duration past 900 s.
    err = refused(server, None, member, task="arn:aws:iam::aws:policy/AdministratorAccess")
    assert code(err) == "ValidationError"
    err = refused(server, None, member, DurationSeconds=901)
    assert code(err) == "ValidationError"
    assert "Member must have value less than or equal to 900" in err.response["Error"]["Message"]
    r = server.aws(
        "sts",
        "assume-root",
        "--target-principal",
        member,
        "--task-policy-arn",
        TASK_ARG,
        "--duration-seconds",
        "901",
        check=False,
    )
    assert r.returncode != 0 and "(ValidationError)" in r.stderr, r.stderr
    # A caller without sts:AssumeRoot.
    iam = server.client("iam")
    iam.create_user(UserName="plain")
    plain = iam.create_access_key(UserName="plain")["AccessKey"]
    time.sleep(0.6)
    err = refused(server, plain, member)
    assert code(err) == "AccessDenied"
    assert "no identity-based policy allows the sts:AssumeRoot action" in str(err)
    r = server.aws(
        "sts", "assume-root", "--target-principal", member, "--task-policy-arn", TASK_ARG,
        creds=plain, check=False,
    )  # fmt: skip
    assert r.returncode != 0 and "(AccessDenied)" in r.stderr, r.stderr
    # A caller in the member account, even its administrator.
    there = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
        RoleSessionName="member-admin",
    )["Credentials"]
    assert code(refused(server, there, member)) == "AccessDenied"


def test_expired_credentials(server: Server, enabled: str) -> None:
    member = enabled
    iam = server.client("iam")
    iam.create_role(
        RoleName="breakglass",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    iam.put_role_policy(
        RoleName="breakglass", PolicyName="root", PolicyDocument=allow("sts:AssumeRoot")
    )
    time.sleep(0.6)
    session = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCT}:role/breakglass", RoleSessionName="bg", DurationSeconds=900
    )["Credentials"]
    root = assume_root(server, session, member, DurationSeconds=60)
    assert server.client("sts", creds=root).get_caller_identity()["Account"] == member
    shifted = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=901)
    server.set_clock_offset(901)
    try:
        with mock.patch("botocore.auth.get_current_datetime", return_value=shifted):
            err = refused(server, session, member)
            assert code(err) == "ExpiredToken"
            with pytest.raises(ClientError) as e:
                server.client("sts", creds=root).get_caller_identity()
            assert code(e.value) == "ExpiredToken"
    finally:
        server.set_clock_offset(0)


def test_assume_root_is_audited_in_both_accounts(server: Server, enabled: str) -> None:
    member = enabled
    creds = assume_root(server, None, member)
    time.sleep(1.0)
    events = json.loads(
        server.cli(
            "audit", "query", *server.store_args(), "--event-name", "AssumeRoot", "--json"
        ).stdout
    )
    mine = [
        ev
        for ev in events
        if ((ev.get("responseElements") or {}).get("credentials") or {}).get("accessKeyId")
        == creds["AccessKeyId"]
    ]
    assert {ev["recipientAccountId"] for ev in mine} == {ACCT, member}
    assert len({ev["sharedEventID"] for ev in mine}) == 1
    for ev in mine:
        assert ev["requestParameters"]["targetPrincipal"] == member
        assert ev["resources"][0]["ARN"] == f"arn:aws:iam::{member}:root"
        assert creds["SecretAccessKey"] not in json.dumps(ev)
    denials = [ev for ev in events if ev.get("errorCode") == "AccessDenied"]
    assert denials, "refused AssumeRoot calls are audited too"
    # A call made with the root session is the member's root, in a session
    # issued to the management account's caller.
    server.client("iam", creds=creds).get_account_summary()
    time.sleep(1.0)
    summaries = json.loads(
        server.cli(
            "audit", "query", *server.store_args(), "--event-name", "GetAccountSummary", "--json"
        ).stdout
    )
    used = [ev for ev in summaries if ev["userIdentity"].get("accessKeyId") == creds["AccessKeyId"]]
    assert used, summaries
    ident = used[0]["userIdentity"]
    assert (ident["type"], ident["arn"], ident["accountId"]) == (
        "Root",
        f"arn:aws:iam::{member}:root",
        member,
    )
    assert ident["sessionContext"]["sessionIssuer"]["accountId"] == ACCT
