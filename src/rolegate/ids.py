"""AWS-shaped identifiers: unique ids, access key ids and secrets.

Pure: the caller passes ``rng`` (``secrets.SystemRandom()`` in the shells, a
seeded ``random.Random`` in tests), so nothing here draws randomness itself.
The shapes follow reference §5.1: unique ids are a 4-letter prefix plus 17 of
``[A-Z0-9]`` (21 chars); access key ids a prefix plus 16 of the Base32
alphabet ``[A-Z2-7]`` (20 chars), as AWS's are; secrets 40 Base64 characters.
"""

from __future__ import annotations

import re
import string
from typing import Literal, Protocol

__all__ = [
    "ACCESS_KEY_PREFIXES",
    "UNIQUE_ID_PREFIXES",
    "access_key_kind",
    "is_access_key_id",
    "is_unique_id",
    "new_access_key_id",
    "new_secret",
    "new_unique_id",
]


class ChoiceRng(Protocol):
    def choice(self, seq: str, /) -> str: ...


# Prefixes AWS documents for unique ids (IAM User Guide, reference_identifiers).
UNIQUE_ID_PREFIXES = frozenset(
    {"AIDA", "AROA", "AGPA", "ANPA", "ANVA", "AIPA", "ABIA", "ASCA", "APKA", "ACCA"}
)
ACCESS_KEY_PREFIXES = frozenset({"AKIA", "ASIA"})

_UNIQUE_ALPHABET = string.ascii_uppercase + string.digits
_KEY_ALPHABET = string.ascii_uppercase + "234567"
# AWS secrets are 40 characters of the standard Base64 alphabet (240 bits here).
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"

UNIQUE_ID_LENGTH = 21
ACCESS_KEY_ID_LENGTH = 20
SECRET_LENGTH = 40

_UNIQUE_RE = re.compile(r"A[A-Z]{3}[A-Z0-9]{17}")
_AKID_RE = re.compile(r"A[KS]IA[A-Z2-7]{16}")


def _draw(rng: ChoiceRng, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def new_unique_id(prefix: str, rng: ChoiceRng) -> str:
    """``prefix`` (``AIDA``, ``AROA``, ``AGPA``, ``ANPA``, ``ANVA``...) + 17 of ``[A-Z0-9]``."""
    if prefix not in UNIQUE_ID_PREFIXES:
        raise ValueError(
            f"unknown unique-id prefix {prefix!r}; expected one of {sorted(UNIQUE_ID_PREFIXES)}"
        )
    return prefix + _draw(rng, _UNIQUE_ALPHABET, UNIQUE_ID_LENGTH - len(prefix))


def new_access_key_id(prefix: str, rng: ChoiceRng) -> str:
    """``AKIA`` (long-term) or ``ASIA`` (temporary) + 16 of ``[A-Z2-7]``."""
    if prefix not in ACCESS_KEY_PREFIXES:
        raise ValueError(f"access key id prefix must be 'AKIA' or 'ASIA', not {prefix!r}")
    return prefix + _draw(rng, _KEY_ALPHABET, ACCESS_KEY_ID_LENGTH - len(prefix))


def new_secret(rng: ChoiceRng) -> str:
    """A 40-character secret access key."""
    return _draw(rng, _SECRET_ALPHABET, SECRET_LENGTH)


def is_unique_id(value: str) -> bool:
    return bool(_UNIQUE_RE.fullmatch(value)) and value[:4] in UNIQUE_ID_PREFIXES


def is_access_key_id(value: str) -> bool:
    return bool(_AKID_RE.fullmatch(value))


def access_key_kind(value: str) -> Literal["long-term", "temporary"] | None:
    """Which store answers for a key id: IAM keys (``AKIA``) or session tokens (``ASIA``).

    AWS derives the account from the key id itself; rolegate looks keys up,
    so the prefix is the only thing read from it.
    """
    if value.startswith("AKIA"):
        return "long-term"
    if value.startswith("ASIA"):
        return "temporary"
    return None
