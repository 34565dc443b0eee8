"""Fixtures of the example-contract tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from outlayer import ContractSimulator

from .support import Cli


@pytest.fixture
def sim() -> Iterator[ContractSimulator]:
    """A fresh chain in memory, gas price 0: the tests compare whole account records before
    and after a call (gas at NEAR's price is covered by tests/chain/test_gas_price.py)."""
    with ContractSimulator(execution_mode="quickjs", db_path=":memory:",
                           gas_price=0) as simulator:
        yield simulator


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A state file for tests that reopen the chain or use the CLI."""
    return tmp_path / "state.db"


@pytest.fixture
def cli(db_path: Path) -> Cli:
    return Cli(db_path)
