"""Runs one method of a NEAR wasm contract directly on wasmtime ("direct" mode).

The contract is prepared as nearcore prepares it (`outlayer.direct.prepare`), compiled once
on OutLayer's one engine (fuel, NaN canonicalization, fixed stack: `outlayer.host.engine`)
and instantiated per call against NEAR's `env` imports, which are the same unchecked host
functions and the same `VMLogic` the QuickJS guest reaches (`outlayer.guest_os.dispatch`).

Gas: NEAR's contract loading fee first, then every wasm instruction is fuel priced
wasm_regular_op_cost, and every host function charges its ext costs (docs/DIRECT_WASM.md).
Memory: a fresh host-made memory of NEAR's initial/max pages per call; nothing but
committed storage survives a call.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import wasmtime

from outlayer import errors
from outlayer.direct.prepare import MEMORY_IMPORT, prepare
from outlayer.guest_os import session as _session
from outlayer.guest_os.dispatch import define_syscalls
from outlayer.host import engine as _engine
from outlayer.host import wasm_binary as wb
from outlayer.host.fastcall import Fuel, LazyExports, call_i32, context_ptr
from outlayer.host.memory import GuestMemory
from outlayer.host.stack import check_thread_stack
from outlayer.syscalls import ENV
from outlayer.vm.context import VMContext
from outlayer.vm.interfaces import ChainView, StorageView
from outlayer.vm.logic import VMLogic
from outlayer.vm.outcome import VMOutcome
from outlayer.vm.params import DEFAULT_PARAMS, Params

#: bump when the direct engine's behaviour changes (it is part of `engine_id`)
DIRECT_ENGINE_VERSION = "outlayer-direct/1"
WASM_PAGE = 65_536
#: prepared contracts kept in memory
MODULE_CACHE_SIZE = 256
#: fuel for copying data segments into memory at instantiation: wasmtime meters that copy
#: (one unit per byte) but NEAR does not (its contract_loading_bytes fee covers the code)
INSTANTIATE_FUEL = 1 << 62

_T = wasmtime.TrapCode
#: wasmtime trap codes under NEAR's WasmTrap names
_TRAP_NAMES = {
    _T.UNREACHABLE: "Unreachable",
    _T.MEMORY_OUT_OF_BOUNDS: "MemoryOutOfBounds",
    _T.HEAP_MISALIGNED: "MisalignedAtomicAccess",
    _T.TABLE_OUT_OF_BOUNDS: "CallIndirectOOB",
    _T.INDIRECT_CALL_TO_NULL: "IndirectCallToNull",
    _T.BAD_SIGNATURE: "IncorrectCallIndirectSignature",
    _T.INTEGER_OVERFLOW: "IllegalArithmetic",
    _T.INTEGER_DIVISION_BY_ZERO: "IllegalArithmetic",
    _T.BAD_CONVERSION_TO_INTEGER: "IllegalArithmetic",
    _T.STACK_OVERFLOW: "StackOverflow",
}


class MethodEmptyName(errors.HostError):
    """A function call with an empty method name."""

    kind = "MethodEmptyName"


class MethodInvalidSignature(errors.HostError):
    """The exported function takes parameters or returns values (NEAR methods take none)."""

    kind = "MethodInvalidSignature"


@dataclass(frozen=True)
class Prepared:
    module: wasmtime.Module
    #: exported function name -> whether it is callable as a NEAR method (() -> ())
    functions: dict[str, bool]
    #: a start function runs at instantiation, so instantiation is metered like the call
    has_start: bool

    def methods(self) -> list[str]:
        return sorted(name for name, ok in self.functions.items() if ok)


class DirectRuntime:
    """NEAR wasm contracts on wasmtime against the `env` host functions."""

    def __init__(self) -> None:
        self.engine = _engine.engine()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Prepared | errors.CompileError] = OrderedDict()
        table = json.dumps([(s.name, s.wasm_type()) for s in ENV.values()])
        text = f"{DIRECT_ENGINE_VERSION}\0{_engine.WASMTIME_VERSION}\0" \
               f"{_engine.config_digest()}\0{table}"
        self._id = hashlib.sha256(text.encode()).hexdigest()

    @property
    def engine_id(self) -> str:
        """sha256 of what decides a direct call's behaviour and gas: this engine's version,
        wasmtime's version and config, and the `env` import table."""
        return self._id

    def _linker(self) -> wasmtime.Linker:
        """This thread's linker: the host functions once, `env.memory` redefined per call."""
        linker: wasmtime.Linker | None = getattr(self._local, "linker", None)
        if linker is None:
            linker = wasmtime.Linker(self.engine)
            linker.allow_shadowing = True
            define_syscalls(linker, module="env", by_number=False)
            self._local.linker = linker
        return linker

    def load(self, code: bytes, params: Params = DEFAULT_PARAMS) -> Prepared:
        """The prepared, compiled contract; raises CompileError naming what NEAR refuses."""
        key = hashlib.sha256(
            f"{params.max_contract_size}/{params.max_functions_number_per_contract}/"
            f"{params.initial_memory_pages}/{params.max_memory_pages}\0".encode() + code
        ).hexdigest()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if hit is None:
            try:
                prepared = prepare(code, params)
                module = _engine.load_module(prepared)
                hit = Prepared(module, {
                    e.name: not e.type.params and not e.type.results
                    for e in module.exports if isinstance(e.type, wasmtime.FuncType)},
                    wb.parse(prepared).find(wb.START) is not None)
            except errors.CompileError as exc:
                hit = exc
            with self._lock:
                self._cache[key] = hit
                while len(self._cache) > MODULE_CACHE_SIZE:
                    self._cache.popitem(last=False)
        if isinstance(hit, errors.CompileError):
            raise hit
        return hit

    def run(self, code: bytes, method: str, context: VMContext, storage: StorageView,
            params: Params = DEFAULT_PARAMS, limits: _engine.Limits | None = None,
            *, realm: Any = None, chain: ChainView | None = None,
            trace: list[tuple[str, tuple[int, ...], int, int]] | None = None,
            resume: bytes | None = None) -> VMOutcome:
        """Run `method`; every failure is folded into the outcome. `realm` is ignored (it
        configures JavaScript realms); `resume` is refused (wasm calls never suspend)."""
        check_thread_stack()  # before anything runs (raises, not an outcome)
        memory = GuestMemory()
        logic = VMLogic(context, storage, memory, params, chain, trace)
        if resume is not None:
            return logic.outcome(errors.InternalError(
                "a wasm contract has no suspended call to resume"))
        limits = limits or _engine.Limits()
        store = wasmtime.Store(self.engine)
        store.set_limits(memory_size=params.max_memory_pages * WASM_PAGE)
        store.set_epoch_deadline(limits.epoch_ticks())
        sess = _session.Session(logic=logic, memory=memory, clock_ns=context.block_timestamp,
                                random_seed=context.random_seed)
        _session.enter(sess)
        try:
            error = self._execute(store, sess, code, method, params)
        finally:
            _session.leave()
            memory.unbind()
            store.close()  # now, not when a stray reference dies: returns its pool slot
        return logic.outcome(error)

    def _execute(self, store: wasmtime.Store, sess: _session.Session, code: bytes,
                 method: str, params: Params) -> errors.HostError | None:
        logic: VMLogic = sess.logic
        try:
            # nearcore's order: the loading fee, the method name, then the code
            logic.pay_contract_loading(len(code))
            if not method:
                raise MethodEmptyName("the method name is empty")
            prepared = self.load(code, params)
            callable_ = prepared.functions.get(method)
            if callable_ is None:
                raise errors.MethodNotFound(json.dumps(prepared.methods()))
            if not callable_:
                raise MethodInvalidSignature(
                    f"{method!r} must take no parameters and return nothing")
            ctx = context_ptr(store)
            fuel = Fuel(ctx)
            mem = wasmtime.Memory(store, wasmtime.MemoryType(
                wasmtime.Limits(params.initial_memory_pages, params.max_memory_pages)))
            sess.memory.bind(store, mem)
            linker = self._linker()
            linker.define(store, *MEMORY_IMPORT, mem)

            def meter() -> None:
                sess.fuel = fuel
                fuel.set_fuel(logic.gas.remaining_fuel())
                sess.metered = True

            if prepared.has_start:  # the start function runs inside instantiate: metered
                meter()
                instance = linker.instantiate(store, prepared.module)
            else:  # instantiation only copies data segments: not metered (see above)
                fuel.set_fuel(INSTANTIATE_FUEL)
                instance = linker.instantiate(store, prepared.module)
                meter()
            func = LazyExports(store, instance)[method]
            assert isinstance(func, wasmtime.Func)
            call_i32(ctx, func)
            logic.gas.sync_fuel(fuel.get_fuel())
            return None
        except wasmtime.Trap as trap:
            if sess.error is None and sess.fuel is not None and trap.trap_code != _T.OUT_OF_FUEL:
                logic.gas.sync_fuel(sess.fuel.get_fuel())  # the instructions before the trap
            return _classify_trap(trap, sess)
        except wasmtime.WasmtimeError as exc:
            if sess.error is not None:
                return _session.host_error(sess.error)
            return errors.InternalError(f"wasmtime: {exc}")
        except errors.HostError as exc:
            return exc


def _classify_trap(trap: wasmtime.Trap, sess: _session.Session) -> errors.HostError:
    known = _session.metering_trap(trap, sess)
    if known is not None:
        return known
    code = trap.trap_code
    name = _TRAP_NAMES.get(code, "GenericTrap") if code is not None else "GenericTrap"
    lines = [line.strip() for line in trap.message.splitlines() if line.strip()]
    detail = next((line for line in lines if line.startswith("wasm trap:")),
                  lines[-1] if lines else "")
    return errors.WasmTrap(f"{name} ({detail})")


_runtime: DirectRuntime | None = None
_runtime_lock = threading.Lock()


def runtime() -> DirectRuntime:
    """The process-wide direct runtime."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = DirectRuntime()
        return _runtime
