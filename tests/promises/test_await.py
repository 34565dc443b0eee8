"""Await style: the call suspends at an await and resumes in a later receipt (issue 4,
item 2): blocks, context, gas and logs per part, persistence, determinism, refusals."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from outlayer.chain import actions
from outlayer.chain.simulator import ContractSimulator
from outlayer.errors import UserError

from .conftest import TGAS, methods, ok

CALLEE = """
export function echo({ v }) { return v; }
export function add({ a, b }) { return a + b; }
"""

CALLER = """
const GAS = 10_000_000_000_000n;
const echo = (v) => near.promiseCreate('callee.test', 'echo', { v }, 0, GAS);

export async function three_steps() {
  const seen = [];
  const ctx = () => ({
    height: Number(near.blockHeight()),
    predecessor: near.predecessorAccountId(),
    signer: near.signerAccountId(),
    deposit: near.attachedDeposit().toString(),
    results: near.promiseResultsCount(),
  });
  seen.push(ctx());
  near.log('step 0');
  const a = await echo(1);
  seen.push(ctx());
  near.log(`step 1: ${a}`);
  const b = await echo(a + 1);
  seen.push(ctx());
  near.log(`step 2: ${b}`);
  const c = await near.promiseCreate('callee.test', 'add', { a, b }, 0, GAS);
  near.storageWrite('sum', String(c));
  return { a, b, c, seen };
}

export async function all() {
  const [x, y] = await Promise.all([echo('x'), echo('y')]);
  return [x, y];
}

export async function sequential() {
  const p = echo('p');
  const q = echo('q');  // made before the first await, awaited after it
  const x = await p;
  const y = await q;
  const again = await p;  // delivered already: resolves at once
  return [x, y, again];
}

export async function returns_a_promise() {
  return echo('returned');
}

export function sync_with_then() {
  echo('later').then((v) => near.storageWrite('then', v));
  return 'sync value';
}

export async function stale() {
  const p = echo(1);
  await p;
  near.promiseThen(p, 'callee.test', 'echo', { v: 2 }, 0, GAS);
}

export async function big_state() {
  const blob = 'x'.repeat(200000);
  const v = await echo(1);
  return blob.length + v;
}
"""


@pytest.fixture
def chain(sim: ContractSimulator) -> ContractSimulator:
    sim.deploy("callee.test", CALLEE)
    sim.deploy("caller.test", CALLER)
    return sim


def test_await_across_several_blocks(chain: ContractSimulator) -> None:
    start = chain.height
    result = chain.call("caller.test", "three_steps", deposit=5)
    got = ok(result)
    assert {k: got[k] for k in "abc"} == {"a": 1, "b": 2, "c": 3}
    h = start + 1
    # the context after an await is the callback receipt's: predecessor = the contract
    # itself, no deposit, a later block; the signer stays
    assert got["seen"] == [
        {"height": h, "predecessor": "test.near", "signer": "test.near", "deposit": "5",
         "results": 0},
        {"height": h + 2, "predecessor": "caller.test", "signer": "test.near",
         "deposit": "0", "results": 0},
        {"height": h + 4, "predecessor": "caller.test", "signer": "test.near",
         "deposit": "0", "results": 0},
    ]
    assert [m[:3] for m in methods(result)] == [
        (h, "caller.test", "three_steps"), (h + 1, "callee.test", "echo"),
        (h + 2, "caller.test", "__ol_resume"), (h + 3, "callee.test", "echo"),
        (h + 4, "caller.test", "__ol_resume"), (h + 5, "callee.test", "add"),
        (h + 6, "caller.test", "__ol_resume")]
    assert result.logs == ["step 0", "step 1: 1", "step 2: 2"]
    assert chain.state("caller.test") == {"sum": "3"}
    # each part's logs and gas are its own receipt's
    parts = [o for o in result.receipts_outcome if o.executor_id == "caller.test"]
    assert [o.logs for o in parts] == [["step 0"], ["step 1: 1"], ["step 2: 2"], []]
    assert all(0 < o.gas_burnt < 20 * TGAS for o in parts)
    assert chain.store.suspensions() == []


def test_promise_all(chain: ContractSimulator) -> None:
    result = chain.call("caller.test", "all")
    assert ok(result) == ["x", "y"]
    assert len([m for m in methods(result) if m[2] == "__ol_resume"]) == 1


def test_promises_made_before_an_await_are_delivered_with_it(chain: ContractSimulator
                                                             ) -> None:
    result = chain.call("caller.test", "sequential")
    assert ok(result) == ["p", "q", "p"]
    # one resume: the callback waited for both calls
    assert len([m for m in methods(result) if m[2] == "__ol_resume"]) == 1


def test_an_async_method_returning_a_near_promise_returns_its_value(chain: ContractSimulator
                                                                    ) -> None:
    assert ok(chain.call("caller.test", "returns_a_promise")) == "returned"


def test_a_then_continuation_runs_after_the_method_returned(chain: ContractSimulator) -> None:
    assert ok(chain.call("caller.test", "sync_with_then")) == "sync value"
    assert chain.state("caller.test") == {"then": "later"}


def test_a_promise_of_an_earlier_part_cannot_be_built_on(chain: ContractSimulator) -> None:
    result = chain.call("caller.test", "stale")
    assert result.status == "failure"
    assert result.error is not None
    assert "was made before an await" in result.error["message"]


def test_suspension_size_and_the_heap_it_carries(chain: ContractSimulator) -> None:
    """A suspension is the instance's memory as pages over the boot snapshot: the
    contract's own pages plus what the call allocated."""
    r = chain.submit("test.near", "caller.test",
                     [actions.function_call("big_state", {}, gas=300 * TGAS)])
    (small,) = chain.store.suspensions()
    assert 40_000 < small[3] < 400_000
    chain.fast_forward(3)
    assert chain.tx_outcome(r.tx_hash).value == b"200001"


