"""Fixtures of the simulator tests: small contracts and fresh in-memory chains."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from outlayer.chain.simulator import ContractSimulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: a key-value contract whose methods succeed or fail on demand.
KV_CONTRACT = """
export function set(args) {
  near.storageWrite(args.key, args.value);
  return true;
}
export function set_then_fail(args) {
  near.storageWrite(args.key, args.value);
  throw new Error("failed after writing " + args.key);
}
export function remove(args) {
  near.storageRemove(args.key);
}
export function get(args) {
  return near.storageRead(args.key);
}
export function write_in_view() {
  near.storageWrite("k", "v");
}
export function context() {
  return {
    current: near.currentAccountId(),
    signer: near.signerAccountId(),
    predecessor: near.predecessorAccountId(),
    height: near.blockHeight().toString(),
    timestamp: near.blockTimestamp().toString(),
    deposit: near.attachedDeposit().toString(),
    balance: near.accountBalance().toString(),
    storage_usage: near.storageUsage().toString(),
    seed: Array.from(near.randomSeed()),
  };
}
export function big(args) {
  near.storageWrite("big", "x".repeat(args.size));
}
"""


@pytest.fixture
def sim() -> Iterator[ContractSimulator]:
    """Gas price 0: these tests are about receipts, blocks and state, so balances move only
    by deposits and no gas refund receipts are made (tests/chain/test_gas_price.py covers
    NEAR's price, the default)."""
    with ContractSimulator(db_path=":memory:", gas_price=0) as simulator:
        yield simulator


@pytest.fixture
def counter_source() -> str:
    return (EXAMPLES / "counter.js").read_text()


@pytest.fixture
def kv(sim: ContractSimulator) -> ContractSimulator:
    """`sim` with the KV contract deployed at kv.test."""
    sim.deploy("kv.test", KV_CONTRACT)
    return sim
