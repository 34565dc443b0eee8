"""Issue 4's flows through the `outlayer` CLI, at NEAR's gas price (the CLI's default): the
DeFi strategy in callback and await style, yield/resume by an operator, failure paths,
fast-forward of in-flight receipts, the outcome tree (readable and --json), implicit
accounts, and verify / replay / state --at-block on the file the flows made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from outlayer.cli import app

from .test_failures import CALLEE, CALLER

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Cli:
    def __init__(self, db: Path) -> None:
        self.db = db

    def text(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, ["--db", str(self.db), *args])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result.stdout

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self.text(*args, "--json", code=code))


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "state.db")


def _receipts(tree: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(executor, method or action, status) of every non-refund receipt of a --json tree."""
    out = []
    for o in tree["receipts_outcome"]:
        if o["receipt_kind"] == "refund":
            continue
        (name, body), = o["actions"][0].items()
        status = next(iter(o["outcome"]["status"]))
        out.append((o["outcome"]["executor_id"],
                    body["method_name"] if name == "FunctionCall" else name, status))
    return out


def test_defi_in_both_styles_then_verify_replay_and_time_travel(cli: Cli) -> None:
    cli.json("deploy", "pool.test", str(EXAMPLES / "amm_pool.js"))
    cli.json("call", "pool.test", "new", "--args", '{"fee_bps": 30}')
    for token, amount in (("A", 2_000_000_000), ("B", 4_000_000_000)):
        cli.json("call", "pool.test", "deposit", "--signer", "lp.test", "--args",
                 json.dumps({"token": token, "amount": str(amount)}))
    cli.json("call", "pool.test", "add_liquidity", "--signer", "lp.test", "--args",
             '{"amount_a": "2000000000", "amount_b": "4000000000"}')
    zaps = {}
    for style in ("callback", "await"):
        strategy = f"{style}.test"
        cli.json("deploy", strategy, str(EXAMPLES / f"strategy_{style}.js"))
        cli.json("call", "pool.test", "deposit", "--signer", strategy, "--args",
                 '{"token": "A", "amount": "10000000"}')
        zap = cli.json("call", strategy, "zap", "--args",
                       '{"pool": "pool.test", "amount": "10000000"}')
        assert zap["status"] == "success", zap["error"]
        assert [r[1] for r in _receipts(zap)][1::2] == [
            "get_pool_info", "swap", "add_liquidity"]
        assert all(r[2] != "Failure" for r in _receipts(zap))
        assert int(zap["tokens_burnt"]) > 0 and zap["total_gas_burnt"] > zap["gas_burnt"]
        zaps[style] = zap
        tree = cli.text("tx", zap["tx_hash"])
        assert "pool.test ← " + strategy + ": swap(" in tree and "(refund)" in tree
    for zap in zaps.values():  # the second zap trades on the pool the first one left
        assert set(zap["result"]) == {"swapped", "received", "shares"}
        assert all(int(v) > 0 for v in zap["result"].values())
    assert "__ol_resume" in cli.text("tx", zaps["await"]["tx_hash"])
    # history: verify everything, replay the await-style zap, read the pool at a past block
    assert "✓ verified" in cli.text("verify")
    replay = cli.json("replay", zaps["await"]["tx_hash"])["result"]
    assert replay["matches_record"] is True
    height = zaps["callback"]["block_height"] - 1
    before = cli.json("state", "pool.test", "--at-block", str(height))
    assert before["block_height"] == height and before["result"] != cli.json(
        "state", "pool.test")["result"]


def test_an_operator_resumes_and_a_request_times_out(cli: Cli) -> None:
    cli.json("deploy", "oracle.test", str(EXAMPLES / "offchain_oracle.js"))
    cli.json("call", "oracle.test", "init", "--args", '{"operator": "op.test"}')
    asked = cli.json("call", "oracle.test", "request_work", "--signer", "user.test",
                     "--args", '{"task": "price"}')
    assert asked["status"] == "pending" and asked["final_status"] == "Started"
    (waiting,) = cli.json("pending")["result"]["yields"]
    assert waiting["receiver_id"] == "oracle.test"
    (entry,) = cli.json("view", "oracle.test", "pending")["result"]
    refused = cli.json("call", "oracle.test", "submit_result", "--signer", "mallory.test",
                       "--args", json.dumps({"data_id": entry["data_id"], "payload": 1}),
                       code=1)
    assert "only the operator" in refused["error"]["message"]
    resumed = cli.json("call", "oracle.test", "submit_result", "--signer", "op.test", "--args",
                       json.dumps({"data_id": entry["data_id"], "payload": {"usd": "4"}}))
    assert resumed["result"] is True
    done = cli.json("tx", asked["tx_hash"])
    assert done["status"] == "success"
    assert done["result"] == {"task": "price", "result": {"usd": "4"}}
    # a request nobody answers: fast-forward runs its timeout 200 blocks later
    slow = cli.json("call", "oracle.test", "request_work", "--args", '{"task": "slow"}')
    assert cli.json("fast-forward", "199")["result"]["receipts"] == []  # nothing due yet
    assert cli.json("tx", slow["tx_hash"])["status"] == "pending"
    moved = cli.text("fast-forward", "2")
    assert "on_result() (yield callback)" in moved and "inputs: failed" in moved
    assert cli.json("tx", slow["tx_hash"])["result"] == {"task": "slow", "timeout": True}
    assert "✓ verified" in cli.text("verify")


