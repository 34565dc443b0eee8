"""QuickJSExecutor: one call on throwaway state, and every error a user hits."""

from __future__ import annotations

from pathlib import Path

import pytest

from outlayer.chain.result import CallResult
from outlayer.errors import UserError
from outlayer.host.engine import Limits
from outlayer.js.executor import ExecutionResult, QuickJSExecutor

COUNTER = (Path(__file__).resolve().parent.parent / "examples" / "counter.js").read_text()


@pytest.fixture(scope="module")
def ex() -> QuickJSExecutor:
    return QuickJSExecutor()


def _error(result: ExecutionResult) -> tuple[str, str]:
    assert result.status == "failure" and result.error is not None, result
    return result.error["kind"], result.error["message"]


def test_counter_on_given_state(ex: QuickJSExecutor) -> None:
    result = ex.execute_contract(COUNTER, "increment", None, {"count": "41"})
    assert isinstance(result, CallResult)
    assert result.status == "success" and result.result == 42
    assert result.logs == ["Counter incremented to 42"]
    assert result.state_changes == {"count": "42"}
    assert result.gas_burnt > 0 and result.gas_used >= result.gas_burnt
    assert result.execution_time_ms > 0
    fresh = ex.execute_contract(COUNTER, "increment")
    assert fresh.result == 1  # nothing was kept


def test_args_and_bytes_state(ex: QuickJSExecutor) -> None:
    code = """
    export function echo(args) { return {got: args, raw: near.storageRead('k')}; }
    export function nothing() {}
    export function rm() { near.storageRemove('k'); }
    """
    result = ex.execute_contract(code, "echo", {"a": [1, 2]}, {b"k": "v"})
    assert result.result == {"got": {"a": [1, 2]}, "raw": "v"}
    assert ex.execute_contract(code, "echo", '{"x": true}').result["got"] == {"x": True}
    undefined = ex.execute_contract(code, "nothing")
    assert undefined.ok and undefined.result is None and undefined.return_data is None
    assert ex.execute_contract(code, "rm", state={"k": "v"}).state_changes == {"k": None}


def test_async_method(ex: QuickJSExecutor) -> None:
    code = "export async function f(args) { return 2 * await Promise.resolve(args.n); }"
    assert ex.execute_contract(code, "f", {"n": 21}).result == 42


def test_deterministic(ex: QuickJSExecutor) -> None:
    a = ex.execute_contract(COUNTER, "increment", None, {"count": "1"})
    b = ex.execute_contract(COUNTER, "increment", None, {"count": "1"})
    assert (a.digest, a.gas_burnt, a.logs) == (b.digest, b.gas_burnt, b.logs)
    c = ex.execute_contract(COUNTER, "increment", None, {"count": "2"})
    assert c.digest != a.digest


def test_syntax_error_has_line_and_column(ex: QuickJSExecutor) -> None:
    kind, message = _error(ex.execute_contract("export function f() {\n  return (;\n}", "f"))
    assert kind == "CompileError"
    assert ":2:" in message or "line 2" in message or "2:" in message


def test_unknown_method_lists_exports(ex: QuickJSExecutor) -> None:
    kind, message = _error(ex.execute_contract(COUNTER, "incremnet"))
    assert kind == "MethodNotFound"
    assert "'incremnet'" in message
    for name in ("increment", "decrement", "get_count", "reset"):
        assert name in message


def test_thrown_exception_has_message_and_stack(ex: QuickJSExecutor) -> None:
    code = "function inner() { throw new Error('boom'); }\nexport function f() { inner(); }"
    kind, message = _error(ex.execute_contract(code, "f"))
    assert kind == "JSException"
    assert "boom" in message and "inner" in message  # the stack names the frame


@pytest.mark.parametrize("body", ["return 10n;", "const o = {}; o.o = o; return o;"])
def test_non_serializable_return(ex: QuickJSExecutor, body: str) -> None:
    kind, _ = _error(ex.execute_contract(f"export function f() {{ {body} }}", "f"))
    assert kind == "ResultNotSerializable"


def test_gas_exhausted_reports_gas(ex: QuickJSExecutor) -> None:
    small = QuickJSExecutor(gas="5T")
    result = small.execute_contract("export function f() { for (;;) {} }", "f")
    kind, _ = _error(result)
    assert kind == "GasExceeded"
    assert result.gas_burnt == 5 * 10**12


def test_memory_cap() -> None:
    capped = QuickJSExecutor(limits=Limits(memory_bytes=32 * 1024 * 1024))
    code = "export function f() { const a = []; for (;;) a.push(new Uint8Array(1 << 20)); }"
    kind, _ = _error(capped.execute_contract(code, "f"))
    assert kind == "MemoryLimitExceeded"


class _NoTime(Limits):
    """A deadline that has already passed: the safety net must stop the guest at once."""

    def epoch_ticks(self) -> int:
        return 0


def test_wall_clock_cap() -> None:
    hurried = QuickJSExecutor(limits=_NoTime())
    kind, _ = _error(hurried.execute_contract("export function f() { for (;;) {} }", "f"))
    assert kind == "WallClockTimeExceeded"


@pytest.mark.parametrize("body, kind", [
    ("near.storageWrite('k'.repeat(3000), 'v');", "KeyLengthExceeded"),
    ("near.storageWrite('k', 'v'.repeat(4194305));", "ValueLengthExceeded"),
    ("for (let i = 0; i < 101; i++) near.log('x');", "NumberOfLogsExceeded"),
    ("near.log('x'.repeat(20000));", "TotalLogLengthExceeded"),
])
def test_host_limits(ex: QuickJSExecutor, body: str, kind: str) -> None:
    assert _error(ex.execute_contract(f"export function f() {{ {body} }}", "f"))[0] == kind


def test_view_cannot_write(ex: QuickJSExecutor) -> None:
    result = ex.execute_contract(COUNTER, "increment", is_view=True)
    assert _error(result)[0] == "ProhibitedInView"
    assert result.state_changes == {}
    view = ex.execute_contract(COUNTER, "get_count", state={"count": "5"}, is_view=True)
    assert view.result == 5


def test_bad_input(ex: QuickJSExecutor) -> None:
    with pytest.raises(UserError, match="not valid JSON"):
        ex.execute_contract(COUNTER, "increment", "{oops")
    with pytest.raises(UserError, match="JSON object"):
        ex.execute_contract(COUNTER, "increment", "[]")
    with pytest.raises(UserError, match="invalid signer id"):
        ex.execute_contract(COUNTER, "increment", signer_id="A")
    with pytest.raises(UserError, match="str or bytes"):
        ex.execute_contract(COUNTER, "increment", state={"k": 3})
    with pytest.raises(UserError, match="gas"):
        QuickJSExecutor(gas="1000T")