def test_transactions_calling_the_resume_method_resume_nothing(chain: ContractSimulator
                                                               ) -> None:
    """As on NEAR, a transaction may name any method; `__ol_resume` from outside resumes
    nothing (only the suspension stored under the receipt's own id, from its own account),
    so it fails in its receipt with MethodNotFound and nothing is written."""
    before = chain.state("caller.test")
    for signer in ("test.near", "caller.test"):
        result = chain.call("caller.test", "__ol_resume", signer_id=signer)
        assert not result.ok and result.error["kind"] == "MethodNotFound", result.error
        assert "reserved for OutLayer's await" in result.error["message"]
    other = chain.transact("test.near", "caller.test",
                           [actions.function_call("__ol_anything", {})])
    assert not other.ok and other.error["kind"] == "MethodNotFound"
    assert chain.state("caller.test") == before


# --- persistence and determinism ---------------------------------------------------------

SCRIPT = textwrap.dedent("""
    import hashlib, json, sys
    from outlayer.chain import actions
    from outlayer.chain.simulator import ContractSimulator

    path, step, sources = sys.argv[1], sys.argv[2], sys.argv[3]
    CALLEE, CALLER = json.load(open(sources))
    sim = ContractSimulator(db_path=path)
    out = {}
    if step in ("start", "all"):
        sim.deploy("callee.test", CALLEE)
        sim.deploy("caller.test", CALLER)
        r = sim.submit("test.near", "caller.test",
                       [actions.function_call("three_steps", {}, gas=300 * 10**12)])
        out["tx"] = r.tx_hash
    if step == "all":
        sim.fast_forward(2)  # the first resume has run; the second waits
    out["suspensions"] = [
        [rid, acct, h, size, hashlib.sha256(sim.store.get_suspension(rid)).hexdigest()]
        for rid, acct, h, size in sim.store.suspensions()]
    if step in ("finish", "all"):
        sim.fast_forward(10)
        out["state"] = sim.state("caller.test")
        out["roots"] = [b.state_root.hex() if getattr(b, "state_root", None) else None
                        for b in sim.store.blocks()] if hasattr(sim.store, "blocks") else []
    sim.close()
    print(json.dumps(out))
""")


