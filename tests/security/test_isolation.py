"""Isolation: prototype poisoning, globals between calls and contracts, `near` / `console`.

A contract can change nothing shared: the intrinsics are frozen (poisoning throws a
TypeError), global bindings are read-only, `near` and `console` are hardened, and every
call starts from the contract's own snapshot. So neither the host side (how a result is
serialized) nor another contract, nor the next call of the same one, can be affected.
"""

from __future__ import annotations

import json

import pytest

from outlayer.chain.simulator import ContractSimulator
from outlayer.js.executor import QuickJSExecutor

from .conftest import Arena, arena

#: Every way to poison what the host glue (the bridge serializing results, awaiting
#: promises, calling exports) or another contract could use. Each attempt runs in its
#: own try; the contract reports which succeeded.
POISON = r"""
const attempts = {
  json_stringify: () => { JSON.stringify = () => '"pwned"'; },
  json_define: () => { Object.defineProperty(JSON, 'stringify', { value: () => '"pwned"' }); },
  json_parse: () => { JSON.parse = () => ({ pwned: true }); },
  array_push: () => { Array.prototype.push = null; },
  array_tojson: () => { Array.prototype.toJSON = () => 'pwned'; },
  array_iterator: () => { Array.prototype[Symbol.iterator] = function* () { yield 'pwned'; }; },
  array_proto: () => { Object.setPrototypeOf(Array.prototype, { toJSON: () => 'pwned' }); },
  object_tojson: () => { Object.prototype.toJSON = () => 'pwned'; },
  object_define_tojson: () => { Object.defineProperty(Object.prototype, 'toJSON', { value: () => 'pwned' }); },
  object_proto_setter: () => { Object.prototype.__proto__ = { toJSON: () => 'pwned' }; },
  object_tostring: () => { Object.prototype.toString = () => 'pwned'; },
  string_tojson: () => { String.prototype.toJSON = () => 'pwned'; },
  string_proto: () => { String.prototype.toString = () => 'pwned'; },
  number_tojson: () => { Number.prototype.toJSON = () => 'pwned'; },
  boolean_tojson: () => { Boolean.prototype.toJSON = () => 'pwned'; },
  promise_then: () => { Promise.prototype.then = function () { return 'pwned'; }; },
  promise_resolve: () => { Promise.resolve = () => 'pwned'; },
  function_call: () => { Function.prototype.call = () => 'pwned'; },
  function_apply: () => { Function.prototype.apply = () => 'pwned'; },
  reflect_apply: () => { Reflect.apply = () => 'pwned'; },
  symbol_tojson: () => { Symbol.prototype.toJSON = () => 'pwned'; },
  symbol_iterator: () => { Object.defineProperty(Symbol, 'iterator', { value: Symbol('x') }); },
  error_proto: () => { Error.prototype.toString = () => 'pwned'; },
  date_tojson: () => { Date.prototype.toJSON = () => 'pwned'; },
  global_json: () => { globalThis.JSON = { stringify: () => '"pwned"' }; },
  global_promise: () => { globalThis.Promise = function () {}; },
  global_object: () => { globalThis.Object = function () {}; },
  delete_map: () => { if (!delete Array.prototype.map) throw new TypeError('refused'); },
  typed_array: () => { Uint8Array.prototype.set = () => 'pwned'; },
  math: () => { Math.max = () => 'pwned'; },
};
const tryAll = () => {
  const out = {};
  for (const [name, attempt] of Object.entries(attempts)) {
    try { attempt(); out[name] = 'succeeded'; } catch (e) { out[name] = e.name; }
  }
  return out;
};
const RESULT = () => ({ a: [1, 'two', { b: null, c: true }], s: 'str', n: 1.5 });
"""

POISONER = POISON + r"""
const atLoad = tryAll();  // at the top level too: this becomes the contract's snapshot
export function poison() { return { load: atLoad, call: tryAll(), value: RESULT() }; }
export async function poison_async() {
  const call = tryAll();
  await Promise.resolve();
  return { load: atLoad, call, value: RESULT() };
}
export function poison_return() { tryAll(); return RESULT(); }
export async function poison_return_async() { tryAll(); await null; return RESULT(); }
export function poison_then_log() { tryAll(); near.log(JSON.stringify(RESULT())); console.log('console', 1, [2]); }
"""

VICTIM = POISON + r"""
export function check() {
  return { value: RESULT(), json: JSON.stringify(RESULT()), frozen: Object.isFrozen(Array.prototype),
           pushed: (() => { const a = []; a.push(1); return a; })(), sees: typeof globalThis.marker };
}
export async function check_async() { await null; return RESULT(); }
"""

