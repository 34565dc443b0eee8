"""Runs one method of a JavaScript contract through the real layers, start to end.

L1 wasmtime store (fuel, memory cap, epoch deadline) -> L2 WASI + NEAR syscalls ->
L3 QuickJS guest bridge -> the contract. One fresh instance per call: nothing but
committed storage survives between calls.

Instances start from snapshots, never from scratch: the *boot snapshot* is the guest with
libc initialized, QuickJS booted and SES's `lockdown()` done (cached on disk by input
hash); a contract's own snapshot is a page delta over it, captured after evaluating the
contract once in its Compartment (`prepare`, at deploy or at first use), without what that
left dead (the source buffer, the stack's frames): every call writes each of its pages
back, ~2 us apiece, the main cost of a big contract's call. Contracts are ES
modules; at deploy they become compartment scripts (`outlayer.realm.transform`). A
contract whose top level needs the call (it touches NEAR, the clock or entropy) cannot be
pre-evaluated and is loaded per call, metered like the rest of the call.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import wasmtime

from outlayer import errors
from outlayer.guest_os import session as _session
from outlayer.guest_os.dispatch import define_syscalls
from outlayer.guest_os.wasi import define_wasi
from outlayer.host import engine as _engine
from outlayer.host import snapshot as _snapshot
from outlayer.host.delta import (
    Delta,
    apply_delta,
    capture_delta,
    decode_suspension,
    encode_suspension,
    mutable_globals,
)
from outlayer.host.fastcall import Fuel, LazyExports, call_i32, context_ptr
from outlayer.host.memory import GuestMemory
from outlayer.host.stack import check_thread_stack
from outlayer.realm.options import NATIVE_MODULE, RealmOptions
from outlayer.vm.context import VMContext
from outlayer.vm.interfaces import ChainView, StorageView
from outlayer.vm.logic import VMLogic
from outlayer.vm.outcome import VMOutcome
from outlayer.vm.params import DEFAULT_PARAMS, Params

_TRAP_CODES = wasmtime.TrapCode
#: what ol_call / ol_resume return when the call suspended at an await (guest/promises.h)
CALL_SUSPENDED = 100
#: the callback method of a suspended call (guest/promises.h OL_RESUME_METHOD)
RESUME_METHOD = "__ol_resume"
#: bump when how a delta is made changes (part of its cache key; the old ones stay valid)
DELTA_RECIPE = 2
#: contract deltas kept in memory (each ~76-184 KB for the examples)
DELTA_CACHE_SIZE = 256
SES_FILE = "dist/ses.umd.js"
#: the name the guest gives the contract's source in syntax errors and stacks
GUEST_FILE = "contract.js"
_LINE1 = re.compile(re.escape(GUEST_FILE) + r":1:(\d+)")
#: how the guest learns that name (quickjs-eval-source-url.patch reads the script's last
#: line); part of the script as stored, so the prelude evaluates it as it is, not a copy
SOURCE_URL = f"\n//# sourceURL={GUEST_FILE}\n".encode()


class QuickJSRuntime:
    """The QuickJS guest, booted once into a snapshot and linked to OutLayer's host functions."""

    def __init__(self, wasm_path: Path | None = None) -> None:
        if wasm_path is None:
            from outlayer.host.guest_build import guest_wasm_path

            wasm_path = guest_wasm_path()
        from outlayer.realm.npm import package_file

        self.engine = _engine.engine()
        # the unminified build: the minified one renames intrinsics (Error.name reads
        # "ResultError"), which users would see in every error message
        ses = package_file("ses", SES_FILE).read_bytes()
        self.boot_wasm = _snapshot.instrument(
            _snapshot.boot_snapshot(wasm_path.read_bytes(), ses=ses))
        self.module = _engine.load_module(self.boot_wasm)
        linker = wasmtime.Linker(self.engine)
        define_wasi(linker)
        define_syscalls(linker)
        self._pre = linker.instantiate_pre(self.module)
        self._boot_id = hashlib.sha256(self.boot_wasm).hexdigest()
        self._base: tuple[bytes, tuple[tuple[str, int, int], ...]] | None = None
        self._deltas: OrderedDict[str, Delta | None] = OrderedDict()
        # the transform's answer is a pure function of (code, realm): keep it in memory too
        self.compile = functools.lru_cache(maxsize=DELTA_CACHE_SIZE)(self.compile)  # type: ignore[method-assign]
        self._lock = threading.Lock()

    @property
    def engine_id(self) -> str:
        """sha256 of the boot snapshot (guest + SES boot): calls' behaviour and gas follow it."""
        return self._boot_id

    # ------------------------------------------------------------------ contract snapshots

    def _base_state(self) -> tuple[bytes, tuple[tuple[str, int, int], ...]]:
        if self._base is None:
            def take(store: wasmtime.Store, instance: wasmtime.Instance) -> Any:
                ex = instance.exports(store)
                mem = ex["memory"]
                assert isinstance(mem, wasmtime.Memory)
                return _snapshot.memory_bytes(store, mem), mutable_globals(store, ex)

            self._base = _snapshot.run_init(self.module, lambda *_: None, capture_with=take)
        return self._base

    def prepare(self, script: bytes, flags: int) -> Delta | None:
        """The contract's snapshot (its script evaluated once), or None when its top level
        depends on the call. Deterministic: a function of (boot snapshot, flags, script)."""
        key = _delta_key(self._boot_id, flags, script)
        with self._lock:
            if key in self._deltas:
                self._deltas.move_to_end(key)
                return self._deltas[key]
        path = _engine.cache_root() / "deltas" / f"{key}.bin"
        delta: Delta | None
        if path.exists():
            blob = path.read_bytes()
            delta = Delta.decode(blob) if blob else None
        else:
            delta = self._make_delta(script, flags)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{threading.get_ident()}")
            tmp.write_bytes(delta.encode() if delta is not None else b"")
            tmp.replace(path)
        with self._lock:
            self._deltas[key] = delta
            while len(self._deltas) > DELTA_CACHE_SIZE:
                self._deltas.popitem(last=False)
        return delta

    def _make_delta(self, code: bytes, flags: int) -> Delta | None:
        base_memory, base_globals = self._base_state()

        def steps(store: wasmtime.Store, ex: Any, put: Any) -> None:
            src = put(code)
            if ex["ol_load"](store, src, len(code), flags) != 0:
                raise _snapshot.SnapshotError("ol_load failed")
            # the guest copied the source: zeroed, its buffer's pages are the boot
            # snapshot's again and stay out of the delta (a page per 4 KB of source)
            memory = ex["memory"]
            assert isinstance(memory, wasmtime.Memory)
            memory.write(store, bytes(len(code) + 1), src)
            ex["ol_free"](store, src)
            ex["ol_seal"](store)  # what loading freed: zeros again, out of the delta too

        dead = _dead_stack(base_globals)

        def take(store: wasmtime.Store, instance: wasmtime.Instance) -> Delta:
            ex = instance.exports(store)
            mem = ex["memory"]
            assert isinstance(mem, wasmtime.Memory)
            # between exports no frame is live on the shadow stack: the boot snapshot's
            # bytes again, so the frames ol_load used stay out of the delta too
            mem.write(store, base_memory[:dead], 0)
            return capture_delta(store, ex, mem, base_memory, base_globals)

        try:
            result: Delta = _snapshot.run_init(self.module, steps, strict=True, capture_with=take)
        except _snapshot.SnapshotError:
            return None
        return result

    def compile(self, code: bytes, realm: RealmOptions | None = None) -> tuple[bytes, int, int]:
        """(compartment script, ol_load flags, line-1 column offset) of an ES module contract.

        Raises CompileError (with file:line:column) when the module is not a valid contract.
        """
        from outlayer.realm.transform import to_compartment_script

        compiled = to_compartment_script(code, filename=GUEST_FILE)
        return (compiled.script + SOURCE_URL, (realm or RealmOptions()).flags,
                compiled.line1_offset)

    # ----------------------------------------------------------------------------- calls

    def run(self, code: bytes, method: str, context: VMContext, storage: StorageView,
            params: Params = DEFAULT_PARAMS, limits: _engine.Limits | None = None,
            *, realm: RealmOptions | None = None, snapshot: bool = True,
            native_module: bool = False, chain: ChainView | None = None,
            trace: list[tuple[str, tuple[int, ...], int, int]] | None = None,
            resume: bytes | None = None) -> VMOutcome:
        """Run `method` of the contract `code`; every failure is folded into the outcome.

        realm: the contract's realm options. snapshot=False evaluates the module inside the
        call (metered) even when it could be pre-evaluated: for measuring and comparing.
        native_module=True runs `code` as a plain QuickJS module outside any compartment:
        only for OutLayer's own trusted tools (the deploy-time transform), never contracts.
        trace: a list that receives every host call with its gas (see VMLogic.trace).
        resume: a suspension (`VMOutcome.suspension` of an earlier part of the call): run
        `ol_resume` on that memory instead of `method` (the `__ol_resume` receipt of an
        await, see docs/EXECUTION_MODEL.md "Await").
        """
        check_thread_stack()  # before anything runs (raises, not an outcome)
        if native_module:
            script, flags, line1_offset = code, NATIVE_MODULE, 0
        else:
            try:
                script, flags, line1_offset = self.compile(code, realm)
            except errors.CompileError as exc:
                return _refused(context, params, exc)
        suspended: list[Delta] = []
        resumed: Delta | None = None
        if resume is not None:
            try:
                resumed = decode_suspension(resume, self._boot_id)
            except ValueError as exc:
                return _refused(context, params, errors.InternalError(str(exc)))
        delta = self.prepare(script, flags) if snapshot and resumed is None else None
        limits = limits or _engine.Limits()
        memory = GuestMemory()
        logic = VMLogic(context, storage, memory, params, chain, trace)
        sess = _session.Session(logic=logic, memory=memory, clock_ns=context.block_timestamp,
                                random_seed=context.random_seed)
        store = wasmtime.Store(self.engine)
        store.set_limits(memory_size=limits.memory_bytes)
        store.set_epoch_deadline(limits.epoch_ticks())
        error: errors.HostError | None = None
        _session.enter(sess)
        try:
            error = self._execute(store, sess, code, script, flags, method, delta, resumed,
                                  suspended)
        finally:
            _session.leave()
            memory.unbind()
            store.close()  # now, not when a stray reference dies: returns its pool slot
        if error is not None and line1_offset:
            error = _shift_line1(error, line1_offset)
        outcome = logic.outcome(error)
        if suspended and outcome.ok:
            outcome = dataclasses.replace(
                outcome, suspension=encode_suspension(self._boot_id, suspended[0]))
        return outcome

    def _execute(self, store: wasmtime.Store, sess: _session.Session, code: bytes,
                 script: bytes, flags: int, method: str, delta: Delta | None,
                 resume: Delta | None = None, suspended: list[Delta] | None = None
                 ) -> errors.HostError | None:
        logic = sess.logic
        try:
            instance = self._pre.instantiate(store)
            ex: Any = LazyExports(store, instance)
            mem = ex["memory"]
            assert isinstance(mem, wasmtime.Memory)
            if resume is not None:  # a suspended call: its memory replaces the contract's
                apply_delta(store, ex, mem, resume)
            elif delta is not None:
                apply_delta(store, ex, mem, delta)
            sess.memory.bind(store, mem)
            fuel = Fuel(context_ptr(store))
            sess.fuel = fuel
            # Metering starts here: NEAR's loading fee, then the contract's own work.
            logic.pay_contract_loading(len(code))
            fuel.set_fuel(logic.gas.remaining_fuel())
            sess.metered = True
            ctx = context_ptr(store)

            def call(name: str, *args: int) -> int:
                func = ex[name]
                assert isinstance(func, wasmtime.Func)
                return call_i32(ctx, func, *args)

            loaded = delta is not None or resume is not None
            if not loaded:
                src = call("ol_alloc", len(script) + 1)
                sess.memory.write(src, script)
                loaded = call("ol_load", src, len(script), flags) == 0
            if resume is not None:
                rc = call("ol_resume")
            elif loaded:
                name = method.encode()
                name_ptr = call("ol_alloc", len(name) + 1)
                sess.memory.write(name_ptr, name)
                rc = call("ol_call", name_ptr, len(name))
            else:
                rc = -1
            logic.gas.sync_fuel(fuel.get_fuel())
            if rc == CALL_SUSPENDED and suspended is not None:
                # not metered: the host keeps the instance for the `__ol_resume` receipt
                suspended.append(capture_delta(store, instance.exports(store), mem,
                                               *self._base_state()))
                return None
            if rc != 0:
                return errors.InternalError(f"the guest bridge failed (code {rc}) silently")
            return None
        except wasmtime.Trap as trap:
            return _classify_trap(trap, sess)
        except wasmtime.WasmtimeError as exc:
            if sess.error is not None:
                return _session.host_error(sess.error)
            return errors.InternalError(f"wasmtime: {exc}")
        except errors.HostError as exc:
            return exc


