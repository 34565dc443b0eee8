"""Resource attacks: gas, memory, recursion, nesting, NEAR's size limits.

Every attack runs in this one pytest process against one simulated chain: each must fail
with its NEAR-named error, deterministically, keep no state, and leave the host serving
normal calls (conftest.Arena.attack checks all of that after each one).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from outlayer.chain.simulator import ContractCompileError, ContractSimulator
from outlayer.chain.units import TGAS
from outlayer.errors import AccountNotFound, UserError
from outlayer.js.executor import QuickJSExecutor

from .conftest import Arena, arena

HOSTILE = r"""
function recurse(n) { return recurse(n + 1) + 1; }
export function loop() { plant('loop'); for (;;) {} }
export async function async_loop() { plant('async_loop'); for (;;) await null; }
export function microtask_flood() {
  plant('microtask_flood');
  const again = () => queueMicrotask(again);
  again();
}
export function promise_chain() {
  plant('promise_chain');
  let p = Promise.resolve(0);
  for (;;) p = p.then((x) => x + 1);
}
export function memory_bomb() {
  plant('memory_bomb');
  const keep = [];
  for (;;) keep.push(new ArrayBuffer(8 << 20));
}
export function string_bomb() { plant('string_bomb'); return 'x'.repeat(2 ** 27).length; }
export function array_bomb() {
  plant('array_bomb');
  const keep = [];
  for (;;) keep.push(new Float64Array(1 << 20));
}
export function deep_recursion() { plant('deep_recursion'); return recurse(0); }
export function proxy_recursion() {
  plant('proxy_recursion');
  const p = new Proxy({}, { get: (t, k) => p[k] });
  return p.x;
}
export async function async_recursion() {
  plant('async_recursion');
  const r = async (n) => (await r(n + 1)) + 1;
  return await r(0);
}
export function tojson_recursion() {
  plant('tojson_recursion');
  const o = { toJSON() { return JSON.stringify(o); } };
  return JSON.stringify(o);
}
export function many_logs() { plant('many_logs'); for (let i = 0; i < 101; i++) near.log('line ' + i); }
export function long_log() { plant('long_log'); near.log('y'.repeat(16385)); }
export function long_logs() { plant('long_logs'); for (let i = 0; i < 3; i++) near.log('z'.repeat(6000)); }
export function huge_return() { plant('huge_return'); near.valueReturn(new Uint8Array(4194305)); }
export function huge_text_return() { plant('huge_text_return'); near.valueReturn('\u00e9'.repeat(2097153)); }
export function million_writes() {
  plant('million_writes');
  for (let i = 0; i < 1000000; i++) near.storageWrite('k' + i, 'v');
}
export function long_key_write() { plant('long_key_write'); near.storageWrite('k'.repeat(2049), 'v'); }
export function long_key_read() { plant('long_key_read'); near.storageRead('k'.repeat(2049)); }
export function long_key_has() { plant('long_key_has'); near.storageHasKey('k'.repeat(2049)); }
export function long_key_remove() { plant('long_key_remove'); near.storageRemove('k'.repeat(2049)); }
export function long_value_write() {
  plant('long_value_write');
  near.storageWrite('big', new Uint8Array(5 * 1024 * 1024));
}
export function hammer() {
  plant('hammer');
  const big = new Uint8Array(5 * 1024 * 1024);
  for (let i = 0; i < 50; i++) near.storageWrite('ok' + i, 'fine');
  for (;;) {
    try { near.storageWrite('k'.repeat(2049), 'v'); } catch (e) { near.log('caught ' + e); }
    try { near.storageWrite('v', big); } catch (e) { near.log('caught ' + e); }
  }
}
export function regex_backtracking() {
  plant('regex_backtracking');
  return /(a+)+$/.test('a'.repeat(30) + 'b');
}
export function exact_key() { near.storageWrite('k'.repeat(2048), 'v'); return 'ok'; }
export function parse_nesting({ n }) {
  const json = '['.repeat(n) + ']'.repeat(n);
  try { return JSON.parse(json).length; } catch (e) { return e.name + ': ' + e.message; }
}
export function compile_nesting({ n }) {
  const src = 'return ' + '('.repeat(n) + '1' + ')'.repeat(n);
  try { return Function(src)(); } catch (e) { return e.name + ': ' + e.message; }
}
export function compile_nesting_planted(args) {
  plant('compile_nesting_planted');
  return compile_nesting(args);
}
export function compile_nesting_uncaught({ n }) {
  plant('compile_nesting_uncaught');
  return (0, globalThis.eval)('('.repeat(n) + '1' + ')'.repeat(n));
}
"""


@pytest.fixture(scope="module")
def hostile(chain: ContractSimulator) -> Arena:
    return arena(chain, "hostile.test", HOSTILE)


GAS_ATTACKS = ["loop", "async_loop", "microtask_flood", "promise_chain", "million_writes",
               "regex_backtracking"]


@pytest.mark.parametrize("method", GAS_ATTACKS)
def test_runaway_code_ends_in_gas_limit_exceeded(hostile: Arena, method: str) -> None:
    """Default prepaid gas (300 Tgas = max burnt): GasLimitExceeded, at exactly the limit."""
    results = [hostile.attack(method, "GasLimitExceeded") for _ in range(2)]
    assert results[0].gas_burnt == results[1].gas_burnt == 300 * TGAS


@pytest.mark.parametrize("method", GAS_ATTACKS)
def test_runaway_code_with_little_gas_ends_in_gas_exceeded(hostile: Arena, method: str) -> None:
    results = [hostile.attack(method, "GasExceeded", gas="5T") for _ in range(3)]
    assert {r.gas_burnt for r in results} == {5 * TGAS}
    assert results[0].logs == []


def test_cli_infinite_loop_ends_in_the_same_gas_every_time(tmp_path: Path) -> None:
    """`outlayer run --gas 5T` → GasExceeded at exactly 5 Tgas; without --gas (300 Tgas
    prepaid = max burnt) → GasLimitExceeded at 300 Tgas; the same in two processes."""
    contract = tmp_path / "loop.js"
    contract.write_text("export function f() { for (;;) {} }")
    outlayer = str(Path(sys.executable).parent / "outlayer")
    cases = [(["--gas", "5T"], "GasExceeded", 5 * TGAS), ([], "GasLimitExceeded", 300 * TGAS)]
    procs = [(kind, gas, subprocess.Popen([outlayer, "run", str(contract), "f", *extra, "--json"],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True))
             for extra, kind, gas in cases for _ in range(2)]
    digests: dict[str, set[str]] = {}
    for kind, gas, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err
        doc = json.loads(out)
        assert doc["error"]["kind"] == kind
        assert doc["gas_burnt"] == gas
        digests.setdefault(kind, set()).add(doc["digest"])
    assert [len(d) for d in digests.values()] == [1, 1]


@pytest.mark.parametrize("method", ["memory_bomb", "string_bomb", "array_bomb"])
def test_memory_bomb_is_a_clean_fast_memory_error(hostile: Arena, method: str) -> None:
    start = time.perf_counter()
    first = hostile.attack(method, "MemoryLimitExceeded")
    assert time.perf_counter() - start < 10
    assert "guest memory limit exceeded" in first.error["message"]
    again = hostile.attack(method, "MemoryLimitExceeded")
    assert (again.error, again.gas_burnt) == (first.error, first.gas_burnt)
    assert first.gas_burnt < 300 * TGAS


CAUGHT_OOM = """
const exhaust = () => {
  try { const keep = []; for (;;) keep.push(new ArrayBuffer(8 << 20)); } catch (e) { return String(e); }
};
export function caught() { return exhaust(); }
export function caught_then_throw() { exhaust(); throw new Error('unrelated'); }
export function caught_then_bigint() { exhaust(); return 10n; }
"""


def test_caught_memory_error_is_deterministic() -> None:
    """A contract may catch an allocation failure (as a wasm contract sees memory.grow
    fail): the outcome is the same every time."""
    ex = QuickJSExecutor()
    runs = [ex.execute_contract(CAUGHT_OOM, "caught") for _ in range(3)]
    assert runs[0].ok and runs[0].result == "InternalError: out of memory"
    assert len({(r.result, r.gas_burnt, r.digest) for r in runs}) == 1


@pytest.mark.parametrize(("method", "kind"), [("caught_then_throw", "JSException"),
                                              ("caught_then_bigint", "ResultNotSerializable")])
def test_caught_memory_error_does_not_relabel_later_errors(method: str, kind: str) -> None:
    result = QuickJSExecutor().execute_contract(CAUGHT_OOM, method)
    assert result.error is not None
    assert result.error["kind"] == kind


@pytest.mark.parametrize("method", ["deep_recursion", "proxy_recursion", "async_recursion",
                                    "tojson_recursion"])
def test_deep_recursion_is_a_clean_error(hostile: Arena, method: str) -> None:
    first = hostile.attack(method, "JSException")
    assert first.error["message"].startswith(
        "Uncaught RangeError: Maximum call stack size exceeded")
    again = hostile.attack(method, "JSException")
    assert (again.error, again.gas_burnt) == (first.error, first.gas_burnt)


def test_recursion_error_message_has_no_null_stack(hostile: Arena) -> None:
    result = hostile.attack("deep_recursion", "JSException")
    assert not result.error["message"].endswith("\nnull")


@pytest.mark.parametrize(("method", "kind", "logs"), [
    ("many_logs", "NumberOfLogsExceeded", 100),
    ("long_log", "TotalLogLengthExceeded", 0),
    ("long_logs", "TotalLogLengthExceeded", 2),
    ("huge_return", "ReturnedValueLengthExceeded", 0),
    ("huge_text_return", "ReturnedValueLengthExceeded", 0),  # 4,194,306 bytes of UTF-8
    ("long_key_write", "KeyLengthExceeded", 0),
    ("long_key_read", "KeyLengthExceeded", 0),
    ("long_key_has", "KeyLengthExceeded", 0),
    ("long_key_remove", "KeyLengthExceeded", 0),
    ("long_value_write", "ValueLengthExceeded", 0),
    ("hammer", "KeyLengthExceeded", 0),
])
def test_near_limits(hostile: Arena, method: str, kind: str, logs: int) -> None:
    """NEAR's limits end the call (a host error cannot be caught by the contract)."""
    result = hostile.attack(method, kind)
    assert len(result.logs) == logs
    if method == "many_logs":
        assert result.logs[-1] == "line 99"


