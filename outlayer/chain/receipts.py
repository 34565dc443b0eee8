"""Receipts as the chain keeps them: action receipts, data receipts, ids, fees, JSON form.

VMLogic describes what a call asks for with `outlayer.vm.receipts.NewReceipt` (indices local
to the call); the receipt engine (`outlayer.chain.runtime`) turns those into the receipts
below, which carry global ids, data ids and output data receivers, as nearcore's
`ActionReceipt` / `DataReceipt` do. They are stored as JSON (`to_json` / `from_json`) in the
state database while in flight, so a chain reopened from its file continues them.

Ids are deterministic (sha256, shown in base58 like NEAR's CryptoHash):

- the receipt of a transaction: sha256("outlayer/tx-receipt" || tx hash bytes);
- the i-th receipt made while executing receipt R at height h:
  sha256("outlayer/receipt" || R || h as u64 LE || i as u64 LE);
- the data id of the k-th dependency edge made by the function call whose action id is A:
  sha256("outlayer/data" || A || k as u64 LE) (yield data ids come from VMLogic);
- the action id of action i of receipt R (`VMContext.receipt_id` of a function call):
  R itself for action 0, else sha256("outlayer/action" || R || i as u64 LE).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import base58

from outlayer.chain.accounts import public_key_str
from outlayer.chain.signed import (
    DelegateAction,
    DeployGlobalContract,
    SignedDelegate,
    UseGlobalContract,
)
from outlayer.vm.params import Fee, Params
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

#: the predecessor of refund receipts (NEAR's "system" account).
SYSTEM = "system"


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "little")


#: ids and hashes seen lately, both ways (base58 is one-to-one): an id made here is
#: decoded from memory when it comes back (a tx hash, a queued receipt's ids)
_B58_MEMO = 8192
_encoded: dict[bytes, str] = {}
_decoded: dict[str, bytes] = {}


def _remember(data: bytes, text: str) -> None:
    if len(_encoded) >= _B58_MEMO:
        _encoded.clear()
        _decoded.clear()
    _encoded[data] = text
    _decoded[text] = data


_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # two base58 digits at a time


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58 (what `base58.b58encode` gives), two digits per division."""
    n = int.from_bytes(data, "big")
    groups = []
    while n >= 3364:
        n, r = divmod(n, 3364)
        groups.append(_PAIRS[r])
    head = "" if n == 0 else _ALPHABET[n] if n < 58 else _PAIRS[n]
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + head + "".join(reversed(groups))


def b58(data: bytes) -> str:
    text = _encoded.get(data)
    if text is None:
        data = bytes(data)
        text = b58encode(data)
        _remember(data, text)
    return text


def unb58(text: str) -> bytes:
    data = _decoded.get(text)
    if data is None:
        data = base58.b58decode(text)
        _remember(data, text)
    return data


def tx_receipt_id(tx_hash: str) -> bytes:
    return hashlib.sha256(b"outlayer/tx-receipt" + unb58(tx_hash)).digest()


def child_receipt_id(parent: bytes, height: int, index: int) -> bytes:
    return hashlib.sha256(b"outlayer/receipt" + parent + _u64(height) + _u64(index)).digest()


def action_id(receipt_id: bytes, index: int) -> bytes:
    if index == 0:
        return receipt_id
    return hashlib.sha256(b"outlayer/action" + receipt_id + _u64(index)).digest()


def data_id_for(action: bytes, counter: int) -> bytes:
    return hashlib.sha256(b"outlayer/data" + action + _u64(counter)).digest()


# --- receipts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataReceiver:
    data_id: bytes
    receiver_id: str


@dataclass
class ActionReceipt:
    receipt_id: bytes
    predecessor_id: str
    receiver_id: str
    signer_id: str
    signer_public_key: bytes  # borsh PublicKey
    gas_price: int
    actions: list[Action]
    input_data_ids: list[bytes] = field(default_factory=list)
    output_data_receivers: list[DataReceiver] = field(default_factory=list)
    #: a promise_yield_create receipt: waits for its one data id from a resume or timeout
    is_yield: bool = False
    #: the transaction whose tree this receipt belongs to
    tx_hash: str = ""

    @property
    def id(self) -> str:
        return b58(self.receipt_id)

    @property
    def is_refund(self) -> bool:
        return self.predecessor_id == SYSTEM

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "action",
            "receipt_id": self.id,
            "predecessor_id": self.predecessor_id,
            "receiver_id": self.receiver_id,
            "signer_id": self.signer_id,
            "signer_public_key": self.signer_public_key.hex(),
            "gas_price": str(self.gas_price),
            "actions": [action_to_json(a) for a in self.actions],
            "input_data_ids": [b58(d) for d in self.input_data_ids],
            "output_data_receivers": [{"data_id": b58(r.data_id), "receiver_id": r.receiver_id}
                                      for r in self.output_data_receivers],
            "is_yield": self.is_yield,
            "tx_hash": self.tx_hash,
        }


