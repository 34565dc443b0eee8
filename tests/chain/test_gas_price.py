"""Gas at NEAR's gas price, the default: tokens burnt per receipt, prepaid gas bought at
the transaction's price, unused gas refunded to the signer, the 30% burnt-gas reward, and
the price fixed in the recorded chain config (so verify replays it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from outlayer.chain.runtime import BURNT_GAS_REWARD, DEFAULT_GAS_PRICE, NEAR_GAS_PRICE
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.units import NEAR, TGAS
from outlayer.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def chain() -> Iterator[ContractSimulator]:
    with ContractSimulator(db_path=":memory:") as sim:
        sim.create_account("alice.test", 10 * NEAR)
        sim.deploy("counter.test", EXAMPLES / "counter.js")
        yield sim


def balance(sim: ContractSimulator, account_id: str) -> int:
    return int(sim.account(account_id)["balance"])


def test_near_gas_price_is_the_default_and_recorded(chain: ContractSimulator) -> None:
    assert DEFAULT_GAS_PRICE == NEAR_GAS_PRICE == 10**8
    assert chain.gas_price == NEAR_GAS_PRICE
    assert chain.chain_config()["gas_price"] == NEAR_GAS_PRICE


def test_a_call_pays_burnt_gas_and_gets_unused_gas_back(chain: ContractSimulator) -> None:
    alice, counter = balance(chain, "alice.test"), balance(chain, "counter.test")
    result = chain.call("counter.test", "increment", signer_id="alice.test", gas=100 * TGAS)
    assert result.status == "success"
    tx, receipt, refund = (result.transaction_outcome, *result.receipts_outcome)
    # every outcome burns its gas at the transaction's gas price; refunds burn no tokens
    assert tx.tokens_burnt == tx.gas_burnt * NEAR_GAS_PRICE
    assert receipt.tokens_burnt == receipt.gas_burnt * NEAR_GAS_PRICE
    assert refund.receipt_kind == "refund" and refund.tokens_burnt == 0
    assert refund.executor_id == "alice.test" and refund.block_height == receipt.block_height + 1
    # the refund: the 100 Tgas + the receipt's exec fees, less what the receipt used
    (transfer,) = refund.actions
    refunded = int(transfer["Transfer"]["deposit"])
    assert 0 < refunded < 100 * TGAS * NEAR_GAS_PRICE
    # so alice paid exactly the tokens burnt by the transaction and its receipt
    assert balance(chain, "alice.test") == alice - result.tokens_burnt
    assert result.tokens_burnt == tx.tokens_burnt + receipt.tokens_burnt
    # and the contract earned 30% of its function call's gas (NEAR's burnt_gas_reward)
    num, den = BURNT_GAS_REWARD
    assert balance(chain, "counter.test") == counter + (
        result.gas_burnt * num // den * NEAR_GAS_PRICE)


def test_cross_contract_calls_cost_exactly_the_tokens_burnt() -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        for name in ("c1", "c2", "c3"):
            sim.deploy(f"{name}.test", EXAMPLES / "counter.js")
        sim.deploy("cross.test", EXAMPLES / "cross_counter.js")
        sim.create_account("alice.test", 10 * NEAR)
        before = {a: balance(sim, a) for a in ("alice.test", "cross.test", "c1.test")}
        result = sim.call("cross.test", "sum", {"counters": ["c1.test", "c2.test", "c3.test"]},
                          signer_id="alice.test")
        assert result.status == "success" and result.result["total"] == 3
        outcomes = [result.transaction_outcome, *result.receipts_outcome]
        assert sum(o.tokens_burnt for o in outcomes) == result.tokens_burnt
        # gas given to the counters and the callback came back to alice as refunds
        refunds = [o for o in result.receipts_outcome if o.receipt_kind == "refund"]
        assert {o.executor_id for o in refunds} == {"alice.test"} and len(refunds) == 5
        assert balance(sim, "alice.test") == before["alice.test"] - result.tokens_burnt
        assert balance(sim, "c1.test") > before["c1.test"]  # its 30% reward
        assert sim.verify().ok


def test_a_failure_pays_only_burnt_gas(chain: ContractSimulator) -> None:
    alice = balance(chain, "alice.test")
    failed = chain.call("counter.test", "no_such_method", signer_id="alice.test",
                        deposit=NEAR)
    assert failed.status == "failure"
    kinds = sorted(o.receipt_kind for o in failed.receipts_outcome)
    assert kinds == ["action", "refund", "refund"]  # the deposit and the unused gas
    assert balance(chain, "alice.test") == alice - failed.tokens_burnt


def test_the_signer_must_afford_the_prepaid_gas(chain: ContractSimulator) -> None:
    chain.create_account("poor.test", 10**22)  # 0.01 NEAR: 300 Tgas cost 0.03 NEAR
    with pytest.raises(Exception, match="for gas"):
        chain.call("counter.test", "increment", signer_id="poor.test")
    assert chain.call("counter.test", "increment", signer_id="poor.test",
                      gas=20 * TGAS).status == "success"


def test_gas_price_zero_moves_only_deposits() -> None:
    with ContractSimulator(db_path=":memory:", gas_price=0) as sim:
        sim.create_account("alice.test", 10 * NEAR)
        sim.deploy("counter.test", EXAMPLES / "counter.js")
        result = sim.call("counter.test", "increment", signer_id="alice.test")
        assert result.tokens_burnt == 0 and len(result.receipts_outcome) == 1
        assert result.total_gas_burnt > 0  # gas is still metered
        assert balance(sim, "alice.test") == 10 * NEAR
        assert sim.chain_config()["gas_price"] == 0 and sim.verify().ok


def test_the_cli_shows_tokens_burnt_per_receipt(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "deploy", "counter.test",
                               str(EXAMPLES / "counter.js")]).exit_code == 0
    called = runner.invoke(app, ["--db", db, "call", "counter.test", "increment"])
    assert called.exit_code == 0, called.stdout
    with ContractSimulator(db_path=db) as sim:
        tx_hash = sim.transactions("counter.test")[-1]["tx_hash"]
        receipt = sim.tx_outcome(tx_hash).receipts_outcome[0]
    shown = runner.invoke(app, ["--db", db, "tx", tx_hash])
    assert shown.exit_code == 0
    assert "NEAR" in shown.stdout and "(refund)" in shown.stdout
    assert receipt.tokens_burnt == receipt.gas_burnt * NEAR_GAS_PRICE > 0
    with ContractSimulator(db_path=db) as sim:
        assert sim.gas_price == NEAR_GAS_PRICE and sim.verify().ok
