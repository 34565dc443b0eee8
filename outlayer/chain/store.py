"""The simulator's persistent state: accounts, content-addressed code, contract storage,
blocks and a transaction log, behind one narrow interface (`StateStore`).

Only SQLite is implemented. Everything the simulator needs goes through the `StateStore`
methods, so a PostgreSQL store can implement the same Protocol later without touching the
simulator. Every write happens inside `transaction()`: one SQLite transaction that commits
when the block exits normally and rolls back on any exception, so a crash in the middle of a
call leaves the file as it was before the call.
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

SCHEMA_VERSION = 2
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


class StateStore(Protocol):
    """What the simulator needs from a state backend (SQLite now, PostgreSQL later)."""

    def transaction(self) -> AbstractContextManager[None]: ...

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
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
                return
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else None
            if version == 1:  # version 2 added the per-contract realm options
                self._db.execute(
                    "ALTER TABLE accounts ADD COLUMN realm TEXT NOT NULL DEFAULT '{}'")
                self._db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
                version = SCHEMA_VERSION
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
