"""Property: any tree of cross-contract calls, deposits, callbacks and failures conserves
balances and leaves exactly the writes of the receipts that succeeded."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outlayer.chain.runtime import NEAR_GAS_PRICE
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.units import NEAR

from .fake_engine import TGAS, Fail, FakeCall, FakeEngine

ACCOUNTS = ["a.test", "b.test", "c.test"]

NODES = st.recursive(
    st.fixed_dictionaries({"to": st.sampled_from(ACCOUNTS), "deposit": st.integers(0, 3),
                           "fail": st.booleans(), "callback": st.booleans(),
                           "children": st.just([])}),
    lambda inner: st.fixed_dictionaries({
        "to": st.sampled_from(ACCOUNTS), "deposit": st.integers(0, 3), "fail": st.booleans(),
        "callback": st.booleans(), "children": st.lists(inner, max_size=3)}),
    max_leaves=8)


def _number(plan: dict[str, Any], counter: list[int]) -> None:
    plan["id"] = counter[0]
    counter[0] += 1
    for child in plan["children"]:
        _number(child, counter)


def _size(plan: dict[str, Any]) -> int:
    return 1 + sum(_size(c) for c in plan["children"])


def _node(c: FakeCall) -> None:
    plan = c.args
    c.write(f"n{plan['id']}", "ran")
    c.log(f"node {plan['id']}")
    for child in plan["children"]:
        gas = 11 * _size(child) * TGAS  # enough for its subtree and callbacks
        index = c.call(child["to"], "node", child, deposit=child["deposit"], gas=gas)
        if plan["callback"]:
            c.then(index, "callback", {"child": child["id"]}, gas=TGAS * 2)
    if plan["fail"]:
        raise Fail("GuestPanic", f"node {plan['id']} fails")


def _callback(c: FakeCall) -> None:
    (result,) = c.results
    c.write(f"cb{c.args['child']}", result.status)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NODES, st.booleans())
def test_call_trees_conserve_balances_and_writes(plan: dict[str, Any], priced: bool) -> None:
    _number(plan, [0])
    engine = FakeEngine()
    code = engine.contract("node", node=_node, callback=_callback)
    with ContractSimulator(db_path=":memory:", engine=engine,
                           gas_price=NEAR_GAS_PRICE if priced else 0) as sim:
        for account in ACCOUNTS:
            sim.create_account(account, 10 * NEAR)
            sim.deploy(account, code)
        sim.create_account("user.test", 10 * NEAR)
        everyone = [*ACCOUNTS, "user.test"]
        before = sum(sim.account(a)["balance"] for a in everyone)
        result = sim.call(plan["to"], "node", plan, signer_id="user.test",
                          deposit=plan["deposit"], gas=300 * TGAS)
        after = sum(sim.account(a)["balance"] for a in everyone)
        assert sim.pending() == {"queued": [], "postponed": [], "yields": []}
        outcome = result.outcome
        assert outcome is not None and outcome.status in ("SuccessValue", "Failure")
        if priced:  # tokens burnt leave; 30% of the function calls' part comes back
            assert 0 < before - after <= result.tokens_burnt
        else:
            assert after == before and result.tokens_burnt == 0
        # exactly the receipts that succeeded left their writes
        status: dict[int, bool] = {}
        expected: dict[str, dict[str, str]] = {a: {} for a in ACCOUNTS}
        for receipt in outcome.execution_order:
            for line in receipt.logs:
                node = int(line.split()[1])
                status[node] = receipt.ok
                if receipt.ok:
                    expected[receipt.executor_id][f"n{node}"] = "ran"

        # a node that ran and succeeded with `callback` has one callback per child, which
        # saw that child's own success or failure
        def walk(node: dict[str, Any], account: str) -> None:
            if status.get(node["id"]) and node["callback"]:
                for child in node["children"]:
                    seen = "successful" if status[child["id"]] else "failed"
                    expected[account][f"cb{child['id']}"] = seen
            for child in node["children"]:
                walk(child, child["to"])

        walk(plan, plan["to"])
        for account in ACCOUNTS:
            assert sim.state(account) == dict(sorted(expected[account].items()))
