"""Account rules of the simulated chain: ids, keys, balances and storage staking."""

from __future__ import annotations

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


def public_key_bytes(public_key: str) -> bytes:
    """A "ed25519:<base58>" / "secp256k1:<base58>" key in borsh form (type byte + key)."""
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


def new_account_storage_usage(params: Params, public_key: str | None) -> int:
    """NEAR's storage usage of a fresh account: the record, plus one full-access key."""
    usage = params.storage_num_bytes_account
    if public_key is not None:
        # key record: borsh public key + AccessKey (nonce u64 + FullAccess tag) + record bytes
        usage += len(public_key_bytes(public_key)) + 9 + params.storage_num_extra_bytes_record
    return usage


def check_storage_stake(account_id: str, balance: int, locked: int, storage_usage: int,
                        params: Params) -> None:
    """Raise LackBalanceForState if the balance does not cover the account's storage."""
    required = storage_usage * params.storage_amount_per_byte
    if balance + locked < required:
        raise LackBalanceForState(
            f"account {account_id} would use {storage_usage} bytes of storage, which needs "
            f"{format_near(required)} but it has {format_near(balance + locked)}")
