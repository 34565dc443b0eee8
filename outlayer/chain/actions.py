"""Building transaction actions for `ContractSimulator.transact`, with user-friendly inputs.

Amounts take the same forms as everywhere (`1NEAR`, yoctoNEAR ints), gas `30T`, public keys
``"ed25519:<base58>"``; each helper returns one `outlayer.vm.receipts` action::

    sim.transact("alice.test", "sub.alice.test", [
        actions.create_account(), actions.transfer("5NEAR"),
        actions.add_full_access_key("ed25519:..."), actions.deploy_contract(source)])

`validate_actions` applies NEAR's transaction checks (nearcore's validate_actions) before
anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from outlayer.chain.accounts import check_account_id, public_key_bytes, public_key_str
from outlayer.chain.codec import encode_args
from outlayer.chain.staking import is_valid_staking_key
from outlayer.chain.units import TGAS, parse_amount, parse_gas
from outlayer.errors import UserError
from outlayer.vm.params import DEFAULT_PARAMS, Params
from outlayer.vm.receipts import (
    Action,
    AddKey,
    CreateAccount,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FullAccess,
    FunctionCall,
    FunctionCallPermission,
    Stake,
    Transfer,
)

DEFAULT_GAS = 300 * TGAS


def create_account() -> CreateAccount:
    return CreateAccount()


def deploy_contract(source: str | bytes | Path) -> DeployContract:
    from outlayer.chain.simulator import read_source

    return DeployContract(read_source(source))


def function_call(method: str, args: Any = None, deposit: int | str = 0,
                  gas: int | str = DEFAULT_GAS, gas_weight: int = 0) -> FunctionCall:
    raw = encode_args(args, DEFAULT_PARAMS.max_arguments_length)
    return FunctionCall(method, raw, parse_amount(deposit), parse_gas(gas), gas_weight)


def transfer(amount: int | str) -> Transfer:
    return Transfer(parse_amount(amount))


def stake(amount: int | str, public_key: str) -> Stake:
    return Stake(parse_amount(amount), public_key_bytes(public_key))


def add_full_access_key(public_key: str, nonce: int = 0) -> AddKey:
    return AddKey(public_key_bytes(public_key), nonce, FullAccess())


def add_function_call_key(public_key: str, receiver_id: str,
                          method_names: list[str] | tuple[str, ...] = (),
                          allowance: int | str | None = None, nonce: int = 0) -> AddKey:
    """A function-call key: calls to `receiver_id` only (any method if none named),
    spending at most `allowance` on gas (None: unlimited)."""
    check_account_id(receiver_id, "key receiver")
    amount = None if allowance is None else parse_amount(allowance)
    return AddKey(public_key_bytes(public_key), nonce,
                  FunctionCallPermission(amount, receiver_id, tuple(method_names)))


def delete_key(public_key: str) -> DeleteKey:
    return DeleteKey(public_key_bytes(public_key))


def delete_account(beneficiary_id: str) -> DeleteAccount:
    return DeleteAccount(check_account_id(beneficiary_id, "beneficiary"))


_ACTION_TYPES = (CreateAccount, DeployContract, FunctionCall, Transfer, Stake, AddKey,
                 DeleteKey, DeleteAccount)


def validate_actions(actions: object, params: Params = DEFAULT_PARAMS) -> list[Action]:
    """The actions if NEAR would accept them in a transaction; else a UserError saying why."""
    if not isinstance(actions, list | tuple) or not actions:
        raise UserError("a transaction needs a non-empty list of actions")
    if len(actions) > params.max_actions_per_receipt:
        raise UserError(f"{len(actions)} actions, over the limit of "
                        f"{params.max_actions_per_receipt} per transaction")
    gas = 0
    for i, action in enumerate(actions):
        if not isinstance(action, _ACTION_TYPES):
            raise UserError(f"action {i} is not an action (use outlayer.chain.actions): "
                            f"{action!r}")
        if isinstance(action, DeleteAccount) and i != len(actions) - 1:
            raise UserError("DeleteAccount must be the last action of a transaction")
        if isinstance(action, DeployContract) and len(action.code) > params.max_contract_size:
            raise UserError(f"contract is {len(action.code)} bytes, over the limit of "
                            f"{params.max_contract_size} bytes")
        if isinstance(action, FunctionCall):
            name = action.method_name
            if not isinstance(name, str) or not name:
                raise UserError("method name must be a non-empty string")
            if len(name.encode()) > params.max_length_method_name:
                raise UserError(f"method name is over {params.max_length_method_name} bytes")
            if len(action.args) > params.max_arguments_length:
                raise UserError(f"args are {len(action.args)} bytes, over the limit of "
                                f"{params.max_arguments_length} bytes")
            gas += action.gas
        if isinstance(action, Transfer | FunctionCall | Stake):
            amount = action.stake if isinstance(action, Stake) else action.deposit
            if not isinstance(amount, int) or amount < 0 or amount >= 1 << 128:
                raise UserError(f"action {i}: amount must be a u128, got {amount!r}")
        if isinstance(action, AddKey | DeleteKey | Stake):
            public_key_str(action.public_key)  # raises on a malformed key
        if isinstance(action, Stake) and not is_valid_staking_key(action.public_key):
            raise UserError(f"action {i}: UnsuitableStakingKey: a staking key must be an "
                            "ed25519 key on the curve")
        if isinstance(action, AddKey) and isinstance(action.permission,
                                                     FunctionCallPermission):
            names = action.permission.method_names
            if sum(len(n.encode()) for n in names) > params.max_number_bytes_method_names:
                raise UserError("the key's method names are over "
                                f"{params.max_number_bytes_method_names} bytes")
            for name in names:
                if not name or len(name.encode()) > params.max_length_method_name:
                    raise UserError(f"bad method name {name!r} in a function-call key")
            check_account_id(action.permission.receiver_id, "key receiver")
        if isinstance(action, DeleteAccount):
            check_account_id(action.beneficiary_id, "beneficiary")
    if gas > params.max_total_prepaid_gas:
        raise UserError(f"the function calls prepay {gas} gas, over the limit of "
                        f"{params.max_total_prepaid_gas // TGAS} Tgas")
    return list(actions)
