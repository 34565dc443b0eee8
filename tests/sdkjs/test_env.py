"""The `env` global near-sdk-js 2.0.0 contracts call, and how their methods are run:
hand-written modules carrying the near-sdk-js tag (what `outlayer build` emits), so each
builtin's JS value types and the runtime model are checked without a build."""

from __future__ import annotations

import hashlib
import json

import pytest

from outlayer import ContractSimulator
from outlayer.errors import UserError
from outlayer.realm.transform import SDKJS_TAG

from .support import ok

U64_MAX = 2**64 - 1

PROBE = SDKJS_TAG + r"""
const EVICTED = 2n ** 64n - 2n;
const enc = (s) => env.utf8_string_to_uint8array(s);
const dec = (a) => env.uint8array_to_utf8_string(a);
const give = (v) => env.value_return(enc(JSON.stringify(v, (_, x) =>
  typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Array.from(x) : x)));
const reg = (id) => { const r = env.read_register(id); return r === undefined ? 'unset' : dec(r); };

export function registers() {
  const unset = [env.read_register(7), env.register_len(7)];
  env.write_register(7, enc('seven'));
  const roundtrip = [reg(7), env.register_len(7), env.read_register(7) instanceof Uint8Array];
  env.input(3);
  env.current_account_id(0);
  env.predecessor_account_id(1);
  env.signer_account_id(2);
  give({ unset, roundtrip, input: reg(3), current: reg(0), predecessor: reg(1), signer: reg(2) });
}

export function context() {
  env.signer_account_pk(0);
  const pk = env.read_register(0);
  env.random_seed(1);
  give({ height: env.block_index(), time: env.block_timestamp(), epoch: env.epoch_height(),
    usage: typeof env.storage_usage(), balance: typeof env.account_balance(),
    big: env.account_balance() > 2n ** 64n, locked: env.account_locked_balance(),
    deposit: env.attached_deposit(), prepaid: env.prepaid_gas(),
    used: typeof env.used_gas(), pk_len: pk.length, seed_len: env.read_register(1).length });
}

export function storage() {
  const first = env.storage_write(enc('k'), enc('one'), EVICTED);
  const evictedAfterNew = env.read_register(EVICTED);
  const second = env.storage_write(enc('k'), enc('two'), EVICTED);
  const evicted = reg(EVICTED);
  const read = env.storage_read(enc('k'), 0);
  const value = reg(0);
  const miss = env.storage_read(enc('nope'), 5);
  const has = [env.storage_has_key(enc('k')), env.storage_has_key(enc('nope'))];
  env.storage_write(enc('gone'), enc('x'), EVICTED);
  const removed = [env.storage_remove(enc('gone'), 4), reg(4), env.storage_remove(enc('gone'), 4)];
  give({ first, evictedAfterNew: evictedAfterNew === undefined, second, evicted, read, value,
    miss, missReg: reg(5), has, removed });
}

export function hashes() {
  const out = {};
  for (const name of ['sha256', 'keccak256', 'keccak512', 'ripemd160']) {
    env[name](enc('abc'), 9);
    out[name] = Array.from(env.read_register(9), (b) => b.toString(16).padStart(2, '0')).join('');
  }
  give(out);
}

export function text() {
  const latin = env.latin1_string_to_uint8array('\u00e9\u00ff\u0041');
  const utf8 = env.utf8_string_to_uint8array('\u00e9');
  give({ latin, utf8, back: env.uint8array_to_latin1_string(latin),
    utf8back: env.uint8array_to_utf8_string(utf8) });
}

export function logs() {
  env.log('plain text');
  env.log_utf8(enc('utf8 \u00e9'));
  env.log_utf16(new Uint8Array([0x68, 0, 0x69, 0]));
}

export function promises() {
  const a = env.promise_create('other.test', 'go', enc('{}'), 0n, 5000000000000n);
  const b = env.promise_then(a, 'other.test', 'back', enc('{}'), 0n, 5000000000000n);
  const c = env.promise_batch_create('other.test');
  env.promise_batch_action_transfer(c, 1n);
  const j = env.promise_and(a, c);
  give({ a, b, c, j, count: env.promise_results_count() });
}

export function returns_a_value() { return 'ignored: near-sdk-js returns through value_return'; }
export function throws() { throw new Error('boom'); }
export function throws_a_string() { throw 'plain'; }
export function panics_bare() { env.panic(); }
export function panics_text() { env.panic('said so'); }
export function panics_bytes() { env.panic_utf8(enc('bytes')); }
export function runs_jobs() { Promise.resolve().then(() => env.log('job ran')); }
export function no_arguments(...args) { give({ count: args.length, self: self === globalThis }); }
export function reach() {
  // nothing reachable from env, self or globalThis is a start-compartment global object
  const seen = new Set();
  const found = [];
  const visit = (o, path, depth) => {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o) || depth > 4) return;
    seen.add(o);
    if (Object.prototype.hasOwnProperty.call(o, 'lockdown') || Object.prototype.hasOwnProperty.call(o, 'Compartment')) found.push(path);
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d && 'value' in d) visit(d.value, path + '.' + String(key), depth + 1);
    }
    visit(Object.getPrototypeOf(o), path + '.__proto__', depth + 1);
  };
  visit(globalThis, 'globalThis', 0);
  visit(env, 'env', 0);
  let ctor;
  try { ctor = String(env.log.constructor('return globalThis')()); } catch (e) { ctor = e.name; }
  give({ found, ctor, keys: Object.keys(globalThis) });
}
export function tamper() {
  const tries = {};
  for (const [name, f] of Object.entries({
    assign: () => { env.log = () => {}; },
    add: () => { env.extra = 1; },
    rebind: () => { globalThis.env = {}; },
  })) { try { f(); tries[name] = 'allowed'; } catch (e) { tries[name] = e.name; } }
  give({ tries, frozen: Object.isFrozen(env) });
}
"""

