"""NextTokens are client input: whatever a client makes of one, the answer
is InvalidInputException ("The NextToken value is not valid."), never a 500.
Organizations' model lists InvalidInputException (reason INVALID_NEXT_TOKEN)
for every List operation."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from rolegate.errors import AwsError
from tests.sts.conftest import A, World, root


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


DEEP = [
    "[" * 5000 + "]" * 5000,
    '{"a":' * 5000 + "1" + "}" * 5000,
    '{"after":' + "[" * 5000 + "]" * 5000 + "}",
    '{"op":"ListRoots","after":' + "[" * 5000 + "]" * 5000 + "}",
    '{"after":' + "[" * 900 + "]" * 900 + "}",
]
LISTINGS: list[tuple[str, dict[str, Any]]] = [
    ("ListAccounts", {}),
    ("ListRoots", {}),
    ("ListCreateAccountStatus", {}),
    ("ListChildren", {"ChildType": "ACCOUNT"}),
    ("ListAccountsForParent", {}),
    ("ListParents", {}),
]


@pytest.fixture
def managed(world: World) -> Iterator[World]:
    world.call("organizations", "CreateOrganization", root(A), FeatureSet="ALL")
    yield world


@pytest.mark.parametrize("deep", DEEP, ids=range(len(DEEP)))
@pytest.mark.parametrize(("action", "params"), LISTINGS, ids=[a for a, _ in LISTINGS])
def test_deeply_nested_next_token_is_invalid_input(
    managed: World, action: str, params: dict[str, Any], deep: str
) -> None:
    world = managed
    rid = world.call("organizations", "ListRoots", root(A))["Roots"][0]["Id"]
    params = {k: v for k, v in params.items()}
    if action in ("ListChildren", "ListAccountsForParent"):
        params["ParentId"] = rid
    if action == "ListParents":
        params["ChildId"] = A
    with pytest.raises(AwsError) as info:
        world.call("organizations", action, root(A), NextToken=_b64(deep), **params)
    assert info.value.code == "InvalidInputException"
    assert info.value.status == 400
    assert info.value.message == "The NextToken value is not valid."


@pytest.mark.parametrize(
    "token",
    ["=", "!!!!", _b64("null"), _b64("[]"), _b64('{"after":null}'), "\ud800"],
)
def test_garbled_next_token_is_invalid_input(managed: World, token: str) -> None:
    with pytest.raises(AwsError) as info:
        managed.call("organizations", "ListAccounts", root(A), NextToken=token)
    assert info.value.code == "InvalidInputException"


def test_issued_tokens_still_resume(managed: World) -> None:
    world = managed
    for i in range(3):
        world.call(
            "organizations",
            "CreateAccount",
            root(A),
            Email=f"n{i}@example.com",
            AccountName=f"n{i}",
        )
    page = world.call("organizations", "ListAccounts", root(A), MaxResults=1)
    rest = world.call("organizations", "ListAccounts", root(A), NextToken=page["NextToken"])
    assert rest["Accounts"]
    json.loads(base64.urlsafe_b64decode(page["NextToken"]))
