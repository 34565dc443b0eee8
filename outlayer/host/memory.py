"""Guest linear memory for VMLogic, read and written straight through the C API."""

from __future__ import annotations

import ctypes

import wasmtime

from outlayer.errors import MemoryAccessViolation
from outlayer.host import fastcall


class GuestMemory:
    """The MemoryLike of one instance; bound after instantiation (VMLogic exists before)."""

    __slots__ = ("_ctx", "_mem", "_mem_addr")

    def __init__(self) -> None:
        self._ctx = 0
        self._mem: object = None
        self._mem_addr = 0

    def bind(self, store: wasmtime.Store, memory: wasmtime.Memory) -> None:
        self._ctx = fastcall.context_ptr(store)
        self._mem = memory._memory  # keep the struct alive: we hold its address
        self._mem_addr = ctypes.addressof(memory._memory)

    def unbind(self) -> None:
        """Forget the instance (its Store is about to be freed): later accesses fail
        cleanly instead of touching freed memory."""
        self._ctx = 0
        self._mem = None
        self._mem_addr = 0

    def size(self) -> int:
        if not self._mem_addr:
            return 0
        return int(fastcall.memory_data_size(self._ctx, self._mem_addr))

    def read(self, ptr: int, length: int) -> bytes:
        if not self._mem_addr:
            raise MemoryAccessViolation("guest memory is not available yet")
        if ptr + length > fastcall.memory_data_size(self._ctx, self._mem_addr):
            raise MemoryAccessViolation(f"read of {length} bytes at {ptr} is out of bounds")
        if length == 0:
            return b""
        return fastcall.string_at(fastcall.memory_data(self._ctx, self._mem_addr) + ptr, length)

    def write(self, ptr: int, data: bytes) -> None:
        if not self._mem_addr:
            raise MemoryAccessViolation("guest memory is not available yet")
        n = len(data)
        if ptr + n > fastcall.memory_data_size(self._ctx, self._mem_addr):
            raise MemoryAccessViolation(f"write of {n} bytes at {ptr} is out of bounds")
        if n:
            fastcall.memmove(fastcall.memory_data(self._ctx, self._mem_addr) + ptr, data, n)
