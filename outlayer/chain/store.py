"""The simulator's persistent state: accounts, access keys, content-addressed code, contract
storage, blocks, receipts in flight, execution outcomes and a transaction log, behind one
narrow interface (`StateStore`).

Only SQLite is implemented. Everything the simulator needs goes through the `StateStore`
methods, so a PostgreSQL store can implement the same Protocol later without touching the
simulator. Every write happens inside `transaction()`: one SQLite transaction that commits
when the block exits normally and rolls back on any exception, so a crash in the middle of a
call leaves the file as it was before the call. Inside a transaction, `savepoint()` gives
one receipt its own all-or-nothing unit (SQLite SAVEPOINT): a failed receipt's account,
key, code and storage writes are rolled back while the block goes on. `batch()` groups the
transactions of one call (its blocks) into one SQLite commit, each still all-or-nothing
as a savepoint; a file store copies its WAL back into the database on a background thread
(`_Checkpointer`), not inside a commit. While it holds the write lock, a store reads
accounts, meta, the latest block, storage values, the open block's history, the receipt
queue and whether any yield waits from memory: what it read or wrote itself, kept across
its commits while `PRAGMA data_version` shows no other connection wrote, dropped on any
rollback.

Receipts in flight (schema 3): `receipt_queue` holds receipts sent to a later block, in send
order; `postponed_receipts` + `postponed_data_ids` hold action receipts waiting for input
data, `received_data` the data that arrived first; `yields` the promise_yield_create
receipts waiting for a resume or their timeout. `outcomes` keeps every execution outcome
(transactions and receipts) for the outcome trees.

Verifiable history (schema 4, docs/EXECUTION_MODEL.md): `blocks` carry their state root,
outcomes root, inputs root and hash once sealed; `history` records, in order, every input
that changed the chain (control operations and each block's transactions); SQLite triggers
append every row change of the state tables to `state_changes`, tagged with the block whose
end state first includes it, so the state as of any block can be rebuilt without a replay.
Sealed blocks, `history`, `state_changes` and `outcomes` are append-only (triggers refuse
updates and deletes).

Global contracts (schema 5, NEP-591, `outlayer.chain.global_contracts`): `global_contracts`
maps an identifier (``hash:<base58>`` or ``account:<id>``) to the hash of its code in
`code`; `account_contracts` names the global contract an account uses instead of local code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import base58

SCHEMA_VERSION = 5
MEMORY = ":memory:"


def default_db_path() -> Path:
    """`.outlayer/state.db` under the current working directory."""
    return Path.cwd() / ".outlayer" / "state.db"


def code_hash(code: bytes) -> str:
    """NEAR's code hash: base58 of sha256 of the code."""
    return base58.b58encode(hashlib.sha256(code).digest()).decode("ascii")


@dataclass
class Account:
    account_id: str
    balance: int  # yoctoNEAR (u128)
    locked: int = 0
    code_hash: str | None = None
    storage_usage: int = 0  # bytes, as NEAR counts them
    created_height: int = 0
    public_key: str | None = None  # "ed25519:<base58>"
    realm: str = "{}"  # the deployed contract's realm options, JSON (outlayer.realm.options)

    def to_json(self) -> dict[str, Any]:
        """u128 amounts as decimal strings, as NEAR's RPC shows them."""
        return {"account_id": self.account_id, "balance": str(self.balance),
                "locked": str(self.locked), "code_hash": self.code_hash,
                "storage_usage": self.storage_usage, "created_height": self.created_height,
                "public_key": self.public_key, "realm": json.loads(self.realm)}


