"""The vocabulary of the authorisation table: the request as the table sees
it (:class:`Caller`, :class:`RequestView`, the :class:`Resolver` interface),
the values an ARN or condition key is built from, the predicates that gate a
check, and the entries themselves (:class:`OperationAuth`, :class:`Check`,
:class:`Resource`, :class:`Condition`, :class:`Extra`).

Plain frozen data; what turns an entry and a request into the authorisations
to perform is :mod:`rolegate.authorization.model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "PARTITION",
    "EntityKind",
    "Evaluation",
    "ExtraKind",
    "Caller",
    "RequestView",
    "Resolver",
    "Param",
    "NameOrCaller",
    "CallerAccount",
    "CallerArn",
    "Const",
    "Stored",
    "Either",
    "PathName",
    "PathPrefix",
    "OidcName",
    "ServiceLinkedRoleName",
    "AccessKeyOwner",
    "OrgPart",
    "IdAfter",
    "Value",
    "Given",
    "Prefixed",
    "CallerIs",
    "CallerHasSourceIdentity",
    "TokenCarries",
    "Not",
    "AllOf",
    "AnyOf",
    "Predicate",
    "Resource",
    "STAR",
    "RequestTags",
    "TagKeys",
    "ResourceTags",
    "StoredBoundary",
    "ListOf",
    "ConditionValue",
    "Condition",
    "Check",
    "Extra",
    "OperationAuth",
]

PARTITION = "aws"

# What a stored lookup is keyed by: an entity kind of the store.
EntityKind = Literal["user", "group", "role", "instance-profile", "server-certificate"]
# How a Check is evaluated.
#   identity: the caller's policies (identity ∩ boundary ∩ session, SCPs) on the resource
#   trust:    as identity, with the resource's trust policy as a resource policy that
#             must allow too (AssumeRole, AssumeRoot)
#   trust-only: the trust policy alone, for an unsigned caller (SAML / web identity)
Evaluation = Literal["identity", "trust", "trust-only"]
ExtraKind = Literal[
    "trust-policy",
    "pass-role",
    "mfa",
    "unsigned",
    "no-authorisation",
    "long-term-credentials",
    "organization",
]


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller, as much of it as the table reads."""

    account: str
    kind: str  # root | user | assumed-role | federated-user | anonymous
    arn: str = ""
    name: str | None = None  # the IAM user's name for kind "user"
    source_identity: str | None = None  # carried by the caller's session


@dataclass(frozen=True, slots=True)
class RequestView:
    """One decoded request: its parameters (as boto3 would pass them) and its caller."""

    params: Mapping[str, Any]
    caller: Caller
    # What a verified federation token carries ("session-tags", "source-identity").
    token: frozenset[str] = frozenset()


class Resolver(Protocol):
    """Stored facts an ARN or a condition key needs; the pipeline implements
    it over the store (and its cache). ``None``: not stored (the builder then
    uses the documented default, e.g. the path ``/``)."""

    def path(self, kind: EntityKind, account: str, name: str) -> str | None:
        """The stored path (``/``, ``/a/b/``) of the named entity."""

    def tags(self, kind: str, account: str, key: str) -> Mapping[str, str] | None:
        """The tags of an entity (kind as in :class:`EntityKind`, or ``policy``,
        ``mfa``, ``oidc-provider``, ``saml-provider`` keyed by ARN)."""

    def boundary(self, kind: EntityKind, account: str, name: str) -> str | None:
        """The permissions boundary ARN of a user or role."""

    def access_key_owner(self, account: str, access_key_id: str) -> str | None:
        """The owning user of an access key as ``PATH + NAME`` (``/dev/alice``)."""

    def service_linked_role_name(self, service: str, suffix: str | None) -> str | None:
        """The role name AWS gives ``service``'s service-linked role."""

    def organization(self, account: str) -> tuple[str, str] | None:
        """(management account, organization id) of the account's organization."""


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Param:
    """A request member's value; ``default`` when absent or empty."""

    member: str
    default: str | None = None


@dataclass(frozen=True, slots=True)
class NameOrCaller:
    """A user name member, else the signing IAM user's name (GetUser, ...)."""

    member: str = "UserName"


@dataclass(frozen=True, slots=True)
class CallerAccount:
    pass


@dataclass(frozen=True, slots=True)
class CallerArn:
    pass


@dataclass(frozen=True, slots=True)
class Const:
    value: str


@dataclass(frozen=True, slots=True)
class Stored:
    """The stored path of the entity named by ``by`` (the pipeline resolves it)."""

    kind: EntityKind
    by: Param | NameOrCaller


@dataclass(frozen=True, slots=True)
class Either:
    """``first`` when the request carries it, else ``otherwise`` (a rename's
    new name or path, else the current one)."""

    first: Param
    otherwise: Param | Stored


@dataclass(frozen=True, slots=True)
class PathName:
    """A ``...NameWithPath`` ARN variable: the path without its leading ``/``,
    then the name (``/a/`` + ``r`` -> ``a/r``). ``path`` is a request member
    (Create*, default ``/``) or a stored path."""

    name: Param | NameOrCaller | Const | Either
    path: Param | Stored | Either = Param("Path", "/")


