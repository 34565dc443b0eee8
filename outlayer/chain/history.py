"""Verifiable history: re-run a chain's recorded inputs on a fresh chain and compare.

`Replayer` builds a new in-memory chain from the recorded configuration, either at genesis
or at a checkpoint (the state at the end of block N, rebuilt from `state_changes` and
accepted only if its state root equals the one block N recorded), then applies the
recorded inputs (`history`: control operations and blocks with their transactions) through
the same `ContractSimulator._apply` the live chain used, running every receipt on the real
engine. `verify` compares each block as it is made; `replay_tx` does the same for the
blocks of one transaction and traces its host calls.

In a `Divergence`, "expected" is what the database holds and "got" what re-execution
produced.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from outlayer.chain import blocks, roots
from outlayer.chain.codec import bytes_to_text
from outlayer.chain.outcomes import ExecutionOutcome
from outlayer.chain.result import Engine
from outlayer.chain.runtime import BlockReport, FunctionCallRun
from outlayer.chain.simulator import ContractSimulator, params_from_json
from outlayer.chain.store import STATE_TABLES, Block, SQLiteStore, StateChange, StateStore
from outlayer.errors import OutLayerError, UserError
from outlayer.host.engine import Limits


def chain_epoch_length(config: dict[str, Any]) -> int:
    """The epoch length a chain config fixes (configs made before it was recorded: the
    default, which is what those chains ran with)."""
    return int(config.get("epoch_length", blocks.EPOCH_LENGTH))


@dataclass(frozen=True)
class Divergence:
    """The first place where re-execution disagrees with the database."""

    height: int | None  # None: the live state after the last recorded input
    field: str
    expected: Any
    got: Any
    receipt_id: str | None = None  # the receipt (or transaction, for its conversion)
    subject: str = "receipt"  # what receipt_id names: "receipt" or "transaction"

    def message(self) -> str:
        where = "the live state" if self.height is None else f"block #{self.height}"
        receipt = f", {self.subject} {self.receipt_id}" if self.receipt_id else ""
        return (f"{where}{receipt}: {self.field}: expected {_text(self.expected)}, "
                f"got {_text(self.got)}")

    def to_json(self) -> dict[str, Any]:
        return {"height": self.height, "receipt_id": self.receipt_id,
                "subject": self.subject, "field": self.field,
                "expected": _plain(self.expected), "got": _plain(self.got),
                "message": self.message()}


@dataclass
class VerifyReport:
    from_block: int  # the first block checked (its predecessor is the starting state)
    to_block: int
    blocks: int = 0
    transactions: int = 0
    receipts: int = 0
    seconds: float = 0.0
    divergence: Divergence | None = None
    tip_hash: str | None = None
    #: e.g. the history was made with another engine build than the one replaying it
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.divergence is None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "from_block": self.from_block, "to_block": self.to_block,
                "blocks": self.blocks, "transactions": self.transactions,
                "receipts": self.receipts, "seconds": round(self.seconds, 3),
                "tip_hash": self.tip_hash, "warnings": list(self.warnings),
                "divergence": None if self.divergence is None else self.divergence.to_json()}


class _Diverged(Exception):
    def __init__(self, divergence: Divergence) -> None:
        super().__init__(divergence.message())
        self.divergence = divergence


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return bytes_to_text(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _text(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, sort_keys=True)


def _first_difference(expected: Any, got: Any, path: str) -> tuple[str, Any, Any]:
    """The path of the first (in sorted key order) place two JSON values differ."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in sorted(set(expected) | set(got)):
            if expected.get(key) != got.get(key):
                return _first_difference(expected.get(key), got.get(key), f"{path}.{key}")
    if (isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got)):
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            if e != g:
                return _first_difference(e, g, f"{path}[{i}]")
    return path, expected, got


def _row_doc(table: str, row: tuple[Any, ...] | None) -> dict[str, Any] | None:
    return None if row is None else dict(zip(STATE_TABLES[table].columns, row, strict=True))


def _row_name(table: str, row: tuple[Any, ...]) -> str:
    spec = STATE_TABLES[table]
    keys = [bytes_to_text(row[spec.columns.index(c)]) if c in spec.blobs
            else str(row[spec.columns.index(c)]) for c in spec.pk]
    return f"{table}[{', '.join(keys)}]"


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


