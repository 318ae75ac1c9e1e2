"""GenerateCredentialReport / GetCredentialReport (IAM User Guide, "Getting
credential reports"): STARTED then COMPLETE, the documented CSV columns, a
report reused and then expired after four hours."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from rolegate.errors import ReportExpired, ReportNotPresent
from rolegate.iam.credential_report import COLUMNS

from .conftest import ACCOUNT


def _rows(iam) -> list[dict[str, str]]:
    out = iam("GetCredentialReport")
    assert out["ReportFormat"] == "text/csv"
    return list(csv.DictReader(io.StringIO(out["Content"].decode())))


def test_report_lifecycle_and_columns(iam):
    with pytest.raises(ReportNotPresent) as e:
        iam("GetCredentialReport")
    assert e.value.status == 410
    iam("CreateUser", UserName="carol")
    key = iam("CreateAccessKey", UserName="carol")["AccessKey"]
    iam("CreateLoginProfile", UserName="carol", Password="Zq7-first-Passw0rd")
    assert iam("GenerateCredentialReport")["State"] == "STARTED"
    assert iam("GenerateCredentialReport") == {"State": "COMPLETE"}
    content = iam("GetCredentialReport")["Content"].decode()
    assert content.splitlines()[0] == ",".join(COLUMNS)
    rows = {r["user"]: r for r in _rows(iam)}
    root = rows["<root_account>"]
    assert root["arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert root["password_enabled"] == "not_supported"
    carol = rows["carol"]
    assert carol["arn"] == f"arn:aws:iam::{ACCOUNT}:user/carol"
    assert carol["password_enabled"] == "true" and carol["password_last_used"] == "no_information"
    assert carol["mfa_active"] == "false"
    assert carol["access_key_1_active"] == "true"
    assert carol["access_key_1_last_rotated"].endswith("+00:00")
    assert carol["access_key_1_last_used_date"] == "N/A"
    assert carol["access_key_2_active"] == "false" and carol["cert_1_active"] == "false"
    assert key["AccessKeyId"] not in content and "Passw0rd" not in content

    # Within four hours the report is reused; after, Get says it expired and
    # Generate builds a new one.
    iam("DeleteLoginProfile", UserName="carol")
    iam.now += timedelta(hours=1)
    assert iam("GenerateCredentialReport") == {"State": "COMPLETE"}
    assert {r["user"]: r for r in _rows(iam)}["carol"]["password_enabled"] == "true"
    iam.now += timedelta(hours=4)
    with pytest.raises(ReportExpired):
        iam("GetCredentialReport")
    assert iam("GenerateCredentialReport")["State"] == "STARTED"
    assert {r["user"]: r for r in _rows(iam)}["carol"]["password_enabled"] == "false"
