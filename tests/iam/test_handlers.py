"""``rolegate.iam.HANDLERS`` against botocore's IAM model."""

from __future__ import annotations

import botocore.session

from rolegate.iam import HANDLERS

# The IAM actions this package is meant to serve (the brief's scope);
# MFA, providers, simulation and authorization details come from sibling modules.
EXPECTED = {
    "CreateUser", "GetUser", "ListUsers", "DeleteUser", "UpdateUser", "TagUser", "UntagUser", "ListUserTags",
    "CreateGroup", "GetGroup", "ListGroups", "DeleteGroup", "UpdateGroup", "AddUserToGroup",
    "RemoveUserFromGroup", "ListGroupsForUser",
    "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey", "GetAccessKeyLastUsed",
    "CreateRole", "GetRole", "ListRoles", "DeleteRole", "UpdateRole", "UpdateRoleDescription",
    "UpdateAssumeRolePolicy", "TagRole", "UntagRole", "ListRoleTags",
    "CreatePolicy", "GetPolicy", "ListPolicies", "DeletePolicy", "CreatePolicyVersion", "GetPolicyVersion",
    "ListPolicyVersions", "DeletePolicyVersion", "SetDefaultPolicyVersion", "TagPolicy", "UntagPolicy",
    "ListPolicyTags", "ListEntitiesForPolicy",
    *(f"{verb}{kind}Policy" for verb in ("Put", "Get", "Delete") for kind in ("User", "Group", "Role")),
    *(f"List{kind}Policies" for kind in ("User", "Group", "Role")),
    *(f"{verb}{kind}Policy" for verb in ("Attach", "Detach") for kind in ("User", "Group", "Role")),
    *(f"ListAttached{kind}Policies" for kind in ("User", "Group", "Role")),
    *(f"{verb}{kind}PermissionsBoundary" for verb in ("Put", "Delete") for kind in ("User", "Role")),
}  # fmt: skip


def test_expected_actions_are_served():
    assert set(HANDLERS) >= EXPECTED, sorted(EXPECTED - set(HANDLERS))


def test_every_handler_is_a_modelled_iam_operation():
    model = botocore.session.get_session().get_service_model("iam")
    assert set(HANDLERS) <= set(model.operation_names), sorted(
        set(HANDLERS) - set(model.operation_names)
    )
    assert all(callable(h) for h in HANDLERS.values())
