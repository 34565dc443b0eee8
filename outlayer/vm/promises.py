"""The promise DAG of one contract call (nearcore's Promise list + ReceiptManager).

VMLogic's promise functions do the gas, limits and argument reading; this module keeps
what they built: the receipts, the promises that name them, the function calls waiting
for a share of unused gas, and the yields. At the end of a successful call `finish`
distributes the unused gas and `validate_receipt` applies the checks nearcore's runtime
makes on every new receipt (that is where max_actions_per_receipt lives, not in VMLogic).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from outlayer.chain.accounts import public_key_str
from outlayer.errors import (
    CannotAppendActionToJointPromise,
    EmptyMethodName,
    InvalidMethodName,
    InvalidPromiseIndex,
    NewReceiptValidationError,
    NumberPromisesExceeded,
)
from outlayer.vm.params import Params
from outlayer.vm.receipts import (
    Action,
    AddKey,
    DeleteAccount,
    DeployContract,
    FunctionCall,
    FunctionCallPermission,
    NewReceipt,
    Stake,
)

#: A promise names one receipt (by receipt index) or, made by promise_and, several.
Promise = int | tuple[int, ...]

#: borsh PublicKey: key type byte -> key length (0 = ed25519, 1 = secp256k1).
_KEY_LENGTHS = {0: 32, 1: 64}


class InvalidNewReceipt(NewReceiptValidationError):
    """NewReceiptValidationError with nearcore's ReceiptValidationError as data: `variant`
    and its `fields` (None: a variant without fields); `in_actions`: an ActionsValidationError,
    which nearcore wraps in ReceiptValidationError::ActionsValidation."""

    def __init__(self, message: str, variant: str, fields: dict[str, Any] | None = None, *,
                 in_actions: bool = True) -> None:
        super().__init__(message)
        self.variant = variant
        self.fields = fields
        self.in_actions = in_actions

    @property
    def receipt_error(self) -> Any:
        """nearcore's ReceiptValidationError JSON, e.g. ``{"ActionsValidation":
        {"TotalPrepaidGasExceeded": {"total_prepaid_gas": 301, "limit": 300}}}``."""
        inner = self.variant if self.fields is None else {self.variant: dict(self.fields)}
        return {"ActionsValidation": inner} if self.in_actions else inner


def parse_public_key(data: bytes) -> bytes | None:
    """`data` if it is exactly one borsh PublicKey, else None (the caller raises
    InvalidPublicKey late, where nearcore does: after the action's fee)."""
    if data and _KEY_LENGTHS.get(data[0]) == len(data) - 1:
        return data
    return None


def split_method_names(raw: bytes) -> list[bytes]:
    """Comma-separated method names of a function-call access key; empty = any method."""
    if not raw:
        return []
    names = raw.split(b",")
    if any(not name for name in names):
        raise EmptyMethodName("Tried to call an empty method name.")
    return names


def method_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidMethodName("VM Logic returned an invalid method name") from None


class PromiseDag:
    """Receipts and promises created so far by one call."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.receipts: list[NewReceipt] = []
        self.promises: list[Promise] = []
        #: (receipt index, action index, weight) of function calls with gas_weight > 0
        self.weights: list[tuple[int, int, int]] = []
        #: data ids of this call's yields not resumed in this call yet
        self.open_yields: set[bytes] = set()
        self.yields_created = 0
        self.resumes: list[tuple[bytes, bytes]] = []

    # --- promises -----------------------------------------------------------------------

    def receipts_of(self, promise_idx: int) -> tuple[int, ...]:
        """The receipts a promise names (a callback on it waits for all of them)."""
        if not 0 <= promise_idx < len(self.promises):
            raise InvalidPromiseIndex(f"{promise_idx} does not correspond to existing promises")
        promise = self.promises[promise_idx]
        return promise if isinstance(promise, tuple) else (promise,)

    def receipt_of(self, promise_idx: int) -> int:
        """The one receipt an action may be appended to."""
        if not 0 <= promise_idx < len(self.promises):
            raise InvalidPromiseIndex(f"{promise_idx} does not correspond to existing promises")
        promise = self.promises[promise_idx]
        if isinstance(promise, tuple):
            raise CannotAppendActionToJointPromise(
                "Actions can only be appended to non-joint promise."
            )
        return promise

    def push(self, promise: Promise) -> int:
        """Add a promise; like nearcore, the limit is checked after the receipt exists."""
        self.promises.append(promise)
        limit = self.params.max_promises_per_function_call_action
        if len(self.promises) > limit:
            raise NumberPromisesExceeded(
                f"The number of promises within a FunctionCall {len(self.promises)} exceeds "
                f"the limit {limit}"
            )
        return len(self.promises) - 1

    def receiver(self, receipt_idx: int) -> str:
        return self.receipts[receipt_idx].receiver_id

    # --- receipts -----------------------------------------------------------------------

    def create_receipt(self, receiver_id: str, depends_on: tuple[int, ...] = (),
                       yield_data_id: bytes | None = None) -> int:
        self.receipts.append(NewReceipt(receiver_id, [], depends_on, yield_data_id))
        return len(self.receipts) - 1

    def append(self, receipt_idx: int, action: Action, gas_weight: int = 0) -> None:
        actions = self.receipts[receipt_idx].actions
        actions.append(action)
        if gas_weight > 0:
            self.weights.append((receipt_idx, len(actions) - 1, gas_weight))

    # --- end of the call ----------------------------------------------------------------

    def finish(self, unused_gas: int) -> tuple[tuple[NewReceipt, ...], int]:
        """Copies of the receipts with `unused_gas` split among the weighted function calls
        (floor(unused * weight / total) each, the remainder to the last one, as nearcore's
        runtime does); returns them and the gas handed out (0 or `unused_gas`)."""
        out = [NewReceipt(r.receiver_id, list(r.actions), r.depends_on, r.yield_data_id)
               for r in self.receipts]
        total = sum(w for _, _, w in self.weights)
        if total == 0 or unused_gas <= 0:
            return tuple(out), 0
        given = 0
        for n, (r, a, weight) in enumerate(self.weights):
            share = unused_gas * weight // total
            given += share
            if n == len(self.weights) - 1:
                share += unused_gas - given
            call = out[r].actions[a]
            assert isinstance(call, FunctionCall)
            out[r].actions[a] = replace(call, gas=call.gas + share)
        return tuple(out), unused_gas


def validate_receipt(receipt: NewReceipt, params: Params) -> None:
    """nearcore's validate_receipt for a receipt a call created (ValidateReceiptMode::
    NewReceipt): a failure fails the call with InvalidNewReceipt, whose message starts with
    the ActionsValidationError / ReceiptValidationError variant."""
    deps = len(receipt.depends_on) + (receipt.yield_data_id is not None)
    if deps > params.max_number_input_data_dependencies:
        raise _invalid("NumberInputDataDependenciesExceeded", deps,
                       params.max_number_input_data_dependencies, in_actions=False)
    actions = receipt.actions
    if len(actions) > params.max_actions_per_receipt:
        raise _invalid("TotalNumberOfActionsExceeded", len(actions),
                       params.max_actions_per_receipt)
    total_gas = 0
    for i, action in enumerate(actions):
        if isinstance(action, DeleteAccount) and i != len(actions) - 1:
            raise InvalidNewReceipt("DeleteActionMustBeFinal", "DeleteActionMustBeFinal")
        if isinstance(action, DeployContract) and len(action.code) > params.max_contract_size:
            raise _invalid("ContractSizeExceeded", len(action.code), params.max_contract_size)
        if isinstance(action, FunctionCall):
            total_gas += action.gas
            _validate_function_call(action, params)
        if isinstance(action, Stake) and action.public_key[0] != 0:
            # nearcore also refuses ed25519 keys off the prime-order subgroup; there are no
            # validators here, so only the key type is checked
            raise InvalidNewReceipt("UnsuitableStakingKey: staking keys are ed25519",
                                    "UnsuitableStakingKey",
                                    {"public_key": public_key_str(action.public_key)})
        if isinstance(action, AddKey) and isinstance(action.permission, FunctionCallPermission):
            _validate_method_names(action.permission.method_names, params)
    if total_gas > params.max_total_prepaid_gas:
        raise _invalid("TotalPrepaidGasExceeded", total_gas, params.max_total_prepaid_gas)


#: the count field nearcore names in each "<variant>: <n> exceeds the limit <limit>" error
_COUNT_FIELDS = {
    "NumberInputDataDependenciesExceeded": "number_of_input_data_dependencies",
    "TotalNumberOfActionsExceeded": "total_number_of_actions",
    "TotalPrepaidGasExceeded": "total_prepaid_gas",
    "ContractSizeExceeded": "size",
    "FunctionCallMethodNameLengthExceeded": "length",
    "FunctionCallArgumentsLengthExceeded": "length",
    "AddKeyMethodNameLengthExceeded": "length",
    "AddKeyMethodNamesNumberOfBytesExceeded": "total_number_of_bytes",
}


def _invalid(variant: str, value: int, limit: int, *, in_actions: bool = True
             ) -> InvalidNewReceipt:
    return InvalidNewReceipt(f"{variant}: {value} exceeds the limit {limit}", variant,
                             {_COUNT_FIELDS[variant]: value, "limit": limit},
                             in_actions=in_actions)


def _validate_function_call(action: FunctionCall, params: Params) -> None:
    if action.gas == 0:
        raise InvalidNewReceipt(
            f"FunctionCallZeroAttachedGas: {action.method_name!r} attaches no gas",
            "FunctionCallZeroAttachedGas")
    name_len = len(action.method_name.encode())
    if name_len > params.max_length_method_name:
        raise _invalid("FunctionCallMethodNameLengthExceeded", name_len,
                       params.max_length_method_name)
    if len(action.args) > params.max_arguments_length:
        raise _invalid("FunctionCallArgumentsLengthExceeded", len(action.args),
                       params.max_arguments_length)


def _validate_method_names(names: tuple[str, ...], params: Params) -> None:
    total = 0
    for name in names:
        length = len(name.encode())
        if length > params.max_length_method_name:
            raise _invalid("AddKeyMethodNameLengthExceeded", length,
                           params.max_length_method_name)
        total += length + 1  # nearcore counts a terminator per name
    if total > params.max_number_bytes_method_names:
        raise _invalid("AddKeyMethodNamesNumberOfBytesExceeded", total,
                       params.max_number_bytes_method_names)
