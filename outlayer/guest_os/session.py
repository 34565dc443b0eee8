"""The per-call state the host functions of one running instance reach.

Host functions are defined once per linker, not per store, so they find their call
through a thread-local: a call runs start to end on one thread (wasmtime-py releases the
GIL while wasm runs, so other threads run other calls meanwhile).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

import wasmtime

from outlayer import errors
from outlayer.guest_os.wasi import GuestExit
from outlayer.host.fastcall import Fuel
from outlayer.host.memory import GuestMemory

_current = threading.local()


@dataclass
class Session:
    logic: Any  # outlayer.vm.logic.VMLogic
    memory: GuestMemory
    clock_ns: int  # the block timestamp: the only time a guest ever sees
    random_seed: bytes  # the WASI random stream is derived from it
    fuel: Fuel | None = None
    metered: bool = False  # NEAR syscalls sync fuel only once the contract runs
    error: BaseException | None = None
    stdout: bytearray = field(default_factory=bytearray)
    _random_counter: int = 0

    def random_bytes(self, n: int) -> bytes:
        """A deterministic stream: sha256(seed || counter) blocks, never host entropy."""
        out = bytearray()
        while len(out) < n:
            block = self.random_seed + self._random_counter.to_bytes(8, "little")
            out += hashlib.sha256(b"outlayer-wasi-random" + block).digest()
            self._random_counter += 1
        return bytes(out[:n])


def current() -> Session:
    return _current.session  # type: ignore[no-any-return]


def enter(session: Session) -> None:
    _current.session = session


def leave() -> None:
    _current.session = None


def host_error(exc: BaseException) -> errors.HostError:
    """What a host function raised, as the call's error (unexpected ones are internal)."""
    if isinstance(exc, errors.HostError):
        return exc
    if isinstance(exc, GuestExit):
        return errors.InternalError(str(exc))
    return errors.InternalError(f"host function failed: {type(exc).__name__}: {exc}")


def metering_trap(trap: wasmtime.Trap, sess: Session) -> errors.HostError | None:
    """The error of a trap caused by the host (a host function's error, gas, the wall-clock
    net), the same for every engine; None for a trap of the guest's own making."""
    if sess.error is not None:
        return host_error(sess.error)
    code = trap.trap_code
    if code == wasmtime.TrapCode.OUT_OF_FUEL:
        if not sess.metered:
            return errors.InternalError("the guest ran out of fuel before metering started")
        try:
            sess.logic.on_out_of_fuel()
        except errors.HostError as exc:
            return exc
        return errors.InternalError("out of fuel without a gas error")
    if code == wasmtime.TrapCode.INTERRUPT:
        return errors.WallClockTimeExceeded(
            "the call ran past the wall-clock safety net (gas should stop it first)")
    return None
