"""State patches: nearcore's StateRecords written into the chain outside transactions.

near-sandbox's `sandbox_patch_state` takes nearcore StateRecord JSON and writes each record
into the trie as it is (nearcore runtime `apply_state_patch`, cause `migration`); receipt
records are unimplemented there. OutLayer applies a patch at once, in order, all records
or none, as one recorded input (history kind ``patch_records``: `verify` replays it):

- ``Account {account_id, account: {amount, locked, code_hash, storage_usage, version?,
  global_contract_hash?, global_contract_account_id?}}`` creates or replaces the account
  record with exactly these values (no access key is made). code_hash
  ``11111111111111111111111111111111`` (32 zero bytes) means no contract; another hash must
  name code on this chain (code is content-addressed here) or the code of a Contract record
  later in the patch. The global fields (version V2) make it run that global contract, which
  must be deployed. Fields nearcore does not read (an AccountView's block_hash...) are
  ignored, as serde ignores them.
- ``AccessKey {account_id, public_key, access_key: {nonce, permission}}`` adds or replaces a
  key; permission ``"FullAccess"`` or ``{"FunctionCall": {allowance, receiver_id,
  method_names}}``.
- ``Contract {account_id, code}`` (base64): the code's hash must be the account's code_hash
  as the records before it leave it (nearcore asserts the same), so an Account record names
  the code first; the code is checked as a deploy's is (JS or wasm by its magic, size,
  `ContractSimulator.patch_records` loads it once).
- ``Data {account_id, data_key, value}`` (base64) writes one storage entry.

Storage usage: an Account record states it. An account patched by an Account record has
exactly the record's storage_usage after the patch (the records are taken as one consistent
snapshot, as near-workspaces' importContract sends them); otherwise AccessKey and Data
records move it by the bytes they add or replace, as AddKey and a contract's storage_write
do (`ContractSimulator.patch_state` counts the same). A stated storage_usage below what the
account's keys, code and storage take is refused: later writes releasing them would take it
below zero (nearcore takes it and fails then).

Refused where nearcore would write orphan rows or panic: AccessKey, Contract and Data
records of an account that does not exist (nor is made earlier in the patch), a Contract
record whose hash is not the account's code_hash, receipt records (by name).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import base58

from outlayer.chain import global_contracts as gc
from outlayer.chain.accounts import (
    BadAccountId,
    access_key_storage_bytes,
    check_account_id,
    public_key_bytes,
    public_key_str,
)
from outlayer.chain.store import AccessKeyRecord, Account, StateStore, code_hash
from outlayer.errors import AccountNotFound, UserError, json_type
from outlayer.vm.params import Params

if TYPE_CHECKING:
    from collections.abc import Callable

    from outlayer.chain.simulator import ContractSimulator

KINDS = ("Account", "AccessKey", "Contract", "Data")
#: StateRecord kinds nearcore's sandbox leaves unimplemented (refused by name)
RECEIPT_KINDS = ("PostponedReceipt", "ReceivedData", "DelayedReceipt")
#: an account without a contract (nearcore's default CryptoHash)
EMPTY_CODE_HASH = base58.b58encode(bytes(32)).decode("ascii")
_U64, _U128 = 1 << 64, 1 << 128


class PatchError(UserError):
    """A record the patch cannot take: the message names the record and its field."""

    kind = "PatchError"

    def __init__(self, index: int, message: str) -> None:
        self.index = index
        super().__init__(message)


class PatchAccountMissing(AccountNotFound):
    """A record for an account that neither exists nor is made earlier in the patch."""

    def __init__(self, index: int, kind: str, account_id: str) -> None:
        self.index = index
        self.account_id = account_id
        super().__init__(f"records[{index}] ({kind}): account {account_id} does not exist "
                         "(an Account record earlier in the same patch can create it)")


@dataclass(frozen=True)
class AccountPatch:
    account_id: str
    amount: int
    locked: int
    code_hash: str | None  # None: no local contract
    storage_usage: int
    global_contract: str | None  # a stored identifier (outlayer.chain.global_contracts)


@dataclass(frozen=True)
class KeyPatch:
    account_id: str
    public_key: str
    nonce: int
    permission: Any  # as AccessKeyRecord stores it


@dataclass(frozen=True)
class CodePatch:
    account_id: str
    code: bytes


@dataclass(frozen=True)
class DataPatch:
    account_id: str
    key: bytes
    value: bytes


Patch = AccountPatch | KeyPatch | CodePatch | DataPatch


# --- reading records ----------------------------------------------------------------------


class _Reader:
    """Field readers for record `index`, whose errors name the field's path."""

    def __init__(self, index: int) -> None:
        self.index = index

    def fail(self, path: str, message: str) -> PatchError:
        return PatchError(self.index, f"`records[{self.index}].{path}` {message}")

    def field(self, body: dict[str, Any], name: str, path: str) -> Any:
        value = body.get(name)
        if value is None:
            raise PatchError(self.index, f"missing field `records[{self.index}].{path}`")
        return value

    def obj(self, body: dict[str, Any], name: str, path: str) -> dict[str, Any]:
        value = self.field(body, name, path)
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, got {json_type(value)}")
        return value

    def account_id(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"must be a string, got {json_type(value)}")
        try:
            return check_account_id(value)
        except BadAccountId as exc:
            raise self.fail(path, exc.message) from None

    def integer(self, value: Any, path: str, limit: int, *, text: bool) -> int:
        """A u64 (a JSON number) or a u128 (nearcore's dec_format: a decimal string, or a
        number)."""
        if isinstance(value, str) and text and value.isascii() and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < limit:
            kind = "a decimal string of a u128" if text else "a u64 number"
            raise self.fail(path, f"must be {kind}, got {_shown(value)}")
        return value

    def b64(self, value: Any, path: str) -> bytes:
        if not isinstance(value, str):
            raise self.fail(path, f"must be a base64 string, got {json_type(value)}")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self.fail(path, f"is not valid base64: {exc}") from None

    def hash(self, value: Any, path: str) -> str:
        raw = b""
        if isinstance(value, str):
            try:
                raw = base58.b58decode(value)
            except ValueError:
                raw = b""
        if len(raw) != 32:
            raise self.fail(path, f"must be the base58 of a 32-byte hash, got {_shown(value)}")
        return base58.b58encode(raw).decode("ascii")




