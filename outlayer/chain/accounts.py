"""Account rules of the simulated chain: ids, keys, balances and storage staking."""

from __future__ import annotations

import functools

import base58

from outlayer.chain.units import NEAR, format_near
from outlayer.errors import InvalidAccountId, OutLayerError, UserError
from outlayer.vm.account_id import validate_account_id
from outlayer.vm.params import Params

#: the signer of calls that name none; created on first use with DEFAULT_SIGNER_BALANCE.
DEFAULT_SIGNER = "test.near"
DEFAULT_SIGNER_BALANCE = 1_000_000 * NEAR
DEFAULT_BALANCE = 100 * NEAR

_KEY_TYPES = {"ed25519": (0, 32), "secp256k1": (1, 64)}
_KEY_NAMES = {tag: (name, size) for name, (tag, size) in _KEY_TYPES.items()}

#: NEAR's account creation rules (mainnet AccountCreationConfig): a top-level account id
#: shorter than this can only be created by the registrar.
MIN_ALLOWED_TOP_LEVEL_ACCOUNT_LENGTH = 32
REGISTRAR_ACCOUNT_ID = "registrar"
#: an account whose storage (code excluded) is over this cannot be deleted (nearcore's
#: Account::MAX_ACCOUNT_DELETION_STORAGE_USAGE).
MAX_ACCOUNT_DELETION_STORAGE_USAGE = 10_000
#: NEAR sets a new access key's nonce to (block height - 1) * this.
ACCESS_KEY_NONCE_RANGE_MULTIPLIER = 1_000_000


class BadAccountId(UserError):
    kind = "InvalidAccountId"


class NotEnoughBalance(UserError):
    kind = "NotEnoughBalance"


class LackBalanceForState(OutLayerError):
    """After the call the account cannot pay for its storage (NEAR's ActionError)."""

    kind = "LackBalanceForState"


class UnsupportedExecutionMode(UserError):
    kind = "UnsupportedExecutionMode"


def check_account_id(account_id: object, role: str = "account") -> str:
    """The id if NEAR accepts it; else a user error saying why."""
    if not isinstance(account_id, str):
        raise BadAccountId(f"{role} id must be a string, not {type(account_id).__name__}")
    try:
        return validate_account_id(account_id)
    except InvalidAccountId:
        raise BadAccountId(
            f"invalid {role} id {account_id!r}: NEAR account ids are 2-64 characters of "
            "a-z, 0-9 and the separators - _ . (never first, last or doubled)") from None


@functools.lru_cache(maxsize=1024)
def public_key_bytes(public_key: str) -> bytes:
    """A "ed25519:<base58>" / "secp256k1:<base58>" key in borsh form (type byte + key);
    remembered: a signer's key is read for each of its transactions."""
    kind, sep, body = public_key.partition(":")
    if not sep:
        kind, body = "ed25519", public_key
    if kind not in _KEY_TYPES:
        raise UserError(f"public key type {kind!r} is not ed25519 or secp256k1")
    tag, size = _KEY_TYPES[kind]
    try:
        raw = base58.b58decode(body)
    except ValueError as exc:
        raise UserError(f"public key {public_key!r} is not base58: {exc}") from exc
    if len(raw) != size:
        raise UserError(f"{kind} public key must be {size} bytes, got {len(raw)}")
    return bytes([tag]) + raw


def public_key_str(raw: bytes) -> str:
    """A borsh public key (type byte + key) as NEAR shows it: "ed25519:<base58>"."""
    if not raw or raw[0] not in _KEY_NAMES:
        raise UserError(f"public key has an unknown key type byte {raw[:1].hex() or '(none)'}")
    name, size = _KEY_NAMES[raw[0]]
    if len(raw) != 1 + size:
        raise UserError(f"{name} public key must be {size} bytes, got {len(raw) - 1}")
    return f"{name}:{base58.b58encode(raw[1:]).decode('ascii')}"


def access_key_storage_bytes(public_key: bytes, permission_json: object,
                             params: Params) -> int:
    """Storage NEAR counts for one access key: borsh(public key) + borsh(AccessKey) + record.

    AccessKey = nonce (u64) + permission: FullAccess is one tag byte; FunctionCall is a tag,
    an Option<u128> allowance, the receiver id (u32 length + bytes) and the method names
    (u32 count, then u32 length + bytes each).
    """
    size = len(public_key) + 8 + 1
    if isinstance(permission_json, dict):
        body = permission_json["FunctionCall"]
        size += 1 + (16 if body["allowance"] is not None else 0)
        size += 4 + len(body["receiver_id"].encode())
        size += 4 + sum(4 + len(name.encode()) for name in body["method_names"])
    return size + params.storage_num_extra_bytes_record


def is_sub_account_of(account_id: str, parent: str) -> bool:
    """`a.b` is a direct sub-account of `b` (NEAR's AccountId::is_sub_account_of)."""
    prefix, dot, rest = account_id.partition(".")
    return bool(dot) and rest == parent and bool(prefix)


def is_top_level(account_id: str) -> bool:
    return "." not in account_id


def new_account_storage_usage(params: Params, public_key: str | None) -> int:
    """NEAR's storage usage of a fresh account: the record, plus one full-access key."""
    usage = params.storage_num_bytes_account
    if public_key is not None:
        # key record: borsh public key + AccessKey (nonce u64 + FullAccess tag) + record bytes
        usage += len(public_key_bytes(public_key)) + 9 + params.storage_num_extra_bytes_record
    return usage


def storage_shortfall(balance: int, locked: int, storage_usage: int, params: Params) -> int:
    """How much the account lacks to cover its storage (nearcore's LackBalanceForState
    `amount`: required minus balance and locked); 0 when it is covered."""
    return max(0, storage_usage * params.storage_amount_per_byte - balance - locked)


def check_storage_stake(account_id: str, balance: int, locked: int, storage_usage: int,
                        params: Params) -> None:
    """Raise LackBalanceForState if the balance does not cover the account's storage."""
    required = storage_usage * params.storage_amount_per_byte
    if storage_shortfall(balance, locked, storage_usage, params):
        raise LackBalanceForState(
            f"account {account_id} would use {storage_usage} bytes of storage, which needs "
            f"{format_near(required)} but it has {format_near(balance + locked)}")
