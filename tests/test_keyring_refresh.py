"""Retiring a sealing key takes effect within about a second, with no
database read per request."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rolegate.server import KeyRingSource
from tests.inprocess import InProcess
from tests.trust import ACCOUNT_TRUST


def assume(rg: InProcess, name: str) -> dict[str, str]:
    return dict(
        rg.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName=name
        )["Credentials"]
    )


def test_retired_key_refused_within_a_second_and_a_half(rg: InProcess) -> None:
    rg.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=ACCOUNT_TRUST)
    old_ids = [k.key_id for k in rg.store.sealing_keys()]
    old = assume(rg, "old")
    rg.client("sts", creds=old).get_caller_identity()
    # What `rolegate keys rotate` and `keys retire` do, from outside the app.
    rg.store.add_sealing_key("k" + secrets.token_hex(4), secrets.token_bytes(32))
    for key_id in old_ids:
        assert rg.store.retire_sealing_key(key_id)
    time.sleep(1.5)
    with pytest.raises(ClientError) as e:
        rg.client("sts", creds=old).get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    # The new key seals, and what it seals opens.
    new = assume(rg, "new")
    assert rg.client("sts", creds=new).get_caller_identity()["Arn"].endswith("/r/new")


class CountingStore:
    """The store, counting what KeyRingSource reads of it."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.reads: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name.startswith("sealing_key"):
            self.reads[name] = self.reads.get(name, 0) + 1
        return attr


def test_the_ring_is_checked_at_most_once_a_second(rg: InProcess) -> None:
    counting = CountingStore(rg.store)
    keys = KeyRingSource(counting)
    loads = dict(counting.reads)
    ring = keys.ring()
    for _ in range(10_000):
        assert keys.ring() is ring
    assert counting.reads == loads  # no read at all within the interval
    # A new key is picked up by the next check after the interval.
    rg.store.add_sealing_key("k" + secrets.token_hex(4), secrets.token_bytes(32))
    time.sleep(keys.REFRESH + 0.1)
    fresh = keys.ring()
    assert fresh is not ring and len(fresh.key_ids) == len(ring.key_ids) + 1
    # Unchanged keys: the check is cheap and the ring object stays.
    time.sleep(keys.REFRESH + 0.1)
    assert keys.ring() is fresh


def test_unknown_key_id_still_reloads(rg: InProcess) -> None:
    keys: KeyRingSource = rg.app.state.extra["keys"]  # type: ignore[union-attr]
    before = keys.ring()
    rg.store.add_sealing_key("k" + secrets.token_hex(4), secrets.token_bytes(32))
    keys._loaded -= 5  # as if loaded long ago, but checked just now
    keys._checked = time.monotonic()
    assert keys.reload_if_stale()
    assert len(keys.ring().key_ids) == len(before.key_ids) + 1
