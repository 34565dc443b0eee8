"""What a contract call asks the chain to do next: new receipts and their actions.

VMLogic's promise functions build these (nearcore's ReceiptManager); the chain's receipt
engine (outlayer.chain) turns them into action receipts, data dependencies and outcomes.

Two kinds of index, both local to one call: a *promise index* is what the contract holds
(every promise_create / _then / _and / batch / yield returns the next one), a *receipt
index* is a position in `VMOutcome.receipts`. They coincide until the first `promise_and`,
whose promise names several receipts and creates none. Everything in an outcome
(`depends_on`, `VMOutcome.returned_promise`) is a receipt index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# --- actions (NEAR's Action enum) ---------------------------------------------------------


@dataclass(frozen=True)
class CreateAccount:
    pass


@dataclass(frozen=True)
class DeployContract:
    code: bytes


@dataclass(frozen=True)
class FunctionCall:
    method_name: str
    args: bytes
    deposit: int  # yoctoNEAR
    gas: int  # prepaid to the callee (after unused-gas distribution, see gas_weight)
    gas_weight: int = 0  # share of the caller's unused gas added to `gas` at the end


@dataclass(frozen=True)
class Transfer:
    deposit: int


@dataclass(frozen=True)
class Stake:
    stake: int
    public_key: bytes  # borsh PublicKey


@dataclass(frozen=True)
class FullAccess:
    pass


@dataclass(frozen=True)
class FunctionCallPermission:
    allowance: int | None  # None = unlimited (NEAR's 0 at the ABI)
    receiver_id: str
    method_names: tuple[str, ...]  # empty = any method


@dataclass(frozen=True)
class AddKey:
    public_key: bytes  # borsh PublicKey
    nonce: int
    permission: FullAccess | FunctionCallPermission


@dataclass(frozen=True)
class DeleteKey:
    public_key: bytes


@dataclass(frozen=True)
class DeleteAccount:
    beneficiary_id: str


Action = (CreateAccount | DeployContract | FunctionCall | Transfer | Stake | AddKey
          | DeleteKey | DeleteAccount)


# --- receipts a call produced -------------------------------------------------------------


@dataclass
class NewReceipt:
    """One action receipt a call created (promise_create / promise_batch_create / then /
    promise_yield_create)."""

    receiver_id: str
    actions: list[Action] = field(default_factory=list)
    #: indices (into VMOutcome.receipts) of the receipts whose results this one waits for,
    #: in promise order (promise_then on a joint promise lists all of its members)
    depends_on: tuple[int, ...] = ()
    #: a yield receipt (promise_yield_create) waits for data `yield_data_id` instead
    yield_data_id: bytes | None = None


@dataclass(frozen=True)
class PromiseResult:
    """What a callback sees of one dependency: NEAR's PromiseResult."""

    status: str  # "successful" | "failed" | "not_ready"
    data: bytes = b""

    @classmethod
    def successful(cls, data: bytes) -> PromiseResult:
        return cls("successful", data)

    @classmethod
    def failed(cls) -> PromiseResult:
        return cls("failed")

    @classmethod
    def not_ready(cls) -> PromiseResult:
        return cls("not_ready")


def yield_data_id(receipt_id: bytes, index: int) -> bytes:
    """The data id of the `index`-th (from 0) yield created while executing `receipt_id`.

    nearcore derives data ids from the action receipt's hash; ours come from the receipt id
    the chain hands in (VMContext.receipt_id), so a replay yields the same ids.
    """
    return hashlib.sha256(b"outlayer-yield" + receipt_id + index.to_bytes(8, "little")).digest()
