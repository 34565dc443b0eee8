"""validate_actions refuses what nearcore's validate_actions refuses, with nearcore's
ActionsValidationError variant and fields as `detail` and a readable message."""

from __future__ import annotations

import pytest

from outlayer.chain.accounts import public_key_str
from outlayer.chain.actions import ActionsInvalid, validate_actions
from outlayer.chain.simulator import ContractSimulator
from outlayer.errors import UserError
from outlayer.vm.params import DEFAULT_PARAMS as P
from outlayer.vm.receipts import (
    AddKey,
    CreateAccount,
    DeleteAccount,
    DeployContract,
    FunctionCall,
    FunctionCallPermission,
    Stake,
    Transfer,
)

KEY = b"\x00" + bytes(range(32))
# y = 2 has no x on ed25519: not a point, so not a staking key
OFF_CURVE = b"\x00" + (2).to_bytes(32, "little")


def call(method: str = "m", gas: int = 10**12, args: bytes = b"{}") -> FunctionCall:
    return FunctionCall(method, args, 0, gas)


def fc_key(receiver: str = "a.test", names: tuple[str, ...] = ()) -> AddKey:
    return AddKey(KEY, 0, FunctionCallPermission(None, receiver, names))


CASES = [
    ([DeleteAccount("bob.test"), Transfer(1)], "DeleteActionMustBeFinal"),
    ([Transfer(1)] * (P.max_actions_per_receipt + 1),
     {"TotalNumberOfActionsExceeded": {"total_number_of_actions": P.max_actions_per_receipt + 1,
                                       "limit": P.max_actions_per_receipt}}),
    ([call(gas=P.max_total_prepaid_gas), call(gas=1)],
     {"TotalPrepaidGasExceeded": {"total_prepaid_gas": P.max_total_prepaid_gas + 1,
                                  "limit": P.max_total_prepaid_gas}}),
    ([call(gas=(1 << 64) - 1), call(gas=1)], "IntegerOverflow"),
    ([call(gas=0)], "FunctionCallZeroAttachedGas"),
    ([call(method="")], "FunctionCallEmptyMethodName"),
    ([call(method="m" * (P.max_length_method_name + 1))],
     {"FunctionCallMethodNameLengthExceeded": {"length": P.max_length_method_name + 1,
                                               "limit": P.max_length_method_name}}),
    ([call(args=b"x" * (P.max_arguments_length + 1))],
     {"FunctionCallArgumentsLengthExceeded": {"length": P.max_arguments_length + 1,
                                              "limit": P.max_arguments_length}}),
    ([DeployContract(b"x" * (P.max_contract_size + 1))],
     {"ContractSizeExceeded": {"size": P.max_contract_size + 1,
                               "limit": P.max_contract_size}}),
    ([Stake(1, OFF_CURVE)],
     {"UnsuitableStakingKey": {"public_key": public_key_str(OFF_CURVE)}}),
    ([fc_key(names=("n" * (P.max_length_method_name + 1),))],
     {"AddKeyMethodNameLengthExceeded": {"length": P.max_length_method_name + 1,
                                         "limit": P.max_length_method_name}}),
    ([fc_key(names=tuple(f"{i:0>99}" for i in range(21)))],  # 21 * (99 + 1) bytes
     {"AddKeyMethodNamesNumberOfBytesExceeded": {
         "total_number_of_bytes": 2100, "limit": P.max_number_bytes_method_names}}),
    ([fc_key(receiver="Not Valid")], {"InvalidAccountId": {"account_id": "Not Valid"}}),
    ([DeleteAccount("UP")], {"InvalidAccountId": {"account_id": "UP"}}),
]


@pytest.mark.parametrize(("actions", "detail"), CASES,
                         ids=[c[1] if isinstance(c[1], str) else next(iter(c[1]))
                              for c in CASES])
def test_refusals_carry_nearcores_variant(actions, detail):
    with pytest.raises(ActionsInvalid) as info:
        validate_actions(actions, P)
    assert info.value.detail == detail
    assert info.value.message and "{" not in info.value.message  # for people, not JSON


def test_limits_hold_at_the_boundary():
    names = tuple(f"{i:0>99}" for i in range(P.max_number_bytes_method_names // 100))
    ok = [CreateAccount(), Transfer(1), fc_key(names=names),
          call(method="m" * P.max_length_method_name, gas=P.max_total_prepaid_gas),
          DeleteAccount("bob.test")]
    assert validate_actions(ok, P) == ok


def test_empty_action_list_is_valid_as_in_nearcore():
    assert validate_actions([], P) == []
    sim = ContractSimulator("quickjs", db_path=":memory:")
    try:
        sim.create_account("alice.test", 10**27)
        result = sim.transact("alice.test", "alice.test", [])
        assert result.ok
        assert sim.tx_outcome(result.tx_hash).status_json() == {"SuccessValue": ""}
    finally:
        sim.close()


def test_zero_gas_call_is_refused_before_it_runs():
    sim = ContractSimulator("quickjs", db_path=":memory:")
    try:
        sim.create_account("alice.test", 10**27)
        height = sim.height
        with pytest.raises(ActionsInvalid, match="must attach some gas"):
            sim.transact("alice.test", "alice.test", [call(gas=0)])
        assert sim.height == height  # nothing ran, no block
    finally:
        sim.close()


def test_python_mistakes_stay_plain_user_errors():
    with pytest.raises(UserError, match="not an action") as info:
        validate_actions(["transfer"], P)
    assert not isinstance(info.value, ActionsInvalid)
    with pytest.raises(UserError, match="u128"):
        validate_actions([Transfer(-1)], P)