@dataclass(frozen=True, slots=True)
class PathPrefix:
    """A List* path prefix (``/a/`` -> ``a/``): the ARN of everything under it."""

    member: str = "PathPrefix"


@dataclass(frozen=True, slots=True)
class OidcName:
    """An OIDC provider ARN's name: the issuer URL without its scheme."""

    member: str = "Url"


@dataclass(frozen=True, slots=True)
class ServiceLinkedRoleName:
    """The role name of a service's service-linked role (a pure mapping the
    pipeline's resolver owns)."""

    service: str = "AWSServiceName"
    suffix: str = "CustomSuffix"


@dataclass(frozen=True, slots=True)
class AccessKeyOwner:
    """The owner of an access key, as ``PATH-without-slash + NAME``; ``""`` when unknown."""

    member: str = "AccessKeyId"


@dataclass(frozen=True, slots=True)
class OrgPart:
    """The caller's organization: its id or its management account."""

    part: Literal["id", "management"]


@dataclass(frozen=True, slots=True)
class IdAfter:
    """A member's value without its ``prefix`` (``r-abcd`` -> ``abcd``)."""

    member: str
    prefix: str


Value = (
    Param
    | NameOrCaller
    | CallerAccount
    | CallerArn
    | Const
    | Stored
    | Either
    | PathName
    | PathPrefix
    | OidcName
    | ServiceLinkedRoleName
    | AccessKeyOwner
    | OrgPart
    | IdAfter
)


# --------------------------------------------------------------------------- predicates


@dataclass(frozen=True, slots=True)
class Given:
    """The request carries ``member`` (present, not empty)."""

    member: str


@dataclass(frozen=True, slots=True)
class Prefixed:
    """``member`` starts with ``prefix``."""

    member: str
    prefix: str


@dataclass(frozen=True, slots=True)
class CallerIs:
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CallerHasSourceIdentity:
    pass


@dataclass(frozen=True, slots=True)
class TokenCarries:
    """The verified SAML assertion / JWT carries this (known after verification)."""

    what: Literal["session-tags", "source-identity"]


@dataclass(frozen=True, slots=True)
class Not:
    of: Predicate


@dataclass(frozen=True, slots=True)
class AllOf:
    of: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    of: tuple[Predicate, ...]


Predicate = (
    Given | Prefixed | CallerIs | CallerHasSourceIdentity | TokenCarries | Not | AllOf | AnyOf
)


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True, slots=True)
class Resource:
    """How one resource ARN is built.

    ``type`` is the Service Authorization Reference's resource type (``role``)
    of the action's service, ``""`` for ``*``. The ARN is ``arn_from`` (a
    request member holding an ARN, verbatim; ``each``: a list of them, one
    ARN per item), else the reference's ARN format for ``type`` (or
    ``template`` where rolegate documents a difference) with its variables
    bound by ``values``. ``when``: of a Check's resources, the first whose
    ``when`` holds is used.
    """

    type: str
    values: tuple[tuple[str, Value], ...] = ()
    arn_from: str | None = None
    each: bool = False
    template: str | None = None
    when: Predicate | None = None


STAR = Resource("")


@dataclass(frozen=True, slots=True)
class RequestTags:
    """``aws:RequestTag/${TagKey}`` for each tag of a ``[{Key, Value}]`` member."""

    member: str = "Tags"


@dataclass(frozen=True, slots=True)
class TagKeys:
    """``aws:TagKeys``: the keys of a Tags member, or a list of keys (Untag*)."""

    member: str = "Tags"
    keys_only: bool = False


@dataclass(frozen=True, slots=True)
class ResourceTags:
    """``aws:ResourceTag/${TagKey}`` (and ``iam:ResourceTag/...`` when
    ``also_iam``) of the stored target, named by ``by``."""

    kind: str
    by: Param | NameOrCaller
    also_iam: bool = False


@dataclass(frozen=True, slots=True)
class StoredBoundary:
    """``iam:PermissionsBoundary``: the stored boundary of the target user/role."""

    kind: EntityKind
    by: Param | NameOrCaller


@dataclass(frozen=True, slots=True)
class ListOf:
    """A list member's values, as a multi-valued key."""

    member: str


ConditionValue = Value | RequestTags | TagKeys | ResourceTags | StoredBoundary | ListOf


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition key the request supplies. ``key`` is spelled as the
    reference lists it (``aws:RequestTag/${TagKey}``); ``when``: only then."""

    key: str
    value: ConditionValue
    when: Predicate | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One action to authorise, on its resource(s), with its condition keys."""

    action: str
    resources: tuple[Resource, ...] = (STAR,)
    conditions: tuple[Condition, ...] = ()
    when: Predicate | None = None
    evaluation: Evaluation = "identity"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Extra:
    """What the decision needs beyond the Checks' policy evaluation."""

    kind: ExtraKind
    detail: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OperationAuth:
    service: str
    operation: str
    checks: tuple[Check, ...]
    signed: bool = True
    extra: tuple[Extra, ...] = ()
    # Where the entry differs from the Service Authorization Reference, and why.
    sar_differences: tuple[tuple[str, str], ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.action for c in self.checks))
