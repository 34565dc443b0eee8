"""The receipt engine: transactions become receipts, receipts run block by block.

This is nearcore's ``Runtime::apply`` for one shard, on the simulator's SQLite state.
Everything here runs inside one store transaction per block (the caller opens it).

Block order (deterministic; nearcore's, for one shard without congestion):

1. the block's transactions, in submission order, are converted into action receipts: the
   signer pays (deposits + prepaid gas at the chain's gas price, see `tx_cost`) and the
   transaction outcome (send fees burnt) is recorded;
2. the receipts of those transactions run, in the same order. NEAR runs a transaction's
   receipt in the same block only when signer == receiver ("local"); the simulator does so
   for every transaction unless the chain was made with ``strict_receipt_delays=True``
   (then a non-local receipt runs in the next block, as on NEAR). This keeps "one call, one
   block" for the common case; results are the same either way, only heights differ;
3. the receipts sent by earlier blocks (calls, callbacks, data, refunds, yield resumes), in
   the order they were sent. A receipt made while executing block H runs in block H + 1 at
   the earliest. A data receipt that completes a postponed action receipt (one waiting for
   its input data) runs that receipt at once, at that point of the order;
4. yield timeouts: every pending yield created at height <= H - 200 (the params'
   `yield_timeout_length_in_blocks`) sends its callback a "failed" resume for block H + 1.

Executing one action receipt (nearcore's ``apply_action_receipt``):

- the actions run in order inside a savepoint; the first failing action stops the rest;
  after the actions the receiver must still cover its storage (LackBalanceForState).
  On failure every write of the receipt (storage, balances, keys, code, account creation or
  deletion) is rolled back and the receipts it made are dropped; its logs and burnt gas stay;
- deposits are credited to the receiver before its contract runs; a failed receipt's
  deposits go back to its predecessor by a Transfer receipt from ``system``;
- gas: the receipt carries its function calls' gas plus the exec fees of its actions; it
  burns the exec fees and what the contract burns. Unused gas goes back to the signer as
  tokens (a Transfer from ``system``): budget - used on success, budget - burnt on failure,
  at the receipt's gas price (only when that is > 0 tokens). 30% of the gas burnt by
  function calls goes to the receiver as tokens (NEAR's burnt_gas_reward);
- the result: a value (or nothing) is sent as data to each output data receiver
  (Some(value) / Some(empty)); a failure sends None; a returned promise
  (`VMOutcome.returned_promise`) hands the receivers over to that receipt instead.

Refund receipts (predecessor ``system``) burn their exec fees as gas but no tokens, make no
refunds of their own, and burn the amount if they fail (e.g. the account was deleted).

A lone Transfer to a missing NEAR-implicit account (64 hex) creates it with the full-access
key its id names (`_create_implicit`); the first block of each epoch releases lowered
stakes before anything else runs (`outlayer.chain.staking`). A Delegate action (NEP-366)
checks the user's signed delegate action and sends its inner actions on as a new receipt
(`outlayer.chain.delegate`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from outlayer.chain import blocks, delegate, roots, staking, suspensions
from outlayer.chain import global_contracts as gc
from outlayer.chain import receipts as rc
from outlayer.chain.accounts import (
    ACCESS_KEY_NONCE_RANGE_MULTIPLIER,
    MAX_ACCOUNT_DELETION_STORAGE_USAGE,
    MIN_ALLOWED_TOP_LEVEL_ACCOUNT_LENGTH,
    REGISTRAR_ACCOUNT_ID,
    LackBalanceForState,
    NotEnoughBalance,
    access_key_storage_bytes,
    check_storage_stake,
    is_sub_account_of,
    is_top_level,
    new_account_storage_usage,
    public_key_str,
)
from outlayer.chain.outcomes import (
    FAILURE,
    SUCCESS_RECEIPT_ID,
    SUCCESS_VALUE,
    ActionError,
    ExecutionOutcome,
)
from outlayer.chain.receipts import SYSTEM, ActionReceipt, DataReceipt, DataReceiver, Receipt
from outlayer.chain.result import Engine, error_dict
from outlayer.chain.signed import (
    DeployGlobalContract,
    SignedDelegate,
    UseGlobalContract,
    check_signer_storage,
)
from outlayer.chain.store import AccessKeyRecord, Account, Block, Savepoint, StateStore
from outlayer.chain.units import U128_MAX
from outlayer.errors import InternalError, UserError
from outlayer.host.engine import Limits
from outlayer.realm.options import RealmOptions
from outlayer.vm.account_id import is_eth_implicit, is_near_implicit
from outlayer.vm.context import VMContext
from outlayer.vm.params import Params
from outlayer.vm.receipts import (
    Action,
    AddKey,
    CreateAccount,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FunctionCall,
    NewReceipt,
    PromiseResult,
    Stake,
    Transfer,
)

#: NEAR's minimum gas price (yoctoNEAR per gas): what `gas_price=NEAR_GAS_PRICE` charges.
NEAR_GAS_PRICE = 100_000_000
#: the simulator's default gas price: NEAR's, so gas costs tokens as on NEAR. A chain made
#: with `gas_price=0` moves balances only by deposits (tests asserting exact balances).
DEFAULT_GAS_PRICE = NEAR_GAS_PRICE
#: NEAR's burnt_gas_reward: the share of function-call gas paid to the receiver.
BURNT_GAS_REWARD = (3, 10)
#: signer_account_pk of accounts without a key, and of refunds from `system`.
NO_KEY = b"\x00" + bytes(32)
#: the most queued receipts a runtime keeps in memory (`ReceiptRuntime._queued`)
QUEUED_MEMO = 1024
#: a call or transaction gives up (InternalError) after this many blocks of receipts.
MAX_SETTLE_BLOCKS = 100_000


@dataclass(frozen=True)
class Transaction:
    """A signed transaction as the simulator takes it (signatures are not modelled)."""

    tx_hash: str
    signer_id: str
    receiver_id: str
    actions: list[Action]
    signer_public_key: bytes = NO_KEY

    def to_json(self) -> dict[str, Any]:
        """Exactly what the block needs to run it again (the history records this)."""
        return {"tx_hash": self.tx_hash, "signer_id": self.signer_id,
                "receiver_id": self.receiver_id,
                "signer_public_key": self.signer_public_key.hex(),
                "actions": [rc.action_to_json(a) for a in self.actions]}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Transaction:
        return cls(doc["tx_hash"], doc["signer_id"], doc["receiver_id"],
                   [rc.action_from_json(a) for a in doc["actions"]],
                   bytes.fromhex(doc["signer_public_key"]))


@dataclass
class FunctionCallRun:
    """One engine run inside a receipt: what `CallResult` is made from."""

    receipt_id: str
    action_index: int
    method: str
    code: bytes
    context: VMContext
    outcome: Any  # VMOutcome
    elapsed_ms: float
    #: every host call with its gas, when the runtime's `tracer` asked for it
    trace: list[TraceEntry] | None = None


@dataclass
class BlockReport:
    """What one block did: the outcomes in execution order and the engine runs."""

    block: Block
    outcomes: list[ExecutionOutcome] = field(default_factory=list)
    #: `roots.outcome_leaf` of each outcome's stored record (the block's outcomes root)
    outcome_leaves: list[bytes] = field(default_factory=list)
    #: each outcome's stored record (`ExecutionOutcome.to_record`)
    outcome_records: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[str, list[FunctionCallRun]] = field(default_factory=dict)


def tx_cost(params: Params, tx: Transaction, gas_price: int) -> tuple[int, int, int]:
    """(gas burnt sending the receipt, gas the receipt carries, total yoctoNEAR the signer
    pays: both gases at the gas price + the deposits)."""
    sir = tx.signer_id == tx.receiver_id
    send = params.action_receipt_creation.send_fee(sir) + sum(
        rc.send_fee(params, a, sir, tx.receiver_id) for a in tx.actions)
    carried = rc.receipt_gas_budget(params, tx.actions, tx.receiver_id)
    return send, carried, (send + carried) * gas_price + rc.total_deposit(tx.actions)


@functools.lru_cache(maxsize=256)
def _realm_options(text: str) -> RealmOptions:
    """A stored realm options text, parsed (a few distinct texts, read for every call)."""
    return RealmOptions.parse(json.loads(text))


# --- engines ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _takes(run: Callable[..., Any], keyword: str) -> bool:
    try:
        params = inspect.signature(run).parameters
    except (TypeError, ValueError):
        return False
    return keyword in params or any(p.kind is inspect.Parameter.VAR_KEYWORD
                                    for p in params.values())


def engine_takes_chain(engine: Engine) -> bool:
    """Whether `engine.run` accepts the `chain=` keyword (the yield host functions need it)."""
    return _takes(type(engine).run, "chain")


def engine_takes_trace(engine: Engine) -> bool:
    """Whether `engine.run` accepts `trace=` (a list VMLogic appends each host call to)."""
    return _takes(type(engine).run, "trace")


#: a method name no contract is expected to export: the deploy-time compile check asks for it
PROBE_METHOD = "__outlayer_deploy_probe__"


def probe_code(engine: Engine, code: bytes, block: Block, params: Params,
               limits: Limits | None, realm: RealmOptions | None = None) -> Any:
    """Load `code` in a view context without running a method (the VMOutcome): code that
    cannot load (invalid wasm, a JS syntax error) fails with CompileError; loadable code
    answers MethodNotFound with its exports. Both deploy doors (`ContractSimulator.deploy`
    and the DeployContract action) refuse code through this, so neither stores dead code."""
    context = VMContext(current_account_id="deploy.probe", signer_account_id="deploy.probe",
                        predecessor_account_id="deploy.probe", input=b"{}",
                        block_height=block.height, block_timestamp=block.timestamp_ns,
                        random_seed=block.random_seed,
                        prepaid_gas=params.max_gas_burnt_view, is_view=True)
    return engine.run(code, PROBE_METHOD, context, {}, params=params, limits=limits,
                      realm=realm or RealmOptions())


#: a probe that ran out of gas: the code cannot even load within a call's gas (e.g. a JS
#: contract of megabytes whose top level cannot be snapshotted), so no method could run
_LOAD_GAS_ERRORS = frozenset({"GasExceeded", "GasLimitExceeded"})


def compile_error(code_error: Any, index: int | None) -> ActionError | None:
    """The ActionError of a probe's CompileError, or of a probe out of gas (None for any
    other outcome), in the form nearcore gives a contract that does not compile
    (FunctionCallError.CompilationError)."""
    kind = getattr(code_error, "kind", None)
    if kind in _LOAD_GAS_ERRORS:
        message = ("the contract cannot load within a call's gas limit: parsing and running "
                   "its top level burns all of it, so none of its methods could ever run; "
                   "make it smaller or move work out of its top level")
    elif kind == "CompileError":
        message = f"the contract does not compile: {code_error.message}"
    else:
        return None
    return ActionError("CompileError", message, index, {"FunctionCallError": {
        "CompilationError": {"WasmerCompileError": {"msg": message}}}})


#: one traced host call: (syscall name, raw u64 arguments, gas burnt before, after)
TraceEntry = tuple[str, tuple[int, ...], int, int]


class ChainView:
    """What VMLogic may ask the chain during a call (promise_yield_resume)."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def yield_pending(self, account_id: str, data_id: bytes) -> bool:
        """A yield of `account_id` with this data id waits for its resume."""
        return self._store.get_yield(account_id, bytes(data_id)) is not None


