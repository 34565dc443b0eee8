"""Fixtures of the promise tests: real JS contracts on fresh in-memory chains, and the
runner for looking at one call's receipts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from outlayer.chain.simulator import ContractSimulator
from outlayer.js.runner import runtime
from outlayer.vm.context import VMContext
from outlayer.vm.outcome import VMOutcome

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TGAS = 10**12
NEAR = 10**24


def example(name: str) -> str:
    return (EXAMPLES / name).read_text()


@pytest.fixture
def sim() -> Iterator[ContractSimulator]:
    """Gas price 0: exact balances and receipt lists (test_gas_price.py covers the price)."""
    with ContractSimulator(db_path=":memory:", gas_price=0) as simulator:
        yield simulator


def ok(result: Any) -> Any:
    """The result of a transaction that must have succeeded."""
    assert result.status == "success", (result.error, result.logs)
    return result.result


def balance(sim: ContractSimulator, account_id: str) -> int:
    return int(sim.account(account_id)["balance"])


def methods(result: Any) -> list[tuple[int, str, str, str]]:
    """(block height, executor, method or action, status) of every receipt, in order."""
    out = []
    for o in result.receipts_outcome:
        names = [a["FunctionCall"]["method_name"] if "FunctionCall" in a else next(iter(a))
                 for a in o.actions]
        out.append((o.block_height, o.executor_id, ",".join(names), o.status))
    return out


class _Storage(dict):  # type: ignore[type-arg]
    def get(self, key: bytes) -> bytes | None:  # type: ignore[override]
        return dict.get(self, key)


RunFn = Callable[..., VMOutcome]


@pytest.fixture(scope="session")
def run() -> RunFn:
    """Run one method of a JS contract directly (no chain): its VMOutcome."""
    rt = runtime()

    def _run(source: str, method: str, args: Any = None, **context: Any) -> VMOutcome:
        ctx = VMContext(
            current_account_id=context.pop("current_account_id", "me.test"),
            signer_account_id="alice.test",
            predecessor_account_id=context.pop("predecessor_account_id", "alice.test"),
            input=json.dumps(args if args is not None else {}).encode(),
            account_balance=context.pop("account_balance", 1000 * NEAR),
            prepaid_gas=context.pop("prepaid_gas", 300 * TGAS),
            receipt_id=b"\x01" * 32,
            **context,
        )
        return rt.run(source.encode(), method, ctx, _Storage())

    return _run