def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 80 else text[:77] + "..."


def parse_records(records: Any, params: Params) -> list[Patch]:
    """nearcore StateRecord JSON to patches, every field checked (PatchError names the
    first bad one); reads no state."""
    if not isinstance(records, list):
        raise UserError(f"records must be a list of StateRecords, got {json_type(records)}")
    return [_parse(i, record, params) for i, record in enumerate(records)]


def _parse(index: int, record: Any, params: Params) -> Patch:
    r = _Reader(index)
    if not isinstance(record, dict) or len(record) != 1:
        raise PatchError(index, f"`records[{index}]` must be one StateRecord, an object with "
                         f"one key ({', '.join(KINDS)}), got {_shown(record)}")
    (kind, body), = record.items()
    if kind in RECEIPT_KINDS:
        raise PatchError(index, f"`records[{index}]`: {kind} records cannot be patched (as in "
                         f"near-sandbox, a patch takes {', '.join(KINDS)} records)")
    if kind not in KINDS:
        raise PatchError(index, f"`records[{index}]`: unknown variant `{kind}`, expected one "
                         f"of {', '.join(f'`{k}`' for k in KINDS)}")
    if not isinstance(body, dict):
        raise r.fail(kind, f"must be an object, got {json_type(body)}")
    account_id = r.account_id(r.field(body, "account_id", "account_id"), "account_id")
    if kind == "Account":
        return _parse_account(r, account_id, r.obj(body, "account", "account"))
    if kind == "AccessKey":
        public_key = r.field(body, "public_key", "public_key")
        try:
            if not isinstance(public_key, str):
                raise UserError(f"must be a string, got {json_type(public_key)}")
            key = public_key_str(public_key_bytes(public_key))
        except UserError as exc:
            raise r.fail("public_key", exc.message) from None
        access = r.obj(body, "access_key", "access_key")
        nonce = r.integer(r.field(access, "nonce", "access_key.nonce"), "access_key.nonce",
                          _U64, text=False)
        permission = _permission(r, r.field(access, "permission", "access_key.permission"))
        return KeyPatch(account_id, key, nonce, permission)
    if kind == "Contract":
        code = r.b64(r.field(body, "code", "code"), "code")
        return CodePatch(account_id, _checked_code(r, code, params))
    key = r.b64(r.field(body, "data_key", "data_key"), "data_key")
    value = r.b64(r.field(body, "value", "value"), "value")
    if not key or len(key) > params.max_length_storage_key:
        raise r.fail("data_key", f"must be 1 to {params.max_length_storage_key} bytes, got "
                     f"{len(key)}")
    if len(value) > params.max_length_storage_value:
        raise r.fail("value", f"is over {params.max_length_storage_value} bytes")
    return DataPatch(account_id, key, value)


