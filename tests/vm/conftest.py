"""Test doubles for VMLogic: a bytearray guest memory and a dict committed state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from outlayer.errors import MemoryAccessViolation
from outlayer.vm.context import VMContext
from outlayer.vm.logic import VMLogic
from outlayer.vm.params import DEFAULT_PARAMS, Params


class BytesMemory(bytearray):
    """Guest linear memory: bounds-checked reads and writes, like the host's GuestMemory."""

    def read(self, ptr: int, length: int) -> bytes:
        if ptr < 0 or length < 0 or ptr + length > len(self):
            raise MemoryAccessViolation(f"read of {length} bytes at {ptr} is out of bounds")
        return bytes(self[ptr : ptr + length])

    def write(self, ptr: int, data: bytes) -> None:
        if ptr < 0 or ptr + len(data) > len(self):
            raise MemoryAccessViolation(f"write of {len(data)} bytes at {ptr} is out of bounds")
        self[ptr : ptr + len(data)] = data


class DictStorage(dict[bytes, bytes]):
    """Committed state of the current account as a plain dict (StorageView)."""


CONTEXT = VMContext(
    current_account_id="alice.near",
    signer_account_id="bob.near",
    predecessor_account_id="carol.near",
    input=b'{"x":1}',
    account_balance=10**24,
    account_locked_balance=5,
    attached_deposit=7,
    storage_usage=1000,
)


@dataclass
class VM:
    """A VMLogic with its memory and storage, and helpers to put bytes in memory."""

    logic: VMLogic
    memory: BytesMemory
    storage: DictStorage
    _next: int = 1024

    def put(self, data: bytes) -> tuple[int, int]:
        """Copy `data` into free memory; returns (len, ptr) in NEAR's argument order."""
        ptr = self._next
        self.memory.write(ptr, data)
        self._next += len(data) + 8
        return len(data), ptr

    def burnt(self) -> int:
        return self.logic.gas.burnt


MakeVM = Callable[..., VM]


@pytest.fixture
def make_vm() -> MakeVM:
    def make(
        storage: dict[bytes, bytes] | None = None,
        params: Params = DEFAULT_PARAMS,
        memory_size: int = 1 << 20,
        **context: Any,
    ) -> VM:
        mem = BytesMemory(memory_size)
        st = DictStorage(storage or {})
        logic = VMLogic(replace(CONTEXT, **context), st, mem, params)
        return VM(logic, mem, st)

    return make


@pytest.fixture
def vm(make_vm: MakeVM) -> VM:
    return make_vm()