class AccountStorage:
    """Committed storage of one account as the VM reads it (`StorageView`)."""

    __slots__ = ("_store", "_account_id")

    def __init__(self, store: StateStore, account_id: str) -> None:
        self._store = store
        self._account_id = account_id

    def get(self, key: bytes) -> bytes | None:
        return self._store.storage_get(self._account_id, key)


# --- the engine ------------------------------------------------------------------------------


class ReceiptRuntime:
    """Converts transactions and executes receipts on a `StateStore` (one shard)."""

    def __init__(self, store: StateStore, params: Params, limits: Limits,
                 engine: Callable[[], Engine], *, gas_price: int = DEFAULT_GAS_PRICE,
                 strict_receipt_delays: bool = False,
                 epoch_length: int = blocks.EPOCH_LENGTH) -> None:
        self.store = store
        self.params = params
        self.limits = limits
        self._engine = engine
        self.gas_price = gas_price
        self.strict_receipt_delays = strict_receipt_delays
        self.epoch_length = epoch_length
        self.chain_view = ChainView(store)
        #: receipt -> a list to trace its function calls' host calls into, or None
        self.tracer: Callable[[ActionReceipt], list[TraceEntry] | None] | None = None
        #: the receipts this runtime queued, by their stored JSON: a due receipt whose
        #: JSON is one of them is that receipt (`rc.loads` of it gives an equal one), so it
        #: is not decoded again; taken once, bounded
        self._queued: dict[str, Receipt] = {}

    # --- blocks ----------------------------------------------------------------------------

    def apply_block(self, block: Block, txs: list[Transaction]) -> BlockReport:
        """Run one block (inside the caller's store transaction): see the module doc."""
        report = BlockReport(block)
        if blocks.starts_epoch(block.height, self.epoch_length):
            staking.settle_epoch(self.store)
        local: list[ActionReceipt] = []
        for tx in txs:
            receipt = self._convert(tx, block, report)
            if self.strict_receipt_delays and tx.signer_id != tx.receiver_id:
                self._send(receipt, block)
            else:
                local.append(receipt)
        for receipt in local:
            self._process(receipt, block, report)
        for seq, body in self.store.due_receipts(block.height):
            self.store.remove_queued(seq)
            queued = self._queued.pop(body, None)
            self._process(rc.loads(body) if queued is None else queued, block, report)
        self._resolve_yield_timeouts(block)
        return report

    def check_transaction(self, tx: Transaction, signer: Account) -> int:
        """Raise NotEnoughBalance unless the signer can pay for `tx`; returns the cost."""
        return self._check(tx, signer)[2]

    def _check(self, tx: Transaction, signer: Account) -> tuple[int, int, int]:
        """`check_transaction`, returning all of `tx_cost`."""
        costs = _send, _carried, cost = tx_cost(self.params, tx, self.gas_price)
        deposit = rc.total_deposit(tx.actions)
        if signer.balance < cost:
            gas = cost - deposit
            extra = f" plus {gas} for gas" if gas else ""
            raise NotEnoughBalance(
                f"signer {signer.account_id!r} has {signer.balance} yoctoNEAR, less than the "
                f"attached deposit of {deposit}{extra}")
        check_signer_storage(signer, cost, self.params)
        return costs

    def _convert(self, tx: Transaction, block: Block, report: BlockReport) -> ActionReceipt:
        signer = self.store.get_account(tx.signer_id)
        if signer is None:
            raise UserError(f"signer {tx.signer_id!r} does not exist")
        send, _carried, cost = self._check(tx, signer)
        if cost:
            signer.balance -= cost
            self.store.put_account(signer)
        receipt = ActionReceipt(
            receipt_id=rc.tx_receipt_id(tx.tx_hash), predecessor_id=tx.signer_id,
            receiver_id=tx.receiver_id, signer_id=tx.signer_id,
            signer_public_key=tx.signer_public_key, gas_price=self.gas_price,
            actions=list(tx.actions), tx_hash=tx.tx_hash)
        outcome = ExecutionOutcome(
            id=tx.tx_hash, kind="transaction", tx_hash=tx.tx_hash, block_height=block.height,
            executor_id=tx.signer_id, predecessor_id=tx.signer_id, status=SUCCESS_RECEIPT_ID,
            receipt_id=receipt.id, receipt_ids=[receipt.id], gas_burnt=send,
            tokens_burnt=send * self.gas_price,
            actions=[rc.action_summary(a) for a in tx.actions], receipt_kind="transaction")
        self._record(outcome, report)
        return receipt

    def _send(self, receipt: Receipt, block: Block) -> None:
        """A receipt made in `block` runs in a later block; a yield waits in `yields`."""
        if isinstance(receipt, ActionReceipt) and receipt.is_yield:
            expires = block.height + self.params.yield_timeout_length_in_blocks
            self.store.add_yield(receipt.receiver_id, receipt.input_data_ids[0], expires,
                                 rc.dumps(receipt))
            return
        body = rc.dumps(receipt)
        self.store.enqueue_receipt(block.height + 1, receipt.id, receipt.tx_hash, body)
        if len(self._queued) >= QUEUED_MEMO:
            self._queued.clear()
        self._queued[body] = receipt

    def _record(self, outcome: ExecutionOutcome, report: BlockReport) -> None:
        record = outcome.to_record()
        encoded = roots.canonical_json(record)
        self.store.add_outcome(outcome.id, outcome.tx_hash, outcome.kind,
                               outcome.block_height, record, encoded)
        report.outcomes.append(outcome)
        report.outcome_leaves.append(roots.outcome_leaf_of(encoded))
        report.outcome_records.append(record)

    # --- receipts ----------------------------------------------------------------------

    def _process(self, receipt: Receipt, block: Block, report: BlockReport) -> None:
        if isinstance(receipt, DataReceipt):
            if receipt.is_resume:
                self._resume(receipt, block, report)
                return
            self.store.put_received_data(receipt.receiver_id, receipt.data_id, receipt.data)
            ready = self.store.data_arrived(receipt.receiver_id, receipt.data_id)
            if ready is not None:
                waiting = rc.loads(ready)
                assert isinstance(waiting, ActionReceipt)
                self._execute(waiting, block, report, self._take_inputs(waiting))
            return
        missing = [d for d in receipt.input_data_ids
                   if not self.store.has_received_data(receipt.receiver_id, d)]
        if missing:
            self.store.postpone_receipt(receipt.id, receipt.receiver_id, receipt.tx_hash,
                                        rc.dumps(receipt), missing)
            return
        self._execute(receipt, block, report, self._take_inputs(receipt))

    def _take_inputs(self, receipt: ActionReceipt) -> list[PromiseResult]:
        results = []
        for data_id in receipt.input_data_ids:
            found, data = self.store.take_received_data(receipt.receiver_id, data_id)
            if not found:
                raise InternalError(f"receipt {receipt.id} runs without its input data")
            results.append(PromiseResult.failed() if data is None
                           else PromiseResult.successful(data))
        return results

    def _resume(self, receipt: DataReceipt, block: Block, report: BlockReport) -> None:
        """A promise_yield_resume payload (or a timeout): the first one runs the yield's
        callback, later ones are dropped (NEAR: the first payload wins)."""
        pending = self.store.get_yield(receipt.receiver_id, receipt.data_id)
        if pending is None:
            return
        self.store.remove_yield(receipt.receiver_id, receipt.data_id)
        waiting = rc.loads(pending.receipt)
        assert isinstance(waiting, ActionReceipt)
        result = (PromiseResult.failed() if receipt.data is None
                  else PromiseResult.successful(receipt.data))
        self._execute(waiting, block, report, [result])

    def _resolve_yield_timeouts(self, block: Block) -> None:
        for index, pending in enumerate(self.store.expired_yields(block.height)):
            yielded = rc.loads(pending.receipt)
            resume = DataReceipt(
                receipt_id=rc.child_receipt_id(pending.data_id, block.height, index),
                predecessor_id=pending.account_id, receiver_id=pending.account_id,
                data_id=pending.data_id, data=None, is_resume=True, tx_hash=yielded.tx_hash)
            self.store.mark_yield_timed_out(pending.account_id, pending.data_id)
            self._send(resume, block)

    # --- one action receipt ----------------------------------------------------------

    def _execute(self, r: ActionReceipt, block: Block, report: BlockReport,
                 results: list[PromiseResult]) -> None:
        p = self.params
        made: list[Receipt] = []
        logs: list[str] = []
        burnt = used = p.action_receipt_creation.execution
        fc_burnt = 0
        global_burnt = 0  # yoctoNEAR a global contract deploy burnt (not gas)
        error: ActionError | None = None
        value: bytes = b""
        returned: int | None = None
        runs: list[FunctionCallRun] = []
        # await (outlayer.chain.suspensions): the suspension this receipt resumes, taken
        # out before the savepoint; (receipt index in `made`, suspension) of calls suspending
        resume = suspensions.take(self.store, r)
        suspended: list[tuple[int, bytes]] = []
        account = self.store.get_account(r.receiver_id)
        # transfers to an existing account (a refund, typically) write nothing until they
        # have succeeded (then one account row, and for a gas refund maybe its key's
        # allowance): they cannot fail, so nothing to roll back, no savepoint needed
        plain = account is not None and all(isinstance(a, Transfer) for a in r.actions)
        with contextlib.nullcontext(Savepoint()) if plain else self.store.savepoint() \
                as savepoint:
            # calls and transfers write the account only through `account`: when it ends
            # as it was read, the row needs no write (nor would the write be logged)
            as_read = copy.copy(account) if account is not None and all(
                isinstance(a, FunctionCall | Transfer) for a in r.actions) else None
            actor = r.predecessor_id
            for index, action in enumerate(r.actions):
                fee = rc.exec_fee(p, action, r.receiver_id)
                burnt += fee
                used += fee
                value, returned = b"", None
                error = (self._check_existence(action, account, r, index)
                         or self._check_permission(action, account, actor, r, index))
                if error is not None:
                    break
                if isinstance(action, Transfer) and account is None:
                    # a Transfer that creates an implicit account (_check_existence allowed it)
                    account = self._create_implicit(r.receiver_id, block)
                    actor = r.receiver_id
                if isinstance(action, CreateAccount):
                    error = self._create_account_rule(r, index)
                    if error is None:
                        account = Account(r.receiver_id, 0, 0, None,
                                          p.storage_num_bytes_account, block.height)
                        actor = r.receiver_id
                elif isinstance(action, DeployContract):
                    assert account is not None
                    # refused here, not at the first call as nearcore does: see DIRECT_WASM.md
                    error = compile_error(probe_code(self._engine(), action.code, block, p,
                                                     self.limits).error, index)
                    if error is None:
                        gc.release_contract(self.store, account)  # local or global
                        account.code_hash = self.store.put_code(action.code)
                        account.storage_usage += len(action.code)
                        account.realm = "{}"
                elif isinstance(action, DeployGlobalContract):  # NEP-591: global_contracts
                    assert account is not None
                    # code that cannot load is refused as DeployContract's is
                    error = compile_error(probe_code(self._engine(), action.code, block, p,
                                                     self.limits).error, index)
                    deployed = error or gc.apply_deploy(self.store, p, account, action, index)
                    if isinstance(deployed, ActionError):
                        error = deployed
                    else:
                        global_burnt += deployed
                elif isinstance(action, UseGlobalContract):
                    assert account is not None
                    error = gc.apply_use(self.store, account, action, index)
                elif isinstance(action, FunctionCall):
                    assert account is not None
                    account.balance += action.deposit
                    call = self._function_call(r, index, action, account, block, results,
                                               resume)
                    if isinstance(call, ActionError):
                        error = call
                        break
                    run, new = call
                    runs.append(run)
                    outcome = run.outcome
                    logs.extend(outcome.logs)
                    burnt += outcome.burnt_gas
                    fc_burnt += outcome.burnt_gas
                    used += outcome.used_gas
                    if outcome.error is not None:
                        info = error_dict(outcome.error, action.method_name) or {}
                        error = ActionError.function_call(
                            info.get("kind", "FunctionCallError"), info.get("message", ""),
                            index, getattr(outcome.error, "receipt_error", None))
                        break
                    self.store.apply_changes(r.receiver_id, dict(outcome.storage_changes))
                    account.storage_usage = outcome.storage_usage
                    promised = outcome.returned_promise
                    if promised is not None:
                        returned = len(made) + int(promised)
                    else:
                        value = outcome.return_data or b""
                    if getattr(outcome, "suspension", None) is not None and returned is not None:
                        suspended.append((returned, outcome.suspension))
                    made.extend(new)
                elif isinstance(action, Transfer):
                    assert account is not None
                    account.balance += action.deposit
                    if r.is_refund and r.signer_id == r.receiver_id:  # a gas refund
                        self._refund_allowance(r, action.deposit)
                elif isinstance(action, Stake):
                    assert account is not None
                    error = staking.apply_stake(self.store, account, action, index)
                elif isinstance(action, AddKey):
                    assert account is not None
                    error = self._add_key(r, index, action, account, block)
                elif isinstance(action, DeleteKey):
                    assert account is not None
                    error = self._delete_key(r, index, action, account)
                elif isinstance(action, SignedDelegate):  # NEP-366: outlayer.chain.delegate
                    applied = delegate.apply(self.store, p, r, action, block.height, index)
                    if isinstance(applied, ActionError):
                        error = applied
                    else:
                        made.append(applied.receipt)
                        burnt += applied.send_fees
                        used += applied.send_fees + applied.carried
                elif isinstance(action, DeleteAccount):
                    assert account is not None
                    error = self._delete_account_rule(r, index, account)
                    if error is None:
                        if account.balance > 0:
                            made.append(self._refund(action.beneficiary_id, account.balance,
                                                     SYSTEM, NO_KEY))
                        self.store.delete_account(r.receiver_id)
                        account = None
                        actor = r.predecessor_id
                if error is not None:
                    break
            if error is None and account is not None:
                try:
                    check_storage_stake(account.account_id, account.balance, account.locked,
                                        account.storage_usage, p)
                except LackBalanceForState as exc:
                    required = account.storage_usage * p.storage_amount_per_byte
                    error = ActionError(exc.kind, exc.message, None, {"LackBalanceForState": {
                        "account_id": account.account_id,
                        "amount": str(required - account.balance - account.locked)}})
            if error is None:
                if account is not None and account != as_read:
                    self.store.put_account(account)
            else:
                savepoint.discard()
                made = []
                returned = None
                global_burnt = 0  # the deploy's balance change is rolled back too
        budget = rc.receipt_gas_budget(p, r.actions, r.receiver_id)
        if used > budget:
            raise InternalError(f"receipt {r.id} used {used} gas, more than it carried")

        tokens_burnt = 0 if r.is_refund else burnt * r.gas_price + global_burnt
        if not r.is_refund:
            deposit_refund = rc.total_deposit(r.actions) if error is not None else 0
            gas_refund = budget - (
                burnt if error is not None else used)
            if deposit_refund > 0:
                made.append(self._refund(r.predecessor_id, deposit_refund, SYSTEM, NO_KEY))
            if gas_refund * r.gas_price > 0:
                made.append(self._refund(r.signer_id, gas_refund * r.gas_price, r.signer_id,
                                         r.signer_public_key))
            reward = fc_burnt * BURNT_GAS_REWARD[0] // BURNT_GAS_REWARD[1] * r.gas_price
            if reward > 0:
                # after success the row is `account` (None: deleted); else read it again
                receiver = account if error is None else self.store.get_account(r.receiver_id)
                if receiver is not None:
                    receiver.balance += reward
                    self.store.put_account(receiver)

        if r.output_data_receivers:
            if error is None and returned is not None:
                target = made[returned]
                assert isinstance(target, ActionReceipt)
                target.output_data_receivers.extend(r.output_data_receivers)
            else:
                data = None if error is not None else value
                made.extend(DataReceipt(b"", r.receiver_id, target_of.receiver_id,
                                        target_of.data_id, data, tx_hash=r.tx_hash)
                            for target_of in r.output_data_receivers)

        for i, new in enumerate(made):
            new.receipt_id = rc.child_receipt_id(r.receipt_id, block.height, i)
            new.tx_hash = r.tx_hash
        if error is None:
            for i, body in suspended:
                suspensions.record(self.store, made[i].id, r.receiver_id, block.height, body)
        status = FAILURE if error is not None else (
            SUCCESS_RECEIPT_ID if returned is not None else SUCCESS_VALUE)
        outcome = ExecutionOutcome(
            id=r.id, kind="receipt", tx_hash=r.tx_hash, block_height=block.height,
            executor_id=r.receiver_id, predecessor_id=r.predecessor_id, status=status,
            value=value if status == SUCCESS_VALUE else None,
            receipt_id=made[returned].id if returned is not None else None, error=error,
            logs=logs, receipt_ids=[m.id for m in made if isinstance(m, ActionReceipt)],
            gas_burnt=burnt, tokens_burnt=tokens_burnt,
            actions=[rc.action_summary(a) for a in r.actions],
            receipt_kind="refund" if r.is_refund else ("yield" if r.is_yield else "action"),
            promise_results=[res.status for res in results])
        self._record(outcome, report)
        if runs:
            report.runs[r.id] = runs
        for new in made:
            self._send(new, block)

    def _refund_allowance(self, r: ActionReceipt, amount: int) -> None:
        """A gas refund goes back into the allowance of the function-call key that signed
        the transaction, as nearcore's try_refund_allowance does (saturating at u128): an
        app key pays only for the gas it burns, not for what it prepaid. Keys without an
        allowance, full-access keys and deleted keys are left as they are."""
        key = self.store.get_access_key(r.receiver_id, public_key_str(r.signer_public_key))
        if key is None or key.permission == "FullAccess":
            return
        perm = key.permission["FunctionCall"]
        if perm["allowance"] is None:
            return
        allowance = min(int(perm["allowance"]) + amount, U128_MAX)
        self.store.put_access_key(dataclasses.replace(
            key, permission={"FunctionCall": {**perm, "allowance": str(allowance)}}))

    def _refund(self, receiver_id: str, amount: int, signer_id: str, signer_pk: bytes
                ) -> ActionReceipt:
        return ActionReceipt(b"", SYSTEM, receiver_id, signer_id, signer_pk, 0,
                             [Transfer(amount)])

    # --- action rules (nearcore actions.rs) --------------------------------------------

    @staticmethod
    def _check_existence(action: Action, account: Account | None, r: ActionReceipt,
                         index: int) -> ActionError | None:
        if isinstance(action, CreateAccount):
            if account is not None:
                return ActionError("AccountAlreadyExists",
                                   f"account {r.receiver_id} already exists", index,
                                   {"AccountAlreadyExists": {"account_id": r.receiver_id}})
            if is_near_implicit(r.receiver_id) or is_eth_implicit(r.receiver_id):
                # NEAR: an implicit account is made only by a lone Transfer, so nobody can
                # give it a key or code its owner did not choose
                return ActionError(
                    "OnlyImplicitAccountCreationAllowed",
                    f"{r.receiver_id} is an implicit account id: only a transfer (alone in "
                    "its receipt) can create it", index,
                    {"OnlyImplicitAccountCreationAllowed": {"account_id": r.receiver_id}})
            return None
        if (account is None and isinstance(action, Transfer) and len(r.actions) == 1
                and not r.is_refund and is_near_implicit(r.receiver_id)):
            return None  # creates the implicit account (refunds never do, as on NEAR)
        if account is None:
            return ActionError("AccountDoesNotExist", f"account {r.receiver_id} does not exist",
                               index, {"AccountDoesNotExist": {"account_id": r.receiver_id}})
        return None

    @staticmethod
    def _check_permission(action: Action, account: Account | None, actor: str,
                          r: ActionReceipt, index: int) -> ActionError | None:
        if not isinstance(action, DeployContract | Stake | AddKey | DeleteKey | DeleteAccount
                          | DeployGlobalContract | UseGlobalContract):
            return None
        if actor != r.receiver_id:
            name = type(action).__name__
            return ActionError("ActorNoPermission",
                               f"{actor} may not {name} on account {r.receiver_id} (only the "
                               "account itself, or the receipt that creates it)", index,
                               {"ActorNoPermission": {"account_id": r.receiver_id,
                                                      "actor_id": actor}})
        if isinstance(action, DeleteAccount) and account is not None and account.locked:
            return ActionError("DeleteAccountStaking", f"account {r.receiver_id} is staking",
                               index, {"DeleteAccountStaking": {"account_id": r.receiver_id}})
        return None

    def _create_implicit(self, account_id: str, block: Block) -> Account:
        """nearcore's implicit account creation: the account and one full-access key, the
        ed25519 key whose hex is the account id, with NEAR's nonce for new keys."""
        key = public_key_str(b"\x00" + bytes.fromhex(account_id))
        self.store.put_access_key(AccessKeyRecord(
            account_id, key, (block.height - 1) * ACCESS_KEY_NONCE_RANGE_MULTIPLIER,
            "FullAccess"))
        return Account(account_id, 0, 0, None, new_account_storage_usage(self.params, key),
                       block.height, key)

    @staticmethod
    def _create_account_rule(r: ActionReceipt, index: int) -> ActionError | None:
        new, by = r.receiver_id, r.predecessor_id
        if is_top_level(new):
            if len(new) < MIN_ALLOWED_TOP_LEVEL_ACCOUNT_LENGTH and by != REGISTRAR_ACCOUNT_ID:
                return ActionError(
                    "CreateAccountOnlyByRegistrar",
                    f"top-level account {new} is shorter than "
                    f"{MIN_ALLOWED_TOP_LEVEL_ACCOUNT_LENGTH} characters: only "
                    f"{REGISTRAR_ACCOUNT_ID} may create it, not {by}", index,
                    {"CreateAccountOnlyByRegistrar": {
                        "account_id": new, "registrar_account_id": REGISTRAR_ACCOUNT_ID,
                        "predecessor_id": by}})
            return None
        if not is_sub_account_of(new, by):
            return ActionError("CreateAccountNotAllowed",
                               f"{new} is not a direct sub-account of {by}: only its parent "
                               "account may create it", index,
                               {"CreateAccountNotAllowed": {"account_id": new,
                                                            "predecessor_id": by}})
        return None

    def _delete_account_rule(self, r: ActionReceipt, index: int, account: Account
                             ) -> ActionError | None:
        if (account.storage_usage - gc.contract_storage(self.store, account)
                > MAX_ACCOUNT_DELETION_STORAGE_USAGE):
            return ActionError("DeleteAccountWithLargeState",
                               f"account {r.receiver_id} has over "
                               f"{MAX_ACCOUNT_DELETION_STORAGE_USAGE} bytes of state", index,
                               {"DeleteAccountWithLargeState": {"account_id": r.receiver_id}})
        return None

    def _add_key(self, r: ActionReceipt, index: int, action: AddKey, account: Account,
                 block: Block) -> ActionError | None:
        key = public_key_str(action.public_key)
        if self.store.get_access_key(r.receiver_id, key) is not None:
            return ActionError("AddKeyAlreadyExists",
                               f"account {r.receiver_id} already has key {key}", index,
                               {"AddKeyAlreadyExists": {"account_id": r.receiver_id,
                                                        "public_key": key}})
        permission = rc.permission_to_json(action.permission)
        nonce = (block.height - 1) * ACCESS_KEY_NONCE_RANGE_MULTIPLIER
        self.store.put_access_key(AccessKeyRecord(r.receiver_id, key, nonce, permission))
        account.storage_usage += access_key_storage_bytes(action.public_key, permission,
                                                          self.params)
        return None

    def _delete_key(self, r: ActionReceipt, index: int, action: DeleteKey, account: Account
                    ) -> ActionError | None:
        key = public_key_str(action.public_key)
        record = self.store.get_access_key(r.receiver_id, key)
        if record is None:
            return ActionError("DeleteKeyDoesNotExist",
                               f"account {r.receiver_id} has no key {key}", index,
                               {"DeleteKeyDoesNotExist": {"account_id": r.receiver_id,
                                                          "public_key": key}})
        self.store.delete_access_key(r.receiver_id, key)
        account.storage_usage -= access_key_storage_bytes(action.public_key,
                                                          record.permission, self.params)
        if account.public_key == key:
            account.public_key = None
        return None

    # --- function calls ------------------------------------------------------------------

    def _function_call(self, r: ActionReceipt, index: int, action: FunctionCall,
                       account: Account, block: Block, results: list[PromiseResult],
                       resume: suspensions.Resume | None = None
                       ) -> ActionError | tuple[FunctionCallRun, list[Receipt]]:
        found = gc.contract_code(self.store, account)  # local code, else a global contract
        code = None if found is None else found[1]
        if code is None:
            return ActionError(
                "CodeDoesNotExist", f"account {r.receiver_id} has no contract deployed", index,
                {"FunctionCallError": {"CompilationError": {
                    "CodeDoesNotExist": {"account_id": r.receiver_id}}}})
        is_last = index == len(r.actions) - 1
        action_hash = rc.action_id(r.receipt_id, index)
        context = VMContext(
            current_account_id=r.receiver_id, signer_account_id=r.signer_id,
            predecessor_account_id=r.predecessor_id, input=action.args,
            signer_account_pk=r.signer_public_key, block_height=block.height,
            block_timestamp=block.timestamp_ns,
            epoch_height=blocks.epoch_height(block.height, self.epoch_length),
            account_balance=account.balance, account_locked_balance=account.locked,
            attached_deposit=action.deposit, prepaid_gas=action.gas,
            random_seed=block.random_seed, storage_usage=account.storage_usage,
            is_view=False,
            output_data_receivers=tuple(d.receiver_id for d in r.output_data_receivers)
            if is_last else (),
            promise_results=tuple(results), receipt_id=action_hash)
        engine = self._engine()
        kwargs: dict[str, Any] = {"params": self.params, "limits": self.limits,
                                  "realm": _realm_options(account.realm)}
        if engine_takes_chain(engine):
            kwargs["chain"] = self.chain_view
        if action.method_name == suspensions.RESUME_METHOD:
            if resume is None or resume.body is None:
                return (resume or suspensions.Resume(None)).action_error(index)
            kwargs["resume"] = resume.body
        trace = self.tracer(r) if self.tracer is not None else None
        if trace is not None and engine_takes_trace(engine):
            kwargs["trace"] = trace
        start = time.perf_counter()
        outcome = engine.run(code, action.method_name, context,
                             AccountStorage(self.store, r.receiver_id), **kwargs)
        elapsed = (time.perf_counter() - start) * 1000.0
        run = FunctionCallRun(r.id, index, action.method_name, code, context, outcome, elapsed,
                              trace)
        if outcome.error is not None:
            return run, []
        if outcome.used_gas > action.gas:
            raise InternalError(f"{action.method_name} used {outcome.used_gas} gas of "
                                f"{action.gas} prepaid")
        new = self._new_receipts(r, action_hash, outcome)
        outgoing = sum(rc.total_deposit(n.actions) for n in new
                       if isinstance(n, ActionReceipt))
        if outcome.balance != account.balance - outgoing:
            raise InternalError(f"{action.method_name}: the engine reports balance "
                                f"{outcome.balance}, but {account.balance} minus the "
                                f"{outgoing} attached to new receipts is "
                                f"{account.balance - outgoing}")
        account.balance = outcome.balance
        return run, new

    def _new_receipts(self, r: ActionReceipt, action_hash: bytes, outcome: Any
                      ) -> list[Receipt]:
        """The call's NewReceipts as chain receipts: data ids for every dependency, output
        data receivers on the receipts depended on; then its yield resumes."""
        made: list[NewReceipt] = list(outcome.receipts)
        out: list[Receipt] = []
        counter = 0
        for j, new in enumerate(made):
            inputs: list[bytes] = []
            if new.yield_data_id is not None:
                inputs.append(bytes(new.yield_data_id))
            receipt = ActionReceipt(b"", r.receiver_id, new.receiver_id, r.signer_id,
                                    r.signer_public_key, r.gas_price, list(new.actions),
                                    inputs, [], is_yield=new.yield_data_id is not None)
            for dep in new.depends_on:
                if not 0 <= dep < j:
                    raise InternalError(f"receipt {j} depends on receipt {dep}, which is "
                                        "not an earlier receipt of the same call")
                data_id = rc.data_id_for(action_hash, counter)
                counter += 1
                receipt.input_data_ids.append(data_id)
                earlier = out[dep]
                assert isinstance(earlier, ActionReceipt)
                earlier.output_data_receivers.append(DataReceiver(data_id, new.receiver_id))
            out.append(receipt)
        for data_id, payload in outcome.yield_resumes:
            out.append(DataReceipt(b"", r.receiver_id, r.receiver_id, bytes(data_id),
                                   bytes(payload), is_resume=True))
        return out


