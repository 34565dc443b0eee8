"""The `outlayer` CLI: typer's runner for breadth, real subprocesses for the real thing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from outlayer.cli import app

ROOT = Path(__file__).resolve().parent.parent
COUNTER = ROOT / "examples" / "counter.js"
OUTLAYER = Path(sys.executable).parent / "outlayer"

runner = CliRunner()


def invoke(*args: str | Path) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def invoke_json(*args: str | Path, code: int = 0) -> dict[str, Any]:
    """Run with --json; the exit code must be `code` and stdout exactly one JSON object."""
    result = invoke(*args, "--json")
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    payload = json.loads(lines[0])
    assert {"status", "result", "logs", "gas_burnt"} <= payload.keys()
    return payload


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for name in ("run", "deploy", "call", "view", "state", "create-account", "build-guest",
                 "demo"):
        assert name in result.stdout


def test_build_guest_is_cached() -> None:
    payload = invoke_json("build-guest")
    assert Path(payload["result"]["path"]).is_file()


def test_run_json() -> None:
    payload = invoke_json("run", COUNTER, "increment", "--state", '{"count": "9"}')
    assert payload["status"] == "success" and payload["result"] == 10
    assert payload["logs"] == ["Counter incremented to 10"]
    assert payload["gas_burnt"] > 0
    assert payload["state_changes"] == {"count": "10"}


def test_run_human_output() -> None:
    result = invoke("run", COUNTER, "increment", "--gas", "30Tgas")
    assert result.exit_code == 0, result.stderr
    for text in ("success", "Counter incremented to 1", "Tgas", "ms"):
        assert text in result.stdout


def test_deploy_call_view_state(db: Path) -> None:
    deployed = invoke_json("--db", db, "deploy", "counter.test", COUNTER)
    assert deployed["result"]["created"] is True
    for expected in (1, 2):
        called = invoke_json("--db", db, "call", "counter.test", "increment", "--gas", "300T")
        assert called["result"] == expected and called["status"] == "success"
    assert invoke_json("--db", db, "view", "counter.test", "get_count")["result"] == 2
    assert invoke_json("--db", db, "state", "counter.test")["result"] == {"count": "2"}
    human = invoke("--db", db, "state", "counter.test")
    assert human.exit_code == 0 and "count" in human.stdout


def test_call_with_signer_and_deposit(db: Path) -> None:
    invoke_json("--db", db, "deploy", "counter.test", COUNTER)
    made = invoke_json("--db", db, "create-account", "alice.test", "--balance", "10NEAR")
    assert made["result"]["balance"] == str(10 * 10**24)
    called = invoke_json("--db", db, "call", "counter.test", "increment", "--signer",
                         "alice.test", "--deposit", "1NEAR")
    account = invoke_json("--db", db, "account", "alice.test")["result"]
    # the deposit, and the gas burnt at NEAR's gas price (unused gas came back)
    burnt = int(called["tokens_burnt"])
    assert burnt == sum(int(o["outcome"]["tokens_burnt"]) for o in
                        [called["transaction_outcome"], *called["receipts_outcome"]]) > 0
    assert account["balance"] == str(9 * 10**24 - burnt)
    poor = invoke_json("--db", db, "call", "counter.test", "increment", "--signer",
                       "alice.test", "--deposit", "100NEAR", code=2)
    assert poor["error"]["kind"] == "NotEnoughBalance"


@pytest.mark.parametrize("argv, kind, needle", [
    (["call", "nobody.test", "increment"], "AccountNotFound", "nobody.test"),
    (["call", "counter.test", "increment", "--args", "{bad"], "UserError", "not valid JSON"),
    (["call", "counter.test", "increment", "--args", "[1]"], "UserError", "JSON object"),
    (["call", "counter.test", "increment", "--gas", "lots"], "UserError", "gas"),
    (["call", "Bad..Id", "increment"], "InvalidAccountId", "Bad..Id"),
    (["create-account", "counter.test"], "AccountAlreadyExists", "counter.test"),
    (["state", "ghost.test"], "AccountNotFound", "ghost.test"),
    (["deploy", "x.test", "missing.js"], "UserError", "not found"),
])
def test_user_errors_exit_2_and_leave_state(db: Path, argv: list[str], kind: str,
                                            needle: str) -> None:
    invoke_json("--db", db, "deploy", "counter.test", COUNTER)
    invoke_json("--db", db, "call", "counter.test", "increment")
    payload = invoke_json("--db", db, *argv, code=2)
    assert payload["status"] == "error" and payload["error"]["kind"] == kind
    assert needle in payload["error"]["message"]
    human = invoke("--db", db, *argv)
    assert human.exit_code == 2 and needle in human.stderr and human.stdout == ""
    assert invoke_json("--db", db, "state", "counter.test")["result"] == {"count": "1"}


def test_failed_calls_exit_1(db: Path, tmp_path: Path) -> None:
    contract = tmp_path / "c.js"
    contract.write_text("export function boom() { near.storageWrite('k', 'v'); "
                        "throw new Error('kaboom'); }\n"
                        "export function write() { near.storageWrite('k', 'v'); }\n"
                        "export function spin() { for (;;) {} }\n")
    invoke_json("--db", db, "deploy", "c.test", contract)
    boom = invoke_json("--db", db, "call", "c.test", "boom", code=1)
    assert boom["status"] == "failure" and "kaboom" in boom["error"]["message"]
    missing = invoke_json("--db", db, "call", "c.test", "nope", code=1)
    assert "boom, write, spin" in missing["error"]["message"] or all(
        n in missing["error"]["message"] for n in ("boom", "write", "spin"))
    view = invoke_json("--db", db, "view", "c.test", "write", code=1)
    assert view["error"]["kind"] == "ProhibitedInView"
    spin = invoke_json("--db", db, "call", "c.test", "spin", "--gas", "2T", code=1)
    assert spin["error"]["kind"] == "GasExceeded" and spin["gas_burnt"] == 2 * 10**12
    human = invoke("--db", db, "call", "c.test", "spin", "--gas", "2T")
    assert human.exit_code == 1 and "GasExceeded" in human.stdout and "2 Tgas" in human.stdout
    assert invoke_json("--db", db, "state", "c.test")["result"] == {}


def test_syntax_error_at_deploy_and_run(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.js"
    bad.write_text("export function f() {\n  return (;\n}\n")
    deployed = invoke_json("--db", db, "deploy", "bad.test", bad, code=2)
    assert deployed["error"]["kind"] == "CompileError"
    ran = invoke_json("run", bad, "f", code=1)
    assert ran["error"]["kind"] == "CompileError"


def test_deploy_warns_of_an_undeclared_name_where_it_is_first_used(db: Path,
                                                                   tmp_path: Path) -> None:
    src = tmp_path / "typo.js"
    src.write_text("export function f(x) {\n  return requier(x);\n}\n"
                   "export function g() { return requier; }\n")
    deployed = invoke_json("--db", db, "deploy", "typo.test", src)
    assert deployed["result"]["warnings"] == [
        "typo.js:2:10: `requier` is declared nowhere and is not a global: using it throws "
        "ReferenceError"]
    human = invoke("--db", db, "deploy", "typo.test", src)
    assert human.exit_code == 0
    assert "warning: typo.js:2:10: `requier`" in " ".join(human.stderr.split())
    called = invoke_json("--db", db, "call", "typo.test", "g", code=1)
    assert "ReferenceError: requier is not initialized" in called["error"]["message"]
    clean = invoke_json("--db", db, "deploy", "counter.test", COUNTER)
    assert clean["result"]["warnings"] == []


def test_demo(db: Path) -> None:
    payload = invoke_json("--db", db, "demo")
    assert payload["result"] == 3
    assert payload["logs"] == [f"Counter incremented to {i}" for i in (1, 2, 3)]
    assert [c["result"] for c in payload["calls"]] == [1, 2, 3, 3]
    again = invoke("--db", db, "demo")
    assert again.exit_code == 0 and "Counter incremented to 6" in again.stdout


# --- real processes -------------------------------------------------------------------------


def _outlayer(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OUTLAYER_DB"}
    return subprocess.run([str(OUTLAYER), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_subprocess_run_is_deterministic_across_processes(tmp_path: Path) -> None:
    outs = []
    for _ in range(2):
        proc = _outlayer(tmp_path, "run", COUNTER, "increment", "--state", '{"count": "4"}',
                         "--json")
        assert proc.returncode == 0, proc.stderr
        outs.append(json.loads(proc.stdout))
    keys = ("result", "logs", "gas_burnt", "gas_used", "digest", "state_changes")
    assert [{k: o[k] for k in keys} for o in outs][0] == {k: outs[1][k] for k in keys}
    assert outs[0]["result"] == 5


def test_subprocess_demo_and_state_file(tmp_path: Path) -> None:
    proc = _outlayer(tmp_path, "demo", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == 3
    assert (tmp_path / ".outlayer" / "state.db").is_file()
    proc = _outlayer(tmp_path, "call", "counter.test", "increment", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["result"] == 4
    bad = _outlayer(tmp_path, "call", "counter.test", "increment", "--args", "nope", "--json")
    assert bad.returncode == 2 and json.loads(bad.stdout)["status"] == "error"
    failed = _outlayer(tmp_path, "call", "counter.test", "missing", "--json")
    assert failed.returncode == 1 and json.loads(failed.stdout)["status"] == "failure"
    state = _outlayer(tmp_path, "state", "counter.test", "--json")
    assert json.loads(state.stdout)["result"] == {"count": "4"}


def test_state_escapes_control_bytes_but_json_is_exact(db: Path, tmp_path: Path) -> None:
    """near-sdk-js Vector keys hold raw NULs: the table escapes them, --json keeps them."""
    contract = tmp_path / "keys.js"
    contract.write_text("export function put() { near.storageWrite('h\\0\\0\\0\\0', 'a\\u0007b');"
                        " near.storageWrite('back\\\\slash', 'tab\\there'); }\n")
    invoke_json("--db", db, "deploy", "k.test", contract)
    invoke_json("--db", db, "call", "k.test", "put")
    exact = invoke_json("--db", db, "state", "k.test")["result"]
    assert exact == {"h\0\0\0\0": "a\x07b", "back\\slash": "tab\there"}
    human = invoke("--db", db, "state", "k.test")
    assert human.exit_code == 0, human.stderr
    out = human.stdout
    assert "h\\x00\\x00\\x00\\x00" in out and "a\\x07b" in out and "tab\\x09here" in out
    assert "back\\\\slash" in out
    assert not any(ch in out for ch in "\0\x07\t")
    widths = {len(line) for line in out.splitlines()[1:] if line.strip()}
    assert len(widths) == 1, out  # every table row lines up


def test_replay_table_keeps_long_host_call_names_apart(db: Path, tmp_path: Path) -> None:
    contract = tmp_path / "batch.js"
    contract.write_text("export function go() { const p = near.promiseBatchCreate('x.test');"
                        " near.promiseBatchActionFunctionCall(p, 'f', {}, 0, 5000000000000n);"
                        " }\n")
    invoke_json("--db", db, "deploy", "b.test", contract)
    called = invoke_json("--db", db, "call", "b.test", "go")
    text = invoke("--db", db, "replay", called["tx_hash"]).stdout
    assert "matches the record" in text
    rows = [line for line in text.splitlines() if "promise_batch_action_fun" in line]
    assert rows, text
    for row in rows:  # the name never runs into the gas figures: three number columns
        assert re.search(r"[a-z_]\d", row) is None, row
        assert len(re.findall(r"(?<![\w,])\d[\d,]*(?![\w,])", row)) >= 4, row  # #, 3 gas


def test_contract_text_is_shown_as_stored_not_as_emoji(tmp_path: Path) -> None:
    """rich turns `:name:` into emoji unless told not to: results, logs and state keys are
    the contract's bytes."""
    source = tmp_path / "e.js"
    source.write_text("export function f() { near.storageWrite('b:A:lp', ':x:');"
                      " near.log(':thumbs_up:'); return ':b: [i]z'; }")
    db = str(tmp_path / "s.db")
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "deploy", "e.test", str(source)]).exit_code == 0
    called = runner.invoke(app, ["--db", db, "call", "e.test", "f"])
    assert called.exit_code == 0, called.output
    assert ":thumbs_up:" in called.output and ":b: [i]z" in called.output, called.output
    state = runner.invoke(app, ["--db", db, "state", "e.test"])
    assert "b:A:lp" in state.output and ":x:" in state.output, state.output
