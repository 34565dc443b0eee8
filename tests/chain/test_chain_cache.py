"""The store's read cache and the other shortcuts of a call keep the chain's meaning: rows
read while the store holds the write lock come from memory only while no other connection
wrote and no rollback happened; the first unit of a batch rolls back alone without a
savepoint; a call's result is its stored outcome; a queued receipt taken from memory is
the one its stored JSON names. Statement counts, not times, are asserted."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import base58
import pytest

from outlayer.chain import receipts as rc
from outlayer.chain.runtime import ReceiptRuntime
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import Account, SQLiteStore

from .conftest import EXAMPLES, KV_CONTRACT

COUNTER = (EXAMPLES / "counter.js").read_text()


@contextmanager
def statements(store: SQLiteStore) -> Iterator[list[str]]:
    seen: list[str] = []
    store._db.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        store._db.set_trace_callback(None)


def test_a_warm_call_reads_no_account_meta_block_or_queue_row_from_the_file(
        tmp_path: Path) -> None:
    with ContractSimulator(db_path=tmp_path / "state.db") as sim:
        sim.deploy("counter.test", COUNTER)
        sim.call("counter.test", "increment", {})
        with statements(sim.store) as seen:
            assert sim.call("counter.test", "increment", {}).result == 2
    reads = [s for s in seen if re.match(
        r"SELECT .* FROM (accounts|meta|blocks|receipt_queue|history|yields)\b", s)]
    assert reads == []
    assert sum(s == "COMMIT" for s in seen) == 1
    assert not any(s.startswith("SAVEPOINT unit") for s in seen[:4])  # the first block's


def test_another_connection_writing_drops_the_cache(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    a, b = SQLiteStore(db), SQLiteStore(db)
    with a.transaction():
        a.put_account(Account("x.test", 5))
        a.set_meta("k", "1")
    with a.transaction():  # now cached by a
        assert a.get_account("x.test").balance == 5  # type: ignore[union-attr]
        assert a.get_meta("k") == "1"
    with b.transaction():
        b.put_account(Account("x.test", 7))
        b.set_meta("k", "2")
        b.apply_changes("x.test", {b"key": b"v"})
    with a.transaction():
        assert a.get_account("x.test").balance == 7  # type: ignore[union-attr]
        assert a.get_meta("k") == "2"
        assert a.storage_get("x.test", b"key") == b"v"
    a.close()
    b.close()


def test_two_simulators_taking_turns_on_one_file_count_every_call(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with ContractSimulator(db_path=db) as a, ContractSimulator(db_path=db) as b:
        a.deploy("counter.test", COUNTER)
        for i in range(6):
            assert (a if i % 2 else b).call("counter.test", "increment", {}).result == i + 1
        assert a.block.hash == b.block.hash
        assert b.verify().ok


def test_a_rollback_drops_what_was_cached_inside_it() -> None:
    store = SQLiteStore()
    with store.transaction():
        store.put_account(Account("x.test", 1))
        store.apply_changes("x.test", {b"k": b"1"})
        with store.savepoint() as sp:
            store.put_account(Account("x.test", 2))
            store.apply_changes("x.test", {b"k": b"2"})
            store.set_meta("m", "2")
            sp.discard()
        assert store.get_account("x.test").balance == 1  # type: ignore[union-attr]
        assert store.storage_get("x.test", b"k") == b"1"
        assert store.get_meta("m") is None
    with pytest.raises(RuntimeError), store.transaction():
        store.put_account(Account("x.test", 3))
        raise RuntimeError("rolled back")
    with store.transaction():
        assert store.get_account("x.test").balance == 1  # type: ignore[union-attr]
    store.close()


def test_an_update_keeps_the_stored_created_height_in_the_cache_too() -> None:
    store = SQLiteStore()
    with store.transaction():
        store.put_account(Account("x.test", 1, created_height=4))
        store.put_account(Account("x.test", 2, created_height=9))  # an upsert keeps 4
        assert store.get_account("x.test").created_height == 4  # type: ignore[union-attr]
    row = store._db.execute("SELECT created_height FROM accounts").fetchone()
    assert row[0] == 4
    store.close()


def test_an_account_handed_out_is_a_copy() -> None:
    store = SQLiteStore()
    with store.transaction():
        store.put_account(Account("x.test", 1))
        got = store.get_account("x.test")
        assert got is not None
        got.balance = 99
        assert store.get_account("x.test").balance == 1  # type: ignore[union-attr]
    store.close()


def test_the_first_unit_of_a_batch_rolls_back_alone_and_the_batch_goes_on(
        tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    s = SQLiteStore(db)
    other = sqlite3.connect(db)
    with s.batch():
        with pytest.raises(KeyError), s.transaction():  # no savepoint: a ROLLBACK undoes it
            s.set_meta("first", "1")
            raise KeyError("unit")
        assert s.get_meta("first") is None
        with s.transaction():
            s.set_meta("second", "1")
        with pytest.raises(KeyError), s.transaction():  # a later unit: a savepoint
            s.set_meta("third", "1")
            raise KeyError("unit")
    rows = dict(other.execute("SELECT key, value FROM meta WHERE key IN "
                              "('first', 'second', 'third')").fetchall())
    assert rows == {"second": "1"}
    other.close()
    s.close()


def test_a_failed_first_block_writes_nothing() -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        sim.deploy("counter.test", COUNTER)
        assert sim.call("counter.test", "increment", {}).result == 1  # the engine recorded
        height, history = sim.height, len(sim.store.history())
        with pytest.raises(Exception, match="does not exist"):
            sim.call("nobody.test", "increment", {})
        assert (sim.height, len(sim.store.history())) == (height, history)
        assert sim.call("counter.test", "increment", {}).result == 2
        assert sim.verify().ok


def _assert_result_is_stored_outcome(sim: ContractSimulator, result: Any) -> None:
    stored = sim.tx_outcome(result.tx_hash)
    assert result.outcome == stored
    assert result.outcome.to_json() == stored.to_json()


def test_a_call_result_is_its_stored_outcome() -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        sim.deploy("kv.test", KV_CONTRACT)
        for c in ("c1.test", "c2.test"):
            sim.deploy(c, COUNTER)
        sim.deploy("cross.test", EXAMPLES / "cross_counter.js")
        for result in (
                sim.call("kv.test", "set", {"key": "a", "value": "1"}),
                sim.call("kv.test", "set_then_fail", {"key": "b", "value": "2"}),
                sim.call("kv.test", "set", {"key": "a", "value": "1"}, deposit=10**24),
                sim.call("cross.test", "sum", {"counters": ["c1.test", "c2.test"]}),
                sim.call("cross.test", "sum", {"counters": ["c1.test", "nobody.test"]})):
            _assert_result_is_stored_outcome(sim, result)
        assert sim.verify().ok


def test_a_queued_receipt_from_memory_equals_its_stored_json(
        monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[bool] = []

    class Checked(dict[str, Any]):
        def pop(self, body: str, default: Any = None) -> Any:
            found = super().pop(body, default)
            if found is not None:
                assert found == rc.loads(body)
                taken.append(True)
            return found

    real_init = ReceiptRuntime.__init__

    def init(self: ReceiptRuntime, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        self._queued = Checked()

    monkeypatch.setattr(ReceiptRuntime, "__init__", init)
    with ContractSimulator(db_path=":memory:") as sim:
        for c in ("c1.test", "c2.test"):
            sim.deploy(c, COUNTER)
        sim.deploy("cross.test", EXAMPLES / "cross_counter.js")
        assert sim.call("cross.test", "sum", {"counters": ["c1.test", "c2.test"]}).result
        sim.call("cross.test", "sum", {"counters": ["c1.test", "nobody.test"]})
        assert sim.verify().ok
    assert len(taken) > 6  # calls, callbacks, data and refunds all came from memory


def test_b58encode_is_the_base58_librarys() -> None:
    for i in range(3000):
        data = bytes(i % 4) + os.urandom(i % 41)
        assert rc.b58encode(data) == base58.b58encode(data).decode("ascii")
        assert rc.unb58(rc.b58(data)) == data
    assert rc.b58encode(b"") == "" and rc.b58encode(b"\0\0") == "11"
