"""Cryptographic random bytes from a buffered ``os.urandom``.

AssumeRole needs ~85 random bytes per request (key id, secret, token
nonce). One ``getrandom`` syscall per request part also hands the GIL to
other threads mid-request, which showed as latency under load; reading 4 KiB
at a time makes it one syscall per ~50 requests. The bytes are the kernel's
CSPRNG output, served once each; the buffer is dropped after ``fork`` so a
child never reuses its parent's bytes.
"""

from __future__ import annotations

import os
import threading

_CHUNK = 4096


class RandomPool:
    __slots__ = ("_buf", "_lock", "_pid", "_pos")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buf = b""
        self._pos = 0
        self._pid = os.getpid()

    def take(self, n: int) -> bytes:
        if n > _CHUNK:
            return os.urandom(n)
        with self._lock:
            if self._pid != os.getpid():
                self._buf, self._pos, self._pid = b"", 0, os.getpid()
            if self._pos + n > len(self._buf):
                self._buf, self._pos = os.urandom(_CHUNK), 0
            out = self._buf[self._pos : self._pos + n]
            self._pos += n
        return out


_POOL = RandomPool()


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the kernel CSPRNG, via the process's buffer."""
    return _POOL.take(n)