def test_failure_paths(cli: Cli, tmp_path: Path) -> None:
    for name, source in (("callee", CALLEE), ("relay", CALLEE), ("caller", CALLER)):
        path = tmp_path / f"{name}.js"
        path.write_text(source)
        cli.json("deploy", f"{name}.test", str(path))
    # the callee panics: the callback sees Failed, the caller's state stays, the deposit
    # comes back (a refund receipt in the tree)
    panicked = cli.json("call", "caller.test", "call_cb", "--args", json.dumps(
        {"target": "callee.test", "method": "boom", "deposit": "1000"}))
    assert panicked["result"]["status"] == "failed"
    assert ("callee.test", "boom", "Failure") in _receipts(panicked)
    deposit_back = [o for o in panicked["receipts_outcome"] if o["receipt_kind"] == "refund"
                    and o["outcome"]["executor_id"] == "caller.test"]
    assert deposit_back[0]["actions"] == [{"Transfer": {"deposit": "1000"}}]
    assert cli.json("state", "caller.test")["result"] == {"before": "kept", "seen": "failed"}
    assert cli.json("state", "callee.test")["result"] == {}  # no one sees the failed write
    human = cli.text("tx", panicked["tx_hash"])
    assert "callee exploded" in human and "✗" in human
    # out of gas, a missing account: failed receipts in the tree, handled by the caller
    spun = cli.json("call", "caller.test", "call_await", "--args", json.dumps(
        {"target": "callee.test", "method": "spin", "gas": str(3 * 10**12)}))
    assert spun["result"]["isError"] is True
    assert ("callee.test", "spin", "Failure") in _receipts(spun)
    missing = cli.json("call", "caller.test", "call_cb", "--args",
                       '{"target": "nobody.test", "method": "echo"}')
    assert ("nobody.test", "echo", "Failure") in _receipts(missing)
    assert "AccountDoesNotExist" in cli.text("tx", missing["tx_hash"])
    # joint results keep promise order, whatever order they arrived in
    assert cli.json("call", "caller.test", "joint_cb")["result"] == ["late", "early", "failed"]
    # a failure after an await: the transaction fails, the first part stays
    failed = cli.json("call", "caller.test", "fail_after_await", code=1)
    assert "failed after the await" in failed["error"]["message"]
    assert cli.json("state", "caller.test")["result"]["before"] == "kept"


def test_implicit_account_by_transfer(cli: Cli) -> None:
    implicit = "ab" * 32
    sent = cli.json("transfer", implicit, "1NEAR")
    assert sent["status"] == "success"
    account = cli.json("account", implicit)["result"]
    assert account["balance"] == str(10**24) and account["storage_usage"] == 182
    (key,) = cli.json("keys", implicit)["result"]
    assert key["access_key"]["permission"] == "FullAccess"
    bad = cli.json("transfer", "0x" + "ab" * 20, "1NEAR", code=1)
    assert bad["error"]["kind"] == "AccountDoesNotExist"


def test_storage_staking_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "big.js"
    path.write_text("export function put({ size }) { near.storageWrite('big', "
                    "'x'.repeat(size)); }\n")
    cli.json("create-account", "small.test", "--balance", str(10**22))  # 1,000 bytes' worth
    cli.json("deploy", "small.test", str(path))
    failed = cli.json("call", "small.test", "put", "--args", '{"size": 2000}', code=1)
    assert failed["error"]["kind"] == "LackBalanceForState"
    assert "LackBalanceForState" in cli.text("tx", failed["tx_hash"])
    assert cli.json("state", "small.test")["result"] == {}
