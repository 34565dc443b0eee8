"""Logs, panics and value_return: gas, limits, decoding."""

from __future__ import annotations

from dataclasses import replace

import pytest

from outlayer.errors import (
    BadUTF8,
    BadUTF16,
    GuestPanic,
    MemoryAccessViolation,
    NumberOfLogsExceeded,
    ReturnedValueLengthExceeded,
    TotalLogLengthExceeded,
)
from outlayer.vm.params import DEFAULT_PARAMS, U64_MAX

from .conftest import VM, MakeVM

BASE = 264_768_111
RM_BASE, RM_BYTE = 2_609_863_200, 3_801_333
RR_BASE, RR_BYTE = 2_517_165_186, 98_562
UTF8_BASE, UTF8_BYTE = 3_111_779_061, 291_580_479
UTF16_BASE, UTF16_BYTE = 3_543_313_050, 163_577_493
LOG_BASE, LOG_BYTE = 3_543_313_050, 13_198_791


def test_log_utf8_gas_and_message(vm: VM) -> None:
    text = "héllo"
    data = text.encode()
    vm.logic.log_utf8(*vm.put(data))
    n = len(data)
    assert vm.logic.logs == [text]
    assert vm.burnt() == (
        BASE + UTF8_BASE + RM_BASE + n * RM_BYTE + n * UTF8_BYTE + LOG_BASE + n * LOG_BYTE
    )
    assert vm.logic.gas.profile()["log_byte"] == (n, n * LOG_BYTE)


def test_log_utf8_nul_terminated(vm: VM) -> None:
    _, ptr = vm.put(b"abc\x00zzz")
    vm.logic.log_utf8(U64_MAX, ptr)
    assert vm.logic.logs == ["abc"]
    # four bytes examined (including the NUL), each as a one-byte memory read
    assert vm.burnt() == (
        BASE + UTF8_BASE + 4 * (RM_BASE + RM_BYTE) + 3 * UTF8_BYTE + LOG_BASE + 3 * LOG_BYTE
    )


def test_log_utf8_nul_terminated_running_off_memory(make_vm: MakeVM) -> None:
    vm = make_vm(memory_size=2048)
    vm.memory[2040:] = b"x" * 8
    with pytest.raises(MemoryAccessViolation):
        vm.logic.log_utf8(U64_MAX, 2040)
    assert vm.burnt() == BASE + UTF8_BASE + 9 * (RM_BASE + RM_BYTE)


def test_log_utf8_nul_terminated_too_long(make_vm: MakeVM) -> None:
    vm = make_vm(params=replace(DEFAULT_PARAMS, max_total_log_length=5))
    _, ptr = vm.put(b"abcdefgh\x00")
    with pytest.raises(TotalLogLengthExceeded):
        vm.logic.log_utf8(U64_MAX, ptr)
    assert vm.burnt() == BASE + UTF8_BASE + 6 * (RM_BASE + RM_BYTE)


def test_bad_utf8(vm: VM) -> None:
    with pytest.raises(BadUTF8):
        vm.logic.log_utf8(*vm.put(b"\xff\xfe"))
    assert vm.burnt() == BASE + UTF8_BASE + RM_BASE + 2 * RM_BYTE + 2 * UTF8_BYTE
    with pytest.raises(BadUTF8):  # encoded surrogates are not UTF-8 either
        vm.logic.log_utf8(*vm.put(b"\xed\xa0\x80"))


def test_101st_log_is_refused(vm: VM) -> None:
    args = vm.put(b"x")
    for _ in range(100):
        vm.logic.log_utf8(*args)
    before = vm.burnt()
    with pytest.raises(NumberOfLogsExceeded):
        vm.logic.log_utf8(*args)
    assert vm.burnt() - before == BASE
    assert len(vm.logic.logs) == 100
    with pytest.raises(NumberOfLogsExceeded):
        vm.logic.log_utf16(*vm.put("x".encode("utf-16-le")))