class Replayer:
    """A fresh in-memory chain that re-applies another chain's recorded history.

    `start`: the block whose end state to begin from (None: the history's start, genesis
    for chains made with schema 4). Any block can be a checkpoint: its state is rebuilt
    from `state_changes` and must hash to that block's recorded state root.
    """

    def __init__(self, source: StateStore, *, start: int | None = None,
                 engine: Engine | None = None) -> None:
        self.source = source
        text = source.get_meta("chain_config")
        if text is None:
            raise UserError("this state file has no recorded history (open it with OutLayer "
                            "once to upgrade it)")
        self.config: dict[str, Any] = json.loads(text)
        history_start = int(source.get_meta("history_start") or 0)
        latest = source.latest_block()
        assert latest is not None
        self.warnings: list[str] = []
        self.start = history_start if start is None else start
        if not history_start <= self.start <= latest.height:
            raise UserError(f"block {self.start} cannot be a starting point: the history "
                            f"covers blocks {history_start} to {latest.height}")
        inputs = source.history(0, self.start)
        run = {k: self.config[k] for k in ("execution_mode", "params", "memory_bytes")}
        block_time = int(self.config["block_time_ns"])
        for entry in inputs:
            if entry.kind == "config":
                run = entry.body
            elif entry.kind == "set_block_time":
                block_time = int(entry.body["block_time_ns"])
        kwargs: dict[str, Any] = {
            "execution_mode": run["execution_mode"], "params": params_from_json(run["params"]),
            "limits": Limits(memory_bytes=int(run["memory_bytes"])), "engine": engine}
        if self.start == 0:
            self.sim = ContractSimulator(
                db_path=":memory:", chain_seed=bytes.fromhex(self.config["chain_seed"]),
                genesis_time_ns=int(self.config["genesis_time_ns"]),
                block_time_ns=int(self.config["block_time_ns"]),
                gas_price=int(self.config["gas_price"]),
                strict_receipt_delays=bool(self.config["strict_receipt_delays"]),
                epoch_length=chain_epoch_length(self.config), **kwargs)
        else:
            store = self._checkpoint(run, block_time)
            self.sim = ContractSimulator(store=store, **kwargs)

    def _checkpoint(self, run: dict[str, Any], block_time: int) -> SQLiteStore:
        """A store holding the state at the end of block `start`, with that block sealed."""
        source, height = self.source, self.start
        block = source.get_block(height)
        assert block is not None and block.state_root is not None
        store = SQLiteStore(":memory:")
        config = self.config
        with store.transaction():
            for key, value in (("chain_seed", config["chain_seed"]),
                               ("genesis_time_ns", str(config["genesis_time_ns"])),
                               ("block_time_ns", str(block_time)),
                               ("gas_price", str(config["gas_price"])),
                               ("epoch_length", str(chain_epoch_length(config))),
                               ("strict_receipt_delays",
                                "1" if config["strict_receipt_delays"] else "0"),
                               ("tx_nonce", "0"),
                               ("chain_config", json.dumps(config, sort_keys=True)),
                               ("run_config", json.dumps(run, sort_keys=True)),
                               ("history_start", str(height))):
                store.set_meta(key, value)
            store.add_block(Block(height, block.timestamp_ns, block.random_seed))
            tables, sequences = source.state_as_of(height)
            store.restore(tables, sequences)
            rebuilt = roots.state_root(store, store.account_ids())
            if rebuilt != block.state_root:
                raise _Diverged(Divergence(height, "state_root (checkpoint rebuilt from "
                                           "state_changes)", _hex(block.state_root),
                                           _hex(rebuilt)))
            store.seal_block(height, block.state_root, block.outcomes_root or b"",
                             block.inputs_root or b"", block.hash or b"")
        return store

    # --- running ----------------------------------------------------------------------

    def run(self, to_height: int | None = None, *, report: VerifyReport | None = None,
            on_block: Callable[[BlockReport], None] | None = None) -> None:
        """Apply the recorded inputs after `start` (up to block `to_height`), checking each
        block against the record; raises `_Diverged` at the first difference."""
        entries = self.source.history(self.start + 1, to_height)
        for entry in entries:
            if entry.kind == "engine":
                self._check_engine(entry.body["engine_id"])
            try:
                with self.sim.store.transaction():
                    made = self.sim._apply(entry.kind, entry.body)
            except (OutLayerError, KeyError, TypeError, ValueError) as exc:
                why = (f"{exc.kind}: {exc.message}" if isinstance(exc, OutLayerError)
                       else f"{type(exc).__name__}: {exc}")
                raise _Diverged(Divergence(entry.height, f"input #{entry.seq} ({entry.kind})",
                                           "it applies", why)) from None
            if made is None:
                continue
            if made.block.height != entry.height:
                raise _Diverged(Divergence(entry.height, "block height", entry.height,
                                           made.block.height))
            self.check_block(entry.height)
            if report is not None:
                report.blocks += 1
                report.to_block = entry.height
                outcomes = self.sim.store.outcomes_at(entry.height)
                report.transactions += sum(o["kind"] == "transaction" for o in outcomes)
                report.receipts += sum(o["kind"] == "receipt" for o in outcomes)
            if on_block is not None:
                on_block(made)

    def _check_engine(self, recorded: str) -> None:
        mine = getattr(self.sim._engine_now(), "engine_id", None)
        if isinstance(mine, str) and mine != recorded:
            note = (f"the history was made with engine {recorded[:16]}, replayed with "
                    f"{mine[:16]} (another guest build): gas may differ")
            if note not in self.warnings:
                self.warnings.append(note)

    def check_block(self, height: int) -> None:
        expected, got = self.source.get_block(height), self.sim.store.get_block(height)
        assert got is not None
        if expected is None:
            raise _Diverged(Divergence(height, "block", "no such block", "a block"))
        for name in ("timestamp_ns", "random_seed"):
            if getattr(expected, name) != getattr(got, name):
                raise _Diverged(Divergence(height, name, getattr(expected, name),
                                           getattr(got, name)))
        self._check_outcomes(height)
        self._check_changes(height, self.source.state_changes(height),
                            self.sim.store.state_changes(height))
        for name in ("inputs_root", "outcomes_root", "state_root", "hash"):
            want, have = getattr(expected, name), getattr(got, name)
            if want != have:
                raise _Diverged(Divergence(height, name, _hex(want), _hex(have)))

    def _check_outcomes(self, height: int) -> None:
        recorded = self.source.outcomes_at(height)
        replayed = self.sim.store.outcomes_at(height)
        for i in range(max(len(recorded), len(replayed))):
            want = recorded[i] if i < len(recorded) else None
            have = replayed[i] if i < len(replayed) else None
            if want == have:
                continue
            doc = want or have or {}
            rid, subject = doc.get("id"), str(doc.get("kind", "receipt"))
            if want is None or have is None or want.get("id") != have.get("id"):
                raise _Diverged(Divergence(height, f"outcome #{i} (execution order)",
                                           want and want.get("id"), have and have.get("id"),
                                           rid, subject))
            path, e, g = _first_difference(want, have, "outcome")
            raise _Diverged(Divergence(height, path, e, g, rid, subject))

    @staticmethod
    def _check_changes(height: int, recorded: list[StateChange],
                       replayed: list[StateChange]) -> None:
        for i in range(max(len(recorded), len(replayed))):
            want = recorded[i] if i < len(recorded) else None
            have = replayed[i] if i < len(replayed) else None
            if (None if want is None else (want.table, want.pk, want.row)) == (
                    None if have is None else (have.table, have.pk, have.row)):
                continue
            change = want or have
            assert change is not None
            raise _Diverged(Divergence(height, f"state change #{i} {_pk_name(change)}",
                                       _change_doc(want), _change_doc(have)))

    def check_live_state(self) -> None:
        """After the last input: the live tables must be exactly the replayed ones."""
        source, sim = self.source, self.sim.store
        latest_src, latest_sim = source.latest_block(), sim.latest_block()
        assert latest_src is not None and latest_sim is not None
        if latest_src.height != latest_sim.height:
            raise _Diverged(Divergence(latest_sim.height + 1, "block",
                                       f"block #{latest_src.height} is the latest",
                                       "no recorded inputs for it"))
        for table in STATE_TABLES:
            stored = {_row_name(table, r): r for r in source.table_rows(table)}
            replayed = {_row_name(table, r): r for r in sim.table_rows(table)}
            for name in sorted(set(stored) | set(replayed)):
                if stored.get(name) != replayed.get(name):
                    raise _Diverged(Divergence(None, name, _row_doc(table, stored.get(name)),
                                               _row_doc(table, replayed.get(name))))
        for key in ("next_timestamp_ns", "block_time_ns"):
            if (source.get_meta(key) or "") != (sim.get_meta(key) or ""):
                raise _Diverged(Divergence(None, f"meta {key}", source.get_meta(key),
                                           sim.get_meta(key)))

    def close(self) -> None:
        self.sim.close()


