"""Creating with Tags is also tagging: every IAM create that takes Tags asks
for the resource type's Tag* action on the new ARN too (AWS refuses CreateRole
with Tags as "not authorized to perform: iam:TagRole on resource: ..." --
openshift/installer#1073; #7843 for iam:TagInstanceProfile), with the request's
tags as condition keys of both checks, and a refusal writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from rolegate.errors import AccessDenied
from tests.iam.conftest import ACCOUNT, Iam, allow, trust
from tests.iam.credential_material import cert_pem, key_pem, rsa_key
from tests.iam.test_providers import metadata
from tests.sts.conftest import (
    A,
    World,
    doc,
    world,  # noqa: F401  (fixture)
)

TAGS = [{"Key": "team", "Value": "blue"}]
WANT_CONTEXT = {"aws:RequestTag/team": "blue", "aws:TagKeys": ["team"]}


def _cert() -> dict[str, str]:
    key = rsa_key("server")
    return {"CertificateBody": cert_pem(key), "PrivateKey": key_pem(key)}


# (create action, its parameters, the Tag* action, the new ARN, a listing that shows it)
CASES: list[tuple[str, Any, str, str, tuple[str, dict[str, Any], str]]] = [
    (
        "CreateRole",
        lambda: {"RoleName": "r", "Path": "/app/", "AssumeRolePolicyDocument": trust()},
        "iam:TagRole",
        f"arn:aws:iam::{ACCOUNT}:role/app/r",
        ("ListRoles", {}, "Roles"),
    ),
    (
        "CreateUser",
        lambda: {"UserName": "u", "Path": "/dev/"},
        "iam:TagUser",
        f"arn:aws:iam::{ACCOUNT}:user/dev/u",
        ("ListUsers", {}, "Users"),
    ),
    (
        "CreatePolicy",
        lambda: {"PolicyName": "p", "PolicyDocument": allow()},
        "iam:TagPolicy",
        f"arn:aws:iam::{ACCOUNT}:policy/p",
        ("ListPolicies", {"Scope": "Local"}, "Policies"),
    ),
    (
        "CreateInstanceProfile",
        lambda: {"InstanceProfileName": "ip"},
        "iam:TagInstanceProfile",
        f"arn:aws:iam::{ACCOUNT}:instance-profile/ip",
        ("ListInstanceProfiles", {}, "InstanceProfiles"),
    ),
    (
        "CreateVirtualMFADevice",
        lambda: {"VirtualMFADeviceName": "d", "Path": "/m/"},
        "iam:TagMFADevice",
        f"arn:aws:iam::{ACCOUNT}:mfa/m/d",
        ("ListVirtualMFADevices", {}, "VirtualMFADevices"),
    ),
    (
        "CreateOpenIDConnectProvider",
        lambda: {"Url": "https://issuer.example.com/x", "ThumbprintList": ["a" * 40]},
        "iam:TagOpenIDConnectProvider",
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/issuer.example.com/x",
        ("ListOpenIDConnectProviders", {}, "OpenIDConnectProviderList"),
    ),
    (
        "CreateSAMLProvider",
        lambda: {"Name": "idp", "SAMLMetadataDocument": metadata()},
        "iam:TagSAMLProvider",
        f"arn:aws:iam::{ACCOUNT}:saml-provider/idp",
        ("ListSAMLProviders", {}, "SAMLProviderList"),
    ),
    (
        "UploadServerCertificate",
        lambda: {"ServerCertificateName": "c", "Path": "/c/", **_cert()},
        "iam:TagServerCertificate",
        f"arn:aws:iam::{ACCOUNT}:server-certificate/c/c",
        ("ListServerCertificates", {}, "ServerCertificateMetadataList"),
    ),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("create", "params", "tag_action", "arn", "listing"), CASES, ids=IDS)
def test_create_with_tags_also_authorises_tagging(
    iam: Iam, create: str, params: Any, tag_action: str, arn: str, listing: Any
) -> None:
    iam(create, **params(), Tags=TAGS)
    calls = [(a, r, c) for a, r, c in iam.auth.calls]
    assert [(a, r) for a, r, _ in calls] == [(f"iam:{create}", arn), (tag_action, arn)]
    for _, _, context in calls:
        assert {k: context.get(k) for k in WANT_CONTEXT} == WANT_CONTEXT


@pytest.mark.parametrize(("create", "params", "tag_action", "arn", "listing"), CASES, ids=IDS)
def test_refused_tagging_creates_nothing(
    iam: Iam, create: str, params: Any, tag_action: str, arn: str, listing: Any
) -> None:
    iam.auth.deny = {tag_action}
    with pytest.raises(AccessDenied) as err:
        iam(create, **params(), Tags=TAGS)
    assert f"perform: {tag_action} on resource: {arn}" in err.value.message
    iam.auth.deny = set()
    action, list_params, key = listing
    assert iam(action, **list_params)[key] == []


@pytest.mark.parametrize(("create", "params", "tag_action", "arn", "listing"), CASES, ids=IDS)
def test_create_without_tags_asks_no_tagging(
    iam: Iam, create: str, params: Any, tag_action: str, arn: str, listing: Any
) -> None:
    iam.auth.deny = {tag_action}
    iam(create, **params())
    assert [a for a, _, _ in iam.auth.calls] == [f"iam:{create}"]


def test_create_role_with_tags_needs_tag_role(world: World) -> None:  # noqa: F811
    """With the real authoriser: AWS's message, and a TagRole grant scoped by
    the request's tags lets it through."""
    creator = world.user(A, "creator", allow("iam:CreateRole"))
    params = {"RoleName": "tagged", "AssumeRolePolicyDocument": trust(), "Tags": TAGS}
    role_arn = f"arn:aws:iam::{A}:role/tagged"
    with pytest.raises(AccessDenied) as err:
        world.call("iam", "CreateRole", creator, **params)
    assert err.value.message == (
        f"User: arn:aws:iam::{A}:user/creator is not authorized to perform: iam:TagRole on "
        f"resource: {role_arn} because no identity-based policy allows the iam:TagRole action"
    )
    assert world.store.get(A, "role", "tagged") is None
    # Without tags, iam:CreateRole alone is enough.
    world.call("iam", "CreateRole", creator, RoleName="plain", AssumeRolePolicyDocument=trust())

    tagger = world.user(
        A,
        "tagger",
        doc(
            {"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "iam:TagRole",
                "Resource": f"arn:aws:iam::{A}:role/*",
                "Condition": {
                    "StringEquals": {"aws:RequestTag/team": "blue"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
                },
            },
        ),
    )
    world.call("iam", "CreateRole", tagger, **params)
    assert world.store.get(A, "role", "tagged") is not None
    with pytest.raises(AccessDenied, match="iam:TagRole"):
        world.call(
            "iam",
            "CreateRole",
            tagger,
            RoleName="red",
            AssumeRolePolicyDocument=trust(),
            Tags=[{"Key": "team", "Value": "red"}],
        )
