"""Pre-initialized guest modules (Wizer's method): run the init work once, bake the result in.

Booting QuickJS (and later SES lockdown, and evaluating a contract module) is pure setup
that every call would otherwise repeat. Instead:

1. `instrument(wasm)` exports every defined global (`__ol_g<index>`) and the memory
   (`__ol_mem`), so the host can read state the module keeps private (`__stack_pointer`);
2. the host instantiates that, runs the init exports, and `capture()`s the memory's
   non-zero regions plus the mutable globals' values;
3. `build(wasm, snap)` rewrites the *original* module: memory minimum = the captured size,
   data section = the captured regions, mutable globals initialized to their captured
   values, `_initialize` and the start function gone (libc constructors must not run
   twice). Everything else is kept byte for byte.

wasmtime turns constant-offset data segments of a defined memory into one copy-on-write
image at compile time (when the image is dense, or under its always-allowed size), so a
new instance maps the snapshot instead of copying it.

Snapshots are cached on disk under `cache_root()/snapshots/<key>.wasm`, the key being a
sha256 over the base module and every init step with its inputs; the bytes are a pure
function of those (deterministic WASI clock and entropy during init), so two processes
produce identical files.

Not captured (Wizer has the same limits): table contents changed by the init code (C
guests never do: no reference types), host-side state of the init session (none is
kept: NEAR syscalls are refused during init), and passive data segments (refused).
A contract's deploy-time evaluation also may not read the clock or entropy: a per-call
load would see other values, so such a module is not snapshotted (`contract_snapshot`).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi

from outlayer.guest_os import session as _session
from outlayer.guest_os import wasi as _wasi
from outlayer.guest_os.dispatch import define_syscalls
from outlayer.guest_os.wasi import define_wasi
from outlayer.host import engine as _engine
from outlayer.host import fastcall
from outlayer.host import wasm_binary as wb
from outlayer.host.memory import GuestMemory

#: bump when the snapshot layout or the init recipe changes (part of every cache key)
SNAPSHOT_FORMAT = 1
GLOBAL_EXPORT_PREFIX = "__ol_g"
MEMORY_EXPORT = "__ol_mem"
#: exports a snapshot never keeps: re-running libc constructors would corrupt the heap
REMOVED_EXPORTS = ("_initialize",)
#: zero gaps shorter than this stay inside a segment (a segment header costs ~8 bytes,
#: but many tiny segments slow compilation and parsing)
MERGE_GAP = 4096
#: most data segments one snapshot may have; past it the smallest gaps are merged
MAX_SEGMENTS = 1024
#: wasmtime's default `memory_guaranteed_dense_image_size` (not settable from wasmtime-py):
#: a sparser image whose span reaches it is copied into each instance instead of mapped
COW_DENSE_IMAGE_SIZE = 16 << 20
_SCAN_PAGE = 4096
_WASM_PAGE = 65536


class SnapshotError(Exception):
    """The module cannot be snapshotted, or its init work failed."""


@dataclass(frozen=True)
class Snapshot:
    """The state of one instance: memory size, non-zero memory regions, mutable globals."""

    memory_pages: int
    segments: tuple[tuple[int, bytes], ...]  # (offset, bytes), ascending, non-overlapping
    globals: tuple[tuple[int, int, int], ...]  # (global index, value type byte, value bits)

    @property
    def data_bytes(self) -> int:
        return sum(len(data) for _, data in self.segments)


# ------------------------------------------------------------------------ instrument


def instrument(wasm: bytes) -> bytes:
    """`wasm` plus exports of every defined global and of memory 0, for `capture()`."""
    mod = wb.parse(wasm)
    n_imported = wb.imported_count(mod, wb.GLOBAL_KIND)
    exports = wb.exports(mod)
    taken = {e.name for e in exports}
    extra = [wb.Export(f"{GLOBAL_EXPORT_PREFIX}{n_imported + i}", wb.GLOBAL_KIND, n_imported + i)
             for i in range(len(wb.globals_(mod)))]
    if wb.memories(mod):
        extra.append(wb.Export(MEMORY_EXPORT, wb.MEMORY_KIND, 0))
    clash = taken & {e.name for e in extra}
    if clash:
        raise SnapshotError(f"module already exports reserved names {sorted(clash)}")
    mod.replace(wb.EXPORT, wb.encode_exports(exports + extra))
    return mod.encode()


# --------------------------------------------------------------------------- capture


_I32, _I64, _F32, _F64 = (int(k.value) for k in (
    ffi.WASMTIME_I32, ffi.WASMTIME_I64, ffi.WASMTIME_F32, ffi.WASMTIME_F64))


def _global_bits(store: wasmtime.Store, glob: wasmtime.Global) -> tuple[int, int] | None:
    """(value type byte, raw bits) of a numeric global; None for reference types."""
    raw = ffi.wasmtime_val_t()
    ffi.wasmtime_global_get(store._context(), ctypes.byref(glob._global), ctypes.byref(raw))
    addr = ctypes.addressof(raw.of)
    kind = raw.kind  # a plain int (the ffi constants are c_ubyte objects)
    if kind == _I32:
        return wb.I32, ctypes.c_uint32.from_address(addr).value
    if kind == _I64:
        return wb.I64, ctypes.c_uint64.from_address(addr).value
    if kind == _F32:
        return wb.F32, ctypes.c_uint32.from_address(addr).value
    if kind == _F64:
        return wb.F64, ctypes.c_uint64.from_address(addr).value
    return None


def nonzero_regions(mem: bytes, merge_gap: int = MERGE_GAP, max_segments: int = MAX_SEGMENTS,
                    dense_size: int = COW_DENSE_IMAGE_SIZE) -> list[tuple[int, bytes]]:
    """The non-zero byte ranges of `mem` as (offset, bytes), for data segments.

    Gaps under `merge_gap` are merged; past `max_segments`, or when wasmtime would find
    the image too sparse for copy-on-write (span >= `dense_size` and under half of it in
    segments), the smallest gaps are merged too, so a snapshot always maps copy-on-write.
    """
    zero = bytes(_SCAN_PAGE)
    runs: list[list[int]] = []  # [start, end) of non-zero 4 KiB pages, trimmed below
    view = memoryview(mem)
    for pos in range(0, len(mem), _SCAN_PAGE):
        chunk = view[pos:pos + _SCAN_PAGE]
        if chunk == zero[:len(chunk)]:
            continue
        if runs and runs[-1][1] == pos:
            runs[-1][1] = pos + len(chunk)
        else:
            runs.append([pos, pos + len(chunk)])
    for run in runs:  # trim each run to its first and last non-zero byte
        chunk = mem[run[0]:run[1]]
        run[0] += len(chunk) - len(chunk.lstrip(b"\0"))
        run[1] -= len(chunk) - len(chunk.rstrip(b"\0"))
    merged: list[list[int]] = []
    for run in runs:
        if merged and run[0] - merged[-1][1] < merge_gap:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    if merged:
        # gaps by size, smallest first (ties: lower address first); merging a prefix of
        # this order meets both the count and the density condition with the least zeros
        order = sorted(range(1, len(merged)), key=lambda i: (merged[i][0] - merged[i - 1][1], i))
        n_merge = max(0, len(merged) - max_segments)
        span = merged[-1][1] - merged[0][0]
        data = sum(end - start for start, end in merged)
        for i in order[:n_merge]:
            data += merged[i][0] - merged[i - 1][1]
        while span >= dense_size and 2 * data <= span and n_merge < len(order):
            i = order[n_merge]
            data += merged[i][0] - merged[i - 1][1]
            n_merge += 1
        joined = set(order[:n_merge])
        out = [merged[0]]
        for i in range(1, len(merged)):
            if i in joined:
                out[-1][1] = merged[i][1]
            else:
                out.append(merged[i])
        merged = out
    return [(start, bytes(mem[start:end])) for start, end in merged]


def cow_eligible(segments: Sequence[tuple[int, bytes]],
                 dense_size: int = COW_DENSE_IMAGE_SIZE) -> bool:
    """Whether wasmtime builds a copy-on-write image from these segments (its rule: the
    image span is under `memory_guaranteed_dense_image_size`, or under twice the data)."""
    if not segments:
        return True
    span = segments[-1][0] + len(segments[-1][1]) - segments[0][0]
    return span < dense_size or span < 2 * sum(len(d) for _, d in segments)


def memory_bytes(store: wasmtime.Store, memory: wasmtime.Memory) -> bytes:
    """A copy of the whole memory, read through the C API (one memcpy)."""
    ctx = fastcall.context_ptr(store)
    addr = ctypes.addressof(memory._memory)
    size = int(fastcall.memory_data_size(ctx, addr))
    return fastcall.string_at(fastcall.memory_data(ctx, addr), size) if size else b""


def capture(store: wasmtime.Store, instance: wasmtime.Instance) -> Snapshot:
    """Memory 0 and every mutable global of an instance of an `instrument()`ed module."""
    exports = instance.exports(store)
    globals_: list[tuple[int, int, int]] = []
    memory_pages = 0
    segments: tuple[tuple[int, bytes], ...] = ()
    for name_, item in exports.items():
        if name_.startswith(GLOBAL_EXPORT_PREFIX) and isinstance(item, wasmtime.Global):
            if not item.type(store).mutable:
                continue
            bits = _global_bits(store, item)
            if bits is None:
                raise SnapshotError(f"mutable reference-typed global {name_} cannot be captured")
            globals_.append((int(name_[len(GLOBAL_EXPORT_PREFIX):]), *bits))
        elif name_ == MEMORY_EXPORT and isinstance(item, wasmtime.Memory):
            mem = memory_bytes(store, item)
            memory_pages = len(mem) // _WASM_PAGE
            segments = tuple(nonzero_regions(mem))
    if MEMORY_EXPORT not in exports:
        raise SnapshotError("capture() needs an instance of an instrument()ed module")
    return Snapshot(memory_pages, segments, tuple(sorted(globals_)))


# ------------------------------------------------------------------------------ build


def build(wasm: bytes, snap: Snapshot, remove_exports: Sequence[str] = REMOVED_EXPORTS
          ) -> bytes:
    """The pre-initialized module: `wasm` (not instrumented) with `snap` baked in."""
    mod = wb.parse(wasm)
    if wb.imported_count(mod, wb.MEMORY_KIND):
        raise SnapshotError("an imported memory cannot carry a snapshot")
    mems = wb.memories(mod)
    if len(mems) != 1:
        raise SnapshotError(f"snapshots need exactly one defined memory, not {len(mems)}")
    mem = mems[0]
    if mem.flags & 0x06:
        raise SnapshotError("shared and 64-bit memories are not supported")
    if mem.page_size_log2 is not None and mem.page_size_log2 != 16:
        raise SnapshotError("custom page sizes are not supported")
    if snap.memory_pages < mem.minimum:
        raise SnapshotError("the snapshot memory is smaller than the module's minimum")
    if mem.maximum is not None and snap.memory_pages > mem.maximum:
        raise SnapshotError("the snapshot memory exceeds the module's maximum")
    mod.replace(wb.MEMORY, wb.encode_memories(
        [wb.Limits(mem.flags, snap.memory_pages, mem.maximum, mem.page_size_log2)]))

    n_imported = wb.imported_count(mod, wb.GLOBAL_KIND)
    globals_ = wb.globals_(mod)
    for index, valtype, bits in snap.globals:
        i = index - n_imported
        if not 0 <= i < len(globals_):
            raise SnapshotError(f"snapshot global {index} is not a defined global")
        g = globals_[i]
        if not g.mutable or g.valtype != bytes([valtype]):
            raise SnapshotError(f"snapshot global {index} does not match the module")
        globals_[i] = wb.Global(g.valtype, True, wb.const_expr(valtype, bits))
    if globals_:
        mod.replace(wb.GLOBAL, wb.encode_globals(globals_))

    dropped = set(remove_exports)
    exports = [e for e in wb.exports(mod) if e.name not in dropped]
    mod.replace(wb.EXPORT, wb.encode_exports(exports))
    mod.replace(wb.START, None)  # it ran before the capture

    old = wb.data_segments(mod)
    if any(seg.memory != 0 or seg.const_offset() is None for seg in old):
        raise SnapshotError("only active segments at constant offsets of memory 0 are "
                            "supported (passive segments would change meaning)")
    new = [wb.DataSegment(0, wb.i32_offset(off), data) for off, data in snap.segments]
    datacount = mod.find(wb.DATACOUNT)
    if datacount is not None:
        # code may name data indices (data.drop/memory.init): keep every old index valid;
        # an empty active segment behaves exactly like a dropped one
        new += [wb.DataSegment(0, wb.i32_offset(0), b"")] * (len(old) - len(new))
        mod.replace(wb.DATACOUNT, wb.u(len(new)))
    mod.replace(wb.DATA, wb.encode_data(new) if new else None)
    return mod.encode()


# ------------------------------------------------------------------------------ cache


def cache_dir() -> Path:
    return _engine.cache_root() / "snapshots"


def cache_key(base: bytes, steps: Sequence[tuple[str, bytes]]) -> str:
    """sha256 over the snapshot format, the base module and each (step, input) in order."""
    h = hashlib.sha256()
    h.update(f"outlayer-snapshot {SNAPSHOT_FORMAT}\n".encode())
    h.update(hashlib.sha256(base).digest())
    for step, data in steps:
        raw = step.encode()
        h.update(len(raw).to_bytes(8, "little") + raw)
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def cached(base: bytes, steps: Sequence[tuple[str, bytes]],
           make: Callable[[bytes], Snapshot], *, use_cache: bool = True) -> bytes:
    """The snapshot module for (base, steps), from disk or made now and written atomically.

    `make(instrumented)` instantiates `instrument(base)`, runs the steps and captures.
    """
    path = cache_dir() / f"{cache_key(base, steps)}.wasm"
    if use_cache:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
    out = build(base, make(instrument(base)))
    if not use_cache:
        return out
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(out)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; it is a shared cache
        os.replace(tmp, path)  # readers see the old state or the whole file, never a part
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


# ------------------------------------------------------- the QuickJS guest's snapshots

#: what the guest sees while a snapshot is made: QuickJS seeds Math.random and its hash
#: seed from the clock at context creation, so these are baked into every snapshot
INIT_CLOCK_NS = 0
INIT_RANDOM_SEED = bytes(32)
#: fuel for one init step (booting ~0.02 G; SES lockdown ~0.4 G)
INIT_FUEL = 4_000_000_000
BOOT_STEPS: tuple[tuple[str, bytes], ...] = (
    ("env", repr((INIT_CLOCK_NS, INIT_RANDOM_SEED, _wasi.ARGS, _wasi.ENV)).encode()),
    ("call", b"_initialize"),
    ("call", b"ol_boot"),
)


class _InitLogic:
    """The VMLogic stand-in while a snapshot is made: a contract's module top level may not
    reach NEAR (its answers depend on the call), and a bridge error becomes the reason."""

    def __init__(self) -> None:
        self.memory: Any = None

    def outlayer_guest_error(self, kind: int, msg_len: int, msg_ptr: int) -> None:
        message = self.memory.read(msg_ptr, msg_len).decode("utf-8", "replace")
        raise SnapshotError(f"the guest reported an error (kind {kind}): {message}")

    def log_text(self, text: str) -> None:
        raise SnapshotError(f"output during snapshot init: {text!r}")

    def __getattr__(self, name: str) -> Any:
        raise SnapshotError(f"NEAR syscall {name} during snapshot init (the module's top "
                            "level must not depend on the call)")


class _StrictSession(_session.Session):
    """An init session whose clock and entropy are refused: evaluating a contract module
    at deploy must not bake in a time or random value that a per-call load would see
    differently (its top level then keeps running per call)."""

    @property  # type: ignore[override]
    def clock_ns(self) -> int:
        raise SnapshotError("the module's top level reads the clock")

    @clock_ns.setter
    def clock_ns(self, value: int) -> None:
        pass

    def random_bytes(self, n: int) -> bytes:
        raise SnapshotError("the module's top level reads random bytes")


_linkers: dict[int, wasmtime.Linker] = {}


def _guest_linker() -> wasmtime.Linker:
    eng = _engine.engine()
    linker = _linkers.get(id(eng))
    if linker is None:
        linker = wasmtime.Linker(eng)
        define_wasi(linker)
        define_syscalls(linker)
        _linkers[id(eng)] = linker
    return linker


def run_init(module: wasmtime.Module,
             steps: Callable[[wasmtime.Store, Any, Callable[[bytes], int]], None],
             *, strict: bool = False,
             capture_with: Callable[[wasmtime.Store, wasmtime.Instance], Any] | None = None
             ) -> Any:
    """Instantiate an instrumented guest module in a deterministic init session, run
    `steps(store, exports, put_bytes)` and capture the instance.

    strict: refuse clock and entropy reads (see `_StrictSession`); capture_with: what to
    take from the instance instead of a `Snapshot` (e.g. a per-contract delta)."""
    store = wasmtime.Store(_engine.engine())
    limits = _engine.Limits()
    store.set_limits(memory_size=limits.memory_bytes)
    store.set_epoch_deadline(limits.epoch_ticks())
    store.set_fuel(INIT_FUEL)
    memory = GuestMemory()
    logic = _InitLogic()
    logic.memory = memory
    session_cls = _StrictSession if strict else _session.Session
    sess = session_cls(logic=logic, memory=memory, clock_ns=INIT_CLOCK_NS,
                       random_seed=INIT_RANDOM_SEED)
    prev = getattr(_session._current, "session", None)
    _session.enter(sess)
    try:
        instance = _guest_linker().instantiate(store, module)
        ex = instance.exports(store)
        mem = ex["memory"]
        assert isinstance(mem, wasmtime.Memory)
        memory.bind(store, mem)
        sess.fuel = fastcall.Fuel(fastcall.context_ptr(store))

        def put(data: bytes) -> int:
            ptr = ex["ol_alloc"](store, len(data) + 1)
            memory.write(ptr, data)
            return int(ptr)

        steps(store, ex, put)
        return (capture_with or capture)(store, instance)
    except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
        if isinstance(sess.error, SnapshotError):
            raise sess.error from exc
        if isinstance(exc, wasmtime.Trap) and exc.trap_code == wasmtime.TrapCode.OUT_OF_FUEL:
            raise SnapshotError(f"the init work ran past {INIT_FUEL} fuel") from exc
        reason = sess.error or str(exc).splitlines()[-1]
        raise SnapshotError(f"snapshot init trapped: {reason}") from exc
    finally:
        if prev is not None:
            _session.enter(prev)
        else:
            _session.leave()


def _call(store: wasmtime.Store, ex: Any, name: str, *args: int) -> None:
    rc = ex[name](store, *args)
    if rc:
        raise SnapshotError(f"{name} returned {rc}")


def boot_steps(ses: bytes | None) -> tuple[tuple[str, bytes], ...]:
    return BOOT_STEPS + ((("call", b"ol_lockdown"), ("ses", ses)) if ses is not None else ())


def boot_snapshot(guest_wasm: bytes, *, ses: bytes | None = None, use_cache: bool = True
                  ) -> bytes:
    """The guest with `_initialize` and `ol_boot` done, and SES's `lockdown()` when `ses`
    (its UMD source) is given: a call starts at `ol_load`."""

    def make(instrumented: bytes) -> Snapshot:
        module = wasmtime.Module(_engine.engine(), instrumented)  # one-off: not cached

        def steps(store: wasmtime.Store, ex: Any, put: Callable[[bytes], int]) -> None:
            ex["_initialize"](store)
            _call(store, ex, "ol_boot")
            if ses is not None:
                src = put(ses)
                _call(store, ex, "ol_lockdown", src, len(ses))
                ex["ol_free"](store, src)

        return run_init(module, steps)

    return cached(guest_wasm, boot_steps(ses), make, use_cache=use_cache)


def contract_snapshot(boot_wasm: bytes, code: bytes, *, flags: int = 1,
                      use_cache: bool = True) -> bytes:
    """A boot snapshot with the contract module `code` evaluated: a call runs `ol_call`.

    Raises SnapshotError when the module cannot be evaluated without the call (its top
    level touches NEAR, prints, reads the clock or entropy, throws, or runs past
    INIT_FUEL); the caller then keeps loading it per call.
    """

    def make(instrumented: bytes) -> Snapshot:
        module = _engine.load_module(instrumented)  # shared by every contract: cached

        def steps(store: wasmtime.Store, ex: Any, put: Callable[[bytes], int]) -> None:
            src = put(code)
            _call(store, ex, "ol_load", src, len(code), flags)
            ex["ol_free"](store, src)

        return run_init(module, steps, strict=True)

    return cached(boot_wasm, contract_steps(code, flags), make, use_cache=use_cache)


def contract_steps(code: bytes, flags: int = 1) -> tuple[tuple[str, bytes], ...]:
    return (("ol_load", code), ("flags", str(flags).encode()))
