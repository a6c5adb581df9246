"""Which channels an account may post to: the store beside the ledger, and the refusal that
names the channel (the trigger and the workflow both use it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from smm_runtime.account_channels import AccountChannels, channel_refusal
from tests.ledger_table import ledger_table


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[AccountChannels]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        db = ledger_table("ledger")
        yield AccountChannels(db, "ledger")


def test_an_account_has_no_channel_until_the_operator_allows_one(store: AccountChannels) -> None:
    assert store.allowed("acme") is None
    assert store.allow("acme", ["x-1", " li-2 ", "x-1"]) == frozenset({"x-1", "li-2"})
    assert store.allowed("acme") == frozenset({"x-1", "li-2"})
    assert store.allowed("globex") is None  # one account's list is its own


def test_allow_sets_the_whole_list_and_an_empty_one_withdraws_all(store: AccountChannels) -> None:
    store.allow("acme", ["x-1", "li-2"])
    store.allow("acme", ["li-2"])
    assert store.allowed("acme") == frozenset({"li-2"})
    store.allow("acme", [])
    assert store.allowed("acme") == frozenset()
    refused = channel_refusal("acme", ["li-2"], store.allowed("acme"))
    assert refused is not None and "no channel" in refused[1]


def test_the_refusal_names_the_first_channel_and_what_is_allowed() -> None:
    field, message = channel_refusal("acme", ["x-1", "fb-3"], frozenset({"x-1"})) or ("", "")
    assert field == "post.integrations[1]"
    assert message.startswith("post.integrations[1]: the account 'acme' may not post to 'fb-3'")
    assert "['x-1']" in message and "smm-engine channels allow acme" in message
    assert channel_refusal("acme", ["x-1"], frozenset({"x-1"})) is None
    unset = channel_refusal("acme", ["x-1"], None)
    assert unset is not None and unset[0] == "post.integrations"
    assert channel_refusal(None, ["anything"], None) is None  # the operator's own publish


def test_an_account_id_that_is_not_one_is_refused_naming_the_field(
    store: AccountChannels,
) -> None:
    with pytest.raises(ValueError, match=r"^account: 'a b' is not an account id"):
        store.allow("a b", ["x-1"])
    assert store.allowed("a b") is None  # nothing written
