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


def _kind(name: str, code: str, status: int) -> type[AwsError]:
    return type(name, (AwsError,), {"code": code, "status": status, "__module__": __name__})


# Common to STS and IAM.
ValidationError = _kind("ValidationError", "ValidationError", 400)
AccessDenied = _kind("AccessDenied", "AccessDenied", 403)
InvalidAction = _kind("InvalidAction", "InvalidAction", 400)
MissingAction = _kind("MissingAction", "MissingAction", 400)
MissingAuthenticationToken = _kind("MissingAuthenticationToken", "MissingAuthenticationToken", 403)
IncompleteSignature = _kind("IncompleteSignature", "IncompleteSignature", 400)
InvalidClientTokenId = _kind("InvalidClientTokenId", "InvalidClientTokenId", 403)
SignatureDoesNotMatch = _kind("SignatureDoesNotMatch", "SignatureDoesNotMatch", 403)
ExpiredToken = _kind("ExpiredToken", "ExpiredToken", 403)
MalformedPolicyDocument = _kind("MalformedPolicyDocument", "MalformedPolicyDocument", 400)
InternalFailure = _kind("InternalFailure", "InternalFailure", 500)

# IAM.
NoSuchEntity = _kind("NoSuchEntity", "NoSuchEntity", 404)
EntityAlreadyExists = _kind("EntityAlreadyExists", "EntityAlreadyExists", 409)
DeleteConflict = _kind("DeleteConflict", "DeleteConflict", 409)
LimitExceeded = _kind("LimitExceeded", "LimitExceeded", 409)
InvalidInput = _kind("InvalidInput", "InvalidInput", 400)
InvalidAuthenticationCode = _kind("InvalidAuthenticationCode", "InvalidAuthenticationCode", 403)
PolicyNotAttachable = _kind("PolicyNotAttachable", "PolicyNotAttachable", 400)
ConcurrentModification = _kind("ConcurrentModification", "ConcurrentModification", 409)
PasswordPolicyViolation = _kind("PasswordPolicyViolation", "PasswordPolicyViolation", 400)
UnmodifiableEntity = _kind("UnmodifiableEntity", "UnmodifiableEntity", 400)
ReportNotPresent = _kind("ReportNotPresent", "ReportNotPresent", 410)
ReportExpired = _kind("ReportExpired", "ReportExpired", 410)

# STS.
PackedPolicyTooLarge = _kind("PackedPolicyTooLarge", "PackedPolicyTooLarge", 400)
ExpiredTokenException = _kind("ExpiredTokenException", "ExpiredTokenException", 400)
IDPRejectedClaim = _kind("IDPRejectedClaim", "IDPRejectedClaim", 403)
InvalidIdentityToken = _kind("InvalidIdentityToken", "InvalidIdentityToken", 400)
IDPCommunicationError = _kind("IDPCommunicationError", "IDPCommunicationError", 400)
InvalidAuthorizationMessage = _kind(
    "InvalidAuthorizationMessage", "InvalidAuthorizationMessageException", 400
)
InvalidContextAssertion = _kind("InvalidContextAssertion", "InvalidContextAssertion", 400)
# Not in botocore's sts model, but what AWS answers for session tags that
# clash (duplicate keys, transitive keys; recorded against AWS in 2025).
InvalidParameterValue = _kind("InvalidParameterValue", "InvalidParameterValue", 400)
