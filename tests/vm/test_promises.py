"""Promises and yields in VMLogic: NEAR's semantics, exact gas (from the parameter table),
limits, joint promises, callbacks' results, promise_return, yields, gas_weight."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outlayer.errors import (
    BalanceExceeded,
    CannotAppendActionToJointPromise,
    CannotReturnJointPromise,
    ContractSizeExceeded,
    DataIdMalformed,
    EmptyMethodName,
    GuestPanic,
    HostError,
    InvalidAccountId,
    InvalidMethodName,
    InvalidPromiseIndex,
    InvalidPromiseResultIndex,
    InvalidPublicKey,
    NumberInputDataDependenciesExceeded,
    NumberPromisesExceeded,
    ProhibitedInView,
    YieldPayloadLength,
)
from outlayer.vm.context import VMContext
from outlayer.vm.logic import VMLogic
from outlayer.vm.params import DEFAULT_PARAMS, TGAS, U64_MAX, Fee, Params
from outlayer.vm.promises import PromiseDag
from outlayer.vm.receipts import (
    AddKey,
    CreateAccount,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FullAccess,
    FunctionCall,
    FunctionCallPermission,
    NewReceipt,
    PromiseResult,
    Stake,
    Transfer,
    yield_data_id,
)

from .conftest import VM, BytesMemory, DictStorage, MakeVM

P = DEFAULT_PARAMS
BASE = P.base
BALANCE = 10**24  # conftest's account_balance
PREPAID = 300 * TGAS
ED_KEY = b"\x00" + bytes(range(32))
SECP_KEY = b"\x01" + bytes(range(64))

Charge = tuple[int, int]  # (burnt, used)


def rm(n: int) -> int:
    """Reading n bytes of guest memory."""
    return P.read_memory_base + n * P.read_memory_byte


def account(n: int) -> int:
    """Reading and decoding an n-byte account id."""
    return rm(n) + P.utf8_decoding_base + n * P.utf8_decoding_byte


def wr(n: int) -> int:
    return P.write_register_base + n * P.write_register_byte


def burn(gas: int) -> Charge:
    return gas, gas


def fee(f: Fee, n: int = 1, sir: bool = False, params: Params = P) -> Charge:
    """An action fee: send burnt, send + exec used."""
    return f.send_fee(sir) * n, (f.send_fee(sir) + f.execution) * n


def receipt(sir: bool = False, deps: tuple[bool, ...] = (), params: Params = P) -> Charge:
    """A new action receipt and its data dependencies (nearcore's pay_gas_for_new_receipt)."""
    r, d = params.action_receipt_creation, params.data_receipt_creation_base
    b = r.send_fee(sir) + sum(d.send_fee(s) + d.execution for s in deps)
    return b, b + r.execution


def total(*charges: Charge) -> Charge:
    return sum(c[0] for c in charges), sum(c[1] for c in charges)


def gas(vm: VM) -> Charge:
    return vm.logic.gas.burnt, vm.logic.gas.used


def delta(vm: VM, before: Charge) -> Charge:
    now = gas(vm)
    return now[0] - before[0], now[1] - before[1]


def u128(vm: VM, value: int) -> int:
    return vm.put(value.to_bytes(16, "little"))[1]


def create(vm: VM, to: bytes = b"bob.near", method: bytes = b"go", args: bytes = b"{}",
           amount: int = 0, prepaid: int = 5 * TGAS) -> int:
    return vm.logic.promise_create(*vm.put(to), *vm.put(method), *vm.put(args),
                                   u128(vm, amount), prepaid)


def batch(vm: VM, to: bytes = b"bob.near") -> int:
    return vm.logic.promise_batch_create(*vm.put(to))


def then(vm: VM, index: int, to: bytes = b"carol.near", method: bytes = b"cb",
         prepaid: int = 5 * TGAS) -> int:
    return vm.logic.promise_then(index, *vm.put(to), *vm.put(method), *vm.put(b""),
                                 u128(vm, 0), prepaid)


def join(vm: VM, *indices: int) -> int:
    data = b"".join(i.to_bytes(8, "little") for i in indices)
    return vm.logic.promise_and(vm.put(data)[1], len(indices))


# --- promise_create / then / batch -------------------------------------------------------


def test_promise_create_charges_nears_fees_and_builds_a_function_call(vm: VM) -> None:
    args = b'{"a":1}'
    index = create(vm, b"bob.near", b"go", args, amount=10, prepaid=5 * TGAS)
    assert index == 0
    assert gas(vm) == total(
        burn(2 * BASE + account(8) + rm(16) + rm(2) + rm(len(args))),  # base paid twice
        receipt(),
        fee(P.action_function_call),
        fee(P.action_function_call_per_byte, 2 + len(args)),
        (0, 5 * TGAS),  # the callee's gas is used, not burnt
    )
    out = vm.logic.outcome()
    assert out.ok
    assert out.receipts == (NewReceipt("bob.near", [FunctionCall("go", args, 10, 5 * TGAS)]),)
    assert out.balance == BALANCE - 10
    assert (out.burnt_gas, out.used_gas) == gas(vm)
    assert out.profile["action:new_action_receipt"][1] == receipt()[0]
    assert out.profile["action:function_call_base"][1] == P.action_function_call.send_not_sir
    assert out.returned_promise is None and out.yield_resumes == ()


def test_account_balance_shrinks_with_attached_deposits(vm: VM) -> None:
    create(vm, amount=BALANCE - 100)
    vm.logic.account_balance(0)
    assert int.from_bytes(vm.memory.read(0, 16), "little") == 100
    with pytest.raises(BalanceExceeded, match="Exceeded the account balance"):
        create(vm, amount=101)
    create(vm, amount=100)
    assert vm.logic.current_account_balance == 0


SIR = replace(
    P,
    action_receipt_creation=Fee(10, 20, 300),
    data_receipt_creation_base=Fee(1, 2, 40),
    action_function_call=Fee(1000, 2000, 30000),
    action_function_call_per_byte=Fee(0, 0, 0),
    action_transfer=Fee(5, 7, 11),
)


@pytest.mark.parametrize(("to", "sir"), [(b"alice.near", True), (b"bob.near", False)])
def test_sender_is_receiver_picks_the_send_fee(make_vm: MakeVM, to: bytes, sir: bool) -> None:
    vm = make_vm(params=SIR)
    before = gas(vm)
    create(vm, to, prepaid=0)
    assert delta(vm, before) == total(
        burn(2 * BASE + account(len(to)) + rm(16) + rm(2) + rm(2)),
        receipt(sir, params=SIR),
        fee(SIR.action_function_call, sir=sir),
    )


def test_promise_then_pays_a_data_receipt_per_dependency(make_vm: MakeVM) -> None:
    vm = make_vm(params=SIR)
    a = batch(vm, b"bob.near")
    b = batch(vm, b"carol.near")
    ab = join(vm, a, b)
    before = gas(vm)
    c = vm.logic.promise_batch_then(ab, *vm.put(b"bob.near"))
    # the data receipt from bob.near to bob.near is sir, the one from carol.near is not
    assert delta(vm, before) == total(
        burn(BASE + account(8)), receipt(False, (True, False), params=SIR)
    )
    assert (a, b, ab, c) == (0, 1, 2, 3)
    out = vm.logic.outcome()
    assert [r.depends_on for r in out.receipts] == [(), (), (0, 1)]  # receipt indices
    assert out.receipts[2].receiver_id == "bob.near"


def test_promise_then_on_a_joint_promise_waits_for_all_in_order(vm: VM) -> None:
    a, b, c = batch(vm), batch(vm, b"x.near"), batch(vm, b"y.near")
    inner = join(vm, c, a)
    outer = join(vm, b, inner)
    cb = then(vm, outer)
    out = vm.logic.outcome()
    assert out.receipts[3] == NewReceipt(
        "carol.near", [FunctionCall("cb", b"", 0, 5 * TGAS)], depends_on=(1, 2, 0)
    )
    assert cb == 5 and len(out.receipts) == 4  # joint promises create no receipt


def test_promise_and_gas(vm: VM) -> None:
    ids = [batch(vm) for _ in range(3)]
    before = gas(vm)
    join(vm, *ids)
    assert delta(vm, before) == burn(
        BASE + P.promise_and_base + 24 * P.promise_and_per_promise + rm(24)
    )


def test_promise_and_of_nothing_is_a_promise_with_no_dependencies(vm: VM) -> None:
    empty = join(vm)
    then(vm, empty)
    assert vm.logic.outcome().receipts[0].depends_on == ()


def test_promise_and_overflowing_count_is_integer_overflow(vm: VM) -> None:
    from outlayer.errors import IntegerOverflow

    with pytest.raises(IntegerOverflow):
        vm.logic.promise_and(0, U64_MAX)


def test_invalid_promise_indices(vm: VM) -> None:
    with pytest.raises(InvalidPromiseIndex, match="0 does not correspond"):
        then(vm, 0)
    a = batch(vm)
    with pytest.raises(InvalidPromiseIndex, match="7 does not correspond"):
        join(vm, a, 7)
    with pytest.raises(InvalidPromiseIndex):
        vm.logic.promise_batch_action_create_account(1)
    with pytest.raises(InvalidPromiseIndex):
        vm.logic.promise_return(1)


def test_actions_cannot_go_to_a_joint_promise(vm: VM) -> None:
    ab = join(vm, batch(vm), batch(vm))
    with pytest.raises(CannotAppendActionToJointPromise):
        vm.logic.promise_batch_action_transfer(ab, u128(vm, 1))
    with pytest.raises(CannotReturnJointPromise):
        vm.logic.promise_return(ab)


def test_invalid_account_ids(vm: VM) -> None:
    with pytest.raises(InvalidAccountId):
        batch(vm, b"Not_Valid")
    with pytest.raises(InvalidAccountId):
        vm.logic.promise_batch_action_delete_account(batch(vm), *vm.put(b"a"))
    before = gas(vm)
    with pytest.raises(InvalidAccountId):
        vm.logic.promise_batch_then(0, *vm.put(b"bad..id"))
    assert delta(vm, before) == burn(BASE + account(7))  # nothing charged after the id


def test_number_of_promises_is_limited_to_1024(vm: VM) -> None:
    for _ in range(1024):
        batch(vm, b"alice.near")
    with pytest.raises(NumberPromisesExceeded, match="1025 exceeds the limit 1024"):
        batch(vm, b"alice.near")
    assert gas(vm)[1] <= PREPAID


def test_joint_promises_count_toward_the_promise_limit(make_vm: MakeVM) -> None:
    vm = make_vm(params=replace(P, max_promises_per_function_call_action=3))
    a, b = batch(vm), batch(vm)
    join(vm, a, b)
    with pytest.raises(NumberPromisesExceeded):
        join(vm, a, b)


def test_input_data_dependencies_are_limited_to_128(vm: VM) -> None:
    ids = [batch(vm, b"alice.near") for _ in range(129)]
    join(vm, *ids[:128])
    with pytest.raises(NumberInputDataDependenciesExceeded, match="129 exceeds the limit 128"):
        join(vm, *ids)
    half = join(vm, *ids[:64])
    with pytest.raises(NumberInputDataDependenciesExceeded):
        join(vm, half, half, ids[0])


# --- batch actions -----------------------------------------------------------------------


def test_create_account_and_deploy_contract(vm: VM) -> None:
    p = batch(vm, b"sub.alice.near")
    before = gas(vm)
    vm.logic.promise_batch_action_create_account(p)
    assert delta(vm, before) == total(burn(BASE), fee(P.action_create_account))
    code = b"\x00asm" + bytes(96)
    before = gas(vm)
    vm.logic.promise_batch_action_deploy_contract(p, *vm.put(code))
    assert delta(vm, before) == total(
        burn(BASE + rm(100)), fee(P.action_deploy_contract),
        fee(P.action_deploy_contract_per_byte, 100),
    )
    assert vm.logic.outcome().receipts[0].actions == [CreateAccount(), DeployContract(code)]


def test_deploy_contract_size_limit(make_vm: MakeVM) -> None:
    vm = make_vm(memory_size=5 << 20)
    p = batch(vm)
    before = gas(vm)
    with pytest.raises(ContractSizeExceeded, match="4194305 exceeds the limit 4194304"):
        vm.logic.promise_batch_action_deploy_contract(p, *vm.put(bytes(4_194_305)))
    assert delta(vm, before) == burn(BASE + rm(4_194_305))


def test_function_call_weight_and_method_checks(vm: VM) -> None:
    p = batch(vm)
    before = gas(vm)
    vm.logic.promise_batch_action_function_call_weight(
        p, *vm.put(b"m"), *vm.put(b"xy"), u128(vm, 3), 7, 2
    )
    assert delta(vm, before) == total(
        burn(BASE + rm(16) + rm(1) + rm(2)), fee(P.action_function_call),
        fee(P.action_function_call_per_byte, 3), (0, 7),
    )
    with pytest.raises(EmptyMethodName):
        vm.logic.promise_batch_action_function_call(p, *vm.put(b""), *vm.put(b""),
                                                    u128(vm, 0), 1)
    with pytest.raises(InvalidMethodName):
        vm.logic.promise_batch_action_function_call(p, *vm.put(b"\xff"), *vm.put(b""),
                                                    u128(vm, 0), 1)
    assert vm.logic.dag.receipts[0].actions[0] == FunctionCall("m", b"xy", 3, 7, 2)


def test_method_name_and_args_may_come_from_registers(vm: VM) -> None:
    vm.logic.write_register(1, *vm.put(b"method"))
    vm.logic.write_register(2, *vm.put(b"[1]"))
    p = batch(vm)
    before = gas(vm)
    vm.logic.promise_batch_action_function_call(p, U64_MAX, 1, U64_MAX, 2, u128(vm, 0), 1)
    read_regs = 2 * P.read_register_base + 9 * P.read_register_byte
    assert delta(vm, before) == total(
        burn(BASE + rm(16) + read_regs), fee(P.action_function_call),
        fee(P.action_function_call_per_byte, 9), (0, 1),
    )
    assert vm.logic.dag.receipts[0].actions == [FunctionCall("method", b"[1]", 0, 1)]


@pytest.mark.parametrize(
    ("to", "extra"),
    [
        (b"bob.near", ()),
        (b"ab" * 32, (P.action_create_account, P.action_add_full_access_key)),  # NEAR-implicit
        (b"0x" + b"ab" * 20, (P.action_create_account,)),  # ETH-implicit
    ],
)
def test_transfer_fees_include_implicit_account_creation(vm: VM, to: bytes,
                                                         extra: tuple[Fee, ...]) -> None:
    p = batch(vm, to)
    before = gas(vm)
    vm.logic.promise_batch_action_transfer(p, u128(vm, 5))
    assert delta(vm, before) == total(
        burn(BASE + rm(16)), fee(P.action_transfer), *(fee(f) for f in extra)
    )
    assert vm.logic.outcome().receipts[0].actions == [Transfer(5)]
    assert vm.logic.current_account_balance == BALANCE - 5


def test_transfer_sir(make_vm: MakeVM) -> None:
    vm = make_vm(params=SIR)
    p = batch(vm, b"alice.near")
    before = gas(vm)
    vm.logic.promise_batch_action_transfer(p, u128(vm, 1))
    assert delta(vm, before) == total(burn(BASE + rm(16)), (5, 5 + 11))
    with pytest.raises(BalanceExceeded):
        vm.logic.promise_batch_action_transfer(p, u128(vm, BALANCE))


def test_stake_and_keys(vm: VM) -> None:
    p = batch(vm, b"alice.near")
    before = gas(vm)
    vm.logic.promise_batch_action_stake(p, u128(vm, 50), *vm.put(ED_KEY))
    assert delta(vm, before) == total(burn(BASE + rm(16) + rm(33)), fee(P.action_stake, sir=True))
    before = gas(vm)
    vm.logic.promise_batch_action_add_key_with_full_access(p, *vm.put(SECP_KEY), 9)
    assert delta(vm, before) == total(burn(BASE + rm(65)), fee(P.action_add_full_access_key))
    names = b"get,set_x"
    before = gas(vm)
    vm.logic.promise_batch_action_add_key_with_function_call(
        p, *vm.put(ED_KEY), 3, u128(vm, 0), *vm.put(b"app.near"), *vm.put(names)
    )
    assert delta(vm, before) == total(
        burn(BASE + rm(33) + rm(16) + account(8) + rm(len(names))),
        fee(P.action_add_function_call_key),
        fee(P.action_add_function_call_key_per_byte, 4 + 6),  # one terminator per name
    )
    vm.logic.promise_batch_action_add_key_with_function_call(
        p, *vm.put(ED_KEY), 4, u128(vm, 77), *vm.put(b"app.near"), *vm.put(b"")
    )
    before = gas(vm)
    vm.logic.promise_batch_action_delete_key(p, *vm.put(ED_KEY))
    assert delta(vm, before) == total(burn(BASE + rm(33)), fee(P.action_delete_key))
    before = gas(vm)
    vm.logic.promise_batch_action_delete_account(p, *vm.put(b"bob.near"))
    assert delta(vm, before) == total(burn(BASE + account(8)), fee(P.action_delete_account))
    out = vm.logic.outcome()
    assert out.ok, out.error
    assert out.receipts[0].actions == [
        Stake(50, ED_KEY),
        AddKey(SECP_KEY, 9, FullAccess()),
        AddKey(ED_KEY, 3, FunctionCallPermission(None, "app.near", ("get", "set_x"))),
        AddKey(ED_KEY, 4, FunctionCallPermission(77, "app.near", ())),
        DeleteKey(ED_KEY),
        DeleteAccount("bob.near"),
    ]
    assert out.balance == BALANCE  # staking moves no balance in VMLogic


@pytest.mark.parametrize("key", [b"", b"\x00" + bytes(31), b"\x00" + bytes(33),
                                 b"\x02" + bytes(32), b"\x01" + bytes(32)])
def test_invalid_public_key_is_raised_after_the_fee(vm: VM, key: bytes) -> None:
    p = batch(vm)
    before = gas(vm)
    with pytest.raises(InvalidPublicKey):
        vm.logic.promise_batch_action_delete_key(p, *vm.put(key))
    assert delta(vm, before) == total(burn(BASE + rm(len(key))), fee(P.action_delete_key))


def test_function_call_key_method_names(vm: VM) -> None:
    p = batch(vm)
    with pytest.raises(EmptyMethodName):
        vm.logic.promise_batch_action_add_key_with_function_call(
            p, *vm.put(ED_KEY), 0, u128(vm, 0), *vm.put(b"app.near"), *vm.put(b"a,,b")
        )
    with pytest.raises(InvalidMethodName):
        vm.logic.promise_batch_action_add_key_with_function_call(
            p, *vm.put(ED_KEY), 0, u128(vm, 0), *vm.put(b"app.near"), *vm.put(b"a,\xff")
        )
    with pytest.raises(InvalidPublicKey):  # the key is checked before the names' UTF-8
        vm.logic.promise_batch_action_add_key_with_function_call(
            p, *vm.put(b"\x00"), 0, u128(vm, 0), *vm.put(b"app.near"), *vm.put(b"\xff")
        )


# --- callbacks' results and promise_return -----------------------------------------------


RESULTS = (PromiseResult.successful(b"42"), PromiseResult.failed(), PromiseResult.not_ready(),
           PromiseResult.successful(b""))


def test_promise_results(make_vm: MakeVM) -> None:
    vm = make_vm(promise_results=RESULTS)
    assert vm.logic.promise_results_count() == 4
    before = gas(vm)
    assert vm.logic.promise_result(0, 5) == 1
    assert delta(vm, before) == burn(BASE + wr(2))
    assert vm.logic.registers.get(5) == b"42"
    before = gas(vm)
    assert (vm.logic.promise_result(1, 6), vm.logic.promise_result(2, 6)) == (2, 0)
    assert delta(vm, before) == burn(2 * BASE)
    assert vm.logic.register_len(6) == U64_MAX  # failed / not ready leave it unset
    assert vm.logic.promise_result(3, 6) == 1 and vm.logic.registers.get(6) == b""
    with pytest.raises(InvalidPromiseResultIndex, match="index: 4"):
        vm.logic.promise_result(4, 0)


def test_no_results_outside_a_callback(vm: VM) -> None:
    assert vm.logic.promise_results_count() == 0
    with pytest.raises(InvalidPromiseResultIndex):
        vm.logic.promise_result(0, 0)


def test_promise_return_names_a_receipt_index(vm: VM) -> None:
    a, b = batch(vm), batch(vm)
    join(vm, a, b)
    c = then(vm, a)  # promise 3 is receipt 2
    vm.logic.value_return(*vm.put(b"x"))
    before = gas(vm)
    vm.logic.promise_return(c)
    assert delta(vm, before) == burn(BASE + P.promise_return)
    out = vm.logic.outcome()
    assert (out.returned_promise, out.return_data) == (2, None)
    vm.logic.value_return(*vm.put(b"y"))  # the last one wins
    out = vm.logic.outcome()
    assert (out.returned_promise, out.return_data) == (None, b"y")


def test_a_failed_call_creates_nothing(vm: VM) -> None:
    p = create(vm, amount=5)
    vm.logic.promise_return(p)
    vm.logic.promise_yield_create(*vm.put(b"cb"), *vm.put(b""), TGAS, 0, 0)
    out = vm.logic.outcome(GuestPanic("boom"))
    assert out.receipts == () and out.yield_resumes == () and out.returned_promise is None
    assert out.balance == BALANCE
    assert (out.burnt_gas, out.used_gas) == gas(vm)


# --- yield / resume ----------------------------------------------------------------------


@dataclass
class Chain:
    """A ChainView with pending yields as (account, data id) pairs."""

    pending: set[tuple[str, bytes]] = field(default_factory=set)
    asked: list[tuple[str, bytes]] = field(default_factory=list)

    def yield_pending(self, account_id: str, data_id: bytes) -> bool:
        self.asked.append((account_id, data_id))
        return (account_id, data_id) in self.pending


RID = hashlib.sha256(b"some receipt").digest()


def yield_create(vm: VM, method: bytes = b"on_done", args: bytes = b"{}",
                 prepaid: int = 10 * TGAS, weight: int = 0, register: int = 0) -> int:
    return vm.logic.promise_yield_create(*vm.put(method), *vm.put(args), prepaid, weight,
                                         register)


def test_yield_create(make_vm: MakeVM) -> None:
    vm = make_vm(receipt_id=RID)
    batch(vm)
    before = gas(vm)
    index = yield_create(vm, b"on_done", b'{"q":1}')
    n = 7 + 7
    assert delta(vm, before) == total(
        burn(BASE + P.yield_create_base + rm(7) + rm(7) + n * P.yield_create_byte),
        (0, 10 * TGAS),
        receipt(True, (True,)),
        fee(P.action_function_call, sir=True),
        fee(P.action_function_call_per_byte, n, sir=True),
        burn(wr(32)),
    )
    data_id = vm.logic.registers.get(0)
    expected = hashlib.sha256(b"outlayer-yield" + RID + (0).to_bytes(8, "little")).digest()
    assert data_id == expected == yield_data_id(RID, 0)
    yield_create(vm, register=1)
    assert vm.logic.registers.get(1) == yield_data_id(RID, 1)
    out = vm.logic.outcome()
    assert index == 1
    assert out.receipts[1] == NewReceipt(
        "alice.near", [FunctionCall("on_done", b'{"q":1}', 0, 10 * TGAS)], (), data_id
    )


def test_yield_data_ids_are_deterministic(make_vm: MakeVM) -> None:
    ids = []
    for rid in (RID, RID, bytes(32)):
        vm = make_vm(receipt_id=rid)
        yield_create(vm)
        ids.append(vm.logic.registers.get(0))
    assert ids[0] == ids[1] != ids[2]


def test_yield_create_needs_a_method(vm: VM) -> None:
    with pytest.raises(EmptyMethodName):
        yield_create(vm, b"")


def resume(vm: VM, data_id: bytes, payload: bytes = b"result") -> int:
    return vm.logic.promise_yield_resume(*vm.put(data_id), *vm.put(payload))


def test_resume_needs_a_pending_yield_of_this_account(vm: VM) -> None:
    data_id = yield_data_id(RID, 0)
    assert resume(vm, data_id) == 0  # no chain: only this call's own yields
    chain = Chain({("alice.near", data_id), ("bob.near", b"b" * 32)})
    vm.logic.chain = chain
    before = gas(vm)
    assert resume(vm, data_id, b"ok") == 1
    assert delta(vm, before) == burn(
        BASE + P.yield_resume_base + 2 * P.yield_resume_byte + rm(32) + rm(2)
    )
    assert resume(vm, b"b" * 32) == 0  # bob's yield: only bob may resume it
    assert chain.asked == [("alice.near", data_id), ("alice.near", b"b" * 32)]
    assert vm.logic.outcome().yield_resumes == ((data_id, b"ok"),)


def test_resume_a_yield_of_the_same_call_once(vm: VM) -> None:
    yield_create(vm)
    data_id = vm.logic.registers.get(0)
    assert resume(vm, data_id, b"a") == 1
    assert resume(vm, data_id, b"b") == 0
    out = vm.logic.outcome()
    assert out.yield_resumes == ((data_id, b"a"),)
    assert out.receipts[0].yield_data_id == data_id


def test_chain_passed_to_the_constructor() -> None:
    chain = Chain({("alice.near", bytes(32))})
    ctx = VMContext("alice.near", "bob.near", "bob.near")
    logic = VMLogic(ctx, DictStorage(), BytesMemory(1024), DEFAULT_PARAMS, chain)
    assert logic.promise_yield_resume(32, 0, 0, 0) == 1


def test_resume_payload_and_data_id_checks(vm: VM) -> None:
    data_id = yield_data_id(RID, 0)
    assert resume(vm, data_id, bytes(1024)) == 0
    before = gas(vm)
    with pytest.raises(YieldPayloadLength, match="1025 bytes which exceeds the 1024"):
        resume(vm, data_id, bytes(1025))
    assert delta(vm, before) == burn(
        BASE + P.yield_resume_base + 1025 * P.yield_resume_byte + rm(32) + rm(1025)
    )
    with pytest.raises(DataIdMalformed):
        resume(vm, bytes(31))
    with pytest.raises(DataIdMalformed):
        resume(vm, bytes(33))


# --- the end of the call: gas_weight and new-receipt validation ---------------------------


def test_unused_gas_goes_to_weighted_calls(make_vm: MakeVM) -> None:
    vm = make_vm(prepaid_gas=100 * TGAS)
    p = batch(vm)
    call = vm.logic.promise_batch_action_function_call_weight
    for static, weight in ((1 * TGAS, 1), (TGAS // 2, 0), (2 * TGAS, 5), (0, 2)):
        call(p, *vm.put(b"f"), *vm.put(b""), u128(vm, 0), static, weight)
    yield_create(vm, prepaid=0, weight=3)
    unused = 100 * TGAS - vm.logic.gas.used
    out = vm.logic.outcome()
    assert out.ok, out.error
    shares = [unused * w // 11 for w in (1, 5, 2, 3)]
    shares[-1] += unused - sum(shares)  # the remainder goes to the last weighted call
    gases = [a.gas for r in out.receipts for a in r.actions if isinstance(a, FunctionCall)]
    assert gases == [1 * TGAS + shares[0], TGAS // 2, 2 * TGAS + shares[1], shares[2], shares[3]]
    assert out.used_gas == 100 * TGAS and out.burnt_gas == vm.logic.gas.burnt
    assert vm.logic.dag.receipts[0].actions[0].gas == 1 * TGAS  # outcome() is pure


def test_a_zero_gas_call_fails_the_call(vm: VM) -> None:
    p = batch(vm)
    vm.logic.promise_batch_action_function_call(p, *vm.put(b"f"), *vm.put(b""),
                                                u128(vm, 0), 0)
    out = vm.logic.outcome()
    assert out.error is not None and out.error.kind == "NewReceiptValidationError"
    assert out.error.message.startswith("FunctionCallZeroAttachedGas")
    assert out.receipts == () and out.used_gas == vm.logic.gas.used


@pytest.mark.parametrize(
    ("cases", "unused"),
    [  # (static gas, weight, expected gas): nearcore's own distribution vectors
        ([(0, 1, 10**10)], 10**10),
        ([(10**6, 3, 5_998_600_000), (3 * 10**6, 2, 4_001_400_000)], 10**10 - 4 * 10**6),
        ([(0, U64_MAX, 9_999_999_999), (0, 1000, 1)], 10**10),
        ([(0, 10**10, 4_999_999_999), (0, 1, 0), (0, 10**10, 5_000_000_001)], 10**10),
        ([(0, 0, 0), (0, 1, 10**10)], 10**10),
    ],
)
def test_distribution_matches_nearcore(cases: list[tuple[int, int, int]], unused: int) -> None:
    dag = PromiseDag(P)
    for static, weight, _ in cases:
        r = dag.create_receipt("rick.test")
        dag.append(r, FunctionCall("", b"", 0, static, weight), weight)
    receipts, given = dag.finish(unused)
    assert [r.actions[0].gas for r in receipts] == [want for *_, want in cases]
    assert given == unused


def test_max_actions_per_receipt_is_checked_when_the_call_ends(vm: VM) -> None:
    p = batch(vm, b"alice.near")
    for _ in range(100):
        vm.logic.promise_batch_action_create_account(p)
    assert vm.logic.outcome().ok
    vm.logic.promise_batch_action_create_account(p)  # VMLogic itself does not count
    out = vm.logic.outcome()
    assert out.error is not None and out.error.kind == "NewReceiptValidationError"
    assert out.error.message == "TotalNumberOfActionsExceeded: 101 exceeds the limit 100"
    assert out.receipts == () and out.balance == BALANCE
    assert out.burnt_gas == vm.logic.gas.burnt


def test_delete_account_must_be_the_last_action(vm: VM) -> None:
    p = batch(vm, b"alice.near")
    vm.logic.promise_batch_action_delete_account(p, *vm.put(b"bob.near"))
    vm.logic.promise_batch_action_transfer(p, u128(vm, 1))
    out = vm.logic.outcome()
    assert out.error is not None and out.error.message == "DeleteActionMustBeFinal"


def test_view_calls_create_nothing(make_vm: MakeVM) -> None:
    vm = make_vm(is_view=True)
    with pytest.raises(ProhibitedInView, match="promise_create"):
        create(vm)
    with pytest.raises(ProhibitedInView, match="promise_yield_create"):
        yield_create(vm)
    assert vm.logic.dag.receipts == [] and vm.logic.outcome().receipts == ()


# --- property: promises never spend more than the prepaid gas -----------------------------

GAS = st.integers(0, 8 * TGAS) | st.integers(0, 150 * TGAS)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), GAS, st.integers(0, 3)),
        st.tuples(st.just("then"), GAS, st.integers(0, 8)),
        st.tuples(st.just("and"), st.lists(st.integers(0, 8), max_size=4), st.none()),
        st.tuples(st.just("batch"), st.sampled_from([b"alice.near", b"bob.near"]), st.none()),
        st.tuples(st.just("weight"), GAS, st.integers(0, 8)),
        st.tuples(st.just("action"), st.integers(0, 5), st.integers(0, 8)),
        st.tuples(st.just("yield"), GAS, st.integers(0, 3)),
        st.tuples(st.just("return"), st.integers(0, 8), st.none()),
    ),
    max_size=25,
)


def apply(vm: VM, op: str, a: Any, b: Any) -> None:
    """One promise call; promise indices are taken modulo the promises made (so they are
    valid once there is one)."""
    logic = vm.logic
    made = len(logic.dag.promises) or 1
    if op in ("then", "weight", "action"):
        b %= made
    if op in ("and", "return"):
        a = [i % made for i in a] if op == "and" else a % made
    if op == "create":
        create(vm, prepaid=a, amount=b)
    elif op == "then":
        then(vm, b, prepaid=a)
    elif op == "and":
        join(vm, *a)
    elif op == "batch":
        batch(vm, a)
    elif op == "weight":
        logic.promise_batch_action_function_call_weight(
            b, *vm.put(b"w"), *vm.put(b"[]"), u128(vm, 1), a % TGAS, a % 7
        )
    elif op == "action":
        [
            lambda: logic.promise_batch_action_transfer(b, u128(vm, 2)),
            lambda: logic.promise_batch_action_create_account(b),
            lambda: logic.promise_batch_action_deploy_contract(b, *vm.put(b"code")),
            lambda: logic.promise_batch_action_add_key_with_full_access(b, *vm.put(ED_KEY), 1),
            lambda: logic.promise_batch_action_delete_key(b, *vm.put(ED_KEY)),
            lambda: logic.promise_batch_action_stake(b, u128(vm, 1), *vm.put(ED_KEY)),
        ][a]()
    elif op == "yield":
        yield_create(vm, prepaid=a, weight=b)
    elif op == "return":
        logic.promise_return(a)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, prepaid=st.just(PREPAID) | st.integers(0, PREPAID))
def test_promises_never_exceed_prepaid_gas(make_vm: MakeVM, ops: list[Any],
                                           prepaid: int) -> None:
    vm = make_vm(prepaid_gas=prepaid)
    error: HostError | None = None
    for op in [("batch", b"bob.near", None), *ops]:
        try:
            apply(vm, *op)
        except HostError as exc:  # the call stops at its first error, as a guest would
            error = exc
            break
        assert vm.logic.gas.burnt <= vm.logic.gas.used <= prepaid
    out = vm.logic.outcome(error)
    assert out.burnt_gas <= out.used_gas <= prepaid
    attached = sum(a.gas for r in out.receipts for a in r.actions if isinstance(a, FunctionCall))
    assert attached <= out.used_gas - out.burnt_gas
    if out.ok and vm.logic.dag.weights:
        assert out.used_gas == prepaid
    assert out.balance == (vm.logic.current_account_balance if out.ok else BALANCE)
