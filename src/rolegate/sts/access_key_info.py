"""GetAccessKeyInfo: the account an access key id belongs to (reference §2.3).

Needs ``sts:GetAccessKeyInfo``. Status is never revealed.

- ``AKIA`` keys: looked up in the store (cached).
- ``ASIA`` keys: session keys are never stored. The caller's own key answers
  from its session; any other ASIA id issued by rolegate encodes its account
  (``sts.credentials.new_session_key_id``), as AWS's key ids do, so it is
  decoded without a lookup.
- Anything else cannot be attributed. AWS answers for any well-formed id
  (it decodes the account from the id); rolegate cannot for random ids, and
  the model lists no error for this action, so it answers with the generic
  400 ``InvalidParameterValue`` rather than inventing an account.
"""

from __future__ import annotations

from typing import Any

from rolegate.context import CallContext
from rolegate.errors import AwsError
from rolegate.principals.credentials import account_of_session_key
from rolegate.principals.validation import ACCESS_KEY_PATTERN, Problems


def get_access_key_info(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    akid = params.get("AccessKeyId")
    p = Problems()
    if p.required(akid, "accessKeyId"):
        p.string(akid, "accessKeyId", min_len=16, max_len=128, pattern=ACCESS_KEY_PATTERN)
    p.raise_if_any()
    assert isinstance(akid, str)
    # No resource type for this action in AWS's authorization reference.
    ctx.authorize("sts:GetAccessKeyInfo", "*")
    account: str | None = None
    caller = ctx.principal
    if caller is not None and caller.access_key_id == akid:
        account = caller.account_id
    elif akid.startswith("ASIA"):
        account = account_of_session_key(akid)
    else:
        record = ctx.store.lookup_access_key(akid)
        if record is not None:
            account = record.account_id
    if account is None:
        raise AwsError(
            "The access key ID provided does not belong to any account known to this service.",
            code="InvalidParameterValue",
            status=400,
        )
    return {"Account": account}