def test_limits_are_exact(hostile: Arena, chain: ContractSimulator) -> None:
    """One byte under the key limit is fine (so the refusals above are the limit's)."""
    result = chain.call("hostile.test", "exact_key")
    assert result.ok, result.error
    assert chain.state("hostile.test")["k" * 2048] == "v"


def test_deep_json_built_at_run_time_is_a_catchable_error(hostile: Arena,
                                                          chain: ContractSimulator) -> None:
    assert chain.view("hostile.test", "parse_nesting", {"n": 100}).result == 1
    deep = chain.view("hostile.test", "parse_nesting", {"n": 100000})
    assert deep.result == "RangeError: Maximum call stack size exceeded"
    hostile.assert_healthy()


def test_deep_code_compiled_at_run_time_fails_cleanly(hostile: Arena,
                                                      chain: ContractSimulator) -> None:
    """Function() / indirect eval of 100,000 nested parens: the call fails, nothing is kept,
    the host carries on. (Which error: see the xfail below.)"""
    assert chain.view("hostile.test", "compile_nesting", {"n": 100}).result == 1
    hostile.attack("compile_nesting_planted", ("JSException", "WasmTrap"), args={"n": 100000})
    hostile.attack("compile_nesting_uncaught", ("JSException", "WasmTrap"), args={"n": 100000})


