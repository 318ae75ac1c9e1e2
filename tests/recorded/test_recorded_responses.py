"""The corpus's responses (and the audit events they produced) are the
recorded ones, up to what normalise.py replaces (request ids and other
generated values). Re-record only for a deliberate behaviour change:
``.venv/bin/python -m tests.recorded --record`` (see tests/recorded/__init__.py)."""

from __future__ import annotations

from tests.recorded import recording


def test_recorded_responses() -> None:
    expected = recording.read()
    actual = recording.run_corpus()
    diffs = recording.differences(expected, actual, limit=5)
    assert not diffs, (
        f"{sum(1 for e, a in zip(expected, actual, strict=False) if e != a)} of {len(expected)} recorded "
        "responses differ (first ones below; '-' recorded, '+' now). A deliberate change? "
        "Re-record with `.venv/bin/python -m tests.recorded --record`.\n\n" + "\n\n".join(diffs)
    )


def test_recording_covers_every_served_operation() -> None:
    missing = recording.coverage(recording.read())
    assert not any(missing.values()), f"served operations the recording never calls: {missing}"
