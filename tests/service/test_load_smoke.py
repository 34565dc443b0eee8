"""The load benchmark (benchmarks/bench_service_load.py) at small scale: a live node, a few
concurrent clients, every correctness check passing; and each check failing when the data
it judges is wrong (a lost, duplicated or reordered transaction, a wrong counter)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_service_load.py"
CHECKS = {"no errors", "no duplicated hashes", "tx finds every hash, succeeded",
          "contract state agrees", "history: each tx exactly once",
          "state root = serial replay"}


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_service_load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    workdir = tmp_path_factory.mktemp("load")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = bench.main(["--clients", "5", "--seconds", "3", "--json",
                             "--workdir", str(workdir)])
    report = json.loads(buffer.getvalue())
    assert status == (0 if report["ok"] else 1)
    return report, workdir


def test_small_load_passes_every_check(small_run):
    report, _ = small_run
    failed = [c for c in report["checks"] if not c["ok"]]
    assert not failed, failed
    assert {c["name"] for c in report["checks"]} == CHECKS
    assert report["clients"] == 5
    assert report["succeeded"] == report["sent"] > 0 and report["errors"] == 0
    lat = report["latency_ms"]
    assert 0 < lat["p50"] <= lat["p99"] <= lat["max"]


def _swappable(db: Path, committed: list[tuple[str, bytes]]) -> int:
    """An index k of two neighbouring calls by different signers where call k+1 names a
    block made before call k: swapping them leaves both valid on the replayed chain."""
    store = bench.open_store(db)
    try:
        heights = {e.body["tx_hash"]: e.height for e in store.history()
                   if e.kind == "signed_tx"}
        txs = [bench.signed.decode_signed(raw) for _, raw in committed]
        for k in range(1, len(txs) - 1):
            named = store.block_by_hash(txs[k + 1].block_hash)
            if txs[k].signer_id != txs[k + 1].signer_id and named is not None \
                    and named.height < heights[txs[k].hash]:
                return k
    finally:
        store.close()
    raise AssertionError("no swappable pair in the run")


def test_replay_detects_a_reordered_or_missing_transaction(small_run):
    report, workdir = small_run
    node = bench.ChainTip(**report["node"])
    committed = bench.committed_signed_txs(workdir / "state.db")
    config = workdir / "node.json"
    assert bench.check_replay(node, bench.replay(config, committed)).ok
    # the same transactions up to a pair, that pair swapped: both still valid, but the
    # chain is another one (later transactions would name blocks it never made)
    k = _swappable(workdir / "state.db", committed)
    prefix = bench.replay(config, committed[:k + 2])
    swapped = bench.replay(config, [*committed[:k], committed[k + 1], committed[k]])
    assert isinstance(prefix, bench.ChainTip) and isinstance(swapped, bench.ChainTip)
    assert not bench.check_replay(prefix, swapped).ok
    assert not bench.check_replay(node, bench.replay(config, committed[:-1])).ok
    # a transaction named a block the replay never makes: refused, reported, no crash
    check = bench.check_replay(node, bench.replay(config, [committed[0], *committed[2:]]))
    assert not check.ok


def _sent(client: int, nonce: int, tx_hash: str, error: str | None = None):
    return bench.Sent(client, nonce, tx_hash, b"", 0.01, error,
                      None if error else tx_hash)


def test_checks_fail_on_bad_results():
    good = [_sent(0, 1, "a"), _sent(0, 2, "b"), _sent(1, 1, "c")]
    assert bench.check_errors(good).ok
    assert not bench.check_errors([*good, _sent(1, 2, "d", "HTTP 500")]).ok
    assert not bench.check_errors([]).ok
    assert bench.check_unique(good).ok
    assert not bench.check_unique([*good, _sent(1, 2, "c")]).ok

    committed = [("deploy", b""), ("a", b""), ("b", b""), ("c", b"")]
    assert bench.check_history(good, committed, "deploy").ok
    assert not bench.check_history(good, [*committed, ("b", b"")], "deploy").ok  # twice
    assert not bench.check_history(good, committed[:-1], "deploy").ok  # lost
    assert not bench.check_history(good, [*committed, ("x", b"")], "deploy").ok  # unknown

    signers = [bench.Signer(bench.client_id(i), bytes([i + 1]) * 32) for i in range(2)]
    storage = {"n:c0.near": b"2", "n:c1.near": b"1", "total": b"3"}
    nonces = {"c0.near": 2, "c1.near": 1}
    assert bench.check_state(good, signers, storage, nonces, nonces).ok
    assert not bench.check_state(good, signers, {**storage, "n:c1.near": b"2"}, nonces,
                                 nonces).ok
    assert not bench.check_state(good, signers, {**storage, "total": b"4"}, nonces,
                                 nonces).ok
    assert not bench.check_state(good, signers, storage, {**nonces, "c0.near": 3}, nonces).ok


def test_outcome_error_names_the_problem():
    ok = {"transaction": {"hash": "h"}, "status": {"SuccessValue": "Mw=="}}  # b"3"
    assert bench.outcome_error(ok, "h", 3) is None
    assert "expected 2" in bench.outcome_error(ok, "h", 2)
    assert "not h2" in bench.outcome_error(ok, "h2", 3)
    failed = {"transaction": {"hash": "h"}, "status": {"Failure": {}}}
    assert bench.outcome_error(failed, "h", 1).startswith("failed")
