"""examples/sdkjs/fungible_token.ts (NEP-141 + NEP-145 storage) and ft_receiver.ts, written
with near-sdk-js: registration, transfers, transfer-and-call with every receiver answer,
and the checks that must refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from outlayer import ContractSimulator
from tests.examples.support import Cli, as_args, event_log

from .support import ONE_YOCTO, assert_sdk_panic, example, ok

TOKEN = "ft.test"
RECEIVER = "recv.test"
STORAGE = 1_250_000_000_000_000_000_000


def transfer_log(old: str, new: str, amount: int, memo: str | None = None) -> str:
    data = {"old_owner_id": old, "new_owner_id": new, "amount": str(amount)}
    return event_log("nep141", "1.0.0", "ft_transfer", [{**data, **({"memo": memo} if memo else {})}])


@pytest.fixture
def ft(sim: ContractSimulator) -> ContractSimulator:
    sim.deploy(TOKEN, example("fungible_token.ts"))
    sim.deploy(RECEIVER, example("ft_receiver.ts"))
    init = sim.call(TOKEN, "init", {"owner_id": "alice.test", "total_supply": "1000"})
    assert init.logs == [event_log("nep141", "1.0.0", "ft_mint", [
        {"owner_id": "alice.test", "amount": "1000", "memo": "new tokens are minted"}])]
    for account in ("bob.test", RECEIVER):
        ok(sim.call(TOKEN, "storage_deposit", {"account_id": account}, signer_id="bob.test",
                    deposit=STORAGE))
    return sim


def balances(sim: ContractSimulator) -> dict[str, int]:
    return {a: int(ok(sim.view(TOKEN, "ft_balance_of", {"account_id": a})))
            for a in ("alice.test", "bob.test", RECEIVER)}


def test_requires_init(sim: ContractSimulator) -> None:
    sim.deploy(TOKEN, example("fungible_token.ts"))
    assert_sdk_panic(sim.view(TOKEN, "ft_total_supply"), "Contract must be initialized")


def test_metadata_and_supply(ft: ContractSimulator) -> None:
    assert ok(ft.view(TOKEN, "ft_metadata")) == {
        "spec": "ft-1.0.0", "name": "Example Token", "symbol": "EXT", "decimals": 24,
        "icon": None}
    assert ok(ft.view(TOKEN, "ft_total_supply")) == "1000"
    assert balances(ft) == {"alice.test": 1000, "bob.test": 0, RECEIVER: 0}


def test_storage_deposit_registers_and_refunds_the_excess(ft: ContractSimulator) -> None:
    ft.create_account("carol.test")
    before = int(ft.account("carol.test")["balance"])
    result = ft.call(TOKEN, "storage_deposit", {}, signer_id="carol.test", deposit=3 * STORAGE)
    assert ok(result) == {"total": str(STORAGE), "available": "0"}
    assert int(ft.account("carol.test")["balance"]) == before - STORAGE
    assert ok(ft.view(TOKEN, "storage_balance_of", {"account_id": "carol.test"})) == {
        "total": str(STORAGE), "available": "0"}
    assert ok(ft.view(TOKEN, "storage_balance_of", {"account_id": "dave.test"})) is None
    assert ok(ft.view(TOKEN, "storage_balance_bounds")) == {"min": str(STORAGE),
                                                          "max": str(STORAGE)}
    again = ft.call(TOKEN, "storage_deposit", {}, signer_id="carol.test", deposit=STORAGE)
    assert again.logs == ["The account is already registered, refunding the deposit"]
    assert int(ft.account("carol.test")["balance"]) == before - STORAGE


def test_storage_deposit_below_the_minimum_is_refused(ft: ContractSimulator) -> None:
    result = ft.call(TOKEN, "storage_deposit", {}, signer_id="carol.test", deposit=STORAGE - 1)
    assert_sdk_panic(result, f"assertion failed: The attached deposit is less than the "
                             f"minimum storage balance ({STORAGE})")


def test_ft_transfer(ft: ContractSimulator) -> None:
    result = ft.call(TOKEN, "ft_transfer", {"receiver_id": "bob.test", "amount": "100",
                                            "memo": "hi"},
                     signer_id="alice.test", deposit=ONE_YOCTO)
    assert ok(result) is None
    assert result.logs == [transfer_log("alice.test", "bob.test", 100, "hi")]
    assert balances(ft) == {"alice.test": 900, "bob.test": 100, RECEIVER: 0}


@pytest.mark.parametrize(("args", "deposit", "message"), [
    ({"receiver_id": "bob.test", "amount": "1"}, 0,
     "assertion failed: Requires attached deposit of exactly 1 yoctoNEAR"),
    ({"receiver_id": "carol.test", "amount": "1"}, ONE_YOCTO,
     "assertion failed: The account carol.test is not registered"),
    ({"receiver_id": "bob.test", "amount": "1001"}, ONE_YOCTO,
     "assertion failed: The account doesn't have enough balance"),
    ({"receiver_id": "alice.test", "amount": "1"}, ONE_YOCTO,
     "assertion failed: Sender and receiver should be different"),
    ({"receiver_id": "bob.test", "amount": "0"}, ONE_YOCTO,
     "assertion failed: The amount should be a positive number"),
])
def test_ft_transfer_refusals_change_nothing(ft: ContractSimulator, args: dict[str, str],
                                             deposit: int, message: str) -> None:
    state = ft.state(TOKEN)
    result = ft.call(TOKEN, "ft_transfer", args, signer_id="alice.test", deposit=deposit)
    assert_sdk_panic(result, message)
    assert ft.state(TOKEN) == state


@pytest.mark.parametrize(("msg", "used", "after"), [
    ("keep", 100, {"alice.test": 900, RECEIVER: 100}),
    ("return", 0, {"alice.test": 1000, RECEIVER: 0}),
    ("half", 50, {"alice.test": 950, RECEIVER: 50}),
    ("fail", 0, {"alice.test": 1000, RECEIVER: 0}),
])
def test_ft_transfer_call_resolves_what_the_receiver_used(
        ft: ContractSimulator, msg: str, used: int, after: dict[str, int]) -> None:
    result = ft.call(TOKEN, "ft_transfer_call",
                     {"receiver_id": RECEIVER, "amount": "100", "msg": msg},
                     signer_id="alice.test", deposit=ONE_YOCTO)
    assert ok(result) == str(used)  # the final value: ft_resolve_transfer's
    assert result.logs[0] == transfer_log("alice.test", RECEIVER, 100)
    if used < 100:
        assert result.logs[-1] == transfer_log(RECEIVER, "alice.test", 100 - used, "refund")
    assert balances(ft) == {**after, "bob.test": 0}
    assert ok(ft.view(TOKEN, "ft_total_supply")) == "1000"
    received = ok(ft.view(RECEIVER, "get_received"))
    assert received == ([] if msg == "fail" else [f"alice.test:100:{msg}"])


def test_ft_resolve_transfer_is_private(ft: ContractSimulator) -> None:
    result = ft.call(TOKEN, "ft_resolve_transfer",
                     {"sender_id": "bob.test", "receiver_id": RECEIVER, "amount": "5"},
                     signer_id="bob.test")
    assert_sdk_panic(result, "Function is private")


def test_through_the_cli(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "state.db")
    cli("deploy", TOKEN, example("fungible_token.ts"))
    cli("call", TOKEN, "init", "--args", as_args(owner_id="alice.test", total_supply="500"))
    cli("call", TOKEN, "storage_deposit", "--args", as_args(account_id="bob.test"),
        "--deposit", str(STORAGE))
    moved = cli("call", TOKEN, "ft_transfer", "--args", as_args(receiver_id="bob.test",
                                                              amount="20"),
                "--signer", "alice.test", "--deposit", "1")
    assert moved["logs"] == [transfer_log("alice.test", "bob.test", 20)]
    assert cli("view", TOKEN, "ft_balance_of", "--args", as_args(account_id="bob.test")
               )["result"] == "20"
    refused = cli("call", TOKEN, "ft_transfer", "--args", as_args(receiver_id="bob.test",
                                                                amount="1"),
                  "--signer", "alice.test", code=1)
    assert refused["error"]["message"].startswith(
        "assertion failed: Requires attached deposit of exactly 1 yoctoNEAR\n")
