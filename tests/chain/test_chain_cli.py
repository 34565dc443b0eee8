"""The CLI's transaction commands: outcome trees (readable and JSON), tx, fast-forward,
pending, keys, transfer, stake, set-timestamp, the chain settings of a new file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from outlayer.chain import blocks
from outlayer.chain.simulator import convenience_key
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
    receipt, refund = called["receipts_outcome"]  # the call, then the unused gas back
    assert called["transaction_outcome"]["outcome"]["receipt_ids"] == [receipt["id"]]
    assert receipt["outcome"]["executor_id"] == "c.test"
    assert receipt["outcome"]["receipt_ids"] == [refund["id"]]
    assert refund["receipt_kind"] == "refund" and refund["outcome"]["executor_id"] == "test.near"
    # tokens burnt per receipt: its gas at NEAR's gas price (refunds burn no tokens)
    assert int(receipt["outcome"]["tokens_burnt"]) == receipt["outcome"]["gas_burnt"] * 10**8
    assert refund["outcome"]["tokens_burnt"] == "0"
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
    # `deploy` made it with the chain's derived key (its secret: `account --secret-key`)
    assert [k["public_key"] for k in run_json(deployed, "keys", "c.test")["result"]] == [
        convenience_key(blocks.CHAIN_SEED, "c.test")]
    # the signer a call created has the simulator's derived key (its signer_account_pk)
    keys = run_json(deployed, "keys", "test.near")["result"]
    assert [k["public_key"] for k in keys] == [convenience_key(blocks.CHAIN_SEED, "test.near")]
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


KEY = "ed25519:4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"


def test_chain_settings_stake_and_epochs(db: Path) -> None:
    """--gas-price / --epoch-length fix a new file's settings; stake locks, and a lowered
    stake comes back at the epoch boundary that fast-forward crosses."""
    settings = ("--gas-price", "0", "--epoch-length", "5")

    def cli(*args: str, code: int = 0) -> dict[str, Any]:
        result = CliRunner().invoke(app, ["--db", str(db), *settings, *args, "--json"])
        assert result.exit_code == code, (result.stdout, result.stderr)
        payload: dict[str, Any] = json.loads(result.stdout)
        return payload

    cli("create-account", "v.test", "--balance", "50NEAR")
    assert cli("stake", "v.test", "20NEAR", KEY)["status"] == "success"
    account = cli("account", "v.test")["result"]
    assert (account["balance"], account["locked"]) == (str(30 * 10**24), str(20 * 10**24))
    assert "20 NEAR (staked)" in run(db, "account", "v.test")
    too_much = cli("stake", "v.test", "100NEAR", KEY, code=1)
    assert too_much["error"]["kind"] == "TriesToStake"
    bad_key = cli("stake", "v.test", "1NEAR", "secp256k1:" + "1" * 64, code=2)
    assert bad_key["status"] == "error"  # refused before anything ran
    cli("stake", "v.test", "0", KEY)
    assert cli("account", "v.test")["result"]["locked"] == str(20 * 10**24)
    cli("fast-forward", "5")
    account = cli("account", "v.test")["result"]
    assert (account["balance"], account["locked"]) == (str(50 * 10**24), "0")
    # the settings are the file's: another value for it is refused
    refused = CliRunner().invoke(app, ["--db", str(db), "--gas-price", "7", "account",
                                       "v.test", "--json"])
    assert refused.exit_code == 2 and "gas price is 0" in refused.stdout
    assert "✓ verified" in run(db, "verify")
