"""The simulated NEAR chain: accounts, deploy, transactions and views over a persistent store.

A call (`call`) or a batch of actions (`transact`) is a transaction: it becomes an action
receipt and runs through the receipt engine (`outlayer.chain.runtime`, whose doc gives the
block order, refunds and failure rules) block by block: the transaction's own receipt in
the block that includes it, every receipt it causes (cross-contract calls, callbacks,
refunds) in the following blocks. The call returns when nothing is left in flight except
receipts waiting for a yield resume; `fast_forward(n)` produces n more blocks (in-flight
receipts and yield timeouts advance with them). Each block is one store transaction;
the blocks of one call share one commit (`store.batch()`, each block a savepoint).

A failed receipt (panic, exception, gas, limits, storage staking, a failing action) commits
no account, key, code or storage change; its logs and burnt gas stay in its outcome, its
deposits are refunded by a receipt of the next block. Bad input (unknown account, bad
args, not enough balance) is refused before anything runs and writes nothing at all.
Views never write.

Gas price: NEAR's 10^8 yoctoNEAR per gas (`DEFAULT_GAS_PRICE`), fixed when the chain is
made; the signer buys the prepaid gas at it and gets the unused gas back by a refund
receipt. A chain made with `gas_price=0` moves balances only by deposits (gas is still
metered and burnt). Epochs: `epoch_length` blocks (43,200 unless the chain is made with
another); lowered stakes are released at the first block of an epoch
(`outlayer.chain.staking`).

Time: block h has timestamp = previous + block time (genesis + h * block time unless
changed); `set_timestamp` fixes the next block's timestamp, `set_block_time` the step.
Each block's random seed is sha256(chain seed || height).

History: every input that changes the chain (accounts and deploys made directly,
patch_state and state patches (`outlayer.chain.patches`), time changes, and each block with
its transactions) goes through `_apply`, which records it in the store's `history` and
applies it; each block is sealed with a state root, an outcomes root, an inputs root and
a hash (`outlayer.chain.roots`). `verify` replays the inputs on a fresh chain through the
same `_apply` (`outlayer.chain.history`); `state_at` reads the state of any past block from
the store's state change log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import base58

from outlayer import contract_file
from outlayer.chain import blocks, patches, roots
from outlayer.chain import global_contracts as gc
from outlayer.chain import receipts as rc
from outlayer.chain.accounts import (
    DEFAULT_BALANCE,
    DEFAULT_SIGNER,
    DEFAULT_SIGNER_BALANCE,
    LackBalanceForState,
    check_account_id,
    check_storage_stake,
    new_account_storage_usage,
    public_key_bytes,
    public_key_str,
)
from outlayer.chain.actions import validate_actions
from outlayer.chain.codec import decode_result, encode_args, state_to_text
from outlayer.chain.modes import check_mode, engine_for
from outlayer.chain.outcomes import FAILURE as FINAL_FAILURE
from outlayer.chain.outcomes import SUCCESS_VALUE, ExecutionOutcome, FinalOutcome
from outlayer.chain.result import (
    FAILURE,
    PENDING,
    SUCCESS,
    CallResult,
    Engine,
    exported_names,
    run_engine,
)
from outlayer.chain.runtime import (
    DEFAULT_GAS_PRICE,
    MAX_SETTLE_BLOCKS,
    NO_KEY,
    AccountStorage,
    BlockReport,
    FunctionCallRun,
    ReceiptRuntime,
    Transaction,
    compile_error,
    pending_summary,
    probe_code,
    tx_cost,
)
from outlayer.chain.store import (
    AccessKeyRecord,
    Account,
    Block,
    StateStore,
    TxRecord,
    code_hash,
    open_store,
)
from outlayer.chain.units import TGAS, parse_amount, parse_gas
from outlayer.errors import (
    AccountAlreadyExists,
    AccountNotFound,
    ContractNotDeployed,
    InternalError,
    UserError,
)
from outlayer.host.engine import Limits
from outlayer.realm.options import RealmOptions
from outlayer.realm.transform import deploy_warnings
from outlayer.vm.context import VMContext
from outlayer.vm.params import DEFAULT_PARAMS, Fee, Params
from outlayer.vm.receipts import Action, FunctionCall

if TYPE_CHECKING:
    from outlayer.chain.history import TxReplay, VerifyReport

DEFAULT_GAS = 300 * TGAS
#: signer_account_pk of accounts created without a key (VMContext's default).
_NO_KEY = NO_KEY


def _convenience_seed(chain_seed: bytes, account_id: str) -> bytes:
    """The ed25519 secret seed of `convenience_key`."""
    return hashlib.sha256(b"outlayer-convenience-key\0" + chain_seed + b"\0"
                          + account_id.encode()).digest()


def convenience_key(chain_seed: bytes, account_id: str) -> str:
    """The full-access ed25519 key of an account the simulator (or the test harness) makes
    without being given one: a call's or transaction's missing signer, `deploy`'s and
    `create_account`'s new accounts, the sandbox's accounts. So `signer_account_pk` is a
    real key a contract can add or compare, and a client can sign for the account over
    RPC (`convenience_secret_key`). Derived from the chain seed and the account id: the
    same chain makes the same keys, and the history records each key, so `verify` replays
    it. Anyone can derive the secret too: a test convenience, not a security boundary."""
    from nacl.signing import SigningKey

    seed = _convenience_seed(chain_seed, account_id)
    return public_key_str(b"\x00" + SigningKey(seed).verify_key.encode())


def convenience_secret_key(chain_seed: bytes, account_id: str) -> str:
    """The secret of `convenience_key` in NEAR's text form (near-cli's ``private_key``:
    "ed25519:" + base58 of the 32-byte seed and the 32-byte public key)."""
    from nacl.signing import SigningKey

    seed = _convenience_seed(chain_seed, account_id)
    public = SigningKey(seed).verify_key.encode()
    return "ed25519:" + base58.b58encode(seed + public).decode("ascii")


class ContractCompileError(UserError):
    """The deployed source does not parse (message carries line:column)."""

    kind = "CompileError"


class ContractSimulator:
    """A local NEAR chain for JavaScript contracts.

    `db_path`: None = `.outlayer/state.db` in the working directory, ":memory:" = in
    memory, else a file. The chain's genesis time, block time, seed, gas price, epoch
    length and receipt delay rule are fixed when the file is created; a simulator opened on
    an existing file keeps the stored ones (passing a different gas_price / epoch_length /
    strict_receipt_delays for it is an error). `engine`: run contracts with this engine
    instead of the execution mode's (tests use hand-made engines). Not thread-safe: use one
    simulator per thread.
    """

    def __init__(self, execution_mode: str = "quickjs", db_path: str | Path | None = None, *,
                 genesis_time_ns: int = blocks.GENESIS_TIME_NS,
                 block_time_ns: int = blocks.BLOCK_TIME_NS,
                 chain_seed: bytes = blocks.CHAIN_SEED,
                 params: Params = DEFAULT_PARAMS, limits: Limits | None = None,
                 store: StateStore | None = None, engine: Engine | None = None,
                 gas_price: int | None = None,
                 strict_receipt_delays: bool | None = None,
                 epoch_length: int | None = None) -> None:
        self.execution_mode = check_mode(execution_mode)
        self.params = params
        self.limits = limits or Limits()
        for name, value, least in (("gas_price", gas_price, 0),
                                   ("epoch_length", epoch_length, 1)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < least):
                raise UserError(f"{name} must be an integer of at least {least}, got "
                                f"{value!r}")
        self.store: StateStore = store if store is not None else open_store(db_path)
        self._engine: Engine | None = engine
        with self.store.transaction():
            new_chain = self.store.get_meta("chain_seed") is None
            if new_chain:
                self.store.set_meta("chain_seed", chain_seed.hex())
                self.store.set_meta("genesis_time_ns", str(genesis_time_ns))
                self.store.set_meta("block_time_ns", str(block_time_ns))
                self.store.set_meta("tx_nonce", "0")
                self.store.add_block(Block(0, genesis_time_ns, blocks.block_seed(chain_seed, 0)))
            if self.store.get_meta("gas_price") is None:
                # files made before the gas price was stored ran at 0
                default = DEFAULT_GAS_PRICE if new_chain else 0
                self.store.set_meta("gas_price", str(default if gas_price is None
                                                     else gas_price))
                self.store.set_meta("strict_receipt_delays",
                                    "1" if strict_receipt_delays else "0")
            if self.store.get_meta("epoch_length") is None:
                self.store.set_meta("epoch_length", str(epoch_length or blocks.EPOCH_LENGTH))
        self.chain_seed = bytes.fromhex(self._meta("chain_seed"))
        self.genesis_time_ns = int(self._meta("genesis_time_ns"))
        self.block_time_ns = int(self._meta("block_time_ns"))
        self.gas_price = int(self._meta("gas_price"))
        self.strict_receipt_delays = self._meta("strict_receipt_delays") == "1"
        self.epoch_length = int(self._meta("epoch_length"))
        mismatch = None
        if gas_price is not None and gas_price != self.gas_price:
            mismatch = (f"this chain's gas price is {self.gas_price} (fixed when it was "
                        f"made), not {gas_price}")
        if epoch_length is not None and epoch_length != self.epoch_length:
            mismatch = (f"this chain's epoch length is {self.epoch_length} blocks (fixed "
                        f"when it was made), not {epoch_length}")
        if (strict_receipt_delays is not None
                and strict_receipt_delays != self.strict_receipt_delays):
            mismatch = ("this chain's strict_receipt_delays is "
                        f"{self.strict_receipt_delays} (fixed when it was made)")
        if mismatch is not None:
            if store is None:
                self.store.close()
            raise UserError(mismatch)
        self._runtime = ReceiptRuntime(self.store, params, self.limits, self._engine_now,
                                       gas_price=self.gas_price,
                                       strict_receipt_delays=self.strict_receipt_delays,
                                       epoch_length=self.epoch_length)
        #: the leaves of the last state root, so a block re-hashes only what it changed
        self._roots = roots.RootCache()
        with self.store.transaction():
            self._history_start = self.history_start  # fixed when the store was opened
            self._init_history()

    # --- verifiable history --------------------------------------------------------------

    def _run_config(self) -> dict[str, Any]:
        """What execution depends on besides the chain's fixed configuration."""
        return {"execution_mode": self.execution_mode, "params": params_to_json(self.params),
                "memory_bytes": self.limits.memory_bytes}

    def chain_config(self) -> dict[str, Any]:
        """The configuration the history starts from (the first sealed block commits it)."""
        return json.loads(self._meta("chain_config"))

    def _init_history(self) -> None:
        run = self._run_config()
        if self.store.get_meta("chain_config") is None:  # a new chain, or a file before v4
            config = {"version": 1, "chain_seed": self.chain_seed.hex(),
                      "genesis_time_ns": self.genesis_time_ns,
                      "block_time_ns": self.block_time_ns, "gas_price": self.gas_price,
                      "strict_receipt_delays": self.strict_receipt_delays,
                      "epoch_length": self.epoch_length, **run}
            self.store.set_meta("chain_config", json.dumps(config, sort_keys=True))
            self.store.set_meta("run_config", json.dumps(run, sort_keys=True))
        latest = self.block
        if latest.state_root is None:  # genesis, or the last block of a file before v4
            self._seal(latest, self.store.account_ids())
        if json.loads(self._meta("run_config")) != run:
            self._apply("config", run)

    @property
    def history_start(self) -> int:
        """The first block with a recorded history (0, or where a pre-v4 file was upgraded)."""
        return int(self.store.get_meta("history_start") or 0)

    def _seal(self, block: Block, touched: list[str] | None = None, *,
              prev: Block | None = None, report: BlockReport | None = None) -> Block:
        """Compute the block's roots and hash and store them: the block is final.
        `touched`: recompute these accounts' leaves from the store (opening a chain);
        else the root cache re-reads what the block changed. `prev`: the block before
        (read if not given); `report`: the block's run, whose outcome leaves it has."""
        height = block.height
        if prev is None and height > 0:
            prev = self.store.get_block(height - 1)
        prev_hash = prev.hash if height > self._history_start and prev is not None and \
            prev.hash is not None else roots.config_hash(self.chain_config())
        if touched is None:
            state = self._roots.state_root(self.store, height, prev_hash)
        else:
            state = roots.state_root(self.store, touched)
        outcomes = roots.merkle_root(report.outcome_leaves) if report is not None else \
            roots.outcomes_root(self.store.outcomes_at(height))
        inputs = roots.inputs_root((e.kind, e.body)
                                   for e in self.store.history(height, height))
        digest = roots.block_hash(height, block.timestamp_ns, block.random_seed, prev_hash,
                                  state, outcomes, inputs)
        sealed = Block(height, block.timestamp_ns, block.random_seed, state, outcomes, inputs,
                       digest)
        if report is not None:  # a block `_block` ran: stored now, sealed (one write)
            self.store.add_block(sealed)
        else:  # genesis, or the last block of a file before schema 4, already stored
            self.store.seal_block(height, state, outcomes, inputs, digest)
        if touched is None:
            self._roots.sealed(digest)
        return sealed

    def _block(self, txs: list[Transaction]) -> BlockReport:
        """One block, inside the caller's store transaction: recorded, run, sealed."""
        prev = self.block
        # the latest block is sealed, so the open height is the next one
        self.store.add_history("block", {"txs": [tx.to_json() for tx in txs]},
                               prev.height + 1 if prev.state_root is not None else None)
        block = self._next_block(prev)
        report = self._runtime.apply_block(block, txs)
        report.block = self._seal(block, prev=prev, report=report)
        return report

    def _apply(self, kind: str, body: dict[str, Any]) -> BlockReport | None:
        """Record one input and apply it (inside the caller's store transaction). The live
        chain and `outlayer verify`'s replay both go through here, so they run the same
        code; a block returns its report."""
        if kind == "block":
            return self._block([Transaction.from_json(t) for t in body["txs"]])
        if kind == "create_account":  # records itself: the simulator creates accounts inline
            self._create(body["account_id"], int(body["balance"]), body["public_key"])
            return None
        self.store.add_history(kind, body)
        if kind == "deploy":
            self._install(body["account_id"], bytes.fromhex(body["code"]), body["realm"])
        elif kind == "patch_state":
            value = body["value"]
            self._patch(body["account_id"], bytes.fromhex(body["key"]),
                        None if value is None else bytes.fromhex(value))
        elif kind == "patch_records":  # nearcore StateRecords (outlayer.chain.patches)
            patches.apply(self, patches.parse_records(body["records"], self.params))
        elif kind == "set_timestamp":
            self.store.set_meta("next_timestamp_ns", str(body["timestamp_ns"]))
        elif kind == "set_block_time":
            self.store.set_meta("block_time_ns", str(body["block_time_ns"]))
            self.block_time_ns = int(body["block_time_ns"])
        elif kind == "engine":
            self.store.set_meta("engine_id", body["engine_id"])
        elif kind == "signed_tx":  # the signing key's nonce (and allowance) after the tx
            self.store.put_access_key(AccessKeyRecord(
                body["signer_id"], body["public_key"], int(body["nonce"]), body["permission"]))
        elif kind == "config":
            self.execution_mode = check_mode(body["execution_mode"])
            self.params = self._runtime.params = params_from_json(body["params"])
            self.limits = self._runtime.limits = dataclasses.replace(
                self.limits, memory_bytes=int(body["memory_bytes"]))
            self.store.set_meta("run_config", json.dumps(body, sort_keys=True))
        else:
            raise InternalError(f"unknown history entry {kind!r}")
        return None

    # --- chain -------------------------------------------------------------------------

    def _meta(self, key: str) -> str:
        value = self.store.get_meta(key)
        if value is None:
            raise UserError(f"the state store has no {key!r}: it was not made by OutLayer")
        return value

    @property
    def block(self) -> Block:
        """The latest block."""
        block = self.store.latest_block()
        assert block is not None, "genesis block missing"
        return block

    @property
    def height(self) -> int:
        return self.block.height

    def _next_block(self, latest: Block) -> Block:
        height = latest.height + 1
        forced = self.store.get_meta("next_timestamp_ns")
        if forced:
            timestamp = int(forced)
            self.store.set_meta("next_timestamp_ns", "")
        else:
            timestamp = latest.timestamp_ns + self.block_time_ns
        # stored when sealed: while it runs, writes already belong to it (the open height
        # after a sealed block is the next one, see store._OPEN_HEIGHT)
        return Block(height, timestamp, blocks.block_seed(self.chain_seed, height))

    def _produce(self, txs: list[Transaction], queued: bool = False) -> BlockReport:
        """One block (its own store transaction) with these transactions; `queued`: the
        caller knows receipts are queued for it."""
        self._before_block(queued)
        with self.store.transaction():
            return self._block(txs)

    def _before_block(self, runs_code: bool) -> None:
        """Load the engine before a block that may run contracts (a guest build never
        happens inside a block) and record which engine runs from now on when that changed
        (`verify` warns when it replays with another one)."""
        if not (runs_code or self.store.queued_count()):
            return
        engine_id = getattr(self._engine_now(), "engine_id", None)
        if isinstance(engine_id, str) and engine_id != self.store.get_meta("engine_id"):
            with self.store.transaction():
                self._apply("engine", {"engine_id": engine_id})

    def _settle(self) -> list[BlockReport]:
        """Blocks until no receipt is queued (yield callbacks may still wait)."""
        reports: list[BlockReport] = []
        while self.store.queued_count():
            if len(reports) >= MAX_SETTLE_BLOCKS:
                raise InternalError(f"receipts still in flight after {MAX_SETTLE_BLOCKS} "
                                    "blocks")
            reports.append(self._produce([], queued=True))
        return reports

    def fast_forward(self, blocks: int) -> list[ExecutionOutcome]:
        """Produce `blocks` blocks: in-flight receipts run and yields time out as they would
        on a chain; returns the outcomes of the receipts that ran, in order."""
        if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 0:
            raise UserError(f"fast_forward needs a non-negative number of blocks, got "
                            f"{blocks!r}")
        outcomes: list[ExecutionOutcome] = []
        with self.store.batch():
            for _ in range(blocks):
                outcomes.extend(self._produce([]).outcomes)
        return outcomes

    def set_timestamp(self, timestamp_ns: int) -> None:
        """The next block's timestamp, exactly (nanoseconds since the Unix epoch); later
        blocks follow it at the block time. It must be later than the latest block's.
        Views see the latest block, so they see it once a block has been made."""
        if isinstance(timestamp_ns, bool) or not isinstance(timestamp_ns, int):
            raise UserError(f"timestamp must be an integer of nanoseconds, got "
                            f"{timestamp_ns!r}")
        latest = self.block.timestamp_ns
        if timestamp_ns <= latest:
            raise UserError(f"timestamp {timestamp_ns} is not after the latest block's "
                            f"({latest}): block time only moves forward")
        if timestamp_ns >= 1 << 64:
            raise UserError(f"timestamp {timestamp_ns} does not fit in u64 nanoseconds")
        with self.store.transaction():
            self._apply("set_timestamp", {"timestamp_ns": timestamp_ns})

    def set_block_time(self, block_time_ns: int) -> None:
        """Nanoseconds between consecutive blocks from now on (at least 1)."""
        if isinstance(block_time_ns, bool) or not isinstance(block_time_ns, int) \
                or block_time_ns < 1:
            raise UserError(f"block time must be a positive integer of nanoseconds, got "
                            f"{block_time_ns!r}")
        with self.store.transaction():
            self._apply("set_block_time", {"block_time_ns": block_time_ns})

    def _engine_now(self) -> Engine:
        if self._engine is None:
            self._engine = engine_for(self.execution_mode)
        return self._engine

    def _tx_hash(self, **fields: Any) -> str:
        nonce = int(self._meta("tx_nonce")) + 1
        self.store.set_meta("tx_nonce", str(nonce))
        text = json.dumps({"nonce": nonce, **fields}, sort_keys=True, separators=(",", ":"))
        return rc.b58(hashlib.sha256(text.encode()).digest())  # remembered: decoded next

    def _log(self, kind: str, signer: str, receiver: str, status: str, *, height: int,
             method: str | None = None, args: bytes = b"", deposit: int = 0, gas: int = 0,
             outcome: dict[str, Any] | None = None, tx_hash: str | None = None) -> str:
        tx_hash = tx_hash or self._tx_hash(kind=kind, signer=signer, receiver=receiver,
                                           height=height, method=method, args=args.hex(),
                                           deposit=str(deposit), gas=gas)
        self.store.add_transaction(TxRecord(tx_hash, height, kind, signer, receiver, status,
                                            method, args, deposit, gas, outcome or {}))
        return tx_hash

    # --- accounts ----------------------------------------------------------------------

    def _get(self, account_id: str, role: str = "account") -> Account:
        account = self.store.get_account(account_id)
        if account is None:
            raise AccountNotFound(f"{role} {account_id!r} does not exist (create it first: "
                                  f"create_account / `outlayer create-account {account_id}`)")
        return account

    def _create(self, account_id: str, balance: int, public_key: str | None) -> Account:
        if self.store.get_account(account_id) is not None:
            raise AccountAlreadyExists(f"account {account_id!r} already exists")
        usage = new_account_storage_usage(self.params, public_key)
        try:
            check_storage_stake(account_id, balance, 0, usage, self.params)
        except LackBalanceForState as exc:
            raise UserError(f"{exc.message}; give it a larger balance") from None
        self.store.add_history("create_account", {"account_id": account_id,
                                                  "balance": str(balance),
                                                  "public_key": public_key})
        account = Account(account_id, balance, 0, None, usage, self.height, public_key)
        self.store.put_account(account)
        if public_key is not None:
            self.store.put_access_key(AccessKeyRecord(account_id, public_key, 0, "FullAccess"))
        self._log("create_account", account_id, account_id, "success", height=self.height,
                  deposit=balance)
        return account

    def create_account(self, account_id: str, balance: int | str = DEFAULT_BALANCE, *,
                       public_key: str | None = None, keyless: bool = False
                       ) -> dict[str, Any]:
        """Create an account (AccountAlreadyExists if it exists); returns `account()`.

        Its full-access key is `public_key`, else the chain's derived `convenience_key`
        (its secret: `secret_key`); `keyless=True` makes an account with no key at all
        (nobody can sign for it; it can still receive)."""
        check_account_id(account_id)
        amount = parse_amount(balance)
        if keyless and public_key is not None:
            raise UserError("give either public_key or keyless=True, not both")
        if public_key is not None:
            public_key_bytes(public_key)
        elif not keyless:
            public_key = convenience_key(self.chain_seed, account_id)
        with self.store.transaction():
            self._create(account_id, amount, public_key)
        return self.account(account_id)

    def secret_key(self, account_id: str) -> str:
        """The secret key (near-cli's ``private_key`` form) of the key this chain derived for
        `account_id` (`convenience_key`), to sign its transactions over RPC; UserError if
        the account does not hold that key (made with another key or none, or deleted)."""
        check_account_id(account_id)
        key = convenience_key(self.chain_seed, account_id)
        with self.store.snapshot():
            self._get(account_id)
            held = self.store.get_access_key(account_id, key) is not None
        if not held:
            raise UserError(f"account {account_id!r} does not hold this chain's derived key "
                            f"{key} (it was made with another key or none, or the key was "
                            "deleted)")
        return convenience_secret_key(self.chain_seed, account_id)

    def account(self, account_id: str) -> dict[str, Any]:
        """The account record: balance and locked in yoctoNEAR (int), code hash, storage."""
        check_account_id(account_id)
        return dataclasses.asdict(self._get(account_id))

    def global_contract(self, account_id: str, at_block: int | None = None
                        ) -> dict[str, str] | None:
        """The global contract (NEP-591) `account_id` runs (at the end of block `at_block`
        if given), as nearcore names it (``{"CodeHash": b58}`` or ``{"AccountId": id}``);
        None if it uses none."""
        check_account_id(account_id)
        if at_block is not None:
            self._check_height(at_block)
        with self.store.snapshot():
            if at_block is None:
                self._get(account_id)
            uses = gc.account_contract(self.store, account_id, at_block)
        return None if uses is None else gc.identifier_json(uses)

    def state(self, account_id: str) -> dict[str, str]:
        """The contract's committed storage, keys and values in the `codec` text encoding."""
        check_account_id(account_id)
        with self.store.snapshot():
            self._get(account_id)
            items = self.store.storage_items(account_id)
        return {k: v for k, v in state_to_text(dict(items)).items() if v is not None}

    def _check_height(self, height: int) -> None:
        if isinstance(height, bool) or not isinstance(height, int):
            raise UserError(f"block height must be an integer, got {height!r}")
        if not self.history_start <= height <= self.height:
            raise UserError(f"block {height} is outside the recorded history (blocks "
                            f"{self.history_start} to {self.height})")

    def _record_at(self, account_id: str, height: int) -> tuple[Account, dict[bytes, bytes]]:
        check_account_id(account_id)
        with self.store.snapshot():
            self._check_height(height)
            tables, _ = self.store.state_as_of(height, account_id)
        if not tables["accounts"]:
            raise AccountNotFound(f"account {account_id!r} did not exist at the end of block "
                                  f"{height}")
        row = tables["accounts"][0]
        account = Account(row[0], int(row[1]), int(row[2]), row[3], int(row[4]), int(row[5]),
                          row[6], str(row[7]))
        return account, {bytes(r[1]): bytes(r[2]) for r in tables["state"]}

    def state_at(self, account_id: str, height: int) -> dict[str, str]:
        """The contract storage as it was at the end of block `height` (from the recorded
        state changes: no replay), in the `codec` text encoding like `state`."""
        _account, items = self._record_at(account_id, height)
        return {k: v for k, v in state_to_text(dict(sorted(items.items()))).items()
                if v is not None}

    def account_at(self, account_id: str, height: int) -> dict[str, Any]:
        """The account record as it was at the end of block `height`."""
        return dataclasses.asdict(self._record_at(account_id, height)[0])

    def verify(self, from_block: int | None = None) -> VerifyReport:
        """Replay the recorded history on a fresh chain and check every block, outcome and
        root, then the live state (`outlayer.chain.history.verify`)."""
        from outlayer.chain.history import verify

        return verify(self.store, from_block=from_block, engine=self._engine)

    def replay_tx(self, tx_hash: str) -> TxReplay:
        """Re-execute a past transaction with a trace of every host call and its gas
        (`outlayer.chain.history.replay_tx`)."""
        from outlayer.chain.history import replay_tx

        return replay_tx(self.store, tx_hash, engine=self._engine)

    def transactions(self, account_id: str | None = None, limit: int = 100
                     ) -> list[dict[str, Any]]:
        """History, oldest first: calls (failed ones too), deploys, account creations."""
        return [dataclasses.asdict(tx) for tx in self.store.transactions(account_id, limit)]

    # --- deploy ------------------------------------------------------------------------

    def deploy(self, account_id: str, source: str | bytes | Path, *, create: bool = True,
               realm: RealmOptions | dict[str, Any] | None = None) -> dict[str, Any]:
        """Store the contract code of `account_id` (created if missing, when `create`).

        `source` is the code itself (str or bytes) or a Path to a file. The code is loaded
        once in a view context first, so a syntax error is refused here with its
        line:column instead of at the first call; the exported functions are returned.
        `realm`: the contract's realm options (allow_math_random, allow_date_now).
        """
        check_account_id(account_id)
        options = RealmOptions.parse(realm)
        code = read_source(source)
        if len(code) > self.params.max_contract_size:
            raise UserError(f"contract is {len(code)} bytes, over the limit of "
                            f"{self.params.max_contract_size} bytes")
        methods = self._probe(code, options)
        with self.store.transaction():
            created = self.store.get_account(account_id) is None
            if created:
                if not create:
                    self._get(account_id)
                self._create(account_id, DEFAULT_BALANCE,
                             convenience_key(self.chain_seed, account_id))
            account = self._get(account_id)
            old = gc.contract_storage(self.store, account)  # local code or a global's id
            try:
                check_storage_stake(account_id, account.balance, account.locked,
                                    account.storage_usage - old + len(code), self.params)
            except LackBalanceForState as exc:
                raise UserError(exc.message) from None
            installed = self._apply("deploy", {"account_id": account_id, "code": code.hex(),
                                               "realm": options.to_json()})
            assert installed is None
            digest = self._get(account_id).code_hash
            self._log("deploy", account_id, account_id, "success", height=self.height,
                      outcome={"code_hash": digest, "code_size": len(code)})
        return {"account_id": account_id, "code_hash": digest,
                "code_size": len(code), "created": created, "methods": methods,
                "realm": options.to_json(), "warnings": deploy_warnings(code)}

    def _install(self, account_id: str, code: bytes, realm: dict[str, Any]) -> None:
        account = self._get(account_id)
        gc.release_contract(self.store, account)  # its local code, or the global it used
        account.code_hash = self.store.put_code(code)
        account.storage_usage += len(code)
        account.realm = json.dumps(realm, sort_keys=True)
        self.store.put_account(account)

    def deploy_global(self, account_id: str, source: str | bytes | Path,
                      mode: str = "CodeHash") -> dict[str, Any]:
        """Deploy `source` as a global contract (NEP-591) by a DeployGlobalContract
        transaction of `account_id` (made like `call`'s signer if missing, as `deploy`
        makes its account: a deployer is only a payer, the code stays when it leaves):
        under its code hash (mode "CodeHash", immutable) or under `account_id` (mode
        "AccountId": deploying again updates it for every account using it). The account
        pays ``global_contract_storage_amount_per_byte`` per byte, burnt. Refusals (code
        that does not compile, an existing account whose balance does not cover that price
        plus the transaction's gas) raise UserError and write nothing. Returns the
        transaction's hash, block, gas burnt and tokens burnt (gas and `storage_burnt`, the
        per-byte price, as nearcore's outcome counts them)."""
        check_account_id(account_id)
        code = read_source(source)
        action = gc.deploy_action(code, mode)
        if len(code) > self.params.max_contract_size:
            raise UserError(f"contract is {len(code)} bytes, over the limit of "
                            f"{self.params.max_contract_size} bytes")
        methods = self._probe(code, RealmOptions())
        price = self.params.global_contract_storage_amount_per_byte * len(code)

        def affordable() -> None:
            payer = self.store.get_account(account_id)
            if payer is None:
                return  # created with DEFAULT_SIGNER_BALANCE, checked by the block
            _send, _carried, gas_cost = tx_cost(self.params, Transaction(
                "", account_id, account_id, [action]), self.gas_price)
            if payer.balance < price + gas_cost:
                raise UserError(f"LackBalanceForState: account {account_id} needs {price} "
                                f"yoctoNEAR to deploy a global contract of {len(code)} bytes "
                                f"plus {gas_cost} for gas, it has {payer.balance}")

        result = self._settled_or_raise(account_id, action, precheck=affordable)
        ident = gc.identifier_json(gc.deployed_identifier(action, account_id))
        return {"account_id": account_id, "identifier": ident,
                "code_hash": code_hash(code), "code_size": len(code), "methods": methods,
                "tx_hash": result.tx_hash, "block_height": result.block_height,
                "gas_burnt": result.total_gas_burnt, "tokens_burnt": str(result.tokens_burnt),
                "storage_burnt": str(price), "warnings": deploy_warnings(code)}

    def use_global(self, account_id: str, *, code_hash: str | None = None,
                   by_account: str | None = None) -> dict[str, Any]:
        """Make `account_id` run the global contract deployed under `code_hash` (base58)
        or by `by_account` (one of them), by a UseGlobalContract transaction of its own:
        its local code is released, the identifier counts in its storage instead. The
        account must exist (UseGlobalContract acts on it; AccountNotFound), and something
        must be deployed under the identifier (UserError GlobalContractDoesNotExist): both
        are checked before the transaction, so a refusal writes nothing (no account, no
        block). Returns `account()` with the `global_contract` it now uses."""
        check_account_id(account_id)
        if by_account is not None:
            check_account_id(by_account, "global contract account")
        action = gc.use_action(code_hash_b58=code_hash, account_id=by_account)

        def usable() -> None:
            self._get(account_id)
            ident = gc.identifier(action)
            if self.store.get_global_contract(ident) is None:
                raise UserError(f"GlobalContractDoesNotExist: no global contract is deployed "
                                f"under {gc.describe(ident)}")

        with self.store.snapshot():
            usable()  # before the engine loads or anything is written
        self._settled_or_raise(account_id, action, precheck=usable)
        return {**self.account(account_id), "global_contract": self.global_contract(account_id)}

    def _settled_or_raise(self, account_id: str, action: Action, *,
                          precheck: Any = None) -> CallResult:
        """`transact` one action on the account's own behalf; a failure is a UserError.
        `precheck` runs in the transaction's unit first: raising there writes nothing."""
        result = self._batch(account_id, account_id, [action], settle=True,
                             precheck=precheck)
        if result.status != SUCCESS:
            error = result.error or {}
            raise UserError(f"{type(action).__name__} failed: {error.get('kind', '?')}: "
                            f"{error.get('message', '')}")
        return result

    def patch_state(self, account_id: str, key: str | bytes, value: str | bytes | None
                    ) -> None:
        """Write (or, with None, remove) one storage entry of `account_id` directly, as
        near-workspaces' patch_state does; recorded in the history, so `verify` replays it.
        Storage usage follows (key + value + 40 bytes per entry, as a contract write)."""
        check_account_id(account_id)
        raw_key = key.encode() if isinstance(key, str) else bytes(key)
        raw = value.encode() if isinstance(value, str) else (
            None if value is None else bytes(value))
        if not raw_key or len(raw_key) > self.params.max_length_storage_key:
            raise UserError(f"storage key must be 1 to {self.params.max_length_storage_key} "
                            "bytes")
        if raw is not None and len(raw) > self.params.max_length_storage_value:
            raise UserError(f"storage value is over {self.params.max_length_storage_value} "
                            "bytes")
        with self.store.transaction():
            self._get(account_id)
            self._apply("patch_state", {"account_id": account_id, "key": raw_key.hex(),
                                        "value": None if raw is None else raw.hex()})

    def patch_records(self, records: list[dict[str, Any]]) -> None:
        """Write nearcore StateRecords (Account, AccessKey, Contract, Data: the JSON
        near-sandbox's sandbox_patch_state takes) directly, in order, all or none; the
        rules, storage usage included, are `outlayer.chain.patches`'. Recorded in the
        history (kind patch_records), so `verify` replays it."""
        parsed = patches.parse_records(records, self.params)
        if not parsed:  # nothing to write, nothing to record
            return
        patches.probe_codes(parsed, lambda code: self._probe(code, RealmOptions()))
        with self.store.transaction():
            self._apply("patch_records", {"records": [patches.to_json(p) for p in parsed]})

    def patch_account(self, account_id: str, **fields: Any) -> dict[str, Any]:
        """Create or change an account record directly (an Account record): `fields` among
        amount, locked, code_hash, storage_usage, global_contract_hash,
        global_contract_account_id; the others keep their values (a new account: no
        balance, no contract, 100 bytes). Returns `account()`."""
        with self.store.snapshot():
            record = patches.account_record(self.store, self.params, account_id, fields)
        self.patch_records([record])
        return self.account(account_id)

    def patch_access_key(self, account_id: str, public_key: str, *, nonce: int = 0,
                         permission: Any = "FullAccess") -> None:
        """Add or replace an access key directly (an AccessKey record); `permission`:
        "FullAccess" or {"FunctionCall": {allowance, receiver_id, method_names}}."""
        self.patch_records([{"AccessKey": {"account_id": account_id, "public_key": public_key,
                                           "access_key": {"nonce": nonce,
                                                          "permission": permission}}}])

    def patch_code(self, account_id: str, source: str | bytes | Path) -> dict[str, Any]:
        """Install contract code on an existing account directly, as near-workspaces'
        patchStateRecords does: an Account record with the code's hash (storage usage as a
        deploy counts it) and a Contract record. Returns `account()`."""
        check_account_id(account_id)
        code = read_source(source)
        with self.store.snapshot():
            records = patches.code_records(self.store, account_id, code)
        self.patch_records(records)
        return self.account(account_id)

    def _patch(self, account_id: str, key: bytes, value: bytes | None) -> None:
        account = self._get(account_id)
        old = self.store.storage_get(account_id, key)
        extra = len(key) + self.params.storage_num_extra_bytes_record
        if old is not None:
            account.storage_usage -= extra + len(old)
        if value is not None:
            account.storage_usage += extra + len(value)
        self.store.apply_changes(account_id, {key: value})
        self.store.put_account(account)

    def _probe(self, code: bytes, realm: RealmOptions) -> list[str] | None:
        """Load the code without calling anything: refuse a syntax error, list the exports."""
        outcome = probe_code(self._engine_now(), code, self.block, self.params, self.limits,
                             realm)
        refused = compile_error(outcome.error, None)
        if refused is not None:
            raise ContractCompileError(refused.message)
        return exported_names(outcome.error)

    # --- calls -------------------------------------------------------------------------

    def call(self, account_id: str, method: str, args: Any = None, *,
             signer_id: str | None = None, deposit: int | str = 0,
             gas: int | str = DEFAULT_GAS) -> CallResult:
        """Call `method` of the contract at `account_id` as a transaction from `signer_id`.

        The default signer is `test.near`. A signer that does not exist yet is created with
        1,000,000 NEAR (recorded in the history), so tests need no setup. `args` is a dict
        or a JSON object text. Returns when the transaction has settled (see the module
        doc); the result is the transaction's final result (see `CallResult`).
        """
        receiver = check_account_id(account_id, "contract account")
        signer = check_account_id(DEFAULT_SIGNER if signer_id is None else signer_id, "signer")
        self._check_method(method)
        raw_args = encode_args(args, self.params.max_arguments_length)
        prepaid = self._check_gas(gas)
        amount = parse_amount(deposit)
        return self._submit(signer, receiver, [FunctionCall(method, raw_args, amount, prepaid)],
                            kind="call", method=method, args=raw_args, deposit=amount,
                            gas=prepaid, precheck=lambda: self._contract(receiver))

    def transact(self, signer_id: str, receiver_id: str, actions: list[Action]
                 ) -> CallResult:
        """A transaction of `actions` (see `outlayer.chain.actions`) from `signer_id` to
        `receiver_id`, e.g. create a sub-account, fund it, add a key and deploy to it in one
        go. All actions succeed or fail together. The signer is created like `call`'s."""
        return self._batch(signer_id, receiver_id, actions, settle=True)

    def submit(self, signer_id: str, receiver_id: str, actions: list[Action]) -> CallResult:
        """Like `transact`, but return right after the transaction's own block: the receipts
        it caused stay in flight (see `pending`) until later blocks run them (`fast_forward`,
        or any later transaction). `tx_outcome(result.tx_hash)` shows the tree as it grows."""
        return self._batch(signer_id, receiver_id, actions, settle=False)

    def _batch(self, signer_id: str, receiver_id: str, actions: list[Action], *,
               settle: bool, precheck: Any = None) -> CallResult:
        signer = check_account_id(signer_id, "signer")
        receiver = check_account_id(receiver_id, "receiver")
        checked = validate_actions(actions, self.params)
        calls = [a for a in checked if isinstance(a, FunctionCall)]
        return self._submit(signer, receiver, checked, kind="transaction",
                            method=calls[0].method_name if calls else None,
                            args=calls[0].args if calls else b"",
                            deposit=rc.total_deposit(checked), gas=rc.total_prepaid_gas(checked),
                            settle=settle, precheck=precheck)

    def _submit(self, signer: str, receiver: str, actions: list[Action], *, kind: str,
                method: str | None, args: bytes, deposit: int, gas: int,
                precheck: Any = None, settle: bool = True) -> CallResult:
        runs_code = any(isinstance(a, FunctionCall) for a in actions)
        if runs_code or self.store.queued_count():
            self._engine_now()  # loaded before the batch (a guest build holds no lock)
        with self.store.batch():  # one commit for the call's blocks (each still atomic)
            self._before_block(runs_code)  # the engine record: reads the cached meta
            with self.store.transaction():
                if precheck is not None:
                    precheck()
                signer_account = self.store.get_account(signer)
                if signer_account is None:  # a test convenience NEAR does not have
                    signer_account = self._create(signer, DEFAULT_SIGNER_BALANCE,
                                                  convenience_key(self.chain_seed, signer))
                height = self.height + 1
                tx_hash = self._tx_hash(kind=kind, signer=signer, receiver=receiver,
                                        height=height, method=method, args=args.hex(),
                                        deposit=str(deposit), gas=gas)
                tx = Transaction(tx_hash, signer, receiver, list(actions),
                                 self._signer_pk(signer_account))
                # the block checks the signer can pay (check_transaction) before anything
                # runs; a refusal rolls this whole unit back, the signer's creation too
                reports = [self._block([tx])]
            if settle:
                reports.extend(self._settle())
            receipt_id = rc.b58(rc.tx_receipt_id(tx_hash))
            runs = [run for report in reports for run in report.runs.get(receipt_id, [])]
            # the transaction began in reports[0]: its outcomes so far are all in `reports`
            # (what `tx_outcome` reads back from the store, without reading it back)
            final = FinalOutcome.assemble([r for report in reports
                                           for r in report.outcome_records
                                           if r["tx_hash"] == tx_hash])
            result = self._call_result(final, runs, height)
            with self.store.transaction():
                self._log(kind, signer, receiver, result.status, height=height,
                          method=method, args=args, deposit=deposit, gas=gas,
                          outcome=result.to_json(), tx_hash=tx_hash)
        return result

    def submit_signed(self, raw: bytes, *, wait: bool = True) -> FinalOutcome:
        """Run a borsh SignedTransaction from a NEAR client under its real hash (see
        `outlayer.chain.signed`): signature, block hash, access key, nonce and permissions
        are checked first (`signed.InvalidTx`, nothing written); the key's new nonce is
        recorded in the history with the block. `wait`: settle like `transact`, else return
        after the transaction's own block like `submit`."""
        from outlayer.chain import signed

        stx = signed.decode_signed(raw)
        signed.verify_signature(stx)
        tx = Transaction(stx.hash, stx.signer_id, stx.receiver_id, list(stx.actions),
                         stx.public_key)
        try:
            send, carried, cost = tx_cost(self.params, tx, self.gas_price)
        except Exception:  # actions the runtime cannot price: check() refuses them
            send = carried = cost = 0
        gas_cost = (send + carried) * self.gas_price
        runs_code = any(isinstance(a, FunctionCall) for a in stx.actions)
        if runs_code or self.store.queued_count():
            self._engine_now()  # loaded before the block (a guest build is no block's part)
        with self.store.batch():  # one commit for the transaction's blocks
            with self.store.transaction():  # InvalidTx rolls it back: nothing is written
                height = self.height + 1
                key = signed.check(stx, self.store, self.params, height, cost, gas_cost)
                self._before_block(runs_code)  # the engine record, after the check
                self._apply("signed_tx", {"tx_hash": stx.hash, "signer_id": key.account_id,
                                          "public_key": key.public_key, "nonce": key.nonce,
                                          "permission": key.permission,
                                          "raw": bytes(raw).hex()})
                self._block([tx])
            if wait:
                self._settle()
            final = self.tx_outcome(stx.hash)
            calls = [a for a in stx.actions if isinstance(a, FunctionCall)]
            with self.store.transaction():
                self._log("transaction", stx.signer_id, stx.receiver_id,
                          "failure" if final.status == FINAL_FAILURE else "success",
                          height=height, method=calls[0].method_name if calls else None,
                          args=calls[0].args if calls else b"",
                          deposit=rc.total_deposit(list(stx.actions)),
                          gas=rc.total_prepaid_gas(list(stx.actions)),
                          outcome=final.to_json(), tx_hash=stx.hash)
        return final

    def _call_result(self, final: FinalOutcome, runs: list[FunctionCallRun],
                     height: int) -> CallResult:
        tx_hash = final.tx_hash
        receipt_id = final.transaction_outcome.receipt_ids[0]
        own = next((o for o in final.execution_order if o.id == receipt_id), None)
        if runs:
            first = runs[0]
            result = CallResult.from_outcome(first.outcome, code=first.code,
                                             method=first.method, context=first.context,
                                             elapsed_ms=first.elapsed_ms, tx_hash=tx_hash)
            if own is not None and own.error is not None and first.outcome.error is None:
                result = result.as_failure(own.error.kind, own.error.message)
        else:
            result = CallResult(status=SUCCESS, tx_hash=tx_hash,
                                block_height=own.block_height if own else height)
        if final.status == SUCCESS_VALUE:
            result.status = SUCCESS
            result.return_data = final.value or b""
            result.result = decode_result(result.return_data) if result.return_data else None
            result.error = None
        elif final.status == FINAL_FAILURE:
            result.status = FAILURE
            result.result = result.return_data = None
            result.error = final.error.to_dict() if final.error else None
        else:
            result.status = PENDING
            result.result = result.return_data = None
            result.error = None
        result.logs = final.logs
        result.transaction_outcome = final.transaction_outcome
        result.receipts_outcome = final.receipts_outcome
        result.final_status = final.status_json()
        result.total_gas_burnt = final.total_gas_burnt
        result.tokens_burnt = final.tokens_burnt
        result.outcome = final
        return result

    def tx_outcome(self, tx_hash: str) -> FinalOutcome:
        """The transaction's outcome tree as it stands now (receipts that ran so far)."""
        with self.store.snapshot():
            records = self.store.outcomes(tx_hash)
        if not records:
            raise UserError(f"no transaction {tx_hash!r} on this chain (deploys and account "
                            "creations by the simulator are not transactions)")
        return FinalOutcome.assemble(records)

    def block_outcomes(self, height: int) -> list[ExecutionOutcome]:
        """Every outcome recorded in block `height`, in execution order."""
        with self.store.snapshot():
            records = self.store.outcomes_at(height)
        return [ExecutionOutcome.from_record(r) for r in records]

    def pending(self) -> dict[str, list[dict[str, Any]]]:
        """Receipts in flight: queued for a block, postponed for input data, yields."""
        with self.store.snapshot():
            return pending_summary(self.store)

    def access_keys(self, account_id: str) -> list[dict[str, Any]]:
        """The account's access keys as NEAR's view_access_key_list shows them."""
        check_account_id(account_id)
        with self.store.snapshot():
            self._get(account_id)
            return [k.to_json() for k in self.store.access_keys(account_id)]

    def view(self, account_id: str, method: str, args: Any = None, *,
             block_height: int | None = None) -> CallResult:
        """Run `method` read-only at the latest block (or on the state recorded at the end of
        block `block_height`, as an archival node does): no block, no history, no writes."""
        receiver = check_account_id(account_id, "contract account")
        self._check_method(method)
        raw_args = encode_args(args, self.params.max_arguments_length)
        engine = self._engine_now()
        with self.store.snapshot():
            storage: Any = AccountStorage(self.store, receiver)
            if block_height is None:
                contract, code = self._contract(receiver)
                block = self.block
            else:
                contract, storage = self._record_at(receiver, block_height)
                found = gc.contract_code(self.store, contract, block_height)
                past = None if found is None else found[1]
                if past is None:
                    raise ContractNotDeployed(f"account {receiver!r} had no contract at the "
                                              f"end of block {block_height}")
                code = past
                block = self.store.get_block(block_height) or self.block
            context = VMContext(
                current_account_id=receiver, signer_account_id=receiver,
                predecessor_account_id=receiver, input=raw_args,
                block_height=block.height, block_timestamp=block.timestamp_ns,
                epoch_height=blocks.epoch_height(block.height, self.epoch_length),
                account_balance=contract.balance, account_locked_balance=contract.locked,
                prepaid_gas=self.params.max_gas_burnt_view, random_seed=block.random_seed,
                storage_usage=contract.storage_usage, is_view=True)
            outcome, elapsed = run_engine(engine, code, method, context, storage,
                                          self.params, self.limits, _realm(contract))
        return CallResult.from_outcome(outcome, code=code, method=method, context=context,
                                       elapsed_ms=elapsed)

    def _contract(self, account_id: str) -> tuple[Account, bytes]:
        account = self._get(account_id, "contract account")
        found = gc.contract_code(self.store, account)  # local code, else a global contract
        code = None if found is None else found[1]
        if code is None:
            raise ContractNotDeployed(f"account {account_id!r} has no contract deployed "
                                      f"(deploy one first: `outlayer deploy {account_id} FILE`)")
        return account, code

    def _check_method(self, method: object) -> None:
        if not isinstance(method, str) or not method:
            raise UserError("method name must be a non-empty string")
        if len(method.encode()) > self.params.max_length_method_name:
            raise UserError(f"method name is over {self.params.max_length_method_name} bytes")

    def _check_gas(self, gas: int | str) -> int:
        prepaid = parse_gas(gas)
        limit = self.params.max_total_prepaid_gas
        if not 0 < prepaid <= limit:
            raise UserError(f"gas must be between 1 and {limit // TGAS} Tgas, got {prepaid}")
        return prepaid

    def _signer_pk(self, account: Account) -> bytes:
        """The key an unsigned transaction of `account` counts as signed with (its
        signer_account_pk): the key it was created with, else its first full-access key
        (e.g. one an AddKey gave it), else the all-zero key of a keyless account."""
        if account.public_key is not None:
            return public_key_bytes(account.public_key)
        full = [k for k in self.store.access_keys(account.account_id)
                if k.permission == "FullAccess"]
        return public_key_bytes(full[0].public_key) if full else _NO_KEY

    # --- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> ContractSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def params_to_json(params: Params) -> dict[str, Any]:
    """Every gas/limit parameter by name (fees as [send_sir, send_not_sir, execution])."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        out[f.name] = ([value.send_sir, value.send_not_sir, value.execution]
                       if isinstance(value, Fee) else value)
    return out


def params_from_json(doc: dict[str, Any]) -> Params:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Params):
        if f.name not in doc:  # a parameter newer than the file (its chain never used it)
            continue
        value = doc[f.name]
        values[f.name] = Fee(*value) if isinstance(value, list) else value
    return Params(**values)


def _realm(account: Account) -> RealmOptions:
    return RealmOptions.parse(json.loads(account.realm))


def read_source(source: str | bytes | Path) -> bytes:
    """Contract code from text, bytes or a file; JS must be UTF-8 text, wasm starts with
    its magic bytes. A near-sdk-js source file (.ts, or .js importing near-sdk-js) is
    bundled first (outlayer.sdkjs, cached)."""
    if isinstance(source, Path):
        code = contract_file.read(source)
        from outlayer.sdkjs.bundler import build_if_needed

        code = build_if_needed(source, code)  # a near-sdk-js .ts/.js: its bundle
    elif isinstance(source, str):
        code = source.encode("utf-8")
    elif isinstance(source, bytes | bytearray):
        code = bytes(source)
    else:
        raise UserError(f"contract source must be str, bytes or Path, not "
                        f"{type(source).__name__}")
    if code[:4] == b"\0asm":  # a wasm contract (direct mode): checked by the engine
        return code
    try:
        code.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"contract source is not UTF-8 text (byte {exc.start})") from None
    if not code.strip():
        raise UserError("contract source is empty")
    return code
