"""`outlayer account` names the block an account was created in truly: the first block
whose end state holds it (what view_account at that block sees), for accounts the
simulator makes between blocks and accounts a CreateAccount action makes in a block."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from outlayer.chain import actions
from outlayer.chain.simulator import ContractSimulator
from outlayer.cli import app
from outlayer.errors import AccountNotFound


def _first_in_state(sim: ContractSimulator, account_id: str) -> int:
    """The first block whose end state holds the account, by asking each block."""
    for height in range(sim.history_start, sim.height + 1):
        try:
            sim.account_at(account_id, height)
        except AccountNotFound:
            continue
        return height
    raise AssertionError(f"{account_id} is in no block's state")


def test_first_height_is_the_first_block_holding_the_account() -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        sim.transact("a.test", "a.test", [])  # blocks 1..
        sim.create_account("b.test")  # between blocks: in the next block's state
        assert sim.store.first_height("b.test") == sim.height + 1
        sim.transact("a.test", "a.test", [])
        assert sim.store.first_height("b.test") == _first_in_state(sim, "b.test")
        made = sim.transact("b.test", "sub.b.test", [actions.create_account(),
                                                     actions.transfer("1NEAR")])
        assert made.ok, made.error
        assert sim.store.first_height("sub.b.test") == _first_in_state(sim, "sub.b.test")
        assert sim.store.first_height("nobody.test") is None


def test_cli_account_says_the_block_view_account_first_sees(tmp_path: Path) -> None:
    db = tmp_path / "state.db"

    def run(*args: str) -> str:
        result = CliRunner().invoke(app, ["--db", str(db), *args])
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result.stdout

    run("create-account", "a.test")
    run("transfer", "a.test", "1NEAR", "--signer", "a.test")
    run("create-account", "b.test")
    with ContractSimulator(db_path=db) as sim:
        next_block = sim.height + 1
    assert f"in block #{next_block} (the next block: not made yet)" in run("account", "b.test")
    run("transfer", "a.test", "1NEAR", "--signer", "a.test")
    with ContractSimulator(db_path=db) as sim:
        first = _first_in_state(sim, "b.test")
        created_height = sim.account("b.test")["created_height"]
    assert first == next_block
    assert created_height == first - 1  # the stored (root-hashed) value is unchanged
    shown = run("account", "b.test")
    assert f"in block #{first}" in shown and "not made yet" not in shown


@pytest.mark.parametrize("blocks", [0, 2])
def test_roots_keep_created_height(blocks: int) -> None:
    """Only the display changed: the state root still hashes the stored created_height."""
    with ContractSimulator(db_path=":memory:") as sim:
        for _ in range(blocks):
            sim.transact("a.test", "a.test", [])
        sim.create_account("b.test")
        assert sim.account("b.test")["created_height"] == sim.height
