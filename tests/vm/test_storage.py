"""Storage host functions: semantics, exact gas, limits, storage_usage, overlay, outcome."""

from __future__ import annotations

from dataclasses import replace

import pytest

from outlayer.errors import (
    GasExceeded,
    InternalError,
    InvalidRegisterId,
    KeyLengthExceeded,
    MemoryAccessViolation,
    ProhibitedInView,
    ValueLengthExceeded,
)
from outlayer.vm.params import DEFAULT_PARAMS, U64_MAX

from .conftest import VM, MakeVM

# ABI table numbers, spelled out so a wrong table fails here too.
BASE = 264_768_111
RM_BASE, RM_BYTE = 2_609_863_200, 3_801_333
WR_BASE, WR_BYTE = 2_865_522_486, 3_801_564
RR_BASE, RR_BYTE = 2_517_165_186, 98_562
SW_BASE, SW_KEY, SW_VALUE, SW_EVICTED = 64_196_736_000, 70_482_867, 31_018_539, 32_117_307
SR_BASE, SR_KEY, SR_VALUE = 56_356_845_750, 30_952_533, 5_611_005
SRM_BASE, SRM_KEY, SRM_VALUE = 53_473_030_500, 38_220_384, 11_531_556
SHK_BASE, SHK_KEY = 54_039_896_625, 30_790_845
TTN, CACHED = 16_101_955_926, 2_280_000_000


def write(vm: VM, key: bytes, value: bytes, register: int = 0) -> int:
    return vm.logic.storage_write(*vm.put(key), *vm.put(value), register)


def test_storage_write_new_key_exact_gas(vm: VM) -> None:
    assert write(vm, b"foo", b"bar") == 0
    expected = (
        BASE + SW_BASE + 2 * RM_BASE + 6 * RM_BYTE + 3 * SW_KEY + 3 * SW_VALUE + TTN
    )
    assert expected == 86_110_498_653  # ~86 Ggas for a 3-byte key and value
    assert vm.burnt() == expected == vm.logic.gas.used
    assert vm.logic.current_storage_usage == 1000 + 3 + 3 + 40
    assert vm.logic.registers.get(0) is None  # no old value: register untouched
    assert vm.storage == {}  # never written through


def test_storage_write_overwrite_returns_old_value_and_charges_eviction(vm: VM) -> None:
    write(vm, b"foo", b"bar")
    before = vm.burnt()
    assert write(vm, b"foo", b"bazz", register=5) == 1
    assert vm.logic.registers.get(5) == b"bar"
    assert vm.burnt() - before == (
        BASE + SW_BASE + 2 * RM_BASE + 7 * RM_BYTE + 3 * SW_KEY + 4 * SW_VALUE
        + 3 * SW_EVICTED + WR_BASE + 3 * WR_BYTE  # no trie node: the key is a pending change
    )
    assert vm.logic.current_storage_usage == 1000 + 3 + 4 + 40


def test_storage_write_over_committed_value(make_vm: MakeVM) -> None:
    vm = make_vm(storage={b"k": b"old"})
    assert write(vm, b"k", b"newer", register=1) == 1
    assert vm.logic.registers.get(1) == b"old"
    assert vm.burnt() == (
        BASE + SW_BASE + 2 * RM_BASE + 6 * RM_BYTE + SW_KEY + 5 * SW_VALUE + TTN
        + 3 * SW_EVICTED + WR_BASE + 3 * WR_BYTE
    )
    assert vm.logic.current_storage_usage == 1000 + 2
    assert vm.storage == {b"k": b"old"}


def test_storage_read_hit_miss_and_trie_node_model(make_vm: MakeVM) -> None:
    vm = make_vm(storage={b"key": b"value"})
    logic = vm.logic
    klen, kptr = vm.put(b"key")
    assert logic.storage_read(klen, kptr, 3) == 1
    assert logic.registers.get(3) == b"value"
    first = BASE + SR_BASE + RM_BASE + 3 * RM_BYTE + 3 * SR_KEY + 5 * SR_VALUE
    first += WR_BASE + 5 * WR_BYTE
    assert vm.burnt() == first + TTN
    assert logic.storage_read(klen, kptr, 3) == 1  # same key again: a cached trie node
    assert vm.burnt() == 2 * first + TTN + CACHED
    mlen, mptr = vm.put(b"nope")
    before = vm.burnt()
    assert logic.storage_read(mlen, mptr, 3) == 0
    assert logic.registers.get(3) == b"value"  # a miss leaves the register alone
    assert vm.burnt() - before == BASE + SR_BASE + RM_BASE + 4 * RM_BYTE + 4 * SR_KEY + TTN


def test_storage_read_sees_own_writes_without_trie_charge(vm: VM) -> None:
    write(vm, b"a", b"1")
    before = vm.burnt()
    assert vm.logic.storage_read(*vm.put(b"a"), 0) == 1
    assert vm.logic.registers.get(0) == b"1"
    assert vm.burnt() - before == (
        BASE + SR_BASE + RM_BASE + RM_BYTE + SR_KEY + SR_VALUE + WR_BASE + WR_BYTE
    )


