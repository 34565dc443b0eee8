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


def deploy_global_contract(source: str | bytes | Path, mode: str = "CodeHash") -> Any:
    """NEP-591: code anyone can use, under its hash (mode "CodeHash", immutable) or under
    the receiver's account id (mode "AccountId", which that account updates by deploying
    again); see `outlayer.chain.global_contracts`."""
    from outlayer.chain import global_contracts
    from outlayer.chain.simulator import read_source

    return global_contracts.deploy_action(read_source(source), mode)


def use_global_contract(code_hash: str | None = None, account_id: str | None = None) -> Any:
    """Run the global contract deployed under `code_hash` (base58) or `account_id`."""
    from outlayer.chain import global_contracts

    return global_contracts.use_action(code_hash_b58=code_hash, account_id=account_id)


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


class ActionsInvalid(UserError):
    """An action list NEAR refuses (nearcore's ActionsValidationError): `detail` is that
    error's JSON, exactly as nearcore serializes it (``"DeleteActionMustBeFinal"``,
    ``{"TotalPrepaidGasExceeded": {"total_prepaid_gas": .., "limit": ..}}``, ...), for RPC
    clients that parse it; the message says the same for people."""

    kind = "ActionsValidation"

    def __init__(self, detail: str | dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.detail = detail


def _exceeded(variant: str, field: str, value: int, limit: int, what: str) -> ActionsInvalid:
    return ActionsInvalid({variant: {field: value, "limit": limit}},
                          f"{what} is {value}, over the limit of {limit}")


def validate_actions(actions: object, params: Params = DEFAULT_PARAMS, *,
                     delegated: bool = False) -> list[Action]:
    """The actions if NEAR would accept them in a transaction (nearcore's validate_actions,
    in its order); else ActionsInvalid naming nearcore's variant. An empty list is valid,
    as in nearcore (the receipt does nothing). Python-only mistakes (not an action, an
    amount that is no u128) are plain UserErrors. One SignedDelegate (NEP-366) may be among
    them: its inner actions are checked the same way (`delegated`: they are those)."""
    from outlayer.chain.signed import (  # signed.py imports this module
        DeployGlobalContract,
        SignedDelegate,
        UseGlobalContract,
    )

    if not isinstance(actions, list | tuple):
        raise UserError("a transaction's actions must be a list of actions")
    if len(actions) > params.max_actions_per_receipt:
        raise _exceeded("TotalNumberOfActionsExceeded", "total_number_of_actions",
                        len(actions), params.max_actions_per_receipt,
                        "the number of actions")
    gas = 0
    delegates = 0
    for i, action in enumerate(actions):
        if isinstance(action, SignedDelegate) and not delegated:
            delegates += 1
            if delegates > 1:
                raise ActionsInvalid("DelegateActionMustBeOnlyOne",
                                     "a transaction may hold only one delegate action")
            d = action.delegate_action
            _valid_account_id(d.sender_id, f"action {i}: delegate sender")
            _valid_account_id(d.receiver_id, f"action {i}: delegate receiver")
            public_key_str(d.public_key)  # raises on a malformed key
            inner = validate_actions(d.actions, params, delegated=True)
            gas += sum(a.gas for a in inner if isinstance(a, FunctionCall))
            continue
        if not isinstance(action, _ACTION_TYPES + (DeployGlobalContract, UseGlobalContract)):
            if isinstance(action, SignedDelegate):
                raise UserError(f"action {i}: a delegate action cannot hold another one "
                                "(NEP-366)")
            raise UserError(f"action {i} is not an action (use outlayer.chain.actions): "
                            f"{action!r}")
        if isinstance(action, DeleteAccount) and i != len(actions) - 1:
            raise ActionsInvalid("DeleteActionMustBeFinal",
                                 "DeleteAccount must be the last action of a transaction")
        if isinstance(action, DeployGlobalContract | UseGlobalContract):
            _validate_global(i, action, params)
        else:
            _validate_action(i, action, params)
    gas += sum(a.gas for a in actions if isinstance(a, FunctionCall))
    if gas >= 1 << 64:
        raise ActionsInvalid("IntegerOverflow", "the function calls' prepaid gas overflows "
                             "a u64")
    if gas > params.max_total_prepaid_gas:
        raise ActionsInvalid({"TotalPrepaidGasExceeded": {
            "total_prepaid_gas": gas, "limit": params.max_total_prepaid_gas}},
            f"the function calls prepay {gas} gas, over the limit of "
            f"{params.max_total_prepaid_gas} ({params.max_total_prepaid_gas // TGAS} Tgas)")
    return list(actions)


def _validate_action(i: int, action: Action, params: Params) -> None:
    """nearcore's validate_action for one action (`i` only for messages)."""
    if isinstance(action, Transfer | FunctionCall | Stake):
        amount = action.stake if isinstance(action, Stake) else action.deposit
        if not isinstance(amount, int) or amount < 0 or amount >= 1 << 128:
            raise UserError(f"action {i}: amount must be a u128, got {amount!r}")
    if isinstance(action, AddKey | DeleteKey | Stake):
        public_key_str(action.public_key)  # raises on a malformed key
    if isinstance(action, DeployContract) and len(action.code) > params.max_contract_size:
        raise _exceeded("ContractSizeExceeded", "size", len(action.code),
                        params.max_contract_size, f"action {i}: the contract size in bytes")
    elif isinstance(action, FunctionCall):
        _validate_function_call(i, action, params)
    elif isinstance(action, Stake) and not is_valid_staking_key(action.public_key):
        key = public_key_str(action.public_key)
        raise ActionsInvalid({"UnsuitableStakingKey": {"public_key": key}},
                             f"action {i}: UnsuitableStakingKey: the staking key {key} is "
                             "not an ed25519 key on the curve")
    elif isinstance(action, AddKey) and isinstance(action.permission, FunctionCallPermission):
        _validate_key_permission(i, action.permission, params)
    elif isinstance(action, DeleteAccount):
        _valid_account_id(action.beneficiary_id, f"action {i}: beneficiary")


def _validate_global(i: int, action: Any, params: Params) -> None:
    """nearcore's validate_deploy_global_contract_action (the code size) and the identifier
    of a UseGlobalContract (a 32-byte hash or a valid account id)."""
    from outlayer.chain.signed import DeployGlobalContract

    if isinstance(action, DeployGlobalContract):
        if action.mode not in (0, 1):
            raise UserError(f"action {i}: global contract deploy mode must be 0 (CodeHash) or "
                            f"1 (AccountId), got {action.mode!r}")
        if len(action.code) > params.max_contract_size:
            raise _exceeded("ContractSizeExceeded", "size", len(action.code),
                            params.max_contract_size,
                            f"action {i}: the global contract size in bytes")
        return
    if action.code_hash is not None:
        if action.account_id is not None or len(action.code_hash) != 32:
            raise UserError(f"action {i}: a global contract is named by a 32-byte code hash "
                            "or by an account id, not both")
        return
    _valid_account_id(action.account_id, f"action {i}: global contract account")


def _validate_function_call(i: int, action: FunctionCall, params: Params) -> None:
    if not isinstance(action.gas, int) or action.gas < 0 or action.gas >= 1 << 64:
        raise UserError(f"action {i}: gas must be a u64, got {action.gas!r}")
    if action.gas == 0:
        raise ActionsInvalid("FunctionCallZeroAttachedGas",
                             f"action {i}: a function call must attach some gas (it "
                             "attaches 0)")
    name = action.method_name
    if not isinstance(name, str):
        raise UserError(f"action {i}: the method name must be a string, got {name!r}")
    if not name:  # nearcore's newer rule (older protocols failed it when it ran)
        raise ActionsInvalid("FunctionCallEmptyMethodName",
                             f"action {i}: the method name is empty")
    length = len(name.encode())
    if length > params.max_length_method_name:
        raise _exceeded("FunctionCallMethodNameLengthExceeded", "length", length,
                        params.max_length_method_name,
                        f"action {i}: the method name's length in bytes")
    if len(action.args) > params.max_arguments_length:
        raise _exceeded("FunctionCallArgumentsLengthExceeded", "length", len(action.args),
                        params.max_arguments_length, f"action {i}: the args' length in bytes")


def _validate_key_permission(i: int, permission: FunctionCallPermission,
                             params: Params) -> None:
    _valid_account_id(permission.receiver_id, f"action {i}: key receiver")
    total = 0
    for name in permission.method_names:
        length = len(name.encode())
        if length > params.max_length_method_name:
            raise _exceeded("AddKeyMethodNameLengthExceeded", "length", length,
                            params.max_length_method_name,
                            f"action {i}: the key's method name {name[:40]!r}: its length")
        total += length + 1  # nearcore counts a terminator per name
    if total > params.max_number_bytes_method_names:
        raise _exceeded("AddKeyMethodNamesNumberOfBytesExceeded", "total_number_of_bytes",
                        total, params.max_number_bytes_method_names,
                        f"action {i}: the key's method names' bytes (one more per name)")


def _valid_account_id(account_id: object, what: str) -> None:
    try:
        check_account_id(account_id, what)
    except UserError as exc:
        shown = account_id if isinstance(account_id, str) else repr(account_id)
        raise ActionsInvalid({"InvalidAccountId": {"account_id": shown[:128]}},
                             exc.message) from None
