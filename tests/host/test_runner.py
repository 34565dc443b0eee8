"""The runner end to end: the real guest, real gas, every error a user will hit."""

from __future__ import annotations

import json

import pytest

from outlayer.host.engine import Limits

from .conftest import RunFn, big_params

COUNTER = """
export function increment() {
  const count = parseInt(near.storageRead('count') || '0');
  near.storageWrite('count', (count + 1).toString());
  near.log(`Counter incremented to ${count + 1}`);
  return count + 1;
}
"""


def test_counter_roundtrip(run: RunFn) -> None:
    out = run(COUNTER, "increment", storage={b"count": b"41"})
    assert out.error is None
    assert out.return_data == b"42"
    assert out.logs == ("Counter incremented to 42",)
    assert dict(out.storage_changes) == {b"count": b"42"}
    assert 0 < out.burnt_gas == out.used_gas < 300 * 10**12


def test_args_and_async(run: RunFn) -> None:
    src = """
    export async function add(args) { const x = await Promise.resolve(args.a); return {sum: x + args.b}; }
    """
    out = run(src, "add", {"a": 2, "b": 3})
    assert out.error is None
    assert json.loads(out.return_data) == {"sum": 5}


def test_undefined_result_returns_nothing(run: RunFn) -> None:
    out = run("export function f() {}", "f")
    assert out.error is None and out.return_data is None


def test_syntax_error_names_line_and_column(run: RunFn) -> None:
    out = run("export function f() {\n  return 1 +;\n}", "f")
    assert out.error is not None and out.error.kind == "CompileError"
    assert "2:" in out.error.message


def test_unknown_method_lists_exports(run: RunFn) -> None:
    out = run("export function b() {}\nexport function a() {}\nexport const c = 1;", "zzz")
    assert out.error is not None and out.error.kind == "MethodNotFound"
    assert json.loads(out.error.message) == ["a", "b"]


def test_thrown_exception_has_message_and_stack(run: RunFn) -> None:
    out = run("function inner() { throw new TypeError('bad thing'); }\n"
              "export function f() { inner(); }", "f")
    assert out.error is not None and out.error.kind == "JSException"
    assert "TypeError: bad thing" in out.error.message
    assert "inner" in out.error.message and "contract.js:1" in out.error.message


@pytest.mark.parametrize("expr", ["10n", "(() => { const a = {}; a.a = a; return a; })()",
                                  "() => 1"])
def test_non_serializable_result(run: RunFn, expr: str) -> None:
    out = run(f"export function f() {{ return {expr}; }}", "f")
    assert out.error is not None and out.error.kind == "ResultNotSerializable"


def test_failed_call_commits_nothing_but_keeps_logs(run: RunFn) -> None:
    out = run("export function f() { near.storageWrite('a', 'b'); near.log('x'); throw 1; }", "f")
    assert out.error is not None
    assert dict(out.storage_changes) == {}
    assert dict(out.attempted_changes) == {b"a": b"b"}
    assert out.logs == ("x",)


def test_infinite_loop_runs_out_of_gas_deterministically(run: RunFn) -> None:
    src = "export function f() { while (true) {} }"
    a = run(src, "f", prepaid_gas=5 * 10**12)
    b = run(src, "f", prepaid_gas=5 * 10**12)
    assert a.error is not None and a.error.kind == "GasExceeded"
    assert a.burnt_gas == b.burnt_gas == 5 * 10**12


def test_default_limit_is_gas_limit_exceeded(run: RunFn) -> None:
    out = run("export function f() { while (true) {} }", "f")
    assert out.error is not None and out.error.kind == "GasLimitExceeded"
    assert out.burnt_gas == 300 * 10**12


def test_memory_bomb_is_a_clean_error(run: RunFn) -> None:
    src = "export function f() { const a = []; while (true) a.push(new Array(1e6).fill(1)); }"
    out = run(src, "f", params=big_params(), prepaid_gas=10**17,
              limits=Limits(memory_bytes=32 * 1024 * 1024))
    assert out.error is not None and out.error.kind == "MemoryLimitExceeded"


def test_deep_recursion_is_a_clean_error(run: RunFn) -> None:
    out = run("function r(n) { return r(n + 1) + 1; }\nexport function f() { return r(0); }",
              "f", params=big_params(), prepaid_gas=10**17)
    assert out.error is not None
    assert out.error.kind in ("JSException", "WasmTrap")
    assert "stack" in out.error.message.lower() or "recursion" in out.error.message.lower()


def test_wall_clock_safety_net(run: RunFn) -> None:
    out = run("export function f() { while (true) {} }", "f", params=big_params(10**19),
              prepaid_gas=10**19, limits=Limits(wall_clock_seconds=0.3))
    assert out.error is not None and out.error.kind == "WallClockTimeExceeded"


def test_view_cannot_write(run: RunFn) -> None:
    out = run("export function f() { near.storageWrite('a', 'b'); }", "f", is_view=True)
    assert out.error is not None and out.error.kind == "ProhibitedInView"


def test_limits_reach_the_contract(run: RunFn) -> None:
    key = run("export function f() { near.storageWrite('k'.repeat(2049), 'v'); }", "f")
    assert key.error is not None and key.error.kind == "KeyLengthExceeded"
    logs = run("export function f() { for (let i = 0; i < 101; i++) near.log('x'); }", "f")
    assert logs.error is not None and logs.error.kind == "NumberOfLogsExceeded"
    assert len(logs.logs) == 100
    total = run("export function f() { near.log('y'.repeat(20000)); }", "f")
    assert total.error is not None and total.error.kind == "TotalLogLengthExceeded"


def test_panic_carries_message(run: RunFn) -> None:
    out = run("export function f() { near.panic('nope: ' + 42); }", "f")
    assert out.error is not None and out.error.kind == "GuestPanic"
    assert "nope: 42" in out.error.message


def test_context_reaches_the_contract(run: RunFn) -> None:
    src = """export function f() {
      return [near.currentAccountId(), near.signerAccountId(), near.predecessorAccountId(),
              String(near.blockHeight()), String(near.blockTimestamp()),
              String(near.attachedDeposit()), String(near.accountBalance())];
    }"""
    out = run(src, "f", current_account_id="c.test", signer_account_id="s.test",
              predecessor_account_id="p.test", block_height=77, block_timestamp=123456789,
              attached_deposit=10**24, account_balance=3 * 10**24)
    assert out.error is None
    assert json.loads(out.return_data) == ["c.test", "s.test", "p.test", "77", "123456789",
                                           str(10**24), str(3 * 10**24)]


def test_hashes_match_python(run: RunFn) -> None:
    import hashlib

    src = """export function f() {
      const hex = (u) => Array.from(u, (b) => b.toString(16).padStart(2, '0')).join('');
      return [hex(near.sha256('abc')), hex(near.keccak256('abc')), hex(near.ripemd160('abc'))];
    }"""
    out = run(src, "f")
    assert out.error is None
    sha, keccak, ripemd = json.loads(out.return_data)
    assert sha == hashlib.sha256(b"abc").hexdigest()
    assert keccak == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    assert ripemd == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"
