"""Fixtures of the near-sdk-js tests: a fresh chain, the examples deployed from source."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from outlayer import ContractSimulator


@pytest.fixture
def sim() -> Iterator[ContractSimulator]:
    """A fresh chain in memory, gas price 0 (balances move by deposits only). The examples
    are bundled once: builds are cached on disk."""
    with ContractSimulator(execution_mode="quickjs", db_path=":memory:",
                           gas_price=0) as simulator:
        yield simulator