def _run(tmp_path: Path, db: Path, step: str) -> dict:  # type: ignore[type-arg]
    script = tmp_path / "step.py"
    script.write_text(SCRIPT)
    sources = tmp_path / "sources.json"
    sources.write_text(json.dumps([CALLEE, CALLER]))
    proc = subprocess.run([sys.executable, str(script), str(db), step, str(sources)],
                          capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_suspension_survives_reopening_the_file(tmp_path: Path) -> None:
    db = tmp_path / "chain.db"
    with ContractSimulator(db_path=db) as sim:
        sim.deploy("callee.test", CALLEE)
        sim.deploy("caller.test", CALLER)
        r = sim.submit("test.near", "caller.test",
                       [actions.function_call("three_steps", {}, gas=300 * TGAS)])
        assert len(sim.store.suspensions()) == 1
        assert sim.tx_outcome(r.tx_hash).status == "Started"
    with ContractSimulator(db_path=db) as sim:  # a new simulator on the same file
        sim.fast_forward(10)
        final = sim.tx_outcome(r.tx_hash)
        assert final.status == "SuccessValue"
        assert json.loads(final.value or b"")["c"] == 3
        assert sim.state("caller.test") == {"sum": "3"}
        assert sim.store.suspensions() == []


def test_a_suspension_resumes_in_another_process(tmp_path: Path) -> None:
    db = tmp_path / "chain.db"
    first = _run(tmp_path, db, "start")
    assert len(first["suspensions"]) == 1
    second = _run(tmp_path, db, "finish")
    assert second["suspensions"] == first["suspensions"]  # read back before resuming
    assert second["state"] == {"sum": "3"}


def test_suspended_memory_is_the_same_in_every_process(tmp_path: Path) -> None:
    """The suspension bytes are a function of the call: two processes, two chains, one
    result (the second suspension too, made after a resume)."""
    one = _run(tmp_path, tmp_path / "one.db", "all")
    two = _run(tmp_path, tmp_path / "two.db", "all")
    assert one["suspensions"] and one["suspensions"] == two["suspensions"]
    assert one == two
    # and the same as in this process
    with ContractSimulator(db_path=tmp_path / "three.db") as sim:
        sim.deploy("callee.test", CALLEE)
        sim.deploy("caller.test", CALLER)
        sim.submit("test.near", "caller.test",
                   [actions.function_call("three_steps", {}, gas=300 * TGAS)])
        sim.fast_forward(2)
        mine = [[rid, acct, h, size, hashlib.sha256(sim.store.get_suspension(rid) or b""
                                                    ).hexdigest()]
                for rid, acct, h, size in sim.store.suspensions()]
    assert mine == one["suspensions"]


def test_no_contract_can_export_the_resume_method(sim: ContractSimulator) -> None:
    with pytest.raises(UserError, match="__ol"):
        sim.deploy("x.test", "export function __ol_resume() { return 1; }")


@pytest.mark.parametrize("predecessor", ["caller.test", "mallory.test"])
def test_a_forged_resume_receipt_resumes_nothing(chain: ContractSimulator,
                                                 predecessor: str) -> None:
    """A receipt calling `__ol_resume` without a suspension stored under its own id (or
    from another account) fails; a suspension waiting for its real callback is untouched."""
    from outlayer.chain import receipts as rc
    from outlayer.chain.receipts import ActionReceipt
    from outlayer.chain.runtime import NO_KEY
    from outlayer.vm.receipts import FunctionCall

    real = chain.submit("test.near", "caller.test",
                        [actions.function_call("three_steps", {}, gas=300 * TGAS)])
    (waiting,) = chain.store.suspensions()
    ids = [waiting[0], "forged"] if predecessor == "mallory.test" else ["forged"]
    for rid in ids:
        receipt_id = rc.unb58(rid) if rid != "forged" else b"\x07" * 32
        forged = ActionReceipt(receipt_id, predecessor, "caller.test", predecessor, NO_KEY, 0,
                               [FunctionCall("__ol_resume", b"", 0, 10 * TGAS)],
                               tx_hash="forged-" + rid)
        with chain.store.transaction():
            chain.store.enqueue_receipt(chain.height + 1, forged.id, forged.tx_hash,
                                        rc.dumps(forged))
    chain.fast_forward(1)
    outcomes = [o for o in chain.block_outcomes(chain.height) if o.tx_hash.startswith("forged")]
    assert len(outcomes) == len(ids)
    for o in outcomes:
        assert o.status == "Failure"
        assert o.error is not None and "reserved for OutLayer's await" in o.error.message
    assert chain.store.suspensions() == [waiting]
    if predecessor == "mallory.test":
        return  # its forged receipt reused the real id: the real one cannot run after it
    chain.fast_forward(10)
    assert chain.tx_outcome(real.tx_hash).status == "SuccessValue"
