"""The chain's records in the JSON shapes of nearcore's RPC views (BlockView, AccountView,
FinalExecutionOutcomeView, ...), with the fields a simulated single-node chain does not have
(chunks, validators, proofs) present and empty so clients that read them do not break."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

import base58

from outlayer.chain.accounts import public_key_str
from outlayer.chain.global_contracts import view_fields
from outlayer.chain.outcomes import ActionError, ExecutionOutcome, FinalOutcome
from outlayer.chain.patches import EMPTY_CODE_HASH
from outlayer.chain.signed import (
    DeployGlobalContract,
    SignedDelegate,
    SignedTransaction,
    UseGlobalContract,
)
from outlayer.chain.store import Account, Block, StateStore
from outlayer.vm.receipts import (
    AddKey,
    CreateAccount,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FullAccess,
    FunctionCall,
    Stake,
    Transfer,
)

#: base58 of 32 zero bytes: NEAR's code hash of an account with no contract.
NO_CODE_HASH = EMPTY_CODE_HASH  # base58 of 32 zero bytes: "no contract"
ZERO_HASH = NO_CODE_HASH
#: the protocol version the node claims: 77, the first with global contracts (NEP-591), which
#: it runs and whose AccountView fields (global_contract_hash / _account_id) its views fill
PROTOCOL_VERSION = 77
NODE_VERSION = {"version": "outlayer", "build": "outlayer", "rustc_version": ""}


def b58(data: bytes | None) -> str:
    return base58.b58encode(data or bytes(32)).decode("ascii")


def block_hash(block: Block) -> str:
    return b58(block.hash)


#: a block's one chunk is named by its hash XOR this mask: unique per block, and the chunk
#: method finds the block back from it (sealed block hashes stay as they are)
_CHUNK_MASK = hashlib.sha256(b"outlayer/chunk").digest()


def chunk_hash(block_hash_bytes: bytes) -> bytes:
    """The chunk hash of a block (and, applied again, the block hash of a chunk)."""
    return bytes(a ^ b for a, b in zip(block_hash_bytes, _CHUNK_MASK, strict=True))


def iso_time(timestamp_ns: int) -> str:
    """NEAR's sync_info time form: RFC 3339 with nanoseconds."""
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{nanos:09d}Z"


def burnt_in(store: StateStore, height: int) -> tuple[int, int]:
    """(gas, tokens) the block's transactions and receipts burnt: its chunk's `gas_used`
    and `balance_burnt`."""
    outcomes = store.outcomes_at(height)
    return (sum(int(o["gas_burnt"]) for o in outcomes),
            sum(int(o["tokens_burnt"]) for o in outcomes))


