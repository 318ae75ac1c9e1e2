"""Request and event ids: UUID-shaped, unique, cheap.

They identify, they do not protect, so a PRNG seeded from the OS is enough;
``uuid.uuid4()`` costs an ``os.urandom`` syscall and object construction per
call, which showed in the per-request profile. The generator is re-seeded
after ``fork`` so worker processes never share a sequence.
"""

from __future__ import annotations

import os
import random
import threading

_local = threading.local()


def _rng() -> random.Random:
    r = getattr(_local, "rng", None)
    if r is None or _local.pid != os.getpid():
        r = random.Random(int.from_bytes(os.urandom(16), "big"))
        _local.rng = r
        _local.pid = os.getpid()
    return r


def new_uuid() -> str:
    """A random (version 4 layout) UUID string."""
    h = f"{_rng().getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"