def test_storage_remove(make_vm: MakeVM) -> None:
    vm = make_vm(storage={b"gone": b"12345"})
    logic = vm.logic
    assert logic.storage_remove(*vm.put(b"gone"), 2) == 1
    assert logic.registers.get(2) == b"12345"
    assert vm.burnt() == (
        BASE + SRM_BASE + RM_BASE + 4 * RM_BYTE + 4 * SRM_KEY + TTN + 5 * SRM_VALUE
        + WR_BASE + 5 * WR_BYTE
    )
    assert logic.current_storage_usage == 1000 - (4 + 5 + 40)
    assert logic.storage_remove(*vm.put(b"gone"), 2) == 0  # already removed
    assert logic.storage_read(*vm.put(b"gone"), 2) == 0
    assert logic.storage_has_key(*vm.put(b"gone")) == 0
    assert vm.storage == {b"gone": b"12345"}
    assert logic.outcome().storage_changes == {b"gone": None}


def test_storage_has_key(make_vm: MakeVM) -> None:
    vm = make_vm(storage={b"here": b""})
    assert vm.logic.storage_has_key(*vm.put(b"here")) == 1  # empty value still counts
    assert vm.burnt() == BASE + SHK_BASE + RM_BASE + 4 * RM_BYTE + 4 * SHK_KEY + TTN
    assert vm.logic.storage_has_key(*vm.put(b"absent")) == 0


def test_key_from_register(vm: VM) -> None:
    vm.logic.write_register(7, *vm.put(b"regkey"))
    before = vm.burnt()
    assert vm.logic.storage_write(U64_MAX, 7, *vm.put(b"v"), 0) == 0
    assert vm.burnt() - before == (
        BASE + SW_BASE + RR_BASE + 6 * RR_BYTE + RM_BASE + RM_BYTE + 6 * SW_KEY + SW_VALUE + TTN
    )
    assert vm.logic.outcome().storage_changes == {b"regkey": b"v"}
    with pytest.raises(InvalidRegisterId):
        vm.logic.storage_read(U64_MAX, 99, 0)


def test_key_length_limit(vm: VM) -> None:
    assert write(vm, b"k" * 2048, b"v") == 0
    before = vm.burnt()
    klen, kptr = vm.put(b"k" * 2049)
    with pytest.raises(KeyLengthExceeded):
        vm.logic.storage_write(klen, kptr, *vm.put(b"v"), 0)
    # charged up to reading the key, as nearcore
    assert vm.burnt() - before == BASE + SW_BASE + RM_BASE + 2049 * RM_BYTE
    for call in (
        lambda: vm.logic.storage_read(klen, kptr, 0),
        lambda: vm.logic.storage_remove(klen, kptr, 0),
        lambda: vm.logic.storage_has_key(klen, kptr),
    ):
        with pytest.raises(KeyLengthExceeded):
            call()


def test_value_length_limit(make_vm: MakeVM) -> None:
    vm = make_vm(params=replace(DEFAULT_PARAMS, max_length_storage_value=10))
    assert write(vm, b"k", b"v" * 10) == 0
    with pytest.raises(ValueLengthExceeded):
        write(vm, b"k", b"v" * 11)


def test_value_length_limit_default(make_vm: MakeVM) -> None:
    vm = make_vm(memory_size=5 << 20)
    with pytest.raises(ValueLengthExceeded):
        write(vm, b"k", bytes(4_194_305))


def test_out_of_bounds_key_is_memory_access_violation(vm: VM) -> None:
    with pytest.raises(MemoryAccessViolation):
        vm.logic.storage_read(10, len(vm.memory) - 5, 0)
    assert vm.burnt() == BASE + SR_BASE + RM_BASE + 10 * RM_BYTE
    with pytest.raises(MemoryAccessViolation):
        vm.logic.storage_write(3, 0, 10, len(vm.memory) - 5, 0)


@pytest.mark.parametrize("name", ["storage_write", "storage_remove"])
def test_storage_mutations_are_prohibited_in_view(make_vm: MakeVM, name: str) -> None:
    vm = make_vm(is_view=True)
    args = (3, 0, 3, 0, 0) if name == "storage_write" else (3, 0, 0)
    with pytest.raises(ProhibitedInView):
        getattr(vm.logic, name)(*args)
    assert vm.burnt() == BASE


def test_reads_are_allowed_in_view(make_vm: MakeVM) -> None:
    vm = make_vm(is_view=True, storage={b"k": b"v"})
    assert vm.logic.storage_read(*vm.put(b"k"), 0) == 1
    assert vm.logic.storage_has_key(*vm.put(b"k")) == 1
    assert vm.logic.storage_usage() == 1000


def test_gas_runs_out_in_the_middle_of_a_write(make_vm: MakeVM) -> None:
    vm = make_vm(prepaid_gas=BASE + SW_BASE + 10)
    with pytest.raises(GasExceeded):
        write(vm, b"k", b"v")
    assert vm.burnt() == BASE + SW_BASE + 10
    out = vm.logic.outcome(GasExceeded("Exceeded the prepaid gas."))
    assert out.error is not None and out.error.kind == "GasExceeded"
    assert out.burnt_gas == BASE + SW_BASE + 10


