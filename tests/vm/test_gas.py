"""GasCounter: NEAR's limit rules, overflow, profile, and the wasm fuel protocol."""

from __future__ import annotations

from dataclasses import replace

import pytest

from outlayer.errors import GasExceeded, GasLimitExceeded, IntegerOverflow, InternalError
from outlayer.vm.gas import WASM_OP, GasCounter
from outlayer.vm.params import DEFAULT_PARAMS, TGAS, U64_MAX

from .conftest import MakeVM

OP = 822_756  # wasm_regular_op_cost


def test_default_params_follow_the_abi_table() -> None:
    p = DEFAULT_PARAMS
    assert p.protocol_version == 80 and p.name
    assert p.wasm_regular_op_cost == OP
    assert p.touching_trie_node == 16_101_955_926
    assert p.max_gas_burnt == p.max_gas_burnt_view == p.max_total_prepaid_gas == 300 * TGAS
    assert (p.max_number_logs, p.max_total_log_length) == (100, 16_384)
    assert (p.max_length_storage_key, p.max_length_storage_value) == (2_048, 4_194_304)
    assert p.max_length_returned_data == 4_194_304
    assert (p.max_register_size, p.max_number_registers) == (104_857_600, 100)
    assert p.registers_memory_limit == 1 << 30
    assert (p.storage_num_extra_bytes_record, p.storage_amount_per_byte) == (40, 10**19)
    assert p.ext_cost("storage_write_base") == 64_196_736_000
    assert p.action_function_call.send_fee(True) == 2_319_861_500_000
    assert p.action_stake.execution == 102_217_625_000
    with pytest.raises(KeyError):
        p.ext_cost("max_gas_burnt")


def test_a_table_can_be_swapped() -> None:
    newer = replace(DEFAULT_PARAMS, name="newer", touching_trie_node=2_280_000_000)
    g = GasCounter(10 * TGAS, 300 * TGAS, newer)
    g.pay_base("touching_trie_node")
    assert g.burnt == 2_280_000_000


def test_pay_base_and_per_count_units_and_gas() -> None:
    g = GasCounter(300 * TGAS, 300 * TGAS)
    g.pay_base("base")
    g.pay_per("read_memory_byte", 10)
    g.pay_per("read_memory_byte", 5)
    assert g.burnt == g.used == 264_768_111 + 15 * 3_801_333
    assert g.profile() == {
        "base": (1, 264_768_111),
        "read_memory_byte": (15, 15 * 3_801_333),
    }


@pytest.mark.parametrize(
    ("prepaid", "max_burnt", "error"),
    [
        (10**12, 2 * 10**12, GasExceeded),  # only prepaid crossed
        (2 * 10**12, 10**12, GasLimitExceeded),  # only max_gas_burnt crossed
        (10**12, 10**12, GasLimitExceeded),  # both crossed: GasLimitExceeded wins
    ],
)
def test_which_limit_error(prepaid: int, max_burnt: int, error: type[Exception]) -> None:
    g = GasCounter(prepaid, max_burnt)
    g.burn(10**12 - 5)
    with pytest.raises(error):
        g.burn(10)
    assert g.burnt == min(prepaid, max_burnt)  # burnt up to the limit, never beyond
    # nearcore quirk kept: used = min(prepaid, attempted burnt), so it may exceed burnt
    assert g.used == min(prepaid, 10**12 + 5)


def test_crossing_prepaid_far_enough_to_pass_max_burnt_is_gas_limit_exceeded() -> None:
    g = GasCounter(10**12, 2 * 10**12)
    with pytest.raises(GasLimitExceeded):
        g.burn(3 * 10**12)
    assert g.burnt == 10**12


def test_failed_charge_profile_records_only_what_was_burnt() -> None:
    g = GasCounter(1_000_000_000, 300 * TGAS)
    with pytest.raises(GasExceeded):
        g.pay_per("read_memory_byte", 1_000)
    assert g.burnt == 1_000_000_000
    assert g.profile()["read_memory_byte"] == (1_000, 1_000_000_000)


def test_view_calls_have_unlimited_prepaid_gas() -> None:
    g = GasCounter(1, 5 * TGAS, is_view=True)
    g.burn(4 * TGAS)  # far beyond the context's prepaid 1
    with pytest.raises(GasLimitExceeded):
        g.burn(2 * TGAS)
    assert g.burnt == 5 * TGAS


def test_a_view_out_of_gas_never_uses_more_than_its_limit() -> None:
    """nearcore runs a view with prepaid gas = its max_gas_burnt: a failed charge leaves
    burnt = used = the limit (the overshoot was reported as used before)."""
    g = GasCounter(1, 5 * TGAS, is_view=True)
    g.burn(4 * TGAS)
    with pytest.raises(GasLimitExceeded):
        g.pay_per("read_memory_byte", 10**9)
    assert g.burnt == g.used == 5 * TGAS
    fuel = GasCounter(300 * TGAS, 7 * OP, is_view=True)
    with pytest.raises(GasLimitExceeded):
        fuel.exhaust_fuel()
    assert fuel.used == fuel.burnt == 7 * OP


def test_overflow_is_integer_overflow() -> None:
    g = GasCounter(U64_MAX, U64_MAX)
    g.burn(U64_MAX - 1)
    with pytest.raises(IntegerOverflow):
        g.burn(2)
    with pytest.raises(IntegerOverflow):
        g.pay_per("storage_write_base", U64_MAX)
    with pytest.raises(IntegerOverflow):
        g.pay_per("base", -1)