def test_total_log_length(vm: VM) -> None:
    vm.logic.log_utf8(*vm.put(b"a" * 16_000))
    vm.logic.log_utf8(*vm.put(b"b" * 384))  # exactly 16,384 in total
    before = vm.burnt()
    with pytest.raises(TotalLogLengthExceeded):
        vm.logic.log_utf8(*vm.put(b"c"))
    assert vm.burnt() - before == BASE + UTF8_BASE  # refused before reading memory
    assert vm.logic.total_log_length == 16_384 and len(vm.logic.logs) == 2


def test_log_utf16(vm: VM) -> None:
    text = "hi 😀"
    data = text.encode("utf-16-le")
    vm.logic.log_utf16(*vm.put(data))
    assert vm.logic.logs == [text]
    n, u8 = len(data), len(text.encode())
    assert vm.burnt() == (
        BASE + UTF16_BASE + RM_BASE + n * RM_BYTE + n * UTF16_BYTE + LOG_BASE + u8 * LOG_BYTE
    )
    assert vm.logic.total_log_length == u8


def test_log_utf16_nul_terminated(vm: VM) -> None:
    _, ptr = vm.put("ab".encode("utf-16-le") + b"\x00\x00")
    vm.logic.log_utf16(U64_MAX, ptr)
    assert vm.logic.logs == ["ab"]
    assert vm.burnt() == (
        BASE + UTF16_BASE + 3 * (RM_BASE + 2 * RM_BYTE) + 4 * UTF16_BYTE + LOG_BASE + 2 * LOG_BYTE
    )


@pytest.mark.parametrize("data", [b"abc", "\ud800".encode("utf-16-le", "surrogatepass")])
def test_bad_utf16(vm: VM, data: bytes) -> None:
    with pytest.raises(BadUTF16):
        vm.logic.log_utf16(*vm.put(data))


def test_panic(vm: VM) -> None:
    with pytest.raises(GuestPanic, match="explicit guest panic"):
        vm.logic.panic()
    assert vm.burnt() == BASE


def test_panic_utf8(vm: VM) -> None:
    with pytest.raises(GuestPanic) as info:
        vm.logic.panic_utf8(*vm.put("boom ✓".encode()))
    assert info.value.message == "boom ✓"


def test_panic_utf8_message_is_capped_by_the_log_limit(vm: VM) -> None:
    vm.logic.log_utf8(*vm.put(b"a" * 16_380))
    with pytest.raises(TotalLogLengthExceeded):
        vm.logic.panic_utf8(*vm.put(b"12345"))
    with pytest.raises(GuestPanic, match="1234"):
        vm.logic.panic_utf8(*vm.put(b"1234"))


def test_value_return(vm: VM) -> None:
    vm.logic.value_return(*vm.put(b'{"ok":true}'))
    assert vm.logic.return_data == b'{"ok":true}'
    assert vm.burnt() == BASE + RM_BASE + 11 * RM_BYTE
    assert vm.logic.outcome().return_data == b'{"ok":true}'


def test_value_return_from_register_and_too_long(make_vm: MakeVM) -> None:
    vm = make_vm(memory_size=9 << 20)
    vm.logic.input(0)
    vm.logic.value_return(U64_MAX, 0)
    assert vm.logic.return_data == b'{"x":1}'
    with pytest.raises(ReturnedValueLengthExceeded):
        vm.logic.value_return(*vm.put(bytes(4_194_305)))
    vm.logic.value_return(*vm.put(bytes(4_194_304)))


def test_value_return_pays_data_receipts(make_vm: MakeVM) -> None:
    vm = make_vm(output_data_receivers=("alice.near", "bob.near"))
    vm.logic.value_return(*vm.put(b"abcd"))
    per_byte = 17_212_011 * 2  # send + exec, same for sir and not sir
    assert vm.burnt() == BASE + RM_BASE + 4 * RM_BYTE + 2 * 4 * per_byte
    assert vm.logic.gas.profile()["action:new_data_receipt_byte"] == (0, 8 * per_byte)
