"""examples/nft.js: NEP-171 core, through the Python API and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from outlayer import ContractSimulator

from .support import Cli, as_args, assert_panics, event_log, example, ok, snapshot

SOURCE = example("nft.js")
CONTRACT = "nft.test"
OWNER = "alice.test"  # the contract owner: the only minter
METHODS = ["new", "nft_metadata", "nft_mint", "nft_supply_for_owner", "nft_token",
           "nft_tokens_for_owner", "nft_total_supply", "nft_transfer"]
CONTRACT_METADATA = {"spec": "nft-1.0.0", "name": "OutLayer Example Collection",
                     "symbol": "OLNFT", "icon": None, "base_uri": None, "reference": None,
                     "reference_hash": None}


def nft_event(event: str, **data: Any) -> str:
    return event_log("nep171", "1.0.0", event, [data])


def token(token_id: str, owner: str, metadata: Any = None) -> dict[str, Any]:
    return {"token_id": token_id, "owner_id": owner, "metadata": metadata}


def mint(sim: ContractSimulator, token_id: str, receiver: str, metadata: Any = None,
         signer: str = OWNER) -> Any:
    args: dict[str, Any] = {"token_id": token_id, "receiver_id": receiver}
    if metadata is not None:
        args["metadata"] = metadata
    return sim.call(CONTRACT, "nft_mint", args, signer_id=signer)


def transfer(sim: ContractSimulator, sender: str, receiver: str, token_id: str,
             deposit: int = 1, **extra: Any) -> Any:
    return sim.call(CONTRACT, "nft_transfer",
                    {"receiver_id": receiver, "token_id": token_id, **extra},
                    signer_id=sender, deposit=deposit)


def tokens_for(sim: ContractSimulator, account: str, **page: Any) -> Any:
    return ok(sim.view(CONTRACT, "nft_tokens_for_owner", {"account_id": account, **page}))


@pytest.fixture
def nft(sim: ContractSimulator) -> ContractSimulator:
    assert sim.deploy(CONTRACT, SOURCE)["methods"] == METHODS
    for account in ("alice.test", "bob.test", "carol.test"):
        sim.create_account(account)
    assert ok(sim.call(CONTRACT, "new", {"owner_id": OWNER}, signer_id=CONTRACT)) is None
    return sim


def test_new(nft: ContractSimulator) -> None:
    assert nft.state(CONTRACT) == {
        "metadata": json.dumps(CONTRACT_METADATA, separators=(",", ":")),
        "owner_id": OWNER, "supply": "0"}
    assert ok(nft.view(CONTRACT, "nft_metadata")) == CONTRACT_METADATA
    assert ok(nft.view(CONTRACT, "nft_total_supply")) == "0"


def test_mint(nft: ContractSimulator) -> None:
    meta = {"title": "Sunrise", "media": "https://example.test/1.png", "copies": 1}
    result = mint(nft, "sun-1", "bob.test", meta)
    assert ok(result) == token("sun-1", "bob.test", meta)
    assert result.logs == [nft_event("nft_mint", owner_id="bob.test", token_ids=["sun-1"])]
    assert result.state_changes == {
        "o:bob.test": '["sun-1"]',
        "supply": "1",
        "t:sun-1": json.dumps({"owner_id": "bob.test", "metadata": meta},
                              separators=(",", ":")),
    }
    assert ok(nft.view(CONTRACT, "nft_token", {"token_id": "sun-1"})) == token(
        "sun-1", "bob.test", meta)
    assert ok(nft.view(CONTRACT, "nft_token", {"token_id": "nope"})) is None
    assert ok(nft.view(CONTRACT, "nft_total_supply")) == "1"
    assert ok(nft.view(CONTRACT, "nft_supply_for_owner", {"account_id": "bob.test"})) == "1"


def test_tokens_for_owner_pages(nft: ContractSimulator) -> None:
    for i in range(5):
        ok(mint(nft, f"t{i}", "bob.test"))
    ok(mint(nft, "c0", "carol.test"))
    all_bob = [token(f"t{i}", "bob.test") for i in range(5)]
    assert tokens_for(nft, "bob.test") == all_bob
    assert tokens_for(nft, "bob.test", from_index="1", limit=2) == all_bob[1:3]
    assert tokens_for(nft, "bob.test", from_index=3, limit=10) == all_bob[3:]
    assert tokens_for(nft, "bob.test", from_index="9") == []
    assert tokens_for(nft, "carol.test") == [token("c0", "carol.test")]
    assert tokens_for(nft, "dave.test") == []
    assert ok(nft.view(CONTRACT, "nft_total_supply")) == "6"
    assert_panics(nft.view(CONTRACT, "nft_tokens_for_owner",
                           {"account_id": "bob.test", "limit": 0}),
                  "limit must be between 1 and 100")
    assert_panics(nft.view(CONTRACT, "nft_tokens_for_owner",
                           {"account_id": "bob.test", "from_index": -1}),
                  "from_index must be a non-negative integer, got -1")


def test_transfer(nft: ContractSimulator) -> None:
    ok(mint(nft, "a", "bob.test"))
    ok(mint(nft, "b", "bob.test"))
    ok(mint(nft, "c", "bob.test"))
    contract_balance = nft.account(CONTRACT)["balance"]
    result = transfer(nft, "bob.test", "carol.test", "b", memo="for you")
    assert ok(result) is None
    assert result.logs == [nft_event("nft_transfer", old_owner_id="bob.test",
                                     new_owner_id="carol.test", token_ids=["b"],
                                     memo="for you")]
    assert result.state_changes == {"o:bob.test": '["a","c"]', "o:carol.test": '["b"]',
                                    "t:b": '{"owner_id":"carol.test","metadata":null}'}
    assert nft.account(CONTRACT)["balance"] == contract_balance + 1
    assert [t["token_id"] for t in tokens_for(nft, "bob.test")] == ["a", "c"]
    assert tokens_for(nft, "carol.test") == [token("b", "carol.test")]
    assert ok(nft.view(CONTRACT, "nft_token", {"token_id": "b"}))["owner_id"] == "carol.test"


def test_transfer_chain_and_empty_owner_lists(nft: ContractSimulator) -> None:
    ok(mint(nft, "x", "bob.test"))
    ok(transfer(nft, "bob.test", "carol.test", "x"))
    # the new owner can pass it on; the owner (not the minter) decides; an approval_id from
    # the owner is accepted and ignored (no approvals in this contract)
    result = transfer(nft, "carol.test", "alice.test", "x", approval_id=3)
    assert result.logs == [nft_event("nft_transfer", old_owner_id="carol.test",
                                     new_owner_id="alice.test", token_ids=["x"])]
    state = nft.state(CONTRACT)
    assert "o:bob.test" not in state and "o:carol.test" not in state
    assert state["o:alice.test"] == '["x"]'
    assert ok(nft.view(CONTRACT, "nft_supply_for_owner", {"account_id": "bob.test"})) == "0"


@pytest.mark.parametrize(("sender", "receiver", "token_id", "deposit", "message"), [
    ("bob.test", "carol.test", "a", 0, "Requires attached deposit of exactly 1 yoctoNEAR"),
    ("bob.test", "carol.test", "a", 5, "Requires attached deposit of exactly 1 yoctoNEAR"),
    ("carol.test", "carol.test", "a", 1, "Sender carol.test is not the owner of token a"),
    (OWNER, "carol.test", "a", 1, "Sender alice.test is not the owner of token a"),
    ("bob.test", "bob.test", "a", 1, "The token owner and the receiver should be different"),
    ("bob.test", "carol.test", "zzz", 1, "Token zzz not found"),
    ("bob.test", "carol.test", "", 1,
     'token_id must be a non-empty string of at most 128 characters, got ""'),
    ("bob.test", "Carol", "a", 1, 'receiver_id must be a valid NEAR account id, got "Carol"'),
])
def test_invalid_transfers_fail_and_change_nothing(nft: ContractSimulator, sender: str,
                                                   receiver: str, token_id: str,
                                                   deposit: int, message: str) -> None:
    ok(mint(nft, "a", "bob.test"))
    before = snapshot(nft, CONTRACT, sender)
    result = transfer(nft, sender, receiver, token_id, deposit=deposit)
    assert_panics(result, message)
    assert result.logs == []
    assert snapshot(nft, CONTRACT, sender) == before
    assert ok(nft.view(CONTRACT, "nft_token", {"token_id": "a"}))["owner_id"] == "bob.test"


@pytest.mark.parametrize(("signer", "token_id", "receiver", "metadata", "message"), [
    ("bob.test", "n", "bob.test", None,
     "Only the contract owner alice.test can mint, not bob.test"),
    (OWNER, "a", "carol.test", None, "Token a already exists"),
    (OWNER, 5, "carol.test", None,
     "token_id must be a non-empty string of at most 128 characters, got 5"),
    (OWNER, "x" * 129, "carol.test", None,
     f'token_id must be a non-empty string of at most 128 characters, got "{"x" * 129}"'),
    (OWNER, "n", "a..b", None, 'receiver_id must be a valid NEAR account id, got "a..b"'),
    (OWNER, "n", "bob.test", [1], "metadata must be a NEP-177 TokenMetadata object or null"),
])
def test_invalid_mints_fail_and_change_nothing(nft: ContractSimulator, signer: str,
                                               token_id: Any, receiver: str, metadata: Any,
                                               message: str) -> None:
    ok(mint(nft, "a", "bob.test"))
    before = snapshot(nft, CONTRACT)
    result = mint(nft, token_id, receiver, metadata, signer=signer)
    assert_panics(result, message)
    assert snapshot(nft, CONTRACT) == before


def test_new_once_and_only_by_the_contract(sim: ContractSimulator) -> None:
    sim.deploy(CONTRACT, SOURCE)
    assert_panics(sim.call(CONTRACT, "nft_mint", {"token_id": "a", "receiver_id": "bob.test"},
                           signer_id=OWNER),
                  "The contract is not initialized: call new first")
    assert_panics(sim.call(CONTRACT, "new", {"owner_id": OWNER}, signer_id=OWNER),
                  "new can only be called by the contract account itself")
    assert sim.state(CONTRACT) == {}
    ok(sim.call(CONTRACT, "new", {"owner_id": OWNER}, signer_id=CONTRACT))
    before = sim.state(CONTRACT)
    assert_panics(sim.call(CONTRACT, "new", {"owner_id": "bob.test"}, signer_id=CONTRACT),
                  "The contract is already initialized")
    assert sim.state(CONTRACT) == before


def test_state_persists_across_simulators(db_path: Path) -> None:
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as first:
        first.deploy(CONTRACT, SOURCE)
        ok(first.call(CONTRACT, "new", {"owner_id": OWNER}, signer_id=CONTRACT))
        ok(mint(first, "p", "bob.test", {"title": "Persisted"}))
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as second:
        assert tokens_for(second, "bob.test") == [token("p", "bob.test", {"title": "Persisted"})]
        ok(transfer(second, "bob.test", "carol.test", "p"))
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as third:
        assert tokens_for(third, "bob.test") == []
        assert tokens_for(third, "carol.test") == [
            token("p", "carol.test", {"title": "Persisted"})]


def test_cli(cli: Cli) -> None:
    assert cli("deploy", CONTRACT, SOURCE)["result"]["methods"] == METHODS
    cli("call", CONTRACT, "new", "--signer", CONTRACT, "--args", as_args(owner_id=OWNER))
    minted = cli("call", CONTRACT, "nft_mint", "--signer", OWNER, "--args",
                 as_args(token_id="1", receiver_id="bob.test", metadata={"title": "One"}))
    assert minted["result"] == token("1", "bob.test", {"title": "One"})
    assert minted["logs"] == [nft_event("nft_mint", owner_id="bob.test", token_ids=["1"])]
    moved = cli("call", CONTRACT, "nft_transfer", "--signer", "bob.test", "--deposit", "1",
                "--args", as_args(receiver_id="carol.test", token_id="1"))
    assert moved["status"] == "success"
    assert cli("view", CONTRACT, "nft_tokens_for_owner", "--args",
               as_args(account_id="carol.test"))["result"] == [
        token("1", "carol.test", {"title": "One"})]

    before = cli.state(CONTRACT)
    stolen = cli("call", CONTRACT, "nft_transfer", "--signer", "bob.test", "--deposit", "1",
                 "--args", as_args(receiver_id="bob.test", token_id="1"), code=1)
    assert stolen["error"] == {"kind": "GuestPanic",
                               "message": "Sender bob.test is not the owner of token 1"}
    assert cli.state(CONTRACT) == before
    assert before["o:carol.test"] == '["1"]' and "o:bob.test" not in before


def test_cli_executable(cli: Cli) -> None:
    cli.subprocess("deploy", CONTRACT, SOURCE)
    cli.subprocess("call", CONTRACT, "new", "--signer", CONTRACT, "--args",
                   as_args(owner_id=OWNER))
    cli.subprocess("call", CONTRACT, "nft_mint", "--signer", OWNER, "--args",
                   as_args(token_id="7", receiver_id="bob.test"))
    viewed = cli.subprocess("view", CONTRACT, "nft_token", "--args", as_args(token_id="7"))
    assert viewed["result"] == token("7", "bob.test")