def pending_summary(store: StateStore) -> dict[str, list[dict[str, Any]]]:
    """Receipts in flight: queued for a block, postponed for data, yields waiting."""
    queued = []
    for height, body in store.queued_receipts():
        receipt = rc.loads(body)
        queued.append({"height": height, **_describe(receipt)})
    postponed = [_describe(rc.loads(body)) for body in store.postponed_receipts()]
    yields = []
    for pending in store.pending_yields():
        yields.append({"account_id": pending.account_id, "data_id": rc.b58(pending.data_id),
                       "expires_at": pending.expires_at, "timed_out": pending.timed_out,
                       **_describe(rc.loads(pending.receipt))})
    return {"queued": queued, "postponed": postponed, "yields": yields}


def _describe(receipt: Receipt) -> dict[str, Any]:
    doc: dict[str, Any] = {"receipt_id": receipt.id, "tx_hash": receipt.tx_hash,
                           "predecessor_id": receipt.predecessor_id,
                           "receiver_id": receipt.receiver_id}
    if isinstance(receipt, DataReceipt):
        doc["type"] = "resume" if receipt.is_resume else "data"
        doc["data_id"] = rc.b58(receipt.data_id)
        doc["ok"] = receipt.data is not None
    else:
        doc["type"] = "action"
        doc["actions"] = [rc.action_summary(a) for a in receipt.actions]
    return doc


__all__ = ["NEAR_GAS_PRICE", "DEFAULT_GAS_PRICE", "ReceiptRuntime", "Transaction",
           "BlockReport", "FunctionCallRun", "ChainView", "tx_cost", "pending_summary"]
