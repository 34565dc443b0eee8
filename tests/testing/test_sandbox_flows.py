"""Issue 4's flows through the near-workspaces style harness (`outlayer.testing`), at NEAR's
gas price (the sandbox default): promises in callback and await style, yield/resume by an
operator, failure paths, fast-forward of in-flight receipts, time, history, stake and
implicit accounts. tests/promises runs the same contracts on ContractSimulator directly,
tests/promises/test_cli_flows.py through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from outlayer.chain import actions
from outlayer.chain import receipts as rc
from outlayer.chain.runtime import NEAR_GAS_PRICE
from outlayer.testing import Account, Sandbox, TransactionFailed
from tests.promises.test_failures import CALLEE, CALLER

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NEAR = 10**24
FAILED = ("'{m}' on {t} failed (NEAR tells a caller only that a receipt failed: the "
          "transaction's receipt outcomes say why)")


def methods(result: object) -> list[tuple[str, str, str]]:
    """(executor, method or first action, status) of every non-refund receipt."""
    out = []
    for o in result.receipts_outcome:  # type: ignore[attr-defined]
        if o.receipt_kind == "refund":
            continue
        (first, body), = o.actions[0].items()
        out.append((o.executor_id, body["method_name"] if first == "FunctionCall" else first,
                    o.status))
    return out


# --- DeFi: callback and await style -------------------------------------------------------


@pytest.fixture
def pool(sandbox: Sandbox) -> Account:
    pool = sandbox.dev_deploy(EXAMPLES / "amm_pool.js")
    lp = sandbox.root.create_subaccount("lp")
    lp.call(pool, "new", {"fee_bps": 30}).unwrap()
    for token, amount in (("A", 1_000_000_000), ("B", 2_000_000_000)):
        lp.call(pool, "deposit", {"token": token, "amount": str(amount)}).unwrap()
    lp.call(pool, "add_liquidity", {"amount_a": "1000000000",
                                    "amount_b": "2000000000"}).unwrap()
    return pool


@pytest.mark.parametrize("file", ["strategy_callback.js", "strategy_await.js"])
def test_zap_in_both_styles(sandbox: Sandbox, pool: Account, file: str) -> None:
    strategy = sandbox.dev_deploy(EXAMPLES / file)
    strategy.call(pool, "deposit", {"token": "A", "amount": "10000000"}).unwrap()
    result = sandbox.root.call(strategy, "zap", {"pool": pool.id, "amount": "10000000"})
    assert result.json() == {"swapped": "4995054", "received": "9910781",
                             "shares": result.json()["shares"]}
    assert [m[1] for m in methods(result)][1::2] == ["get_pool_info", "swap", "add_liquidity"]
    assert result.receipt_failures == [] and len(result.logs) == 3
    assert result.total_gas_burnt > result.gas_burnt > 0
    assert result.tokens_burnt == sum(o.tokens_burnt for o in (
        result.outcome.transaction_outcome, *result.receipts_outcome))
    assert strategy.view("last_zap").json()["pool"] == pool.id
    assert sandbox.verify().ok


# --- failure paths (issue 4, item 10) ------------------------------------------------------


@pytest.fixture
def caller(sandbox: Sandbox) -> Account:
    for name in ("callee", "relay"):
        sandbox.create_account(f"{name}.test").deploy(CALLEE)
    return sandbox.create_account("caller.test").deploy(CALLER)


@pytest.mark.parametrize("style", ["cb", "await"])
def test_callee_panics_callback_sees_failed_and_the_deposit_returns(
        sandbox: Sandbox, caller: Account, style: str) -> None:
    callee = sandbox.account("callee.test")
    before = callee.balance
    result = sandbox.root.call(caller, f"call_{style}", {
        "target": "callee.test", "method": "boom", "deposit": str(NEAR)})
    got = result.json()
    if style == "cb":
        assert got["status"] == "failed"
    else:
        assert got == {"error": FAILED.format(m="boom", t="callee.test"), "isError": True}
    assert caller.view_state() == {"before": "kept", "seen": "failed"}
    assert callee.view_state() == {}  # the callee's write never happened
    (failure,) = result.receipt_failures
    assert failure["executor_id"] == "callee.test" and "callee exploded" in failure["message"]
    # the deposit came back to the caller; the callee kept only its 30% gas reward
    assert callee.balance - before < NEAR // 1000
    refunds = [o for o in result.receipts_outcome if o.receipt_kind == "refund"
               and o.executor_id == "caller.test"]
    assert [o.actions for o in refunds] == [[{"Transfer": {"deposit": str(NEAR)}}]]


@pytest.mark.parametrize(("method", "gas", "target", "kind"), [
    ("spin", str(3 * 10**12), "callee.test", "GasExceeded"),
    ("echo", None, "nobody.test", "AccountDoesNotExist"),
])
def test_out_of_gas_and_missing_accounts_are_receipt_failures(
        sandbox: Sandbox, caller: Account, method: str, gas: str | None, target: str,
        kind: str) -> None:
    for style in ("cb", "await"):
        args = {"target": target, "method": method, **({"gas": gas} if gas else {})}
        result = sandbox.root.call(caller, f"call_{style}", args)
        assert result.is_success  # the caller handled it
        (failure,) = result.receipt_failures
        assert kind in failure["kind"] + failure["message"]


def test_joint_results_and_no_observed_failed_writes(sandbox: Sandbox,
                                                      caller: Account) -> None:
    assert sandbox.root.call(caller, "joint_cb").json() == ["late", "early", "failed"]
    assert sandbox.root.call(caller, "joint_await").json() == ["late", "early"]
    read = sandbox.root.call(caller, "read_after_fail")
    assert read.json() is None and read.logs == ["the call failed"]
    assert sandbox.account("callee.test").view("get", {"key": "boom"}).json() is None


def test_a_failure_after_an_await_keeps_the_first_part(sandbox: Sandbox,
                                                        caller: Account) -> None:
    result = sandbox.root.call(caller, "fail_after_await")
    assert result.is_failure and result.logs == ["part 0", "resumed with 1, then failing"]
    with pytest.raises(TransactionFailed, match="failed after the await"):
        result.json()
    assert caller.view_state() == {"before": "kept"}
    assert [m[1:] for m in methods(result)] == [
        ("fail_after_await", "SuccessReceiptId"), ("echo", "SuccessValue"),
        ("__ol_resume", "Failure")]


# --- yield / resume by an operator, fast-forward of in-flight receipts ---------------------


@pytest.fixture
def oracle(sandbox: Sandbox) -> Account:
    oracle = sandbox.dev_deploy(EXAMPLES / "offchain_oracle.js")
    sandbox.root.call(oracle, "init", {"operator": "operator.test"}).unwrap()
    sandbox.create_account("operator.test")
    return oracle


def test_an_operator_resumes_a_request(sandbox: Sandbox, oracle: Account) -> None:
    user = sandbox.create_account("user.test")
    request = user.call(oracle, "request_work", {"task": "price"})
    assert request.status == "pending" and len(sandbox.pending()["yields"]) == 1
    (entry,) = oracle.view("pending").json()
    answered = sandbox.account("operator.test").call(
        oracle, "submit_result", {"data_id": entry["data_id"], "payload": {"usd": "4.56"}})
    assert answered.json() is True
    final = sandbox.tx_outcome(request)
    assert final.status == "SuccessValue"
    assert json.loads(final.value or b"") == {"task": "price", "result": {"usd": "4.56"}}
    assert sandbox.pending() == {"queued": [], "postponed": [], "yields": []}


def test_fast_forward_times_out_a_request_and_runs_queued_receipts(sandbox: Sandbox,
                                                                   oracle: Account) -> None:
    request = sandbox.root.call(oracle, "request_work", {"task": "slow"})
    sandbox.fast_forward(199)
    assert sandbox.tx_outcome(request).status == "Started"
    ran = sandbox.fast_forward(2)
    assert any(o.receipt_kind == "yield" for o in ran)
    assert json.loads(sandbox.tx_outcome(request).value or b"") == {"task": "slow",
                                                                     "timeout": True}
    # a submitted transaction's receipts stay in flight until blocks run them
    counter = sandbox.dev_deploy(EXAMPLES / "cross_counter.js")
    for name in ("c1", "c2"):
        sandbox.create_account(f"{name}.test").deploy(EXAMPLES / "counter.js")
    sent = sandbox.root.submit(counter, [actions.function_call(
        "sum", {"counters": ["c1.test", "c2.test"]})])
    assert sent.status == "pending" and sandbox.pending()["queued"]
    sandbox.fast_forward(3)
    done = sandbox.tx_outcome(sent)
    assert done.status == "SuccessValue"
    assert json.loads(done.value or b"")["total"] == 2
    assert sandbox.verify().ok


# --- time, state, history ------------------------------------------------------------------


def test_time_state_and_history(sandbox: Sandbox) -> None:
    counter = sandbox.dev_deploy(EXAMPLES / "counter.js")
    sandbox.set_timestamp(1_900_000_000_000_000_000)
    first = sandbox.root.call(counter, "increment")
    assert sandbox.sim.block_outcomes(first.block_height)[0].block_height == first.block_height
    assert sandbox.sim.store.get_block(first.block_height).timestamp_ns == (  # type: ignore
        1_900_000_000_000_000_000)
    counter.patch_state("count", "9")
    assert counter.view_state() == {"count": "9"}
    assert sandbox.root.call(counter, "increment").json() == 10
    assert sandbox.state_at(counter, first.block_height) == {"count": "1"}
    replay = sandbox.replay(first)
    assert replay.divergence is None and replay.receipts[0].outcome.logs == [
        "Counter incremented to 1"]
    report = sandbox.verify()
    assert report.ok and report.to_block == sandbox.height
    assert sandbox.sim.chain_config()["gas_price"] == NEAR_GAS_PRICE


# --- accounts: implicit accounts and stake --------------------------------------------------


def test_implicit_accounts_and_stake(sandbox_factory: object) -> None:
    sandbox: Sandbox = sandbox_factory(epoch_length=4)  # type: ignore[operator]
    key = SigningKey(bytes([7]) * 32).verify_key.encode()
    implicit = key.hex()
    assert sandbox.root.transfer(implicit, "2NEAR").is_success
    owner = sandbox.account(implicit)
    assert owner.balance == 2 * NEAR
    assert [k["public_key"] for k in owner.keys()] == ["ed25519:" + rc.b58(key)]
    validator = sandbox.root.create_subaccount("val", balance="30NEAR")
    staking_key = "ed25519:" + rc.b58(key)
    assert validator.stake("20NEAR", staking_key).is_success
    assert validator.locked == 20 * NEAR
    too_much = validator.stake("100NEAR", staking_key)
    assert too_much.is_failure and too_much.receipt_failures[0]["kind"] == "TriesToStake"
    validator.stake(0, staking_key)
    assert validator.locked == 20 * NEAR  # until the epoch ends
    sandbox.fast_forward(4)
    assert validator.locked == 0 and validator.balance > 29 * NEAR
    assert sandbox.verify().ok


BIG = """
export function put({ size }) { near.storageWrite('big', 'x'.repeat(size)); }
"""


def test_storage_staking_fails_the_receipt(sandbox: Sandbox) -> None:
    # 0.01 NEAR pays for 1,000 bytes (10^19 yocto per byte): account, code, then the value
    small = sandbox.dev_deploy(BIG, balance=10**22)
    assert sandbox.root.call(small, "put", {"size": 100}).is_success
    failed = sandbox.root.call(small, "put", {"size": 2_000})
    assert failed.is_failure and failed.error is not None
    assert failed.error["kind"] == "LackBalanceForState"
    assert failed.receipt_failures[0]["kind"] == "LackBalanceForState"
    assert small.view_state() == {"big": "x" * 100}  # the failed write never landed
