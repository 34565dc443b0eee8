"""Snapshots (Wizer's method): the binary rewriter, build() on small modules, cross-process
reproducibility, and the real QuickJS guest giving the same call results from a snapshot."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import wasmtime
from hypothesis import given
from hypothesis import strategies as st

from outlayer import errors
from outlayer.guest_os import session as _session
from outlayer.guest_os.dispatch import define_syscalls
from outlayer.guest_os.session import host_error
from outlayer.guest_os.wasi import define_wasi
from outlayer.host import engine as _engine
from outlayer.host import snapshot as sn
from outlayer.host import wasm_binary as wb
from outlayer.host.fastcall import Fuel, context_ptr
from outlayer.host.memory import GuestMemory
from outlayer.js.runner import _classify_trap
from outlayer.vm.context import VMContext
from outlayer.vm.logic import VMLogic
from outlayer.vm.outcome import VMOutcome
from outlayer.vm.params import DEFAULT_PARAMS

from .conftest import DictStorage

BOOT_FUEL = 2_000_000_000  # enough to boot QuickJS unmetered, as the snapshot did

COUNTER = (b"export function increment() { const c = parseInt(near.storageRead('count') || '0'); "
           b"near.storageWrite('count', String(c + 1)); near.log('n=' + (c + 1)); return c + 1; }")

# --------------------------------------------------------------------- binary format


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_unsigned_leb128_roundtrip(value: int) -> None:
    enc = wb.u(value)
    assert wb.read_u(enc, 0) == (value, len(enc))


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_signed_leb128_roundtrip(value: int) -> None:
    enc = wb.s(value)
    assert wb.read_s(enc, 0) == (value, len(enc))


def test_padded_leb128_sizes_survive_roundtrip() -> None:
    # a producer may pad a section size to 5 bytes; an untouched section keeps it
    payload = wb.vec([wb.name("memory") + bytes([wb.MEMORY_KIND]) + wb.u(0)])
    padded = bytes([0x80 | len(payload), 0x80, 0x80, 0x80, 0x00])
    wasm = wb.MAGIC + wb.VERSION + b"\x05\x03\x01\x00\x01" + b"\x07" + padded + payload
    assert wb.parse(wasm).encode() == wasm
    wasmtime.Module(_engine.engine(), wasm)  # and it is a valid module


@pytest.fixture(scope="module")
def guest_wasm() -> bytes:
    from outlayer.host.guest_build import guest_wasm_path

    return guest_wasm_path().read_bytes()


def test_guest_wasm_parse_write_is_identical(guest_wasm: bytes) -> None:
    mod = wb.parse(guest_wasm)
    assert mod.encode() == guest_wasm
    assert {e.name for e in wb.exports(mod)} >= {"memory", "_initialize", "ol_boot", "ol_call"}
    # re-encoding every decoded section gives the same bytes too (minimal LEBs from zig)
    assert wb.encode_exports(wb.exports(mod)) == mod.find(wb.EXPORT).payload  # type: ignore[union-attr]
    assert wb.encode_globals(wb.globals_(mod)) == mod.find(wb.GLOBAL).payload  # type: ignore[union-attr]
    assert wb.encode_data(wb.data_segments(mod)) == mod.find(wb.DATA).payload  # type: ignore[union-attr]


# ------------------------------------------------------------------ build() on WAT

INIT_WAT = """
(module
  (import "env" "base" (global $base i32))
  (memory (export "memory") 1 100)
  (global $sp (mut i32) (i32.const 1024))
  (global $count (mut i64) (i64.const 0))
  (global $x (mut f64) (f64.const 0))
  (global $nan (mut f32) (f32.const 0))
  (global $k i32 (i32.const 5))
  (global $starts (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (func $start (global.set $starts (i32.add (global.get $starts) (i32.const 1))))
  (start $start)
  (func (export "_initialize")
    (global.set $sp (i32.add (global.get $base) (i32.const 4089)))
    (global.set $count (i64.const -5))
    (global.set $x (f64.const 2.5))
    (global.set $nan (f32.reinterpret_i32 (i32.const 0x7fa00001)))
    (drop (memory.grow (i32.const 2)))
    (i32.store (i32.const 70000) (i32.const 0xdeadbeef))
    (i32.store (i32.const 190000) (i32.const 7))
    (i32.store8 (i32.const 16) (i32.const 72)))
  (func (export "sp") (result i32) (global.get $sp))
  (func (export "count") (result i64) (global.get $count))
  (func (export "x") (result f64) (global.get $x))
  (func (export "nan_bits") (result i32) (i32.reinterpret_f32 (global.get $nan)))
  (func (export "starts") (result i32) (global.get $starts))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
"""


def _instantiate(wasm: bytes) -> tuple[wasmtime.Store, wasmtime.Instance]:
    eng = _engine.engine()
    store = wasmtime.Store(eng)
    store.set_fuel(10**9)
    store.set_epoch_deadline(10**6)
    linker = wasmtime.Linker(eng)
    base = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), False), 7)
    linker.define(store, "env", "base", base)
    return store, linker.instantiate(store, wasmtime.Module(eng, wasm))


def _snapshot_of_wat(wat: str) -> tuple[bytes, bytes, sn.Snapshot]:
    wasm = bytes(wasmtime.wat2wasm(wat))
    store, inst = _instantiate(sn.instrument(wasm))
    inst.exports(store)["_initialize"](store)  # type: ignore[operator]
    snap = sn.capture(store, inst)
    return wasm, sn.build(wasm, snap), snap


def test_build_bakes_globals_and_memory_and_drops_initialize() -> None:
    wasm, built, snap = _snapshot_of_wat(INIT_WAT)
    assert snap.memory_pages == 3
    assert [index for index, _, _ in snap.globals] == [1, 2, 3, 4, 6]  # $base is imported
    store, inst = _instantiate(built)
    ex = inst.exports(store)
    assert "_initialize" not in ex and not any(n.startswith("__ol_") for n in ex)
    assert ex["sp"](store) == 4096  # type: ignore[operator]
    assert ex["count"](store) == -5  # type: ignore[operator]
    assert ex["x"](store) == 2.5  # type: ignore[operator]
    assert ex["nan_bits"](store) == 0x7FA00001  # type: ignore[operator]  # NaN payload kept
    assert ex["starts"](store) == 1  # type: ignore[operator]  # the start function ran once
    assert ex["load"](store, 70000) == 0xDEADBEEF - 2**32  # type: ignore[operator]
    assert ex["load"](store, 190000) == 7  # type: ignore[operator]
    mem = ex["memory"]
    assert isinstance(mem, wasmtime.Memory)
    assert mem.size(store) == 3
    assert sn.memory_bytes(store, mem)[16:21] == b"Hello"


def test_build_changes_only_what_it_must() -> None:
    wasm, built, _ = _snapshot_of_wat(INIT_WAT)
    old, new = wb.parse(wasm), wb.parse(built)
    changed = {wb.MEMORY, wb.GLOBAL, wb.EXPORT, wb.START, wb.DATA}
    assert [s for s in old.sections if s.id not in changed] == \
        [s for s in new.sections if s.id not in changed]
    assert new.find(wb.START) is None
    assert wb.globals_(new)[4] == wb.globals_(old)[4]  # the immutable global is untouched
    assert wb.memories(new)[0].maximum == 100


def test_datacount_stays_valid_for_data_drop() -> None:
    wat = """
    (module
      (memory (export "memory") 1)
      (data (i32.const 0) "a") (data (i32.const 100) "b") (data (i32.const 200) "c")
      (func (export "_initialize") (i32.store8 (i32.const 50) (i32.const 9)))
      (func (export "drop2") (data.drop 2)))
    """
    wasm, built, snap = _snapshot_of_wat(wat)
    assert len(snap.segments) == 1  # 0..200 is one run under the merge gap
    mod = wb.parse(built)
    assert wb.read_u(mod.find(wb.DATACOUNT).payload, 0)[0] == 3  # type: ignore[union-attr]
    assert len(wb.data_segments(mod)) == 3
    store, inst = _instantiate(built)
    inst.exports(store)["drop2"](store)  # type: ignore[operator]


def test_passive_segments_and_imported_memory_are_refused() -> None:
    passive = bytes(wasmtime.wat2wasm(
        '(module (memory (export "memory") 1) (data "x") (func (export "f") (memory.init 0 '
        '(i32.const 0) (i32.const 0) (i32.const 1))))'))
    snap = sn.Snapshot(1, ((0, b"x"),), ())
    with pytest.raises(sn.SnapshotError, match="passive"):
        sn.build(passive, snap)
    imported = bytes(wasmtime.wat2wasm('(module (import "env" "m" (memory 1)))'))
    with pytest.raises(sn.SnapshotError, match="imported memory"):
        sn.build(imported, snap)


def test_instrument_refuses_reserved_names_and_adds_an_export_section() -> None:
    bare = bytes(wasmtime.wat2wasm("(module (memory 1) (global (mut i32) (i32.const 3)))"))
    names = {e.name for e in wb.exports(wb.parse(sn.instrument(bare)))}
    assert names == {"__ol_g0", sn.MEMORY_EXPORT}
    clash = bytes(wasmtime.wat2wasm('(module (memory (export "__ol_mem") 1))'))
    with pytest.raises(sn.SnapshotError, match="reserved"):
        sn.instrument(clash)


def test_nonzero_regions_merge_small_gaps_and_stay_copy_on_write() -> None:
    mem = bytearray(1 << 20)
    mem[5] = 1
    mem[9000:9002] = b"\x02\x03"
    mem[12000] = 4  # 2998 bytes after the previous run: merged
    mem[40000 + 4095] = 5
    assert [(o, len(d)) for o, d in sn.nonzero_regions(bytes(mem))] == \
        [(5, 1), (9000, 3001), (44095, 1)]
    assert [(o, len(d)) for o, d in sn.nonzero_regions(bytes(mem), max_segments=2)] == \
        [(5, 11996), (44095, 1)]  # the smaller gap (8994 bytes) merged
    # sparse over 40 MiB: wasmtime would copy it per instance, so gaps are filled until dense
    sparse = bytearray(40 << 20)
    for off in range(0, 40 << 20, 1 << 20):
        sparse[off] = 1
    regions = sn.nonzero_regions(bytes(sparse))
    assert sn.cow_eligible(regions)
    assert not sn.cow_eligible(sn.nonzero_regions(bytes(sparse), dense_size=1 << 40))


def test_cache_writes_once_and_reads_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTLAYER_CACHE", str(tmp_path))
    wasm = bytes(wasmtime.wat2wasm(INIT_WAT))
    made = []

    def make(instrumented: bytes) -> sn.Snapshot:
        store, inst = _instantiate(instrumented)
        inst.exports(store)["_initialize"](store)  # type: ignore[operator]
        made.append(1)
        return sn.capture(store, inst)

    steps = (("call", b"_initialize"),)
    first = sn.cached(wasm, steps, make)
    assert sn.cached(wasm, steps, make) == first and made == [1]
    assert [p.name for p in (tmp_path / "snapshots").iterdir()] == \
        [f"{sn.cache_key(wasm, steps)}.wasm"]
    assert sn.cache_key(wasm, steps) != sn.cache_key(wasm, (("call", b"other"),))


# ------------------------------------------------------------- the real QuickJS guest


@pytest.fixture(scope="module")
def boot_wasm(guest_wasm: bytes) -> bytes:
    return sn.boot_snapshot(guest_wasm)


@pytest.fixture(scope="module")
def counter_wasm(boot_wasm: bytes) -> bytes:
    return sn.contract_snapshot(boot_wasm, COUNTER)


_REPRO_SCRIPT = """
import hashlib, sys
from outlayer.host import snapshot as sn
base = open(sys.argv[1], "rb").read()
boot = sn.boot_snapshot(base, use_cache=False)
contract = sn.contract_snapshot(boot, sys.argv[2].encode(), use_cache=False)
print(hashlib.sha256(boot).hexdigest(), hashlib.sha256(contract).hexdigest())
"""


def test_snapshots_are_reproducible_across_processes(
        guest_wasm: bytes, boot_wasm: bytes, counter_wasm: bytes, tmp_path: Path) -> None:
    path = tmp_path / "guest.wasm"
    path.write_bytes(guest_wasm)
    procs = [
        subprocess.Popen([sys.executable, "-c", _REPRO_SCRIPT, str(path), COUNTER.decode()],
                         stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONHASHSEED": seed})
        for seed in ("1", "2")
    ]
    outs = [p.communicate(timeout=300)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    expected = [hashlib.sha256(boot_wasm).hexdigest(), hashlib.sha256(counter_wasm).hexdigest()]
    assert outs == [expected, expected]


_pres: dict[bytes, wasmtime.InstancePre] = {}


def _pre(wasm: bytes) -> wasmtime.InstancePre:
    key = hashlib.sha256(wasm).digest()
    if key not in _pres:
        linker = wasmtime.Linker(_engine.engine())
        define_wasi(linker)
        define_syscalls(linker)
        _pres[key] = linker.instantiate_pre(_engine.load_module(wasm))
    return _pres[key]


def _run(wasm: bytes, stage: str, code: bytes, method: str, storage: dict[bytes, bytes]
         ) -> VMOutcome:
    """The runner's call path (runner.run/_execute) starting at `stage`: "plain" runs
    _initialize + ol_boot + ol_load + ol_call, "boot" ol_load + ol_call, "loaded" ol_call."""
    ctx = VMContext(current_account_id="contract.test", signer_account_id="alice.test",
                    predecessor_account_id="alice.test", input=b"{}")
    limits = _engine.Limits()
    memory = GuestMemory()
    logic = VMLogic(ctx, DictStorage(storage), memory, DEFAULT_PARAMS)
    sess = _session.Session(logic=logic, memory=memory, clock_ns=ctx.block_timestamp,
                            random_seed=ctx.random_seed)
    store = wasmtime.Store(_engine.engine())
    store.set_limits(memory_size=limits.memory_bytes)
    store.set_epoch_deadline(limits.epoch_ticks())
    store.set_fuel(BOOT_FUEL)
    error: errors.HostError | None = None
    _session.enter(sess)
    try:
        ex = _pre(wasm).instantiate(store).exports(store)
        mem = ex["memory"]
        assert isinstance(mem, wasmtime.Memory)
        memory.bind(store, mem)
        fuel = Fuel(context_ptr(store))
        sess.fuel = fuel
        if stage == "plain":
            ex["_initialize"](store)  # type: ignore[operator]
            assert ex["ol_boot"](store) == 0  # type: ignore[operator]
        logic.pay_contract_loading(len(code))
        fuel.set_fuel(logic.gas.remaining_fuel())
        sess.metered = True
        alloc = ex["ol_alloc"]
        rc = 0
        if stage != "loaded":
            src = alloc(store, len(code) + 1)  # type: ignore[operator]
            memory.write(src, code)
            rc = ex["ol_load"](store, src, len(code), 1)  # type: ignore[operator]
        if rc == 0:
            name = method.encode()
            name_ptr = alloc(store, len(name) + 1)  # type: ignore[operator]
            memory.write(name_ptr, name)
            rc = ex["ol_call"](store, name_ptr, len(name))  # type: ignore[operator]
        logic.gas.sync_fuel(fuel.get_fuel())
        if rc:
            error = errors.InternalError(f"bridge code {rc}")
    except wasmtime.Trap as trap:
        error = _classify_trap(trap, sess)
    except wasmtime.WasmtimeError as exc:
        error = host_error(sess.error) if sess.error else errors.InternalError(str(exc))
    except errors.HostError as exc:
        error = exc
    finally:
        _session.leave()
    return logic.outcome(error)


def _observable(out: VMOutcome) -> tuple[object, ...]:
    return (out.error, out.return_data, out.logs, dict(out.storage_changes),
            out.access_log, out.storage_usage)


def test_boot_snapshot_has_no_initialize_and_cannot_boot_twice(boot_wasm: bytes) -> None:
    names = [e.name for e in wb.exports(wb.parse(boot_wasm))]
    assert "_initialize" not in names and "ol_boot" in names
    out = _run(boot_wasm, "boot", b"", "x", {})  # an empty module with no method x
    assert out.error is not None and out.error.kind == "MethodNotFound"


def test_boot_snapshot_call_equals_the_plain_guest(guest_wasm: bytes, boot_wasm: bytes) -> None:
    plain = _run(guest_wasm, "plain", COUNTER, "increment", {b"count": b"41"})
    boot = _run(boot_wasm, "boot", COUNTER, "increment", {b"count": b"41"})
    assert plain.error is None and plain.return_data == b"42" and plain.logs == ("n=42",)
    assert dict(plain.storage_changes) == {b"count": b"42"}
    assert _observable(boot) == _observable(plain)
    # booting was never metered: the same wasm runs from the same state, gas is identical
    assert (boot.burnt_gas, boot.used_gas, dict(boot.profile)) == \
        (plain.burnt_gas, plain.used_gas, dict(plain.profile))


def test_contract_snapshot_call_saves_exactly_the_load_work(
        guest_wasm: bytes, counter_wasm: bytes) -> None:
    plain = _run(guest_wasm, "plain", COUNTER, "increment", {b"count": b"41"})
    loaded = _run(counter_wasm, "loaded", COUNTER, "increment", {b"count": b"41"})
    assert _observable(loaded) == _observable(plain)
    p, q = dict(plain.profile), dict(loaded.profile)
    op = "wasm_regular_op"
    assert {k: v for k, v in p.items() if k != op} == {k: v for k, v in q.items() if k != op}
    assert q[op][0] < p[op][0]  # ol_alloc + ol_load of the source ran at deploy instead
    assert plain.burnt_gas - loaded.burnt_gas == p[op][1] - q[op][1]
    # a contract snapshot is deterministic call after call
    again = _run(counter_wasm, "loaded", COUNTER, "increment", {b"count": b"41"})
    assert (again.burnt_gas, _observable(again)) == (loaded.burnt_gas, _observable(loaded))


def test_contract_snapshot_keeps_module_state_between_load_and_call(boot_wasm: bytes) -> None:
    src = b"const table = [3, 1, 2].sort(); let calls = 0; export function f() { calls++; return [table, calls]; }"
    snap = sn.contract_snapshot(boot_wasm, src)
    for _ in range(2):  # each call starts from the snapshot: module state never accumulates
        out = _run(snap, "loaded", src, "f", {})
        assert out.error is None and out.return_data == b"[[1,2,3],1]"


@pytest.mark.parametrize("src, reason", [
    (b"near.log('hi'); export function f() {}", "NEAR syscall"),
    (b"const v = near.storageRead('k'); export function f() {}", "NEAR syscall"),
    (b"const t = Date.now(); export function f() {}", "clock"),
    (b"throw new Error('boom');", "boom"),
    (b"export function f( {", "SyntaxError"),
    (b"for (;;) {}", "fuel"),
])
def test_contract_snapshot_refuses_call_dependent_top_level(
        boot_wasm: bytes, src: bytes, reason: str) -> None:
    with pytest.raises(sn.SnapshotError, match=reason):
        sn.contract_snapshot(boot_wasm, src, use_cache=False)
