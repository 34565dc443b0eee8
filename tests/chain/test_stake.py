"""The Stake action and epochs (outlayer/chain/staking.py): NEAR's checks, locked balance,
decreases released at the next epoch boundary, storage staking over balance + locked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nacl.signing import SigningKey

from outlayer.chain import actions as act
from outlayer.chain import receipts as rc
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.units import NEAR
from outlayer.errors import UserError
from outlayer.testing import Sandbox

KEY = "ed25519:" + rc.b58(SigningKey(bytes(32)).verify_key.encode())
EPOCH = 10

STAKER = """
export function stake(args) {
  const p = near.promiseBatchCreate(near.currentAccountId());
  near.promiseBatchActionStake(p, BigInt(args.amount), args.key);
}
export function info() {
  return {locked: near.accountLockedBalance().toString(),
          balance: near.accountBalance().toString(),
          epoch: near.epochHeight().toString()};
}
"""


@pytest.fixture
def sim() -> Iterator[ContractSimulator]:
    # gas price 0: the balances below move only by stake
    with ContractSimulator(db_path=":memory:", gas_price=0, epoch_length=EPOCH) as chain:
        chain.create_account("v.test", 100 * NEAR)
        yield chain


def account(sim: ContractSimulator) -> tuple[int, int]:
    a = sim.account("v.test")
    return int(a["balance"]), int(a["locked"])


def stake(sim: ContractSimulator, amount: int) -> dict[str, str] | None:
    return sim.transact("v.test", "v.test", [act.stake(amount, KEY)]).error


def test_staking_locks_at_once_and_unstaking_waits_for_the_epoch(sim: ContractSimulator
                                                                  ) -> None:
    assert stake(sim, 30 * NEAR) is None
    assert account(sim) == (70 * NEAR, 30 * NEAR)  # view_account's `locked`
    assert stake(sim, 50 * NEAR) is None  # raising: only the increment moves
    assert account(sim) == (50 * NEAR, 50 * NEAR)
    assert stake(sim, 20 * NEAR) is None  # lowering: a proposal until the epoch ends
    assert account(sim) == (50 * NEAR, 50 * NEAR)
    assert sim.store.stake_proposals() == [("v.test", 20 * NEAR, KEY)]
    pending_at = sim.height  # a checkpoint holding the proposal (it is state: in the root)
    sim.fast_forward(EPOCH - sim.height % EPOCH - 1)  # the last block of this epoch
    assert account(sim) == (50 * NEAR, 50 * NEAR)
    height = sim.height
    sim.fast_forward(1)  # the first block of the next epoch
    assert sim.height % EPOCH == 0 and sim.height == height + 1
    assert account(sim) == (80 * NEAR, 20 * NEAR)
    assert sim.store.stake_proposals() == []
    assert sim.account_at("v.test", height)["locked"] == 50 * NEAR  # time travel sees it
    assert stake(sim, 0) is None  # unstake everything
    sim.fast_forward(EPOCH)
    assert account(sim) == (100 * NEAR, 0)
    report = sim.verify()
    assert report.ok, report.divergence
    from_checkpoint = sim.verify(from_block=pending_at + 1)
    assert from_checkpoint.ok, from_checkpoint.divergence


def test_the_latest_proposal_wins(sim: ContractSimulator) -> None:
    stake(sim, 40 * NEAR)
    stake(sim, 0)
    stake(sim, 10 * NEAR)  # lower than locked: still waits
    stake(sim, 45 * NEAR)  # above locked again: applies now, cancels the decrease
    assert account(sim) == (55 * NEAR, 45 * NEAR) and sim.store.stake_proposals() == []
    sim.fast_forward(EPOCH)
    assert account(sim) == (55 * NEAR, 45 * NEAR)


@pytest.mark.parametrize(("amount", "kind", "detail"), [
    # the balance seen: the 1 yocto transferred was paid when the transaction converted
    (101 * NEAR, "TriesToStake", {"account_id": "v.test", "stake": str(101 * NEAR),
                                  "locked": "0", "balance": str(100 * NEAR - 1)}),
    (0, "TriesToUnstake", {"account_id": "v.test"}),
])
def test_nears_checks(sim: ContractSimulator, amount: int, kind: str,
                      detail: dict[str, str]) -> None:
    result = sim.transact("v.test", "v.test", [act.stake(amount, KEY), act.transfer(1)])
    assert result.error is not None and result.error["kind"] == kind
    failed = result.receipts_outcome[0]  # then the refund of the 1 yocto transferred
    assert failed.error is not None and failed.error.to_json() == {
        "ActionError": {"index": 0, "kind": {kind: detail}}}
    assert account(sim) == (100 * NEAR, 0)


def test_staking_needs_the_account_itself_and_a_staking_key(sim: ContractSimulator) -> None:
    sim.create_account("other.test", 10 * NEAR)
    result = sim.transact("other.test", "v.test", [act.stake(NEAR, KEY)])
    assert result.error is not None and result.error["kind"] == "ActorNoPermission"
    secp = "secp256k1:" + rc.b58(bytes(64))
    with pytest.raises(UserError, match="UnsuitableStakingKey"):
        sim.transact("v.test", "v.test", [act.stake(NEAR, secp)])
    off_curve = "ed25519:" + rc.b58(bytes([2]) + bytes(31))
    with pytest.raises(UserError, match="UnsuitableStakingKey"):
        sim.transact("v.test", "v.test", [act.stake(NEAR, off_curve)])


def test_locked_balance_pays_for_storage_and_blocks_deletion(sim: ContractSimulator) -> None:
    # storage staking counts balance + locked (nearcore get_insufficient_storage_stake)
    sim.create_account("s.test", 2 * 10**21)  # 200 bytes' worth; uses 100
    assert sim.transact("s.test", "s.test", [act.stake(2 * 10**21, KEY)]).error is None
    assert sim.account("s.test")["balance"] == 0
    gone = sim.transact("s.test", "s.test", [act.delete_account("v.test")])
    assert gone.error is not None and gone.error["kind"] == "DeleteAccountStaking"


def test_a_contract_stakes_and_sees_its_locked_balance(sim: ContractSimulator) -> None:
    sim.deploy("pool.test", STAKER)
    result = sim.call("pool.test", "stake", {"amount": str(10 * NEAR), "key": KEY})
    assert result.status == "success", result.error
    info = sim.view("pool.test", "info").result
    assert info["locked"] == str(10 * NEAR) and info["balance"] == str(90 * NEAR)
    assert info["epoch"] == "1"
    sim.call("pool.test", "stake", {"amount": "0", "key": KEY})
    sim.fast_forward(EPOCH)
    info = sim.view("pool.test", "info").result
    assert info["locked"] == "0" and info["balance"] == str(100 * NEAR)
    assert info["epoch"] == "2"


def test_epochs_through_the_harness() -> None:
    with Sandbox(epoch_length=5) as sandbox:
        validator = sandbox.create_account("val.test", "50NEAR")
        assert validator.batch(validator, [act.stake("20NEAR", KEY)]).is_success
        assert validator.details()["locked"] == 20 * NEAR
        validator.batch(validator, [act.stake(0, KEY)])
        sandbox.fast_forward(5)
        assert validator.details()["locked"] == 0
        assert sandbox.verify().ok
