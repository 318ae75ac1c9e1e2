"""The one error base of rolegate.

Every failure a client may see is an :class:`AwsError`: it carries the AWS
error code, the HTTP status and the message as data, and ``protocol`` only
renders it. Anything else escaping a handler is a bug and becomes an
``InternalFailure`` 500 at the outermost layer.
"""

from __future__ import annotations


class AwsError(Exception):
    """An error with an AWS code, HTTP status and message."""

    code: str = "InternalFailure"
    status: int = 500
    # Modeled members an error shape adds beside its message (JSON protocol
    # only), e.g. Organizations' ``InvalidInputException.Reason``.
    fields: dict[str, str] | None = None

    def __init__(self, message: str = "", *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    @property
    def sender_fault(self) -> bool:
        return self.status < 500

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"


# Each kind is a class statement, not made by a factory, so that a type
# checker sees a class (``except NoSuchEntity``, ``-> NoSuchEntity``).


# Common to STS and IAM.
class ValidationError(AwsError):
    code = "ValidationError"
    status = 400


class AccessDenied(AwsError):
    code = "AccessDenied"
    status = 403


class InvalidAction(AwsError):
    code = "InvalidAction"
    status = 400


class MissingAction(AwsError):
    code = "MissingAction"
    status = 400


class MissingAuthenticationToken(AwsError):
    code = "MissingAuthenticationToken"
    status = 403


class IncompleteSignature(AwsError):
    code = "IncompleteSignature"
    status = 400


class InvalidClientTokenId(AwsError):
    code = "InvalidClientTokenId"
    status = 403


class SignatureDoesNotMatch(AwsError):
    code = "SignatureDoesNotMatch"
    status = 403


class ExpiredToken(AwsError):
    code = "ExpiredToken"
    status = 403


class MalformedPolicyDocument(AwsError):
    code = "MalformedPolicyDocument"
    status = 400


class InternalFailure(AwsError):
    code = "InternalFailure"
    status = 500


# IAM.
class NoSuchEntity(AwsError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(AwsError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflict(AwsError):
    code = "DeleteConflict"
    status = 409


class LimitExceeded(AwsError):
    code = "LimitExceeded"
    status = 409


class InvalidInput(AwsError):
    code = "InvalidInput"
    status = 400


class InvalidAuthenticationCode(AwsError):
    code = "InvalidAuthenticationCode"
    status = 403


class PolicyNotAttachable(AwsError):
    code = "PolicyNotAttachable"
    status = 400


class ConcurrentModification(AwsError):
    code = "ConcurrentModification"
    status = 409


class PasswordPolicyViolation(AwsError):
    code = "PasswordPolicyViolation"
    status = 400


class UnmodifiableEntity(AwsError):
    code = "UnmodifiableEntity"
    status = 400


class ReportNotPresent(AwsError):
    code = "ReportNotPresent"
    status = 410


class ReportExpired(AwsError):
    code = "ReportExpired"
    status = 410


# STS.
class PackedPolicyTooLarge(AwsError):
    code = "PackedPolicyTooLarge"
    status = 400


class ExpiredTokenException(AwsError):
    code = "ExpiredTokenException"
    status = 400


class IDPRejectedClaim(AwsError):
    code = "IDPRejectedClaim"
    status = 403


class InvalidIdentityToken(AwsError):
    code = "InvalidIdentityToken"
    status = 400


class IDPCommunicationError(AwsError):
    code = "IDPCommunicationError"
    status = 400


class InvalidAuthorizationMessage(AwsError):
    code = "InvalidAuthorizationMessageException"
    status = 400


class InvalidContextAssertion(AwsError):
    code = "InvalidContextAssertion"
    status = 400


# Not in botocore's sts model, but what AWS answers for session tags that
# clash (duplicate keys, transitive keys; recorded against AWS in 2025).
class InvalidParameterValue(AwsError):
    code = "InvalidParameterValue"
    status = 400