@dataclass(frozen=True)
class Block:
    height: int
    timestamp_ns: int
    random_seed: bytes
    #: set when the block is sealed (`outlayer.chain.roots`); None while it runs
    state_root: bytes | None = None
    outcomes_root: bytes | None = None
    inputs_root: bytes | None = None
    hash: bytes | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded input: a control operation or a block with its transactions."""

    seq: int
    height: int  # the block whose end state first includes it
    kind: str  # create_account | deploy | patch_state | set_timestamp | set_block_time | ...
    body: dict[str, Any]


@dataclass(frozen=True)
class StateChange:
    """One row change of a state table; `row` None = the row was deleted."""

    seq: int
    height: int
    table: str
    account_id: str | None
    pk: str
    row: tuple[Any, ...] | None


@dataclass(frozen=True)
class TableSpec:
    """A state table as the history log and the checkpoints see it."""

    columns: tuple[str, ...]
    pk: tuple[str, ...]
    blobs: frozenset[str] = frozenset()
    account: str | None = None  # the column naming the owning account, if any
    autoincrement: bool = False


#: Every table whose rows are chain state (what a checkpoint restores), in root order.
STATE_TABLES: dict[str, TableSpec] = {
    "accounts": TableSpec(("account_id", "balance", "locked", "code_hash", "storage_usage",
                           "created_height", "public_key", "realm"), ("account_id",),
                          account="account_id"),
    "access_keys": TableSpec(("account_id", "public_key", "nonce", "permission"),
                             ("account_id", "public_key"), account="account_id"),
    "state": TableSpec(("account_id", "key", "value"), ("account_id", "key"),
                       frozenset({"key", "value"}), account="account_id"),
    "code": TableSpec(("hash", "code"), ("hash",), frozenset({"code"})),
    "receipt_queue": TableSpec(("seq", "height", "receipt_id", "tx_hash", "body"), ("seq",),
                               autoincrement=True),
    "postponed_receipts": TableSpec(("receipt_id", "account_id", "tx_hash", "pending", "body"),
                                    ("receipt_id",)),
    "postponed_data_ids": TableSpec(("account_id", "data_id", "receipt_id"),
                                    ("account_id", "data_id"), frozenset({"data_id"})),
    "received_data": TableSpec(("account_id", "data_id", "ok", "data"),
                               ("account_id", "data_id"), frozenset({"data_id", "data"})),
    "yields": TableSpec(("seq", "account_id", "data_id", "expires_at", "timed_out", "body"),
                        ("seq",), frozenset({"data_id"}), autoincrement=True),
    "suspensions": TableSpec(("receipt_id", "account_id", "height", "body"), ("receipt_id",),
                             frozenset({"body"})),
    "stake_proposals": TableSpec(("account_id", "stake", "public_key"), ("account_id",),
                                 account="account_id"),
    "global_contracts": TableSpec(("identifier", "code_hash"), ("identifier",)),
    "account_contracts": TableSpec(("account_id", "identifier"), ("account_id",),
                                   account="account_id"),
}
#: the state_changes pseudo-table recording an AUTOINCREMENT counter (migrated files)
SEQUENCE_TABLE = "sqlite_sequence"


@dataclass
class TxRecord:
    """One entry of the history: a call (successful or failed), a deploy or an account."""

    tx_hash: str
    height: int
    kind: str  # "call" | "deploy" | "create_account"
    signer_id: str
    receiver_id: str
    status: str  # "success" | "failure"
    method: str | None = None
    args: bytes = b""
    deposit: int = 0
    gas: int = 0
    outcome: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass
class AccessKeyRecord:
    account_id: str
    public_key: str  # "ed25519:<base58>"
    nonce: int
    #: "FullAccess" or {"FunctionCall": {"allowance": str|None, "receiver_id", "method_names"}}
    permission: Any = "FullAccess"

    def to_json(self) -> dict[str, Any]:
        return {"public_key": self.public_key,
                "access_key": {"nonce": self.nonce, "permission": self.permission}}


@dataclass
class PendingYield:
    account_id: str
    data_id: bytes
    expires_at: int
    timed_out: bool
    receipt: str  # JSON (outlayer.chain.receipts)


class Savepoint:
    """Handle of one `savepoint()`: call `discard()` to roll its writes back on exit."""

    __slots__ = ("discarded",)

    def __init__(self) -> None:
        self.discarded = False

    def discard(self) -> None:
        self.discarded = True


class StateStore(Protocol):
    """What the simulator needs from a state backend (SQLite now, PostgreSQL later)."""

    def transaction(self) -> AbstractContextManager[None]: ...

    def batch(self) -> AbstractContextManager[None]: ...

    def savepoint(self) -> AbstractContextManager[Savepoint]: ...

    def snapshot(self) -> AbstractContextManager[None]: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def latest_block(self) -> Block | None: ...

    def add_block(self, block: Block) -> None: ...

    def get_block(self, height: int) -> Block | None: ...

    def block_by_hash(self, block_hash: bytes) -> Block | None: ...

    def blocks(self, from_height: int = 0, to_height: int | None = None) -> list[Block]: ...

    def seal_block(self, height: int, state_root: bytes, outcomes_root: bytes,
                   inputs_root: bytes, block_hash: bytes) -> None: ...

    def open_height(self) -> int: ...

    def add_history(self, kind: str, body: dict[str, Any], height: int | None = None
                    ) -> HistoryEntry: ...

    def history(self, from_height: int = 0, to_height: int | None = None
                ) -> list[HistoryEntry]: ...

    def state_changes(self, height: int) -> list[StateChange]: ...

    def state_as_of(self, height: int, account_id: str | None = None
                    ) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, int]]: ...

    def restore(self, tables: dict[str, list[tuple[Any, ...]]], sequences: dict[str, int]
                ) -> None: ...

    def table_rows(self, table: str) -> list[tuple[Any, ...]]: ...

    def block_changes(self, height: int) -> list[tuple[str, str | None, str]]: ...

    def touched_accounts(self, height: int) -> list[str]: ...

    def account_ids(self) -> list[str]: ...

    def account_roots(self) -> list[tuple[str, bytes]]: ...

    def put_account_root(self, account_id: str, root: bytes | None) -> None: ...

    def get_account(self, account_id: str) -> Account | None: ...

    def put_account(self, account: Account) -> None: ...

    def get_code(self, code_hash: str) -> bytes | None: ...

    def get_global_contract(self, identifier: str) -> str | None: ...

    def put_global_contract(self, identifier: str, code_hash: str) -> None: ...

    def global_contracts(self) -> list[tuple[str, str]]: ...

    def get_account_contract(self, account_id: str) -> str | None: ...

    def set_account_contract(self, account_id: str, identifier: str | None) -> None: ...

    def row_as_of(self, table: str, pk: tuple[Any, ...], height: int
                  ) -> tuple[Any, ...] | None: ...

    def first_height(self, account_id: str) -> int | None: ...

    def put_code(self, code: bytes) -> str: ...

    def storage_get(self, account_id: str, key: bytes) -> bytes | None: ...

    def storage_items(self, account_id: str) -> list[tuple[bytes, bytes]]: ...

    def apply_changes(self, account_id: str, changes: Mapping[bytes, bytes | None]) -> None: ...

    def delete_account(self, account_id: str) -> None: ...

    def get_access_key(self, account_id: str, public_key: str) -> AccessKeyRecord | None: ...

    def put_access_key(self, key: AccessKeyRecord) -> None: ...

    def delete_access_key(self, account_id: str, public_key: str) -> None: ...

    def access_keys(self, account_id: str) -> list[AccessKeyRecord]: ...

    def enqueue_receipt(self, height: int, receipt_id: str, tx_hash: str, body: str
                        ) -> None: ...

    def due_receipts(self, height: int) -> list[tuple[int, str]]: ...

    def remove_queued(self, seq: int) -> None: ...

    def queued_count(self, tx_hash: str | None = None) -> int: ...

    def queued_receipts(self) -> list[tuple[int, str]]: ...

    def put_received_data(self, account_id: str, data_id: bytes, data: bytes | None
                          ) -> None: ...

    def take_received_data(self, account_id: str, data_id: bytes
                           ) -> tuple[bool, bytes | None]: ...

    def has_received_data(self, account_id: str, data_id: bytes) -> bool: ...

    def postpone_receipt(self, receipt_id: str, account_id: str, tx_hash: str,
                         body: str, missing: list[bytes]) -> None: ...

    def data_arrived(self, account_id: str, data_id: bytes) -> str | None: ...

    def postponed_receipts(self) -> list[str]: ...

    def add_yield(self, account_id: str, data_id: bytes, expires_at: int, body: str
                  ) -> None: ...

    def get_yield(self, account_id: str, data_id: bytes) -> PendingYield | None: ...

    def remove_yield(self, account_id: str, data_id: bytes) -> None: ...

    def expired_yields(self, height: int) -> list[PendingYield]: ...

    def mark_yield_timed_out(self, account_id: str, data_id: bytes) -> None: ...

    def pending_yields(self) -> list[PendingYield]: ...

    def put_suspension(self, receipt_id: str, account_id: str, height: int, body: bytes
                       ) -> None: ...

    def get_suspension(self, receipt_id: str) -> bytes | None: ...

    def take_suspension(self, receipt_id: str) -> tuple[str, bytes] | None: ...

    def suspensions(self) -> list[tuple[str, str, int, int]]: ...

    def get_stake_proposal(self, account_id: str) -> tuple[int, str] | None: ...

    def put_stake_proposal(self, account_id: str, stake: int, public_key: str) -> None: ...

    def delete_stake_proposal(self, account_id: str) -> None: ...

    def stake_proposals(self) -> list[tuple[str, int, str]]: ...

    def add_outcome(self, outcome_id: str, tx_hash: str, kind: str, height: int,
                    body: dict[str, Any], encoded: bytes | None = None) -> None: ...

    def outcomes(self, tx_hash: str) -> list[dict[str, Any]]: ...

    def has_outcomes(self, tx_hash: str) -> bool: ...

    def outcome(self, outcome_id: str) -> dict[str, Any] | None: ...

    def outcomes_at(self, height: int) -> list[dict[str, Any]]: ...

    def add_transaction(self, tx: TxRecord) -> int: ...

    def transactions(self, account_id: str | None = None, limit: int = 100
                     ) -> list[TxRecord]: ...

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blocks (
    height INTEGER PRIMARY KEY,
    timestamp_ns INTEGER NOT NULL,
    random_seed BLOB NOT NULL
);
CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    balance TEXT NOT NULL,
    locked TEXT NOT NULL,
    code_hash TEXT REFERENCES code(hash),
    storage_usage INTEGER NOT NULL,
    created_height INTEGER NOT NULL,
    public_key TEXT,
    realm TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE code (hash TEXT PRIMARY KEY, code BLOB NOT NULL);
CREATE TABLE state (
    account_id TEXT NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE TABLE transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tx_hash TEXT NOT NULL UNIQUE,
    height INTEGER NOT NULL,
    kind TEXT NOT NULL,
    signer_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    method TEXT,
    args BLOB NOT NULL,
    deposit TEXT NOT NULL,
    gas INTEGER NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX transactions_receiver ON transactions (receiver_id, id);
CREATE INDEX transactions_signer ON transactions (signer_id, id);
"""

#: schema 3: access keys, receipts in flight, outcomes.
_SCHEMA_V3 = """
CREATE TABLE access_keys (
    account_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (account_id, public_key)
) WITHOUT ROWID;
CREATE TABLE receipt_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    height INTEGER NOT NULL,
    receipt_id TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX receipt_queue_height ON receipt_queue (height, seq);
CREATE INDEX receipt_queue_tx ON receipt_queue (tx_hash);
CREATE TABLE postponed_receipts (
    receipt_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    pending INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE postponed_data_ids (
    account_id TEXT NOT NULL,
    data_id BLOB NOT NULL,
    receipt_id TEXT NOT NULL,
    PRIMARY KEY (account_id, data_id)
) WITHOUT ROWID;
CREATE TABLE received_data (
    account_id TEXT NOT NULL,
    data_id BLOB NOT NULL,
    ok INTEGER NOT NULL,
    data BLOB,
    PRIMARY KEY (account_id, data_id)
) WITHOUT ROWID;
CREATE TABLE yields (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    data_id BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    timed_out INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL,
    UNIQUE (account_id, data_id)
);
CREATE INDEX yields_expiry ON yields (expires_at, seq);
CREATE TABLE outcomes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tx_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    height INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX outcomes_tx ON outcomes (tx_hash, seq);
CREATE INDEX outcomes_height ON outcomes (height, seq);
"""

#: the block a state write belongs to: the latest block while it runs (not sealed yet),
#: else the next one (a write between blocks shows first in the next block's end state).
_OPEN_HEIGHT = ("COALESCE((SELECT CASE WHEN state_root IS NULL THEN height ELSE height + 1 "
                "END FROM blocks ORDER BY height DESC LIMIT 1), 0)")

