"""The promise examples: off-chain oracle (yield/resume), cross-contract counter, deployer."""

from __future__ import annotations

import json

import base58
import pytest

from outlayer.chain import actions
from outlayer.chain.simulator import ContractSimulator

from .conftest import NEAR, balance, example, methods, ok

# --- offchain_oracle.js: yield / resume ----------------------------------------------


@pytest.fixture
def oracle(sim: ContractSimulator) -> ContractSimulator:
    sim.deploy("oracle.test", example("offchain_oracle.js"))
    ok(sim.call("oracle.test", "init", {"operator": "operator.test"}))
    return sim


def _request(sim: ContractSimulator, task: str) -> tuple[str, str]:
    """(tx hash, data id) of a request_work by user.test; the transaction stays open."""
    result = sim.call("oracle.test", "request_work", {"task": task}, signer_id="user.test")
    assert result.status == "pending", result.error
    (entry,) = [e for e in ok(sim.view("oracle.test", "pending")) if e["task"] == task]
    assert entry["requester"] == "user.test" and len(entry["data_id"]) == 64
    return result.tx_hash, entry["data_id"]


def test_the_operator_resumes_a_request(oracle: ContractSimulator) -> None:
    tx, data_id = _request(oracle, "price of NEAR")
    assert len(oracle.pending()["yields"]) == 1
    # not the operator: refused
    bad = oracle.call("oracle.test", "submit_result", {"data_id": data_id, "payload": 1},
                      signer_id="mallory.test")
    assert bad.status == "failure" and "only the operator" in bad.error["message"]

    answer = {"usd": "4.56"}
    assert ok(oracle.call("oracle.test", "submit_result",
                          {"data_id": data_id, "payload": answer},
                          signer_id="operator.test")) is True
    final = oracle.tx_outcome(tx)
    assert final.status == "SuccessValue"
    assert json.loads(final.value or b"") == {"task": "price of NEAR", "result": answer}
    assert ok(oracle.view("oracle.test", "get_result", {"task": "price of NEAR"})) == {
        "result": answer}
    assert ok(oracle.view("oracle.test", "pending")) == []
    # the first resume wins; the yield is gone afterwards
    assert ok(oracle.call("oracle.test", "submit_result",
                          {"data_id": data_id, "payload": 2},
                          signer_id="operator.test")) is False


def test_a_request_times_out_after_200_blocks(oracle: ContractSimulator) -> None:
    tx, _data_id = _request(oracle, "slow work")
    oracle.fast_forward(199)
    assert oracle.tx_outcome(tx).status == "Started"
    oracle.fast_forward(2)
    final = oracle.tx_outcome(tx)
    assert final.status == "SuccessValue"
    assert json.loads(final.value or b"") == {"task": "slow work", "timeout": True}
    assert ok(oracle.view("oracle.test", "get_result", {"task": "slow work"})) == {
        "timeout": True}
    assert oracle.pending()["yields"] == []


AWAIT_YIELD = """
export async function ask() {
  const { promise, dataId } = near.promiseYieldCreate('answer', {}, 10_000_000_000_000n, 0);
  near.storageWrite('id', Array.from(dataId, (b) => b.toString(16).padStart(2, '0')).join(''));
  try {
    return { answer: await promise };
  } catch (e) {
    return { failed: e.message };
  }
}
export function answer() {
  const r = near.promiseResult(0);
  return r.status === 'successful' ? JSON.parse(r.value) : null;
}
export function resume({ payload }) {
  return near.promiseYieldResume(near.storageRead('id'), payload);
}
"""


def test_awaiting_a_yield(sim: ContractSimulator) -> None:
    sim.deploy("ask.test", AWAIT_YIELD)
    first = sim.call("ask.test", "ask")
    assert first.status == "pending"
    assert ok(sim.call("ask.test", "resume", {"payload": {"n": 42}})) is True
    final = sim.tx_outcome(first.tx_hash)
    assert json.loads(final.value or b"") == {"answer": {"n": 42}}


# --- cross_counter.js: promiseAnd ----------------------------------------------------


@pytest.fixture
def counters(sim: ContractSimulator) -> ContractSimulator:
    for name in ("c1", "c2", "c3"):
        sim.deploy(f"{name}.test", example("counter.js"))
    sim.deploy("cross.test", example("cross_counter.js"))
    ok(sim.call("c2.test", "increment"))
    for _ in range(2):
        ok(sim.call("c3.test", "increment"))
    return sim


