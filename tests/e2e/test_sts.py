"""STS through real clients: AssumeRole's rules, chains, expiry, revocation,
cross-account roles and tampered tokens."""

from __future__ import annotations

import datetime as dt
import json
import time
from unittest import mock

import pyotp
import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import Server

ACCT = "123456789012"


def code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def trust(principal: dict, extra: dict | None = None, actions: list[str] | None = None) -> str:
    st = {"Effect": "Allow", "Principal": principal, "Action": actions or ["sts:AssumeRole"]}
    if extra:
        st["Condition"] = extra
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def allow(action: str | list[str], resource: str = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
        }
    )


@pytest.fixture(scope="module")
def alice(server: Server) -> dict:
    iam = server.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    iam.put_user_policy(
        UserName="alice", PolicyName="assume", PolicyDocument=allow("sts:AssumeRole")
    )
    time.sleep(0.6)
    return key


def test_assume_role_by_user_arn_and_narrowing_session_policy(server: Server, alice: dict) -> None:
    iam = server.client("iam")
    iam.create_role(
        RoleName="reader",
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}),
    )
    iam.attach_role_policy(RoleName="reader", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    sts = server.client("sts", creds=alice)
    out = sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCT}:role/reader", RoleSessionName="s1", DurationSeconds=900
    )
    c = out["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA") and len(c["SecretAccessKey"]) == 40
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/reader/s1"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA") and out["AssumedRoleUser"][
        "AssumedRoleId"
    ].endswith(":s1")
    sess_iam = server.client("iam", creds=c)
    sess_iam.list_roles()
    with pytest.raises(ClientError) as e:
        sess_iam.create_user(UserName="x")
    assert code(e.value) == "AccessDenied"
    ident = server.client("sts", creds=c).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/reader/s1"
    narrowed = sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCT}:role/reader",
        RoleSessionName="s2",
        Policy=allow("iam:ListUsers"),
    )["Credentials"]
    n_iam = server.client("iam", creds=narrowed)
    n_iam.list_users()
    with pytest.raises(ClientError) as e:
        n_iam.list_roles()
    assert code(e.value) == "AccessDenied"


def test_external_id_rules(server: Server, alice: dict) -> None:
    iam = server.client("iam")
    iam.create_role(
        RoleName="partner",
        AssumeRolePolicyDocument=trust(
            {"AWS": f"arn:aws:iam::{ACCT}:user/alice"},
            {"StringEquals": {"sts:ExternalId": "xyz-123"}},
        ),
    )
    sts = server.client("sts", creds=alice)
    arn = f"arn:aws:iam::{ACCT}:role/partner"
    for kw in ({}, {"ExternalId": "wrong-id"}):
        with pytest.raises(ClientError) as e:
            sts.assume_role(RoleArn=arn, RoleSessionName="pp", **kw)
        assert code(e.value) == "AccessDenied"
        assert (
            f"is not authorized to perform: sts:AssumeRole on resource: {arn}"
            in e.value.response["Error"]["Message"]
        )
    sts.assume_role(RoleArn=arn, RoleSessionName="pp", ExternalId="xyz-123")


def test_missing_role_is_access_denied_and_durations(server: Server, alice: dict) -> None:
    sts = server.client("sts", creds=alice)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/ghost", RoleSessionName="gg")
    assert code(e.value) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam:{ACCT}:role/ghost", RoleSessionName="gg")
    assert e.value.response["Error"] == {
        "Type": "Sender",
        "Code": "ValidationError",
        "Message": f"arn:aws:iam:{ACCT}:role/ghost is invalid",
    }
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    iam = server.client("iam")
    iam.create_role(
        RoleName="short", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCT}:user/alice"})
    )
    with pytest.raises(ClientError) as e:
        sts.assume_role(
            RoleArn=f"arn:aws:iam::{ACCT}:role/short", RoleSessionName="dd", DurationSeconds=7200
        )
    assert code(e.value) == "ValidationError"
    assert "MaxSessionDuration" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/short", RoleSessionName="bad name")
    assert code(e.value) == "ValidationError"


