"""The master key and the at-rest encryption recipe.

Secrets (secret access keys, MFA seeds, token sealing keys) are stored only
as ``rg1.<kid>.<base64url(nonce || ciphertext || tag)>``: AES-256-GCM under
the master key, with the ``rg1.<kid>`` header and an optional caller context
(e.g. the access key id) bound as associated data, so a ciphertext cannot be
moved to another row or re-labelled. ``kid`` is a fingerprint of the master
key: a database opened with the wrong key fails loudly, and a future key
rotation can tell old ciphertexts from new ones.

Where the master key comes from, first match wins:
1. ``master_key`` given to ``Store.open`` (32 bytes);
2. env ``ROLEGATE_MASTER_KEY`` (standard base64 of 32 bytes);
3. the file ``master.key`` in ``data_dir`` (base64 text, mode 0600), created
   on first start. Nodes sharing one PostgreSQL must share the key, so
   PostgreSQL without ``data_dir`` or the env var is a configuration error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import stat
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

MASTER_KEY_ENV = "ROLEGATE_MASTER_KEY"
MASTER_KEY_FILE = "master.key"
KEY_LEN = 32
NONCE_LEN = 12  # the GCM standard; random nonces are safe far beyond IAM write volumes
_VERSION = "rg1"


class MasterKeyError(ValueError):
    """The master key is missing, malformed, or does not match the database."""


class DecryptionError(ValueError):
    """A stored ciphertext could not be opened (wrong key, tampered, or not ours)."""


def key_id(key: bytes) -> str:
    """A short, non-secret fingerprint of ``key``."""
    return hashlib.sha256(b"rolegate master key id\x00" + key).hexdigest()[:12]


class Sealer:
    """AES-256-GCM with a key-id header; thread-safe (AESGCM is stateless)."""

    __slots__ = ("_aead", "_header", "kid")

    def __init__(self, key: bytes):
        if not isinstance(key, bytes | bytearray):
            raise TypeError("master_key must be bytes")
        if len(key) != KEY_LEN:
            raise MasterKeyError(f"master key must be exactly {KEY_LEN} bytes, got {len(key)}")
        self.kid = key_id(bytes(key))
        self._aead = AESGCM(bytes(key))
        self._header = f"{_VERSION}.{self.kid}"

    def encrypt(self, plain: bytes, *, context: bytes = b"", nonce: bytes | None = None) -> str:
        if not isinstance(plain, bytes | bytearray):
            raise TypeError("encrypt() takes bytes")
        nonce = os.urandom(NONCE_LEN) if nonce is None else nonce
        aad = self._header.encode() + b"\x00" + context
        blob = nonce + self._aead.encrypt(nonce, bytes(plain), aad)
        return f"{self._header}.{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"

    def decrypt(self, text: str, *, context: bytes = b"") -> bytes:
        # One opaque failure for every way this can go wrong (cf. Fernet).
        try:
            version, kid, body = text.split(".")
        except (AttributeError, ValueError):
            raise DecryptionError("not a rolegate ciphertext") from None
        if version != _VERSION:
            raise DecryptionError("unknown ciphertext version")
        if kid != self.kid:
            raise DecryptionError(f"ciphertext was sealed with master key {kid}, not {self.kid}")
        try:
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise DecryptionError("bad ciphertext encoding") from None
        if len(blob) < NONCE_LEN + 16:
            raise DecryptionError("ciphertext too short")
        aad = f"{version}.{kid}".encode() + b"\x00" + context
        try:
            return self._aead.decrypt(blob[:NONCE_LEN], blob[NONCE_LEN:], aad)
        except InvalidTag:
            raise DecryptionError("ciphertext failed authentication") from None


def _decode_b64_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{source} is not valid base64") from None
    if len(key) != KEY_LEN:
        raise MasterKeyError(f"{source} must decode to {KEY_LEN} bytes, got {len(key)}")
    return key


def _read_key_file(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "master key file %s is accessible by group/others (mode %o); chmod 600 it", path, mode
        )
    return _decode_b64_key(path.read_text(encoding="ascii"), f"master key file {path}")


def _create_key_file(path: Path) -> bytes:
    """Create ``path`` with a fresh key, or return the key another process made.

    The key is written to a private temporary file (O_CREAT|O_EXCL, 0600) and
    then hard-linked into place: the link either appears complete or fails
    with FileExistsError, so a concurrent starter never reads half a key.
    """
    key = os.urandom(KEY_LEN)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, base64.b64encode(key) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return _read_key_file(path)
    except OSError:
        # No hard links on this filesystem: fall back to O_EXCL on the final
        # name; a loser retries reading until the winner's write is visible.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            deadline = time.monotonic() + 5.0
            while True:
                try:
                    return _read_key_file(path)
                except MasterKeyError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        try:
            os.write(fd, base64.b64encode(key) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return key
    finally:
        tmp.unlink(missing_ok=True)
    return key


def load_master_key(master_key: bytes | None, data_dir: Path | None, *, dialect: str) -> bytes:
    if master_key is not None:
        if len(master_key) != KEY_LEN:
            raise MasterKeyError(
                f"master_key must be exactly {KEY_LEN} bytes, got {len(master_key)}"
            )
        return bytes(master_key)
    env = os.environ.get(MASTER_KEY_ENV)
    if env:
        return _decode_b64_key(env, f"env {MASTER_KEY_ENV}")
    if data_dir is None:
        raise MasterKeyError(
            f"no master key for the {dialect} store: set {MASTER_KEY_ENV} to the base64 of 32 "
            "random bytes (the same on every node), or give a data_dir to keep master.key in"
        )
    path = data_dir / MASTER_KEY_FILE
    if path.exists():
        return _read_key_file(path)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists():
        return _read_key_file(path)
    return _create_key_file(path)
