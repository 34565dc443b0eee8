"""The SQLite state store: schema, atomic transactions, crash safety, history."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from outlayer.chain.store import (
    _SCHEMA,
    SCHEMA_VERSION,
    AccessKeyRecord,
    Account,
    Block,
    SQLiteStore,
    StoreError,
    TxRecord,
    code_hash,
    open_store,
)


def _seed(store: SQLiteStore) -> None:
    with store.transaction():
        store.put_account(Account("a.test", 10**30, code_hash=store.put_code(b"code")))
        store.apply_changes("a.test", {b"k": b"v", b"gone": b"x"})


def test_schema_version_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SQLiteStore(path)
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute("UPDATE schema_version SET version = 999")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="version 999"):
        SQLiteStore(path)


def test_unusable_files_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot use"):
        SQLiteStore(junk)
    with pytest.raises(StoreError, match="cannot use"):
        SQLiteStore(tmp_path)  # a directory


def test_default_path_is_under_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store()
    store.close()
    assert (tmp_path / ".outlayer" / "state.db").is_file()


def test_commit_and_read_back() -> None:
    store = SQLiteStore()
    _seed(store)
    account = store.get_account("a.test")
    assert account is not None and account.balance == 10**30
    assert account.code_hash == code_hash(b"code")
    assert store.get_code(account.code_hash) == b"code"
    assert store.storage_items("a.test") == [(b"gone", b"x"), (b"k", b"v")]
    with store.transaction():
        store.apply_changes("a.test", {b"gone": None, b"k": b"v2"})
    assert store.storage_items("a.test") == [(b"k", b"v2")]


def test_exception_rolls_back_everything() -> None:
    store = SQLiteStore()
    _seed(store)
    with pytest.raises(RuntimeError), store.transaction():
        store.apply_changes("a.test", {b"k": b"changed", b"new": b"1"})
        store.put_account(Account("a.test", 1))
        store.put_code(b"other code")
        store.add_block(Block(1, 5, bytes(32)))
        raise RuntimeError("boom")
    account = store.get_account("a.test")
    assert account is not None and account.balance == 10**30
    assert store.storage_items("a.test") == [(b"gone", b"x"), (b"k", b"v")]
    assert store.get_code(code_hash(b"other code")) is None
    assert store.latest_block() is None


def test_nested_transactions_join_the_outer_one() -> None:
    store = SQLiteStore()
    with pytest.raises(ValueError), store.transaction():
        with store.transaction():
            store.set_meta("x", "1")
        raise ValueError
    assert store.get_meta("x") is None


def test_writes_need_a_transaction_and_snapshots_are_read_only() -> None:
    store = SQLiteStore()
    with pytest.raises(StoreError):
        store.set_meta("x", "1")
    with pytest.raises(StoreError), store.snapshot():
        store.set_meta("x", "1")
    assert store.get_meta("x") is None


def test_code_is_content_addressed() -> None:
    store = SQLiteStore()
    with store.transaction():
        first = store.put_code(b"same")
        second = store.put_code(b"same")
    assert first == second == code_hash(b"same")


def test_history_round_trip_and_filter() -> None:
    store = SQLiteStore()
    with store.transaction():
        for i, (signer, receiver) in enumerate([("a.test", "c.test"), ("b.test", "d.test")]):
            store.add_transaction(TxRecord(f"h{i}", i, "call", signer, receiver, "success",
                                           "m", b"{}", 5, 7, {"result": i}))
    all_txs = store.transactions()
    assert [t.tx_hash for t in all_txs] == ["h0", "h1"]
    assert all_txs[0].outcome == {"result": 0} and all_txs[0].deposit == 5
    assert [t.tx_hash for t in store.transactions("d.test")] == ["h1"]
    assert [t.tx_hash for t in store.transactions(limit=1)] == ["h1"]


_CRASH = """
import os, sys
from outlayer.chain.store import SQLiteStore, Account
store = SQLiteStore(sys.argv[1])
with store.transaction():
    store.apply_changes("a.test", {b"k": b"half-written", b"new": b"1"})
    store.put_account(Account("a.test", 1))
    os._exit(3)  # dies mid-transaction: no rollback, no commit
"""


def test_crash_mid_transaction_leaves_the_file_consistent(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SQLiteStore(path)
    _seed(store)
    store.close()
    proc = subprocess.run([sys.executable, "-c", _CRASH, str(path)], capture_output=True)
    assert proc.returncode == 3, proc.stderr
    store = SQLiteStore(path)
    assert store.storage_items("a.test") == [(b"gone", b"x"), (b"k", b"v")]
    account = store.get_account("a.test")
    assert account is not None and account.balance == 10**30
    with store.transaction():  # and it is writable again
        store.set_meta("after", "crash")


def test_savepoints_roll_back_one_receipt_only() -> None:
    store = SQLiteStore()
    _seed(store)
    with store.transaction():
        with store.savepoint() as failed:
            store.apply_changes("a.test", {b"k": b"failed"})
            store.put_access_key(AccessKeyRecord("a.test", "ed25519:x", 0))
            failed.discard()
        with store.savepoint():
            store.apply_changes("a.test", {b"new": b"kept"})
    assert store.storage_get("a.test", b"k") == b"v"
    assert store.storage_get("a.test", b"new") == b"kept"
    assert store.access_keys("a.test") == []
    with pytest.raises(StoreError, match="savepoint outside"), store.savepoint():
        pass


def test_schema_2_files_are_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA + "INSERT INTO schema_version VALUES (2);"
                     "INSERT INTO accounts VALUES ('k.test', '1', '0', NULL, 182, 0, "
                     "'ed25519:abc', '{}');")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert [(k.public_key, k.permission) for k in store.access_keys("k.test")] == [
        ("ed25519:abc", "FullAccess")]
    assert store.queued_count() == 0 and store.pending_yields() == []
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    db.close()


def test_receipts_in_flight_tables() -> None:
    store = SQLiteStore()
    with store.transaction():
        store.enqueue_receipt(5, "r1", "tx", "{1}")
        store.enqueue_receipt(6, "r2", "tx", "{2}")
        store.enqueue_receipt(5, "r3", "other", "{3}")
        assert [b for _, b in store.due_receipts(5)] == ["{1}", "{3}"]
        assert store.queued_count("tx") == 2 and store.queued_count() == 3
        store.postpone_receipt("cb", "a.test", "tx", "{cb}", [b"d1", b"d2"])
        store.put_received_data("a.test", b"d2", None)
        assert store.data_arrived("a.test", b"d2") is None  # still waits for d1
        store.put_received_data("a.test", b"d1", b"")
        assert store.data_arrived("a.test", b"d1") == "{cb}"
        assert store.take_received_data("a.test", b"d1") == (True, b"")
        assert store.take_received_data("a.test", b"d2") == (True, None)
        assert store.take_received_data("a.test", b"d2") == (False, None)
        store.add_yield("a.test", b"y", 210, "{y}")
        assert [y.data_id for y in store.expired_yields(209)] == []
        assert [y.data_id for y in store.expired_yields(210)] == [b"y"]
        store.mark_yield_timed_out("a.test", b"y")
        assert store.expired_yields(300) == []
        assert store.get_yield("a.test", b"y") is not None
