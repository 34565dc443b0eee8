"""The cheaper chain paths keep the chain's meaning: one commit per call (each block still
all-or-nothing), the incremental state root (always equal to a full recount), the blocks
by-hash index (added to older files on open), one signature check per signed transaction,
and the background WAL checkpoint. No timing is asserted: the benchmarks measure that."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from outlayer.chain import actions as act
from outlayer.chain import roots, signed, store
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import SQLiteStore
from outlayer.vm.receipts import FunctionCall

from .conftest import EXAMPLES, KV_CONTRACT

COUNTER = (EXAMPLES / "counter.js").read_text()
TGAS = 10**12


def full_recount(sim: ContractSimulator) -> bytes:
    return roots.state_root(sim.store)  # None: every account and table, no cache


def assert_roots_right(sim: ContractSimulator) -> None:
    assert sim.block.state_root == full_recount(sim)


# --- the incremental state root ------------------------------------------------------------


def test_incremental_root_equals_a_full_recount_after_every_kind_of_change() -> None:
    with ContractSimulator(db_path=":memory:") as sim:  # NEAR's gas price: refund blocks
        sim.deploy("kv.test", KV_CONTRACT)
        steps = [
            lambda: sim.call("kv.test", "set", {"key": "a", "value": "1"}),
            lambda: sim.call("kv.test", "set", {"key": "b", "value": "2"}),
            lambda: sim.call("kv.test", "set", {"key": "a", "value": "3"}),  # overwrite
            lambda: sim.call("kv.test", "remove", {"key": "b"}),  # delete a key
            lambda: sim.call("kv.test", "set_then_fail", {"key": "c", "value": "x"}),
            # between blocks: the next block's root includes it
            lambda: (sim.patch_state("kv.test", b"\x00raw", b"\xff"), sim.fast_forward(1)),
            lambda: (sim.create_account("bob.test"), sim.fast_forward(1)),
            lambda: sim.transact("test.near", "bob.test", [act.transfer(10**24)]),
            lambda: sim.transact("bob.test", "bob.test", [act.add_full_access_key(
                "ed25519:" + "2" * 44)]),
            lambda: sim.transact("bob.test", "bob.test", [act.delete_account("test.near")]),
            lambda: sim.fast_forward(2),
        ]
        for i, step in enumerate(steps):
            step()
            assert sim.block.state_root == full_recount(sim), f"step {i}"
        assert sim.verify().ok


def test_incremental_root_with_many_keys_rehashes_right() -> None:
    with ContractSimulator(db_path=":memory:", gas_price=0) as sim:
        sim.deploy("kv.test", KV_CONTRACT)
        for i in range(40):
            sim.call("kv.test", "set", {"key": f"k{i % 17}", "value": str(i)})
            if i % 7 == 0:
                sim.call("kv.test", "remove", {"key": f"k{(i + 3) % 17}"})
        assert_roots_right(sim)
        assert sim.verify().ok


def test_two_simulators_on_one_file_recompute_what_the_other_wrote(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with ContractSimulator(db_path=db) as a, ContractSimulator(db_path=db) as b:
        a.deploy("kv.test", KV_CONTRACT)
        for i in range(4):
            sim = a if i % 2 else b
            sim.call("kv.test", "set", {"key": f"k{i}", "value": str(i)})
            sim.call("kv.test", "set", {"key": "same", "value": str(i)})
            assert_roots_right(sim)
        assert a.block.hash == b.block.hash
        assert a.verify().ok


def test_a_rolled_back_block_does_not_leave_a_stale_root_cache() -> None:
    with ContractSimulator(db_path=":memory:", gas_price=0) as sim:
        sim.deploy("kv.test", KV_CONTRACT)
        sim.call("kv.test", "set", {"key": "a", "value": "1"})
        height = sim.height
        with pytest.raises(RuntimeError), sim.store.transaction():
            sim.store.apply_changes("kv.test", {b"a": b"rolled back"})
            sim._block([])  # sealed, and with it the root cache ...
            raise RuntimeError("... then the block's transaction fails")
        assert sim.height == height
        sim.fast_forward(1)
        assert_roots_right(sim)
        assert sim.state("kv.test")["a"] == "1"
        assert sim.verify().ok


# --- one commit per call --------------------------------------------------------------------


def test_batch_commits_its_units_together_and_keeps_them_when_a_later_one_fails(
        tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    s = SQLiteStore(db)
    other = sqlite3.connect(db)

    def seen(key: str) -> str | None:
        row = other.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    with pytest.raises(ValueError), s.batch():
        with s.transaction():
            s.set_meta("first", "1")
        assert seen("first") is None  # not committed until the batch ends
        with pytest.raises(KeyError), s.transaction():  # a unit that fails, caught
            s.set_meta("caught", "1")
            raise KeyError("unit")
        with s.snapshot():  # reads inside the batch see its units; writes are refused
            assert s.get_meta("first") == "1"
            with pytest.raises(store.StoreError):
                s.set_meta("x", "1")
        with s.transaction():
            s.set_meta("second", "1")
            raise ValueError("the last unit fails and leaves the batch")
    assert (seen("first"), seen("caught"), seen("second")) == ("1", None, None)
    with pytest.raises(store.StoreError):
        s.set_meta("outside", "1")  # outside any unit, even after a batch
    other.close()
    s.close()


def test_a_call_that_fails_to_settle_keeps_its_first_block() -> None:
    with ContractSimulator(db_path=":memory:") as sim:  # a refund block follows the call
        sim.deploy("counter.test", COUNTER)
        height = sim.height
        produce = sim._produce

        def broken(*args: object, **kwargs: object) -> object:
            raise RuntimeError("the second block fails")

        sim._produce = broken  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            sim.call("counter.test", "increment", {})
        sim._produce = produce  # type: ignore[method-assign]
        assert sim.height == height + 1  # the call's own block was kept, as before
        sim.fast_forward(1)  # the refund still runs
        assert sim.view("counter.test", "get_count").result == 1
        assert sim.verify().ok


# --- blocks by hash -------------------------------------------------------------------------


def _plan(db: sqlite3.Connection) -> str:
    rows = db.execute("EXPLAIN QUERY PLAN SELECT height FROM blocks WHERE hash = ?",
                      (bytes(32),)).fetchall()
    return " ".join(str(r[-1]) for r in rows)


def test_blocks_by_hash_is_indexed_and_older_files_get_the_index(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with ContractSimulator(db_path=db) as sim:
        sim.create_account("a.test")
        latest = sim.block
        assert "blocks_by_hash" in _plan(sim.store._db)  # type: ignore[attr-defined]
    raw = sqlite3.connect(db)
    raw.execute("DROP INDEX blocks_by_hash")  # a file made before the index
    raw.commit()
    assert "blocks_by_hash" not in _plan(raw)
    raw.close()
    with ContractSimulator(db_path=db) as sim:
        assert "blocks_by_hash" in _plan(sim.store._db)  # type: ignore[attr-defined]
        assert latest.hash is not None
        assert sim.store.block_by_hash(latest.hash) == latest
        assert sim.store.block_by_hash(bytes(32)) is None


# --- signed transactions ----------------------------------------------------------------------


def _signed_chain() -> tuple[ContractSimulator, bytes]:
    seed = bytes(32)
    key = "ed25519:" + signed.base58.b58encode(SigningKey(seed).verify_key.encode()).decode()
    sim = ContractSimulator(db_path=":memory:")
    sim.create_account("alice.test", public_key=key)
    sim.deploy("counter.test", COUNTER)
    return sim, seed


def test_a_signed_transaction_is_verified_once(monkeypatch: pytest.MonkeyPatch) -> None:
    sim, seed = _signed_chain()
    checks: list[str] = []
    real = signed._verify
    monkeypatch.setattr(signed, "_verify", lambda stx: (checks.append(stx.hash), real(stx)))
    raw = signed.sign(seed, "alice.test", 1, "counter.test", sim.block.hash or b"",
                      [FunctionCall("increment", b"{}", 0, 30 * TGAS)])
    signed.verify_signature(signed.decode_signed(raw))  # the RPC checks it on arrival
    final = sim.submit_signed(raw)
    assert checks == [final.tx_hash]  # ... and the chain does not check it again
    assert sim.view("counter.test", "get_count").result == 1
    sim.close()


def test_a_bad_signature_is_refused_every_time_and_writes_nothing() -> None:
    sim, seed = _signed_chain()
    raw = bytearray(signed.sign(seed, "alice.test", 1, "counter.test", sim.block.hash or b"",
                                [FunctionCall("increment", b"{}", 0, 30 * TGAS)]))
    raw[-1] ^= 1  # corrupt the signature
    height, history = sim.height, len(sim.store.history())
    for _ in range(2):  # a failure is not remembered as a success
        with pytest.raises(signed.InvalidTx, match="signature"):
            sim.submit_signed(bytes(raw))
    assert (sim.height, len(sim.store.history())) == (height, history)
    sim.close()


def test_a_refused_signed_transaction_writes_nothing_not_even_the_engine_record() -> None:
    sim, seed = _signed_chain()
    good = signed.sign(seed, "alice.test", 5, "counter.test", sim.block.hash or b"",
                       [FunctionCall("increment", b"{}", 0, 30 * TGAS)])
    stale = signed.sign(seed, "alice.test", 5, "counter.test", sim.block.hash or b"",
                        [FunctionCall("increment", b"{\"x\":1}", 0, 30 * TGAS)])
    sim.submit_signed(good)
    height, history = sim.height, len(sim.store.history())
    with pytest.raises(signed.InvalidTx, match="nonce"):
        sim.submit_signed(stale)
    assert (sim.height, len(sim.store.history())) == (height, history)
    assert sim.verify().ok
    sim.close()


# --- the background checkpoint ----------------------------------------------------------------


def test_the_checkpointer_copies_the_wal_and_stops_on_close(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "CHECKPOINT_EVERY", 3)
    db = tmp_path / "state.db"
    with ContractSimulator(db_path=db, gas_price=0) as sim:
        sim.deploy("counter.test", COUNTER)
        for _ in range(8):
            sim.call("counter.test", "increment", {})
        checkpointer = sim.store._checkpointer  # type: ignore[attr-defined]
        assert checkpointer is not None
        thread = checkpointer._thread
        assert thread.is_alive()
    assert not thread.is_alive()
    with ContractSimulator(db_path=db) as sim:
        assert sim.view("counter.test", "get_count").result == 8
        assert sim.verify().ok


def test_a_store_dropped_without_close_stops_its_checkpointer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "CHECKPOINT_EVERY", 1)
    s = SQLiteStore(tmp_path / "state.db")
    with s.transaction():
        s.set_meta("k", "v")
    assert s._checkpointer is not None
    thread = s._checkpointer._thread
    del s
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()