def _pk_name(change: StateChange) -> str:
    spec = STATE_TABLES.get(change.table)
    values = json.loads(change.pk)
    if spec is None:
        return f"{change.table}{values}"
    shown = [bytes_to_text(bytes.fromhex(v)) if c in spec.blobs else str(v)
             for c, v in zip(spec.pk, values, strict=True)]
    return f"{change.table}[{', '.join(shown)}]"


def _change_doc(change: StateChange | None) -> Any:
    if change is None:
        return "(no change)"
    if change.row is None:
        return f"{_pk_name(change)} deleted"
    if change.table in STATE_TABLES:
        return _row_doc(change.table, change.row)
    return list(change.row)


def verify(source: StateStore, *, from_block: int | None = None,
           engine: Engine | None = None) -> VerifyReport:
    """Replay the history (from genesis, or with the state at the end of block
    from_block - 1 as a checkpoint) and check every block; then the live state."""
    started = time.perf_counter()
    start = None if not from_block else from_block - 1
    with source.snapshot():
        history_start = int(source.get_meta("history_start") or 0)
        first = (history_start if start is None else start) + 1
        report = VerifyReport(from_block=0 if first == 1 else first, to_block=first - 1)
        replayer = None
        latest = source.latest_block()
        if from_block and latest is not None and not (
                history_start < from_block <= latest.height):
            raise UserError(f"--from-block {from_block} is outside the history: verify can "
                            f"start at blocks {history_start + 1} to {latest.height}")
        try:
            replayer = Replayer(source, start=start, engine=engine)
            if replayer.start == 0:
                replayer.check_block(0)
                report.blocks += 1
            replayer.run(report=report)
            replayer.check_live_state()
            tip = source.latest_block()
            report.tip_hash = None if tip is None or tip.hash is None else tip.hash.hex()
        except _Diverged as exc:
            report.divergence = exc.divergence
        finally:
            if replayer is not None:
                report.warnings = replayer.warnings
                replayer.close()
    report.seconds = time.perf_counter() - started
    return report