@dataclass
class DataReceipt:
    receipt_id: bytes
    predecessor_id: str
    receiver_id: str
    data_id: bytes
    data: bytes | None  # None: the producing receipt failed (or a yield timed out)
    #: a promise_yield_resume payload (or timeout) for a pending yield
    is_resume: bool = False
    tx_hash: str = ""

    @property
    def id(self) -> str:
        return b58(self.receipt_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "data",
            "receipt_id": self.id,
            "predecessor_id": self.predecessor_id,
            "receiver_id": self.receiver_id,
            "data_id": b58(self.data_id),
            "data": None if self.data is None else self.data.hex(),
            "is_resume": self.is_resume,
            "tx_hash": self.tx_hash,
        }


Receipt = ActionReceipt | DataReceipt


def receipt_from_json(doc: dict[str, Any]) -> Receipt:
    if doc["type"] == "data":
        return DataReceipt(
            receipt_id=unb58(doc["receipt_id"]), predecessor_id=doc["predecessor_id"],
            receiver_id=doc["receiver_id"], data_id=unb58(doc["data_id"]),
            data=None if doc["data"] is None else bytes.fromhex(doc["data"]),
            is_resume=bool(doc["is_resume"]), tx_hash=doc["tx_hash"])
    return ActionReceipt(
        receipt_id=unb58(doc["receipt_id"]), predecessor_id=doc["predecessor_id"],
        receiver_id=doc["receiver_id"], signer_id=doc["signer_id"],
        signer_public_key=bytes.fromhex(doc["signer_public_key"]),
        gas_price=int(doc["gas_price"]),
        actions=[action_from_json(a) for a in doc["actions"]],
        input_data_ids=[unb58(d) for d in doc["input_data_ids"]],
        output_data_receivers=[DataReceiver(unb58(r["data_id"]), r["receiver_id"])
                               for r in doc["output_data_receivers"]],
        is_yield=bool(doc["is_yield"]), tx_hash=doc["tx_hash"])


def dumps(receipt: Receipt) -> str:
    return _COMPACT.encode(receipt.to_json())


#: json.dumps(sort_keys=True, separators=(",", ":")), one encoder for every receipt
_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def loads(text: str) -> Receipt:
    return receipt_from_json(json.loads(text))


# --- actions: JSON (NEAR's view shape, bytes as hex / base64 where NEAR uses it) -----------


def permission_to_json(permission: FullAccess | FunctionCallPermission) -> Any:
    if isinstance(permission, FullAccess):
        return "FullAccess"
    return {"FunctionCall": {
        "allowance": None if permission.allowance is None else str(permission.allowance),
        "receiver_id": permission.receiver_id,
        "method_names": list(permission.method_names)}}


def permission_from_json(doc: Any) -> FullAccess | FunctionCallPermission:
    if doc == "FullAccess":
        return FullAccess()
    body = doc["FunctionCall"]
    allowance = body["allowance"]
    return FunctionCallPermission(None if allowance is None else int(allowance),
                                  body["receiver_id"], tuple(body["method_names"]))


def action_to_json(action: Action) -> dict[str, Any]:
    if isinstance(action, CreateAccount):
        return {"CreateAccount": {}}
    if isinstance(action, DeployContract):
        return {"DeployContract": {"code": action.code.hex()}}
    if isinstance(action, FunctionCall):
        return {"FunctionCall": {"method_name": action.method_name, "args": action.args.hex(),
                                 "deposit": str(action.deposit), "gas": action.gas,
                                 "gas_weight": action.gas_weight}}
    if isinstance(action, Transfer):
        return {"Transfer": {"deposit": str(action.deposit)}}
    if isinstance(action, Stake):
        return {"Stake": {"stake": str(action.stake), "public_key": action.public_key.hex()}}
    if isinstance(action, AddKey):
        return {"AddKey": {"public_key": action.public_key.hex(), "nonce": action.nonce,
                           "permission": permission_to_json(action.permission)}}
    if isinstance(action, DeleteKey):
        return {"DeleteKey": {"public_key": action.public_key.hex()}}
    if isinstance(action, DeleteAccount):
        return {"DeleteAccount": {"beneficiary_id": action.beneficiary_id}}
    if isinstance(action, SignedDelegate):
        d = action.delegate_action
        return {"Delegate": {"delegate_action": {
            "sender_id": d.sender_id, "receiver_id": d.receiver_id,
            "actions": [action_to_json(a) for a in d.actions], "nonce": d.nonce,
            "max_block_height": d.max_block_height, "public_key": d.public_key.hex()},
            "signature": action.signature.hex()}}
    if isinstance(action, DeployGlobalContract):
        return {"DeployGlobalContract": {"code": action.code.hex(),
                                         "deploy_mode": _DEPLOY_MODES[action.mode]}}
    if isinstance(action, UseGlobalContract):
        return {"UseGlobalContract": {"contract_identifier": _identifier_json(action)}}
    raise TypeError(f"not an action: {action!r}")


