"""NEAR syscalls 400-499 as wasm imports, generated from the one table in outlayer.syscalls.

Each syscall becomes an unchecked host function (the fast path) that unpacks its raw
u64 arguments, brings the gas counter up to date with the fuel the guest burnt since the
last host call, runs the VMLogic method of the same name, and hands the remaining gas
back to wasmtime as fuel. Any exception becomes a trap; the real error waits in the
session for the runner.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import wasmtime

from outlayer.guest_os import session as _session
from outlayer.host import fastcall
from outlayer.syscalls import ENV, GUEST, SYSCALL_MODULE, Syscall

_U64 = ctypes.c_uint64
_U32 = ctypes.c_uint32


def _make_callback(sc: Syscall) -> Callable[[int | None, int | None, int, int], int]:
    read_args = fastcall.arg_reader(sc.wasm_type()[0])
    name = sc.name
    result = sc.result
    current = _session._current
    u64_at = _U64.from_address
    u32_at = _U32.from_address

    def callback(env: int | None, caller: int | None, args: int, nargs: int) -> int:
        s = current.session
        try:
            logic = s.logic
            if s.metered:
                fuel = s.fuel
                gas = logic.gas
                gas.sync_fuel(fuel.get_fuel())
                if logic.trace is None:
                    value = getattr(logic, name)(*read_args(args))
                else:
                    value = _traced(logic, name, read_args(args))
                fuel.set_fuel(gas.remaining_fuel())
            else:
                value = getattr(logic, name)(*read_args(args))
            if result == "u64":
                u64_at(args).value = value
            elif result == "u32":
                u32_at(args).value = value
            return 0
        except BaseException as exc:  # noqa: BLE001 - every failure must become a trap
            s.error = exc
            return fastcall.new_trap(f"outlayer: {type(exc).__name__}")

    return callback


def _traced(logic: Any, name: str, argv: tuple[int, ...]) -> Any:
    """Run one host call and append (name, args, gas burnt before, after) to logic.trace,
    also when it fails (the failing call is the interesting one)."""
    before = logic.gas.burnt
    try:
        return getattr(logic, name)(*argv)
    finally:
        logic.trace.append((name, argv, before, logic.gas.burnt))


def define_syscalls(linker: wasmtime.Linker, *, module: str = SYSCALL_MODULE,
                    by_number: bool = True) -> None:
    """Define every syscall of the table on `linker`.

    by_number=True: the QuickJS guest namespace (import name = number, `GUEST` calls);
    by_number=False with module="env": NEAR's own names (`ENV`), for direct wasm contracts.
    """
    for sc in (GUEST if by_number else tuple(ENV.values())):
        params, results = sc.wasm_type()
        fastcall.define(linker, module, str(sc.nr) if by_number else sc.name,
                        params, results, _make_callback(sc))
