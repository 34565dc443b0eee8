"""Fixtures of the direct-mode tests: contracts built from tests/direct/contracts at test
time (C with zig cc, cached by source hash; WAT with wasmtime) and fresh chains."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import wasmtime

from outlayer.chain.simulator import ContractSimulator
from outlayer.direct.build import build_c

CONTRACTS = Path(__file__).resolve().parent / "contracts"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def contract(name: str) -> bytes:
    """The wasm of tests/direct/contracts/NAME (.c or .wat)."""
    path = CONTRACTS / name
    if path.suffix == ".wat":
        return wasmtime.wat2wasm(path.read_text())
    return build_c(path)


def h(data: bytes | str) -> dict[str, str]:
    """Binary arguments for the C test contracts: {"h": hex}."""
    return {"h": (data.encode() if isinstance(data, str) else data).hex()}


@pytest.fixture(scope="session")
def hostfns() -> bytes:
    return contract("hostfns.c")


@pytest.fixture(scope="session")
def counter_wasm() -> bytes:
    return build_c(EXAMPLES / "direct" / "counter.c")


@pytest.fixture
def sim() -> Iterator[ContractSimulator]:
    with ContractSimulator("direct", db_path=":memory:") as simulator:
        yield simulator


@pytest.fixture
def deployed(sim: ContractSimulator, hostfns: bytes) -> ContractSimulator:
    sim.deploy("c.test", hostfns)
    return sim


Wasm = Callable[[str], bytes]
