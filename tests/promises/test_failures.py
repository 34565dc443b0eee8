"""Failure paths of cross-contract calls, callback and await style (issue 4, item 10)."""

from __future__ import annotations

import pytest

from outlayer.chain.simulator import ContractSimulator

from .conftest import NEAR, balance, methods, ok

CALLEE = """
export function boom() { near.storageWrite('boom', 'written'); near.panic('callee exploded'); }
export function spin() { for (;;) {} }
export function get({ key }) { return near.storageRead(key); }
export function echo({ v }) { return v; }
export function text() { near.valueReturn('not json'); }
export function nothing() {}
export function relay({ to, v }) {
  return near.promiseCreate(to, 'echo', { v }, 0, 5_000_000_000_000n);
}
"""

CALLER = """
const GAS = 10_000_000_000_000n;

export function call_cb({ target, method, deposit = '0', gas }) {
  near.storageWrite('before', 'kept');
  const p = near.promiseCreate(target, method, {}, deposit, gas ? BigInt(gas) : GAS);
  return near.promiseThen(p, near.currentAccountId(), 'on_done', {}, 0, GAS);
}
export function on_done() {
  const r = near.promiseResult(0);
  near.storageWrite('seen', r.status);
  return { status: r.status, value: r.value, bytes: Array.from(r.bytes) };
}

export async function call_await({ target, method, deposit = '0', gas }) {
  near.storageWrite('before', 'kept');
  try {
    const v = await near.promiseCreate(target, method, {}, deposit, gas ? BigInt(gas) : GAS);
    near.storageWrite('seen', 'successful');
    return { ok: v === undefined ? 'undefined' : v };
  } catch (e) {
    near.storageWrite('seen', 'failed');
    return { error: e.message, isError: e instanceof Error };
  }
}

export async function uncaught({ target, method }) {
  near.storageWrite('before', 'kept');
  await near.promiseCreate(target, method, {}, 0, GAS);
  near.storageWrite('after', 'never');
}

export async function fail_after_await() {
  near.storageWrite('before', 'kept');
  near.log('part 0');
  const v = await near.promiseCreate('callee.test', 'echo', { v: 1 }, 0, GAS);
  near.storageWrite('after', 'rolled back');
  near.log(`resumed with ${v}, then failing`);
  throw new Error('failed after the await');
}

function three() {
  return [
    near.promiseCreate('relay.test', 'relay', { to: 'callee.test', v: 'late' }, 0, 2n * GAS),
    near.promiseCreate('callee.test', 'echo', { v: 'early' }, 0, GAS),
    near.promiseCreate('callee.test', 'boom', {}, 0, GAS),
  ];
}
export function joint_cb() {
  return near.promiseThen(near.promiseAnd(...three()), near.currentAccountId(), 'on_joint',
    {}, 0, GAS);
}
export function on_joint() {
  const out = [];
  for (let i = 0; i < near.promiseResultsCount(); i += 1) {
    const r = near.promiseResult(i);
    out.push(r.status === 'successful' ? JSON.parse(r.value) : r.status);
  }
  return out;
}
export async function joint_await() {
  const [late, early] = three();
  return await near.promiseAnd(late, early);
}
export async function joint_await_failing() {
  try {
    await near.promiseAnd(...three());
  } catch (e) {
    return e.message;
  }
}

export async function read_after_fail() {
  try {
    await near.promiseCreate('callee.test', 'boom', {}, 0, GAS);
  } catch (e) {
    near.log('the call failed');
  }
  return await near.promiseCreate('callee.test', 'get', { key: 'boom' }, 0, GAS);
}
export function read_after_fail_cb() {
  const boom = near.promiseCreate('callee.test', 'boom', {}, 0, GAS);
  const read = near.promiseThen(boom, 'callee.test', 'get', { key: 'boom' }, 0, GAS);
  return near.promiseThen(read, near.currentAccountId(), 'on_done', {}, 0, GAS);
}
"""


@pytest.fixture
def chain(sim: ContractSimulator) -> ContractSimulator:
    sim.deploy("callee.test", CALLEE)
    sim.deploy("relay.test", CALLEE)
    sim.deploy("caller.test", CALLER)
    return sim


FAILED_CB = {"status": "failed", "value": "", "bytes": []}
FAILED_MSG = ("'{m}' on {t} failed (NEAR tells a caller only that a receipt failed: the "
              "transaction's receipt outcomes say why)")


def _failed_await(target: str, method: str) -> dict[str, object]:
    return {"error": FAILED_MSG.format(m=method, t=target), "isError": True}


