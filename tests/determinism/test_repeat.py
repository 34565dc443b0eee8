"""The roadmap's determinism test: the same call, run 100 times, gives the identical
result, logs, gas, state changes and digest; and the digest is what outlayer/digest.py
documents, and changes when any input changes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest

from outlayer.chain.result import CallResult
from outlayer.js.executor import QuickJSExecutor
from outlayer.js.runner import runtime
from outlayer.vm.context import VMContext

RUNS = 100

#: reads, writes (text and bytes), removes, logs, sorts, hashes, floats, Map/Set order,
#: JSON, an async step; with the realm options also Math.random and Date.now.
BUSY = """
export async function busy(args) {
  const n = parseInt(near.storageRead('n') || '0') + args.step;
  near.storageWrite('n', String(n));
  near.storageWrite(new Uint8Array([0, 0xff, n & 0xff]), near.sha256('v' + n));
  near.storageRemove('gone');
  const had = near.storageHasKey('gone');
  const m = new Map();
  for (let i = 0; i < 200; i++) m.set('k' + ((i * 31) % 97), i / 7);
  const order = Array.from(m.keys()).sort((a, b) => (a.length - b.length) || (a < b ? 1 : -1));
  await null;
  const floats = [Math.sin(n), Math.sqrt(n) / 3, (n / 7).toFixed(3), (0.1 * n).toPrecision(5)];
  console.log('busy', n, order.slice(0, 3).join());
  near.log(JSON.stringify({ n, had, floats }));
  const extra = args.realm ? [Math.random(), Date.now(), new Date().toISOString()] : [];
  return { n, order: order.slice(0, 10), floats, extra,
           digest: Array.from(near.sha256(order.join()), (b) => b.toString(16)).join('') };
}
export function fail_after_writing(args) {
  near.storageWrite('n', 'poisoned');
  near.log('about to fail', args.step);
  throw new TypeError('failed at step ' + args.step);
}
export function spin() {
  near.storageWrite('n', 'spinning');
  for (;;) {}
}
"""
STATE = {"n": "41", "gone": "soon"}


def _fingerprint(r: CallResult) -> tuple[Any, ...]:
    """Everything deterministic about a result (all but host time)."""
    return (r.status, r.result, r.return_data, tuple(r.logs), r.gas_burnt, r.gas_used,
            json.dumps(r.error, sort_keys=True), tuple(r.state_changes.items()),
            tuple(r.attempted_changes.items()), r.storage_usage, r.digest)


@pytest.mark.parametrize("realm", [False, True], ids=["default-realm", "allow-random-and-date"])
def test_same_call_100_times_is_identical(realm: bool) -> None:
    ex = QuickJSExecutor(realm={"allow_math_random": realm, "allow_date_now": realm})
    first = ex.execute_contract(BUSY, "busy", {"step": 1, "realm": realm}, STATE)
    assert first.ok, first.error
    assert first.result["n"] == 42
    assert len(first.logs) == 2 and first.logs[0].startswith("busy 42 ")
    assert set(first.state_changes) == {"n", "gone", "0x00ff2a"}
    assert first.state_changes["gone"] is None
    assert len(first.result["extra"]) == (3 if realm else 0)
    expected = _fingerprint(first)
    for i in range(RUNS - 1):
        again = ex.execute_contract(BUSY, "busy", {"step": 1, "realm": realm}, STATE)
        assert _fingerprint(again) == expected, f"run {i + 2} differs"


@pytest.mark.parametrize(("method", "gas", "kind"), [
    ("fail_after_writing", "300T", "JSException"),
    ("spin", "5T", "GasExceeded"),
    ("spin", "300T", "GasLimitExceeded"),
])
def test_same_failing_call_is_identical(method: str, gas: str, kind: str) -> None:
    ex = QuickJSExecutor(gas=gas)
    runs = [ex.execute_contract(BUSY, method, {"step": 3}, STATE) for _ in range(30)]
    first = runs[0]
    assert first.error is not None and first.error["kind"] == kind
    assert first.state_changes == {}
    assert first.attempted_changes["n"] in ("poisoned", "spinning")
    if kind != "JSException":
        assert first.gas_burnt == (5 if kind == "GasExceeded" else 300) * 10**12
    assert {_fingerprint(r) for r in runs} == {_fingerprint(first)}


def test_digest_changes_with_every_input(executor: QuickJSExecutor) -> None:
    """The digest is not a constant: each input it claims to cover moves it."""
    base = executor.execute_contract(BUSY, "busy", {"step": 1}, STATE).digest
    variants = [
        executor.execute_contract(BUSY, "busy", {"step": 2}, STATE),  # args
        executor.execute_contract(BUSY, "busy", {"step": 1}, {**STATE, "n": "40"}),  # state
        executor.execute_contract(BUSY, "busy", {"step": 1}, {"n": "41"}),  # a read's result
        executor.execute_contract(BUSY + "\n// another build\n", "busy", {"step": 1}, STATE),
        executor.execute_contract(BUSY, "busy", {"step": 1}, STATE, account_id="other.test"),
        executor.execute_contract(BUSY, "busy", {"step": 1}, STATE, signer_id="bob.test"),
        executor.execute_contract(BUSY, "busy", {"step": 1}, STATE, deposit=1),
        QuickJSExecutor(gas="299T").execute_contract(BUSY, "busy", {"step": 1}, STATE),
        executor.execute_contract(BUSY, "fail_after_writing", {"step": 1}, STATE),
    ]
    digests = [base] + [v.digest for v in variants]
    assert all(d and len(d) == 64 for d in digests)
    assert len(set(digests)) == len(digests)


def _documented_digest(code: bytes, method: str, ctx: VMContext, out: Any) -> str:
    """outlayer/digest.py's module doc, implemented from the text."""

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, int):
            return str(value)
        return [plain(v) for v in value]

    doc = {
        "v": 1,
        "code_hash": hashlib.sha256(code).hexdigest(),
        "method": method,
        "input": ctx.input.hex(),
        "context": {f.name: plain(getattr(ctx, f.name)) for f in dataclasses.fields(ctx)
                    if f.name != "input"},
        "access_log": [[str(op), key.hex(), None if value is None else value.hex()]
                       for op, key, value in out.access_log],
        "storage_changes": [[k.hex(), None if v is None else v.hex()]
                            for k, v in sorted(out.storage_changes.items())],
        "result": None if out.return_data is None else out.return_data.hex(),
        "logs": list(out.logs),
        "gas_burnt": str(out.burnt_gas),
        "gas_used": str(out.used_gas),
        "error": None if out.error is None else {"kind": out.error.kind,
                                                 "message": out.error.message},
        "params": out.params_name,
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


class _Storage(dict):  # type: ignore[type-arg]
    def get(self, key: bytes) -> bytes | None:  # type: ignore[override]
        return dict.get(self, key)


@pytest.mark.parametrize("method", ["busy", "fail_after_writing"])
def test_digest_is_the_documented_construction(method: str) -> None:
    code = BUSY.encode()
    ctx = VMContext(current_account_id="c.test", signer_account_id="a.test",
                    predecessor_account_id="a.test", input=b'{"step":1}', block_height=5)
    out = runtime().run(code, method, ctx, _Storage({b"n": b"41", b"gone": b"x"}))
    assert out.access_log  # the construction covers reads and writes
    result = CallResult.from_outcome(out, code=code, method=method, context=ctx, elapsed_ms=0)
    assert result.digest == _documented_digest(code, method, ctx, out)