def _parse_account(r: _Reader, account_id: str, body: dict[str, Any]) -> AccountPatch:
    amount = r.integer(r.field(body, "amount", "account.amount"), "account.amount", _U128,
                       text=True)
    locked = r.integer(r.field(body, "locked", "account.locked"), "account.locked", _U128,
                       text=True)
    digest = r.hash(r.field(body, "code_hash", "account.code_hash"), "account.code_hash")
    usage = r.integer(r.field(body, "storage_usage", "account.storage_usage"),
                      "account.storage_usage", _U64, text=False)
    version = body.get("version", "V1")
    if version not in ("V1", "V2"):
        raise r.fail("account.version", f'must be "V1" or "V2", got {_shown(version)}')
    by_hash, by_account = body.get("global_contract_hash"), body.get("global_contract_account_id")
    ident = None
    if by_hash is not None and by_account is not None:
        raise r.fail("account", "can't contain both types of global contracts")
    if by_hash is not None:
        ident = "hash:" + r.hash(by_hash, "account.global_contract_hash")
    elif by_account is not None:
        ident = "account:" + r.account_id(by_account, "account.global_contract_account_id")
    if ident is not None and digest != EMPTY_CODE_HASH:
        raise r.fail("account", "can't contain both a local and global contract")
    if ident is not None and version != "V2":
        raise r.fail("account.version", 'must be "V2" for an account using a global contract '
                     "(nearcore drops the global fields of a V1 account)")
    return AccountPatch(account_id, amount, locked,
                        None if digest == EMPTY_CODE_HASH else digest, usage, ident)