def test_chain_cap_tags_and_source_identity(server: Server, alice: dict) -> None:
    iam = server.client("iam")
    tag_actions = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
    iam.create_role(
        RoleName="hop1",
        MaxSessionDuration=14400,
        AssumeRolePolicyDocument=trust(
            {"AWS": f"arn:aws:iam::{ACCT}:user/alice"}, actions=tag_actions
        ),
    )
    iam.put_role_policy(
        RoleName="hop1",
        PolicyName="next",
        PolicyDocument=allow(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]),
    )
    iam.create_role(
        RoleName="hop2",
        MaxSessionDuration=14400,
        AssumeRolePolicyDocument=trust(
            {"AWS": f"arn:aws:iam::{ACCT}:role/hop1"}, actions=tag_actions
        ),
    )
    iam.put_role_policy(
        RoleName="hop2", PolicyName="who", PolicyDocument=allow("sts:GetCallerIdentity")
    )
    iam.put_user_policy(
        UserName="alice",
        PolicyName="tags",
        PolicyDocument=allow(["sts:TagSession", "sts:SetSourceIdentity"]),
    )
    time.sleep(0.6)
    first = server.client("sts", creds=alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCT}:role/hop1",
        RoleSessionName="one",
        DurationSeconds=7200,
        Tags=[{"Key": "Project", "Value": "apollo"}, {"Key": "Cost", "Value": "42"}],
        TransitiveTagKeys=["Project"],
        SourceIdentity="alice-laptop",
    )
    assert first["SourceIdentity"] == "alice-laptop"
    s1 = server.client("sts", creds=first["Credentials"])
    with pytest.raises(ClientError) as e:
        s1.assume_role(
            RoleArn=f"arn:aws:iam::{ACCT}:role/hop2", RoleSessionName="two", DurationSeconds=7200
        )
    assert code(e.value) == "ValidationError"
    assert (
        "1 hour session limit for roles assumed by role chaining"
        in e.value.response["Error"]["Message"]
    )
    with pytest.raises(ClientError) as e:
        s1.assume_role(
            RoleArn=f"arn:aws:iam::{ACCT}:role/hop2",
            RoleSessionName="two",
            SourceIdentity="someone-else",
        )
    assert code(e.value) in ("ValidationError", "AccessDenied")
    with pytest.raises(ClientError) as e:
        s1.assume_role(
            RoleArn=f"arn:aws:iam::{ACCT}:role/hop2",
            RoleSessionName="two",
            Tags=[{"Key": "project", "Value": "other"}],
        )
    # AWS's code and message for re-setting an inherited transitive key.
    assert e.value.response["Error"] == {
        "Type": "Sender",
        "Code": "InvalidParameterValue",
        "Message": "One of the specified transitive tag keys can't be set because it "
        "conflicts with a transitive tag key from the calling session.",
    }
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    second = s1.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/hop2", RoleSessionName="two")
    assert second["SourceIdentity"] == "alice-laptop"
    # The transitive tag travelled: hop2's trust can see it as a principal tag.
    # The chain carries the source identity, so hop3's trust must allow setting it.
    iam.create_role(
        RoleName="hop3",
        AssumeRolePolicyDocument=trust(
            {"AWS": f"arn:aws:iam::{ACCT}:role/hop2"},
            {"StringEquals": {"aws:PrincipalTag/Project": "apollo"}},
            actions=tag_actions,
        ),
    )
    iam.put_role_policy(RoleName="hop2", PolicyName="next", PolicyDocument=allow("sts:AssumeRole"))
    time.sleep(0.6)
    s2 = server.client("sts", creds=second["Credentials"])
    s2.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/hop3", RoleSessionName="three")


def test_credentials_expire(server: Server, alice: dict) -> None:
    iam = server.client("iam")
    iam.create_role(
        RoleName="brief", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCT}:user/alice"})
    )
    c = server.client("sts", creds=alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCT}:role/brief", RoleSessionName="bb", DurationSeconds=900
    )["Credentials"]
    sess = server.client("sts", creds=c)
    sess.get_caller_identity()
    server.set_clock_offset(901)
    try:
        # Sign with the server's shifted clock too, so only expiry fails.
        shifted = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=901)
        with (
            mock.patch("botocore.auth.get_current_datetime", return_value=shifted),
            pytest.raises(ClientError) as e,
        ):
            sess.get_caller_identity()
        assert code(e.value) == "ExpiredToken"
    finally:
        server.set_clock_offset(0)


def test_credentials_expire_for_the_cli_on_the_real_clock(server: Server, alice: dict) -> None:
    # As README tells a user: DurationSeconds=900, shift the server 901 s,
    # and the CLI (signing with its own, unshifted clock) gets ExpiredToken,
    # not "Signature expired": the token's expiry is checked first.
    server.client("iam").create_role(
        RoleName="brief-cli",
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}),
    )
    c = server.client("sts", creds=alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCT}:role/brief-cli", RoleSessionName="cli", DurationSeconds=900
    )["Credentials"]
    assert server.aws("sts", "get-caller-identity", creds=c).returncode == 0
    server.set_clock_offset(901)
    try:
        r = server.aws("sts", "get-caller-identity", creds=c, check=False)
        assert r.returncode != 0 and "(ExpiredToken)" in r.stderr, r.stderr
    finally:
        server.set_clock_offset(0)


