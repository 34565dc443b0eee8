"""Context, economics, gas and validator functions; ProhibitedInView for the whole table."""

from __future__ import annotations

import pytest

from outlayer.errors import (
    BadUTF8,
    HostError,
    InvalidAccountId,
    ProhibitedInView,
    UnsupportedHostFunction,
)
from outlayer.syscalls import SYSCALLS

from .conftest import VM, MakeVM

BASE = 264_768_111
WM_BASE, WM_BYTE = 2_803_794_861, 2_723_772
WR_BASE, WR_BYTE = 2_865_522_486, 3_801_564
RM_BASE, RM_BYTE = 2_609_863_200, 3_801_333
UTF8_BASE, UTF8_BYTE = 3_111_779_061, 291_580_479
VALIDATOR = 911_834_726_400
PROMISE_RETURN = 560_152_386


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("current_account_id", b"alice.near"),
        ("signer_account_id", b"bob.near"),
        ("predecessor_account_id", b"carol.near"),
        ("signer_account_pk", b"\x00" + bytes(32)),
        ("input", b'{"x":1}'),
        ("random_seed", bytes(32)),
    ],
)
def test_context_into_register(vm: VM, name: str, expected: bytes) -> None:
    getattr(vm.logic, name)(7)
    assert vm.logic.registers.get(7) == expected
    assert vm.burnt() == BASE + WR_BASE + len(expected) * WR_BYTE


def test_empty_input_still_sets_the_register(make_vm: MakeVM) -> None:
    vm = make_vm(input=b"")
    vm.logic.input(0)
    assert vm.logic.register_len(0) == 0


def test_u64_context_values(make_vm: MakeVM) -> None:
    vm = make_vm(block_height=77, block_timestamp=123, epoch_height=5, prepaid_gas=10**14)
    logic = vm.logic
    assert logic.block_index() == 77
    assert logic.block_timestamp() == 123
    assert logic.epoch_height() == 5
    assert logic.storage_usage() == 1000
    assert logic.prepaid_gas() == 10**14
    assert vm.burnt() == 5 * BASE
    assert logic.used_gas() == 6 * BASE  # includes its own base cost


@pytest.mark.parametrize(
    ("name", "value"),
    [("account_balance", 10**24), ("account_locked_balance", 5), ("attached_deposit", 7)],
)
def test_balances_are_u128_le_in_memory(vm: VM, name: str, value: int) -> None:
    getattr(vm.logic, name)(64)
    assert bytes(vm.memory[64:80]) == value.to_bytes(16, "little")
    assert vm.burnt() == BASE + WM_BASE + 16 * WM_BYTE


def test_validators_are_absent(vm: VM) -> None:
    vm.memory[64:80] = b"\xff" * 16
    vm.logic.validator_stake(*vm.put(b"node.near"), 64)
    assert bytes(vm.memory[64:80]) == bytes(16)
    assert vm.burnt() == (
        BASE + RM_BASE + 9 * RM_BYTE + UTF8_BASE + 9 * UTF8_BYTE + VALIDATOR
        + WM_BASE + 16 * WM_BYTE
    )
    before = vm.burnt()
    vm.logic.validator_total_stake(64)
    assert vm.burnt() - before == BASE + VALIDATOR + WM_BASE + 16 * WM_BYTE
    with pytest.raises(InvalidAccountId):
        vm.logic.validator_stake(*vm.put(b"Not_Valid"), 64)
    with pytest.raises(BadUTF8):
        vm.logic.validator_stake(*vm.put(b"\xff\xfe"), 64)


VIEW_PROHIBITED = [s for s in SYSCALLS if s.view_prohibited]


def test_the_table_marks_nears_view_prohibited_functions() -> None:
    names = {s.name for s in VIEW_PROHIBITED}
    assert {"storage_write", "storage_remove", "signer_account_id", "signer_account_pk",
            "predecessor_account_id", "attached_deposit", "prepaid_gas", "used_gas",
            "promise_create", "promise_results_count", "promise_yield_resume"} <= names
    assert not names & {"storage_read", "storage_has_key", "log_utf8", "value_return",
                        "random_seed", "sha256", "current_account_id", "input"}


@pytest.mark.parametrize("name", [s.name for s in VIEW_PROHIBITED])
def test_prohibited_in_view(make_vm: MakeVM, name: str) -> None:
    vm = make_vm(is_view=True)
    sc = next(s for s in SYSCALLS if s.name == name)
    with pytest.raises(ProhibitedInView, match=name):
        getattr(vm.logic, name)(*[0] * len(sc.params))
    # base first, then the view check, as nearcore; promise_return pays its own cost first
    extra = PROMISE_RETURN if name == "promise_return" else 0
    assert vm.burnt() == BASE + extra


@pytest.mark.parametrize("name", [s.name for s in VIEW_PROHIBITED])
def test_view_prohibited_functions_work_in_calls(make_vm: MakeVM, name: str) -> None:
    vm = make_vm()
    sc = next(s for s in SYSCALLS if s.name == name)
    try:
        getattr(vm.logic, name)(*[0] * len(sc.params))
    except HostError as err:  # zeros are bad arguments for many; never the view rule
        assert not isinstance(err, ProhibitedInView | UnsupportedHostFunction)
