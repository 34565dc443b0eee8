"""NEAR account id rules."""

from __future__ import annotations

import pytest

from outlayer.errors import InvalidAccountId
from outlayer.vm.account_id import (
    is_eth_implicit,
    is_near_implicit,
    is_sub_account_of,
    is_top_level,
    is_valid_account_id,
    validate_account_id,
)

VALID = [
    "aa",
    "a-a",
    "a-aa",
    "100",
    "0o",
    "com",
    "near",
    "bowen",
    "b-o_w_e-n",
    "b.owen",
    "bro.wen",
    "a.ha",
    "a.b-a.ra",
    "system",
    "over.9000",
    "google.com",
    "illia.cheapaccounts.near",
    "0o0ooo00oo00o",
    "alex-skidanov",
    "10-4.8-2",
    "b-o_w_e-n",
    "no_lols",
    "0123456789012345678901234567890123456789012345678901234567890123",
    "a" * 64,
    "0x" + "ab" * 20,
]

INVALID = [
    "",
    "a",
    "A",
    "Abc",
    "-near",
    "near-",
    "-near-",
    "near.",
    ".near",
    "near@",
    "@near",
    "неар",
    "_near",
    "near_",
    "_near_",
    "near..near",
    "near.-near",
    "near_-near",
    "a" * 65,
    "01234567890123456789012345678901234567890123456789012345678901234",
    "near\n",
    "near near",
    "near\x00",
]


@pytest.mark.parametrize("account_id", VALID)
def test_valid(account_id: str) -> None:
    assert is_valid_account_id(account_id)
    assert validate_account_id(account_id) == account_id


@pytest.mark.parametrize("account_id", INVALID)
def test_invalid(account_id: str) -> None:
    assert not is_valid_account_id(account_id)
    with pytest.raises(InvalidAccountId):
        validate_account_id(account_id)


def test_implicit_and_hierarchy() -> None:
    hex64 = "0123456789abcdef" * 4
    assert is_near_implicit(hex64) and is_valid_account_id(hex64)
    assert not is_near_implicit(hex64.upper()) and not is_near_implicit(hex64[:63])
    assert is_eth_implicit("0x" + "0f" * 20) and not is_eth_implicit("0x" + "0f" * 19)
    assert is_top_level("near") and is_top_level(hex64) and not is_top_level("a.near")
    assert is_sub_account_of("app.alice.near", "alice.near")
    assert not is_sub_account_of("x.app.alice.near", "alice.near")
    assert not is_sub_account_of("alice.near", "alice.near")
