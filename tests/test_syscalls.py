"""The syscall table is the one source: the C header and the dispatcher agree with it."""

from __future__ import annotations

import re

import wasmtime

from outlayer import syscalls
from outlayer.guest_os.dispatch import define_syscalls
from outlayer.host.engine import engine


def test_table_rules_hold() -> None:
    syscalls.check_table()
    assert {s.nr for s in syscalls.SYSCALLS} <= set(range(400, 500))


def test_header_declares_every_syscall_with_its_number() -> None:
    header = syscalls.c_header()
    for sc in syscalls.GUEST:
        assert f"#define OL_SYS_{sc.name.upper()} {sc.nr}\n" in header
        assert f'import_name("{sc.nr}")' in header
        proto = re.search(rf"\b(\w+) ol_{sc.name}\((.*)\);", header)
        assert proto is not None, sc.name
        params = [] if proto.group(2) == "void" else [
            p.split()[-1] for p in proto.group(2).split(", ")]
        assert params == list(sc.params)


def test_dispatcher_defines_every_syscall_with_the_table_signature() -> None:
    linker = wasmtime.Linker(engine())
    define_syscalls(linker)
    results = {"u64": " (result i64)", "u32": " (result i32)", None: ""}
    imports = "\n".join(
        f'(import "{syscalls.SYSCALL_MODULE}" "{sc.nr}" '
        f'(func (param {" ".join(["i64"] * len(sc.params))}){results[sc.result]}))'
        for sc in syscalls.GUEST
    )
    module = wasmtime.Module(engine(), wasmtime.wat2wasm(f"(module {imports})"))
    store = wasmtime.Store(engine())
    linker.instantiate(store, module)  # fails if any number or signature is missing


def test_direct_wasm_names_resolve_too() -> None:
    linker = wasmtime.Linker(engine())
    define_syscalls(linker, module="env", by_number=False)
    wat = '(module (import "env" "storage_read" (func (param i64 i64 i64) (result i64))))'
    linker.instantiate(wasmtime.Store(engine()), wasmtime.Module(engine(), wasmtime.wat2wasm(wat)))


def test_env_has_every_near_import_with_its_signature() -> None:
    linker = wasmtime.Linker(engine())
    define_syscalls(linker, module="env", by_number=False)
    imports = []
    for sc in syscalls.ENV.values():
        params, results = sc.wasm_type()
        result = f" (result {results[0]})" if results else ""
        imports.append(f'(import "env" "{sc.name}" (func (param {" ".join(params)}){result}))')
    module = wasmtime.Module(engine(), wasmtime.wat2wasm(f"(module {' '.join(imports)})"))
    linker.instantiate(wasmtime.Store(engine()), module)
    assert "abort" in syscalls.ENV and "outlayer_guest_error" not in syscalls.ENV
    assert syscalls.ENV["abort"].wasm_type() == (("i32",) * 4, ())


def test_guest_header_leaves_out_env_only_functions() -> None:
    header = syscalls.c_header()
    for sc in syscalls.SYSCALLS:
        assert (f"ol_{sc.name}(" in header) == sc.guest, sc.name
