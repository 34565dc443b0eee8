"""Global contracts from the simulator's API and the CLI: refusals write nothing (no
account, no block), `use-global --json` has `account --json`'s shape, and `deploy --global`
shows its transaction, block, gas and the tokens it burnt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import code_hash
from outlayer.cli import app
from outlayer.errors import AccountNotFound, UserError

CODE = "export function who() { return near.currentAccountId(); }"
NO_HASH = "1" * 32


def test_use_global_refuses_a_missing_account_before_anything() -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        info = sim.deploy_global("lib.test", CODE)
        height, before = sim.height, sim.store.table_rows("accounts")
        for kwargs in ({"code_hash": info["code_hash"]}, {"code_hash": NO_HASH}):
            with pytest.raises(AccountNotFound, match="c.test"):
                sim.use_global("c.test", **kwargs)
        assert sim.height == height and sim.store.table_rows("accounts") == before


def test_use_global_of_nothing_makes_no_block_and_burns_nothing() -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        sim.create_account("app.test")
        height, before = sim.height, sim.account("app.test")
        with pytest.raises(UserError, match="GlobalContractDoesNotExist"):
            sim.use_global("app.test", code_hash=NO_HASH)
        assert sim.height == height and sim.account("app.test") == before


def test_deploy_global_refuses_a_poor_deployer_before_anything() -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        sim.create_account("poor.test", "0.01NEAR")
        height, before = sim.height, sim.account("poor.test")
        with pytest.raises(UserError, match="LackBalanceForState"):
            sim.deploy_global("poor.test", CODE + "\n// " + "x" * 200)
        assert sim.height == height and sim.account("poor.test") == before


def test_deploy_global_makes_a_missing_deployer_and_reports_its_cost() -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        info = sim.deploy_global("new.test", CODE)
        assert sim.account("new.test")["balance"] > 0  # the documented convenience
        price = sim.params.global_contract_storage_amount_per_byte * len(CODE)
        outcome = sim.tx_outcome(info["tx_hash"])
        assert info["block_height"] == outcome.transaction_outcome.block_height
        assert info["gas_burnt"] == outcome.total_gas_burnt > 0
        assert int(info["tokens_burnt"]) == outcome.tokens_burnt
        assert int(info["storage_burnt"]) == price
        assert int(info["tokens_burnt"]) > price  # gas, on top of the per-byte price


def _cli(db: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["--db", str(db), *args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout + (result.stderr if code else "")


def test_cli_use_global_on_a_missing_account_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    _cli(db, "create-account", "a.test")
    out = _cli(db, "use-global", "c.test", "--hash", NO_HASH, code=2)
    assert "AccountNotFound" in out and "c.test" in out
    _cli(db, "account", "c.test", code=2)
    assert json.loads(_cli(db, "block", "--json"))["result"]["height"] == 0


def test_cli_global_json_shapes_and_costs(tmp_path: Path) -> None:
    db, source = tmp_path / "state.db", tmp_path / "who.js"
    source.write_text(CODE)
    deployed = json.loads(_cli(db, "deploy", "lib.test", str(source), "--global", "--json"))
    assert deployed["gas_burnt"] > 0 and int(deployed["tokens_burnt"]) > 0
    assert deployed["tx_hash"] == deployed["result"]["tx_hash"]
    assert deployed["block_height"] >= 1
    table = _cli(db, "deploy", "lib.test", str(source), "--global")
    for label in ("cost", "NEAR burnt", "block", "tx", "Tgas of gas", f"{len(CODE)} bytes of"):
        assert label in table, table
    _cli(db, "create-account", "u.test")
    used = json.loads(_cli(db, "use-global", "u.test", "--hash", code_hash(CODE.encode()),
                           "--json"))
    shown = json.loads(_cli(db, "account", "u.test", "--json"))
    assert used["result"] == shown["result"]
    assert isinstance(used["result"]["balance"], str)
    assert isinstance(used["result"]["locked"], str)
    assert isinstance(used["result"]["realm"], dict)
