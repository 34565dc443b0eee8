"""Deploy-time preparation: validation, import rules, NEAR's limits, the memory rewrite."""

from __future__ import annotations

import dataclasses

import pytest
import wasmtime

from outlayer.chain.simulator import ContractCompileError, ContractSimulator
from outlayer.direct.prepare import prepare
from outlayer.errors import CompileError
from outlayer.host import wasm_binary as wb
from outlayer.vm.params import DEFAULT_PARAMS


def wat(text: str) -> bytes:
    return wasmtime.wat2wasm(text)


def test_own_memory_becomes_near_sized_import_and_export_keeps_working() -> None:
    code = wat('(module (memory (export "memory") 3 5) (func (export "f")))')
    mod = wb.parse(prepare(code))
    assert wb.memories(mod) == []
    imports = wb.imports(mod)
    assert [(i.module, i.field, i.kind) for i in imports] == [("env", "memory", wb.MEMORY_KIND)]
    limits = wb._read_limits(imports[0].raw_desc, 0)[0]
    assert (limits.minimum, limits.maximum) == (DEFAULT_PARAMS.initial_memory_pages,
                                                 DEFAULT_PARAMS.max_memory_pages) == (1024, 2048)
    assert ("memory", wb.MEMORY_KIND, 0) in [(e.name, e.kind, e.index) for e in wb.exports(mod)]


def test_memory_import_is_appended_after_the_function_imports() -> None:
    code = wat('(module (import "env" "panic" (func)) (memory 1) (func (export "f") call 0))')
    imports = wb.imports(wb.parse(prepare(code)))
    assert [(i.module, i.field) for i in imports] == [("env", "panic"), ("env", "memory")]


def test_a_module_without_memory_gets_one() -> None:
    imports = wb.imports(wb.parse(prepare(wat("(module)"))))
    assert [(i.field, i.kind) for i in imports] == [("memory", wb.MEMORY_KIND)]


@pytest.mark.parametrize(("source", "message"), [
    ('(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))))',
     "import wasi_snapshot_preview1.fd_write: a NEAR contract may import only from module 'env'"),
    ('(module (import "env" "memory" (memory 1 2048)))',
     "import env.memory: imports a memory; a NEAR contract may import only functions"),
    ('(module (import "env" "table" (table 1 funcref)))', "import env.table: imports a table"),
    ('(module (import "env" "g" (global i32)))', "import env.g: imports a global"),
    ('(module (import "env" "launch_missiles" (func)))',
     "import env.launch_missiles: NEAR has no host function named 'launch_missiles'"),
    ('(module (import "env" "storage_read" (func (param i32 i32 i32) (result i32))))',
     "import env.storage_read: signature (i32, i32, i32) -> (i32) does not match NEAR's "
     "(i64, i64, i64) -> (i64)"),
    ('(module (import "env" "abort" (func (param i64 i64 i64 i64))))',
     "import env.abort: signature (i64, i64, i64, i64) -> () does not match NEAR's "
     "(i32, i32, i32, i32) -> ()"),
    ('(module (import "env" "outlayer_guest_error" (func (param i64 i64 i64))))',
     "NEAR has no host function named 'outlayer_guest_error'"),
    ("(module (table 1 funcref) (table 1 funcref))", "defines 2 tables, over NEAR's limit of 1"),
])
def test_refused_imports_and_limits_name_the_problem(source: str, message: str) -> None:
    with pytest.raises(CompileError) as info:
        prepare(wat(source))
    assert message in info.value.message


def test_invalid_wasm_is_refused_with_the_validators_reason() -> None:
    with pytest.raises(CompileError, match="invalid wasm module"):
        prepare(b"\0asm\x01\0\0\0\x01\x05\x01\x60\x00")  # truncated type section
    with pytest.raises(CompileError, match="invalid wasm module: .*type mismatch"):
        prepare(wat("(module (func (result i32) i64.const 1))"), )


def test_function_and_size_limits() -> None:
    small = dataclasses.replace(DEFAULT_PARAMS, max_functions_number_per_contract=2,
                                max_contract_size=200)
    three = wat('(module (import "env" "panic" (func)) (func) (func))')
    with pytest.raises(CompileError, match="3 functions, over NEAR's limit of 2"):
        prepare(three, small)
    prepare(wat("(module (func) (func))"), small)
    with pytest.raises(CompileError, match="28 bytes, over NEAR's max_contract_size of 10"):
        prepare(wat("(module (func) (func))"), dataclasses.replace(small, max_contract_size=10))


def test_locals_limit() -> None:
    many = wat("(module (func (local " + "i64 " * 10 + ")))")
    assert wb.local_counts(wb.parse(many)) == [10]
    prepare(many)
    # 25 functions of 45,000 locals each (wasmtime caps one function at 50,000)
    body = wb.u(1) + wb.u(45_000) + bytes([wb.I32, 0x0B])
    huge = wb.Module([
        wb.Section(wb.TYPE, wb.vec([b"\x60\x00\x00"])),
        wb.Section(wb.FUNCTION, wb.vec([wb.u(0)] * 25)),
        wb.Section(wb.CODE, wb.vec([wb.u(len(body)) + body] * 25)),
    ]).encode()
    with pytest.raises(CompileError, match="1125000 locals, over NEAR's limit of 1000000"):
        prepare(huge)


@pytest.mark.parametrize("code", [
    b"\0asm\x01\0\0\0\xff",
    wasmtime.wat2wasm('(module (import "env" "nope" (func)))'),
    wasmtime.wat2wasm('(module (import "env" "memory" (memory 1)))'),
])
def test_deploy_refuses_bad_wasm_and_writes_nothing(code: bytes) -> None:
    for mode in ("direct", "quickjs"):  # wasm is detected by its magic bytes in every mode
        with ContractSimulator(mode, db_path=":memory:") as sim:
            with pytest.raises(ContractCompileError, match="does not compile"):
                sim.deploy("bad.test", code)
            assert sim.store.get_account("bad.test") is None
            assert sim.transactions() == []
