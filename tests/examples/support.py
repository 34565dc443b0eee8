"""Helpers of the example-contract tests: paths, state snapshots, the CLI in JSON mode."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from outlayer import CallResult, ContractSimulator
from outlayer.chain.runtime import BURNT_GAS_REWARD, NEAR_GAS_PRICE
from outlayer.cli import app
from outlayer.testing import TxResult, ViewResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
OUTLAYER = Path(sys.executable).parent / "outlayer"
NEAR = 10**24
#: what the simulator gives an account created without a balance (create_account's default)
DEFAULT_BALANCE = 100 * NEAR


def example(name: str) -> Path:
    return EXAMPLES / name


@dataclass
class Snapshot:
    """Everything a failed call must leave as it was: storage and account records."""

    state: dict[str, str]
    accounts: dict[str, dict[str, Any]]


def snapshot(sim: ContractSimulator, contract: str, *accounts: str) -> Snapshot:
    return Snapshot(sim.state(contract), {a: sim.account(a) for a in (contract, *accounts)})


#: what a call returns: the simulator's CallResult or the sandbox harness's results
AnyResult = CallResult | TxResult | ViewResult


def assert_panics(result: AnyResult, message: str) -> None:
    """A failed call whose contract panicked with exactly `message`, committing nothing."""
    assert result.status == "failure", result
    assert result.error == {"kind": "GuestPanic", "message": message}
    assert result.result is None
    assert result.state_changes == {}


def undo_gas(contract: dict[str, Any], signer: dict[str, Any], result: CallResult | TxResult,
             gas_price: int = NEAR_GAS_PRICE) -> tuple[dict[str, Any], dict[str, Any]]:
    """The contract's and the signer's account records without what gas moved in `result`'s
    transaction at `gas_price`: the signer paid the tokens burnt (unused gas and deposits
    came back), the contract earned NEAR's burnt-gas reward on its function call."""
    num, den = BURNT_GAS_REWARD
    reward = result.gas_burnt * num // den * gas_price
    return ({**contract, "balance": int(contract["balance"]) - reward},
            {**signer, "balance": int(signer["balance"]) + result.tokens_burnt})


def ok(result: AnyResult) -> Any:
    """The result of a call that must have succeeded."""
    assert result.status == "success", result.error
    assert result.error is None
    return result.result


def event_log(standard: str, version: str, event: str, data: list[dict[str, Any]]) -> str:
    """A NEP-297 event log line, serialized as JSON.stringify does (no spaces)."""
    body = {"standard": standard, "version": version, "event": event, "data": data}
    return "EVENT_JSON:" + json.dumps(body, separators=(",", ":"))


@dataclass
class Cli:
    """`outlayer --db DB ... --json`: one JSON object per command, exit code checked."""

    db: Path

    def __call__(self, *args: str | Path, code: int = 0) -> dict[str, Any]:
        """Through typer's runner, in this process."""
        result = CliRunner().invoke(app, ["--db", str(self.db), *map(str, args), "--json"])
        assert result.exit_code == code, (result.stdout, result.stderr)
        lines = result.stdout.splitlines()
        assert len(lines) == 1, result.stdout
        payload: dict[str, Any] = json.loads(lines[0])
        assert {"status", "result", "logs", "gas_burnt"} <= payload.keys()
        return payload

    def subprocess(self, *args: str | Path, code: int = 0) -> dict[str, Any]:
        """Through the installed `outlayer` executable, in a child process."""
        proc = subprocess.run([str(OUTLAYER), "--db", str(self.db), *map(str, args), "--json"],
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == code, (proc.stdout, proc.stderr)
        payload: dict[str, Any] = json.loads(proc.stdout)
        return payload

    def state(self, account: str) -> dict[str, str]:
        payload = self("state", account)
        assert payload["status"] == "success"
        state: dict[str, str] = payload["result"]
        return state


def as_args(**kwargs: Any) -> str:
    """A `--args` value."""
    return json.dumps(kwargs)
