"""Verifiable history: block roots, the recorded inputs, verify, time travel, replay."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from outlayer.chain import actions as act
from outlayer.chain import roots
from outlayer.chain.history import Divergence, Replayer, verify
from outlayer.chain.runtime import NEAR_GAS_PRICE
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import _SCHEMA, _SCHEMA_V3, SQLiteStore, StoreError
from outlayer.cli import app
from outlayer.digest import _plain
from outlayer.errors import AccountNotFound, UserError
from outlayer.vm.receipts import PromiseResult

from .conftest import EXAMPLES
from .fake_engine import FakeCall, FakeEngine

COUNTER = (EXAMPLES / "counter.js").read_text()


def _h(tag: str, *fields: bytes) -> bytes:
    """The documented tagged hash, written out independently of roots.py."""
    data = len(tag).to_bytes(4, "little") + tag.encode()
    for f in fields:
        data += len(f).to_bytes(4, "little") + f
    return hashlib.sha256(data).digest()


# --- the construction ----------------------------------------------------------------------


def test_tagged_hash_and_merkle_rules_are_the_documented_ones() -> None:
    a, b, c = (hashlib.sha256(x).digest() for x in (b"a", b"b", b"c"))
    assert roots.tagged_hash("t", b"x", b"") == _h("t", b"x", b"")
    assert roots.merkle_root([]) == _h("outlayer/merkle/root", bytes(8), b"")
    assert roots.merkle_root([a]) == _h("outlayer/merkle/root", (1).to_bytes(8, "little"), a)
    ab = _h("outlayer/merkle/node", a, b)
    # odd level: c moves up unchanged
    top = _h("outlayer/merkle/node", ab, c)
    assert roots.merkle_root([a, b, c]) == _h("outlayer/merkle/root",
                                              (3).to_bytes(8, "little"), top)
    # the leaf count is committed: [ab, c] is not [a, b, c]
    assert roots.merkle_root([ab, c]) != roots.merkle_root([a, b, c])


def test_every_block_is_sealed_and_chained(kv: ContractSimulator) -> None:
    kv.call("kv.test", "set", {"key": "a", "value": "1"})
    kv.fast_forward(2)
    config = roots.config_hash(kv.chain_config())
    prev = None
    for block in kv.store.blocks():
        assert block.state_root and block.outcomes_root and block.inputs_root and block.hash
        expected_prev = config if prev is None else prev.hash
        assert block.hash == roots.block_hash(
            block.height, block.timestamp_ns, block.random_seed, expected_prev,
            block.state_root, block.outcomes_root, block.inputs_root)
        prev = block
    empty = roots.merkle_root([])
    assert kv.store.get_block(kv.height).outcomes_root == empty  # type: ignore[union-attr]


def test_state_root_is_cached_per_account_but_equals_a_full_recount(
        kv: ContractSimulator) -> None:
    for i in range(5):
        kv.call("kv.test", "set", {"key": f"k{i}", "value": str(i)})
    kv.call("kv.test", "remove", {"key": "k1"})
    kv.patch_state("kv.test", "raw", b"\x00\xff")
    kv.fast_forward(1)
    latest = kv.block
    assert latest.state_root == roots.state_root(kv.store)  # None: recount, no cache


def test_state_root_covers_every_account_field_and_storage(tmp_path: Path) -> None:
    def root_after(mutate: str | None) -> bytes:
        with ContractSimulator(db_path=":memory:") as sim:
            sim.create_account("a.test")
            sim.patch_state("a.test", "k", "v")
            if mutate is not None:
                sim.store._db.execute(mutate)  # type: ignore[attr-defined]
            return roots.state_root(sim.store)

    base = root_after(None)
    for change in ("UPDATE accounts SET balance = '1' WHERE account_id = 'a.test'",
                   "UPDATE accounts SET storage_usage = 1 WHERE account_id = 'a.test'",
                   "UPDATE accounts SET realm = '{\"allow_date_now\": true}'",
                   "UPDATE state SET value = x'00'",
                   "INSERT INTO access_keys VALUES ('a.test', 'ed25519:x', 0, '\"FullAccess\"')",
                   "INSERT INTO stake_proposals VALUES ('a.test', '1', 'ed25519:x')"):
        assert root_after(change) != base, change


def test_history_is_append_only(kv: ContractSimulator) -> None:
    kv.call("kv.test", "set", {"key": "a", "value": "1"})
    db = kv.store._db  # type: ignore[attr-defined]
    for sql in ("UPDATE blocks SET timestamp_ns = 5 WHERE height = 1",
                "DELETE FROM blocks WHERE height = 1", "DELETE FROM history",
                "UPDATE state_changes SET row = NULL", "UPDATE outcomes SET body = '{}'"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)


# --- verify ------------------------------------------------------------------------------


@pytest.fixture
def counter_db(tmp_path: Path) -> Iterator[Path]:
    """A state file at NEAR's gas price (the default): counter calls, control operations, a
    failure, refunds. Each call takes two blocks (its receipt, then the signer's gas refund):
    the counter is 1 at block 1, 2 at block 3, 3 at block 5, patched to 41 before block 7."""
    path = tmp_path / "state.db"
    with ContractSimulator(db_path=path) as sim:
        assert sim.gas_price == NEAR_GAS_PRICE
        sim.deploy("counter.test", COUNTER)
        for _ in range(3):
            sim.call("counter.test", "increment")
        sim.set_timestamp(sim.block.timestamp_ns + 10**12)
        sim.set_block_time(2 * 10**9)
        sim.patch_state("counter.test", "count", "41")
        sim.fast_forward(2)
        sim.call("counter.test", "increment", signer_id="alice.test")
        sim.call("counter.test", "no_such_method", deposit=7)
        sim.create_account("idle.test")
    yield path


def _copy(src: Path, dst: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        if Path(str(src) + suffix).exists():
            shutil.copy(str(src) + suffix, str(dst) + suffix)
    return dst


def _tamper(path: Path, *sql: str) -> None:
    db = sqlite3.connect(path)
    for statement in sql:
        db.execute(statement)
    db.commit()
    db.close()


def test_an_untampered_history_verifies(counter_db: Path) -> None:
    store = SQLiteStore(counter_db)
    report = verify(store)
    assert report.ok, report.divergence
    assert report.from_block == 0 and report.to_block == store.latest_block().height  # type: ignore[union-attr]
    assert report.transactions == 5 and report.receipts >= 5
    assert report.tip_hash == store.latest_block().hash.hex()  # type: ignore[union-attr]
    assert report.warnings == []
    kinds = [e.kind for e in store.history()]
    assert {"create_account", "deploy", "set_timestamp", "set_block_time", "patch_state",
            "engine", "block"} <= set(kinds)


def test_a_changed_state_value_is_named(counter_db: Path, tmp_path: Path) -> None:
    path = _copy(counter_db, tmp_path / "tampered.db")
    _tamper(path, "UPDATE state SET value = CAST('7' AS BLOB) "
                  "WHERE key = CAST('count' AS BLOB)")
    divergence = verify(SQLiteStore(path)).divergence
    assert divergence == Divergence(
        None, "state[counter.test, count]",
        {"account_id": "counter.test", "key": b"count", "value": b"7"},
        {"account_id": "counter.test", "key": b"count", "value": b"42"})
    assert divergence.message() == (
        'the live state: state[counter.test, count]: expected {"account_id": '
        '"counter.test", "key": "count", "value": "7"}, got {"account_id": "counter.test", '
        '"key": "count", "value": "42"}')


def test_a_changed_outcome_is_named(counter_db: Path, tmp_path: Path) -> None:
    path = _copy(counter_db, tmp_path / "tampered.db")
    db = sqlite3.connect(path)
    seq, body = db.execute("SELECT seq, body FROM outcomes WHERE kind = 'receipt' AND body "
                           "LIKE '%incremented to 2%' ORDER BY seq").fetchone()
    doc = json.loads(body)
    doc["logs"] = ["Counter incremented to 99"]
    db.execute("DROP TRIGGER outcomes_append_only_update")
    db.execute("UPDATE outcomes SET body = ? WHERE seq = ?", (json.dumps(doc), seq))
    db.commit()
    db.close()
    divergence = verify(SQLiteStore(path)).divergence
    assert divergence is not None
    assert (divergence.height, divergence.receipt_id, divergence.field) == (
        doc["block_height"], doc["id"], "outcome.logs[0]")
    assert (divergence.expected, divergence.got) == ("Counter incremented to 99",
                                                     "Counter incremented to 2")


def test_a_changed_input_or_state_log_is_caught(counter_db: Path, tmp_path: Path) -> None:
    path = _copy(counter_db, tmp_path / "inputs.db")
    _tamper(path, "DROP TRIGGER history_append_only_update",  # "41" -> "40", in hex
            "UPDATE history SET body = replace(body, '3431', '3430') "
            "WHERE kind = 'patch_state'")
    divergence = verify(SQLiteStore(path)).divergence
    assert divergence is not None and divergence.height == 7  # patched before block 7
    assert divergence.field == "state change #0 state[counter.test, count]"
    assert divergence.expected["value"] == b"41" and divergence.got["value"] == b"40"

    path = _copy(counter_db, tmp_path / "log.db")
    _tamper(path, "DROP TRIGGER state_changes_append_only_update",
            "UPDATE state_changes SET row = replace(row, '\"32\"', '\"39\"') "
            "WHERE tbl = 'state' AND height = 3")
    divergence = verify(SQLiteStore(path)).divergence
    assert divergence is not None and divergence.height == 3
    # change #0 of block 3 is the signer paying for the transaction
    assert divergence.field == "state change #1 state[counter.test, count]"


def test_verify_from_a_checkpoint(counter_db: Path, tmp_path: Path) -> None:
    store = SQLiteStore(counter_db)
    latest = store.latest_block().height  # type: ignore[union-attr]
    report = verify(store, from_block=7)
    assert report.ok and report.from_block == 7 and report.blocks == latest - 6
    with pytest.raises(UserError, match="cannot be a starting point"):
        Replayer(store, start=latest + 1)
    with pytest.raises(UserError, match=f"--from-block {latest + 5} is outside the history: "
                                        f"verify can start at blocks 1 to {latest}"):
        verify(store, from_block=latest + 5)  # the message names the block asked for
    # the checkpoint is rebuilt from state_changes and must hash to the recorded root
    path = _copy(counter_db, tmp_path / "checkpoint.db")
    _tamper(path, "DROP TRIGGER state_changes_append_only_update",
            "UPDATE state_changes SET row = replace(row, '\"33\"', '\"38\"') "
            "WHERE tbl = 'state' AND height = 5")
    divergence = verify(SQLiteStore(path), from_block=7).divergence
    assert divergence is not None and divergence.height == 6
    assert divergence.field.startswith("state_root (checkpoint")


def test_cross_contract_yields_and_refunds_verify() -> None:
    engine = FakeEngine()

    def start(c: FakeCall) -> None:
        c.then(c.call("b.test", "work", deposit=3), "done")
        c.yield_create("resumed")

    def work(c: FakeCall) -> int:
        c.write("n", "1")
        return 42

    def done(c: FakeCall) -> str:
        return "finished"

    def resumed(c: FakeCall) -> str:
        return "timed out" if c.results[0].status == "failed" else "resumed"

    with ContractSimulator(db_path=":memory:", engine=engine,
                           gas_price=NEAR_GAS_PRICE) as sim:
        sim.deploy("a.test", engine.contract("a", start=start, done=done, resumed=resumed))
        sim.deploy("b.test", engine.contract("b", work=work))
        sim.call("a.test", "start", deposit=10)
        sim.fast_forward(205)  # the yield times out
        assert sim.pending() == {"queued": [], "postponed": [], "yields": []}
        assert sim.verify().ok
        report = sim.verify(from_block=5)  # checkpoint with receipts in flight
        assert report.ok, report.divergence


AWAITER = """
const GAS = 10_000_000_000_000n;
export async function twice() {
  const a = await near.promiseCreate('callee.test', 'echo', { v: 20 }, 0, GAS);
  near.log(`got ${a}`);
  const b = await near.promiseCreate('callee.test', 'echo', { v: a + 1 }, 0, GAS);
  near.storageWrite('sum', String(a + b));
  return a + b;
}
"""
ECHO = "export function echo({ v }) { near.log('echo ' + v); return v; }"


def test_calls_suspended_at_an_await_are_state(tmp_path: Path) -> None:
    """A suspension (the guest memory of a call waiting at an await) is in the state root
    and in checkpoints: verifying from a block where it waits, and replaying the
    transaction across its awaits, both work; changing it is named."""
    path = tmp_path / "await.db"
    with ContractSimulator(db_path=path) as sim:
        sim.deploy("callee.test", ECHO)
        sim.deploy("caller.test", AWAITER)
        start = sim.height + 1
        sim.submit("test.near", "caller.test",
                   [act.function_call("twice", {}, gas="300T")])
        (waiting,) = sim.store.suspensions()
        suspended_root = sim.block.state_root
        sim.fast_forward(8)
        assert sim.state("caller.test") == {"sum": "41"}
        assert sim.store.suspensions() == []
        assert sim.verify().ok
        report = sim.verify(from_block=start + 1)  # the checkpoint holds the suspension
        assert report.ok, report.divergence
        tx = sim.store.outcomes_at(start)[0]["id"]
        replay = sim.replay_tx(tx)
        assert replay.divergence is None and all(r.matches for r in replay.receipts)
        traced = [run.method for r in replay.receipts for run in r.runs]
        assert traced.count("twice") == 1 and traced.count("echo") == 2
        assert traced.count("__ol_resume") == 2
    store = SQLiteStore(path)
    tables, _ = store.state_as_of(start)
    assert [row[0] for row in tables["suspensions"]] == [waiting[0]]
    assert store.get_block(start).state_root == suspended_root  # type: ignore[union-attr]
    store.close()
    tampered = _copy(path, tmp_path / "tampered.db")
    _tamper(tampered, "DROP TRIGGER state_changes_append_only_update",
            f"UPDATE state_changes SET row = NULL WHERE tbl = 'suspensions' "
            f"AND height = {start}")
    divergence = verify(SQLiteStore(tampered), from_block=start + 1).divergence
    assert divergence is not None and divergence.height == start
    assert divergence.field.startswith("state_root (checkpoint")


def test_a_history_made_by_another_engine_build_warns(kv: ContractSimulator) -> None:
    kv.call("kv.test", "set", {"key": "a", "value": "1"})
    with kv.store.transaction():
        kv._apply("engine", {"engine_id": "0" * 64})
    kv.call("kv.test", "set", {"key": "a", "value": "2"})
    report = kv.verify()
    assert report.ok
    assert report.warnings and "another guest build" in report.warnings[0]


def test_same_inputs_same_tip_hash_in_another_process(tmp_path: Path) -> None:
    script = f"""
import sys
from outlayer.chain.simulator import ContractSimulator
with ContractSimulator(db_path=sys.argv[1]) as sim:
    sim.deploy("counter.test", {COUNTER!r})
    for _ in range(3):
        sim.call("counter.test", "increment")
    print(sim.block.hash.hex())
"""
    hashes = [subprocess.run([sys.executable, "-c", script, str(tmp_path / f"{i}.db")],
                             capture_output=True, text=True, check=True).stdout.strip()
              for i in range(2)]
    with ContractSimulator(db_path=":memory:") as sim:
        sim.deploy("counter.test", COUNTER)
        for _ in range(3):
            sim.call("counter.test", "increment")
        assert hashes == [sim.block.hash.hex()] * 2  # type: ignore[union-attr]


# --- time travel and replay ----------------------------------------------------------------


def test_state_and_account_at_a_block(counter_db: Path) -> None:
    with ContractSimulator(db_path=counter_db) as sim:
        # the deploy (between blocks 0 and 1) belongs to block 1, as the first call does
        with pytest.raises(AccountNotFound, match="did not exist at the end of block 0"):
            sim.state_at("counter.test", 0)
        assert sim.state_at("counter.test", 1) == {"count": "1"}
        assert sim.state_at("counter.test", 2) == {"count": "1"}  # block 2: the gas refund
        assert sim.state_at("counter.test", 3) == {"count": "2"}
        assert sim.state_at("counter.test", 5) == {"count": "3"}
        assert sim.state_at("counter.test", 7) == {"count": "41"}  # patched before block 7
        assert sim.state_at("counter.test", sim.height) == sim.state("counter.test")
        assert sim.account_at("counter.test", 1)["code_hash"] is not None
        with pytest.raises(AccountNotFound, match="did not exist at the end of block 8"):
            sim.state_at("alice.test", 8)
        with pytest.raises(UserError, match="outside the recorded history"):
            sim.state_at("counter.test", sim.height + 1)


def test_replay_traces_every_host_call(counter_db: Path) -> None:
    with ContractSimulator(db_path=counter_db) as sim:
        tx = [t for t in sim.transactions("counter.test") if t["kind"] == "call"][1]
        replay = sim.replay_tx(tx["tx_hash"])
    assert replay.divergence is None
    receipt, refund = replay.receipts  # the call, then the signer's gas refund
    assert receipt.matches and receipt.outcome.logs == ["Counter incremented to 2"]
    assert refund.matches and refund.outcome.receipt_kind == "refund"
    assert receipt.outcome.tokens_burnt == receipt.outcome.gas_burnt * NEAR_GAS_PRICE
    (run,) = receipt.runs
    trace = run.trace or []
    names = [name for name, _args, _before, _after in trace]
    assert names[0] == "input" and names[-1] == "value_return" and "storage_write" in names
    gas = [g for _n, _a, before, after in trace for g in (before, after)]
    assert gas == sorted(gas) and gas[-1] <= run.outcome.burnt_gas
    doc = replay.to_json()
    assert doc["matches_record"] and doc["receipts"][0]["calls"][0]["host_calls"][0][
        "syscall"] == "input"
    with pytest.raises(UserError, match="no transaction"):
        ContractSimulator(db_path=counter_db).replay_tx("nope")


def test_patch_state_updates_storage_usage(kv: ContractSimulator) -> None:
    before = kv.account("kv.test")["storage_usage"]
    kv.patch_state("kv.test", "key", "value")
    assert kv.account("kv.test")["storage_usage"] == before + 3 + 5 + 40
    kv.patch_state("kv.test", "key", None)
    assert kv.account("kv.test")["storage_usage"] == before
    assert kv.state("kv.test") == {}
    with pytest.raises(AccountNotFound):
        kv.patch_state("nobody.test", "k", "v")


def test_schema_3_files_start_their_history_at_the_latest_block(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    db = sqlite3.connect(path)
    for statement in (_SCHEMA + _SCHEMA_V3).split(";"):
        if statement.strip():
            db.execute(statement)
    db.executescript(
        "INSERT INTO schema_version VALUES (3);"
        "INSERT INTO meta VALUES ('chain_seed', '6f75746c61796572'), "
        "('genesis_time_ns', '1700000000000000000'), ('block_time_ns', '1000000000'), "
        "('tx_nonce', '0'), ('gas_price', '0'), ('strict_receipt_delays', '0');"
        "INSERT INTO blocks VALUES (0, 1700000000000000000, x'00'), "
        "(1, 1700000001000000000, x'01');"
        "INSERT INTO accounts VALUES ('old.test', '5', '0', NULL, 182, 0, NULL, '{}');"
        "INSERT INTO state VALUES ('old.test', CAST('k' AS BLOB), CAST('v' AS BLOB));")
    db.commit()
    db.close()
    with ContractSimulator(db_path=path) as sim:
        assert sim.history_start == 1 and sim.block.state_root is not None
        assert sim.state_at("old.test", 1) == {"k": "v"}
        with pytest.raises(UserError, match="outside the recorded history"):
            sim.state_at("old.test", 0)
        sim.patch_state("old.test", "k", "w")
        sim.fast_forward(1)
        report = sim.verify()
        assert report.ok and report.from_block == 2


def test_store_errors_are_clear() -> None:
    store = SQLiteStore()
    with pytest.raises(StoreError), store.transaction():
        store.seal_block(7, b"", b"", b"", b"")


def test_digest_has_a_canonical_form_for_promise_results() -> None:
    assert _plain((PromiseResult.successful(b"\x01"), PromiseResult.failed())) == [
        {"status": "successful", "data": "01"}, {"status": "failed", "data": ""}]


# --- CLI -----------------------------------------------------------------------------------


def _cli(db: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["--db", str(db), *args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout


def test_cli_verify_state_at_block_replay_and_block(counter_db: Path, tmp_path: Path
                                                    ) -> None:
    assert "✓ verified" in _cli(counter_db, "verify")
    payload = json.loads(_cli(counter_db, "verify", "--from-block", "3", "--json"))
    assert payload["status"] == "success" and payload["result"]["from_block"] == 3
    at = json.loads(_cli(counter_db, "state", "counter.test", "--at-block", "3", "--json"))
    assert at["result"] == {"count": "2"} and at["block_height"] == 3
    assert "at block #3" in _cli(counter_db, "state", "counter.test", "--at-block", "3")
    account = json.loads(_cli(counter_db, "account", "counter.test", "--at-block", "1",
                              "--json"))
    assert account["result"]["account_id"] == "counter.test"
    _cli(counter_db, "account", "counter.test", "--at-block", "0", code=2)  # not made yet
    with ContractSimulator(db_path=counter_db) as sim:
        calls = [t for t in sim.transactions("counter.test") if t["kind"] == "call"]
    tx = json.loads(_cli(counter_db, "tx", calls[0]["tx_hash"], "--json"))
    text = _cli(counter_db, "replay", tx["tx_hash"])
    assert "storage_write" in text and "matches the record" in text
    replayed = json.loads(_cli(counter_db, "replay", tx["tx_hash"], "--json"))
    assert replayed["result"]["matches_record"] is True
    block = json.loads(_cli(counter_db, "block", "2", "--json"))["result"]
    assert block["height"] == 2 and len(block["state_root"]) == 64
    assert "state root" in _cli(counter_db, "block")

    _cli(counter_db, "patch-state", "counter.test", "count", "5")
    assert json.loads(_cli(counter_db, "state", "counter.test", "--json"))["result"] == {
        "count": "5"}
    _cli(counter_db, "patch-state", "counter.test", "count", code=2)  # no value, no --remove
    assert "✓ verified" in _cli(counter_db, "verify")

    path = _copy(counter_db, tmp_path / "tampered.db")
    _tamper(path, "UPDATE accounts SET balance = '1' WHERE account_id = 'idle.test'")
    failed = json.loads(_cli(path, "verify", "--json", code=1))
    assert failed["status"] == "failure" and failed["error"]["kind"] == "Divergence"
    assert failed["result"]["divergence"]["field"] == "accounts[idle.test]"
    assert "✗ divergence" in _cli(path, "verify", code=1)