#: the enumerable own keys of a fresh contract's globalThis (its endowments)
GLOBAL_KEYS = ["near", "console", "queueMicrotask", "Float16Array", "Float32Array", "Float64Array"]
EXPECTED_RESULT = b'{"a":[1,"two",{"b":null,"c":true}],"s":"str","n":1.5}'


@pytest.fixture(scope="module")
def sim(chain: ContractSimulator) -> ContractSimulator:
    chain.deploy("poisoner.test", POISONER)
    chain.deploy("victim.test", VICTIM)
    return chain


def test_every_poisoning_attempt_throws_a_type_error(sim: ContractSimulator) -> None:
    result = sim.call("poisoner.test", "poison")
    assert result.ok, result.error
    for phase in ("load", "call"):
        outcomes = result.result[phase]
        assert len(outcomes) == 30
        assert {name: o for name, o in outcomes.items() if o != "TypeError"} == {}, phase


@pytest.mark.parametrize("method", ["poison_return", "poison_return_async"])
def test_poisoning_does_not_change_how_the_result_is_serialized(sim: ContractSimulator,
                                                                method: str) -> None:
    result = sim.call("poisoner.test", method)
    assert result.ok, result.error
    assert result.return_data == EXPECTED_RESULT


def test_poisoning_does_not_change_logs(sim: ContractSimulator) -> None:
    result = sim.call("poisoner.test", "poison_then_log")
    assert result.ok, result.error
    assert result.logs == [EXPECTED_RESULT.decode(), "console 1 2"]


def test_poisoning_does_not_reach_another_contract(sim: ContractSimulator) -> None:
    """The victim answers exactly the same (result, logs, gas) before and after."""
    before = [sim.call("victim.test", m) for m in ("check", "check_async")]
    for method in ("poison", "poison_async", "poison_return", "poison_then_log"):
        assert sim.call("poisoner.test", method).ok
    after = [sim.call("victim.test", m) for m in ("check", "check_async")]
    for b, a in zip(before, after, strict=True):
        assert a.ok, a.error
        assert (a.return_data, a.logs, a.gas_burnt) == (b.return_data, b.logs, b.gas_burnt)
    assert after[0].result == {"value": json.loads(EXPECTED_RESULT),
                               "json": EXPECTED_RESULT.decode(), "frozen": True,
                               "pushed": [1], "sees": "undefined"}
    assert after[1].return_data == EXPECTED_RESULT


def test_shadowing_globals_in_the_module_does_not_reach_the_host() -> None:
    """A contract may name its own `JSON`, `Promise`, `near`, `console`: they are module
    locals; the bridge still serializes with the real JSON and awaits real promises."""
    src = """
    const JSON = { stringify: () => '"pwned"', parse: () => ({}) };
    const Promise = { resolve: () => 'pwned' };
    const console = { log: () => {} };
    export function f() { return { a: [1], js: JSON.stringify(1) }; }
    export async function g() { await null; console.log('silent'); return [1, 2]; }
    """
    ex = QuickJSExecutor()
    f = ex.execute_contract(src, "f")
    assert f.ok and f.return_data == b'{"a":[1],"js":"\\"pwned\\""}'
    g = ex.execute_contract(src, "g")
    assert g.ok and g.return_data == b"[1,2]" and g.logs == []


# ------------------------------------------------------------------ globals across calls

LEAKY = r"""
let counter = 0;
const cache = [];
export function set(args) {
  counter += 1;
  cache.push(args.tag);
  globalThis.marker = args.tag;
  globalThis.shared = { tag: args.tag };
  Symbol.for('outlayer.leak').description;
  near.storageWrite('last', args.tag);
  return [counter, cache.length, globalThis.marker];
}
export function get() {
  return { counter, cache, marker: typeof globalThis.marker, shared: typeof globalThis.shared,
           keys: Object.keys(globalThis).filter((k) => k !== 'marker'), last: near.storageRead('last') };
}
export function read_other() { return near.storageRead('secret'); }
export function write_secret() { near.storageWrite('secret', 'A only'); return true; }
"""


@pytest.fixture(scope="module")
def leaky(chain: ContractSimulator) -> ContractSimulator:
    chain.deploy("a-leaky.test", LEAKY)
    chain.deploy("b-leaky.test", LEAKY)  # the same code: the same contract snapshot
    chain.deploy("c-reader.test", "export function look() { return [typeof marker, typeof "
                 "globalThis.shared, typeof globalThis.marker, Object.keys(globalThis)]; }")
    return chain


def test_globals_do_not_survive_between_calls(leaky: ContractSimulator) -> None:
    first = leaky.call("a-leaky.test", "set", {"tag": "one"})
    second = leaky.call("a-leaky.test", "set", {"tag": "two"})
    assert first.result == [1, 1, "one"]
    assert second.result == [1, 1, "two"]  # module state restarted from the snapshot
    got = leaky.call("a-leaky.test", "get")
    assert got.result == {"counter": 0, "cache": [], "marker": "undefined",
                          "shared": "undefined", "keys": GLOBAL_KEYS, "last": "two"}