def test_trust_policy_checks_and_provided_contexts_through_boto3(
    server: Server, alice: dict
) -> None:
    iam = server.client("iam")
    alice_arn = f"arn:aws:iam::{ACCT}:user/alice"
    for doc, message in (
        (trust({"AWS": alice_arn}, actions=["s3:GetObject"]), "Trust Policy statement actions"),
        (trust({"AWS": "bogus"}), 'Invalid principal in policy: "AWS":"bogus"'),
    ):
        with pytest.raises(ClientError) as e:
            iam.create_role(RoleName="checked", AssumeRolePolicyDocument=doc)
        assert code(e.value) == "MalformedPolicyDocument" and message in str(e.value)
    iam.create_role(RoleName="checked", AssumeRolePolicyDocument=trust({"AWS": alice_arn}))
    sts = server.client("sts", creds=alice)
    with pytest.raises(ClientError) as e:
        sts.assume_role(
            RoleArn=f"arn:aws:iam::{ACCT}:role/checked",
            RoleSessionName="ctx",
            ProvidedContexts=[
                {
                    "ProviderArn": "arn:aws:iam::aws:contextProvider/IdentityCenter",
                    "ContextAssertion": "abcdefgh",
                }
            ],
        )
    assert code(e.value) == "InvalidContextAssertion"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    sts.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/checked", RoleSessionName="plain")


def test_tampered_token(server: Server, alice: dict) -> None:
    iam = server.client("iam")
    iam.create_role(
        RoleName="tamper",
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}),
    )
    c = server.client("sts", creds=alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCT}:role/tamper", RoleSessionName="tt"
    )["Credentials"]
    tok = c["SessionToken"]
    mid = len(tok) // 2
    flipped = tok[:mid] + ("A" if tok[mid] != "A" else "B") + tok[mid + 1 :]
    for bad in (flipped, tok[:-10], tok + "AAAA"):
        with pytest.raises(ClientError) as e:
            server.client("sts", creds={**c, "SessionToken": bad}).get_caller_identity()
        assert code(e.value) == "InvalidClientTokenId"
    other = server.client("sts", creds=alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCT}:role/tamper", RoleSessionName="t2"
    )["Credentials"]
    with pytest.raises(ClientError) as e:  # a real token paired with another session's key id
        server.client(
            "sts", creds={**c, "SessionToken": other["SessionToken"]}
        ).get_caller_identity()
    assert code(e.value) == "InvalidClientTokenId"


def test_revoked_sessions(server: Server, alice: dict) -> None:
    iam = server.client("iam")
    iam.create_role(
        RoleName="revokable",
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCT}:user/alice"}),
    )
    iam.attach_role_policy(
        RoleName="revokable", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    )
    c = server.client("sts", creds=alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCT}:role/revokable", RoleSessionName="rr"
    )["Credentials"]
    server.client("iam", creds=c).list_users()
    time.sleep(1.1)
    server.cli("roles", "revoke-sessions", ACCT, "revokable", *server.store_args())
    # Token issue times are whole seconds and the revocation time has
    # milliseconds, so every session issued in the revocation's second is
    # revoked too (fail closed): the fresh session below must come from a
    # later second.
    time.sleep(1.1)
    with pytest.raises(ClientError) as e:
        server.client("iam", creds=c).list_users()
    assert code(e.value) == "AccessDenied"
    fresh = server.client("sts", creds=alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCT}:role/revokable", RoleSessionName="r2"
    )["Credentials"]
    server.client("iam", creds=fresh).list_users()


