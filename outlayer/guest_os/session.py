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
