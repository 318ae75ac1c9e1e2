from __future__ import annotations

import random
import re
import secrets

import pytest

from rolegate import ids


def test_unique_ids_shape_and_determinism() -> None:
    for prefix in ("AIDA", "AROA", "AGPA", "ANPA", "ANVA"):
        value = ids.new_unique_id(prefix, random.Random(7))
        assert len(value) == 21
        assert re.fullmatch(prefix + r"[A-Z0-9]{17}", value)
        assert value == ids.new_unique_id(prefix, random.Random(7))
        assert ids.is_unique_id(value)
    with pytest.raises(ValueError):
        ids.new_unique_id("AKIA", random.Random(1))
    with pytest.raises(ValueError):
        ids.new_unique_id("XXXX", random.Random(1))


def test_access_key_ids() -> None:
    rng = random.Random(3)
    for prefix in ("AKIA", "ASIA"):
        value = ids.new_access_key_id(prefix, rng)
        assert len(value) == 20
        assert re.fullmatch(prefix + r"[A-Z2-7]{16}", value)
        assert ids.is_access_key_id(value)
    assert ids.access_key_kind("AKIAIOSFODNN7EXAMPLE") == "long-term"
    assert ids.access_key_kind("ASIAIOSFODNN7EXAMPLE") == "temporary"
    assert ids.access_key_kind("AIDAIOSFODNN7EXAMPLE") is None
    with pytest.raises(ValueError):
        ids.new_access_key_id("AIDA", rng)


def test_secret() -> None:
    value = ids.new_secret(random.Random(5))
    assert len(value) == 40
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", value)
    assert value == ids.new_secret(random.Random(5))
    # The shells pass a CSPRNG; it satisfies the same interface.
    assert len(ids.new_secret(secrets.SystemRandom())) == 40


def test_ids_spread() -> None:
    rng = random.Random(11)
    values = {ids.new_access_key_id("ASIA", rng) for _ in range(2000)}
    assert len(values) == 2000