@pytest.mark.parametrize("style", ["cb", "await"])
def test_callee_panics(chain: ContractSimulator, style: str) -> None:
    deposit = 3 * NEAR
    caller_before, callee_before = balance(chain, "caller.test"), balance(chain,
                                                                          "callee.test")
    result = chain.call("caller.test", f"call_{style}",
                        {"target": "callee.test", "method": "boom", "deposit": str(deposit)})
    assert ok(result) == (FAILED_CB if style == "cb" else _failed_await("callee.test", "boom"))
    # the caller's own writes stay, before and after the call
    assert chain.state("caller.test") == {"before": "kept", "seen": "failed"}
    # the callee's write was rolled back, its deposit went back to the caller
    assert chain.state("callee.test") == {}
    assert balance(chain, "callee.test") == callee_before
    assert balance(chain, "caller.test") == caller_before
    (failure,) = result.receipt_failures
    assert "callee exploded" in str(failure)
    refunds = [m for m in methods(result) if m[1] == "caller.test" and m[2] == "Transfer"]
    assert len(refunds) == 1  # the deposit came back by a refund receipt


@pytest.mark.parametrize("style", ["cb", "await"])
def test_callee_runs_out_of_gas(chain: ContractSimulator, style: str) -> None:
    result = chain.call("caller.test", f"call_{style}",
                        {"target": "callee.test", "method": "spin", "gas": str(3 * 10**12)})
    assert ok(result) == (FAILED_CB if style == "cb" else _failed_await("callee.test", "spin"))
    (failure,) = result.receipt_failures
    assert "GasExceeded" in str(failure)
    spin = next(o for o in result.receipts_outcome if o.executor_id == "callee.test")
    assert spin.gas_burnt >= 3 * 10**12  # it burnt all it had


@pytest.mark.parametrize("style", ["cb", "await"])
def test_call_to_a_missing_account(chain: ContractSimulator, style: str) -> None:
    before = balance(chain, "caller.test")
    result = chain.call("caller.test", f"call_{style}",
                        {"target": "nobody.test", "method": "echo", "deposit": str(NEAR)})
    assert ok(result) == (FAILED_CB if style == "cb" else _failed_await("nobody.test", "echo"))
    (failure,) = result.receipt_failures
    assert "AccountDoesNotExist" in str(failure)
    assert balance(chain, "caller.test") == before  # the deposit came back


@pytest.mark.parametrize(("method", "cb", "awaited"), [
    ("text", "not json", "not json"),  # not JSON: the string
    ("nothing", "", "undefined"),  # no value: undefined
])
def test_result_values(chain: ContractSimulator, method: str, cb: str, awaited: str) -> None:
    got = ok(chain.call("caller.test", "call_cb", {"target": "callee.test", "method": method}))
    assert got["status"] == "successful" and got["value"] == cb
    assert ok(chain.call("caller.test", "call_await",
                         {"target": "callee.test", "method": method})) == {"ok": awaited}


def test_joint_results_keep_promise_order(chain: ContractSimulator) -> None:
    """The relayed call's value arrives a block after the others; results stay in promise
    order, the failed one in its place."""
    result = chain.call("caller.test", "joint_cb")
    assert ok(result) == ["late", "early", "failed"]
    late = max(h for h, who, m, _ in methods(result) if m == "echo")
    early = min(h for h, who, m, _ in methods(result) if m == "echo")
    assert late == early + 1  # the relayed echo ran a block later
    assert ok(chain.call("caller.test", "joint_await")) == ["late", "early"]


def test_joint_await_rejects_with_the_failed_member(chain: ContractSimulator) -> None:
    assert ok(chain.call("caller.test", "joint_await_failing")) == FAILED_MSG.format(
        m="boom", t="callee.test")


@pytest.mark.parametrize("method", ["read_after_fail", "read_after_fail_cb"])
def test_no_one_sees_a_failed_receipts_writes(chain: ContractSimulator, method: str) -> None:
    result = chain.call("caller.test", method)
    got = ok(result)
    assert got in (None, {"status": "successful", "value": "null",
                          "bytes": list(b"null")})
    assert chain.state("callee.test") == {}
    assert ok(chain.view("callee.test", "get", {"key": "boom"})) is None


def test_an_uncaught_rejection_fails_the_call(chain: ContractSimulator) -> None:
    result = chain.call("caller.test", "uncaught", {"target": "callee.test", "method": "boom"})
    assert result.status == "failure"
    assert result.error is not None and result.error["kind"] == "JSException"
    assert "'boom' on callee.test failed" in result.error["message"]
    # what the method wrote before the await was committed with its first receipt
    assert chain.state("caller.test") == {"before": "kept"}


def test_a_failure_after_an_await_undoes_only_the_resumed_part(chain: ContractSimulator
                                                               ) -> None:
    result = chain.call("caller.test", "fail_after_await")
    assert result.status == "failure"
    assert result.error is not None and "failed after the await" in result.error["message"]
    assert chain.state("caller.test") == {"before": "kept"}
    assert result.logs == ["part 0", "resumed with 1, then failing"]
    assert [m[2:] for m in methods(result)] == [
        ("fail_after_await", "SuccessReceiptId"), ("echo", "SuccessValue"),
        ("__ol_resume", "Failure")]
    assert chain.store.suspensions() == []  # the failed part's suspension is gone too
