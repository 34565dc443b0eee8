"""Call arguments at the edges: JSON nested deeper than Python parses (labelled truly, the
same for the CLI, `call` and `view`, and the bytes a contract gets agree with a raw
transaction's), and args too big for a command line (`--args-file`, NEAR's 4 MiB limit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from outlayer.chain.simulator import ContractSimulator
from outlayer.cli import app
from outlayer.errors import UserError
from outlayer.vm.params import DEFAULT_PARAMS
from outlayer.vm.receipts import FunctionCall

RAW = """
export function size() { return near.input().length; }
export function head() { return near.input().slice(0, 8); }
"""
DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' + "[" * 1000 + "]" * 1000 + "}"


@pytest.fixture
def sim() -> ContractSimulator:
    with ContractSimulator(db_path=":memory:", gas_price=0) as simulator:
        simulator.deploy("raw.test", RAW)
        yield simulator


def test_deep_array_args_are_called_an_array_not_null(sim: ContractSimulator) -> None:
    for run in (sim.call, sim.view):
        with pytest.raises(UserError, match="got an array") as caught:
            run("raw.test", "size", DEEP_ARRAY)
        assert "null" not in caught.value.message
        assert "nested too deeply" in caught.value.message
    with pytest.raises(UserError, match="got an array"):
        sim.call("raw.test", "size", "  \n" + DEEP_ARRAY)  # leading whitespace is JSON's


def test_deep_object_args_reach_the_contract_as_a_raw_transaction_would(
        sim: ContractSimulator) -> None:
    """An object is passed byte for byte, whatever its depth (the contract parses it), as
    a signed transaction's args (RPC send_tx) are: both give the contract the same bytes."""
    called = sim.call("raw.test", "size", DEEP_OBJECT)
    viewed = sim.view("raw.test", "size", DEEP_OBJECT)
    raw = sim.transact("test.near", "raw.test",
                       [FunctionCall("size", DEEP_OBJECT.encode(), 0, 30 * 10**12)])
    assert called.result == viewed.result == raw.result == len(DEEP_OBJECT)
    assert sim.call("raw.test", "head", DEEP_OBJECT).result == DEEP_OBJECT[:8]


def _cli(db: Path, *args: str, code: int = 0, stdin: bytes | None = None) -> str:
    result = CliRunner().invoke(app, ["--db", str(db), *args], input=stdin)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stdout + result.stderr


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    source = tmp_path / "raw.js"
    source.write_text(RAW)
    _cli(path, "deploy", "raw.test", str(source))
    return path


def test_cli_deep_args_message(db: Path) -> None:
    for command in ("call", "view"):
        out = json.loads(_cli(db, command, "raw.test", "size", "--args", DEEP_ARRAY, "--json",
                              code=2))
        assert "got an array" in out["error"]["message"], out


def test_cli_args_file_passes_args_over_a_command_line_s_limit(db: Path,
                                                               tmp_path: Path) -> None:
    # 200 KiB: over Linux's 128 KiB limit for one command-line argument
    args = json.dumps({"blob": "x" * (200 * 1024)}).encode()
    file = tmp_path / "args.json"
    file.write_bytes(args)
    for command in ("call", "view"):
        out = json.loads(_cli(db, command, "raw.test", "size", "--args-file", str(file),
                              "--json"))
        assert out["result"] == len(args), out
    out = json.loads(_cli(db, "view", "raw.test", "size", "--args-file", "-", "--json",
                          stdin=args))
    assert out["result"] == len(args)
    source = tmp_path / "raw.js"
    out = json.loads(_cli(db, "run", str(source), "size", "--args-file", str(file), "--json"))
    assert out["result"] == len(args)


def test_cli_args_file_refusals(db: Path, tmp_path: Path) -> None:
    file = tmp_path / "args.json"
    file.write_text("{}")
    both = _cli(db, "call", "raw.test", "size", "--args", "{}", "--args-file", str(file),
                code=2)
    assert "--args or --args-file, not both" in both
    missing = _cli(db, "view", "raw.test", "size", "--args-file", str(tmp_path / "none"),
                   code=2)
    assert "cannot read --args-file" in missing
    limit = DEFAULT_PARAMS.max_arguments_length
    assert limit == 4 * 1024 * 1024  # NEAR's max_arguments_length
    big = tmp_path / "big.json"
    big.write_bytes(b'{"b":"' + b"x" * limit + b'"}')
    out = json.loads(_cli(db, "call", "raw.test", "size", "--args-file", str(big), "--json",
                          code=2))
    assert f"over the limit of {limit} bytes (max_arguments_length)" in out["error"]["message"]
    assert json.loads(_cli(db, "block", "--json"))["result"]["height"] == 0  # nothing ran
