"""Signed transactions as NEAR clients send them: borsh decoding, signatures, access keys.

Wire format (nearcore's borsh): ``SignedTransaction = Transaction || Signature``.
`Transaction` is V0 (signer_id, public_key, nonce, receiver_id, block_hash, actions) or V1
(a leading 1 byte, the same fields, then priority_fee: u64); nearcore tells them apart by
the second byte (a V0 starts with the signer id's u32 length, at most 64, so its second
byte is 0). The transaction hash is base58(sha256(borsh(Transaction))) and the signature
signs sha256(borsh(Transaction)).

Our own decoder (rather than a PyPI borsh library: the maintained ones are schema-less or
unmaintained since 2021) is typed, refuses anything non-canonical (option tags other than
0/1, trailing bytes, bad UTF-8) and has an encoder for tests and Python clients. A
`SignedDelegate` (NEP-366) is signed with `outlayer.chain.delegate.sign_delegate` and run
by the receipt engine (`outlayer.chain.delegate.apply`).

`check` applies NEAR's transaction rules against the state (nearcore's verify_and_charge):
known recent block hash, signer and access key exist, nonce above the key's and not too far
ahead, function-call keys limited to their receiver, methods, zero deposit and allowance,
enough balance. A refused transaction raises `InvalidTx` whose `detail` is nearcore's
InvalidTxError JSON (e.g. ``{"InvalidNonce": {"tx_nonce": 5, "ak_nonce": 7}}``).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

import base58
import coincurve
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from outlayer.chain.accounts import (
    ACCESS_KEY_NONCE_RANGE_MULTIPLIER,
    check_account_id,
    public_key_str,
    storage_shortfall,
)
from outlayer.chain.actions import ActionsInvalid, validate_actions
from outlayer.chain.store import AccessKeyRecord, Account, StateStore
from outlayer.errors import UserError
from outlayer.vm.params import Params
from outlayer.vm.receipts import (
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

#: nearcore's transaction_validity_period: a transaction's block_hash must be this recent.
TRANSACTION_VALIDITY_PERIOD = 86_400
_KEY_SIZES = {0: 32, 1: 64}  # ed25519, secp256k1 public keys
_SIG_SIZES = {0: 64, 1: 65}
_U64 = 1 << 64
_U128 = 1 << 128


class BorshError(UserError):
    """The bytes are not a borsh SignedTransaction."""

    kind = "BorshError"


class InvalidTx(UserError):
    """A transaction NEAR would refuse before running it; nothing was written."""

    kind = "InvalidTransaction"

    def __init__(self, detail: Any, message: str) -> None:
        super().__init__(message)
        self.detail = detail


# --- delegate actions (NEP-366, run by outlayer.chain.delegate) ---------------------------


@dataclass(frozen=True)
class DelegateAction:
    sender_id: str
    receiver_id: str
    actions: tuple[Any, ...]
    nonce: int
    max_block_height: int
    public_key: bytes


@dataclass(frozen=True)
class SignedDelegate:
    delegate_action: DelegateAction
    signature: bytes  # borsh Signature: type byte + signature


# --- global contracts (NEP-591, run by outlayer.chain.global_contracts) -------------------


@dataclass(frozen=True)
class DeployGlobalContract:
    code: bytes
    mode: int  # 0 CodeHash, 1 AccountId


@dataclass(frozen=True)
class UseGlobalContract:
    code_hash: bytes | None
    account_id: str | None



@dataclass(frozen=True)
class SignedTransaction:
    signer_id: str
    public_key: bytes  # borsh PublicKey: type byte + key
    nonce: int
    receiver_id: str
    block_hash: bytes
    actions: tuple[Any, ...]
    signature: bytes  # borsh Signature: type byte + signature
    version: int = 0
    priority_fee: int = 0
    #: the exact borsh bytes of the Transaction (what is hashed and signed)
    tx_bytes: bytes = field(default=b"", repr=False)

    @functools.cached_property
    def hash_bytes(self) -> bytes:
        return hashlib.sha256(self.tx_bytes).digest()

    @functools.cached_property
    def hash(self) -> str:
        return base58.b58encode(self.hash_bytes).decode("ascii")


# --- decoding ------------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise BorshError(f"borsh: the data ends inside {what} (at byte {self.pos}, "
                             f"{n} bytes needed, {len(self.data) - self.pos} left)")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "little")

    def u8(self, what: str) -> int:
        return self.uint(1, what)

    def u32(self, what: str) -> int:
        return self.uint(4, what)

    def u64(self, what: str) -> int:
        return self.uint(8, what)

    def u128(self, what: str) -> int:
        return self.uint(16, what)

    def vec_u8(self, what: str) -> bytes:
        return self.take(self.u32(f"{what} length"), what)

    def string(self, what: str) -> str:
        raw = self.vec_u8(what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BorshError(f"borsh: {what} is not UTF-8") from None

    def count(self, what: str, item_min: int) -> int:
        n = self.u32(f"{what} count")
        if n * item_min > len(self.data) - self.pos:
            raise BorshError(f"borsh: {what} count {n} is more than the data holds")
        return n

    def option(self, what: str) -> bool:
        tag = self.u8(f"{what} option tag")
        if tag > 1:
            raise BorshError(f"borsh: {what} option tag must be 0 or 1, got {tag}")
        return tag == 1

    def public_key(self, what: str = "public key") -> bytes:
        tag = self.u8(f"{what} type")
        if tag not in _KEY_SIZES:
            raise BorshError(f"borsh: {what} has unknown key type {tag} (0 ed25519, "
                             "1 secp256k1)")
        return bytes([tag]) + self.take(_KEY_SIZES[tag], what)

    def signature(self) -> bytes:
        tag = self.u8("signature type")
        if tag not in _SIG_SIZES:
            raise BorshError(f"borsh: signature has unknown key type {tag}")
        return bytes([tag]) + self.take(_SIG_SIZES[tag], "signature")


def _permission(r: _Reader) -> FullAccess | FunctionCallPermission:
    tag = r.u8("access key permission")
    if tag == 1:
        return FullAccess()
    if tag != 0:
        raise BorshError(f"borsh: access key permission tag {tag} (0 FunctionCall, "
                         "1 FullAccess)")
    allowance = r.u128("allowance") if r.option("allowance") else None
    receiver = r.string("key receiver_id")
    names = tuple(r.string("method name") for _ in range(r.count("method names", 4)))
    return FunctionCallPermission(allowance, receiver, names)


def _action(r: _Reader, nested: bool = False) -> Any:
    tag = r.u8("action type")
    if tag == 0:
        return CreateAccount()
    if tag == 1:
        return DeployContract(r.vec_u8("contract code"))
    if tag == 2:
        method = r.string("method name")
        args = r.vec_u8("args")
        gas = r.u64("gas")
        return FunctionCall(method, args, r.u128("deposit"), gas)
    if tag == 3:
        return Transfer(r.u128("deposit"))
    if tag == 4:
        amount = r.u128("stake")
        return Stake(amount, r.public_key())
    if tag == 5:
        key = r.public_key()
        nonce = r.u64("access key nonce")
        return AddKey(key, nonce, _permission(r))
    if tag == 6:
        return DeleteKey(r.public_key())
    if tag == 7:
        return DeleteAccount(r.string("beneficiary_id"))
    if tag == 8 and not nested:
        sender = r.string("delegate sender_id")
        receiver = r.string("delegate receiver_id")
        inner = tuple(_action(r, nested=True) for _ in range(r.count("delegate actions", 1)))
        nonce = r.u64("delegate nonce")
        max_height = r.u64("delegate max_block_height")
        delegate = DelegateAction(sender, receiver, inner, nonce, max_height, r.public_key())
        return SignedDelegate(delegate, r.signature())
    if tag == 9:
        code = r.vec_u8("global contract code")
        mode = r.u8("global contract deploy mode")
        if mode > 1:
            raise BorshError(f"borsh: global contract deploy mode {mode}")
        return DeployGlobalContract(code, mode)
    if tag == 10:
        kind = r.u8("global contract identifier")
        if kind == 0:
            return UseGlobalContract(r.take(32, "code hash"), None)
        if kind == 1:
            return UseGlobalContract(None, r.string("global contract account_id"))
        raise BorshError(f"borsh: global contract identifier tag {kind}")
    raise BorshError(f"borsh: unknown action type {tag}" + (" inside a delegate action"
                                                            if nested and tag == 8 else ""))


def decode_signed(raw: bytes) -> SignedTransaction:
    """A borsh SignedTransaction (V0 or V1) from its bytes; BorshError says what is wrong."""
    if not isinstance(raw, bytes | bytearray) or not raw:
        raise BorshError("borsh: empty signed transaction")
    r = _Reader(bytes(raw))
    head = r.take(4, "signer_id length")
    version = 0
    if head[1] != 0:  # nearcore's rule: V0's second byte (signer id length < 256) is 0
        if head[0] != 1:
            raise BorshError(f"borsh: unknown transaction version {head[0]}")
        version = 1
        head = head[1:] + r.take(1, "signer_id length")
    signer_raw = r.take(int.from_bytes(head, "little"), "signer_id")
    try:
        signer = signer_raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BorshError("borsh: signer_id is not UTF-8") from None
    public_key = r.public_key()
    nonce = r.u64("nonce")
    receiver = r.string("receiver_id")
    block_hash = r.take(32, "block_hash")
    actions = tuple(_action(r) for _ in range(r.count("actions", 1)))
    priority_fee = r.u64("priority_fee") if version == 1 else 0
    tx_end = r.pos
    signature = r.signature()
    if r.pos != len(r.data):
        raise BorshError(f"borsh: {len(r.data) - r.pos} unexpected bytes after the signature")
    return SignedTransaction(signer, public_key, nonce, receiver, block_hash, actions,
                             signature, version, priority_fee, bytes(r.data[:tx_end]))


# --- encoding (tests, Python clients) ------------------------------------------------------


def _u(value: int, size: int) -> bytes:
    return value.to_bytes(size, "little")


def _vec(data: bytes) -> bytes:
    return _u(len(data), 4) + data


def _str(text: str) -> bytes:
    return _vec(text.encode("utf-8"))


def _encode_action(action: Any) -> bytes:
    if isinstance(action, CreateAccount):
        return b"\x00"
    if isinstance(action, DeployContract):
        return b"\x01" + _vec(action.code)
    if isinstance(action, FunctionCall):
        return (b"\x02" + _str(action.method_name) + _vec(action.args) + _u(action.gas, 8)
                + _u(action.deposit, 16))
    if isinstance(action, Transfer):
        return b"\x03" + _u(action.deposit, 16)
    if isinstance(action, Stake):
        return b"\x04" + _u(action.stake, 16) + action.public_key
    if isinstance(action, AddKey):
        perm = action.permission
        if isinstance(perm, FullAccess):
            body = b"\x01"
        else:
            allowance = b"\x00" if perm.allowance is None else b"\x01" + _u(perm.allowance, 16)
            body = (b"\x00" + allowance + _str(perm.receiver_id) + _u(len(perm.method_names), 4)
                    + b"".join(_str(n) for n in perm.method_names))
        return b"\x05" + action.public_key + _u(action.nonce, 8) + body
    if isinstance(action, DeleteKey):
        return b"\x06" + action.public_key
    if isinstance(action, DeleteAccount):
        return b"\x07" + _str(action.beneficiary_id)
    if isinstance(action, SignedDelegate):
        return b"\x08" + encode_delegate_action(action.delegate_action) + action.signature
    if isinstance(action, DeployGlobalContract):
        return b"\x09" + _vec(action.code) + bytes([action.mode])
    if isinstance(action, UseGlobalContract):
        if action.code_hash is not None:
            return b"\x0a\x00" + action.code_hash
        return b"\x0a\x01" + _str(action.account_id or "")
    raise TypeError(f"not an action: {action!r}")


def encode_delegate_action(d: DelegateAction) -> bytes:
    """borsh(DelegateAction): what a SignedDelegate carries, and what its sender signs
    (behind NEP-461's prefix, see `outlayer.chain.delegate`)."""
    return (_str(d.sender_id) + _str(d.receiver_id) + _u(len(d.actions), 4)
            + b"".join(_encode_action(a) for a in d.actions) + _u(d.nonce, 8)
            + _u(d.max_block_height, 8) + d.public_key)


def encode_transaction(signer_id: str, public_key: bytes, nonce: int, receiver_id: str,
                       block_hash: bytes, actions: list[Any] | tuple[Any, ...], *,
                       version: int = 0, priority_fee: int = 0) -> bytes:
    body = (_str(signer_id) + public_key + _u(nonce, 8) + _str(receiver_id) + block_hash
            + _u(len(actions), 4) + b"".join(_encode_action(a) for a in actions))
    if version == 1:
        return b"\x01" + body + _u(priority_fee, 8)
    return body


def encode_signed(stx: SignedTransaction) -> bytes:
    return encode_transaction(stx.signer_id, stx.public_key, stx.nonce, stx.receiver_id,
                              stx.block_hash, stx.actions, version=stx.version,
                              priority_fee=stx.priority_fee) + stx.signature


def sign(secret_seed: bytes, signer_id: str, nonce: int, receiver_id: str, block_hash: bytes,
         actions: list[Any] | tuple[Any, ...], *, version: int = 0, priority_fee: int = 0
         ) -> bytes:
    """A signed transaction with an ed25519 key (its 32-byte seed): what a client sends."""
    key = SigningKey(secret_seed)
    public = b"\x00" + bytes(key.verify_key)
    tx = encode_transaction(signer_id, public, nonce, receiver_id, block_hash, actions,
                            version=version, priority_fee=priority_fee)
    signature = key.sign(hashlib.sha256(tx).digest()).signature
    return tx + b"\x00" + signature


# --- checks --------------------------------------------------------------------------------


#: (transaction hash, public key, signature) of signatures that verified, so a transaction
#: checked when it arrives (the RPC) is not verified again when it runs; bounded
_VERIFIED: dict[tuple[bytes, bytes, bytes], None] = {}
_VERIFIED_MAX = 4096


def verify_signature(stx: SignedTransaction) -> None:
    """The signature is the public key's over sha256(transaction) (InvalidSignature)."""
    seen = (stx.hash_bytes, stx.public_key, stx.signature)
    if seen in _VERIFIED:
        return
    _verify(stx)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[seen] = None


def _verify(stx: SignedTransaction) -> None:
    if stx.signature[0] != stx.public_key[0]:
        raise InvalidTx("InvalidSignature", "the signature's key type is not the public key's")
    if not signature_ok(stx.public_key, stx.signature, stx.hash_bytes):
        kind = "ed25519" if stx.public_key[0] == 0 else "secp256k1"
        raise InvalidTx("InvalidSignature", f"the {kind} signature does not verify for "
                        f"{public_key_str(stx.public_key)}")


def signature_ok(public_key: bytes, signature: bytes, digest: bytes) -> bool:
    """Whether the borsh `signature` is `public_key`'s (both borsh, type byte first) over
    `digest` (transactions and delegate actions sign a sha256)."""
    if not signature or not public_key or signature[0] != public_key[0]:
        return False
    if public_key[0] == 0:
        try:
            VerifyKey(public_key[1:]).verify(digest, signature[1:])
            return True
        except (BadSignatureError, ValueError):
            return False
    try:  # secp256k1: 65 bytes r || s || v, the key is the uncompressed point without 0x04
        recovered = coincurve.PublicKey.from_signature_and_message(
            signature[1:], digest, hasher=None).format(compressed=False)[1:]
    except Exception:  # noqa: BLE001 - coincurve raises plain Exception on bad input
        return False
    return recovered == public_key[1:]


def _actions_error(detail: Any, message: str) -> InvalidTx:
    """nearcore's InvalidTxError::ActionsValidation with `detail` (an ActionsValidationError)."""
    return InvalidTx({"ActionsValidation": detail}, f"the actions are invalid: {message}")


def check(stx: SignedTransaction, store: StateStore, params: Params, height: int,
          cost: int, gas_cost: int) -> AccessKeyRecord:
    """NEAR's rules for including `stx` in block `height`; returns the signing key's new
    record (nonce = the transaction's, allowance charged). `cost` is everything the signer
    pays (gas at the gas price + deposits), `gas_cost` its gas part."""
    signer = stx.signer_id
    try:
        check_account_id(signer)
    except UserError:
        raise InvalidTx({"InvalidSignerId": {"signer_id": signer}},
                        f"invalid signer id {signer!r}") from None
    try:
        check_account_id(stx.receiver_id)
    except UserError:
        raise InvalidTx({"InvalidReceiverId": {"receiver_id": stx.receiver_id}},
                        f"invalid receiver id {stx.receiver_id!r}") from None
    if len(stx.tx_bytes) > params.max_transaction_size:
        raise InvalidTx({"TransactionSizeExceeded": {"size": len(stx.tx_bytes),
                                                     "limit": params.max_transaction_size}},
                        f"the transaction is {len(stx.tx_bytes)} bytes, over the limit of "
                        f"{params.max_transaction_size}")
    try:
        validate_actions(list(stx.actions), params)
    except ActionsInvalid as exc:
        raise _actions_error(exc.detail, exc.message) from None
    latest = store.latest_block()  # clients name the latest final block: no lookup then
    block = latest if latest is not None and latest.hash == stx.block_hash else \
        store.block_by_hash(stx.block_hash)
    # nearcore: valid while the block before the one including it is at most
    # base height + period (check_transaction_validity_period)
    if block is None or block.height + TRANSACTION_VALIDITY_PERIOD < height - 1:
        raise InvalidTx("Expired", f"block_hash {base58.b58encode(stx.block_hash).decode()} "
                        "is not a known recent block of this chain")
    account: Account | None = store.get_account(signer)
    if account is None:
        raise InvalidTx({"SignerDoesNotExist": {"signer_id": signer}},
                        f"signer {signer!r} does not exist")
    public_key = public_key_str(stx.public_key)
    key = store.get_access_key(signer, public_key)
    if key is None:
        raise InvalidTx({"InvalidAccessKeyError": {"AccessKeyNotFound": {
            "account_id": signer, "public_key": public_key}}},
            f"account {signer!r} has no access key {public_key}")
    if stx.nonce <= key.nonce:
        raise InvalidTx({"InvalidNonce": {"tx_nonce": stx.nonce, "ak_nonce": key.nonce}},
                        f"nonce {stx.nonce} is not above the access key's nonce {key.nonce}")
    upper = height * ACCESS_KEY_NONCE_RANGE_MULTIPLIER
    if stx.nonce >= upper:
        raise InvalidTx({"NonceTooLarge": {"tx_nonce": stx.nonce, "upper_bound": upper}},
                        f"nonce {stx.nonce} is too large (must be below {upper} at block "
                        f"{height})")
    if account.balance < cost:
        raise InvalidTx({"NotEnoughBalance": {"signer_id": signer,
                                              "balance": str(account.balance),
                                              "cost": str(cost)}},
                        f"signer {signer!r} has {account.balance} yoctoNEAR, the transaction "
                        f"costs {cost}")
    # nearcore's order (verify_and_charge_transaction): the allowance, then the signer's
    # storage stake after paying, then what a function-call key may sign
    permission = key.permission
    if permission != "FullAccess":
        permission = _charge_allowance(signer, public_key, permission["FunctionCall"],
                                       gas_cost)
    check_signer_storage(account, cost, params)
    if permission != "FullAccess":
        refusal = function_call_key_refusal(permission["FunctionCall"], stx.receiver_id,
                                            stx.actions, deposit_last=False)
        if refusal is not None:
            raise InvalidTx({"InvalidAccessKeyError": refusal[0]}, refusal[1])
    return AccessKeyRecord(signer, public_key, stx.nonce, permission)


def check_signer_storage(signer: Account, cost: int, params: Params) -> None:
    """nearcore's InvalidTxError::LackBalanceForState: what the signer keeps after paying
    `cost` must cover its storage (every transaction, signed or made by the simulator)."""
    lacking = storage_shortfall(signer.balance - cost, signer.locked, signer.storage_usage,
                                params)
    if lacking:
        raise InvalidTx({"LackBalanceForState": {"signer_id": signer.account_id,
                                                 "amount": str(lacking)}},
                        f"after paying {cost} yoctoNEAR, signer {signer.account_id!r} could "
                        f"not cover its storage ({signer.storage_usage} bytes): {lacking} "
                        f"yoctoNEAR short")


def function_call_key_refusal(perm: dict[str, Any], receiver_id: str, actions: Any, *,
                              deposit_last: bool) -> tuple[Any, str] | None:
    """Why a function-call key with permission `perm` may not sign `actions` for
    `receiver_id` (nearcore's InvalidAccessKeyError variant and a message), or None. A
    transaction's checks refuse a deposit before the receiver and method; a delegate
    action's (validate_delegate_action_key) after them: `deposit_last`."""
    call = actions[0] if len(actions) == 1 else None
    if not isinstance(call, FunctionCall):
        return "RequiresFullAccess", ("a function-call access key can only sign a single "
                                      "FunctionCall action")
    deposit = ("DepositWithFunctionCall", "a function-call access key cannot attach a deposit")
    if call.deposit and not deposit_last:
        return deposit
    if receiver_id != perm["receiver_id"]:
        return ({"ReceiverMismatch": {"tx_receiver": receiver_id,
                                      "ak_receiver": perm["receiver_id"]}},
                f"the key may only call {perm['receiver_id']!r}, not {receiver_id!r}")
    if perm["method_names"] and call.method_name not in perm["method_names"]:
        return ({"MethodNameMismatch": {"method_name": call.method_name}},
                f"the key may not call method {call.method_name!r}")
    return deposit if call.deposit else None


def _charge_allowance(signer: str, public_key: str, perm: dict[str, Any],
                      gas_cost: int) -> dict[str, Any]:
    """A function-call key's permission with the transaction's gas taken from its
    allowance (none: unlimited); NotEnoughAllowance when it does not cover it."""
    allowance = perm["allowance"]
    if allowance is not None:
        left = int(allowance)
        if left < gas_cost:
            raise InvalidTx({"InvalidAccessKeyError": {"NotEnoughAllowance": {
                "account_id": signer, "public_key": public_key, "allowance": str(left),
                "cost": str(gas_cost)}}},
                f"the key's allowance {left} is less than the cost {gas_cost}")
        allowance = str(left - gas_cost)
    return {"FunctionCall": {**perm, "allowance": allowance}}