PLAIN = r"""
export function probe(args) {
  return { env: typeof env, self: typeof self, args };
}
"""


@pytest.fixture
def probe(sim: ContractSimulator) -> ContractSimulator:
    sim.deploy("probe.test", PROBE)
    return sim


def given(sim: ContractSimulator, method: str, **kwargs: object) -> object:
    return ok(sim.call("probe.test", method, **kwargs))  # type: ignore[arg-type]


def test_registers_are_the_hosts(probe: ContractSimulator) -> None:
    out = given(probe, "registers", args={"x": 1}, signer_id="alice.test")
    assert out == {"unset": [None, f"{U64_MAX}n"], "roundtrip": ["seven", "5n", True],
                   "input": '{"x":1}', "current": "probe.test", "predecessor": "alice.test",
                   "signer": "alice.test"}


def test_context_values_are_bigints_and_bytes(probe: ContractSimulator) -> None:
    out = given(probe, "context", signer_id="alice.test", deposit=3)
    assert isinstance(out, dict)
    for key in ("height", "time", "epoch", "prepaid"):
        assert isinstance(out[key], str) and out[key].endswith("n"), key
    assert out["deposit"] == "3n" and out["locked"] == "0n"
    assert out["usage"] == out["balance"] == out["used"] == "bigint"
    assert out["big"] is True
    assert out["pk_len"] == 33 and out["seed_len"] == 32


def test_storage_with_the_evicted_register(probe: ContractSimulator) -> None:
    out = given(probe, "storage")
    assert out == {"first": "0n", "evictedAfterNew": True, "second": "1n", "evicted": "one",
                   "read": "1n", "value": "two", "miss": "0n", "missReg": "unset",
                   "has": ["1n", "0n"], "removed": ["1n", "x", "0n"]}
    assert probe.state("probe.test") == {"k": "two"}


def test_hashes_match_known_vectors(probe: ContractSimulator) -> None:
    out = given(probe, "hashes")
    assert out["sha256"] == hashlib.sha256(b"abc").hexdigest()
    assert out["keccak256"] == \
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    assert out["ripemd160"] == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"
    assert len(out["keccak512"]) == 128


def test_string_conversions(probe: ContractSimulator) -> None:
    out = given(probe, "text")
    assert out == {"latin": [0xE9, 0xFF, 0x41], "utf8": [0xC3, 0xA9],
                   "back": "\u00e9\u00ffA", "utf8back": "\u00e9"}