def test_access_log_and_outcome(make_vm: MakeVM) -> None:
    vm = make_vm(storage={b"b": b"old"})
    logic = vm.logic
    write(vm, b"c", b"3")
    logic.storage_read(*vm.put(b"b"), 0)
    logic.storage_has_key(*vm.put(b"x"))
    logic.storage_remove(*vm.put(b"b"), 0)
    write(vm, b"a", b"1")
    assert logic.overlay.access_log == [
        ("write", b"c", b"3"),
        ("read", b"b", b"old"),
        ("has_key", b"x", None),
        ("remove", b"b", b"old"),
        ("write", b"a", b"1"),
    ]
    logic.value_return(*vm.put(b"ret"))
    out = logic.outcome()
    assert out.ok and out.return_data == b"ret"
    assert list(out.storage_changes.items()) == [(b"a", b"1"), (b"b", None), (b"c", b"3")]
    assert out.attempted_changes == out.storage_changes
    assert out.storage_usage == 1000 + (1 + 1 + 40) * 2 - (1 + 3 + 40)
    assert out.access_log == tuple(logic.overlay.access_log)
    assert out.burnt_gas == vm.burnt() and out.used_gas == vm.burnt()
    assert out.profile["touching_trie_node"] == (4, 4 * TTN)
    assert out.profile["read_cached_trie_node"] == (1, CACHED)  # "b" again
    assert out.params_name == DEFAULT_PARAMS.name


def test_failed_outcome_commits_nothing_but_keeps_attempted_changes(vm: VM) -> None:
    write(vm, b"k", b"v")
    vm.logic.log_utf8(*vm.put(b"before the panic"))
    vm.logic.value_return(*vm.put(b"x"))
    with pytest.raises(Exception) as info:
        vm.logic.panic()
    out = vm.logic.outcome(info.value)  # type: ignore[arg-type]
    assert not out.ok and out.error is not None
    assert (out.error.kind, out.error.message) == ("GuestPanic", "explicit guest panic")
    assert out.storage_changes == {}
    assert out.attempted_changes == {b"k": b"v"}
    assert out.storage_usage == 1000
    assert out.return_data is None
    assert out.logs == ("before the panic",)
    assert out.burnt_gas == vm.burnt()


def test_gas_runs_out_while_returning_a_read_value(make_vm: MakeVM) -> None:
    before_value = BASE + SR_BASE + RM_BASE + RM_BYTE + SR_KEY + TTN
    vm = make_vm(storage={b"k": b"x" * 100}, prepaid_gas=before_value + 100 * SR_VALUE + 5)
    with pytest.raises(GasExceeded):
        vm.logic.storage_read(*vm.put(b"k"), 0)
    assert vm.burnt() == before_value + 100 * SR_VALUE + 5
    profile = vm.logic.gas.profile()
    assert profile["write_register_base"] == (1, 5)  # the charge cut at the limit
    assert "write_register_byte" not in profile
    assert vm.logic.registers.get(0) is None


def test_gas_runs_out_while_returning_an_evicted_value(make_vm: MakeVM) -> None:
    before_evict = BASE + SW_BASE + 2 * RM_BASE + 2 * RM_BYTE + SW_KEY + SW_VALUE + TTN
    vm = make_vm(storage={b"k": b"x" * 50}, prepaid_gas=before_evict + 7)
    with pytest.raises(GasExceeded):
        write(vm, b"k", b"y")
    assert vm.burnt() == before_evict + 7
    assert vm.logic.gas.profile()["storage_write_evicted_byte"] == (50, 7)


def test_inconsistent_storage_usage_is_an_internal_error(make_vm: MakeVM) -> None:
    vm = make_vm(storage={b"big": b"x" * 100}, storage_usage=10)
    with pytest.raises(InternalError, match="storage_usage"):
        vm.logic.storage_remove(*vm.put(b"big"), 0)


@pytest.mark.parametrize("value", [b"short", b"x" * 300])
def test_fused_read_costs_what_nears_three_calls_cost(make_vm: MakeVM, value: bytes) -> None:
    fused, plain = make_vm({b"k": value}), make_vm({b"k": value})
    klen, kptr = fused.put(b"k")
    size = fused.logic.outlayer_storage_read_into(klen, kptr, 0, 256, 9000)
    assert size == len(value)
    klen2, kptr2 = plain.put(b"k")
    assert plain.logic.storage_read(klen2, kptr2, 0) == 1
    assert plain.logic.register_len(0) == len(value)
    if len(value) <= 256:
        plain.logic.read_register(0, 9000)
        assert bytes(fused.memory[9000:9000 + size]) == value
    assert fused.burnt() == plain.burnt()
    assert fused.logic.gas.profile() == plain.logic.gas.profile()


def test_fused_read_miss(vm: VM) -> None:
    assert vm.logic.outlayer_storage_read_into(*vm.put(b"nope"), 0, 64, 9000) == U64_MAX
