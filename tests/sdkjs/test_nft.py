"""examples/sdkjs/nft.ts (NEP-171) written with near-sdk-js: minting by allowed accounts,
transfers with one yoctoNEAR, token and per-owner queries, and the refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from outlayer import ContractSimulator
from tests.examples.support import Cli, as_args, event_log

from .support import ONE_YOCTO, assert_sdk_panic, example, ok

NFT = "nft.test"


@pytest.fixture
def nft(sim: ContractSimulator) -> ContractSimulator:
    sim.deploy(NFT, example("nft.ts"))
    ok(sim.call(NFT, "init", {"owner_id": "alice.test"}))
    return sim


def mint(sim: ContractSimulator, token_id: str, receiver: str, minter: str = "alice.test"
         ) -> object:
    return sim.call(NFT, "nft_mint", {"token_id": token_id, "receiver_id": receiver,
                                      "token_metadata": {"title": token_id.upper()}},
                    signer_id=minter)


def test_requires_init(sim: ContractSimulator) -> None:
    sim.deploy(NFT, example("nft.ts"))
    assert_sdk_panic(sim.view(NFT, "nft_token", {"token_id": "x"}),
                     "Contract must be initialized")


def test_mint_and_query(nft: ContractSimulator) -> None:
    result = mint(nft, "t1", "bob.test")
    assert ok(result) == {"token_id": "t1", "owner_id": "bob.test",
                          "metadata": {"title": "T1"}}
    assert result.logs == [event_log("nep171", "1.0.0", "nft_mint",
                                     [{"owner_id": "bob.test", "token_ids": ["t1"]}])]
    ok(mint(nft, "t2", "bob.test"))
    ok(mint(nft, "t3", "carol.test"))
    assert ok(nft.view(NFT, "nft_token", {"token_id": "t2"})) == {
        "token_id": "t2", "owner_id": "bob.test", "metadata": {"title": "T2"}}
    assert ok(nft.view(NFT, "nft_token", {"token_id": "nope"})) is None
    owned = ok(nft.view(NFT, "nft_tokens_for_owner", {"account_id": "bob.test"}))
    assert [t["token_id"] for t in owned] == ["t1", "t2"]
    page = ok(nft.view(NFT, "nft_tokens_for_owner", {"account_id": "bob.test",
                                                      "from_index": "1", "limit": 1}))
    assert [t["token_id"] for t in page] == ["t2"]
    assert ok(nft.view(NFT, "nft_total_supply")) == "3"
    assert [t["owner_id"] for t in ok(nft.view(NFT, "nft_tokens"))] == [
        "bob.test", "bob.test", "carol.test"]


def test_only_minters_mint_and_ids_are_unique(nft: ContractSimulator) -> None:
    assert_sdk_panic(mint(nft, "t1", "bob.test", minter="bob.test"),
                     "assertion failed: bob.test may not mint")
    assert_sdk_panic(nft.call(NFT, "add_minter", {"account_id": "bob.test"},
                              signer_id="bob.test"),
                     "assertion failed: only the owner adds minters")
    ok(nft.call(NFT, "add_minter", {"account_id": "bob.test"}, signer_id="alice.test"))
    assert ok(nft.view(NFT, "is_minter", {"account_id": "bob.test"})) is True
    ok(mint(nft, "t1", "bob.test", minter="bob.test"))
    assert_sdk_panic(mint(nft, "t1", "carol.test"), "assertion failed: token t1 already exists")


def test_transfer_moves_ownership(nft: ContractSimulator) -> None:
    ok(mint(nft, "t1", "bob.test"))
    result = nft.call(NFT, "nft_transfer", {"receiver_id": "carol.test", "token_id": "t1",
                                            "memo": "gift"},
                      signer_id="bob.test", deposit=ONE_YOCTO)
    assert ok(result) is None
    assert result.logs == [event_log("nep171", "1.0.0", "nft_transfer", [
        {"old_owner_id": "bob.test", "new_owner_id": "carol.test", "token_ids": ["t1"],
         "memo": "gift"}])]
    assert ok(nft.view(NFT, "nft_token", {"token_id": "t1"}))["owner_id"] == "carol.test"
    assert ok(nft.view(NFT, "nft_tokens_for_owner", {"account_id": "bob.test"})) == []
    assert len(ok(nft.view(NFT, "nft_tokens_for_owner", {"account_id": "carol.test"}))) == 1


@pytest.mark.parametrize(("signer", "args", "deposit", "message"), [
    ("bob.test", {"receiver_id": "carol.test", "token_id": "t1"}, 0,
     "assertion failed: Requires attached deposit of exactly 1 yoctoNEAR"),
    ("carol.test", {"receiver_id": "dave.test", "token_id": "t1"}, ONE_YOCTO,
     "assertion failed: carol.test does not own token t1"),
    ("bob.test", {"receiver_id": "carol.test", "token_id": "t9"}, ONE_YOCTO,
     "assertion failed: token t9 not found"),
    ("bob.test", {"receiver_id": "bob.test", "token_id": "t1"}, ONE_YOCTO,
     "assertion failed: the token owner and the receiver should be different"),
])
def test_transfer_refusals_change_nothing(nft: ContractSimulator, signer: str,
                                          args: dict[str, str], deposit: int,
                                          message: str) -> None:
    ok(mint(nft, "t1", "bob.test"))
    state = nft.state(NFT)
    assert_sdk_panic(nft.call(NFT, "nft_transfer", args, signer_id=signer, deposit=deposit),
                     message)
    assert nft.state(NFT) == state


def test_through_the_cli(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "state.db")
    cli("deploy", NFT, example("nft.ts"))
    cli("call", NFT, "init", "--args", as_args(owner_id="alice.test"))
    minted = cli("call", NFT, "nft_mint", "--args", as_args(token_id="a", receiver_id="bob.test"),
                 "--signer", "alice.test")
    assert minted["result"] == {"token_id": "a", "owner_id": "bob.test", "metadata": {}}
    cli("call", NFT, "nft_transfer", "--args", as_args(receiver_id="carol.test", token_id="a"),
        "--signer", "bob.test", "--deposit", "1")
    assert cli("view", NFT, "nft_token", "--args", as_args(token_id="a"))["result"][
        "owner_id"] == "carol.test"