COUNTERS = ["c1.test", "c2.test", "c3.test"]


def test_cross_counter_sums_three_counters(counters: ContractSimulator) -> None:
    result = counters.call("cross.test", "sum", {"counters": COUNTERS})
    assert ok(result) == {"total": 6, "values": [1, 2, 3], "failed": []}
    assert ok(counters.view("cross.test", "get_total")) == 6
    calls = [m for m in methods(result) if m[2] == "increment"]
    assert len(calls) == 3 and len({m[0] for m in calls}) == 1  # one block, three receipts
    assert ok(counters.call("cross.test", "sum_await", {"counters": COUNTERS})) == {
        "total": 9, "values": [2, 3, 4]}


def test_cross_counter_with_a_missing_counter(counters: ContractSimulator) -> None:
    result = counters.call("cross.test", "sum",
                           {"counters": ["c1.test", "gone.test", "c3.test"]})
    assert ok(result) == {"total": 4, "values": [1, None, 3], "failed": ["gone.test"]}
    failed = counters.call("cross.test", "sum_await",
                           {"counters": ["c1.test", "gone.test"]})
    assert failed.status == "failure"
    assert "'increment' on gone.test failed" in failed.error["message"]
    assert ok(counters.view("c1.test", "get_count")) == 2  # its increment was not undone


# --- deployer.js: a batch that creates and deploys ------------------------------------

KEY = "ed25519:" + base58.b58encode(bytes(range(32))).decode()


@pytest.fixture
def deployer(sim: ContractSimulator) -> ContractSimulator:
    sim.deploy("factory.test", example("deployer.js"))
    sim.transact("test.near", "factory.test", [actions.transfer(10 * NEAR)])
    ok(sim.call("factory.test", "set_code", {"code": example("counter.js")},
                signer_id="factory.test"))
    return sim


def test_deployer_creates_funds_keys_deploys_and_initializes(deployer: ContractSimulator
                                                             ) -> None:
    before = balance(deployer, "factory.test")
    result = deployer.call("factory.test", "create_child",
                           {"name": "one", "amount": str(NEAR), "public_key": KEY,
                            "init_method": "reset"}, signer_id="factory.test")
    assert ok(result) == {"account_id": "one.factory.test", "ok": True}
    child = deployer.account("one.factory.test")
    assert int(child["balance"]) == NEAR
    assert child["code_hash"] is not None
    assert [k["public_key"] for k in deployer.access_keys("one.factory.test")] == [KEY]
    assert deployer.state("one.factory.test") == {"count": "0"}  # reset ran
    assert balance(deployer, "factory.test") == before - NEAR
    assert ok(deployer.call("one.factory.test", "increment")) == 1
    assert ok(deployer.view("factory.test", "children")) == ["one.factory.test"]
    (batch,) = [o for o in result.receipts_outcome if o.executor_id == "one.factory.test"]
    assert [next(iter(a)) for a in batch.actions] == [
        "CreateAccount", "Transfer", "AddKey", "DeployContract", "FunctionCall"]


def test_a_failed_batch_creates_nothing_and_refunds(deployer: ContractSimulator) -> None:
    ok(deployer.call("factory.test", "create_child", {"name": "two", "amount": str(NEAR)},
                     signer_id="factory.test"))
    before = balance(deployer, "factory.test")
    again = deployer.call("factory.test", "create_child",
                          {"name": "two", "amount": str(NEAR), "init_method": "reset"},
                          signer_id="factory.test")
    assert ok(again) == {"account_id": "two.factory.test", "ok": False}
    assert "AccountAlreadyExists" in str(again.receipt_failures)
    assert balance(deployer, "factory.test") == before  # the transfer came back
    assert deployer.state("two.factory.test") == {}  # the init never ran


def test_deploying_needs_the_balance_for_storage(deployer: ContractSimulator) -> None:
    result = deployer.call("factory.test", "create_child", {"name": "poor", "amount": "1"},
                           signer_id="factory.test")
    assert ok(result) == {"account_id": "poor.factory.test", "ok": False}
    assert "LackBalanceForState" in str(result.receipt_failures)
    with pytest.raises(Exception, match="poor.factory.test"):
        deployer.account("poor.factory.test")