def test_mfa_and_cli_profile_chain(server: Server, alice: dict) -> None:
    iam = server.client("iam")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"]
    seed = dev["Base32StringSeed"].decode()
    totp = pyotp.TOTP(seed)
    now = time.time()
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=dev["SerialNumber"],
        AuthenticationCode1=totp.at(now - 30),
        AuthenticationCode2=totp.at(now),
    )
    iam.create_role(
        RoleName="mfa-gate",
        MaxSessionDuration=7200,
        AssumeRolePolicyDocument=trust(
            {"AWS": f"arn:aws:iam::{ACCT}:user/alice"},
            {
                "StringEquals": {"sts:ExternalId": "ext-1"},
                "Bool": {"aws:MultiFactorAuthPresent": "true"},
            },
        ),
    )
    iam.put_role_policy(
        RoleName="mfa-gate", PolicyName="next", PolicyDocument=allow("sts:AssumeRole")
    )
    iam.create_role(
        RoleName="far",
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCT}:role/mfa-gate"}),
    )
    iam.attach_role_policy(RoleName="far", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    time.sleep(0.6)
    sts = server.client("sts", creds=alice)
    with pytest.raises(ClientError) as e:  # no MFA
        sts.assume_role(
            RoleArn=f"arn:aws:iam::{ACCT}:role/mfa-gate", RoleSessionName="mm", ExternalId="ext-1"
        )
    assert code(e.value) == "AccessDenied"
    # The steps up to now were spent enabling the device: move the server's
    # clock two steps on instead of waiting for a fresh code.
    server.set_clock_offset(60)
    code_now = totp.at(time.time() + 60)
    profile_config = f"""[default]
region = eu-west-1
output = json

[profile gate]
role_arn = arn:aws:iam::{ACCT}:role/mfa-gate
source_profile = default
external_id = ext-1
mfa_serial = {dev["SerialNumber"]}
duration_seconds = 3600

[profile far]
role_arn = arn:aws:iam::{ACCT}:role/far
source_profile = gate
"""
    import subprocess

    from tests.e2e.server import AWS

    proc = subprocess.run(
        [AWS, "sts", "get-caller-identity", "--profile", "far"],
        input=code_now + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=_cli_env(server, alice, profile_config),
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Arn"].startswith(f"arn:aws:sts::{ACCT}:assumed-role/far/")
    # The same code cannot be used twice.
    try:
        with pytest.raises(ClientError) as e:
            sts.assume_role(
                RoleArn=f"arn:aws:iam::{ACCT}:role/mfa-gate",
                RoleSessionName="mm",
                ExternalId="ext-1",
                SerialNumber=dev["SerialNumber"],
                TokenCode=code_now,
            )
        assert code(e.value) == "AccessDenied"
    finally:
        server.set_clock_offset(0)


def _cli_env(server: Server, creds: dict, profile_config: str) -> dict:
    import os
    import secrets

    cfg = server.tmp / f"cfg-{secrets.token_hex(3)}"
    cred = server.tmp / f"cred-{secrets.token_hex(3)}"
    cfg.write_text(profile_config)
    cred.write_text(
        f"[default]\naws_access_key_id = {creds['AccessKeyId']}\naws_secret_access_key = {creds['SecretAccessKey']}\n"
    )
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update(
        AWS_CONFIG_FILE=str(cfg),
        AWS_SHARED_CREDENTIALS_FILE=str(cred),
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_MAX_ATTEMPTS="1",
        AWS_DEFAULT_REGION="eu-west-1",
        HOME=str(server.tmp),
    )  # the CLI caches assumed-role credentials under ~/.aws/cli/cache
    return e


def test_cross_account_via_organizations(server: Server, alice: dict) -> None:
    # Made the way a user would: with the AWS CLI.
    server.aws("organizations", "create-organization", "--feature-set", "ALL")
    status = json.loads(
        server.aws(
            "organizations",
            "create-account",
            "--email",
            "prod@example.com",
            "--account-name",
            "prod",
        ).stdout
    )["CreateAccountStatus"]
    st = json.loads(
        server.aws(
            "organizations",
            "describe-create-account-status",
            "--create-account-request-id",
            status["Id"],
        ).stdout
    )["CreateAccountStatus"]
    assert st["State"] == "SUCCEEDED"
    new_acct = st["AccountId"]
    org = server.client("organizations")
    assert new_acct in {a["Id"] for a in org.list_accounts()["Accounts"]}
    assert org.describe_account(AccountId=new_acct)["Account"]["Name"] == "prod"
    role_arn = f"arn:aws:iam::{new_acct}:role/OrganizationAccountAccessRole"
    admin_sts = server.client("sts")
    c = admin_sts.assume_role(RoleArn=role_arn, RoleSessionName="ops")["Credentials"]
    ident = server.client("sts", creds=c).get_caller_identity()
    assert ident["Account"] == new_acct
    iam_there = server.client("iam", creds=c)
    iam_there.create_user(UserName="prod-user")
    assert [u["UserName"] for u in iam_there.list_users()["Users"]] == ["prod-user"]
    # alice may AssumeRole by her identity policy, but the role's trust names only the
    # management account root -> alice's identity policy allows sts:AssumeRole on * -> allowed.
    # A user of the management account without that identity permission is refused.
    iam = server.client("iam")
    iam.create_user(UserName="nobody")
    nk = iam.create_access_key(UserName="nobody")["AccessKey"]
    time.sleep(0.6)
    with pytest.raises(ClientError) as e:
        server.client("sts", creds=nk).assume_role(RoleArn=role_arn, RoleSessionName="xx")
    assert code(e.value) == "AccessDenied"
    time.sleep(0.5)
    events = json.loads(
        server.cli(
            "audit", "query", *server.store_args(), "--event-name", "AssumeRole", "--json"
        ).stdout
    )
    ops = [
        ev for ev in events if (ev.get("requestParameters") or {}).get("roleSessionName") == "ops"
    ]
    assert {ev["recipientAccountId"] for ev in ops} == {ACCT, new_acct}
    assert len({ev["sharedEventID"] for ev in ops}) == 1
