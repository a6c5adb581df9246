"""Which Postiz channels (integration ids) each account may post to.

One Postiz organisation (one API key) serves every account of a deployment, so Postiz itself
would let any account post to any channel of the organisation. The engine keeps, per account,
the integration ids it may name: an item beside the account's credits in the ledger table
(``account#<id>`` / ``channels``), set by the operator (``smm-engine channels allow``) and
checked by the trigger before it starts a publish and by the workflow before it renders.
An account with no list may post nowhere: a channel is never open by default. Publishes
without an account (the operator's own, unbilled) are not limited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from smm_runtime.contract.ownership import ACCOUNT_PATTERN

CHANNELS = "channels"


class AccountChannels:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def _key(self, account: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"account#{account}"}, "sk": {"S": CHANNELS}}

    def allowed(self, account: str) -> frozenset[str] | None:
        """The account's channels; None when the operator never set any."""
        item = self._db.get_item(
            TableName=self._table, ConsistentRead=True, Key=self._key(account)
        ).get("Item")
        if item is None:
            return None
        return frozenset(item.get("ids", {}).get("SS", [])) - {""}

    def allow(self, account: str, channels: Iterable[str]) -> frozenset[str]:
        """Set the account's channels (the whole list: what is not named is withdrawn)."""
        if not re.fullmatch(ACCOUNT_PATTERN, account):
            raise ValueError(
                f"account: {account!r} is not an account id (letters, digits and - _ . @, "
                "as publishes name it)"
            )
        ids = frozenset(c.strip() for c in channels) - {""}
        item: dict[str, Any] = {**self._key(account)}
        # DynamoDB has no empty string set: an empty list is stored as the one empty string.
        item["ids"] = {"SS": sorted(ids) or [""]}
        self._db.put_item(TableName=self._table, Item=item)
        return ids


def channel_refusal(
    account: str | None, integrations: Sequence[str], allowed: frozenset[str] | None
) -> tuple[str, str] | None:
    """(field, message) for the first channel ``account`` may not post to; None if all may."""
    if account is None:
        return None
    for i, channel in enumerate(integrations):
        if allowed is None:
            return (
                "post.integrations",
                f"post.integrations: the account {account!r} has no channels allowed yet; the "
                f"operator allows them with `smm-engine channels allow {account} "
                "<integration id>...`",
            )
        if channel not in allowed:
            return (
                f"post.integrations[{i}]",
                f"post.integrations[{i}]: the account {account!r} may not post to {channel!r}; "
                f"it may post to {sorted(allowed) or 'no channel'} (the operator changes this "
                f"with `smm-engine channels allow {account} ...`)",
            )
    return None
