"""Concurrent writers (threads, two Store instances, several processes) lose nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from rolegate.errors import ConcurrentModification
from rolegate.store import Store

from .conftest import Target

ACCT = "123456789012"


def _increment(store: Store) -> bool:
    """One read-modify-write of the shared counter; True once acknowledged."""
    for _ in range(200):
        try:
            with store.transaction() as tx:
                e = tx.get(ACCT, "counter", "c")
                assert e is not None
                tx.update(e, {"n": e.data["n"] + 1})
            return True
        except ConcurrentModification:
            continue
    return False


def test_threads_and_two_instances(target: Target) -> None:
    stores = [target.open(), target.open()]
    with stores[0].transaction() as tx:
        tx.insert(ACCT, "counter", "c", entity_id="CNT", arn="arn:c", data={"n": 0})
    acked_inserts: list[str] = []
    acked_increments: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(store: Store, wid: int) -> None:
        try:
            for i in range(15):
                name = f"user-{wid}-{i}"
                with store.transaction() as tx:
                    tx.insert(
                        ACCT,
                        "user",
                        name,
                        entity_id=f"AIDA{wid:03d}{i:04d}",
                        arn="arn",
                        data={"i": i},
                    )
                    tx.link(ACCT, "member", "all", name)
                with lock:
                    acked_inserts.append(name)
                if _increment(store):
                    with lock:
                        acked_increments.append(1)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(stores[w % 2], w)) for w in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert len(acked_inserts) == 90
    fresh = target.open()
    names = {e.name for e in fresh.list(ACCT, "user")}
    assert names == set(acked_inserts)
    assert set(fresh.links_from(ACCT, "member", "all")) == set(acked_inserts)
    counter = fresh.get(ACCT, "counter", "c")
    assert counter is not None and counter.data["n"] == len(acked_increments) == 90
    assert counter.version == 91
    # Every instance's cache agrees after the dust settles (cache_ttl=0).
    for s in stores:
        assert s.get(ACCT, "counter", "c").data["n"] == 90  # type: ignore[union-attr]


_CHILD = r"""
import json, os, sys
from rolegate.errors import ConcurrentModification
from rolegate.store import Store
kw = json.loads(os.environ["RG_OPEN"])
wid = int(sys.argv[1])
store = Store.open(**kw)
acked = 0
for i in range(10):
    with store.transaction() as tx:
        tx.insert("123456789012", "user", f"p{wid}-{i}", entity_id=f"AIDAP{wid}{i:03d}", arn="a", data={})
    for _ in range(500):
        try:
            with store.transaction() as tx:
                e = tx.get("123456789012", "counter", "c")
                if e is None:
                    try:
                        tx.insert("123456789012", "counter", "c", entity_id="CNT", arn="a", data={"n": 1})
                    except Exception:
                        raise ConcurrentModification("created concurrently")
                else:
                    tx.update(e, {"n": e.data["n"] + 1})
            acked += 1
            break
        except ConcurrentModification:
            continue
store.close()
print(json.dumps({"acked": acked}))
"""


def test_processes_open_migrate_and_write_concurrently(target: Target) -> None:
    """Several processes start on a fresh database at once: migrations and the
    master key file are created exactly once, and no write is lost."""
    kw = target.open_kwargs()
    kw["data_dir"] = str(kw["data_dir"])
    env = dict(os.environ, RG_OPEN=json.dumps(kw))
    src = Path(__file__).resolve().parents[2] / "src"
    env["PYTHONPATH"] = f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(w)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(3)
    ]
    acked = 0
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        acked += json.loads(out.strip().splitlines()[-1])["acked"]
    store = target.open()
    assert len(store.list(ACCT, "user")) == 30
    counter = store.get(ACCT, "counter", "c")
    assert counter is not None and counter.data["n"] == acked == 30
