"""alt_bn128 host functions charge as nearcore does: only their own base, the input read,
then the per-item fee (after the length check), then the register write."""

from __future__ import annotations

import pytest

from outlayer.errors import MemoryAccessViolation
from outlayer.vm import alt_bn128
from outlayer.vm.context import VMContext
from outlayer.vm.logic import VMLogic
from outlayer.vm.params import DEFAULT_PARAMS as P

G1 = (1).to_bytes(32, "little") + (2).to_bytes(32, "little")


class Memory(bytearray):
    def read(self, ptr: int, length: int) -> bytes:
        if ptr + length > len(self):
            raise MemoryAccessViolation("out of bounds")
        return bytes(self[ptr:ptr + length])

    def write(self, ptr: int, data: bytes) -> None:
        self[ptr:ptr + len(data)] = data


def logic_with(data: bytes) -> VMLogic:
    memory = Memory(4096)
    memory.write(0, data)
    ctx = VMContext(current_account_id="a.test", signer_account_id="a.test",
                    predecessor_account_id="a.test", input=b"", prepaid_gas=300 * 10**12)
    return VMLogic(ctx, {}, memory, P)


def test_sum_charges_base_read_items_and_register() -> None:
    data = b"\0" + G1 + b"\1" + G1
    logic = logic_with(data)
    logic.alt_bn128_g1_sum(len(data), 0, 0)
    assert logic.registers.data[0] == bytes(64)
    assert logic.gas.burnt == (P.alt_bn128_g1_sum_base + P.read_memory_base
                               + len(data) * P.read_memory_byte + 2 * P.alt_bn128_g1_sum_element
                               + P.write_register_base + 64 * P.write_register_byte)


def test_ragged_input_fails_before_the_item_fee() -> None:
    data = G1 + b"\0" * 31  # 95 bytes: not one multiexp item
    logic = logic_with(data)
    with pytest.raises(alt_bn128.AltBn128InvalidInput, match="not a multiple of the item"):
        logic.alt_bn128_g1_multiexp(len(data), 0, 0)
    assert logic.gas.burnt == (P.alt_bn128_g1_multiexp_base + P.read_memory_base
                               + len(data) * P.read_memory_byte)


def test_pairing_of_nothing_is_true_and_costs_the_base() -> None:
    logic = logic_with(b"")
    assert logic.alt_bn128_pairing_check(0, 0) == 1
    assert logic.gas.burnt == P.alt_bn128_pairing_check_base + P.read_memory_base
