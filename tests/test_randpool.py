from __future__ import annotations

import os

from rolegate.randpool import RandomPool, random_bytes


def test_sizes_and_no_reuse() -> None:
    pool = RandomPool()
    seen = {pool.take(16) for _ in range(2000)}  # crosses several 4 KiB refills
    assert len(seen) == 2000 and all(len(b) == 16 for b in seen)
    assert len(pool.take(10_000)) == 10_000
    assert len(random_bytes(12)) == 12


def test_child_after_fork_does_not_reuse_parent_bytes() -> None:
    pool = RandomPool()
    pool.take(8)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.write(w, pool.take(32))
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(r, 32)
    assert child != pool.take(32)
