"""Runs one method of a JavaScript contract through the real layers, start to end.

L1 wasmtime store (fuel, memory cap, epoch deadline) -> L2 WASI + NEAR syscalls ->
L3 QuickJS guest bridge -> the contract's ES module. One fresh instance per call: nothing
but committed storage survives between calls.
"""

from __future__ import annotations

import threading
from pathlib import Path

import wasmtime

from outlayer import errors
from outlayer.guest_os import session as _session
from outlayer.guest_os.dispatch import define_syscalls
from outlayer.guest_os.wasi import GuestExit, define_wasi
from outlayer.host import engine as _engine
from outlayer.host.fastcall import Fuel, context_ptr
from outlayer.host.memory import GuestMemory
from outlayer.vm.context import VMContext
from outlayer.vm.interfaces import StorageView
from outlayer.vm.logic import VMLogic
from outlayer.vm.outcome import VMOutcome
from outlayer.vm.params import DEFAULT_PARAMS, Params

#: fuel for booting QuickJS (runtime, context, `near` global): infrastructure, not charged
BOOT_FUEL = 2_000_000_000
_TRAP_CODES = wasmtime.TrapCode


class QuickJSRuntime:
    """The QuickJS guest, compiled once per process and linked to OutLayer's host functions."""

    def __init__(self, wasm_path: Path | None = None) -> None:
        if wasm_path is None:
            from outlayer.host.guest_build import guest_wasm_path

            wasm_path = guest_wasm_path()
        self.engine = _engine.engine()
        self.module = _engine.load_module(wasm_path)
        linker = wasmtime.Linker(self.engine)
        define_wasi(linker)
        define_syscalls(linker)
        self._pre = linker.instantiate_pre(self.module)

    def run(self, code: bytes, method: str, context: VMContext, storage: StorageView,
            params: Params = DEFAULT_PARAMS, limits: _engine.Limits | None = None
            ) -> VMOutcome:
        """Run `method` of the contract `code`; every failure is folded into the outcome."""
        limits = limits or _engine.Limits()
        memory = GuestMemory()
        logic = VMLogic(context, storage, memory, params)
        sess = _session.Session(logic=logic, memory=memory, clock_ns=context.block_timestamp,
                                random_seed=context.random_seed)
        store = wasmtime.Store(self.engine)
        store.set_limits(memory_size=limits.memory_bytes)
        store.set_epoch_deadline(limits.epoch_ticks())
        store.set_fuel(BOOT_FUEL)
        error: errors.HostError | None = None
        _session.enter(sess)
        try:
            error = self._execute(store, sess, code, method)
        finally:
            _session.leave()
        return logic.outcome(error)

    def _execute(self, store: wasmtime.Store, sess: _session.Session, code: bytes,
                 method: str) -> errors.HostError | None:
        logic = sess.logic
        try:
            instance = self._pre.instantiate(store)
            ex = instance.exports(store)
            mem = ex["memory"]
            assert isinstance(mem, wasmtime.Memory)
            sess.memory.bind(store, mem)
            fuel = Fuel(context_ptr(store))
            sess.fuel = fuel
            ex["_initialize"](store)  # type: ignore[operator]
            if ex["ol_boot"](store) != 0:  # type: ignore[operator]
                return errors.InternalError("the QuickJS guest failed to boot")
            # Metering starts here: the contract's own work and NEAR's loading cost.
            logic.pay_contract_loading(len(code))
            fuel.set_fuel(logic.gas.remaining_fuel())
            sess.metered = True
            alloc = ex["ol_alloc"]
            src = alloc(store, len(code) + 1)  # type: ignore[operator]
            sess.memory.write(src, code)
            name = method.encode()
            if ex["ol_load"](store, src, len(code)) == 0:  # type: ignore[operator]
                name_ptr = alloc(store, len(name) + 1)  # type: ignore[operator]
                sess.memory.write(name_ptr, name)
                rc = ex["ol_call"](store, name_ptr, len(name))  # type: ignore[operator]
            else:
                rc = -1
            logic.gas.sync_fuel(fuel.get_fuel())
            if rc != 0:
                return errors.InternalError(f"the guest bridge failed (code {rc}) silently")
            return None
        except wasmtime.Trap as trap:
            return _classify_trap(trap, sess)
        except wasmtime.WasmtimeError as exc:
            if sess.error is not None:
                return _as_host_error(sess.error)
            return errors.InternalError(f"wasmtime: {exc}")
        except errors.HostError as exc:
            return exc


def _as_host_error(exc: BaseException) -> errors.HostError:
    if isinstance(exc, errors.HostError):
        return exc
    if isinstance(exc, GuestExit):
        return errors.InternalError(str(exc))
    return errors.InternalError(f"host function failed: {type(exc).__name__}: {exc}")


def _classify_trap(trap: wasmtime.Trap, sess: _session.Session) -> errors.HostError:
    if sess.error is not None:
        return _as_host_error(sess.error)
    code = trap.trap_code
    if code == _TRAP_CODES.OUT_OF_FUEL:
        if not sess.metered:
            return errors.InternalError("the QuickJS guest ran out of boot fuel")
        try:
            sess.logic.on_out_of_fuel()
        except errors.HostError as exc:
            return exc
        return errors.InternalError("out of fuel without a gas error")
    if code == _TRAP_CODES.INTERRUPT:
        return errors.WallClockTimeExceeded(
            "the call ran past the wall-clock safety net (gas should stop it first)")
    if code == _TRAP_CODES.STACK_OVERFLOW:
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