def _permission(r: _Reader, value: Any) -> Any:
    if value == "FullAccess":
        return "FullAccess"
    body = value.get("FunctionCall") if isinstance(value, dict) and len(value) == 1 else None
    if not isinstance(body, dict):
        raise r.fail("access_key.permission", 'must be "FullAccess" or {"FunctionCall": '
                     f"{{allowance, receiver_id, method_names}}}}, got {_shown(value)}")
    path = "access_key.permission.FunctionCall"
    allowance = body.get("allowance")
    if allowance is not None:
        allowance = str(r.integer(allowance, f"{path}.allowance", _U128, text=True))
    receiver = r.field(body, "receiver_id", f"{path}.receiver_id")
    if not isinstance(receiver, str):
        raise r.fail(f"{path}.receiver_id", f"must be a string, got {json_type(receiver)}")
    names = r.field(body, "method_names", f"{path}.method_names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise r.fail(f"{path}.method_names", f"must be a list of strings, got {_shown(names)}")
    return {"FunctionCall": {"allowance": allowance, "receiver_id": receiver,
                             "method_names": list(names)}}


def _checked_code(r: _Reader, code: bytes, params: Params) -> bytes:
    """The checks a deploy makes before loading the code (`simulator.read_source`)."""
    from outlayer.chain.simulator import read_source

    if len(code) > params.max_contract_size:
        raise r.fail("code", f"is {len(code)} bytes, over the limit of "
                     f"{params.max_contract_size} bytes")
    try:
        return read_source(code)
    except UserError as exc:
        raise r.fail("code", exc.message) from None


def probe_codes(patches: list[Patch], probe: Callable[[bytes], object]) -> None:
    """Load each Contract record's code once, as a deploy does (`probe` raises for code that
    does not compile); the error names the record."""
    for i, patch in enumerate(patches):
        if isinstance(patch, CodePatch):
            try:
                probe(patch.code)
            except UserError as exc:
                raise PatchError(i, f"`records[{i}].code` does not load: {exc.message}"
                                 ) from None


def to_json(patch: Patch) -> dict[str, Any]:
    """The record in canonical nearcore JSON (what the history records)."""
    if isinstance(patch, AccountPatch):
        account: dict[str, Any] = {
            "amount": str(patch.amount), "locked": str(patch.locked),
            "code_hash": patch.code_hash or EMPTY_CODE_HASH,
            "storage_usage": patch.storage_usage,
            "version": "V1" if patch.global_contract is None else "V2"}
        if patch.global_contract is not None:
            (kind, value), = gc.identifier_json(patch.global_contract).items()
            account["global_contract_hash" if kind == "CodeHash"
                    else "global_contract_account_id"] = value
        return {"Account": {"account_id": patch.account_id, "account": account}}
    if isinstance(patch, KeyPatch):
        return {"AccessKey": {"account_id": patch.account_id, "public_key": patch.public_key,
                              "access_key": {"nonce": patch.nonce,
                                             "permission": patch.permission}}}
    if isinstance(patch, CodePatch):
        return {"Contract": {"account_id": patch.account_id,
                             "code": base64.b64encode(patch.code).decode("ascii")}}
    return {"Data": {"account_id": patch.account_id,
                     "data_key": base64.b64encode(patch.key).decode("ascii"),
                     "value": base64.b64encode(patch.value).decode("ascii")}}


# --- records the Python API builds from the current state -----------------------------------


ACCOUNT_FIELDS = ("amount", "locked", "code_hash", "storage_usage", "global_contract_hash",
                  "global_contract_account_id")


def account_record(store: StateStore, params: Params, account_id: str,
                   fields: dict[str, Any]) -> dict[str, Any]:
    """An Account record of `account_id` with `fields` changed and the others as they are
    (a new account: no balance, no contract, the bare account's storage usage)."""
    unknown = sorted(set(fields) - set(ACCOUNT_FIELDS))
    if unknown:
        raise UserError(f"unknown Account field(s) {', '.join(unknown)} (fields: "
                        f"{', '.join(ACCOUNT_FIELDS)})")
    check_account_id(account_id)
    old = store.get_account(account_id)
    body: dict[str, Any] = {"amount": "0", "locked": "0", "code_hash": EMPTY_CODE_HASH,
                            "storage_usage": params.storage_num_bytes_account}
    if old is not None:
        body = {"amount": str(old.balance), "locked": str(old.locked),
                "code_hash": old.code_hash or EMPTY_CODE_HASH,
                "storage_usage": old.storage_usage}
        ident = store.get_account_contract(account_id)
        if ident is not None and not ({"code_hash", "global_contract_hash",
                                       "global_contract_account_id"} & set(fields)):
            (kind, value), = gc.identifier_json(ident).items()
            body["global_contract_hash" if kind == "CodeHash"
                 else "global_contract_account_id"] = value
    body.update({k: str(v) if k in ("amount", "locked") and isinstance(v, int) else v
                 for k, v in fields.items()})
    if body.get("global_contract_hash") or body.get("global_contract_account_id"):
        body["version"] = "V2"
    return {"Account": {"account_id": account_id, "account": body}}


def code_records(store: StateStore, account_id: str, code: bytes) -> list[dict[str, Any]]:
    """[Account, Contract] records installing `code` on an existing account as a deploy
    would: the new code hash, storage usage less the old contract plus the new code."""
    account = store.get_account(account_id)
    if account is None:
        raise AccountNotFound(f"account {account_id!r} does not exist (create it first, or "
                              "patch an Account record)")
    usage = account.storage_usage - gc.contract_storage(store, account) + len(code)
    return [{"Account": {"account_id": account_id, "account": {
                "amount": str(account.balance), "locked": str(account.locked),
                "code_hash": code_hash(code), "storage_usage": usage}}},
            {"Contract": {"account_id": account_id,
                          "code": base64.b64encode(code).decode("ascii")}}]


# --- applying -------------------------------------------------------------------------------


def apply(sim: ContractSimulator, patches: list[Patch]) -> None:
    """Write the patches in order (inside the caller's store transaction: a refusal rolls
    every record back). `ContractSimulator._apply` runs it, live and in `verify`."""
    store, params = sim.store, sim.params
    stated: dict[str, int] = {}  # account -> index of its last Account record
    for i, patch in enumerate(patches):
        if isinstance(patch, AccountPatch):
            _put_account(sim, i, patch, patches[i + 1:])
            stated[patch.account_id] = i
            continue
        account = store.get_account(patch.account_id)
        if account is None:
            kind = {KeyPatch: "AccessKey", CodePatch: "Contract", DataPatch: "Data"}
            raise PatchAccountMissing(i, kind[type(patch)], patch.account_id)
        if isinstance(patch, KeyPatch):
            old = store.get_access_key(patch.account_id, patch.public_key)
            store.put_access_key(AccessKeyRecord(patch.account_id, patch.public_key,
                                                 patch.nonce, patch.permission))
            if patch.account_id not in stated:
                raw = public_key_bytes(patch.public_key)
                account.storage_usage += access_key_storage_bytes(raw, patch.permission, params)
                if old is not None:
                    account.storage_usage -= access_key_storage_bytes(raw, old.permission,
                                                                      params)
                store.put_account(account)
        elif isinstance(patch, CodePatch):
            digest = code_hash(patch.code)
            if account.code_hash != digest:
                raise PatchError(i, f"`records[{i}].code` hashes to {digest}, not to account "
                                 f"{patch.account_id}'s code_hash "
                                 f"{account.code_hash or EMPTY_CODE_HASH}: an Account record "
                                 f"with code_hash {digest} must come first (nearcore "
                                 "requires the same)")
            store.put_code(patch.code)  # stored already: the account's code_hash names it
        elif patch.account_id in stated:  # the Account record stated the usage
            store.apply_changes(patch.account_id, {patch.key: patch.value})
        else:
            sim._patch(patch.account_id, patch.key, patch.value)  # noqa: SLF001 - one rule
    for account_id, i in stated.items():
        _check_usage(store, params, i, account_id)


def _put_account(sim: ContractSimulator, index: int, patch: AccountPatch,
                 later: list[Patch]) -> None:
    store = sim.store
    if patch.code_hash is not None and store.get_code(patch.code_hash) is None:
        given = next((p for p in later if isinstance(p, CodePatch)
                      and p.account_id == patch.account_id
                      and code_hash(p.code) == patch.code_hash), None)
        if given is None:
            raise PatchError(index, f"`records[{index}].account.code_hash`: no contract code "
                             f"with hash {patch.code_hash} is on this chain (follow this "
                             "record with a Contract record of that code)")
        store.put_code(given.code)
    if patch.global_contract is not None and \
            store.get_global_contract(patch.global_contract) is None:
        raise PatchError(index, f"`records[{index}].account`: no global contract is deployed "
                         f"under {gc.describe(patch.global_contract)}")
    old = store.get_account(patch.account_id)
    keeps_code = old is not None and old.code_hash is not None and \
        old.code_hash == patch.code_hash
    store.put_account(Account(
        patch.account_id, patch.amount, patch.locked, patch.code_hash, patch.storage_usage,
        old.created_height if old is not None else sim.height,
        old.public_key if old is not None else None,
        old.realm if old is not None and keeps_code else "{}"))
    if store.get_account_contract(patch.account_id) != patch.global_contract:
        store.set_account_contract(patch.account_id, patch.global_contract)


def records_storage(store: StateStore, params: Params, account: Account) -> int:
    """Bytes the account's access keys, contract and storage entries count in its usage."""
    keys = sum(access_key_storage_bytes(public_key_bytes(k.public_key), k.permission, params)
               for k in store.access_keys(account.account_id))
    data = sum(len(k) + len(v) + params.storage_num_extra_bytes_record
               for k, v in store.storage_items(account.account_id))
    return keys + data + gc.contract_storage(store, account)


def _check_usage(store: StateStore, params: Params, index: int, account_id: str) -> None:
    account = store.get_account(account_id)
    assert account is not None
    least = records_storage(store, params, account)
    if account.storage_usage < least:
        raise PatchError(index, f"`records[{index}].account.storage_usage` {account.storage_usage} "
                         f"is less than the {least} bytes account {account_id}'s access keys, "
                         "contract and storage take after the patch: writes releasing them "
                         "would take it below zero (give the account's storage_usage, e.g. "
                         "its view_account's)")


__all__ = ["EMPTY_CODE_HASH", "KINDS", "AccountPatch", "CodePatch", "DataPatch", "KeyPatch",
           "Patch", "PatchAccountMissing", "PatchError", "account_record", "apply",
           "code_records", "parse_records", "probe_codes", "records_storage", "to_json"]
