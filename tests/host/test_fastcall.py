"""The raw host-call path: correct values, and wasmtime-py's own API left intact."""

from __future__ import annotations

import ctypes

import wasmtime

from outlayer.host import fastcall
from outlayer.host.engine import engine


def test_wasmtime_py_memory_api_still_works_after_fastcall_import() -> None:
    store = wasmtime.Store(engine())
    mem = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(1, None)))
    mem.write(store, b"abc", 8)
    assert mem.read(store, 8, 11) == b"abc"


def test_unchecked_callback_reads_args_and_returns_result() -> None:
    wat = """(module (import "m" "f" (func $f (param i64 i32) (result i64)))
      (func (export "run") (param i64 i32) (result i64) (call $f (local.get 0) (local.get 1))))"""
    linker = wasmtime.Linker(engine())
    read = fastcall.arg_reader(["i64", "i32"])

    def cb(env: int | None, caller: int | None, args: int, nargs: int) -> int:
        a, b = read(args)
        ctypes.c_uint64.from_address(args).value = a * 1000 + b
        return 0

    fastcall.define(linker, "m", "f", ["i64", "i32"], ["i64"], cb)
    store = wasmtime.Store(engine())
    store.set_fuel(10**6)
    store.set_epoch_deadline(10**6)
    inst = linker.instantiate(store, wasmtime.Module(engine(), wasmtime.wat2wasm(wat)))
    assert inst.exports(store)["run"](store, 2**40, 7) == 2**40 * 1000 + 7
    fuel = fastcall.Fuel(fastcall.context_ptr(store))
    fuel.set_fuel(1234)
    assert fuel.get_fuel() == 1234 == store.get_fuel()
