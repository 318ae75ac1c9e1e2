"""Trust policies bound to unique ids, as IAM stores them.

IAM User Guide, "IAM JSON policy elements: Principal": "If your Principal
element in a role trust policy contains an ARN that points to a specific IAM
role or user, then that ARN transforms to the role unique principal ID when
the policy is saved"; a principal deleted later shows as its bare id
(``AIDA...``/``AROA...``) and a new entity of the same name is not it
(reference §3.1; re:Post "Why is there an unknown principal format in my IAM
resource-based policy?").

rolegate keeps the caller's text (GetRole returns it unchanged while every
principal still resolves to the ARN it was written as) and, beside it in the
role's data:

- ``trust_principals``: ``{arn as written: unique id}`` for each user/role
  ARN of an account rolegate hosts;
- ``assume_role_policy_bound``: the document with those ARNs replaced by
  the ids. AssumeRole evaluates this one, so the evaluator matches the
  caller by ``aws:userid`` (its unique id) and the hot path does no lookup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from rolegate import jsonsafe
from rolegate.store import ascii_lower

PRINCIPALS = "trust_principals"
BOUND = "assume_role_policy_bound"
DOCUMENT = "assume_role_policy"


def _principal_values(document: Any) -> list[tuple[dict[str, Any], Any]]:
    """(``Principal`` mapping, its ``AWS`` value) of each statement that has one."""
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    for st in statements if isinstance(statements, list) else ():
        principal = st.get("Principal") if isinstance(st, dict) else None
        if isinstance(principal, dict) and "AWS" in principal:
            out.append((principal, principal["AWS"]))
    return out


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _entity_of_arn(store: Any, arn: str) -> Any:
    """The user or role an ARN of a hosted account names, or None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[3]:
        return None
    kind, _, rest = parts[5].partition("/")
    if kind not in ("user", "role") or not rest or "*" in rest or "?" in rest:
        return None
    entity = store.get(parts[4], kind, rest.rsplit("/", 1)[-1])
    # Names are unique regardless of ASCII case, and check_trust_policy
    # accepts an ARN in another case; it is bound to that entity, so a later
    # entity of the same name is never admitted by it.
    if entity is None or ascii_lower(entity.arn) != ascii_lower(arn):
        return None
    return entity


def bind(store: Any, text: str) -> dict[str, Any]:
    """The role data fields binding ``text``'s user and role principals to ids."""
    try:
        document = jsonsafe.loads(text)
    except ValueError:
        return {PRINCIPALS: {}, BOUND: None}
    mapping: dict[str, str] = {}
    for _, value in _principal_values(document):
        for arn in _values(value):
            if arn not in mapping:
                entity = _entity_of_arn(store, arn)
                if entity is not None:
                    mapping[arn] = entity.entity_id
    if not mapping:
        return {PRINCIPALS: {}, BOUND: None}
    return {PRINCIPALS: mapping, BOUND: _substitute(document, mapping.get)}


def _substitute(document: Any, replace: Callable[[str], str | None]) -> str:
    for principal, value in _principal_values(document):
        if isinstance(value, str):
            principal["AWS"] = replace(value) or value
        elif isinstance(value, list):
            principal["AWS"] = [(replace(v) or v) if isinstance(v, str) else v for v in value]
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def effective_document(data: Mapping[str, Any]) -> str:
    """The trust policy AssumeRole evaluates: principals as unique ids."""
    return str(data.get(BOUND) or data.get(DOCUMENT) or "")


def _current_arn(store: Any, entity_id: str) -> str:
    entity = store.get_by_id(entity_id)
    if entity is None or entity.kind not in ("user", "role"):
        return entity_id
    return str(entity.arn)


def displayed_document(store: Any, data: Mapping[str, Any]) -> str | None:
    """The trust policy as GetRole shows it: each bound principal as its
    entity's current ARN, or as its bare unique id once the entity is gone."""
    text = data.get(DOCUMENT)
    mapping = data.get(PRINCIPALS) or {}
    if not mapping or store is None or not isinstance(text, str):
        return text
    shown = {arn: _current_arn(store, uid) for arn, uid in mapping.items()}
    if all(arn == now for arn, now in shown.items()):
        return text
    try:
        document = jsonsafe.loads(text)
    except ValueError:
        return text
    return _substitute(document, shown.get)