def block_view(block: Block, prev: Block | None, gas_price: int,
               burnt: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    """nearcore's BlockView: one producer ("outlayer"), one chunk, no validators; `burnt`:
    `burnt_in` the block."""
    prev_hash = block_hash(prev) if prev is not None else ZERO_HASH
    header = {
        "height": block.height,
        "prev_height": prev.height if prev is not None else None,
        "epoch_id": ZERO_HASH,
        "next_epoch_id": ZERO_HASH,
        "hash": block_hash(block),
        "prev_hash": prev_hash,
        "prev_state_root": b58(prev.state_root if prev is not None else None),
        "block_body_hash": None,
        "chunk_receipts_root": ZERO_HASH,
        "chunk_headers_root": ZERO_HASH,
        "chunk_tx_root": b58(block.inputs_root),
        "outcome_root": b58(block.outcomes_root),
        "chunks_included": 1,
        "challenges_root": ZERO_HASH,
        "timestamp": block.timestamp_ns,
        "timestamp_nanosec": str(block.timestamp_ns),
        "random_value": b58(block.random_seed),
        "validator_proposals": [],
        "chunk_mask": [True],
        "gas_price": str(gas_price),
        "block_ordinal": block.height,
        "rent_paid": "0",
        "validator_reward": "0",
        "total_supply": "0",
        "challenges_result": [],
        "last_final_block": block_hash(block),
        "last_ds_final_block": block_hash(block),
        "next_bp_hash": ZERO_HASH,
        "block_merkle_root": ZERO_HASH,
        "epoch_sync_data_hash": None,
        "approvals": [],
        "signature": "ed25519:" + b58(bytes(64)),
        "latest_protocol_version": PROTOCOL_VERSION,
        # OutLayer's own: the state root this block sealed
        "state_root": b58(block.state_root),
    }
    chunk = {"chunk_hash": b58(chunk_hash(block.hash or bytes(32))),
             "prev_block_hash": prev_hash,
             "outcome_root": b58(block.outcomes_root),
             "prev_state_root": header["prev_state_root"], "encoded_merkle_root": ZERO_HASH,
             "encoded_length": 0, "height_created": block.height,
             "height_included": block.height, "shard_id": 0, "gas_used": burnt[0],
             "gas_limit": 1_000_000_000_000_000, "rent_paid": "0", "validator_reward": "0",
             "balance_burnt": str(burnt[1]), "outgoing_receipts_root": ZERO_HASH,
             "tx_root": b58(block.inputs_root), "validator_proposals": [],
             "signature": header["signature"]}
    return {"author": "outlayer", "header": header, "chunks": [chunk]}


def account_view(account: Account, block: Block, global_contract: str | None = None
                 ) -> dict[str, Any]:
    """nearcore's AccountView. An account using a global contract (`global_contract`: its
    stored identifier, NEP-591) shows no local code hash and names the global contract by
    global_contract_hash or global_contract_account_id, as nearcore's view does."""
    return {"amount": str(account.balance), "locked": str(account.locked),
            "code_hash": account.code_hash or NO_CODE_HASH,
            "storage_usage": account.storage_usage, "storage_paid_at": 0,
            **view_fields(global_contract), **at(block)}


def at(block: Block) -> dict[str, Any]:
    """The block a query answered at (every query result carries it)."""
    return {"block_height": block.height, "block_hash": block_hash(block)}


#: OutLayer error kinds that are nearcore HostError names without fields
_HOST_ERRORS = {"GasExceeded", "GasLimitExceeded", "BalanceExceeded", "IntegerOverflow",
                "ProhibitedInView", "BadUTF8", "BadUTF16", "MemoryAccessViolation",
                "InvalidRegisterId", "NumberOfLogsExceeded"}


def function_call_error(kind: str, message: str) -> Any:
    """nearcore's FunctionCallError JSON for an OutLayer error kind (clients parse these:
    MethodResolveError, HostError, ExecutionError)."""
    if kind in ("MethodNotFound", "MethodEmptyName", "MethodInvalidSignature"):
        return {"MethodResolveError": kind}
    if kind in _HOST_ERRORS:
        return {"HostError": kind}
    if kind == "GuestPanic":
        return {"HostError": {"GuestPanic": {"panic_msg": message}}}
    if kind in ("CompileError", "CompilationError"):  # the contract does not load
        return {"CompilationError": {"WasmerCompileError": {"msg": message}}}
    if kind in ("LinkError", "WasmTrap"):
        return {kind: {"msg": message}} if kind == "LinkError" else {kind: message}
    return {"ExecutionError": f"{kind}: {message}"}


_VARIANT = re.compile(r"[A-Z][A-Za-z0-9]*\Z")


def rust_debug(value: Any) -> str:
    """A nearcore error's JSON as Rust's `{:?}` prints it (the text nearcore puts in
    `vm_error`, which clients match: "MethodResolveError(MethodNotFound)",
    "HostError(GuestPanic { panic_msg: \"boom\" })")."""
    if isinstance(value, dict) and len(value) == 1:
        (name, inner), = value.items()
        if _VARIANT.match(name):
            if isinstance(inner, dict) and inner and not any(_VARIANT.match(k) for k in inner):
                fields = ", ".join(f"{k}: {rust_debug(v)}" for k, v in inner.items())
                return f"{name} {{ {fields} }}"
            if isinstance(inner, str) and _VARIANT.match(inner) and name != "ExecutionError":
                return f"{name}({inner})"
            return f"{name}({rust_debug(inner)})"
    if isinstance(value, list):
        return "[" + ", ".join(rust_debug(v) for v in value) + "]"
    if isinstance(value, str) and _VARIANT.match(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def status_view(status: Any, error: ActionError | None = None) -> Any:
    """A status with OutLayer's flat FunctionCallError ({kind: message}) in nearcore's form;
    a receipt the call created that breaks NEAR's rules (`error.receipt_error`, see
    outlayer.vm.promises.InvalidNewReceipt) is nearcore's ActionErrorKind
    NewReceiptValidationError."""
    failure = status.get("Failure") if isinstance(status, dict) else None
    kind = (failure or {}).get("ActionError", {}).get("kind")
    call = kind.get("FunctionCallError") if isinstance(kind, dict) else None
    if not isinstance(call, dict) or len(call) != 1:
        return status
    (name, detail), = call.items()
    if not isinstance(detail, str):  # already nearcore's form (e.g. CompilationError {...})
        return status
    receipt_error = error.receipt_error if error is not None else None
    if receipt_error is not None:
        action = {**failure["ActionError"], "kind": {"NewReceiptValidationError": receipt_error}}
    else:
        action = {**failure["ActionError"],
                  "kind": {"FunctionCallError": function_call_error(name, detail)}}
    return {"Failure": {"ActionError": action}}


def outcome_view(outcome: ExecutionOutcome, block_hashes: dict[int, str]) -> dict[str, Any]:
    """nearcore's ExecutionOutcomeWithIdView (+ OutLayer's receipt_kind and actions)."""
    mine = outcome.to_json()
    body = mine["outcome"]
    body["status"] = status_view(body["status"], outcome.error)
    body.pop("predecessor_id", None)
    body["metadata"] = {"version": 1, "gas_profile": None}
    return {"proof": [], "block_hash": block_hashes.get(outcome.block_height, ZERO_HASH),
            "id": outcome.id, "outcome": body, "block_height": outcome.block_height,
            "receipt_kind": mine["receipt_kind"], "actions": mine["actions"]}


def execution_status(final: FinalOutcome) -> str:
    """nearcore's TxExecutionStatus of a transaction on the chain. Every block is final as
    soon as it is made, so it is INCLUDED_FINAL until its result is known and every receipt
    of its tree has run (one waiting on a yield has not), then FINAL; NONE, INCLUDED,
    EXECUTED_OPTIMISTIC and EXECUTED (blocks not yet final) never describe it."""
    if final.status in ("Started", "NotStarted"):
        return "INCLUDED_FINAL"
    ran = {o.id for o in final.receipts_outcome}
    awaited = set(final.transaction_outcome.receipt_ids).union(
        *(o.receipt_ids for o in final.receipts_outcome))
    return "FINAL" if awaited <= ran else "INCLUDED_FINAL"


def final_outcome_view(final: FinalOutcome, transaction: dict[str, Any],
                       block_hashes: dict[int, str]) -> dict[str, Any]:
    """nearcore's FinalExecutionOutcomeView (EXPERIMENTAL_tx_status adds `receipts`:
    outlayer.service.rpc reads them back as `EXPERIMENTAL_receipt` does)."""
    return {
        "final_execution_status": execution_status(final),
        "status": status_view(final.status_json(), final.error),
        "transaction": transaction,
        "transaction_outcome": outcome_view(final.transaction_outcome, block_hashes),
        "receipts_outcome": [outcome_view(o, block_hashes) for o in final.receipts_outcome],
    }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def action_view(action: Any) -> Any:
    """nearcore's ActionView of one decoded action (DeployContract shows the code's hash)."""
    if isinstance(action, CreateAccount):
        return "CreateAccount"
    if isinstance(action, DeployContract):
        return {"DeployContract": {"code": b64(hashlib.sha256(action.code).digest())}}
    if isinstance(action, FunctionCall):
        return {"FunctionCall": {"method_name": action.method_name, "args": b64(action.args),
                                 "gas": action.gas, "deposit": str(action.deposit)}}
    if isinstance(action, Transfer):
        return {"Transfer": {"deposit": str(action.deposit)}}
    if isinstance(action, Stake):
        return {"Stake": {"stake": str(action.stake),
                          "public_key": public_key_str(action.public_key)}}
    if isinstance(action, AddKey):
        perm = action.permission
        permission: Any = "FullAccess" if isinstance(perm, FullAccess) else {"FunctionCall": {
            "allowance": None if perm.allowance is None else str(perm.allowance),
            "receiver_id": perm.receiver_id, "method_names": list(perm.method_names)}}
        return {"AddKey": {"public_key": public_key_str(action.public_key),
                           "access_key": {"nonce": action.nonce, "permission": permission}}}
    if isinstance(action, DeleteKey):
        return {"DeleteKey": {"public_key": public_key_str(action.public_key)}}
    if isinstance(action, DeleteAccount):
        return {"DeleteAccount": {"beneficiary_id": action.beneficiary_id}}
    if isinstance(action, SignedDelegate):
        d = action.delegate_action
        return {"Delegate": {"delegate_action": {
            "sender_id": d.sender_id, "receiver_id": d.receiver_id,
            "actions": [_inner_action_json(a) for a in d.actions], "nonce": d.nonce,
            "max_block_height": d.max_block_height,
            "public_key": public_key_str(d.public_key)},
            "signature": signature_str(action.signature)}}
    if isinstance(action, DeployGlobalContract):  # like DeployContract: the code's hash
        name = "DeployGlobalContract" if action.mode == 0 else "DeployGlobalContractByAccountId"
        return {name: {"code": b64(hashlib.sha256(action.code).digest())}}
    if isinstance(action, UseGlobalContract):
        if action.code_hash is not None:
            return {"UseGlobalContract": {"code_hash": b58(action.code_hash)}}
        return {"UseGlobalContractByAccountId": {"account_id": action.account_id}}
    return {type(action).__name__: {}}


def _inner_action_json(action: Any) -> Any:
    """An action inside a delegate action: nearcore shows the Action itself there, not its
    ActionView (CreateAccount is an object, DeployContract carries the whole code)."""
    if isinstance(action, CreateAccount):
        return {"CreateAccount": {}}
    if isinstance(action, DeployContract):
        return {"DeployContract": {"code": b64(action.code)}}
    return action_view(action)


def signature_str(signature: bytes) -> str:
    """A borsh Signature (type byte first) as NEAR shows it: ``ed25519:<base58>``."""
    kind = "ed25519" if signature[0] == 0 else "secp256k1"
    return f"{kind}:{b58(signature[1:])}"


def transaction_view(stx: SignedTransaction) -> dict[str, Any]:
    """nearcore's SignedTransactionView."""
    return {"signer_id": stx.signer_id, "public_key": public_key_str(stx.public_key),
            "nonce": stx.nonce, "receiver_id": stx.receiver_id,
            "actions": [action_view(a) for a in stx.actions],
            "priority_fee": stx.priority_fee,
            "signature": signature_str(stx.signature), "hash": stx.hash}
