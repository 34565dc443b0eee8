"""Implicit accounts (NEAR's 64-hex ids): a lone Transfer creates one, with the full-access
key whose hex is its id; nothing else can (nearcore actions.rs, check_account_existence and
action_implicit_account_creation_transfer)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nacl.signing import SigningKey

from outlayer.chain import actions as act
from outlayer.chain import receipts as rc
from outlayer.chain.runtime import NEAR_GAS_PRICE
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.units import NEAR
from outlayer.vm.params import DEFAULT_PARAMS as P

KEY = SigningKey(bytes(range(32))).verify_key.encode()
IMPLICIT = KEY.hex()  # 64 lowercase hex characters
KEY_TEXT = "ed25519:" + rc.b58(KEY)
ETH = "0x" + "ab" * 20

PAYER = """
export function pay(args) {
  const p = near.promiseBatchCreate(args.to);
  near.promiseBatchActionTransfer(p, BigInt(args.amount));
}
"""


@pytest.fixture
def sim() -> Iterator[ContractSimulator]:
    with ContractSimulator(db_path=":memory:") as simulator:  # NEAR's gas price
        simulator.create_account("alice.test", 10 * NEAR)
        yield simulator


def test_a_transfer_creates_the_implicit_account_with_its_key(sim: ContractSimulator) -> None:
    before = int(sim.account("alice.test")["balance"])
    result = sim.transact("alice.test", IMPLICIT, [act.transfer(NEAR)])
    assert result.status == "success", result.error
    account = sim.account(IMPLICIT)
    assert account["balance"] == NEAR and account["locked"] == 0
    assert account["code_hash"] is None and account["public_key"] == KEY_TEXT
    # NEAR's storage: the account record (100) + the key (33 + 9 + 40 bytes)
    assert account["storage_usage"] == 182
    (key,) = sim.access_keys(IMPLICIT)
    height = result.receipts_outcome[0].block_height
    assert key == {"public_key": KEY_TEXT, "access_key": {
        "nonce": (height - 1) * 10**6, "permission": "FullAccess"}}
    # the transfer also paid NEAR's fees for creating the account and adding the key
    fees = (P.action_receipt_creation, P.action_transfer, P.action_create_account,
            P.action_add_full_access_key)
    send = sum(f.send_fee(False) for f in fees)
    execution = sum(f.execution for f in fees)
    assert result.transaction_outcome.gas_burnt == send
    assert result.receipts_outcome[0].gas_burnt == execution
    assert int(sim.account("alice.test")["balance"]) == before - NEAR - (
        send + execution) * NEAR_GAS_PRICE
    # the second transfer is an ordinary one (it still pays the implicit fees, as on NEAR)
    again = sim.transact("alice.test", IMPLICIT, [act.transfer(5)])
    assert again.status == "success" and sim.account(IMPLICIT)["balance"] == NEAR + 5
    assert sim.verify().ok


def test_a_contract_transfer_creates_it_too(sim: ContractSimulator) -> None:
    sim.deploy("payer.test", PAYER)
    result = sim.call("payer.test", "pay", {"to": IMPLICIT, "amount": str(NEAR)})
    assert result.status == "success", result.error
    assert sim.account(IMPLICIT)["balance"] == NEAR
    assert [k["public_key"] for k in sim.access_keys(IMPLICIT)] == [KEY_TEXT]


@pytest.mark.parametrize(("actions", "kind"), [
    ([act.create_account(), act.transfer(NEAR)], "OnlyImplicitAccountCreationAllowed"),
    ([act.transfer(NEAR), act.add_full_access_key("ed25519:" + rc.b58(bytes(32)))],
     "AccountDoesNotExist"),
    ([act.function_call("m")], "AccountDoesNotExist"),
    ([act.deploy_contract("export function m() {}")], "AccountDoesNotExist"),
])
def test_only_a_lone_transfer_creates_it(sim: ContractSimulator, actions: list[object],
                                         kind: str) -> None:
    before = int(sim.account("alice.test")["balance"])
    result = sim.transact("alice.test", IMPLICIT, actions)  # type: ignore[arg-type]
    assert result.status == "failure" and result.error is not None
    assert result.error["kind"] == kind
    assert sim.store.get_account(IMPLICIT) is None  # nothing made
    assert sim.store.access_keys(IMPLICIT) == []
    # the deposits came back; only the gas burnt was paid
    assert int(sim.account("alice.test")["balance"]) == before - result.tokens_burnt


def test_too_small_a_transfer_cannot_pay_for_the_account(sim: ContractSimulator) -> None:
    result = sim.transact("alice.test", IMPLICIT, [act.transfer(10**18)])
    assert result.error is not None and result.error["kind"] == "LackBalanceForState"
    assert sim.store.get_account(IMPLICIT) is None
    assert sim.store.access_keys(IMPLICIT) == []


def test_refunds_and_other_ids_do_not_create_accounts(sim: ContractSimulator) -> None:
    sim.deploy("payer.test", PAYER)
    sim.transact("alice.test", IMPLICIT, [act.transfer(NEAR)])
    # a failed call: its deposit refund and gas refund are queued for the next block ...
    failed = sim.submit(IMPLICIT, "payer.test", [act.function_call(
        "pay", {"to": "bad..id", "amount": "1"}, deposit=NEAR // 2, gas="10T")])
    assert failed.status == "failure"
    # ... where the account deletes itself first (a transaction runs before queued receipts)
    gone = sim.transact(IMPLICIT, IMPLICIT, [act.delete_account("alice.test")])
    assert gone.status == "success"
    refunds = [o for o in sim.tx_outcome(failed.tx_hash).receipts_outcome
               if o.receipt_kind == "refund"]
    assert refunds and all(o.status == "Failure" for o in refunds)
    assert refunds[0].error is not None and refunds[0].error.kind == "AccountDoesNotExist"
    assert sim.store.get_account(IMPLICIT) is None  # refunds never create accounts
    # ETH-implicit ids pay NEAR's fees but are not created: NEAR gives them its wallet
    # contract, which OutLayer does not have
    eth = sim.transact("alice.test", ETH, [act.transfer(NEAR)])
    assert eth.error is not None and eth.error["kind"] == "AccountDoesNotExist"
    # a named account is never created by a transfer
    named = sim.transact("alice.test", "bob.test", [act.transfer(NEAR)])
    assert named.error is not None and named.error["kind"] == "AccountDoesNotExist"
    assert sim.verify().ok
