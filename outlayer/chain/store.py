"""The simulator's persistent state: accounts, access keys, content-addressed code, contract
storage, blocks, receipts in flight, execution outcomes and a transaction log, behind one
narrow interface (`StateStore`).

Only SQLite is implemented. Everything the simulator needs goes through the `StateStore`
methods, so a PostgreSQL store can implement the same Protocol later without touching the
simulator. Every write happens inside `transaction()`: one SQLite transaction that commits
when the block exits normally and rolls back on any exception, so a crash in the middle of a
call leaves the file as it was before the call. Inside a transaction, `savepoint()` gives
one receipt its own all-or-nothing unit (SQLite SAVEPOINT): a failed receipt's account,
key, code and storage writes are rolled back while the block goes on.

Receipts in flight (schema 3): `receipt_queue` holds receipts sent to a later block, in send
order; `postponed_receipts` + `postponed_data_ids` hold action receipts waiting for input
data, `received_data` the data that arrived first; `yields` the promise_yield_create
receipts waiting for a resume or their timeout. `outcomes` keeps every execution outcome
(transactions and receipts) for the outcome trees.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import base58

SCHEMA_VERSION = 3
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

    def savepoint(self) -> AbstractContextManager[Savepoint]: ...

    def snapshot(self) -> AbstractContextManager[None]: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def latest_block(self) -> Block | None: ...

    def add_block(self, block: Block) -> None: ...

    def get_account(self, account_id: str) -> Account | None: ...

    def put_account(self, account: Account) -> None: ...

    def get_code(self, code_hash: str) -> bytes | None: ...

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

    def add_outcome(self, outcome_id: str, tx_hash: str, kind: str, height: int,
                    body: dict[str, Any]) -> None: ...

    def outcomes(self, tx_hash: str) -> list[dict[str, Any]]: ...

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


class StoreError(Exception):
    """The state file cannot be used (newer schema, write outside a transaction)."""


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
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA foreign_keys = ON")
            if self.path != MEMORY:
                self._db.execute("PRAGMA journal_mode = WAL")
                # WAL + NORMAL: every commit is atomic and the file always consistent; a
                # power loss may drop the last commits, never half of one.
                self._db.execute("PRAGMA synchronous = NORMAL")
            self._init_schema()
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
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._db.execute("ROLLBACK")
            raise
        self._depth = 0
        try:
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit: commit on normal exit, roll back on any exception."""
        return self._transaction()

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        if self._depth:
            yield
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
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")
            raise
        finally:
            self._savepoints -= 1
        if handle.discarded:
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
                version = SCHEMA_VERSION
            if row is not None and row[0] != version:
                self._db.execute("UPDATE schema_version SET version = ?", (version,))
            if version != SCHEMA_VERSION:
                raise StoreError(f"{self.path}: state schema version {version}, this OutLayer "
                                 f"reads version {SCHEMA_VERSION}")

    # --- meta and blocks ---------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def latest_block(self) -> Block | None:
        row = self._db.execute("SELECT height, timestamp_ns, random_seed FROM blocks "
                               "ORDER BY height DESC LIMIT 1").fetchone()
        return None if row is None else Block(int(row[0]), int(row[1]), bytes(row[2]))

    def add_block(self, block: Block) -> None:
        self._write("INSERT INTO blocks (height, timestamp_ns, random_seed) VALUES (?, ?, ?)",
                    (block.height, block.timestamp_ns, block.random_seed))

    # --- accounts and code -------------------------------------------------------------

    def get_account(self, account_id: str) -> Account | None:
        row = self._db.execute(
            "SELECT account_id, balance, locked, code_hash, storage_usage, created_height, "
            "public_key, realm FROM accounts WHERE account_id = ?", (account_id,)).fetchone()
        if row is None:
            return None
        return Account(str(row[0]), int(row[1]), int(row[2]), row[3], int(row[4]),
                       int(row[5]), row[6], str(row[7]))

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

    def get_code(self, code_hash: str) -> bytes | None:
        row = self._db.execute("SELECT code FROM code WHERE hash = ?", (code_hash,)).fetchone()
        return None if row is None else bytes(row[0])

    def put_code(self, code: bytes) -> str:
        digest = code_hash(code)
        self._write("INSERT OR IGNORE INTO code (hash, code) VALUES (?, ?)", (digest, code))
        return digest

    # --- contract storage ---------------------------------------------------------------

    def storage_get(self, account_id: str, key: bytes) -> bytes | None:
        row = self._db.execute("SELECT value FROM state WHERE account_id = ? AND key = ?",
                               (account_id, key)).fetchone()
        return None if row is None else bytes(row[0])

    def storage_items(self, account_id: str) -> list[tuple[bytes, bytes]]:
        rows = self._db.execute("SELECT key, value FROM state WHERE account_id = ? "
                                "ORDER BY key", (account_id,)).fetchall()
        return [(bytes(k), bytes(v)) for k, v in rows]

    def apply_changes(self, account_id: str, changes: Mapping[bytes, bytes | None]) -> None:
        for key, value in changes.items():
            if value is None:
                self._write("DELETE FROM state WHERE account_id = ? AND key = ?",
                            (account_id, bytes(key)))
            else:
                self._write("INSERT INTO state (account_id, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value",
                            (account_id, bytes(key), bytes(value)))

    def delete_account(self, account_id: str) -> None:
        """Remove the account, its access keys and its contract storage (code is shared)."""
        self._write("DELETE FROM accounts WHERE account_id = ?", (account_id,))
        self._write("DELETE FROM access_keys WHERE account_id = ?", (account_id,))
        self._write("DELETE FROM state WHERE account_id = ?", (account_id,))

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
        self._write("INSERT INTO receipt_queue (height, receipt_id, tx_hash, body) "
                    "VALUES (?, ?, ?, ?)", (height, receipt_id, tx_hash, body))

    def due_receipts(self, height: int) -> list[tuple[int, str]]:
        """(seq, body) of the receipts due at or before `height`, in send order."""
        rows = self._db.execute("SELECT seq, body FROM receipt_queue WHERE height <= ? "
                                "ORDER BY seq", (height,)).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def remove_queued(self, seq: int) -> None:
        self._write("DELETE FROM receipt_queue WHERE seq = ?", (seq,))

    def queued_count(self, tx_hash: str | None = None) -> int:
        if tx_hash is None:
            row = self._db.execute("SELECT COUNT(*) FROM receipt_queue").fetchone()
        else:
            row = self._db.execute("SELECT COUNT(*) FROM receipt_queue WHERE tx_hash = ?",
                                   (tx_hash,)).fetchone()
        return int(row[0])

    def queued_receipts(self) -> list[tuple[int, str]]:
        """(height, body) of every queued receipt, in send order."""
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

    def expired_yields(self, height: int) -> list[PendingYield]:
        """Yields whose timeout is due at `height` and not yet sent, oldest first."""
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
                    body: dict[str, Any]) -> None:
        self._write("INSERT INTO outcomes (id, tx_hash, kind, height, body) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (outcome_id, tx_hash, kind, height, json.dumps(body, sort_keys=True)))

    def outcomes(self, tx_hash: str) -> list[dict[str, Any]]:
        """Every outcome of a transaction's tree, in execution order."""
        rows = self._db.execute("SELECT body FROM outcomes WHERE tx_hash = ? ORDER BY seq",
                                (tx_hash,)).fetchall()
        return [json.loads(r[0]) for r in rows]

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
             str(tx.deposit), tx.gas, tx.status, json.dumps(tx.outcome, sort_keys=True)))
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

    def close(self) -> None:
        self._db.close()


def open_store(db_path: str | Path | None = None) -> SQLiteStore:
    """The store at `db_path`: None = `default_db_path()`, ":memory:" = in memory."""
    return SQLiteStore(default_db_path() if db_path is None else db_path)
