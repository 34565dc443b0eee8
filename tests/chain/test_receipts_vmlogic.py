"""The receipt engine with the real VMLogic promise and yield host functions
(tests/chain/logic_engine.py drives them from Python; no JS promise API is needed)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import base58
import pytest

from outlayer.chain.runtime import NEAR_GAS_PRICE
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.units import NEAR
from outlayer.vm.params import TGAS

from .logic_engine import Host, LogicEngine


@pytest.fixture
def engine() -> LogicEngine:
    return LogicEngine()


@pytest.fixture
def sim(engine: LogicEngine) -> Iterator[ContractSimulator]:
    with ContractSimulator(db_path=":memory:", engine=engine, gas_price=0) as simulator:
        yield simulator


def _deploy_counters(sim: ContractSimulator, engine: LogicEngine) -> None:
    def get(h: Host) -> None:
        h.log(f"{h.logic.context.current_account_id} asked")
        h.ret(int(h.logic.context.current_account_id[1]))

    for name in ("c1.test", "c2.test", "c3.test"):
        sim.deploy(name, engine.contract(name, get=get))


def test_promise_and_over_three_contracts(sim: ContractSimulator, engine: LogicEngine) -> None:
    def total(h: Host) -> None:
        joint = h.and_(*(h.create(f"c{i}.test", "get") for i in (3, 1, 2)))
        h.promise_return(h.then(joint, "sum.test", "collect"))

    def collect(h: Host) -> None:
        results = h.results()
        h.log(json.dumps([[s, d.decode() if d else None] for s, d in results]))
        h.ret(sum(json.loads(d or b"0") for _, d in results))

    _deploy_counters(sim, engine)
    sim.deploy("sum.test", engine.contract("sum", total=total, collect=collect))
    result = sim.call("sum.test", "total", gas="300T")
    assert result.ok and result.result == 6
    assert result.logs == ["c3.test asked", "c1.test asked", "c2.test asked",
                           '[[1, "3"], [1, "1"], [1, "2"]]']
    assert result.receipts_outcome[0].status == "SuccessReceiptId"
    # VMLogic's used gas covered the three calls and the callback: nothing is overspent
    assert all(o.gas_burnt > 0 for o in result.receipts_outcome)


def test_callback_sees_a_panic_and_the_deposit_returns(sim: ContractSimulator,
                                                       engine: LogicEngine) -> None:
    def start(h: Host) -> None:
        h.write("k", "kept")
        p = h.create("bad.test", "boom", deposit=NEAR)
        h.then(p, "a.test", "done")

    def done(h: Host) -> None:
        (status, _), = h.results()
        h.write("seen", str(status))

    def boom(h: Host) -> None:
        h.write("never", "x")
        h.panic("no way")

    sim.deploy("a.test", engine.contract("a", start=start, done=done))
    sim.deploy("bad.test", engine.contract("bad", boom=boom))
    before = sim.account("a.test")["balance"]
    result = sim.call("a.test", "start")
    assert result.ok
    assert sim.state("a.test") == {"k": "kept", "seen": "2"}  # 2 = Failed
    assert sim.state("bad.test") == {}
    assert sim.account("a.test")["balance"] == before
    failed = next(o for o in result.receipts_outcome if not o.ok)
    assert failed.error is not None and failed.error.kind == "GuestPanic"


def test_yield_resume_with_vmlogic(sim: ContractSimulator, engine: LogicEngine) -> None:
    def request(h: Host) -> None:
        index, data_id = h.yield_create("answer", {"q": h.args["q"]})
        h.write("pending", data_id.hex())
        h.promise_return(index)

    def respond(h: Host) -> None:
        data_id = bytes.fromhex(h.args["id"])
        h.ret(h.yield_resume(data_id, h.args["payload"].encode()))

    def answer(h: Host) -> None:
        (status, data), = h.results()
        h.ret({"status": status, "data": None if data is None else data.decode()})

    sim.deploy("oracle.test", engine.contract("o", request=request, respond=respond,
                                              answer=answer))
    asked = sim.call("oracle.test", "request", {"q": "x"})
    assert asked.pending
    data_id = sim.state("oracle.test")["pending"]
    (waiting,) = sim.pending()["yields"]
    assert bytes.fromhex(data_id) == base58.b58decode(waiting["data_id"])
    wrong = sim.call("oracle.test", "respond", {"id": "00" * 32, "payload": "p"})
    assert wrong.result is False
    ok = sim.call("oracle.test", "respond", {"id": data_id, "payload": "forty-two"})
    assert ok.result is True
    final = sim.tx_outcome(asked.tx_hash)
    assert final.status == "SuccessValue"
    assert json.loads(final.value or b"") == {"status": 1, "data": "forty-two"}


def test_yield_resumed_in_the_same_call(sim: ContractSimulator, engine: LogicEngine) -> None:
    def both(h: Host) -> None:
        index, data_id = h.yield_create("answer")
        assert h.yield_resume(data_id, b"at once")
        h.promise_return(index)

    def answer(h: Host) -> None:
        (status, data), = h.results()
        h.ret([status, (data or b"").decode()])

    sim.deploy("o.test", engine.contract("o", both=both, answer=answer))
    result = sim.call("o.test", "both")
    assert result.ok and result.result == [1, "at once"]


def test_gas_is_prepaid_burnt_and_refunded_exactly(engine: LogicEngine) -> None:
    """With NEAR's gas price: the signer pays exactly the tokens burnt by every receipt."""
    def start(h: Host) -> None:
        h.promise_return(h.then(h.create("b.test", "leaf", gas=10 * TGAS), "a.test", "done",
                                gas=10 * TGAS))

    def leaf(h: Host) -> None:
        h.ret("leaf")

    def done(h: Host) -> None:
        h.ret("done")

    with ContractSimulator(db_path=":memory:", engine=engine, gas_price=NEAR_GAS_PRICE) as sim:
        sim.deploy("a.test", engine.contract("a", start=start, done=done))
        sim.deploy("b.test", engine.contract("b", leaf=leaf))
        sim.create_account("alice.test", 10 * NEAR)
        contracts = sim.account("a.test")["balance"] + sim.account("b.test")["balance"]
        result = sim.call("a.test", "start", signer_id="alice.test", gas="100T")
        assert result.ok and result.result == "done"
        refunds = [o for o in result.receipts_outcome if o.receipt_kind == "refund"]
        assert refunds and all(o.executor_id == "alice.test" for o in refunds)
        spent = 10 * NEAR - sim.account("alice.test")["balance"]
        assert spent == result.tokens_burnt
        # of which 30% of the function calls' own gas went to the contracts
        gained = sim.account("a.test")["balance"] + sim.account("b.test")["balance"] - contracts
        assert 0 < gained < spent