@pytest.mark.xfail(strict=True, reason=(
    "QuickJS's parser (Function / indirect eval at run time) overflows the 2 MiB wasm stack "
    "(WasmTrap, uncatchable) from ~873 nested parens, before QuickJS's own stack check "
    "(which measures the shadow stack in linear memory) throws a catchable error; the "
    "threshold follows Cranelift's native frame sizes, so it can differ between machines "
    "and wasmtime versions (docs/ARCHITECTURE.md claims the QuickJS limit trips first)"))
def test_deep_code_compiled_at_run_time_is_a_catchable_error(chain: ContractSimulator,
                                                             hostile: Arena) -> None:
    for n in (1000, 100000):
        result = chain.view("hostile.test", "compile_nesting", {"n": n})
        assert result.ok, (n, result.error)
        assert result.result.startswith(("RangeError: ", "SyntaxError: ", "InternalError: "))


NESTINGS = {
    "parens": lambda n: "export function f() { return " + "(" * n + "1" + ")" * n + "; }",
    "arrays": lambda n: "export function f() { return " + "[" * n + "]" * n + "; }",
    "objects": lambda n: "export function f() { return " + "{a:" * n + "1" + "}" * n + "; }",
    "unary": lambda n: "export function f() { return " + "-" * n + "1; }",
    "blocks": lambda n: "export function f() { " + "if (1) {" * n + "}" * n + " return 1; }",
    "arrows": lambda n: "export function f() { return " + "(() => " * n + "1" + ")" * n + "; }",
    "templates": lambda n: "export function f() { return " + "`${" * n + "1" + "}`" * n + "; }",
}