#: schema 4: block roots, the input history, the state change log, and each account's top
#: leaf of the state tree (a cache: a block recomputes only the accounts it touched).
_SCHEMA_V4 = [
    "ALTER TABLE blocks ADD COLUMN state_root BLOB",
    "ALTER TABLE blocks ADD COLUMN outcomes_root BLOB",
    "ALTER TABLE blocks ADD COLUMN inputs_root BLOB",
    "ALTER TABLE blocks ADD COLUMN hash BLOB",
    """CREATE TABLE history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        height INTEGER NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL)""",
    "CREATE INDEX history_height ON history (height, seq)",
    """CREATE TABLE state_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        height INTEGER NOT NULL,
        tbl TEXT NOT NULL,
        account_id TEXT,
        pk TEXT NOT NULL,
        row TEXT)""",
    "CREATE INDEX state_changes_height ON state_changes (height, seq)",
    "CREATE INDEX state_changes_account ON state_changes (account_id, seq)",
    "CREATE TABLE account_roots (account_id TEXT PRIMARY KEY, root BLOB NOT NULL) WITHOUT ROWID",
    *(f"CREATE TRIGGER {t}_append_only_{op.lower()} BEFORE {op} ON {t} BEGIN "
      f"SELECT RAISE(ABORT, '{t} is append-only'); END"
      for t in ("history", "state_changes", "outcomes") for op in ("UPDATE", "DELETE")),
    "CREATE TRIGGER blocks_sealed BEFORE UPDATE ON blocks WHEN OLD.state_root IS NOT NULL "
    "BEGIN SELECT RAISE(ABORT, 'a sealed block is append-only'); END",
    "CREATE TRIGGER blocks_append_only BEFORE DELETE ON blocks "
    "BEGIN SELECT RAISE(ABORT, 'blocks are append-only'); END",
]


#: schema 5: global contracts (NEP-591): code under an identifier, and the accounts using one.
_SCHEMA_V5 = [
    "CREATE TABLE global_contracts (identifier TEXT PRIMARY KEY, "
    "code_hash TEXT NOT NULL REFERENCES code(hash))",
    "CREATE TABLE account_contracts (account_id TEXT PRIMARY KEY, identifier TEXT NOT NULL)",
]


def _col(prefix: str, spec: TableSpec, column: str) -> str:
    if column in spec.blobs:
        return f"CASE WHEN {prefix}.{column} IS NULL THEN NULL ELSE hex({prefix}.{column}) END"
    return f"{prefix}.{column}"


def _row_sql(prefix: str, spec: TableSpec, columns: tuple[str, ...]) -> str:
    return "json_array(" + ", ".join(_col(prefix, spec, c) for c in columns) + ")"


def _log_triggers(table: str, spec: TableSpec) -> list[str]:
    """Triggers appending every row change of `table` to state_changes."""
    def log(prefix: str, row: str) -> str:
        account = f"{prefix}.{spec.account}" if spec.account else "NULL"
        return (f"INSERT INTO state_changes (height, tbl, account_id, pk, row) VALUES "
                f"({_OPEN_HEIGHT}, '{table}', {account}, {_row_sql(prefix, spec, spec.pk)}, "
                f"{row}); END")

    new_row, old_row = _row_sql("NEW", spec, spec.columns), _row_sql("OLD", spec, spec.columns)
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_log_insert AFTER INSERT ON {table} BEGIN "
        + log("NEW", new_row),
        f"CREATE TRIGGER IF NOT EXISTS {table}_log_update AFTER UPDATE ON {table} "
        f"WHEN {old_row} IS NOT {new_row} BEGIN " + log("NEW", new_row),
        f"CREATE TRIGGER IF NOT EXISTS {table}_log_delete AFTER DELETE ON {table} BEGIN "
        + log("OLD", "NULL"),
    ]


def _decode_row(spec: TableSpec, values: list[Any]) -> tuple[Any, ...]:
    return tuple(bytes.fromhex(v) if c in spec.blobs and v is not None else v
                 for c, v in zip(spec.columns, values, strict=True))


#: json.dumps(sort_keys=True), one encoder for every history entry and transaction
_SORTED = json.JSONEncoder(sort_keys=True)
#: the most rows of one kind the read cache keeps (then it starts again)
CACHE_ROWS = 4096
_MISSING = object()


def _copy(account: Account | None) -> Account | None:
    if account is None:
        return None
    return Account(account.account_id, account.balance, account.locked, account.code_hash,
                   account.storage_usage, account.created_height, account.public_key,
                   account.realm)


class StoreError(Exception):
    """The state file cannot be used (newer schema, write outside a transaction)."""


#: a file store asks its checkpointer to copy the WAL into the database every this many
#: commits (a call's commit adds some 40 pages: about SQLite's default of 1000 pages)
CHECKPOINT_EVERY = 25
#: the writer's own automatic checkpoint, the fallback should the checkpointer lag behind
FALLBACK_AUTOCHECKPOINT = 10_000


class _Checkpointer:
    """Copies the WAL into the database file on its own thread and connection.

    A WAL checkpoint (copying some thousand pages back, with two fsyncs) otherwise runs
    inside every ~25th commit, in the writer's thread. A PASSIVE checkpoint never blocks
    the writer and never changes what any connection reads, so it can run beside it;
    sqlite releases the GIL while it works. A failed or busy checkpoint is left to the
    next request (or to the writer's own, rarer, automatic one).
    """

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, timeout=0,
                                   check_same_thread=False)
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="outlayer-checkpoint",
                                        daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    pass  # busy, or the file is going away: the next request retries
        finally:
            self._db.close()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)


