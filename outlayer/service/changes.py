"""State changes per block: EXPERIMENTAL_changes (with their causes) and
EXPERIMENTAL_changes_in_block (what kinds of state each account had changed).

The store logs every row change of the state tables per block (`state_changes`, what time
travel folds). Accounts, access keys and contract storage rows become nearcore's
StateChangeValueView; a contract's code shows as changed when its account's code hash does.

Causes: the log does not say which transaction or receipt made a row change, so they are
recovered by re-running the block (`outlayer.chain.history.Replayer`, from the state at the
end of the block before, on the chain's engine) with the runtime's steps marked: the input
entries of the block, each transaction's conversion, each receipt's execution and the gas
reward paid after it. The replay is checked against the record (every row change, outcome and
root), so the causes belong to exactly the recorded changes. Mapping to nearcore's
StateChangeCauseView:

- a transaction's conversion and its access key nonce: ``transaction_processing`` {tx_hash};
- a receipt's actions: ``receipt_processing`` {receipt_hash}; the 30% of function call gas
  paid to the receiver afterwards: ``action_receipt_gas_reward`` {receipt_hash};
- lowered stakes released at the first block of an epoch: ``validator_accounts_update``;
- state written outside transactions (genesis accounts, `sandbox_patch_state`, deploys and
  accounts made by the CLI or the playground): ``migration``, nearcore's cause for sandbox
  state patches; the first block of the recorded history: ``initial_state``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from outlayer.chain import global_contracts
from outlayer.chain.accounts import (
    BadAccountId,
    check_account_id,
    public_key_bytes,
    public_key_str,
)
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import Account, Block, StateChange
from outlayer.errors import OutLayerError, UserError, json_type
from outlayer.service import errors, views
from outlayer.service.rpc import _block_ref, _obj, _shown

if TYPE_CHECKING:
    from outlayer.service.rpc import Handler, Params, Rpc

Cause = dict[str, Any]
INITIAL_STATE: Cause = {"type": "initial_state"}
MIGRATION: Cause = {"type": "migration"}
VALIDATOR_ACCOUNTS_UPDATE: Cause = {"type": "validator_accounts_update"}
CHANGES_TYPES = ("account_changes", "single_access_key_changes", "all_access_key_changes",
                 "contract_code_changes", "data_changes")
#: the state tables a client sees changes of
_VISIBLE = ("accounts", "access_keys", "state")
#: blocks whose causes were recovered, by (store, block hash): a sealed block never changes
_CACHE_BLOCKS = 64
_cache: OrderedDict[tuple[int, bytes], list[Cause | None]] = OrderedDict()
_cache_lock = threading.Lock()  # nodes in one process each have their own chain thread


# --- causes: the block re-run with its steps marked ------------------------------------------


def _entry_cause(kind: str, body: dict[str, Any]) -> Cause | None:
    """The cause of the writes a recorded input makes before its block runs."""
    if kind == "signed_tx":  # the signing key's new nonce
        return {"type": "transaction_processing", "tx_hash": body["tx_hash"]}
    if kind == "block":  # until the first transaction: the epoch boundary's stake release
        return VALIDATOR_ACCOUNTS_UPDATE
    return MIGRATION


class _Marks:
    """(number of the block's row changes so far, cause of the changes from there on)."""

    def __init__(self, count: Callable[[], int]) -> None:
        self.count = count
        self.marks: list[tuple[int, Cause | None]] = []
        self.receipt: str | None = None

    def mark(self, cause: Cause | None) -> None:
        self.marks.append((self.count(), cause))

    def causes(self, total: int) -> list[Cause | None]:
        out: list[Cause | None] = [None] * total
        for (start, cause), (end, _) in zip(self.marks, [*self.marks[1:], (total, None)],
                                            strict=True):
            for i in range(start, min(end, total)):
                out[i] = cause
        return out


def _replay_causes(sim: ContractSimulator, height: int, total: int) -> list[Cause | None]:
    from outlayer.chain.history import Replayer, _Diverged

    replayer = None
    try:
        replayer = Replayer(sim.store, start=height - 1,
                            engine=sim._engine)  # noqa: SLF001 - the engine already loaded
        store, runtime = replayer.sim.store, replayer.sim._runtime  # noqa: SLF001
        marks = _Marks(lambda: len(store.block_changes(height)))
        add_history, savepoint = store.add_history, store.savepoint
        convert, execute = runtime._convert, runtime._execute  # noqa: SLF001

        def on_history(kind: str, body: dict[str, Any], at: int | None = None) -> Any:
            entry = add_history(kind, body, at)
            marks.mark(_entry_cause(kind, body))
            return entry

        @contextlib.contextmanager
        def on_savepoint() -> Iterator[Any]:
            with savepoint() as point:
                yield point
            if marks.receipt is not None:  # the receipt's actions are done: then its reward
                marks.mark({"type": "action_receipt_gas_reward",
                            "receipt_hash": marks.receipt})

        def on_convert(tx: Any, *args: Any) -> Any:
            marks.mark({"type": "transaction_processing", "tx_hash": tx.tx_hash})
            try:
                return convert(tx, *args)
            finally:
                marks.mark(None)

        def on_execute(receipt: Any, *args: Any) -> Any:
            marks.receipt = receipt.id
            marks.mark({"type": "receipt_processing", "receipt_hash": receipt.id})
            try:
                return execute(receipt, *args)
            finally:
                marks.receipt = None
                marks.mark(None)

        store.add_history = on_history  # type: ignore[method-assign]
        store.savepoint = on_savepoint  # type: ignore[method-assign]
        runtime._convert = on_convert  # type: ignore[method-assign]  # noqa: SLF001
        runtime._execute = on_execute  # type: ignore[method-assign]  # noqa: SLF001
        replayer.run(height)  # checks every row change, outcome and root against the record
    except _Diverged as exc:
        raise errors.internal(f"the causes of block {height}'s changes cannot be recovered: "
                              f"re-running it differs from the record: "
                              f"{exc.divergence.message()}") from None
    finally:
        if replayer is not None:
            replayer.close()
    return marks.causes(total)


def _causes(sim: ContractSimulator, block: Block, changes: list[StateChange]
            ) -> list[Cause | None]:
    """The cause of each of the block's row changes (in `state_changes` order)."""
    key = (id(sim.store), block.hash or b"")
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    if block.height <= sim.history_start:
        causes: list[Cause | None] = [INITIAL_STATE] * len(changes)
    elif not any(c.table in _VISIBLE for c in changes):
        causes = [None] * len(changes)
    else:
        causes = _replay_causes(sim, block.height, len(changes))
    with _cache_lock:
        _cache[key] = causes
        if len(_cache) > _CACHE_BLOCKS:
            _cache.popitem(last=False)
    return causes


# --- row changes as nearcore's views ---------------------------------------------------------


def _account(row: tuple[Any, ...]) -> Account:
    return Account(row[0], int(row[1]), int(row[2]), row[3], int(row[4]), int(row[5]), row[6],
                   str(row[7]))


def _account_value(account: Account, block: Block, uses: str | None) -> dict[str, Any]:
    """AccountView of an account row as changed; `uses`: the global contract identifier it
    had at that change (not at the end of the block)."""
    view = views.account_view(account, block, uses)
    for name in views.at(block):
        view.pop(name)
    return {"account_id": account.account_id, **view}


def _key_of(change: StateChange) -> tuple[str, Any]:
    """(account id, the row's key within the account) of a visible row change."""
    pk = json.loads(change.pk)
    if change.table == "accounts":
        return pk[0], None
    if change.table == "access_keys":
        return pk[0], public_key_bytes(pk[1])  # borsh order, as nearcore's trie keys
    return pk[0], bytes.fromhex(pk[1])


class _GlobalContracts:
    """The global contract each account uses as of a point in the block's row changes: the
    value at the end of the block before, then the block's `account_contracts` changes up to
    that point (`advance` is fed every change in order)."""

    def __init__(self, sim: ContractSimulator, height: int) -> None:
        self.sim, self.height = sim, height
        self.current: dict[str, str | None] = {}

    def advance(self, change: StateChange) -> None:
        if change.table == "account_contracts":
            account_id = json.loads(change.pk)[0]
            self.current[account_id] = None if change.row is None else str(change.row[1])

    def of(self, account_id: str) -> str | None:
        if account_id not in self.current:
            self.current[account_id] = None if self.height <= 0 else \
                global_contracts.account_contract(self.sim.store, account_id, self.height - 1)
        return self.current[account_id]


def _value(change: StateChange, block: Block, contracts: _GlobalContracts) -> dict[str, Any]:
    """StateChangeValueView of one row change (without the cause)."""
    account_id, key = _key_of(change)
    row = change.row
    if change.table == "accounts":
        if row is None:
            return {"type": "account_deletion", "change": {"account_id": account_id}}
        return {"type": "account_update",
                "change": _account_value(_account(row), block, contracts.of(account_id))}
    if change.table == "access_keys":
        public_key = public_key_str(key)
        if row is None:
            return {"type": "access_key_deletion",
                    "change": {"account_id": account_id, "public_key": public_key}}
        return {"type": "access_key_update", "change": {
            "account_id": account_id, "public_key": public_key,
            "access_key": {"nonce": int(row[2]), "permission": json.loads(row[3])}}}
    if row is None:
        return {"type": "data_deletion",
                "change": {"account_id": account_id, "key_base64": views.b64(key)}}
    return {"type": "data_update", "change": {"account_id": account_id,
                                              "key_base64": views.b64(key),
                                              "value_base64": views.b64(bytes(row[2]))}}


def _code_hash_before(sim: ContractSimulator, account_id: str, height: int) -> str | None:
    if height <= 0:
        return None
    tables, _ = sim.store.state_as_of(height - 1, account_id)
    rows = tables["accounts"]
    return rows[0][3] if rows else None


def _code_changes(sim: ContractSimulator, height: int, changes: list[StateChange],
                  accounts: set[str] | None) -> list[tuple[int, str, str | None]]:
    """(index of the accounts row change, account id, new code hash or None: deleted) for
    every change of an account's code hash in the block."""
    before: dict[str, str | None] = {}
    out = []
    for i, change in enumerate(changes):
        if change.table != "accounts":
            continue
        account_id = json.loads(change.pk)[0]
        if accounts is not None and account_id not in accounts:
            continue
        if account_id not in before:
            before[account_id] = _code_hash_before(sim, account_id, height)
        new = None if change.row is None else change.row[3]
        if new != before[account_id]:
            out.append((i, account_id, new))
        before[account_id] = new
    return out


def _collapse(picked: list[tuple[int, Any, Any]], causes: list[Cause | None]
              ) -> list[tuple[int, Any, Any]]:
    """Writes of one key under one cause count once (the last), as a nearcore commit does;
    `picked`: (change index, key, value) sorted by key, then index."""
    out: list[tuple[int, Any, Any]] = []
    for item in picked:
        if out and out[-1][1] == item[1] and _same_segment(causes, out[-1][0], item[0]):
            out[-1] = item
        else:
            out.append(item)
    return out


def _same_segment(causes: list[Cause | None], a: int, b: int) -> bool:
    """Changes a and b (a < b) were made under one cause, with no other cause between."""
    return all(causes[i] is causes[a] for i in range(a, b + 1))


def _with_causes(sim: ContractSimulator, block: Block, changes: list[StateChange],
                 picked: list[tuple[int, Any, Any]]) -> list[dict[str, Any]]:
    """StateChangeWithCauseView of the picked (index, sort key, value) changes, ordered by
    key (then as made), writes of one key under one cause collapsed to the last."""
    if not picked:
        return []
    causes = _causes(sim, block, changes)
    picked.sort(key=lambda item: (item[1], item[0]))
    result = []
    for index, _key, value in _collapse(picked, causes):
        cause = causes[index]
        if cause is None:
            raise errors.internal(f"block {block.height}: row change #{index} has no cause")
        result.append({"cause": cause, **value})
    return result


def _changes(sim: ContractSimulator, params: dict[str, Any], kind: str) -> dict[str, Any]:
    block = _block_ref(sim, params)
    with sim.store.snapshot():
        changes = sim.store.state_changes(block.height)
        picked: list[tuple[int, Any, Any]] = []
        if kind == "contract_code_changes":
            ids = _account_ids(params)
            for order, account_id in enumerate(ids):
                for i, _, code in _code_changes(sim, block.height, changes, {account_id}):
                    value: dict[str, Any] = (
                        {"type": "contract_code_deletion", "change": {"account_id": account_id}}
                        if code is None else
                        {"type": "contract_code_update", "change": {
                            "account_id": account_id,
                            "code_base64": views.b64(sim.store.get_code(code) or b"")}})
                    picked.append((i, (order, account_id), value))
            return {"block_hash": views.block_hash(block),
                    "changes": _with_causes(sim, block, changes, picked)}
        wanted = _wanted(params, kind)
        contracts = _GlobalContracts(sim, block.height)
        for i, change in enumerate(changes):
            if change.table == "account_contracts":  # read before the account's later rows
                contracts.of(json.loads(change.pk)[0])
            contracts.advance(change)
            if change.table not in _VISIBLE:
                continue
            account_id, key = _key_of(change)
            for order, (table, want_account, want_key, prefix) in enumerate(wanted):
                if table != change.table or want_account != account_id:
                    continue
                if want_key is not None and key != want_key:
                    continue
                if prefix is not None and not key.startswith(prefix):
                    continue
                picked.append((i, (order, account_id, key or b""),
                               _value(change, block, contracts)))
        return {"block_hash": views.block_hash(block),
                "changes": _with_causes(sim, block, changes, picked)}


def _changes_in_block(sim: ContractSimulator, params: dict[str, Any]) -> dict[str, Any]:
    """StateChangesKindsView: nearcore orders them by trie key: accounts, contract code,
    access keys, then contract data, each by account id."""
    block = _block_ref(sim, params)
    with sim.store.snapshot():
        changes = sim.store.state_changes(block.height)
        touched: dict[str, set[str]] = {t: set() for t in _VISIBLE}
        for change in changes:
            if change.table in _VISIBLE:
                touched[change.table].add(json.loads(change.pk)[0])
        code = {account_id for _, account_id, _ in
                _code_changes(sim, block.height, changes, None)}
    kinds = [("account_touched", touched["accounts"]), ("contract_code_touched", code),
             ("access_key_touched", touched["access_keys"]), ("data_touched", touched["state"])]
    return {"block_hash": views.block_hash(block),
            "changes": [{"type": name, "account_id": account_id}
                        for name, ids in kinds for account_id in sorted(ids)]}


# --- params ----------------------------------------------------------------------------------


def _account_ids(params: dict[str, Any]) -> list[str]:
    ids = params.get("account_ids")
    if ids is None:
        raise errors.bad_params("missing field `account_ids`")
    if not isinstance(ids, list):
        raise errors.bad_params(f"`account_ids` must be an array, got {json_type(ids)}")
    for i, account_id in enumerate(ids):
        _valid_account(account_id, f"account_ids[{i}]")
    return ids


def _valid_account(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise errors.bad_params(f"`{name}` must be an account id string, got "
                                f"{json_type(value)}")
    try:
        return check_account_id(value)
    except BadAccountId as exc:
        raise errors.bad_params(f"`{name}`: {exc.message}") from None


def _wanted(params: dict[str, Any], kind: str
            ) -> list[tuple[str, str, bytes | None, bytes | None]]:
    """(table, account id, exact key or None, key prefix or None) per requested item."""
    if kind == "account_changes":
        return [("accounts", a, None, None) for a in _account_ids(params)]
    if kind == "all_access_key_changes":
        return [("access_keys", a, None, None) for a in _account_ids(params)]
    if kind == "data_changes":
        ids = _account_ids(params)
        text = params.get("key_prefix_base64")
        if text is None:
            raise errors.bad_params("missing field `key_prefix_base64`")
        if not isinstance(text, str):
            raise errors.bad_params(f"`key_prefix_base64` must be a base64 string, got "
                                    f"{json_type(text)}")
        try:
            prefix = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise errors.parse_error(f"`key_prefix_base64` is not valid base64: {exc}") \
                from None
        return [("state", a, None, prefix) for a in ids]
    keys = params.get("keys")  # single_access_key_changes
    if keys is None:
        raise errors.bad_params("missing field `keys`")
    if not isinstance(keys, list):
        raise errors.bad_params(f"`keys` must be an array, got {json_type(keys)}")
    out: list[tuple[str, str, bytes | None, bytes | None]] = []
    for i, item in enumerate(keys):
        if not isinstance(item, dict):
            raise errors.bad_params(f"`keys[{i}]` must be {{account_id, public_key}}, got "
                                    f"{json_type(item)}")
        account_id = _valid_account(item.get("account_id"), f"keys[{i}].account_id")
        text = item.get("public_key")
        if not isinstance(text, str):
            raise errors.bad_params(f"`keys[{i}].public_key` must be a string, got "
                                    f"{json_type(text)}")
        try:
            key = public_key_bytes(text)
        except UserError as exc:
            raise errors.parse_error(f"`keys[{i}].public_key`: {exc.message}") from None
        out.append(("access_keys", account_id, key, None))
    return out


def _changes_params(params: Params, method: str) -> tuple[dict[str, Any], str]:
    params = _obj(params, method)
    kind = params.get("changes_type")
    if kind is None:
        raise errors.bad_params(f"missing field `changes_type` (one of "
                                f"{', '.join(CHANGES_TYPES)})")
    if kind not in CHANGES_TYPES:
        raise errors.bad_params(f"unknown changes_type {_shown(kind)} (one of "
                                f"{', '.join(CHANGES_TYPES)})")
    return params, str(kind)


# --- handlers -------------------------------------------------------------------------------


async def changes(rpc: Rpc, params: Params) -> Any:
    params, kind = _changes_params(params, "EXPERIMENTAL_changes")
    return await rpc.node.run(_run_changes, params, kind)


def _run_changes(sim: ContractSimulator, params: dict[str, Any], kind: str) -> Any:
    try:
        return _changes(sim, params, kind)
    except OutLayerError as exc:  # the replay could not run (e.g. its engine failed)
        raise errors.internal(f"the causes of the block's changes cannot be recovered: "
                              f"{exc.kind}: {exc.message}") from None


async def changes_in_block(rpc: Rpc, params: Params) -> Any:
    return await rpc.node.run(_changes_in_block, _obj(params, "EXPERIMENTAL_changes_in_block"))


METHODS: dict[str, Handler] = {
    "EXPERIMENTAL_changes": changes, "changes": changes,
    "EXPERIMENTAL_changes_in_block": changes_in_block, "changes_in_block": changes_in_block,
    "block_effects": changes_in_block,
}