#: nearcore's GlobalContractDeployMode names, by borsh number
_DEPLOY_MODES = ("CodeHash", "AccountId")


def _identifier_json(action: UseGlobalContract) -> dict[str, str]:
    if action.code_hash is not None:
        return {"CodeHash": b58(action.code_hash)}
    return {"AccountId": action.account_id or ""}


def action_from_json(doc: dict[str, Any]) -> Action:
    (name, body), = doc.items()
    if name == "CreateAccount":
        return CreateAccount()
    if name == "DeployContract":
        return DeployContract(bytes.fromhex(body["code"]))
    if name == "FunctionCall":
        return FunctionCall(body["method_name"], bytes.fromhex(body["args"]),
                            int(body["deposit"]), int(body["gas"]), int(body["gas_weight"]))
    if name == "Transfer":
        return Transfer(int(body["deposit"]))
    if name == "Stake":
        return Stake(int(body["stake"]), bytes.fromhex(body["public_key"]))
    if name == "AddKey":
        return AddKey(bytes.fromhex(body["public_key"]), int(body["nonce"]),
                      permission_from_json(body["permission"]))
    if name == "DeleteKey":
        return DeleteKey(bytes.fromhex(body["public_key"]))
    if name == "DeleteAccount":
        return DeleteAccount(body["beneficiary_id"])
    if name == "Delegate":
        d = body["delegate_action"]
        return SignedDelegate(DelegateAction(
            d["sender_id"], d["receiver_id"], tuple(action_from_json(a) for a in d["actions"]),
            int(d["nonce"]), int(d["max_block_height"]), bytes.fromhex(d["public_key"])),
            bytes.fromhex(body["signature"]))
    if name == "DeployGlobalContract":
        return DeployGlobalContract(bytes.fromhex(body["code"]),
                                    _DEPLOY_MODES.index(body["deploy_mode"]))
    if name == "UseGlobalContract":
        (kind, value), = body["contract_identifier"].items()
        return (UseGlobalContract(unb58(value), None) if kind == "CodeHash"
                else UseGlobalContract(None, value))
    raise ValueError(f"unknown action {name!r}")


def action_summary(action: Action) -> dict[str, Any]:
    """A short JSON form for outcomes and the CLI (no code or args bytes)."""
    if isinstance(action, DeployContract):
        return {"DeployContract": {"code_size": len(action.code),
                                   "code_hash": b58(hashlib.sha256(action.code).digest())}}
    if isinstance(action, FunctionCall):
        return {"FunctionCall": {"method_name": action.method_name,
                                 "args_size": len(action.args), "deposit": str(action.deposit),
                                 "gas": action.gas}}
    if isinstance(action, SignedDelegate):
        d = action.delegate_action
        return {"Delegate": {"sender_id": d.sender_id, "receiver_id": d.receiver_id,
                             "actions": [action_summary(a) for a in d.actions],
                             "nonce": d.nonce, "max_block_height": d.max_block_height,
                             "public_key": public_key_str(d.public_key)}}
    if isinstance(action, DeployGlobalContract):
        return {"DeployGlobalContract": {"code_size": len(action.code),
                                         "code_hash": b58(hashlib.sha256(action.code).digest()),
                                         "deploy_mode": _DEPLOY_MODES[action.mode]}}
    doc = action_to_json(action)
    if isinstance(action, AddKey | DeleteKey | Stake):
        (name, body), = doc.items()
        doc = {name: {**body, "public_key": public_key_str(action.public_key)}}
    return doc


# --- fees (nearcore runtime/config.rs) -----------------------------------------------------


def _fc_bytes(action: FunctionCall) -> int:
    return len(action.method_name.encode()) + len(action.args)


def _identifier_bytes(action: UseGlobalContract) -> int:
    """nearcore's GlobalContractIdentifier::len: 32 for a hash, else the account id's."""
    return 32 if action.code_hash is not None else len((action.account_id or "").encode())


def _key_bytes(permission: FunctionCallPermission) -> int:
    # one byte per method name for its terminator, as nearcore counts
    return sum(len(name.encode()) + 1 for name in permission.method_names)