class SQLiteStore:
    """`StateStore` on one SQLite file (WAL mode) or in memory.

    Not shared between threads: open one store per thread. Other processes may use the same
    file; writers take the database lock for the whole call (``BEGIN IMMEDIATE``), so two
    CLI processes never interleave inside one call.
    """

    def __init__(self, path: str | Path = MEMORY) -> None:
        self.path = str(path)
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._depth = 0
        self._read_only = False
        self._savepoints = 0
        #: inside `batch()`: one SQLite transaction is open and each `transaction()` is a
        #: savepoint of it; False once an inner rollback failed (the batch then rolls back)
        self._batch = False
        self._batch_clean = True
        #: no unit of the open batch has completed yet: the next unit needs no savepoint
        #: (a ROLLBACK undoes exactly it; the batch then begins again)
        self._batch_empty = False
        self._checkpointer: _Checkpointer | None = None
        self._commits = 0
        self._code_cache: dict[str, bytes] = {}
        #: reads served from memory while this store holds the write lock (`_lock`):
        #: rows it read or wrote, kept across commits while `PRAGMA data_version` says no
        #: other connection wrote, dropped on any rollback (a savepoint's too)
        self._locked = False
        self._version: int | None = None
        self._accounts: dict[str, Account | None] = {}
        self._metas: dict[str, str | None] = {}
        self._storage: dict[tuple[str, bytes], bytes | None] = {}
        self._latest: Block | None = None
        #: (height, its history entries) for the open height, once the block before it was
        #: sealed here (every entry of that height was then recorded through this store)
        self._open_history: tuple[int, list[HistoryEntry]] | None = None
        #: receipt_queue rows by seq, in seq order (None: not loaded)
        self._queue: dict[int, tuple[int, int, str, str, str]] | None = None
        #: the yields table is empty (None: not known)
        self._no_yields: bool | None = None
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA foreign_keys = ON")
            if self.path != MEMORY:
                self._db.execute("PRAGMA journal_mode = WAL")
                # WAL + NORMAL: every commit is atomic and the file always consistent; a
                # power loss may drop the last commits, never half of one.
                self._db.execute("PRAGMA synchronous = NORMAL")
                # savepoints (a receipt, a block of a batch) journal the pages they change:
                # in memory, not in a temporary file per savepoint
                self._db.execute("PRAGMA temp_store = MEMORY")
                self._db.execute(f"PRAGMA wal_autocheckpoint = {FALLBACK_AUTOCHECKPOINT}")
            self._init_schema()
            self._init_suspensions()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use {self.path} as OutLayer state: {exc}") from None

    # --- transactions ------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._depth:  # nested: part of the enclosing transaction
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if self._batch and self._batch_empty:  # the batch's first unit
            if not self._locked:
                raise StoreError("the batch lost its write lock (see the earlier error)")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._unlock(commit=False)
                try:
                    self._lock()  # the batch goes on, with nothing in it
                except BaseException:
                    self._batch_clean = False  # nothing to commit: the batch ends
                    raise
                raise
            self._depth = 0
            self._batch_empty = False
            return
        if self._batch:  # one unit of a batch: a savepoint, committed with the batch
            self._db.execute("SAVEPOINT unit")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._drop_cache()
                try:
                    self._db.execute("ROLLBACK TO unit")
                    self._db.execute("RELEASE unit")
                except BaseException:
                    self._batch_clean = False
                    raise
                raise
            self._depth = 0
            self._db.execute("RELEASE unit")
            return
        self._lock()
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._unlock(commit=False)
            raise
        self._depth = 0
        self._unlock(commit=True)

    def _lock(self) -> None:
        """BEGIN IMMEDIATE (the write lock); the read cache stays if no other connection
        wrote since this store last held the lock."""
        self._db.execute("BEGIN IMMEDIATE")
        self._locked = True
        if self.path != MEMORY:  # a memory database has no other connection
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if version != self._version:
                self._drop_cache()
                self._version = version

    def _unlock(self, commit: bool) -> None:
        """COMMIT (ROLLBACK if it fails, or if not `commit`) and release the write lock."""
        self._locked = False
        if not commit:
            self._drop_cache()
            if self._db.in_transaction:  # (an I/O error may have rolled it back already)
                self._db.execute("ROLLBACK")
            return
        try:
            self._db.execute("COMMIT")
        except BaseException:
            self._drop_cache()
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._committed()

    def _drop_cache(self) -> None:
        self._accounts.clear()
        self._metas.clear()
        self._storage.clear()
        self._latest = None
        self._open_history = None
        self._queue = None
        self._no_yields = None

    def _committed(self) -> None:
        """Every CHECKPOINT_EVERY commits to a file, wake the checkpointer (made at the
        first request: stores that only read or write a little never start one)."""
        if self.path == MEMORY:
            return
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY:
            return
        if self._checkpointer is None:
            self._checkpointer = _Checkpointer(self.path)
            # a store dropped without close() does not leave its thread behind
            weakref.finalize(self, self._checkpointer.close)
        self._checkpointer.request()

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit: commit on normal exit, roll back on any exception."""
        return self._transaction()

    @contextmanager
    def _batched(self) -> Iterator[None]:
        if self._depth or self._batch:  # already inside one: join it
            yield
            return
        self._lock()
        self._batch, self._batch_clean, self._batch_empty = True, True, True
        try:
            yield
        except BaseException:
            # every write is inside a unit, and a failed unit rolled its own writes back:
            # the units that completed are kept, as if each had committed on its own
            self._batch = self._batch_empty = False
            self._unlock(commit=self._batch_clean)
            raise
        self._batch = self._batch_empty = False
        self._unlock(commit=True)

    def batch(self) -> AbstractContextManager[None]:
        """Group the `transaction()` units run inside it (the blocks of one call) into one
        SQLite commit: each unit is still all-or-nothing (a savepoint), the units that
        completed are kept even when a later one fails, and the file gets one commit
        instead of one per unit (what bounds a call's latency). Holds the write lock."""
        return self._batched()

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        if self._depth:
            yield
            return
        if self._batch:  # reads inside the open batch transaction, refusing writes
            self._depth, self._read_only = 1, True
            try:
                yield
            finally:
                self._depth, self._read_only = 0, False
            return
        self._db.execute("BEGIN")
        self._depth, self._read_only = 1, True
        try:
            yield
        finally:
            self._depth, self._read_only = 0, False
            self._db.execute("ROLLBACK")

    def snapshot(self) -> AbstractContextManager[None]:
        """A consistent read-only view for the block's duration; any write in it raises."""
        return self._snapshot()

    @contextmanager
    def _savepoint(self) -> Iterator[Savepoint]:
        if not self._depth or self._read_only:
            raise StoreError("savepoint outside store.transaction()")
        self._savepoints += 1
        name = f"receipt_{self._savepoints}"
        self._db.execute(f"SAVEPOINT {name}")
        handle = Savepoint()
        try:
            yield handle
        except BaseException:
            self._drop_cache()
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")
            raise
        finally:
            self._savepoints -= 1
        if handle.discarded:
            self._drop_cache()
            self._db.execute(f"ROLLBACK TO {name}")
        self._db.execute(f"RELEASE {name}")

    def savepoint(self) -> AbstractContextManager[Savepoint]:
        """A nested all-or-nothing unit inside `transaction()`: its writes are rolled back
        when the handle is discarded (or an exception leaves it), kept otherwise."""
        return self._savepoint()

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        if not self._depth or self._read_only:
            raise StoreError("state written outside store.transaction()")
        return self._db.execute(sql, params)

    def _init_schema(self) -> None:
        with self.transaction():
            has = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
            ).fetchone()
            if not has:
                for statement in (_SCHEMA + _SCHEMA_V3).split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._create_v5()
                self._create_v4()
                self._db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
                return
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else None
            if version == 1:  # version 2 added the per-contract realm options
                self._db.execute(
                    "ALTER TABLE accounts ADD COLUMN realm TEXT NOT NULL DEFAULT '{}'")
                version = 2
            if version == 2:  # version 3: access keys, receipts in flight, outcomes
                for statement in _SCHEMA_V3.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                # an account's creation key becomes a full-access key record
                self._db.execute(
                    "INSERT INTO access_keys (account_id, public_key, nonce, permission) "
                    "SELECT account_id, public_key, 0, '\"FullAccess\"' FROM accounts "
                    "WHERE public_key IS NOT NULL")
                version = 3
            if version == 3:  # version 4: verifiable history, from the state as it is now
                self._create_v5()  # (its tables are state: logged and seeded with the rest)
                self._create_v4()
                self._seed_history()
                version = SCHEMA_VERSION
            if version == 4:  # version 5: global contracts (empty: no history to seed)
                self._create_v5()
                version = 5
            if row is not None and row[0] != version:
                self._db.execute("UPDATE schema_version SET version = ?", (version,))
            if version != SCHEMA_VERSION:
                raise StoreError(f"{self.path}: state schema version {version}, this OutLayer "
                                 f"reads version {SCHEMA_VERSION}")
            self._log_state_tables()
            self._add_indexes()

    def _create_v5(self) -> None:
        for statement in _SCHEMA_V5:
            self._db.execute(statement)

    def _create_v4(self) -> None:
        for statement in _SCHEMA_V4:
            self._db.execute(statement)
        self._log_state_tables()
        self._add_indexes()

    def _add_indexes(self) -> None:
        """Indexes added after schema 4 (made on open, so older files get them too):
        blocks by hash, looked up for every signed transaction's block_hash (partial: a block
        is inserted without its hash, which sealing sets)."""
        self._db.execute("CREATE INDEX IF NOT EXISTS blocks_by_hash ON blocks (hash) "
                         "WHERE hash IS NOT NULL")

    def _log_state_tables(self) -> None:
        """The state_changes triggers of every state table (also for tables added after a
        file was made: `suspensions`)."""
        self._init_suspensions()  # nested: joins the schema transaction
        for table, spec in STATE_TABLES.items():
            for statement in _log_triggers(table, spec):
                self._db.execute(statement)

    def _seed_history(self) -> None:
        """A file made before schema 4: its current state becomes the first checkpoint
        (history starts at its latest block, which the simulator seals on open)."""
        latest = self.latest_block()
        height = latest.height if latest is not None else 0
        for table, spec in STATE_TABLES.items():
            account = spec.account or "NULL"
            self._db.execute(
                f"INSERT INTO state_changes (height, tbl, account_id, pk, row) SELECT ?, "
                f"'{table}', {account}, {_row_sql(table, spec, spec.pk)}, "
                f"{_row_sql(table, spec, spec.columns)} FROM {table} ORDER BY "
                + ", ".join(spec.pk), (height,))
        for name, seq in self._db.execute("SELECT name, seq FROM sqlite_sequence").fetchall():
            if name in STATE_TABLES:
                self._db.execute("INSERT INTO state_changes (height, tbl, pk, row) VALUES "
                                 "(?, ?, ?, ?)", (height, SEQUENCE_TABLE, json.dumps([name]),
                                                  json.dumps([name, seq])))
        self._db.execute("INSERT INTO meta (key, value) VALUES ('history_start', ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(height),))

    # --- meta and blocks ---------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        if self._locked and key in self._metas:
            return self._metas[key]
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        value = None if row is None else str(row[0])
        if self._locked:
            self._metas[key] = value
        return value

    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
        self._metas[key] = value

    _BLOCK_COLUMNS = ("SELECT height, timestamp_ns, random_seed, state_root, outcomes_root, "
                      "inputs_root, hash FROM blocks")

    @staticmethod
    def _block(row: Any) -> Block:
        def blob(value: Any) -> bytes | None:
            return None if value is None else bytes(value)

        return Block(int(row[0]), int(row[1]), bytes(row[2]), blob(row[3]), blob(row[4]),
                     blob(row[5]), blob(row[6]))

    def latest_block(self) -> Block | None:
        if self._locked and self._latest is not None:
            return self._latest
        row = self._db.execute(self._BLOCK_COLUMNS + " ORDER BY height DESC LIMIT 1").fetchone()
        block = None if row is None else self._block(row)
        if self._locked:
            self._latest = block
        return block

    def get_block(self, height: int) -> Block | None:
        row = self._db.execute(self._BLOCK_COLUMNS + " WHERE height = ?", (height,)).fetchone()
        return None if row is None else self._block(row)

    def block_by_hash(self, block_hash: bytes) -> Block | None:
        """The sealed block with this hash (the RPC's block_id / a transaction's block_hash)."""
        row = self._db.execute(self._BLOCK_COLUMNS + " WHERE hash = ?", (block_hash,)).fetchone()
        return None if row is None else self._block(row)

    def blocks(self, from_height: int = 0, to_height: int | None = None) -> list[Block]:
        rows = self._db.execute(self._BLOCK_COLUMNS + " WHERE height >= ? AND height <= ? "
                                "ORDER BY height",
                                (from_height, (1 << 62) if to_height is None else to_height))
        return [self._block(r) for r in rows.fetchall()]

    def add_block(self, block: Block) -> None:
        self._write("INSERT INTO blocks (height, timestamp_ns, random_seed, state_root, "
                    "outcomes_root, inputs_root, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (block.height, block.timestamp_ns, block.random_seed, block.state_root,
                     block.outcomes_root, block.inputs_root, block.hash))
        latest = self._latest
        self._latest = block if latest is not None and block.height > latest.height else None
        if block.state_root is not None:
            self._open_history = (block.height + 1, [])

    def seal_block(self, height: int, state_root: bytes, outcomes_root: bytes,
                   inputs_root: bytes, block_hash: bytes) -> None:
        """Give a block its roots; from then on it is append-only (a trigger refuses more)."""
        cur = self._write("UPDATE blocks SET state_root = ?, outcomes_root = ?, inputs_root = ?, "
                          "hash = ? WHERE height = ?",
                          (state_root, outcomes_root, inputs_root, block_hash, height))
        if cur.rowcount != 1:
            raise StoreError(f"no block {height} to seal")
        self._latest = None
        self._open_history = (height + 1, [])

    # --- verifiable history ---------------------------------------------------------------

    def open_height(self) -> int:
        """The block a write made now belongs to (see `_OPEN_HEIGHT`)."""
        return int(self._db.execute("SELECT " + _OPEN_HEIGHT).fetchone()[0])

    def add_history(self, kind: str, body: dict[str, Any], height: int | None = None
                    ) -> HistoryEntry:
        """Record an input at `height`: the open height (`open_height()`, read if not
        given; a caller that just read the latest sealed block knows it is the next)."""
        if height is None:
            height = self.open_height()
        cur = self._write("INSERT INTO history (height, kind, body) VALUES (?, ?, ?)",
                          (height, kind, _SORTED.encode(body)))
        entry = HistoryEntry(int(cur.lastrowid or 0), height, kind, body)
        if self._open_history is not None and self._open_history[0] == height:
            self._open_history[1].append(entry)
        return entry

    def history(self, from_height: int = 0, to_height: int | None = None
                ) -> list[HistoryEntry]:
        """Recorded inputs with from_height <= height <= to_height, in order."""
        if self._locked and self._open_history is not None and \
                from_height == to_height == self._open_history[0]:
            return list(self._open_history[1])
        rows = self._db.execute("SELECT seq, height, kind, body FROM history WHERE height >= ? "
                                "AND height <= ? ORDER BY seq",
                                (from_height, (1 << 62) if to_height is None else to_height))
        return [HistoryEntry(int(r[0]), int(r[1]), str(r[2]), json.loads(r[3]))
                for r in rows.fetchall()]

    def state_changes(self, height: int) -> list[StateChange]:
        """The row changes recorded for block `height`, in the order they were made."""
        rows = self._db.execute("SELECT seq, height, tbl, account_id, pk, row FROM "
                                "state_changes WHERE height = ? ORDER BY seq", (height,))
        return [self._change(r) for r in rows.fetchall()]

    @staticmethod
    def _change(r: Any) -> StateChange:
        table = str(r[2])
        values = None if r[5] is None else json.loads(r[5])
        spec = STATE_TABLES.get(table)
        row = (None if values is None else
               _decode_row(spec, values) if spec is not None else tuple(values))
        return StateChange(int(r[0]), int(r[1]), table, r[3], str(r[4]), row)

    def state_as_of(self, height: int, account_id: str | None = None
                    ) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, int]]:
        """The state tables as they were at the end of block `height` (only the rows of
        `account_id` if given), and the AUTOINCREMENT counters then: folded from
        `state_changes`, no replay."""
        sql = ("SELECT seq, height, tbl, account_id, pk, row FROM state_changes "
               "WHERE height <= ?")
        params: tuple[Any, ...] = (height,)
        if account_id is not None:
            sql += " AND account_id = ?"
            params += (account_id,)
        latest: dict[tuple[str, str], tuple[Any, ...] | None] = {}
        sequences: dict[str, int] = {}
        for r in self._db.execute(sql + " ORDER BY seq", params).fetchall():
            change = self._change(r)
            if change.table == SEQUENCE_TABLE:
                assert change.row is not None
                name, seq = change.row
                sequences[name] = max(sequences.get(name, 0), int(seq))
                continue
            latest[(change.table, change.pk)] = change.row
            if STATE_TABLES[change.table].autoincrement and change.row is not None:
                sequences[change.table] = max(sequences.get(change.table, 0),
                                              int(change.row[0]))
        tables: dict[str, list[tuple[Any, ...]]] = {t: [] for t in STATE_TABLES}
        for (table, _pk), row in latest.items():
            if row is not None:
                tables[table].append(row)
        for table, rows in tables.items():  # the tables' own order (pk, bytes compare)
            spec = STATE_TABLES[table]
            index = [spec.columns.index(c) for c in spec.pk]
            rows.sort(key=lambda row, index=index: tuple(row[i] for i in index))
        return tables, sequences

    def restore(self, tables: dict[str, list[tuple[Any, ...]]], sequences: dict[str, int]
                ) -> None:
        """Load a checkpoint (`state_as_of`) into this (empty) store."""
        self._drop_cache()
        for table in sorted(tables, key=lambda t: t != "code"):  # code before accounts (FK)
            spec, rows = STATE_TABLES[table], tables[table]
            sql = (f"INSERT INTO {table} ({', '.join(spec.columns)}) VALUES "
                   f"({', '.join('?' * len(spec.columns))})")
            for row in rows:
                self._write(sql, row)
        for table, seq in sequences.items():
            self._write("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
            self._write("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, seq))

    def table_rows(self, table: str) -> list[tuple[Any, ...]]:
        """Every row of a state table, in primary-key order (bytes as bytes)."""
        if table == "receipt_queue":
            queue = self._queued()
            if queue is not None:
                return list(queue.values())
        spec = STATE_TABLES[table]
        rows = self._db.execute(f"SELECT {', '.join(spec.columns)} FROM {table} ORDER BY "
                                + ", ".join(spec.pk)).fetchall()
        return [tuple(bytes(v) if isinstance(v, bytes | memoryview) else v for v in r)
                for r in rows]

    def block_changes(self, height: int) -> list[tuple[str, str | None, str]]:
        """(table, account id, primary key as JSON) of every row change of block `height`
        (what the block's state root must re-read), in the order they were made."""
        rows = self._db.execute("SELECT tbl, account_id, pk FROM state_changes WHERE "
                                "height = ? ORDER BY seq", (height,)).fetchall()
        return [(str(r[0]), r[1], str(r[2])) for r in rows]

    def touched_accounts(self, height: int) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT account_id FROM state_changes WHERE "
                                "height = ? AND account_id IS NOT NULL", (height,)).fetchall()
        return sorted(str(r[0]) for r in rows)

    def account_ids(self) -> list[str]:
        rows = self._db.execute("SELECT account_id FROM accounts ORDER BY account_id")
        return [str(r[0]) for r in rows.fetchall()]

    def account_roots(self) -> list[tuple[str, bytes]]:
        rows = self._db.execute("SELECT account_id, root FROM account_roots "
                                "ORDER BY account_id").fetchall()
        return [(str(r[0]), bytes(r[1])) for r in rows]

    def put_account_root(self, account_id: str, root: bytes | None) -> None:
        if root is None:
            self._write("DELETE FROM account_roots WHERE account_id = ?", (account_id,))
        else:
            self._write("INSERT INTO account_roots (account_id, root) VALUES (?, ?) ON "
                        "CONFLICT (account_id) DO UPDATE SET root = excluded.root",
                        (account_id, root))

    # --- accounts and code -------------------------------------------------------------

    def get_account(self, account_id: str) -> Account | None:
        """A fresh copy each time (callers change it, then `put_account` it)."""
        if self._locked and account_id in self._accounts:
            return _copy(self._accounts[account_id])
        row = self._db.execute(
            "SELECT account_id, balance, locked, code_hash, storage_usage, created_height, "
            "public_key, realm FROM accounts WHERE account_id = ?", (account_id,)).fetchone()
        account = None if row is None else Account(
            str(row[0]), int(row[1]), int(row[2]), row[3], int(row[4]), int(row[5]), row[6],
            str(row[7]))
        if self._locked:
            self._cache_account(account_id, account)
        return _copy(account)

    def _cache_account(self, account_id: str, account: Account | None) -> None:
        if len(self._accounts) >= CACHE_ROWS:
            self._accounts.clear()
        self._accounts[account_id] = _copy(account)

    def put_account(self, account: Account) -> None:
        self._write(
            "INSERT INTO accounts (account_id, balance, locked, code_hash, storage_usage, "
            "created_height, public_key, realm) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account_id) DO UPDATE SET balance = excluded.balance, "
            "locked = excluded.locked, code_hash = excluded.code_hash, "
            "storage_usage = excluded.storage_usage, public_key = excluded.public_key, "
            "realm = excluded.realm",
            (account.account_id, str(account.balance), str(account.locked), account.code_hash,
             account.storage_usage, account.created_height, account.public_key,
             account.realm))
        # cached only when the row before is known: an update keeps its created_height
        if account.account_id in self._accounts:
            old = self._accounts[account.account_id]
            if old is not None and old.created_height != account.created_height:
                account = dataclasses.replace(account, created_height=old.created_height)
            self._cache_account(account.account_id, account)

    def get_code(self, code_hash: str) -> bytes | None:
        # code is content-addressed and never changes under its hash: read each once
        cached = self._code_cache.get(code_hash)
        if cached is not None:
            return cached
        row = self._db.execute("SELECT code FROM code WHERE hash = ?", (code_hash,)).fetchone()
        if row is None:
            return None
        code = bytes(row[0])
        if len(self._code_cache) < 256:
            self._code_cache[code_hash] = code
        return code

    def put_code(self, code: bytes) -> str:
        digest = code_hash(code)
        self._write("INSERT OR IGNORE INTO code (hash, code) VALUES (?, ?)", (digest, code))
        return digest

    # --- global contracts (NEP-591, outlayer.chain.global_contracts) ---------------------

    def get_global_contract(self, identifier: str) -> str | None:
        """The code hash deployed under a global contract identifier, or None."""
        row = self._db.execute("SELECT code_hash FROM global_contracts WHERE identifier = ?",
                               (identifier,)).fetchone()
        return None if row is None else str(row[0])

    def put_global_contract(self, identifier: str, code_hash: str) -> None:
        self._write("INSERT INTO global_contracts (identifier, code_hash) VALUES (?, ?) "
                    "ON CONFLICT (identifier) DO UPDATE SET code_hash = excluded.code_hash",
                    (identifier, code_hash))

    def global_contracts(self) -> list[tuple[str, str]]:
        """(identifier, code hash) of every global contract, by identifier."""
        rows = self._db.execute("SELECT identifier, code_hash FROM global_contracts "
                                "ORDER BY identifier").fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def get_account_contract(self, account_id: str) -> str | None:
        """The identifier of the global contract `account_id` uses, or None."""
        row = self._db.execute("SELECT identifier FROM account_contracts WHERE account_id = ?",
                               (account_id,)).fetchone()
        return None if row is None else str(row[0])

    def set_account_contract(self, account_id: str, identifier: str | None) -> None:
        if identifier is None:
            self._write("DELETE FROM account_contracts WHERE account_id = ?", (account_id,))
        else:
            self._write("INSERT INTO account_contracts (account_id, identifier) VALUES (?, ?) "
                        "ON CONFLICT (account_id) DO UPDATE SET identifier = "
                        "excluded.identifier", (account_id, identifier))

    def row_as_of(self, table: str, pk: tuple[Any, ...], height: int
                  ) -> tuple[Any, ...] | None:
        """One row of a state table as it was at the end of block `height` (from
        `state_changes`: no replay), None if it did not exist then."""
        key = json.dumps(list(pk), separators=(",", ":"))
        sql = ("SELECT seq, height, tbl, account_id, pk, row FROM state_changes WHERE "
               "tbl = ? AND pk = ? AND height <= ?")
        params: tuple[Any, ...] = (table, key, height)
        spec = STATE_TABLES[table]
        if spec.account is not None:  # the account index narrows it down
            sql += " AND account_id = ?"
            params += (pk[spec.pk.index(spec.account)],)
        row = self._db.execute(sql + " ORDER BY seq DESC LIMIT 1", params).fetchone()
        return None if row is None else self._change(row).row

    def first_height(self, account_id: str) -> int | None:
        """The first block whose end state holds the account as it exists now (since its
        last deletion), from `state_changes`; None if it does not exist. Not
        `Account.created_height`: the simulator creates accounts between blocks and records
        the block before (a root input, so it stays), the runtime the block it runs."""
        row = self._db.execute(
            "SELECT MIN(height) FROM state_changes WHERE tbl = 'accounts' AND account_id = ? "
            "AND seq > COALESCE((SELECT MAX(seq) FROM state_changes WHERE tbl = 'accounts' "
            "AND account_id = ? AND row IS NULL), 0)", (account_id, account_id)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    # --- contract storage ---------------------------------------------------------------

    def storage_get(self, account_id: str, key: bytes) -> bytes | None:
        if type(key) is not bytes:
            key = bytes(key)
        if self._locked:
            cached = self._storage.get((account_id, key), _MISSING)
            if cached is not _MISSING:
                return cached  # type: ignore[return-value]
        row = self._db.execute("SELECT value FROM state WHERE account_id = ? AND key = ?",
                               (account_id, key)).fetchone()
        value = None if row is None else bytes(row[0])
        if self._locked:
            self._cache_value(account_id, key, value)
        return value

    def _cache_value(self, account_id: str, key: bytes, value: bytes | None) -> None:
        if len(self._storage) >= CACHE_ROWS:
            self._storage.clear()
        self._storage[(account_id, key)] = value

    def storage_items(self, account_id: str) -> list[tuple[bytes, bytes]]:
        rows = self._db.execute("SELECT key, value FROM state WHERE account_id = ? "
                                "ORDER BY key", (account_id,)).fetchall()
        return [(bytes(k), bytes(v)) for k, v in rows]

    def apply_changes(self, account_id: str, changes: Mapping[bytes, bytes | None]) -> None:
        for key, value in changes.items():
            key = bytes(key)
            if value is None:
                self._write("DELETE FROM state WHERE account_id = ? AND key = ?",
                            (account_id, key))
            else:
                value = bytes(value)
                self._write("INSERT INTO state (account_id, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value",
                            (account_id, key, value))
            self._cache_value(account_id, key, value)

    def delete_account(self, account_id: str) -> None:
        """Remove the account, its access keys and its contract storage (code is shared)."""
        self._write("DELETE FROM accounts WHERE account_id = ?", (account_id,))
        self._write("DELETE FROM access_keys WHERE account_id = ?", (account_id,))
        self._write("DELETE FROM state WHERE account_id = ?", (account_id,))
        self._write("DELETE FROM account_contracts WHERE account_id = ?", (account_id,))
        self._accounts[account_id] = None
        self._storage.clear()

    # --- access keys ----------------------------------------------------------------------

    def get_access_key(self, account_id: str, public_key: str) -> AccessKeyRecord | None:
        row = self._db.execute("SELECT nonce, permission FROM access_keys WHERE account_id = ? "
                               "AND public_key = ?", (account_id, public_key)).fetchone()
        if row is None:
            return None
        return AccessKeyRecord(account_id, public_key, int(row[0]), json.loads(row[1]))

    def put_access_key(self, key: AccessKeyRecord) -> None:
        self._write("INSERT INTO access_keys (account_id, public_key, nonce, permission) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (account_id, public_key) DO UPDATE SET "
                    "nonce = excluded.nonce, permission = excluded.permission",
                    (key.account_id, key.public_key, key.nonce,
                     json.dumps(key.permission, sort_keys=True)))

    def delete_access_key(self, account_id: str, public_key: str) -> None:
        self._write("DELETE FROM access_keys WHERE account_id = ? AND public_key = ?",
                    (account_id, public_key))

    def access_keys(self, account_id: str) -> list[AccessKeyRecord]:
        rows = self._db.execute("SELECT public_key, nonce, permission FROM access_keys "
                                "WHERE account_id = ? ORDER BY public_key",
                                (account_id,)).fetchall()
        return [AccessKeyRecord(account_id, r[0], int(r[1]), json.loads(r[2])) for r in rows]

    # --- receipts in flight ---------------------------------------------------------------

    def enqueue_receipt(self, height: int, receipt_id: str, tx_hash: str, body: str) -> None:
        """Send a receipt to block `height` (it runs there, after earlier-sent ones)."""
        cur = self._write("INSERT INTO receipt_queue (height, receipt_id, tx_hash, body) "
                          "VALUES (?, ?, ?, ?)", (height, receipt_id, tx_hash, body))
        if self._queue is not None:
            seq = int(cur.lastrowid or 0)
            if self._queue and seq <= next(reversed(self._queue)):
                self._queue = None  # not in seq order (cannot happen with AUTOINCREMENT)
            else:
                self._queue[seq] = (seq, height, receipt_id, tx_hash, body)

    def _queued(self) -> dict[int, tuple[int, int, str, str, str]] | None:
        """The receipt queue from memory while the store holds the write lock."""
        if not self._locked:
            return None
        if self._queue is None:
            rows = self._db.execute("SELECT seq, height, receipt_id, tx_hash, body FROM "
                                    "receipt_queue ORDER BY seq").fetchall()
            if len(rows) > CACHE_ROWS:
                return None
            self._queue = {int(r[0]): (int(r[0]), int(r[1]), str(r[2]), str(r[3]), str(r[4]))
                           for r in rows}
        return self._queue

    def due_receipts(self, height: int) -> list[tuple[int, str]]:
        """(seq, body) of the receipts due at or before `height`, in send order."""
        queue = self._queued()
        if queue is not None:
            return [(r[0], r[4]) for r in queue.values() if r[1] <= height]
        rows = self._db.execute("SELECT seq, body FROM receipt_queue WHERE height <= ? "
                                "ORDER BY seq", (height,)).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def remove_queued(self, seq: int) -> None:
        self._write("DELETE FROM receipt_queue WHERE seq = ?", (seq,))
        if self._queue is not None:
            self._queue.pop(seq, None)

    def queued_count(self, tx_hash: str | None = None) -> int:
        queue = self._queued()
        if queue is not None:
            return len(queue) if tx_hash is None else \
                sum(1 for r in queue.values() if r[3] == tx_hash)
        if tx_hash is None:
            row = self._db.execute("SELECT COUNT(*) FROM receipt_queue").fetchone()
        else:
            row = self._db.execute("SELECT COUNT(*) FROM receipt_queue WHERE tx_hash = ?",
                                   (tx_hash,)).fetchone()
        return int(row[0])

    def queued_receipts(self) -> list[tuple[int, str]]:
        """(height, body) of every queued receipt, in send order."""
        queue = self._queued()
        if queue is not None:
            return [(r[1], r[4]) for r in queue.values()]
        rows = self._db.execute("SELECT height, body FROM receipt_queue ORDER BY seq").fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def put_received_data(self, account_id: str, data_id: bytes, data: bytes | None) -> None:
        self._write("INSERT INTO received_data (account_id, data_id, ok, data) VALUES "
                    "(?, ?, ?, ?) ON CONFLICT (account_id, data_id) DO UPDATE SET "
                    "ok = excluded.ok, data = excluded.data",
                    (account_id, data_id, int(data is not None), data))

    def take_received_data(self, account_id: str, data_id: bytes
                           ) -> tuple[bool, bytes | None]:
        """(found, data) and remove it; data None = the sender failed."""
        row = self._db.execute("SELECT ok, data FROM received_data WHERE account_id = ? AND "
                               "data_id = ?", (account_id, data_id)).fetchone()
        if row is None:
            return False, None
        self._write("DELETE FROM received_data WHERE account_id = ? AND data_id = ?",
                    (account_id, data_id))
        return True, (bytes(row[1] or b"") if row[0] else None)

    def has_received_data(self, account_id: str, data_id: bytes) -> bool:
        return self._db.execute("SELECT 1 FROM received_data WHERE account_id = ? AND "
                                "data_id = ?", (account_id, data_id)).fetchone() is not None

    def postpone_receipt(self, receipt_id: str, account_id: str, tx_hash: str, body: str,
                         missing: list[bytes]) -> None:
        """Park an action receipt until each of `missing` data ids has arrived."""
        self._write("INSERT INTO postponed_receipts (receipt_id, account_id, tx_hash, pending, "
                    "body) VALUES (?, ?, ?, ?, ?)",
                    (receipt_id, account_id, tx_hash, len(missing), body))
        for data_id in missing:
            self._write("INSERT INTO postponed_data_ids (account_id, data_id, receipt_id) "
                        "VALUES (?, ?, ?)", (account_id, data_id, receipt_id))

    def data_arrived(self, account_id: str, data_id: bytes) -> str | None:
        """Count `data_id` in for the receipt waiting for it; that receipt's body once it
        waits for nothing more (it is removed from the postponed set), else None."""
        row = self._db.execute("SELECT receipt_id FROM postponed_data_ids WHERE account_id = ? "
                               "AND data_id = ?", (account_id, data_id)).fetchone()
        if row is None:
            return None
        receipt_id = str(row[0])
        self._write("DELETE FROM postponed_data_ids WHERE account_id = ? AND data_id = ?",
                    (account_id, data_id))
        self._write("UPDATE postponed_receipts SET pending = pending - 1 WHERE receipt_id = ?",
                    (receipt_id,))
        left = self._db.execute("SELECT pending, body FROM postponed_receipts WHERE "
                                "receipt_id = ?", (receipt_id,)).fetchone()
        if left is None or int(left[0]) > 0:
            return None
        self._write("DELETE FROM postponed_receipts WHERE receipt_id = ?", (receipt_id,))
        return str(left[1])

    def postponed_receipts(self) -> list[str]:
        rows = self._db.execute("SELECT body FROM postponed_receipts ORDER BY rowid").fetchall()
        return [str(r[0]) for r in rows]

    def add_yield(self, account_id: str, data_id: bytes, expires_at: int, body: str) -> None:
        self._write("INSERT INTO yields (account_id, data_id, expires_at, body) "
                    "VALUES (?, ?, ?, ?)", (account_id, data_id, expires_at, body))
        self._no_yields = False

    def _yield(self, row: Any) -> PendingYield:
        return PendingYield(str(row[0]), bytes(row[1]), int(row[2]), bool(row[3]), str(row[4]))

    def get_yield(self, account_id: str, data_id: bytes) -> PendingYield | None:
        row = self._db.execute("SELECT account_id, data_id, expires_at, timed_out, body FROM "
                               "yields WHERE account_id = ? AND data_id = ?",
                               (account_id, data_id)).fetchone()
        return None if row is None else self._yield(row)

    def remove_yield(self, account_id: str, data_id: bytes) -> None:
        self._write("DELETE FROM yields WHERE account_id = ? AND data_id = ?",
                    (account_id, data_id))
        self._no_yields = None

    def expired_yields(self, height: int) -> list[PendingYield]:
        """Yields whose timeout is due at `height` and not yet sent, oldest first."""
        if self._locked:
            if self._no_yields is None:
                self._no_yields = self._db.execute(
                    "SELECT 1 FROM yields LIMIT 1").fetchone() is None
            if self._no_yields:
                return []
        rows = self._db.execute("SELECT account_id, data_id, expires_at, timed_out, body FROM "
                                "yields WHERE expires_at <= ? AND timed_out = 0 "
                                "ORDER BY expires_at, seq", (height,)).fetchall()
        return [self._yield(r) for r in rows]

    def mark_yield_timed_out(self, account_id: str, data_id: bytes) -> None:
        self._write("UPDATE yields SET timed_out = 1 WHERE account_id = ? AND data_id = ?",
                    (account_id, data_id))

    def pending_yields(self) -> list[PendingYield]:
        rows = self._db.execute("SELECT account_id, data_id, expires_at, timed_out, body FROM "
                                "yields ORDER BY seq").fetchall()
        return [self._yield(r) for r in rows]

    # --- outcomes ----------------------------------------------------------------------

    def add_outcome(self, outcome_id: str, tx_hash: str, kind: str, height: int,
                    body: dict[str, Any], encoded: bytes | None = None) -> None:
        """`encoded`: `body` as JSON already (the caller's canonical form, which its
        outcomes root hashes), so it is not encoded twice."""
        text = json.dumps(body, sort_keys=True) if encoded is None else encoded.decode()
        self._write("INSERT INTO outcomes (id, tx_hash, kind, height, body) "
                    "VALUES (?, ?, ?, ?, ?)", (outcome_id, tx_hash, kind, height, text))

    def outcomes(self, tx_hash: str) -> list[dict[str, Any]]:
        """Every outcome of a transaction's tree, in execution order."""
        rows = self._db.execute("SELECT body FROM outcomes WHERE tx_hash = ? ORDER BY seq",
                                (tx_hash,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def has_outcomes(self, tx_hash: str) -> bool:
        """The transaction is on this chain (cheaper than reading its outcomes)."""
        return self._db.execute("SELECT 1 FROM outcomes WHERE tx_hash = ? LIMIT 1",
                                (tx_hash,)).fetchone() is not None

    def outcome(self, outcome_id: str) -> dict[str, Any] | None:
        """One outcome by its id (a transaction's hash or a receipt's id)."""
        row = self._db.execute("SELECT body FROM outcomes WHERE id = ?",
                               (outcome_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def outcomes_at(self, height: int) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT body FROM outcomes WHERE height = ? ORDER BY seq",
                                (height,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    # --- history ------------------------------------------------------------------------

    def add_transaction(self, tx: TxRecord) -> int:
        cur = self._write(
            "INSERT INTO transactions (tx_hash, height, kind, signer_id, receiver_id, method, "
            "args, deposit, gas, status, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (tx.tx_hash, tx.height, tx.kind, tx.signer_id, tx.receiver_id, tx.method, tx.args,
             str(tx.deposit), tx.gas, tx.status, _SORTED.encode(tx.outcome)))
        tx.id = int(cur.lastrowid or 0)
        return tx.id

    def transactions(self, account_id: str | None = None, limit: int = 100) -> list[TxRecord]:
        """The latest `limit` entries, oldest first; only those touching `account_id` if given."""
        sql = ("SELECT id, tx_hash, height, kind, signer_id, receiver_id, method, args, "
               "deposit, gas, status, outcome FROM transactions")
        params: tuple[Any, ...] = ()
        if account_id is not None:
            sql += " WHERE receiver_id = ? OR signer_id = ?"
            params = (account_id, account_id)
        rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        return [TxRecord(id=int(r[0]), tx_hash=r[1], height=int(r[2]), kind=r[3],
                         signer_id=r[4], receiver_id=r[5], method=r[6], args=bytes(r[7]),
                         deposit=int(r[8]), gas=int(r[9]), status=r[10],
                         outcome=json.loads(r[11])) for r in reversed(rows)]

    # --- suspended calls (await; docs/EXECUTION_MODEL.md "Await") ----------------------

    def _init_suspensions(self) -> None:
        """`suspensions`: the memory of each call suspended at an await, under the receipt
        id of its `__ol_resume` callback, until that receipt runs. Made on open when
        missing (files of any schema get it without a migration); so is `stake_proposals`.
        """
        with self.transaction():
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS suspensions (receipt_id TEXT PRIMARY KEY, "
                "account_id TEXT NOT NULL, height INTEGER NOT NULL, body BLOB NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS stake_proposals (account_id TEXT PRIMARY KEY, "
                "stake TEXT NOT NULL, public_key TEXT NOT NULL)")

    def put_suspension(self, receipt_id: str, account_id: str, height: int, body: bytes
                       ) -> None:
        self._write("INSERT INTO suspensions (receipt_id, account_id, height, body) "
                    "VALUES (?, ?, ?, ?)", (receipt_id, account_id, height, body))

    def get_suspension(self, receipt_id: str) -> bytes | None:
        row = self._db.execute("SELECT body FROM suspensions WHERE receipt_id = ?",
                               (receipt_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def take_suspension(self, receipt_id: str) -> tuple[str, bytes] | None:
        """(account id, body) of the suspension resumed by `receipt_id`, removed; None if
        there is none."""
        row = self._db.execute("SELECT account_id, body FROM suspensions WHERE receipt_id = ?",
                               (receipt_id,)).fetchone()
        if row is None:
            return None
        self._write("DELETE FROM suspensions WHERE receipt_id = ?", (receipt_id,))
        return str(row[0]), bytes(row[1])

    def suspensions(self) -> list[tuple[str, str, int, int]]:
        """(receipt id, account id, height, size in bytes) of every suspended call."""
        rows = self._db.execute("SELECT receipt_id, account_id, height, length(body) FROM "
                                "suspensions ORDER BY height, receipt_id").fetchall()
        return [(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]

    # --- stake decreases waiting for the epoch boundary (outlayer.chain.staking) ---------

    def get_stake_proposal(self, account_id: str) -> tuple[int, str] | None:
        row = self._db.execute("SELECT stake, public_key FROM stake_proposals WHERE "
                               "account_id = ?", (account_id,)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def put_stake_proposal(self, account_id: str, stake: int, public_key: str) -> None:
        self._write("INSERT INTO stake_proposals (account_id, stake, public_key) VALUES "
                    "(?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET stake = excluded.stake, "
                    "public_key = excluded.public_key", (account_id, str(stake), public_key))

    def delete_stake_proposal(self, account_id: str) -> None:
        self._write("DELETE FROM stake_proposals WHERE account_id = ?", (account_id,))

    def stake_proposals(self) -> list[tuple[str, int, str]]:
        """(account id, proposed stake, validator key), by account id."""
        rows = self._db.execute("SELECT account_id, stake, public_key FROM stake_proposals "
                                "ORDER BY account_id").fetchall()
        return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        self._db.close()


def open_store(db_path: str | Path | None = None) -> SQLiteStore:
    """The store at `db_path`: None = `default_db_path()`, ":memory:" = in memory."""
    return SQLiteStore(default_db_path() if db_path is None else db_path)
