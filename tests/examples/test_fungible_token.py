"""examples/fungible_token.js: NEP-141 core, through the Python API and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from outlayer import ContractSimulator

from .support import Cli, as_args, assert_panics, event_log, example, ok, snapshot

SOURCE = example("fungible_token.js")
CONTRACT = "ft.test"
SUPPLY = 1_000_000
U128_MAX = 2**128 - 1
METHODS = ["ft_balance_of", "ft_metadata", "ft_total_supply", "ft_transfer", "new"]
METADATA = {"spec": "ft-1.0.0", "name": "OutLayer Example Token", "symbol": "OLT",
            "icon": None, "reference": None, "reference_hash": None, "decimals": 24}
METADATA_TEXT = json.dumps(METADATA, separators=(",", ":"))


def ft_event(event: str, **data: str) -> str:
    return event_log("nep141", "1.0.0", event, [data])


def init(sim: ContractSimulator, owner: str = "alice.test", supply: int = SUPPLY) -> None:
    result = sim.call(CONTRACT, "new", {"owner_id": owner, "total_supply": str(supply)},
                      signer_id=CONTRACT)
    assert ok(result) is None
    assert result.logs == [ft_event("ft_mint", owner_id=owner, amount=str(supply),
                                    memo="new tokens are minted")]


def balance(sim: ContractSimulator, account: str) -> str:
    value: str = ok(sim.view(CONTRACT, "ft_balance_of", {"account_id": account}))
    return value


def transfer(sim: ContractSimulator, sender: str, receiver: str, amount: Any,
             deposit: int = 1, **extra: Any) -> Any:
    return sim.call(CONTRACT, "ft_transfer",
                    {"receiver_id": receiver, "amount": amount, **extra},
                    signer_id=sender, deposit=deposit)


@pytest.fixture
def ft(sim: ContractSimulator) -> ContractSimulator:
    assert sim.deploy(CONTRACT, SOURCE)["methods"] == METHODS
    for account in ("alice.test", "bob.test", "carol.test"):
        sim.create_account(account)
    init(sim)
    return sim


def test_new_gives_the_supply_to_the_owner(ft: ContractSimulator) -> None:
    assert ft.state(CONTRACT) == {"b:alice.test": str(SUPPLY), "metadata": METADATA_TEXT,
                                  "owner_id": "alice.test", "total_supply": str(SUPPLY)}
    assert ok(ft.view(CONTRACT, "ft_total_supply")) == str(SUPPLY)
    assert balance(ft, "alice.test") == str(SUPPLY)
    assert balance(ft, "bob.test") == "0"


def test_metadata_is_an_async_view(ft: ContractSimulator) -> None:
    assert ok(ft.view(CONTRACT, "ft_metadata")) == METADATA


def test_transfer_moves_balance_and_emits_an_event(ft: ContractSimulator) -> None:
    contract_balance = ft.account(CONTRACT)["balance"]
    alice_near = ft.account("alice.test")["balance"]
    result = transfer(ft, "alice.test", "bob.test", "250", memo="rent")
    assert ok(result) is None
    assert result.logs == [ft_event("ft_transfer", old_owner_id="alice.test",
                                    new_owner_id="bob.test", amount="250", memo="rent")]
    assert result.state_changes == {"b:alice.test": str(SUPPLY - 250), "b:bob.test": "250"}
    assert balance(ft, "alice.test") == str(SUPPLY - 250)
    assert balance(ft, "bob.test") == "250"
    assert ok(ft.view(CONTRACT, "ft_total_supply")) == str(SUPPLY)
    # the 1 yoctoNEAR confirmation moves from the signer to the contract account
    assert ft.account(CONTRACT)["balance"] == contract_balance + 1
    assert ft.account("alice.test")["balance"] == alice_near - 1


def test_transfer_without_memo_has_no_memo_field(ft: ContractSimulator) -> None:
    result = transfer(ft, "alice.test", "bob.test", "1")
    assert result.logs == [ft_event("ft_transfer", old_owner_id="alice.test",
                                    new_owner_id="bob.test", amount="1")]


def test_transfers_between_many_accounts(ft: ContractSimulator) -> None:
    ok(transfer(ft, "alice.test", "bob.test", "600000"))
    ok(transfer(ft, "bob.test", "carol.test", "100000"))
    ok(transfer(ft, "carol.test", "alice.test", "1"))
    ok(transfer(ft, "bob.test", "dave.test", "500000"))  # bob's whole balance
    expected = {"alice.test": "400001", "bob.test": "0", "carol.test": "99999",
                "dave.test": "500000"}
    assert {a: balance(ft, a) for a in expected} == expected
    assert sum(int(v) for v in expected.values()) == SUPPLY
    state = ft.state(CONTRACT)
    assert "b:bob.test" not in state  # a zero balance is removed from storage
    assert {k: v for k, v in state.items() if k.startswith("b:")} == {
        "b:alice.test": "400001", "b:carol.test": "99999", "b:dave.test": "500000"}


def test_u128_amounts_are_exact(sim: ContractSimulator) -> None:
    sim.deploy(CONTRACT, SOURCE)
    init(sim, "alice.test", U128_MAX)
    ok(transfer(sim, "alice.test", "bob.test", str(U128_MAX - 1)))
    assert balance(sim, "bob.test") == str(U128_MAX - 1)  # 340282366920938463463374607431768211454
    assert balance(sim, "alice.test") == "1"
    assert ok(sim.view(CONTRACT, "ft_total_supply")) == str(U128_MAX)


@pytest.mark.parametrize(("amount", "deposit", "receiver", "message"), [
    ("10", 0, "bob.test", "Requires attached deposit of exactly 1 yoctoNEAR"),
    ("10", 2, "bob.test", "Requires attached deposit of exactly 1 yoctoNEAR"),
    ("0", 1, "bob.test", "The amount should be a positive number"),
    ("-5", 1, "bob.test", 'amount must be a string of decimal digits (a u128), got "-5"'),
    ("abc", 1, "bob.test", 'amount must be a string of decimal digits (a u128), got "abc"'),
    ("1.5", 1, "bob.test", 'amount must be a string of decimal digits (a u128), got "1.5"'),
    ("", 1, "bob.test", 'amount must be a string of decimal digits (a u128), got ""'),
    (10, 1, "bob.test", "amount must be a string of decimal digits (a u128), got 10"),
    (None, 1, "bob.test", "amount must be a string of decimal digits (a u128), got null"),
    (str(U128_MAX + 1), 1, "bob.test", "amount does not fit in a u128"),
    ("10", 1, "alice.test", "Sender and receiver should be different"),
    ("10", 1, "Bob.test", 'receiver_id must be a valid NEAR account id, got "Bob.test"'),
    (str(SUPPLY + 1), 1, "bob.test",
     f"The account doesn't have enough balance: alice.test has {SUPPLY}, needs {SUPPLY + 1}"),
])
def test_invalid_transfers_fail_and_change_nothing(ft: ContractSimulator, amount: Any,
                                                   deposit: int, receiver: str,
                                                   message: str) -> None:
    before = snapshot(ft, CONTRACT, "alice.test", "bob.test")
    result = transfer(ft, "alice.test", receiver, amount, deposit=deposit)
    assert_panics(result, message)
    assert result.logs == []
    # storage, the contract's NEAR balance and the signer's (the deposit is refunded)
    assert snapshot(ft, CONTRACT, "alice.test", "bob.test") == before


def test_memo_must_be_a_string(ft: ContractSimulator) -> None:
    before = snapshot(ft, CONTRACT, "alice.test")
    assert_panics(transfer(ft, "alice.test", "bob.test", "5", memo=7),
                  "memo must be a string or null")
    assert snapshot(ft, CONTRACT, "alice.test") == before


def test_empty_account_cannot_transfer(ft: ContractSimulator) -> None:
    assert_panics(transfer(ft, "bob.test", "carol.test", "1"),
                  "The account doesn't have enough balance: bob.test has 0, needs 1")


def test_new_only_once(ft: ContractSimulator) -> None:
    before = ft.state(CONTRACT)
    result = ft.call(CONTRACT, "new", {"owner_id": "bob.test", "total_supply": "5"},
                     signer_id=CONTRACT)
    assert_panics(result, "The contract is already initialized")
    assert ft.state(CONTRACT) == before


def test_new_only_by_the_contract_account(sim: ContractSimulator) -> None:
    sim.deploy(CONTRACT, SOURCE)
    result = sim.call(CONTRACT, "new", {"owner_id": "bob.test", "total_supply": "5"},
                      signer_id="bob.test")
    assert_panics(result, "new can only be called by the contract account itself")
    assert sim.state(CONTRACT) == {}


@pytest.mark.parametrize(("args", "message"), [
    ({"owner_id": "alice.test", "total_supply": 5},
     "total_supply must be a string of decimal digits (a u128), got 5"),
    ({"total_supply": "5"}, "owner_id must be a valid NEAR account id, got undefined"),
    ({"owner_id": "alice.test", "total_supply": "5", "metadata": {"spec": "ft-2"}},
     'metadata must be a NEP-148 object: spec "ft-1.0.0", name, symbol, decimals'),
])
def test_new_validates_its_arguments(sim: ContractSimulator, args: dict[str, Any],
                                     message: str) -> None:
    sim.deploy(CONTRACT, SOURCE)
    assert_panics(sim.call(CONTRACT, "new", args, signer_id=CONTRACT), message)
    assert sim.state(CONTRACT) == {}


def test_custom_metadata(sim: ContractSimulator) -> None:
    sim.deploy(CONTRACT, SOURCE)
    metadata = {"spec": "ft-1.0.0", "name": "Wrapped", "symbol": "W", "decimals": 6}
    ok(sim.call(CONTRACT, "new", {"owner_id": "alice.test", "total_supply": "7",
                                  "metadata": metadata}, signer_id=CONTRACT))
    assert ok(sim.view(CONTRACT, "ft_metadata")) == metadata


@pytest.mark.parametrize("method", ["ft_total_supply", "ft_metadata"])
def test_views_before_new_fail(sim: ContractSimulator, method: str) -> None:
    sim.deploy(CONTRACT, SOURCE)
    assert_panics(sim.view(CONTRACT, method), "The contract is not initialized: call new first")


def test_transfer_before_new_fails(sim: ContractSimulator) -> None:
    sim.deploy(CONTRACT, SOURCE)
    assert_panics(transfer(sim, "alice.test", "bob.test", "1"),
                  "The contract is not initialized: call new first")


def test_state_persists_across_simulators(db_path: Path) -> None:
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as first:
        first.deploy(CONTRACT, SOURCE)
        init(first)
        ok(transfer(first, "alice.test", "bob.test", "42"))
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as second:
        assert balance(second, "bob.test") == "42"
        ok(transfer(second, "bob.test", "carol.test", "2"))
        assert balance(second, "alice.test") == str(SUPPLY - 42)
        assert balance(second, "bob.test") == "40"
        assert balance(second, "carol.test") == "2"
        assert_panics(second.call(CONTRACT, "new", {"owner_id": "bob.test",
                                                    "total_supply": "1"}, signer_id=CONTRACT),
                      "The contract is already initialized")


def test_cli(cli: Cli) -> None:
    assert cli("deploy", CONTRACT, SOURCE)["result"]["methods"] == METHODS
    created = cli("call", CONTRACT, "new", "--signer", CONTRACT,
                  "--args", as_args(owner_id="alice.test", total_supply="1000"))
    assert created["status"] == "success"
    assert created["logs"] == [ft_event("ft_mint", owner_id="alice.test", amount="1000",
                                        memo="new tokens are minted")]
    sent = cli("call", CONTRACT, "ft_transfer", "--signer", "alice.test", "--deposit", "1",
               "--args", as_args(receiver_id="bob.test", amount="300"))
    assert sent["status"] == "success" and sent["result"] is None
    assert sent["logs"] == [ft_event("ft_transfer", old_owner_id="alice.test",
                                     new_owner_id="bob.test", amount="300")]
    assert cli("view", CONTRACT, "ft_balance_of", "--args",
               as_args(account_id="bob.test"))["result"] == "300"
    assert cli("view", CONTRACT, "ft_metadata")["result"] == METADATA

    before = cli.state(CONTRACT)
    failed = cli("call", CONTRACT, "ft_transfer", "--signer", "alice.test",
                 "--args", as_args(receiver_id="bob.test", amount="1"), code=1)
    assert failed["status"] == "failure"
    assert failed["error"] == {"kind": "GuestPanic",
                               "message": "Requires attached deposit of exactly 1 yoctoNEAR"}
    assert cli.state(CONTRACT) == before == {
        "b:alice.test": "700", "b:bob.test": "300", "metadata": METADATA_TEXT,
        "owner_id": "alice.test", "total_supply": "1000"}


def test_cli_executable(cli: Cli) -> None:
    cli.subprocess("deploy", CONTRACT, SOURCE)
    cli.subprocess("call", CONTRACT, "new", "--signer", CONTRACT,
                   "--args", as_args(owner_id="alice.test", total_supply=str(U128_MAX)))
    cli.subprocess("call", CONTRACT, "ft_transfer", "--signer", "alice.test", "--deposit", "1",
                   "--args", as_args(receiver_id="bob.test", amount=str(2**127)))
    viewed = cli.subprocess("view", CONTRACT, "ft_balance_of", "--args",
                            as_args(account_id="alice.test"))
    assert viewed["result"] == str(U128_MAX - 2**127)
