"""NEAR registers: host-side blobs a contract fills and reads without copying through memory.

Only the data and NEAR's limits live here; VMLogic charges the gas (read_register_* /
write_register_*) so its hot paths stay one call deep.
"""

from __future__ import annotations

from outlayer.errors import MemoryAccessViolation
from outlayer.vm.params import DEFAULT_PARAMS, Params

#: Bookkeeping bytes NEAR adds to each register's length when summing register memory.
REGISTER_OVERHEAD = 8


class Registers:
    """Register id (u64) -> bytes, with nearcore's size, count and total-memory limits."""

    __slots__ = ("data", "usage", "_max_size", "_max_number", "_memory_limit")

    def __init__(self, params: Params = DEFAULT_PARAMS) -> None:
        self.data: dict[int, bytes] = {}
        self.usage = 0  # sum of len + 8 over set registers
        self._max_size = params.max_register_size
        self._max_number = params.max_number_registers
        self._memory_limit = params.registers_memory_limit

    def get(self, register_id: int) -> bytes | None:
        return self.data.get(register_id)

    def set(self, register_id: int, value: bytes) -> None:
        """Store `value`; over a limit raises MemoryAccessViolation, as nearcore does.

        Like nearcore, a full register file refuses even a replacement of an existing
        register (a historical quirk that is part of the protocol).
        """
        size = len(value)
        if size > self._max_size:
            raise MemoryAccessViolation(
                f"register {register_id}: {size} bytes exceed max_register_size {self._max_size}"
            )
        data = self.data
        if len(data) >= self._max_number:
            raise MemoryAccessViolation(
                f"register {register_id}: max_number_registers {self._max_number} reached"
            )
        old = data.get(register_id)
        usage = self.usage + size + REGISTER_OVERHEAD
        if old is not None:
            usage -= len(old) + REGISTER_OVERHEAD
        if usage > self._memory_limit:
            raise MemoryAccessViolation(
                f"registers would use {usage} bytes, over registers_memory_limit "
                f"{self._memory_limit}"
            )
        self.usage = usage
        data[register_id] = value
