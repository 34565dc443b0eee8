"""near-sdk-js's runtime model: every call runs in what the contract sees as a fresh
runtime, and nothing survives between calls but storage. OutLayer evaluates a bundle once
(its snapshot) and starts every call from that snapshot; these tests check that JS state a
call leaves behind (module-level variables, objects, globals, a failed call's changes) is
gone in the next call, with and without the snapshot."""

from __future__ import annotations

import json

import pytest

from outlayer import ContractSimulator
from outlayer.host.delta import PAGE
from outlayer.host.guest_build import SHADOW_STACK_SIZE
from outlayer.js.runner import runtime
from outlayer.realm.transform import SDKJS_TAG
from outlayer.sdkjs import build
from outlayer.vm.context import VMContext

from .support import example, ok

TGAS = 10**12

# Module-level state of every kind a call could leak: a counter, an array, an object, a
# Map, a closure's variable, a property added to the compartment's global object, a
# lazily built cache. `bump` changes all of them and reports what it found first.
LEAKY = SDKJS_TAG + r"""
let calls = 0;
const seen = [];
const box = { n: 0 };
const map = new Map();
const tick = (() => { let t = 0; return () => { t += 1; return t; }; })();
let cache;
const give = (v) => env.value_return(env.utf8_string_to_uint8array(JSON.stringify(v)));

function found() {
  return { calls, seen: seen.length, box: box.n, map: map.size, tick: tick() - 1,
    cache: cache === undefined ? null : cache.length,
    global: globalThis.leaked === undefined ? null : globalThis.leaked };
}

function change() {
  calls += 1;
  seen.push(calls);
  box.n += 1;
  map.set(calls, calls);
  if (cache === undefined) cache = [];
  cache.push(calls);
  globalThis.leaked = calls;
}

export function bump() {
  const before = found();
  change();
  env.storage_write(env.utf8_string_to_uint8array('bumps'),
    env.utf8_string_to_uint8array(String(Number(storedBumps()) + 1)), 0);
  give({ before, after: found(), stored: storedBumps() });
}

export function bump_then_fail() {
  change();
  throw new Error('failed after changing everything');
}

function storedBumps() {
  if (env.storage_read(env.utf8_string_to_uint8array('bumps'), 1) === 0n) return '0';
  return env.uint8array_to_utf8_string(env.read_register(1));
}
"""
# The same with a top level that reads the call (the block height): it cannot be
# pre-evaluated, so it is evaluated in every call instead.
LEAKY_PER_CALL = LEAKY + "\nconst height = env.block_index();\n"

FRESH = {"calls": 0, "seen": 0, "box": 0, "map": 0, "tick": 0, "cache": None,
         "global": None}
CHANGED = {"calls": 1, "seen": 1, "box": 1, "map": 1, "tick": 1, "cache": 1, "global": 1}


@pytest.mark.parametrize("source, snapshot", [(LEAKY, True), (LEAKY_PER_CALL, False)],
                         ids=["snapshot", "evaluated-per-call"])
def test_no_js_state_survives_between_calls(sim: ContractSimulator, source: str,
                                            snapshot: bool) -> None:
    rt = runtime()
    script, flags, _ = rt.compile(source.encode())
    assert (rt.prepare(script, flags) is not None) is snapshot
    sim.deploy("leaky.test", source)
    for n in range(1, 4):
        got = ok(sim.call("leaky.test", "bump", {}))
        assert got == {"before": FRESH, "after": CHANGED, "stored": str(n)}  # storage stays
        failed = sim.call("leaky.test", "bump_then_fail", {})
        assert failed.status == "failure"
        assert failed.error["message"].startswith("failed after changing everything\n")
    assert sim.view("leaky.test", "bump", {}).status == "failure"  # it writes: not a view


def test_a_built_contract_runs_from_its_snapshot_as_if_evaluated_in_the_call() -> None:
    """The counter example (near-sdk-js's own classes, decorators and serializer) is
    evaluated once, not per call: a call from its snapshot gives what a call that
    evaluates the bundle first gives (result, logs, state), for far less gas."""
    code = build(example("counter.ts")).code
    rt = runtime()
    script, flags, _ = rt.compile(code)
    assert rt.prepare(script, flags) is not None
    outcomes = []
    for snapshot in (True, False):
        storage = {b"STATE": b'{"count":41,"owner":"a.test"}'}  # fresh for each run
        context = VMContext("counter.test", "a.test", "a.test", input=b'{"by": 2}',
                            prepaid_gas=300 * TGAS)
        outcome = rt.run(code, "increment", context, storage, snapshot=snapshot)
        assert outcome.error is None, outcome.error
        outcomes.append(outcome)
    fast, slow = outcomes
    assert fast.return_data == slow.return_data == b"43"
    assert fast.logs == slow.logs == ("count is now 43",)
    assert fast.storage_changes == slow.storage_changes
    assert json.loads(fast.storage_changes[b"STATE"] or b"")["count"] == 43
    assert fast.burnt_gas < slow.burnt_gas / 10


@pytest.mark.parametrize("name", ["counter.ts", "../counter.js"])
def test_a_snapshot_holds_no_dead_memory_of_the_load(name: str) -> None:
    """What loading left dead is not in the snapshot that every call writes back: the
    shadow stack's frames (none of its pages), the host's copy of the source and the
    prelude's copy of it (the counter bundle's snapshot had 232 pages with them, 188
    without)."""
    path = example(name)
    code = build(path).code if path.suffix == ".ts" else path.read_bytes()
    rt = runtime()
    script, flags, _ = rt.compile(code)
    delta = rt.prepare(script, flags)
    assert delta is not None
    assert all(offset >= SHADOW_STACK_SIZE for offset, _ in delta.chunks)
    if path.suffix == ".ts":
        assert delta.data_bytes // PAGE <= 200, delta.data_bytes // PAGE