def _fees(params: Params, action: Action, receiver_id: str) -> list[tuple[Fee, int]]:
    """The action's fees, each with how many times it is charged (per byte, per key...):
    the one table both `send_fee` and `exec_fee` read."""
    if isinstance(action, CreateAccount):
        return [(params.action_create_account, 1)]
    if isinstance(action, DeployContract):
        return [(params.action_deploy_contract, 1),
                (params.action_deploy_contract_per_byte, len(action.code))]
    if isinstance(action, FunctionCall):
        return [(params.action_function_call, 1),
                (params.action_function_call_per_byte, _fc_bytes(action))]
    if isinstance(action, Transfer):
        return [(fee, 1) for fee in params.transfer_fees(receiver_id)]
    if isinstance(action, Stake):
        return [(params.action_stake, 1)]
    if isinstance(action, AddKey):
        if isinstance(action.permission, FunctionCallPermission):
            return [(params.action_add_function_call_key, 1),
                    (params.action_add_function_call_key_per_byte,
                     _key_bytes(action.permission))]
        return [(params.action_add_full_access_key, 1)]
    if isinstance(action, DeleteKey):
        return [(params.action_delete_key, 1)]
    if isinstance(action, DeleteAccount):
        return [(params.action_delete_account, 1)]
    if isinstance(action, SignedDelegate):  # its inner actions: see send_fee, delegated_gas
        return [(params.action_delegate, 1)]
    if isinstance(action, DeployGlobalContract):
        return [(params.action_deploy_global_contract, 1),
                (params.action_deploy_global_contract_per_byte, len(action.code))]
    if isinstance(action, UseGlobalContract):
        return [(params.action_use_global_contract, 1),
                (params.action_use_global_contract_per_identifier_byte,
                 _identifier_bytes(action))]
    raise TypeError(f"not an action: {action!r}")


def send_fee(params: Params, action: Action, sir: bool, receiver_id: str) -> int:
    """Gas burnt when the action is sent (sir: sender is receiver) to `receiver_id`."""
    gas = sum(fee.send_fee(sir) * n for fee, n in _fees(params, action, receiver_id))
    if isinstance(action, SignedDelegate):  # nearcore: the inner actions with the outer sir
        d = action.delegate_action
        gas += sum(send_fee(params, a, sir, d.receiver_id) for a in d.actions)
    return gas


def exec_fee(params: Params, action: Action, receiver_id: str) -> int:
    """Gas burnt when the action executes on `receiver_id`."""
    return sum(fee.execution * n for fee, n in _fees(params, action, receiver_id))


def total_deposit(actions: list[Action]) -> int:
    """What the actions move out of the sender: Transfer and FunctionCall deposits (a
    delegate action's inner ones too: its relayer pays them, as on NEAR)."""
    total = 0
    for a in actions:
        if isinstance(a, FunctionCall | Transfer):
            total += a.deposit
        elif isinstance(a, SignedDelegate):
            total += total_deposit(list(a.delegate_action.actions))
    return total


def total_prepaid_gas(actions: list[Action]) -> int:
    """The function calls' gas (a delegate action's inner ones too)."""
    total = 0
    for a in actions:
        if isinstance(a, FunctionCall):
            total += a.gas
        elif isinstance(a, SignedDelegate):
            total += total_prepaid_gas(list(a.delegate_action.actions))
    return total


def delegated_gas(params: Params, delegate: DelegateAction) -> tuple[int, int]:
    """(send fees, exec fees) of the receipt a delegate action makes, both prepaid by the
    relayer's transaction (nearcore's total_prepaid_send_fees and the Delegate part of
    total_prepaid_exec_fees; the inner function calls' gas is in `total_prepaid_gas`)."""
    sir = delegate.sender_id == delegate.receiver_id
    actions = list(delegate.actions)
    send = sum(send_fee(params, a, sir, delegate.receiver_id) for a in actions)
    execution = (sum(exec_fee(params, a, delegate.receiver_id) for a in actions)
                 + params.action_receipt_creation.execution)
    return send, execution


def receipt_gas_budget(params: Params, actions: list[Action], receiver_id: str) -> int:
    """Gas a receipt carries: its function calls' gas + every exec fee (the refund base);
    a delegate action adds the fees of the receipt it makes (`delegated_gas`)."""
    gas = total_prepaid_gas(actions) + params.action_receipt_creation.execution
    for a in actions:
        gas += exec_fee(params, a, receiver_id)
        if isinstance(a, SignedDelegate):
            gas += sum(delegated_gas(params, a.delegate_action))
    return gas
