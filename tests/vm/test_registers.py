"""Registers: gas, limits (as nearcore's vmstate tests), and the u64::MAX register form."""

from __future__ import annotations

from dataclasses import replace

import pytest

from outlayer.errors import InvalidRegisterId, MemoryAccessViolation
from outlayer.vm.params import DEFAULT_PARAMS, U64_MAX
from outlayer.vm.registers import Registers

from .conftest import VM, MakeVM

BASE = 264_768_111
RM_BASE, RM_BYTE = 2_609_863_200, 3_801_333
WM_BASE, WM_BYTE = 2_803_794_861, 2_723_772
RR_BASE, RR_BYTE = 2_517_165_186, 98_562
WR_BASE, WR_BYTE = 2_865_522_486, 3_801_564


def test_write_then_read_register_gas(vm: VM) -> None:
    logic = vm.logic
    logic.write_register(42, *vm.put(b"foo"))
    assert vm.burnt() == BASE + RM_BASE + 3 * RM_BYTE + WR_BASE + 3 * WR_BYTE
    before = vm.burnt()
    assert logic.register_len(42) == 3
    assert vm.burnt() - before == BASE
    logic.read_register(42, 0)
    assert bytes(vm.memory[0:3]) == b"foo"
    assert vm.burnt() - before == 2 * BASE + RR_BASE + 3 * RR_BYTE + WM_BASE + 3 * WM_BYTE


def test_nearcore_register_set_and_get_gas() -> None:
    # nearcore vmstate test `registers_set`: set "foo" then read it = 5,394,388,050 gas
    assert WR_BASE + 3 * WR_BYTE + RR_BASE + 3 * RR_BYTE == 5_394_388_050


def test_unset_register(vm: VM) -> None:
    assert vm.logic.register_len(9) == U64_MAX
    with pytest.raises(InvalidRegisterId):
        vm.logic.read_register(9, 0)
    assert vm.burnt() == 2 * BASE


def test_read_register_out_of_bounds_charges_then_fails(vm: VM) -> None:
    vm.logic.write_register(1, *vm.put(b"abcd"))
    before = vm.burnt()
    with pytest.raises(MemoryAccessViolation):
        vm.logic.read_register(1, len(vm.memory) - 2)
    assert vm.burnt() - before == BASE + RR_BASE + 4 * RR_BYTE + WM_BASE + 4 * WM_BYTE


def test_write_register_reads_memory_only(vm: VM) -> None:
    # write_register has no register form: u64::MAX is a (too long) memory length
    with pytest.raises(Exception) as info:
        vm.logic.write_register(1, U64_MAX, 0)
    assert info.value.__class__.__name__ in {"GasLimitExceeded", "IntegerOverflow"}


def test_register_limits_match_nearcore() -> None:
    regs = Registers(replace(DEFAULT_PARAMS, max_number_registers=2))
    regs.set(42, b"foo")
    regs.set(24, b"bar")
    with pytest.raises(MemoryAccessViolation):
        regs.set(12, b"baz")
    with pytest.raises(MemoryAccessViolation):  # nearcore quirk: full file refuses replacing
        regs.set(42, b"O_o")

    regs = Registers(replace(DEFAULT_PARAMS, max_register_size=3))
    regs.set(42, b"foo")
    with pytest.raises(MemoryAccessViolation):
        regs.set(24, b"quux")

    regs = Registers(replace(DEFAULT_PARAMS, registers_memory_limit=11))
    for value in (b"foo", b"bar", b"", b"baz"):
        regs.set(42, value)  # replacing within the limit is fine (usage = 8 + len)
    with pytest.raises(MemoryAccessViolation):
        regs.set(42, b"quux")
    assert regs.usage == 11


def test_register_limit_through_logic(make_vm: MakeVM) -> None:
    vm = make_vm(params=replace(DEFAULT_PARAMS, max_register_size=2))
    with pytest.raises(MemoryAccessViolation):
        vm.logic.write_register(0, *vm.put(b"abc"))
    # the write was charged before the limit check, as nearcore does
    assert vm.burnt() == BASE + RM_BASE + 3 * RM_BYTE + WR_BASE + 3 * WR_BYTE


def test_register_as_input_to_hashing(vm: VM) -> None:
    vm.logic.write_register(3, *vm.put(b"abc"))
    vm.logic.sha256(U64_MAX, 3, 4)
    assert vm.logic.registers.get(4) == bytes.fromhex(
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