def test_logs(probe: ContractSimulator) -> None:
    assert probe.call("probe.test", "logs").logs == ["plain text", "utf8 \u00e9", "hi"]


def test_promise_indices_are_bigints(probe: ContractSimulator) -> None:
    result = probe.call("probe.test", "promises")
    assert ok(result) == {"a": "0n", "b": "1n", "c": "2n", "j": "3n", "count": "0n"}


def test_a_returned_value_is_not_value_returned(probe: ContractSimulator) -> None:
    result = probe.call("probe.test", "returns_a_value")
    assert ok(result) is None and result.return_data in (None, b"")


def test_methods_get_no_arguments_and_self_is_the_global(probe: ContractSimulator) -> None:
    assert given(probe, "no_arguments", args={"a": 1}) == {"count": 0, "self": True}


def test_uncaught_exceptions_panic_with_message_and_stack(probe: ContractSimulator) -> None:
    result = probe.call("probe.test", "throws")
    assert result.error is not None and result.error["kind"] == "GuestPanic"
    assert result.error["message"].startswith("boom\n    at throws (contract.js:")
    # builder.c reads .message and .stack of whatever was thrown
    plain = probe.call("probe.test", "throws_a_string")
    assert plain.error == {"kind": "GuestPanic", "message": "undefined\nundefined"}


@pytest.mark.parametrize(("method", "message"), [
    ("panics_bare", "explicit guest panic"), ("panics_text", "said so"),
    ("panics_bytes", "bytes")])
def test_panics(probe: ContractSimulator, method: str, message: str) -> None:
    assert probe.call("probe.test", method).error == {"kind": "GuestPanic", "message": message}


def test_the_job_loop_runs(probe: ContractSimulator) -> None:
    assert probe.call("probe.test", "runs_jobs").logs == ["job ran"]


def test_env_cannot_be_changed(probe: ContractSimulator) -> None:
    out = given(probe, "tamper")
    assert out == {"tries": {"assign": "TypeError", "add": "TypeError", "rebind": "TypeError"},
                   "frozen": True}


def test_env_leads_nowhere_outside_the_compartment(probe: ContractSimulator) -> None:
    """env's functions are host functions of the start realm: their constructor is SES's
    inert one, and no walk from env or the global reaches lockdown or Compartment."""
    out = given(probe, "reach")
    assert out == {"found": [], "ctor": "TypeError",
                   "keys": ["near", "console", "env", "queueMicrotask", "Float16Array",
                            "Float32Array", "Float64Array"]}


def test_plain_contracts_keep_their_calling_convention(sim: ContractSimulator) -> None:
    """Without the tag: arguments are passed, the return value is returned, and neither
    `env` nor `self` exists."""
    sim.deploy("plain.test", PLAIN)
    assert ok(sim.call("plain.test", "probe", {"a": 1})) == {
        "env": "undefined", "self": "undefined", "args": {"a": 1}}


def test_non_object_arguments_are_refused_before_the_contract_runs(
        probe: ContractSimulator) -> None:
    """A known difference (docs/NEAR_SDK_JS.md): OutLayer takes arguments as a JSON object
    (the simulator here, the guest bridge for receipts) for near-sdk-js contracts too."""
    with pytest.raises(UserError, match="JSON object"):
        probe.call("probe.test", "registers", args=json.dumps([1, 2]))


RANDOM = SDKJS_TAG + r"""
export function draw() {
  env.value_return(env.utf8_string_to_uint8array(String(Math.random() < 1)));
}
"""


def test_realm_options_apply_to_near_sdk_js_bundles(sim: ContractSimulator) -> None:
    sim.deploy("locked.test", RANDOM)
    refused = sim.call("locked.test", "draw")
    assert refused.error is not None and refused.error["kind"] == "GuestPanic"
    assert refused.error["message"].startswith("Math.random() is not available")
    sim.deploy("open.test", RANDOM, realm={"allow_math_random": True})
    assert ok(sim.call("open.test", "draw")) is True
