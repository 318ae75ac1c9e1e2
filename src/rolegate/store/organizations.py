"""The organization repository: accounts (cached by id, listed, found by
email). Writes go through ``Transaction`` (``create_account``,
``update_account``).
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import select

from . import schema as t
from . import statements as q
from .cache import MISSING
from .core import StoreCore
from .records import _account, ascii_lower


class OrganizationStore(StoreCore):
    """Reads of accounts."""

    def get_account(self, account_id: str) -> dict[str, Any] | None:
        """The account as a dict (a copy; its ``data`` is frozen), or None."""
        view = self._cache.view(account_id)
        acct = view.account
        if acct is MISSING:
            epoch = view.epoch
            with self._read() as conn:
                row = conn.execute(q.SEL_ACCOUNT, {"account_id": account_id}).first()
            acct = None if row is None else _account(row, frozen=True)
            self._cache.fill_account(view, acct, epoch)
        return None if acct is None else dict(acct)

    def list_accounts(self) -> builtins.list[dict[str, Any]]:
        """All accounts ordered by id (not cached: administrative, rare)."""
        with self._read() as conn:
            rows = conn.execute(select(t.accounts).order_by(t.accounts.c.account_id)).all()
        return [_account(r, frozen=False) for r in rows]

    def find_account_by_email(self, email: str) -> dict[str, Any] | None:
        """The first account (by id) with this email, case-insensitively."""
        with self._read() as conn:
            row = conn.execute(
                select(t.accounts)
                .where(t.accounts.c.email_key == ascii_lower(email))
                .order_by(t.accounts.c.account_id)
            ).first()
        return None if row is None else _account(row, frozen=False)