@pytest.mark.parametrize("shape", sorted(NESTINGS))
def test_deeply_nested_source_is_refused_at_deploy(chain: ContractSimulator,
                                                   hostile: Arena, shape: str) -> None:
    account = f"nest-{shape}.test"
    start = time.perf_counter()
    with pytest.raises(ContractCompileError, match="nests too deeply|stack"):
        chain.deploy(account, NESTINGS[shape](5000))
    assert time.perf_counter() - start < 10
    with pytest.raises(AccountNotFound):
        chain.account(account)  # nothing was created
    hostile.assert_healthy()


def test_moderate_nesting_still_deploys(chain: ContractSimulator) -> None:
    """The refusal is about depth, not about nesting at all."""
    chain.deploy("nest-ok.test", NESTINGS["arrays"](50))
    result = chain.call("nest-ok.test", "f")
    assert result.ok, result.error
    assert str(result.result).count("[") == 50


# ---------------------------------------------------------------- deep JSON at the host

DEEP = """
export function deep({ n }) { let a = []; for (let i = 0; i < n; i++) a = [a]; return a; }
export function depth(args) { let d = 0, x = args.a; while (Array.isArray(x)) { d++; x = x[0]; } return d; }
"""


@pytest.fixture(scope="module")
def deep_account(chain: ContractSimulator) -> str:
    chain.deploy("deep.test", DEEP)
    return "deep.test"


def test_shallow_json_crosses_the_host(chain: ContractSimulator, deep_account: str) -> None:
    assert chain.call(deep_account, "deep", {"n": 200}).ok
    arg = '{"a":' + "[" * 200 + "]" * 200 + "}"
    assert chain.call(deep_account, "depth", arg).result == 200


def test_deeply_nested_result_is_returned(chain: ContractSimulator, deep_account: str) -> None:
    result = chain.call(deep_account, "deep", {"n": 2000})
    assert result.ok, result.error
    assert result.return_data == b"[" * 2001 + b"]" * 2001


def test_deeply_nested_args_are_refused_or_run(chain: ContractSimulator,
                                               deep_account: str) -> None:
    arg = '{"a":' + "[" * 5000 + "]" * 5000 + "}"
    try:
        result = chain.call(deep_account, "depth", arg)
    except UserError:
        return
    assert result.ok and result.result == 5000


def test_host_serves_normal_calls_after_everything(hostile: Arena,
                                                   chain: ContractSimulator) -> None:
    """After every attack above (in this process), a normal call still works."""
    hostile.assert_healthy()
    result = chain.call("hostile.test", "seed")
    assert result.ok and result.result == "seeded"
    assert chain.state("hostile.test")["victim"] == "original"
    failures = [tx for tx in chain.transactions("hostile.test", limit=10000)
                if tx["status"] == "failure"]
    assert len(failures) >= 40  # the attacks above really ran here


@pytest.mark.xfail(strict=True, reason=(
    "the deploy-time parser (acorn inside the guest, outlayer/realm/transform.py) runs out "
    "of QuickJS stack on long but flat code: a 996-term `+` chain, a 545-branch else-if "
    "chain, a 535-term ?: chain (also: 146 nested parens, 118 nested object literals, 51 "
    "nested function expressions) are refused with 'nests too deeply'; generated and "
    "bundled code has such shapes"))
@pytest.mark.parametrize("shape", ["concatenation", "else_if"])
def test_long_flat_code_deploys(chain: ContractSimulator, shape: str) -> None:
    if shape == "concatenation":
        src = "export function f() { return " + " + ".join(["'a'"] * 2000) + "; }"
        expected: object = "a" * 2000
    else:
        src = ("export function f(args) { const x = args.x; "
               + " else ".join(f"if (x === {i}) return {i};" for i in range(1000))
               + " return -1; }")
        expected = 999
    chain.deploy(f"flat-{shape.replace('_', '-')}.test", src)
    result = chain.call(f"flat-{shape.replace('_', '-')}.test", "f", {"x": 999})
    assert result.ok and result.result == expected
