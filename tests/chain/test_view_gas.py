"""A view that runs out of gas reports what nearcore does: GasLimitExceeded with burnt and
used both at the view's limit, never above it."""

from __future__ import annotations

from outlayer.chain.simulator import ContractSimulator

SPIN = "export function spin() { let i = 0; while (true) { i++; } }"


def test_a_view_out_of_gas_reports_used_at_the_limit() -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        sim.deploy("spin.test", SPIN)
        result = sim.view("spin.test", "spin")
        limit = sim.params.max_gas_burnt_view
        assert result.error is not None and result.error["kind"] == "GasLimitExceeded"
        assert result.gas_burnt == result.gas_used == limit
