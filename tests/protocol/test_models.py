"""ServiceSpec metadata the server routes on."""

from __future__ import annotations

import pytest

from rolegate.protocol import get_service


def test_service_specs() -> None:
    sts = get_service("sts")
    assert (sts.version, sts.protocol, sts.signing_name) == ("2011-06-15", "query", "sts")
    assert sts.namespace == "https://sts.amazonaws.com/doc/2011-06-15/"
    assert {"AssumeRole", "GetCallerIdentity", "AssumeRoleWithSAML"} <= sts.operation_names
    iam = get_service("iam")
    assert (iam.version, iam.protocol, iam.signing_name) == ("2010-05-08", "query", "iam")
    assert iam.namespace == "https://iam.amazonaws.com/doc/2010-05-08/"
    org = get_service("organizations")
    assert (org.protocol, org.namespace, org.signing_name) == ("json", None, "organizations")
    assert (org.target_prefix, org.json_version) == ("AWSOrganizationsV20161128", "1.1")
    assert get_service("sts") is sts  # loaded once per process


def test_unknown_service() -> None:
    with pytest.raises(ValueError):
        get_service("s3")