# --- replaying one transaction -------------------------------------------------------------


@dataclass
class ReceiptReplay:
    """One receipt of the transaction, re-executed: its outcome, the recorded one, and the
    engine runs (with their host-call traces)."""

    outcome: ExecutionOutcome
    recorded: ExecutionOutcome | None
    runs: list[FunctionCallRun] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.recorded is not None and (self.recorded.to_record()
                                              == self.outcome.to_record())


@dataclass
class TxReplay:
    tx_hash: str
    from_block: int
    to_block: int
    receipts: list[ReceiptReplay]
    divergence: Divergence | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "tx_hash": self.tx_hash, "from_block": self.from_block, "to_block": self.to_block,
            "matches_record": self.divergence is None, "warnings": list(self.warnings),
            "divergence": None if self.divergence is None else self.divergence.to_json(),
            "seconds": round(self.seconds, 3),
            "receipts": [{
                "receipt_id": r.outcome.id, "block_height": r.outcome.block_height,
                "executor_id": r.outcome.executor_id, "matches_record": r.matches,
                "outcome": r.outcome.to_json(),
                "calls": [{
                    "method": run.method, "action_index": run.action_index,
                    "gas_burnt": run.outcome.burnt_gas, "gas_used": run.outcome.used_gas,
                    "profile": {k: list(v) for k, v in dict(run.outcome.profile).items()},
                    "host_calls": [{"syscall": name, "args": list(args), "gas_before": before,
                                    "gas_after": after, "gas": after - before}
                                   for name, args, before, after in run.trace or []],
                } for run in r.runs],
            } for r in self.receipts],
        }


def replay_tx(source: StateStore, tx_hash: str, *, engine: Engine | None = None) -> TxReplay:
    """Re-execute a past transaction's receipts on the state as of just before its block
    (rebuilt from the history), tracing every host call of its function calls. Other
    transactions' receipts in those blocks run too (untraced): they shape the state."""
    started = time.perf_counter()
    with source.snapshot():
        records = source.outcomes(tx_hash)
        if not records:
            raise UserError(f"no transaction {tx_hash!r} on this chain")
        heights = [int(r["block_height"]) for r in records]
        first, last = min(heights), max(heights)
        history_start = int(source.get_meta("history_start") or 0)
        if first - 1 < history_start:
            raise UserError(f"transaction {tx_hash} ran in block {first}, before the recorded "
                            f"history starts (block {history_start})")
        recorded = {r["id"]: ExecutionOutcome.from_record(r) for r in records}
        runs: dict[str, list[FunctionCallRun]] = {}
        outcomes: list[ExecutionOutcome] = []

        def collect(made: BlockReport) -> None:
            for outcome in made.outcomes:
                if outcome.tx_hash == tx_hash and outcome.kind == "receipt":
                    outcomes.append(outcome)
                    runs[outcome.id] = made.runs.get(outcome.id, [])

        replay = TxReplay(tx_hash, first, last, [])
        replayer = None
        try:
            replayer = Replayer(source, start=first - 1, engine=engine)
            replayer.sim._runtime.tracer = lambda r: [] if r.tx_hash == tx_hash else None
            replayer.run(last, on_block=collect)
        except _Diverged as exc:
            replay.divergence = exc.divergence
        finally:
            if replayer is not None:
                replay.warnings = replayer.warnings
                replayer.close()
    replay.receipts = [ReceiptReplay(o, recorded.get(o.id), runs.get(o.id, []))
                       for o in outcomes]
    replay.seconds = time.perf_counter() - started
    return replay


__all__ = ["Divergence", "ReceiptReplay", "Replayer", "TxReplay", "VerifyReport",
           "replay_tx", "verify"]
