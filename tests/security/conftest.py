"""The security suite's harness: hostile contracts on a simulated chain.

`Arena.attack` runs one hostile call and checks what must hold after *every* failed call:
it failed with the expected error, committed nothing (the account's state, storage usage
and balance are as before, although the call did try to write), was recorded as a failed
transaction, and the host still serves a normal call exactly as before the attack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from outlayer.chain.result import CallResult
from outlayer.chain.simulator import DEFAULT_GAS, ContractSimulator

#: Every attack method starts with `plant()`: it overwrites the victim key and adds one, so
#: "state untouched" is tested against a call that really wrote something.
PLANT = """
const plant = (tag) => {
  near.storageWrite('victim', 'overwritten by ' + tag);
  near.storageWrite('planted:' + tag, 'x');
};
export function seed() { near.storageWrite('victim', 'original'); return 'seeded'; }
export function health() {
  const data = { victim: near.storageRead('victim'), list: [1, 'two', { three: null }] };
  near.log('healthy');
  return data;
}
"""


@dataclass
class Arena:
    sim: ContractSimulator
    account: str
    baseline: CallResult = field(init=False)

    def __post_init__(self) -> None:
        seeded = self.sim.call(self.account, "seed")
        assert seeded.ok, seeded.error
        self.baseline = self.sim.view(self.account, "health")
        assert self.baseline.ok and self.baseline.result["victim"] == "original"

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.sim.state(self.account),
                "account": self.sim.account(self.account),
                "signer": self.sim.account("attacker.test")}

    def attack(self, method: str, kind: str | tuple[str, ...], *, args: Any = None,
               gas: int | str = DEFAULT_GAS, planted: bool = True) -> CallResult:
        """`kind`: the error the call must end in (or one of several)."""
        kinds = (kind,) if isinstance(kind, str) else kind
        before = self.snapshot()
        height = self.sim.height
        result = self.sim.call(self.account, method, args, signer_id="attacker.test", gas=gas)
        assert result.error is not None, f"{method} succeeded: {result.result!r}"
        assert result.error["kind"] in kinds, result.error
        assert result.status == "failure" and result.result is None
        assert result.state_changes == {}
        if planted:  # it did write before failing: the writes were discarded
            assert result.attempted_changes.get("victim", "").startswith("overwritten by")
        assert self.snapshot() == before
        assert self.sim.height == height + 1
        record = self.sim.transactions(self.account, limit=1000)[-1]
        assert record["method"] == method and record["status"] == "failure"
        assert record["outcome"]["error"] == result.error
        self.assert_healthy()
        return result

    def assert_healthy(self) -> None:
        """A normal call behaves exactly as before any attack: same result, logs and gas."""
        now = self.sim.view(self.account, "health")
        assert now.ok, now.error
        assert (now.result, now.logs, now.gas_burnt, now.return_data) == (
            self.baseline.result, self.baseline.logs, self.baseline.gas_burnt,
            self.baseline.return_data)
        assert json.loads(now.return_data or b"null") == {
            "victim": "original", "list": [1, "two", {"three": None}]}


@pytest.fixture(scope="module")
def chain() -> Iterator[ContractSimulator]:
    # gas_price=0: the arenas compare balances and heights before and after an attack;
    # what gas costs in tokens is tested in tests/chain/test_gas_price.py.
    with ContractSimulator(db_path=":memory:", gas_price=0) as sim:
        sim.create_account("attacker.test")
        yield sim


def arena(sim: ContractSimulator, account: str, source: str) -> Arena:
    sim.deploy(account, PLANT + source)
    return Arena(sim, account)