@functools.lru_cache(maxsize=DELTA_CACHE_SIZE)
def _delta_key(boot_id: str, flags: int, script: bytes) -> str:
    """A contract snapshot's cache key; remembered, as a call repeats its contract's script
    (the same bytes object: Python's hash of it is cached, sha256 is not)."""
    return hashlib.sha256(f"{boot_id}\0{DELTA_RECIPE}\0{flags}\0".encode()
                          + script).hexdigest()


def _dead_stack(base_globals: tuple[tuple[str, int, int], ...]) -> int:
    """How many bytes at the start of memory hold nothing live between two exports: the
    shadow stack, when it is where the guest build puts it (wasm-ld's stack-first layout:
    [0, SHADOW_STACK_SIZE), its pointer, global 0, at the top when no export runs); else 0.
    """
    from outlayer.host.guest_build import SHADOW_STACK_SIZE

    pointer = f"{_snapshot.GLOBAL_EXPORT_PREFIX}0"
    for name, _kind, bits in base_globals:
        if name == pointer and bits == SHADOW_STACK_SIZE:
            return SHADOW_STACK_SIZE
    return 0


def _refused(context: VMContext, params: Params, exc: errors.HostError) -> VMOutcome:
    """The outcome of a call whose contract never reached the guest (it does not compile)."""
    logic = VMLogic(context, {}, GuestMemory(), params)
    return logic.outcome(exc)


def _shift_line1(error: errors.HostError, offset: int) -> errors.HostError:
    """Line 1 of the compartment script starts with the wrapper's prefix: undo it."""
    message = _LINE1.sub(lambda m: f"{GUEST_FILE}:1:{max(1, int(m.group(1)) - offset)}",
                         error.message)
    if message == error.message:
        return error
    return type(error)(message)


def _classify_trap(trap: wasmtime.Trap, sess: _session.Session) -> errors.HostError:
    known = _session.metering_trap(trap, sess)
    if known is not None:
        return known
    if trap.trap_code == _TRAP_CODES.STACK_OVERFLOW:
        return errors.WasmTrap("wasm stack overflow (recursion too deep)")
    return errors.WasmTrap(f"guest trapped: {trap.message.splitlines()[0]}")


_runtime: QuickJSRuntime | None = None
_runtime_lock = threading.Lock()


def runtime() -> QuickJSRuntime:
    """The process-wide QuickJS runtime (builds or loads the guest on first use)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = QuickJSRuntime()
        return _runtime
