"""The audit's text view (`rolegate audit tail|query` without --json)."""

from __future__ import annotations

from rolegate.cli import _format_event

ROLE = "arn:aws:iam::123456789012:role/app"


def _event(name: str, **kw: object) -> dict[str, object]:
    ev: dict[str, object] = {
        "eventTime": "2026-11-28T01:02:03Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": name,
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"},
    }
    ev.update(kw)
    return ev


def test_assume_role_shows_the_role_and_the_session_name() -> None:
    line = _format_event(
        _event("AssumeRole", requestParameters={"roleArn": ROLE, "roleSessionName": "deploy-42"})
    )
    assert ROLE in line and "deploy-42" in line
    assert line.startswith(
        "2026-11-28T01:02:03Z sts:AssumeRole arn:aws:iam::123456789012:user/alice OK"
    )


def test_a_denied_assume_role_shows_them_too() -> None:
    line = _format_event(
        _event(
            "AssumeRole",
            errorCode="AccessDenied",
            requestParameters={"roleArn": ROLE, "roleSessionName": "s1"},
        )
    )
    assert "AccessDenied" in line and ROLE in line and "s1" in line


def test_web_identity_falls_back_to_the_resources_and_anonymous_callers() -> None:
    line = _format_event(
        _event(
            "AssumeRoleWithWebIdentity",
            userIdentity={"type": "WebIdentityUser"},
            requestParameters={"roleSessionName": "ci"},
            resources=[{"ARN": ROLE, "type": "AWS::IAM::Role"}],
        )
    )
    assert "WebIdentityUser" in line and ROLE in line and "ci" in line


def test_other_events_keep_their_short_line() -> None:
    line = _format_event(_event("GetCallerIdentity", requestParameters=None))
    assert line == (
        "2026-11-28T01:02:03Z sts:GetCallerIdentity arn:aws:iam::123456789012:user/alice OK"
    )
