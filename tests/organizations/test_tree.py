"""The organization tree's read side: ListRoots, ListParents, ListChildren,
ListAccountsForParent and ListCreateAccountStatus.

Handler-level tests (the ``world`` of tests/sts) cover every rule; the
``server`` tests drive a real ``rolegate serve`` with boto3 and the AWS CLI,
as account-vending clients do.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from rolegate.errors import AwsError
from rolegate.organizations import HANDLERS
from rolegate.organizations.tree import root_id
from tests.e2e.server import Server, running_server
from tests.sts.conftest import A, B, World, allow, root

TREE_ACTIONS = (
    "ListRoots",
    "ListParents",
    "ListChildren",
    "ListAccountsForParent",
    "ListCreateAccountStatus",
)
ROOT_ID_RE = re.compile(r"r-[0-9a-z]{4,32}")
OU_ID = "ou-abcd-12345678"


def org(world: World, principal: Any, action: str, **params: Any) -> Any:
    return world.call("organizations", action, principal, **params)


def error_of(world: World, principal: Any, action: str, **params: Any) -> AwsError:
    with pytest.raises(AwsError) as e:
        org(world, principal, action, **params)
    return e.value


def new_account(world: World, email: str, name: str) -> dict[str, Any]:
    out = org(world, root(A), "CreateAccount", Email=email, AccountName=name)
    return dict(out["CreateAccountStatus"])


def valid_params(action: str, rid: str, child: str) -> dict[str, Any]:
    """Well-formed input for each tree action (for checks that are not about input)."""
    return {
        "ListRoots": {},
        "ListParents": {"ChildId": child},
        "ListChildren": {"ParentId": rid, "ChildType": "ACCOUNT"},
        "ListAccountsForParent": {"ParentId": rid},
        "ListCreateAccountStatus": {},
    }[action]


def drain(call: Any, key: str, **params: Any) -> tuple[list[Any], int]:
    """Every item of a paginated listing, and how many pages it took."""
    items: list[Any] = []
    pages = 0
    token = None
    while True:
        extra = {"NextToken": token} if token else {}
        page = call(**params, **extra)
        pages += 1
        items.extend(page[key])
        token = page.get("NextToken")
        if not token:
            return items, pages


@pytest.fixture
def managed(world: World) -> Iterator[World]:
    org(world, root(A), "CreateOrganization", FeatureSet="ALL")
    yield world


# --- handler level ------------------------------------------------------------


def test_tree_actions_are_registered_and_modelled() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("organizations")
    for action in TREE_ACTIONS:
        assert action in HANDLERS
        assert action in model.operation_names


def test_root_id_is_derived_from_the_organization_id() -> None:
    # Pinned: a root id once handed out must never change between releases,
    # and organizations made before roots existed get theirs from this.
    assert root_id("o-aaaaaaaaaa") == "r-95b2"
    assert root_id("o-aaaaaaaaaa") == root_id("o-aaaaaaaaaa")
    assert root_id("o-aaaaaaaaaa") != root_id("o-bbbbbbbbbb")
    for org_id in ("o-0123456789", "o-abcdefghijklmnopqrstuvwxyz012345"):
        assert ROOT_ID_RE.fullmatch(root_id(org_id))


def test_list_roots(managed: World) -> None:
    world = managed
    organization = org(world, root(A), "DescribeOrganization")["Organization"]
    out = org(world, root(A), "ListRoots")
    assert "NextToken" not in out
    [r] = out["Roots"]
    assert ROOT_ID_RE.fullmatch(r["Id"]) and r["Id"] == root_id(organization["Id"])
    assert r["Arn"] == f"arn:aws:organizations::{A}:root/{organization['Id']}/{r['Id']}"
    assert r["Name"] == "Root" and r["PolicyTypes"] == []
    # Stable: the same root on every call, also with the smallest page.
    assert org(world, root(A), "ListRoots", MaxResults=1)["Roots"] == [r]


def test_root_of_an_organization_stored_before_roots_existed(world: World) -> None:
    # An organization exactly as earlier releases stored it: membership only,
    # no root anywhere in the store.
    data = {
        "organization": {
            "id": "o-legacy0001",
            "management_account_id": A,
            "feature_set": "ALL",
            "joined_method": "INVITED",
            "joined_timestamp": "2025-01-01T00:00:00+00:00",
        }
    }
    with world.store.transaction() as tx:
        tx.update_account(A, data=data, now=world.now)
    [r] = org(world, root(A), "ListRoots")["Roots"]
    assert r["Id"] == root_id("o-legacy0001")
    children = org(world, root(A), "ListChildren", ParentId=r["Id"], ChildType="ACCOUNT")
    assert children["Children"] == [{"Id": A, "Type": "ACCOUNT"}]


def test_list_parents(managed: World) -> None:
    world = managed
    rid = org(world, root(A), "ListRoots")["Roots"][0]["Id"]
    made = new_account(world, "p@example.com", "p")["AccountId"]
    for child in (A, made):
        out = org(world, root(A), "ListParents", ChildId=child)
        assert out == {"Parents": [{"Id": rid, "Type": "ROOT"}]}
    # B exists but is not in the organization; the others do not exist at all.
    for unknown in (B, "999999999999", OU_ID):
        err = error_of(world, root(A), "ListParents", ChildId=unknown)
        assert err.code == "ChildNotFoundException" and "ChildId" in err.message


def test_list_children_and_accounts_for_parent_paginate(managed: World) -> None:
    world = managed
    rid = org(world, root(A), "ListRoots")["Roots"][0]["Id"]
    made = [new_account(world, f"c{i}@example.com", f"child{i}")["AccountId"] for i in range(4)]
    members = sorted([A, *made])

    def children(**p: Any) -> Any:
        return org(world, root(A), "ListChildren", ParentId=rid, ChildType="ACCOUNT", **p)

    seen, pages = drain(children, "Children", MaxResults=2)
    assert pages == 3
    assert seen == [{"Id": i, "Type": "ACCOUNT"} for i in members]  # B is not a member
    assert children()["Children"] == seen and "NextToken" not in children()

    def for_parent(**p: Any) -> Any:
        return org(world, root(A), "ListAccountsForParent", ParentId=rid, **p)

    accounts, pages = drain(for_parent, "Accounts", MaxResults=3)
    assert pages == 2
    listed, _ = drain(lambda **p: org(world, root(A), "ListAccounts", **p), "Accounts")
    assert accounts == listed  # the very shapes ListAccounts gives
    assert [a["Id"] for a in accounts] == members
    first = accounts[[a["Id"] for a in accounts].index(made[0])]
    assert first["Name"] == "child0" and first["JoinedMethod"] == "CREATED"

    # rolegate has no OUs: the root has none, and an OU is no parent.
    ous = org(world, root(A), "ListChildren", ParentId=rid, ChildType="ORGANIZATIONAL_UNIT")
    assert ous == {"Children": []}
    for parent in (OU_ID, "r-zzzz" if rid != "r-zzzz" else "r-yyyy"):
        for action, extra in (
            ("ListChildren", {"ChildType": "ACCOUNT"}),
            ("ListAccountsForParent", {}),
        ):
            err = error_of(world, root(A), action, ParentId=parent, **extra)
            assert err.code == "ParentNotFoundException" and "ParentId" in err.message


def test_root_of_another_organization_is_not_a_parent(managed: World) -> None:
    world = managed
    org(world, root(B), "CreateOrganization")
    theirs = org(world, root(B), "ListRoots")["Roots"][0]
    ours = org(world, root(A), "ListRoots")["Roots"][0]
    assert theirs["Arn"] != ours["Arn"]
    assert org(world, root(B), "ListChildren", ParentId=theirs["Id"], ChildType="ACCOUNT")[
        "Children"
    ] == [{"Id": B, "Type": "ACCOUNT"}]
    if theirs["Id"] != ours["Id"]:
        err = error_of(world, root(A), "ListAccountsForParent", ParentId=theirs["Id"])
        assert err.code == "ParentNotFoundException"
    assert error_of(world, root(A), "ListParents", ChildId=B).code == "ChildNotFoundException"


def test_list_create_account_status_filters_and_paginates(managed: World) -> None:
    world = managed
    ok = [new_account(world, f"s{i}@example.com", f"s{i}") for i in range(3)]
    world.advance(60)
    failed = new_account(world, "S0@example.com", "dup")  # e-mail taken: FAILED
    assert failed["State"] == "FAILED"
    everything = [*ok, failed]

    def statuses(**p: Any) -> Any:
        return org(world, root(A), "ListCreateAccountStatus", **p)

    seen, pages = drain(statuses, "CreateAccountStatuses", MaxResults=1)
    assert pages == 4
    # The shapes DescribeCreateAccountStatus gives, oldest request first.
    assert seen[-1] == failed
    assert sorted(seen, key=lambda s: s["Id"]) == sorted(everything, key=lambda s: s["Id"])
    for s in seen:
        described = org(
            world, root(A), "DescribeCreateAccountStatus", CreateAccountRequestId=s["Id"]
        )
        assert described["CreateAccountStatus"] == s
    assert statuses(States=["FAILED"])["CreateAccountStatuses"] == [failed]
    succeeded, pages = drain(statuses, "CreateAccountStatuses", States=["SUCCEEDED"], MaxResults=2)
    assert pages == 2 and {s["Id"] for s in succeeded} == {s["Id"] for s in ok}
    both = statuses(States=["SUCCEEDED", "FAILED"])["CreateAccountStatuses"]
    assert both == seen
    assert statuses(States=["IN_PROGRESS"]) == {"CreateAccountStatuses": []}
    assert statuses(States=[])["CreateAccountStatuses"] == seen  # empty: no filter
    # Another organization's management account sees none of these.
    org(world, root(B), "CreateOrganization")
    assert org(world, root(B), "ListCreateAccountStatus") == {"CreateAccountStatuses": []}


def test_member_accounts_and_outsiders_are_refused(managed: World) -> None:
    world = managed
    rid = org(world, root(A), "ListRoots")["Roots"][0]["Id"]
    member = new_account(world, "m@example.com", "member")["AccountId"]
    # A member sees its organization but may not read the tree (no delegated
    # administrators in rolegate), even with an allow-everything policy.
    assert org(world, root(member), "DescribeOrganization")["Organization"]["MasterAccountId"] == A
    admin_there = world.user(member, "admin", allow("*"))
    for action in TREE_ACTIONS:
        params = valid_params(action, rid, member)
        for caller in (root(member), admin_there):
            assert error_of(world, caller, action, **params).code == "AccessDeniedException"
        err = error_of(world, root(B), action, **params)
        assert err.code == "AWSOrganizationsNotInUseException"
        assert err.message == "Your account is not a member of an organization."


def test_tree_actions_are_authorised(managed: World) -> None:
    world = managed
    rid = org(world, root(A), "ListRoots")["Roots"][0]["Id"]
    reader = world.user(A, "reader", allow("organizations:List*"))
    describer = world.user(A, "describer", allow("organizations:Describe*"))
    for action in TREE_ACTIONS:
        params = valid_params(action, rid, A)
        org(world, reader, action, **params)
        err = error_of(world, describer, action, **params)
        assert err.code == "AccessDeniedException"
        assert f"organizations:{action}" in err.message
    only_roots = world.user(A, "roots", allow("organizations:ListRoots"))
    org(world, only_roots, "ListRoots")
    err = error_of(world, only_roots, "ListChildren", ParentId=rid, ChildType="ACCOUNT")
    assert err.code == "AccessDeniedException"


def test_tree_listings_are_authorised_on_the_parent_or_child(managed: World) -> None:
    """The reference's resource types: ListChildren and ListAccountsForParent
    on the parent (root or OU), ListParents on the child (account or OU); a
    policy scoped to those ARNs grants exactly them."""
    world = managed
    [r] = org(world, root(A), "ListRoots")["Roots"]
    org_id = org(world, root(A), "DescribeOrganization")["Organization"]["Id"]
    made = new_account(world, "s@example.com", "scoped")["AccountId"]
    root_arn = r["Arn"]
    assert root_arn == f"arn:aws:organizations::{A}:root/{org_id}/{r['Id']}"
    account_arn = f"arn:aws:organizations::{A}:account/{org_id}/{made}"
    ou_arn = f"arn:aws:organizations::{A}:ou/{org_id}/{OU_ID}"
    scoped = world.user(
        A,
        "scoped",
        allow(["organizations:ListChildren", "organizations:ListAccountsForParent"], root_arn),
        allow("organizations:ListParents", account_arn),
    )
    got = org(world, scoped, "ListChildren", ParentId=r["Id"], ChildType="ACCOUNT")
    assert {"Id": made, "Type": "ACCOUNT"} in got["Children"]
    got = org(world, scoped, "ListAccountsForParent", ParentId=r["Id"])
    assert made in [a["Id"] for a in got["Accounts"]]
    assert org(world, scoped, "ListParents", ChildId=made)["Parents"] == [
        {"Id": r["Id"], "Type": "ROOT"}
    ]
    # Other nodes are other resources: refused, naming the ARN asked about.
    for action, params, arn in (
        ("ListChildren", {"ParentId": OU_ID, "ChildType": "ACCOUNT"}, ou_arn),
        ("ListAccountsForParent", {"ParentId": OU_ID}, ou_arn),
        ("ListParents", {"ChildId": A}, f"arn:aws:organizations::{A}:account/{org_id}/{A}"),
        ("ListParents", {"ChildId": OU_ID}, ou_arn),
    ):
        err = error_of(world, scoped, action, **params)
        assert err.code == "AccessDeniedException"
        assert f"organizations:{action} on resource: {arn}" in err.message
    # DescribeAccount keeps its account ARN.
    describer = world.user(A, "acct", allow("organizations:DescribeAccount", account_arn))
    assert org(world, describer, "DescribeAccount", AccountId=made)["Account"]["Id"] == made
    assert error_of(world, describer, "DescribeAccount", AccountId=A).code == (
        "AccessDeniedException"
    )


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("ListRoots", {"MaxResults": 0}),
        ("ListRoots", {"MaxResults": 21}),
        ("ListRoots", {"MaxResults": True}),
        ("ListRoots", {"NextToken": "garbage"}),
        ("ListParents", {}),
        ("ListParents", {"ChildId": "r-abcd"}),
        ("ListParents", {"ChildId": "12345678901"}),
        ("ListChildren", {"ChildType": "ACCOUNT"}),
        ("ListChildren", {"ParentId": "ROOT", "ChildType": "ACCOUNT"}),
        ("ListChildren", {"ParentId": "r-abcd"}),
        ("ListChildren", {"ParentId": "r-abcd", "ChildType": "POLICY"}),
        ("ListChildren", {"ParentId": "r-abcd", "ChildType": "ACCOUNT", "NextToken": "x"}),
        ("ListAccountsForParent", {"ParentId": 7}),
        ("ListAccountsForParent", {"ParentId": "r-abcd", "MaxResults": 50}),
        ("ListCreateAccountStatus", {"States": ["DONE"]}),
        ("ListCreateAccountStatus", {"States": [None]}),
        ("ListCreateAccountStatus", {"States": "SUCCEEDED"}),
        ("ListCreateAccountStatus", {"NextToken": "e30="}),
    ],
)
def test_invalid_input(managed: World, action: str, params: dict[str, Any]) -> None:
    assert error_of(managed, root(A), action, **params).code == "InvalidInputException"


def test_tokens_resume_only_their_own_listing(managed: World) -> None:
    world = managed
    rid = org(world, root(A), "ListRoots")["Roots"][0]["Id"]
    for i in range(2):
        new_account(world, f"t{i}@example.com", f"t{i}")
    status_token = org(world, root(A), "ListCreateAccountStatus", MaxResults=1)["NextToken"]
    accounts_token = org(world, root(A), "ListAccounts", MaxResults=1)["NextToken"]
    err = error_of(world, root(A), "ListRoots", NextToken=status_token)
    assert err.code == "InvalidInputException"
    err = error_of(world, root(A), "ListCreateAccountStatus", NextToken=accounts_token)
    assert err.code == "InvalidInputException"
    # Account pages share ListAccounts' tokens: same accounts, same order.
    rest = org(world, root(A), "ListAccountsForParent", ParentId=rid, NextToken=accounts_token)
    assert (
        rest["Accounts"]
        == org(world, root(A), "ListAccounts", NextToken=accounts_token)["Accounts"]
    )


# --- a real server: boto3 and the AWS CLI ---------------------------------------

OUTSIDER = "210987654321"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp("rolegate-tree")
    with running_server(tmp) as srv:
        yield srv


@pytest.fixture(scope="module")
def tree(server: Server) -> dict[str, Any]:
    """An organization with three created accounts and one failed request."""
    client = server.client("organizations")
    organization = client.create_organization(FeatureSet="ALL")["Organization"]
    made = []
    for i in range(3):
        st = client.create_account(Email=f"e2e{i}@example.com", AccountName=f"e2e{i}")
        made.append(st["CreateAccountStatus"]["AccountId"])
    failed = client.create_account(Email="E2E0@example.com", AccountName="dup")
    return {
        "org": organization,
        "mgmt": server.admin["account_id"],
        "made": made,
        "failed": failed["CreateAccountStatus"],
    }


def code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


def test_server_boto3_tree(server: Server, tree: dict[str, Any]) -> None:
    client = server.client("organizations")
    [r] = client.list_roots()["Roots"]
    assert ROOT_ID_RE.fullmatch(r["Id"]) and r["Id"] == root_id(tree["org"]["Id"])
    assert r["Arn"] == f"arn:aws:organizations::{tree['mgmt']}:root/{tree['org']['Id']}/{r['Id']}"
    assert r["Name"] == "Root" and r["PolicyTypes"] == []
    members = sorted([tree["mgmt"], *tree["made"]])

    # boto3's paginators follow NextToken/MaxResults as Terraform's SDK does.
    pages = list(
        client.get_paginator("list_children").paginate(
            ParentId=r["Id"], ChildType="ACCOUNT", PaginationConfig={"PageSize": 1}
        )
    )
    assert len(pages) == len(members)
    assert [c for p in pages for c in p["Children"]] == [
        {"Id": i, "Type": "ACCOUNT"} for i in members
    ]
    assert client.list_children(ParentId=r["Id"], ChildType="ORGANIZATIONAL_UNIT")["Children"] == []
    accounts = [
        a
        for p in client.get_paginator("list_accounts_for_parent").paginate(
            ParentId=r["Id"], PaginationConfig={"PageSize": 2}
        )
        for a in p["Accounts"]
    ]
    assert accounts == client.list_accounts()["Accounts"]
    assert accounts[0]["JoinedTimestamp"].tzinfo is not None
    for child in (tree["mgmt"], tree["made"][1]):
        assert client.list_parents(ChildId=child)["Parents"] == [{"Id": r["Id"], "Type": "ROOT"}]

    statuses = [
        s
        for p in client.get_paginator("list_create_account_status").paginate(
            PaginationConfig={"PageSize": 1}
        )
        for s in p["CreateAccountStatuses"]
    ]
    assert len(statuses) == 4
    failed = client.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]
    assert [s["Id"] for s in failed] == [tree["failed"]["Id"]]
    assert failed[0]["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    ok = client.list_create_account_status(States=["SUCCEEDED"])["CreateAccountStatuses"]
    assert sorted(s["AccountId"] for s in ok) == sorted(tree["made"])


def test_server_unknown_ids_and_bad_tokens(server: Server, tree: dict[str, Any]) -> None:
    client = server.client("organizations")
    rid = client.list_roots()["Roots"][0]["Id"]
    with pytest.raises(ClientError) as e:
        client.list_parents(ChildId="999999999999")
    assert code(e) == "ChildNotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as e:
        client.list_parents(ChildId=OU_ID)
    assert code(e) == "ChildNotFoundException"
    other_root = "r-zzzz" if rid != "r-zzzz" else "r-yyyy"
    for parent in (other_root, OU_ID):
        with pytest.raises(ClientError) as e:
            client.list_children(ParentId=parent, ChildType="ACCOUNT")
        assert code(e) == "ParentNotFoundException"
        with pytest.raises(ClientError) as e:
            client.list_accounts_for_parent(ParentId=parent)
        assert code(e) == "ParentNotFoundException"
    with pytest.raises(ClientError) as e:
        client.list_create_account_status(NextToken="not-a-token")
    assert code(e) == "InvalidInputException"
    with pytest.raises(ClientError) as e:
        client.list_children(ParentId=rid, ChildType="ACCOUNT", NextToken="not-a-token")
    assert code(e) == "InvalidInputException"


def test_server_constraint_violations_are_invalid_input(server: Server) -> None:
    # botocore's client-side validation would stop a malformed id first.
    client = server.client("organizations", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as e:
        client.describe_account(AccountId="12")
    assert code(e) == "InvalidInputException"
    assert e.value.response["Error"]["Message"] == (
        "You provided a value that does not match the required pattern."
    )
    assert e.value.response["Reason"] == "INVALID_PATTERN"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_server_member_and_outsider_are_refused(server: Server, tree: dict[str, Any]) -> None:
    client = server.client("organizations")
    rid = client.list_roots()["Roots"][0]["Id"]
    member = tree["made"][0]
    # The management account's administrator acting inside the member account.
    creds = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
        RoleSessionName="tree",
    )["Credentials"]
    there = server.client("organizations", creds=creds)
    assert there.describe_organization()["Organization"]["Id"] == tree["org"]["Id"]
    calls = {
        "list_roots": {},
        "list_parents": {"ChildId": member},
        "list_children": {"ParentId": rid, "ChildType": "ACCOUNT"},
        "list_accounts_for_parent": {"ParentId": rid},
        "list_create_account_status": {},
    }
    for name, params in calls.items():
        with pytest.raises(ClientError) as e:
            getattr(there, name)(**params)
        assert code(e) == "AccessDeniedException", name

    boot = server.cli("bootstrap", *server.store_args(), "--account-id", OUTSIDER, "--json")
    outsider = server.client("organizations", creds=json.loads(boot.stdout))
    for name, params in calls.items():
        with pytest.raises(ClientError) as e:
            getattr(outsider, name)(**params)
        assert code(e) == "AWSOrganizationsNotInUseException", name


def test_server_aws_cli_list_roots_and_children(server: Server, tree: dict[str, Any]) -> None:
    roots = json.loads(server.aws("organizations", "list-roots").stdout)["Roots"]
    assert len(roots) == 1 and roots[0]["Name"] == "Root"
    rid = roots[0]["Id"]
    # The CLI follows NextToken itself; --page-size makes it take several pages.
    out = server.aws(
        "organizations",
        "list-children",
        "--parent-id",
        rid,
        "--child-type",
        "ACCOUNT",
        "--page-size",
        "1",
    )
    children = json.loads(out.stdout)["Children"]
    assert [c["Id"] for c in children] == sorted([tree["mgmt"], *tree["made"]])
    assert {c["Type"] for c in children} == {"ACCOUNT"}
    out = server.aws("organizations", "list-parents", "--child-id", tree["made"][2])
    assert json.loads(out.stdout)["Parents"] == [{"Id": rid, "Type": "ROOT"}]
    out = server.aws(
        "organizations",
        "list-accounts-for-parent",
        "--parent-id",
        rid,
        "--query",
        "Accounts[].Name",
    )
    assert sorted(json.loads(out.stdout)) == sorted(["rolegate", "e2e0", "e2e1", "e2e2"])
    out = server.aws("organizations", "list-create-account-status", "--states", "FAILED")
    [failed] = json.loads(out.stdout)["CreateAccountStatuses"]
    assert failed["Id"] == tree["failed"]["Id"]
    bad = server.aws(
        "organizations",
        "list-children",
        "--parent-id",
        "r-zzzz" if rid != "r-zzzz" else "r-yyyy",
        "--child-type",
        "ACCOUNT",
        check=False,
    )
    assert bad.returncode != 0 and "ParentNotFoundException" in bad.stderr

    # The server audits every call; the CLI's ListRoots is among them.
    deadline = time.time() + 10
    events: list[dict[str, Any]] = []
    while time.time() < deadline:
        events = json.loads(
            server.cli(
                "audit", "query", *server.store_args(), "--event-name", "ListRoots", "--json"
            ).stdout
        )
        if events:
            break
        time.sleep(0.3)
    assert events and events[0]["eventSource"] == "organizations.amazonaws.com"