def test_contract_a_globals_are_invisible_to_contract_b(leaky: ContractSimulator) -> None:
    """The roadmap's A/B test: A sets globals and storage; B (same code, another account)
    and C (other code) see none of it."""
    assert leaky.call("a-leaky.test", "set", {"tag": "from A"}).ok
    assert leaky.call("a-leaky.test", "write_secret").ok
    b = leaky.call("b-leaky.test", "get")
    assert b.result == {"counter": 0, "cache": [], "marker": "undefined",
                        "shared": "undefined", "keys": GLOBAL_KEYS, "last": None}
    assert leaky.call("b-leaky.test", "read_other").result is None
    c = leaky.call("c-reader.test", "look")
    assert c.result == ["undefined", "undefined", "undefined", GLOBAL_KEYS]
    assert leaky.state("b-leaky.test") == {}


def test_b_writing_does_not_change_a(leaky: ContractSimulator) -> None:
    assert leaky.call("b-leaky.test", "set", {"tag": "from B"}).ok
    assert leaky.state("a-leaky.test")["last"] != "from B"
    assert leaky.state("b-leaky.test") == {"last": "from B"}


# ------------------------------------------------------------------ near and console

NEAR_ATTACKS = r"""
const attempts = {
  replace_near: () => { near = {}; },
  assign_global_near: () => { globalThis.near = {}; },
  define_global_near: () => { Object.defineProperty(globalThis, 'near', { value: {} }); },
  delete_global_near: () => { if (!delete globalThis.near) throw new TypeError('refused'); },
  replace_method: () => { near.storageWrite = () => true; },
  define_method: () => { Object.defineProperty(near, 'log', { value: () => {} }); },
  delete_method: () => { if (!delete near.log) throw new TypeError('refused'); },
  add_property: () => { near.extra = 1; },
  set_prototype: () => { Object.setPrototypeOf(near, { storageRead: () => 'fake' }); },
  method_property: () => { near.log.extra = 1; },
  method_prototype: () => { Object.setPrototypeOf(near.log, null); },
  replace_console: () => { console = {}; },
  assign_global_console: () => { globalThis.console = {}; },
  replace_console_log: () => { console.log = () => {}; },
  console_proto: () => { Object.setPrototypeOf(console, null); },
  replace_harden: () => { globalThis.harden = (x) => x; },
  replace_date: () => { globalThis.Date = function () {}; },
  replace_math_random: () => { Math.random = () => 0.5; },
  define_math_random: () => { Object.defineProperty(Math, 'random', { value: () => 0.5 }); },
  replace_date_now: () => { Date.now = () => 0; },
};
export function attack() {
  const out = {};
  for (const [name, f] of Object.entries(attempts)) {
    try { f(); out[name] = 'succeeded'; } catch (e) { out[name] = e.name; }
  }
  near.log('near.log still works');
  console.log('console.log still works');
  near.storageWrite('k', 'v');
  return { out, frozen: [Object.isFrozen(near), Object.isFrozen(near.log), Object.isFrozen(console),
                         Object.isFrozen(console.log), Object.isFrozen(Math), Object.isFrozen(Date)],
           read: near.storageRead('k'), keys: Object.keys(near).length };
}
"""


def test_near_and_console_cannot_be_replaced_or_mutated() -> None:
    result = QuickJSExecutor().execute_contract(NEAR_ATTACKS, "attack")
    assert result.ok, result.error
    out = result.result["out"]
    assert len(out) == 20
    assert {name: o for name, o in out.items() if o != "TypeError"} == {}
    assert result.result["frozen"] == [True] * 6
    assert result.result["read"] == "v"
    assert result.logs == ["near.log still works", "console.log still works"]
    assert result.state_changes == {"k": "v"}


def test_isolation_attackers_leave_the_arena_healthy(chain: ContractSimulator) -> None:
    """After all of the above in this process, a plain contract behaves as on day one."""
    plain: Arena = arena(chain, "plain-after.test", "export function nothing() {}")
    plain.assert_healthy()


def test_proto_keys_in_args_pollute_nothing() -> None:
    """`__proto__` / `constructor` keys in the call's JSON args are plain own properties."""
    src = """export function f(args) {
      return [Object.keys(args), Object.getPrototypeOf(args) === Object.prototype,
              ({}).polluted === undefined, args.polluted === undefined,
              Object.prototype.hasOwnProperty.call(args, '__proto__'), JSON.stringify(args)];
    }"""
    args = '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}'
    result = QuickJSExecutor().execute_contract(src, "f", args)
    assert result.ok, result.error
    assert result.result == [["__proto__", "constructor"], True, True, True, True,
                             '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}']
