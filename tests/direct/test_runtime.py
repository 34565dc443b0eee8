"""The direct engine itself: its gas model, its memory, dispatch by code in every mode,
determinism and the chain's verify/replay with wasm contracts."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

from outlayer.chain.modes import CodeEngine, engine_for
from outlayer.chain.simulator import ContractSimulator
from outlayer.direct.runner import runtime
from outlayer.js.runner import runtime as quickjs_runtime
from outlayer.vm.context import VMContext
from outlayer.vm.params import DEFAULT_PARAMS as P

from .conftest import EXAMPLES, contract, h

CTX = VMContext(current_account_id="c.test", signer_account_id="a.test",
                predecessor_account_id="a.test", input=b"", prepaid_gas=300 * 10**12)


def run_wat(body: str, *, imports: str = "", memory: str = "") -> tuple[bytes, object]:
    code = wasmtime.wat2wasm(f'(module {imports} {memory} (func (export "f") {body}))')
    return code, runtime().run(code, "f", CTX, {})


def loading(code: bytes) -> int:
    return P.contract_loading_base + P.contract_loading_bytes * len(code)


@pytest.mark.parametrize(("body", "fuel"), [
    ("", 1),  # entering a function costs one unit
    ("i32.const 1 drop", 2),  # drop is free in wasmtime (one unit in NEAR)
    ("i32.const 1 i32.const 2 i32.add drop", 4),
    ("(local i32) i32.const 5 local.set 0 "
     "(block (loop local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0))", 28),
])
def test_gas_is_loading_plus_fuel_times_op_cost(body: str, fuel: int) -> None:
    code, outcome = run_wat(body)
    assert outcome.error is None  # type: ignore[attr-defined]
    assert outcome.burnt_gas == loading(code) + fuel * P.wasm_regular_op_cost  # type: ignore[attr-defined]
    assert outcome.profile["wasm_regular_op"] == (fuel, fuel * 822_756)  # type: ignore[attr-defined]


def test_host_calls_add_their_ext_costs() -> None:
    code, outcome = run_wat(  # data segments are not metered (NEAR does not charge them)
        "i64.const 5 i64.const 0 call 0",
        imports='(import "env" "value_return" (func (param i64 i64)))',
        memory='(memory 1) (data (i32.const 0) "hello")')
    assert outcome.return_data == b"hello"  # type: ignore[attr-defined]
    ext = P.base + P.read_memory_base + 5 * P.read_memory_byte
    assert outcome.burnt_gas == loading(code) + ext + 4 * P.wasm_regular_op_cost  # type: ignore[attr-defined]


def test_start_function_and_data_run_metered_in_the_call() -> None:
    wat = """(module (import "env" "log_utf8" (func $log (param i64 i64)))
      (memory 1) (data (i32.const 8) "started")
      (func $start i64.const 7 i64.const 8 call $log) (start $start)
      (func (export "f")))"""
    outcome = runtime().run(wasmtime.wat2wasm(wat), "f", CTX, {})
    assert outcome.error is None and outcome.logs == ("started",)


def test_empty_method_name_and_bad_signature() -> None:
    code = wasmtime.wat2wasm('(module (func (export "g") (param i32)))')
    assert runtime().run(code, "", CTX, {}).error.kind == "MethodEmptyName"  # type: ignore[union-attr]
    assert runtime().run(code, "g", CTX, {}).error.kind == "MethodInvalidSignature"  # type: ignore[union-attr]


def test_out_of_gas_during_loading() -> None:
    code = wasmtime.wat2wasm('(module (func (export "f")))')
    tight = VMContext(current_account_id="c.test", signer_account_id="a.test",
                      predecessor_account_id="a.test", input=b"", prepaid_gas=1000)
    outcome = runtime().run(code, "f", tight, {})
    assert outcome.error.kind == "GasExceeded" and outcome.burnt_gas == 1000  # type: ignore[union-attr]


def test_wasm_stack_overflow_is_a_trap() -> None:
    wat = '(module (func $r (export "f") call $r))'
    outcome = runtime().run(wasmtime.wat2wasm(wat), "f", CTX, {})
    assert outcome.error.kind == "WasmTrap"  # type: ignore[union-attr]
    assert outcome.error.message.startswith("StackOverflow")  # type: ignore[union-attr]


def test_code_picks_its_engine_in_every_mode(hostfns: bytes) -> None:
    for mode in ("quickjs", "direct"):
        engine = engine_for(mode)
        assert isinstance(engine, CodeEngine) and engine is engine_for(mode)
        with ContractSimulator(mode, db_path=":memory:") as sim:
            sim.deploy("w.test", hostfns)
            sim.deploy("js.test", EXAMPLES / "counter.js")
            assert sim.call("w.test", "return_register", h(b"7")).result == 7
            assert sim.call("js.test", "increment").result == 1
    assert engine_for("quickjs").engine_id == quickjs_runtime().engine_id  # type: ignore[attr-defined]
    assert engine_for("direct").engine_id not in (  # type: ignore[attr-defined]
        quickjs_runtime().engine_id, runtime().engine_id)


def test_same_calls_same_digests_and_verify_replays(tmp_path: Path, counter_wasm: bytes) -> None:
    def run(db: Path) -> list[object]:
        with ContractSimulator("direct", db_path=db) as sim:
            sim.deploy("c.test", counter_wasm)
            return [(r.digest, r.gas_burnt, r.result) for r in
                    (sim.call("c.test", "increment") for _ in range(3))]

    first, second = run(tmp_path / "a.db"), run(tmp_path / "b.db")
    assert first == second and [r[2] for r in first] == [1, 2, 3]  # type: ignore[index]
    with ContractSimulator("direct", db_path=tmp_path / "a.db") as sim:
        report = sim.verify()
        assert report.ok, report
        tx = sim.transactions("c.test")[-1]["tx_hash"]
        replay = sim.replay_tx(tx)
        assert replay.divergence is None
        (call,) = [run for r in replay.receipts for run in r.runs]
        assert [entry[0] for entry in call.trace or []][:3] == [
            "storage_read", "register_len", "read_register"]


def test_contract_built_with_a_start_and_no_memory_export() -> None:
    code = contract("no_memory_export.wat")
    outcome = runtime().run(code, "echo", CTX.__class__(**{**CTX.__dict__, "input": b"hey"}),
                            {})
    assert outcome.error is None and outcome.return_data == b"hey"


def test_rust_shaped_contract_keeps_its_memory_export_table_and_globals(
        sim: ContractSimulator) -> None:
    info = sim.deploy("rust.test", contract("rust_like.wat"))
    assert info["methods"] == ["greet"]
    result = sim.call("rust.test", "greet", '{"name":"near"}')
    assert result.ok, result.error
    assert result.return_data == b'hello {"name":"near"}'


def test_endless_start_function_runs_out_of_gas_and_bad_data_traps() -> None:
    endless = wasmtime.wat2wasm(
        '(module (func $s (loop br 0)) (start $s) (func (export "f")))')
    outcome = runtime().run(endless, "f", CTX, {})
    assert outcome.error.kind == "GasLimitExceeded"  # type: ignore[union-attr]
    assert outcome.burnt_gas == P.max_gas_burnt
    # a data segment past NEAR's initial 64 MiB: instantiation fails, cleanly
    beyond = wasmtime.wat2wasm(
        '(module (memory 1) (data (i32.const 67108864) "x") (func (export "f")))')
    outcome = runtime().run(beyond, "f", CTX, {})
    assert outcome.error.kind == "WasmTrap"  # type: ignore[union-attr]
    assert outcome.error.message.startswith("MemoryOutOfBounds")  # type: ignore[union-attr]
