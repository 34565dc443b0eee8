"""What a contract can learn about the call it runs in (NEAR's VMContext)."""

from __future__ import annotations

from dataclasses import dataclass, field

from outlayer.vm.receipts import PromiseResult


@dataclass(frozen=True)
class VMContext:
    current_account_id: str
    signer_account_id: str
    predecessor_account_id: str
    input: bytes = b""
    signer_account_pk: bytes = b"\x00" + bytes(32)  # borsh PublicKey: key type + ed25519 key
    block_height: int = 1
    block_timestamp: int = 1_700_000_000_000_000_000  # nanoseconds
    epoch_height: int = 1
    account_balance: int = 0  # yoctoNEAR, includes attached_deposit
    account_locked_balance: int = 0
    attached_deposit: int = 0
    prepaid_gas: int = 300 * 10**12
    random_seed: bytes = field(default=bytes(32))
    storage_usage: int = 0  # of current_account_id before the call, in bytes
    is_view: bool = False
    # accounts waiting for this call's return value (NEAR's output_data_receivers); each
    # makes value_return burn data_receipt_creation_per_byte (send + exec) per byte
    output_data_receivers: tuple[str, ...] = ()
    # a callback's dependencies, in promise order (promise_results_count / promise_result)
    promise_results: tuple[PromiseResult, ...] = ()
    # id of the action receipt being executed; yield data ids derive from it
    # (outlayer.vm.receipts.yield_data_id), so they are the same on every replay
    receipt_id: bytes = bytes(32)
