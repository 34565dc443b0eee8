"""OutLayer's WASI: every answer comes from the call, none from the host."""

from __future__ import annotations

import struct

import wasmtime

from outlayer.guest_os import session as _session
from outlayer.guest_os.wasi import MODULE, define_wasi
from outlayer.host.engine import engine
from outlayer.host.memory import GuestMemory
from outlayer.vm.context import VMContext
from outlayer.vm.logic import VMLogic

from .conftest import DictStorage

WAT = f"""(module
  (import "{MODULE}" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "{MODULE}" "random_get" (func $random (param i32 i32) (result i32)))
  (import "{MODULE}" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "{MODULE}" "environ_sizes_get" (func $envsz (param i32 i32) (result i32)))
  (import "{MODULE}" "args_sizes_get" (func $argsz (param i32 i32) (result i32)))
  (import "{MODULE}" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "clock") (param i32) (result i32) (call $clock (local.get 0) (i64.const 1) (i32.const 0)))
  (func (export "random") (param i32) (result i32) (call $random (i32.const 64) (local.get 0)))
  (func (export "write") (param i32 i32) (result i32)
    (i32.store (i32.const 512) (local.get 0))
    (i32.store (i32.const 516) (local.get 1))
    (call $write (i32.const 1) (i32.const 512) (i32.const 1) (i32.const 520)))
  (func (export "envsz") (result i32) (call $envsz (i32.const 0) (i32.const 4)))
  (func (export "argsz") (result i32) (call $argsz (i32.const 0) (i32.const 4)))
  (func (export "prestat") (result i32) (call $prestat (i32.const 3) (i32.const 0)))
)"""


def _instance(timestamp: int = 1234567890123, seed: bytes = b"\x07" * 32):
    eng = engine()
    linker = wasmtime.Linker(eng)
    define_wasi(linker)
    store = wasmtime.Store(eng)
    store.set_fuel(10**9)
    store.set_epoch_deadline(10**6)
    inst = linker.instantiate(store, wasmtime.Module(eng, wasmtime.wat2wasm(WAT)))
    mem = GuestMemory()
    ctx = VMContext("c.test", "a.test", "a.test", block_timestamp=timestamp, random_seed=seed)
    logic = VMLogic(ctx, DictStorage(), mem)
    mem.bind(store, inst.exports(store)["memory"])
    sess = _session.Session(logic=logic, memory=mem, clock_ns=timestamp, random_seed=seed)
    return store, inst.exports(store), sess


def _call(store, ex, sess, name, *args):  # noqa: ANN001, ANN202
    _session.enter(sess)
    try:
        return ex[name](store, *args)
    finally:
        _session.leave()


def test_every_clock_reads_the_block_timestamp() -> None:
    store, ex, sess = _instance(timestamp=42_000_000_123)
    for clock_id in (0, 1, 2, 3):
        assert _call(store, ex, sess, "clock", clock_id) == 0
        assert struct.unpack("<Q", sess.memory.read(0, 8))[0] == 42_000_000_123
    assert _call(store, ex, sess, "clock", 9) == 28  # EINVAL


def test_random_is_derived_from_the_seed() -> None:
    def draw(seed: bytes) -> bytes:
        store, ex, sess = _instance(seed=seed)
        assert _call(store, ex, sess, "random", 48) == 0
        return sess.memory.read(64, 48)

    assert draw(b"\x01" * 32) == draw(b"\x01" * 32)
    assert draw(b"\x01" * 32) != draw(b"\x02" * 32)


def test_fixed_environment_and_no_filesystem() -> None:
    store, ex, sess = _instance()
    assert _call(store, ex, sess, "envsz") == 0
    assert sess.memory.read(0, 8) == bytes(8)  # no variables, no bytes
    assert _call(store, ex, sess, "argsz") == 0
    assert struct.unpack("<I", sess.memory.read(0, 4))[0] == 1  # argv = ["outlayer"]
    assert _call(store, ex, sess, "prestat") == 8  # EBADF: no preopened directories


def test_stdout_lines_become_logs() -> None:
    store, ex, sess = _instance()
    sess.memory.write(1024, b"hello\nwor")
    assert _call(store, ex, sess, "write", 1024, 9) == 0
    assert sess.logic.logs == ["hello"]
    sess.memory.write(1024, b"ld\n")
    _call(store, ex, sess, "write", 1024, 3)
    assert sess.logic.logs == ["hello", "world"]
    assert sess.logic.gas.burnt > 0
