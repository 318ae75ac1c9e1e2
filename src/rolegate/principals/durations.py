"""How long STS credentials live (reference §0 rule 9, §2.4).

Pure functions over the requested value; the limits are named constants with
their source, so a reviewer can check them against the AWS docs.
"""

from __future__ import annotations

from rolegate.errors import ValidationError
from rolegate.principals.validation import Problems

# AssumeRole*: 900 s up to the role's MaxSessionDuration (3600-43200), default 3600.
ASSUME_ROLE_MIN = 900
ASSUME_ROLE_MODEL_MAX = 43200  # roleDurationSecondsType max in the STS model
ASSUME_ROLE_DEFAULT = 3600
# A role session assuming a role ("role chaining") is limited to one hour.
ROLE_CHAINING_MAX = 3600

# GetSessionToken / GetFederationToken: 900-129600 s, default 43200 (12 h);
# the root user is limited to one hour, silently (no error).
TOKEN_MIN = 900
TOKEN_MAX = 129600
TOKEN_DEFAULT = 43200
ROOT_TOKEN_MAX = 3600

MAX_SESSION_MESSAGE = (
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
)
CHAINING_MESSAGE = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."


def assume_role_duration(requested: int | None, *, max_session_duration: int, chained: bool) -> int:
    """The session length for AssumeRole, or raise ValidationError.

    ``requested`` has already passed the model range check (900-43200).
    """
    if requested is None:
        # The default (1 h) is within both caps, since MaxSessionDuration >= 3600.
        return ASSUME_ROLE_DEFAULT
    if chained and requested > ROLE_CHAINING_MAX:
        raise ValidationError(CHAINING_MESSAGE)
    if requested > max_session_duration:
        raise ValidationError(MAX_SESSION_MESSAGE)
    return requested


def check_assume_role_duration(p: Problems, requested: object) -> None:
    p.integer(requested, "durationSeconds", minimum=ASSUME_ROLE_MIN, maximum=ASSUME_ROLE_MODEL_MAX)


def check_token_duration(p: Problems, requested: object) -> None:
    p.integer(requested, "durationSeconds", minimum=TOKEN_MIN, maximum=TOKEN_MAX)


def token_duration(requested: int | None, *, root: bool) -> int:
    """GetSessionToken / GetFederationToken length; root is clamped to one hour."""
    if root:
        return min(requested if requested is not None else ROOT_TOKEN_MAX, ROOT_TOKEN_MAX)
    return requested if requested is not None else TOKEN_DEFAULT
