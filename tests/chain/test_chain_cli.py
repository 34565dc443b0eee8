"""The CLI's transaction commands: outcome trees (readable and JSON), tx, fast-forward,
pending, keys, transfer, set-timestamp."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from outlayer.chain import blocks
from outlayer.cli import app

CONTRACT = """
export function hello(args) { near.log("hi " + args.name); return "hello " + args.name; }
export function boom() { near.storageWrite("k", "v"); throw new Error("kaboom"); }
export function now() { return near.blockTimestamp().toString(); }
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


def run(db: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["--db", str(db), *args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout


def run_json(db: Path, *args: str, code: int = 0) -> dict[str, Any]:
    out = run(db, *args, "--json", code=code)
    lines = out.splitlines()
    assert len(lines) == 1, out
    payload: dict[str, Any] = json.loads(lines[0])
    assert {"status", "result", "logs", "gas_burnt"} <= payload.keys()
    return payload


@pytest.fixture
def deployed(db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "c.js"
    path.write_text(CONTRACT)
    run_json(db, "deploy", "c.test", str(path))
    return db


def test_call_json_carries_the_outcome_tree(deployed: Path) -> None:
    called = run_json(deployed, "call", "c.test", "hello", "--args", '{"name": "x"}')
    assert called["result"] == "hello x" and called["logs"] == ["hi x"]
    assert called["final_status"] == {"SuccessValue": "ImhlbGxvIHgi"}
    (receipt,) = called["receipts_outcome"]
    assert called["transaction_outcome"]["outcome"]["receipt_ids"] == [receipt["id"]]
    assert receipt["outcome"]["executor_id"] == "c.test"
    assert called["total_gas_burnt"] > called["gas_burnt"] > 0
    shown = run_json(deployed, "tx", called["tx_hash"])
    assert shown["status"] == "success" and shown["result"] == "hello x"
    assert shown["receipts_outcome"] == called["receipts_outcome"]
    human = run(deployed, "tx", called["tx_hash"])
    assert "transaction " + called["tx_hash"] in human and "hello()" in human


def test_failed_call_shows_the_refund(deployed: Path) -> None:
    failed = run_json(deployed, "call", "c.test", "boom", "--deposit", "1NEAR", code=1)
    assert failed["status"] == "failure" and failed["error"]["kind"] == "JSException"
    refund = failed["receipts_outcome"][-1]
    assert refund["receipt_kind"] == "refund"
    assert refund["outcome"]["executor_id"] == "test.near"
    human = run(deployed, "call", "c.test", "boom", "--deposit", "1NEAR", code=1)
    assert "kaboom" in human and "(refund)" in human and "transfer 1 NEAR" in human


def test_transfer_keys_pending_fast_forward(deployed: Path) -> None:
    before = int(run_json(deployed, "account", "c.test")["result"]["balance"])
    sent = run_json(deployed, "transfer", "c.test", "2NEAR")
    assert sent["status"] == "success"
    assert int(run_json(deployed, "account", "c.test")["result"]["balance"]) == before + 2 * 10**24
    missing = run_json(deployed, "transfer", "nobody.test", "1", code=1)
    assert missing["error"]["kind"] == "AccountDoesNotExist"
    assert run_json(deployed, "keys", "c.test")["result"] == []
    pending = run_json(deployed, "pending")
    assert pending["result"] == {"queued": [], "postponed": [], "yields": []}
    height = pending["height"]
    moved = run_json(deployed, "fast-forward", "5")
    assert moved["result"]["height"] == height + 5 and moved["result"]["receipts"] == []
    assert "now at block" in run(deployed, "fast-forward", "1")


def test_set_timestamp(deployed: Path) -> None:
    target = blocks.GENESIS_TIME_NS + 10**15
    assert run_json(deployed, "set-timestamp", str(target))["status"] == "success"
    assert run_json(deployed, "call", "c.test", "now")["result"] == str(target)
    refused = run_json(deployed, "set-timestamp", "5", code=2)
    assert "only moves forward" in refused["error"]["message"]


def test_unknown_transaction(deployed: Path) -> None:
    assert run_json(deployed, "tx", "nope", code=2)["error"]["kind"] == "UserError"