def test_prepaid_promise_gas_counts_as_used_and_lowers_the_burn_limit() -> None:
    g = GasCounter(100 * TGAS, 300 * TGAS)
    g.prepay(60 * TGAS)
    g.pay_action(1 * TGAS, 3 * TGAS, "new_action_receipt")
    assert (g.burnt, g.used) == (1 * TGAS, 63 * TGAS)
    assert g.remaining_gas() == 37 * TGAS
    assert g.profile()["action:new_action_receipt"] == (0, 1 * TGAS)
    with pytest.raises(GasExceeded):
        g.burn(38 * TGAS)
    # nearcore: burnt keeps the whole charge (under min(prepaid, max_burnt)), used is capped
    assert (g.burnt, g.used) == (39 * TGAS, 100 * TGAS)


# --- fuel ------------------------------------------------------------------------------


def test_remaining_fuel_is_floor_of_remaining_gas() -> None:
    g = GasCounter(10 * OP + OP // 2, 300 * TGAS)
    assert g.remaining_fuel() == 10
    g.burn(OP // 2 + 1)
    assert g.remaining_fuel() == 9
    g.burn(9 * OP)
    assert g.remaining_fuel() == 0


def test_remaining_fuel_uses_the_lower_limit_and_counts_prepaid_promises() -> None:
    assert GasCounter(300 * TGAS, 100 * OP).remaining_fuel() == 100
    g = GasCounter(100 * OP, 300 * TGAS)
    g.prepay(40 * OP)
    assert g.remaining_fuel() == 60


def test_fuel_sync_protocol_charges_instructions_run() -> None:
    g = GasCounter(1_000 * OP + 7, 300 * TGAS)
    fuel = g.remaining_fuel()  # host: set_fuel
    assert fuel == 1_000
    fuel -= 300  # the guest runs 300 instructions
    g.sync_fuel(fuel)  # syscall entry
    assert g.burnt == 300 * OP
    g.pay_base("base")  # the handler charges
    fuel = g.remaining_fuel()  # host: set_fuel after the handler
    assert fuel == (1_000 * OP + 7 - 300 * OP - 264_768_111) // OP
    g.sync_fuel(fuel)  # a syscall right away: nothing ran
    assert g.burnt == 300 * OP + 264_768_111
    fuel -= 10
    g.sync_fuel(fuel)  # the final sync when the guest returns
    assert g.burnt == 310 * OP + 264_768_111
    assert g.remaining_fuel() == fuel
    assert g.profile()[WASM_OP] == (310, 310 * OP)


def test_sync_fuel_refuses_fuel_above_the_budget() -> None:
    g = GasCounter(100 * OP, 300 * TGAS)
    with pytest.raises(InternalError):
        g.sync_fuel(101)
    with pytest.raises(InternalError):
        g.sync_fuel(-1)


def test_pay_wasm_fuel() -> None:
    g = GasCounter(300 * TGAS, 300 * TGAS)
    g.pay_wasm_fuel(1_000)
    assert g.burnt == 1_000 * OP


@pytest.mark.parametrize(
    ("prepaid", "max_burnt", "error"),
    [
        (50 * OP + 3, 300 * TGAS, GasExceeded),
        (300 * TGAS, 50 * OP + 3, GasLimitExceeded),
        (50 * OP, 50 * OP, GasLimitExceeded),
    ],
)
def test_out_of_fuel_burns_to_the_limit(prepaid: int, max_burnt: int, error: type) -> None:
    g = GasCounter(prepaid, max_burnt)
    g.sync_fuel(g.remaining_fuel() - 20)
    with pytest.raises(error):
        g.exhaust_fuel()
    assert g.burnt == min(prepaid, max_burnt)


def test_out_of_fuel_in_a_view_call_is_gas_limit_exceeded() -> None:
    g = GasCounter(300 * TGAS, 7 * OP, is_view=True)
    with pytest.raises(GasLimitExceeded):
        g.exhaust_fuel()
    assert g.burnt == 7 * OP


# --- the host's side of the protocol, through VMLogic ------------------------------------


class FakeMeter:
    """wasmtime's fuel as the host sees it."""

    def __init__(self) -> None:
        self.fuel = 0

    def get_fuel(self) -> int:
        return self.fuel

    def set_fuel(self, fuel: int) -> None:
        self.fuel = fuel


def test_host_protocol_through_vmlogic(make_vm: MakeVM) -> None:
    vm = make_vm(prepaid_gas=10**12)
    logic, meter = vm.logic, FakeMeter()
    logic.pay_contract_loading(1_000)
    assert logic.gas.burnt == 35_445_963 + 1_000 * 1_089_295
    meter.set_fuel(logic.gas.remaining_fuel())  # before the guest starts
    meter.fuel -= 1_234  # guest runs
    logic.sync_fuel_in(meter.get_fuel())  # syscall entry
    logic.storage_usage()
    meter.set_fuel(logic.gas.remaining_fuel())  # syscall exit
    meter.fuel -= 66  # guest runs, then returns
    logic.sync_fuel_in(meter.get_fuel())
    assert logic.gas.burnt == 35_445_963 + 1_000 * 1_089_295 + 1_300 * OP + 264_768_111
    meter.fuel = 0  # the guest loops until wasmtime traps out of fuel
    with pytest.raises(GasExceeded):
        logic.on_out_of_fuel()
    out = logic.outcome(GasExceeded("Exceeded the prepaid gas."))
    assert out.burnt_gas == out.used_gas == 10**12
    assert out.profile[WASM_OP][1] == 10**12 - 35_445_963 - 1_000 * 1_089_295 - 264_768_111
