"""Every error a contract call can end in, named as NEAR names them where NEAR has a name.

A call never lets a Python exception of the host escape as-is: the runner turns every
failure into one of these, and the outcome carries `kind` + `message` for users and tools.
"""

from __future__ import annotations


class OutLayerError(Exception):
    """Base class of every error OutLayer reports to a user."""

    kind: str = "OutLayerError"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.kind)
        self.message = message or self.kind

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


class HostError(OutLayerError):
    """A NEAR host-function error: the call fails, its state changes are discarded."""

    kind = "HostError"


def _host(name: str, doc: str) -> type[HostError]:
    cls = type(name, (HostError,), {"kind": name, "__doc__": doc})
    return cls


GasExceeded = _host("GasExceeded", "Burnt more gas than the call's prepaid gas.")
GasLimitExceeded = _host("GasLimitExceeded", "Burnt over max_gas_burnt (wins over GasExceeded).")
ProhibitedInView = _host("ProhibitedInView", "A view call used a host function only calls may use.")
MemoryAccessViolation = _host("MemoryAccessViolation", "A pointer/length outside guest memory.")
InvalidRegisterId = _host("InvalidRegisterId", "read_register of a register that is not set.")
MemoryLimitExceeded = _host("MemoryLimitExceeded", "Registers or guest memory over their limit.")
KeyLengthExceeded = _host("KeyLengthExceeded", "Storage key longer than max_length_storage_key.")
ValueLengthExceeded = _host("ValueLengthExceeded", "Storage value over max_length_storage_value.")
NumberOfLogsExceeded = _host("NumberOfLogsExceeded", "More than max_number_logs logs.")
TotalLogLengthExceeded = _host("TotalLogLengthExceeded", "Logs over max_total_log_length bytes.")
ReturnedValueLengthExceeded = _host("ReturnedValueLengthExceeded", "Return value too long.")
GuestPanic = _host("GuestPanic", "The contract panicked (near.panic or panic_utf8).")
BadUTF8 = _host("BadUTF8", "A string argument is not valid UTF-8.")
BadUTF16 = _host("BadUTF16", "A string argument is not valid UTF-16.")
InvalidAccountId = _host("InvalidAccountId", "An account id that NEAR would reject.")
ECRecoverError = _host("ECRecoverError", "ecrecover called with malformed input.")
Ed25519VerifyInvalidInput = _host("Ed25519VerifyInvalidInput", "ed25519_verify wrong sizes.")
IntegerOverflow = _host("IntegerOverflow", "An arithmetic overflow in gas or balance math.")
UnsupportedHostFunction = _host(
    "UnsupportedHostFunction", "A host function this version of OutLayer does not provide yet."
)
WallClockTimeExceeded = _host(
    "WallClockTimeExceeded", "The wall-clock safety net stopped the call (not deterministic)."
)
WasmTrap = _host("WasmTrap", "The guest trapped (stack overflow, unreachable, ...).")

# Promises and yields (NEAR's HostError names).
BalanceExceeded = _host("BalanceExceeded", "Deposits attached to promises exceed the balance.")
EmptyMethodName = _host("EmptyMethodName", "A function call or access key names an empty method.")
InvalidMethodName = _host("InvalidMethodName", "A method name is not valid UTF-8.")
InvalidPublicKey = _host("InvalidPublicKey", "A public key that is not a borsh PublicKey.")
InvalidPromiseIndex = _host("InvalidPromiseIndex", "A promise index this call never created.")
InvalidPromiseResultIndex = _host(
    "InvalidPromiseResultIndex", "promise_result of a dependency the callback does not have."
)
CannotAppendActionToJointPromise = _host(
    "CannotAppendActionToJointPromise", "Actions go to a receipt, not to a promise_and."
)
CannotReturnJointPromise = _host("CannotReturnJointPromise", "promise_return of a promise_and.")
NumberPromisesExceeded = _host(
    "NumberPromisesExceeded", "More than max_promises_per_function_call_action promises."
)
NumberInputDataDependenciesExceeded = _host(
    "NumberInputDataDependenciesExceeded", "A promise_and over max_number_input_data_dependencies."
)
ContractSizeExceeded = _host("ContractSizeExceeded", "DeployContract code over max_contract_size.")
YieldPayloadLength = _host("YieldPayloadLength", "A resume payload over max_yield_payload_size.")
DataIdMalformed = _host("DataIdMalformed", "A yield data id that is not 32 bytes.")
NewReceiptValidationError = _host(
    "NewReceiptValidationError",
    "A receipt the call created breaks NEAR's receipt rules (checked when the call ends).",
)

# Errors the QuickJS guest bridge reports through syscall 490 (see outlayer.syscalls).
CompileError = _host("CompileError", "The contract module does not parse or link.")
MethodNotFound = _host("MethodNotFound", "The contract exports no function of that name.")
JSException = _host("JSException", "The method threw: message and JS stack.")
ResultNotSerializable = _host("ResultNotSerializable", "The return value has no JSON form.")
PromiseNotSettled = _host("PromiseNotSettled", "An async method's promise never settled.")
InvalidArguments = _host("InvalidArguments", "Call arguments are not a JSON object.")
InternalError = _host("InternalError", "A fault of OutLayer itself, never the contract's.")

GUEST_ERRORS: dict[str, type[HostError]] = {
    cls.kind: cls
    for cls in (CompileError, MethodNotFound, JSException, ResultNotSerializable,
                PromiseNotSettled, MemoryLimitExceeded, InvalidArguments, InternalError)
}


class UserError(OutLayerError):
    """Bad input from the user before any contract runs (unknown account, bad JSON, ...)."""

    kind = "UserError"


class AccountNotFound(UserError):
    kind = "AccountNotFound"


class AccountAlreadyExists(UserError):
    kind = "AccountAlreadyExists"


class ContractNotDeployed(UserError):
    kind = "ContractNotDeployed"


class GuestNotBuilt(OutLayerError):
    kind = "GuestNotBuilt"


def json_type(value: object) -> str:
    """The JSON name of a value's type, for messages (never a Python type name)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"
