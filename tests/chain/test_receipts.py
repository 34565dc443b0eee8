"""The receipt engine, driven by hand-made contracts (tests/chain/fake_engine.py).

Heights below are relative to the block of the transaction (H): its own receipt runs in H,
a receipt it makes in H + 1, data sent back in H + 2, and so on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from outlayer.chain import actions as act
from outlayer.chain import receipts as rc
from outlayer.chain.accounts import DEFAULT_SIGNER, public_key_bytes
from outlayer.chain.runtime import NEAR_GAS_PRICE
from outlayer.chain.simulator import ContractSimulator, convenience_key
from outlayer.chain.units import NEAR
from outlayer.errors import UserError
from outlayer.vm.params import DEFAULT_PARAMS as P
from outlayer.vm.receipts import FunctionCall, PromiseResult, Transfer

from .fake_engine import TGAS, Fail, FakeCall, FakeEngine

KEY1 = "ed25519:" + rc.b58(bytes([1]) * 32)
KEY2 = "ed25519:" + rc.b58(bytes([2]) * 32)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def sim(engine: FakeEngine) -> Iterator[ContractSimulator]:
    with ContractSimulator(db_path=":memory:", engine=engine, gas_price=0) as simulator:
        yield simulator


def heights(sim: ContractSimulator, result: object, start: int) -> list[tuple[int, str, str]]:
    return [(o.block_height - start, o.executor_id, o.status)
            for o in result.outcome.execution_order]  # type: ignore[attr-defined]


def balance(sim: ContractSimulator, account: str) -> int:
    return int(sim.account(account)["balance"])


# --- cross-contract calls, callbacks, results ----------------------------------------------


def test_call_then_callback_across_blocks(sim: ContractSimulator, engine: FakeEngine) -> None:
    seen: list[tuple[PromiseResult, ...]] = []

    def start(c: FakeCall) -> None:
        c.write("started", "yes")
        c.log("start")
        c.then(c.call("b.test", "work", {"n": 2}), "done")

    def done(c: FakeCall) -> str:
        seen.append(c.results)
        c.log("done")
        return "finished"

    def work(c: FakeCall) -> int:
        c.log("work")
        return c.args["n"] * 21

    sim.deploy("a.test", engine.contract("a", start=start, done=done))
    sim.deploy("b.test", engine.contract("b", work=work))
    h = sim.height + 1
    result = sim.call("a.test", "start")
    # the callback's receipt waits (postponed) at H+1 for B's data, which arrives at H+2
    assert heights(sim, result, h) == [(0, "a.test", "SuccessValue"),
                                       (1, "b.test", "SuccessValue"),
                                       (2, "a.test", "SuccessValue")]
    assert seen == [(PromiseResult.successful(b"42"),)]
    assert result.ok and result.result is None  # start returned nothing, no promise_return
    assert result.logs == ["start", "work", "done"]  # every receipt, in execution order
    assert result.state_changes == {"started": "yes"}  # the called method's own changes
    assert sim.height == h + 2 and sim.pending() == {"queued": [], "postponed": [],
                                                     "yields": []}
    tx = result.transaction_outcome
    assert tx is not None and tx.receipt_ids == [result.receipts_outcome[0].id]
    assert result.receipts_outcome[0].receipt_ids == [o.id for o in result.receipts_outcome[1:]]


def test_promise_return_gives_the_final_value(sim: ContractSimulator, engine: FakeEngine
                                              ) -> None:
    def start(c: FakeCall) -> None:
        c.return_promise(c.then(c.call("b.test", "work"), "done"))

    def done(c: FakeCall) -> dict[str, str]:
        (res,) = c.results
        return {"got": res.data.decode()}

    sim.deploy("a.test", engine.contract("a", start=start, done=done))
    sim.deploy("b.test", engine.contract("b", work=lambda c: "w"))
    result = sim.call("a.test", "start")
    first, work, done_outcome = result.receipts_outcome
    assert first.status == "SuccessReceiptId" and first.receipt_id == done_outcome.id
    assert result.ok and result.result == {"got": '"w"'}
    assert result.final_status == {"SuccessValue": "eyJnb3QiOiAiXCJ3XCIifQ=="}
    assert result.outcome is not None and result.outcome.value == b'{"got": "\\"w\\""}'


def test_promise_return_of_a_call_moves_the_receivers(sim: ContractSimulator,
                                                      engine: FakeEngine) -> None:
    """A callee that returns another promise: its caller's callback gets the final value."""
    seen: list[tuple[PromiseResult, ...]] = []

    def start(c: FakeCall) -> None:
        c.then(c.call("b.test", "relay", gas=50 * TGAS), "done")

    def done(c: FakeCall) -> None:
        seen.append(c.results)

    def relay(c: FakeCall) -> None:
        c.return_promise(c.call("c.test", "leaf"))

    sim.deploy("a.test", engine.contract("a", start=start, done=done))
    sim.deploy("b.test", engine.contract("b", relay=relay))
    sim.deploy("c.test", engine.contract("c", leaf=lambda c: "from c"))
    h = sim.height + 1
    result = sim.call("a.test", "start")
    assert seen == [(PromiseResult.successful(b'"from c"'),)]
    assert heights(sim, result, h) == [(0, "a.test", "SuccessValue"),
                                       (1, "b.test", "SuccessReceiptId"),
                                       (2, "c.test", "SuccessValue"),
                                       (3, "a.test", "SuccessValue")]


def test_joint_results_keep_promise_order(sim: ContractSimulator, engine: FakeEngine) -> None:
    """promise_and(slow, fast, fast): results in promise order, whatever arrives first."""
    seen: list[tuple[PromiseResult, ...]] = []

    def start(c: FakeCall) -> None:
        joint = (c.call("slow.test", "get"), c.call("f1.test", "get"),
                 c.call("f2.test", "get"))
        c.return_promise(c.then(joint, "collect"))

    def collect(c: FakeCall) -> list[str]:
        seen.append(c.results)
        return [r.data.decode() for r in c.results]

    def slow(c: FakeCall) -> None:  # answers one block later than the others
        c.return_promise(c.call("deep.test", "get", gas=5 * TGAS))

    sim.deploy("a.test", engine.contract("a", start=start, collect=collect))
    sim.deploy("slow.test", engine.contract("slow", get=slow))
    sim.deploy("deep.test", engine.contract("deep", get=lambda c: "slow"))
    sim.deploy("f1.test", engine.contract("f1", get=lambda c: "f1"))
    sim.deploy("f2.test", engine.contract("f2", get=lambda c: "f2"))
    h = sim.height + 1
    result = sim.call("a.test", "start")
    assert result.result == ['"slow"', '"f1"', '"f2"']
    assert [r.status for r in seen[0]] == ["successful"] * 3
    collect_outcome = result.outcome.execution_order[-1]  # type: ignore[union-attr]
    assert collect_outcome.block_height - h == 3  # waited for the slowest dependency
    assert collect_outcome.promise_results == ["successful"] * 3


def test_callee_failure_callback_sees_failed(sim: ContractSimulator, engine: FakeEngine
                                             ) -> None:
    """The callee panics: its writes are rolled back, its deposit goes back to the caller,
    the callback runs and sees Failed, the caller's own writes stay."""
    def start(c: FakeCall) -> None:
        c.write("asked", "yes")
        c.then(c.call("b.test", "boom", deposit=3 * NEAR), "done")

    def done(c: FakeCall) -> str:
        (res,) = c.results
        c.write("callback", res.status)
        return res.status

    def boom(c: FakeCall) -> None:
        c.write("b-wrote", "x")
        c.log("about to fail")
        raise Fail("GuestPanic", "explicit guest panic")

    sim.deploy("a.test", engine.contract("a", start=start, done=done))
    sim.deploy("b.test", engine.contract("b", boom=boom))
    a0, b0 = balance(sim, "a.test"), balance(sim, "b.test")
    result = sim.call("a.test", "start")
    assert result.ok and result.result is None  # the failure is off the result path
    assert sim.state("a.test") == {"asked": "yes", "callback": "failed"}
    assert sim.state("b.test") == {}
    assert balance(sim, "a.test") == a0 and balance(sim, "b.test") == b0  # refunded
    failed = [o for o in result.receipts_outcome if not o.ok]
    assert [o.executor_id for o in failed] == ["b.test"]
    assert failed[0].logs == ["about to fail"] and failed[0].gas_burnt > 0
    assert failed[0].error is not None and failed[0].error.to_json() == {"ActionError": {
        "index": 0, "kind": {"FunctionCallError": {"GuestPanic": "explicit guest panic"}}}}
    assert result.receipt_failures == [{"receipt_id": failed[0].id, "executor_id": "b.test",
                                        "kind": "GuestPanic",
                                        "message": "explicit guest panic"}]
    refund = next(o for o in result.receipts_outcome if o.receipt_kind == "refund")
    assert (refund.executor_id, refund.predecessor_id) == ("a.test", "system")
    assert refund.actions == [{"Transfer": {"deposit": str(3 * NEAR)}}]
    assert refund.tokens_burnt == 0


def test_no_one_sees_a_failed_receipts_writes(sim: ContractSimulator, engine: FakeEngine
                                              ) -> None:
    """Two receipts to B in the same block: the first writes and fails, the second reads."""
    def start(c: FakeCall) -> None:
        c.return_promise(c.then((c.call("b.test", "write_and_fail"), c.call("b.test", "read")),
                                "done"))

    def write_and_fail(c: FakeCall) -> None:
        c.write("k", "leaked?")
        raise Fail("GuestPanic", "rolled back")

    def done(c: FakeCall) -> list[str]:
        return [r.status + ":" + r.data.decode() for r in c.results]

    sim.deploy("a.test", engine.contract("a", start=start, done=done))
    sim.deploy("b.test", engine.contract("b", write_and_fail=write_and_fail,
                                         read=lambda c: c.read("k")))
    result = sim.call("a.test", "start")
    assert result.result == ["failed:", "successful:"]  # B.read found nothing
    b_runs = [o.block_height for o in result.receipts_outcome if o.executor_id == "b.test"]
    assert b_runs[0] == b_runs[1]  # the same block, one after the other


def test_callee_out_of_gas(sim: ContractSimulator, engine: FakeEngine) -> None:
    def start(c: FakeCall) -> None:
        c.return_promise(c.then(c.call("b.test", "spin", gas=5 * TGAS), "done"))

    def spin(c: FakeCall) -> None:
        c.burn(10 * TGAS)

    sim.deploy("a.test", engine.contract("a", start=start,
                                         done=lambda c: c.results[0].status))
    sim.deploy("b.test", engine.contract("b", spin=spin))
    result = sim.call("a.test", "start")
    assert result.ok and result.result == "failed"
    spun = next(o for o in result.receipts_outcome if o.executor_id == "b.test")
    assert spun.error is not None and spun.error.kind == "GasExceeded"
    send, exe = _fees("spin", b"{}")
    assert spun.gas_burnt == exe + 5 * TGAS  # all of its prepaid gas, plus the exec fees


def test_failure_on_the_result_path_fails_the_transaction(sim: ContractSimulator,
                                                          engine: FakeEngine) -> None:
    def start(c: FakeCall) -> None:
        c.write("k", "v")
        c.return_promise(c.call("b.test", "boom"))

    def boom(c: FakeCall) -> None:
        raise Fail("JSException", "Error: nope")

    sim.deploy("a.test", engine.contract("a", start=start))
    sim.deploy("b.test", engine.contract("b", boom=boom))
    result = sim.call("a.test", "start")
    assert result.status == "failure" and result.error == {"kind": "JSException",
                                                           "message": "Error: nope"}
    assert result.state_changes == {"k": "v"} and sim.state("a.test") == {"k": "v"}
    assert "Failure" in result.final_status


def test_call_to_a_missing_account(sim: ContractSimulator, engine: FakeEngine) -> None:
    seen: list[tuple[PromiseResult, ...]] = []

    def start(c: FakeCall) -> None:
        c.then(c.call("nobody.test", "x", deposit=5), "done")

    sim.deploy("a.test", engine.contract("a", start=start,
                                         done=lambda c: seen.append(c.results)))
    before = balance(sim, "a.test")
    result = sim.call("a.test", "start")
    assert seen == [(PromiseResult.failed(),)]
    missing = next(o for o in result.receipts_outcome if o.executor_id == "nobody.test")
    assert missing.error is not None and missing.error.kind == "AccountDoesNotExist"
    assert balance(sim, "a.test") == before  # the 5 yocto came back


def test_a_failed_receipt_drops_its_receipts_and_keeps_its_logs(sim: ContractSimulator,
                                                                engine: FakeEngine) -> None:
    def start(c: FakeCall) -> None:
        c.call("b.test", "hit")
        c.write("k", "v")
        c.log("made a promise")
        c.burn(5 * TGAS)
        raise Fail("GuestPanic", "after the promise")

    hits: list[str] = []
    sim.deploy("a.test", engine.contract("a", start=start))
    sim.deploy("b.test", engine.contract("b", hit=lambda c: hits.append("hit")))
    result = sim.call("a.test", "start", deposit=7)
    assert not result.ok and hits == [] and sim.state("a.test") == {}
    assert result.logs == ["made a promise"] and result.gas_burnt == 6 * TGAS
    own = result.receipts_outcome[0]
    assert own.receipt_ids == [result.receipts_outcome[1].id]  # only the deposit refund
    assert result.receipts_outcome[1].actions == [{"Transfer": {"deposit": "7"}}]


# --- deposits, storage staking, atomic batches ------------------------------------------


def test_deposit_is_credited_before_the_call(sim: ContractSimulator, engine: FakeEngine
                                             ) -> None:
    seen: list[tuple[int, int]] = []

    def pay(c: FakeCall) -> None:
        seen.append((c.context.account_balance, c.context.attached_deposit))

    sim.deploy("a.test", engine.contract("a", pay=pay))
    sim.create_account("alice.test", 10 * NEAR)
    before = balance(sim, "a.test")
    assert sim.call("a.test", "pay", signer_id="alice.test", deposit=NEAR).ok
    assert seen == [(before + NEAR, NEAR)]
    assert balance(sim, "a.test") == before + NEAR
    assert balance(sim, "alice.test") == 9 * NEAR


def test_contract_attached_deposits_leave_the_caller(sim: ContractSimulator,
                                                     engine: FakeEngine) -> None:
    def give(c: FakeCall) -> None:
        c.batch("b.test", Transfer(2 * NEAR))
        c.call("b.test", "take", deposit=NEAR)

    got: list[int] = []
    sim.deploy("a.test", engine.contract("a", give=give))
    sim.deploy("b.test", engine.contract(
        "b", take=lambda c: got.append(c.context.attached_deposit)))
    a0, b0 = balance(sim, "a.test"), balance(sim, "b.test")
    assert sim.call("a.test", "give").ok
    assert got == [NEAR]
    assert balance(sim, "a.test") == a0 - 3 * NEAR
    assert balance(sim, "b.test") == b0 + 3 * NEAR


def test_storage_staking_fails_the_receipt(sim: ContractSimulator, engine: FakeEngine
                                           ) -> None:
    def big(c: FakeCall) -> None:
        c.write("big", "x" * 5000)

    sim.create_account("tiny.test", NEAR // 50)  # pays for 2,000 bytes
    sim.transact("tiny.test", "tiny.test", [act.deploy_contract(engine.contract("t", big=big))])
    usage = sim.account("tiny.test")["storage_usage"]
    result = sim.call("tiny.test", "big", deposit=1)
    assert result.status == "failure" and result.error is not None
    assert result.error["kind"] == "LackBalanceForState"
    own = result.receipts_outcome[0]
    assert own.error is not None and own.error.index is None
    assert own.error.detail["LackBalanceForState"]["account_id"] == "tiny.test"
    assert result.state_changes == {} and result.attempted_changes == {"big": "x" * 5000}
    assert sim.state("tiny.test") == {} and sim.account("tiny.test")["storage_usage"] == usage


def test_batch_actions_succeed_or_fail_together(sim: ContractSimulator, engine: FakeEngine
                                                ) -> None:
    def boom(c: FakeCall) -> None:
        raise Fail("GuestPanic", "no")

    sim.deploy("a.test", engine.contract("a", boom=boom))
    sim.create_account("alice.test", 10 * NEAR)
    result = sim.transact("alice.test", "a.test", [
        act.transfer("2NEAR"), act.function_call("boom", deposit="1NEAR")])
    assert not result.ok and result.error == {"kind": "GuestPanic", "message": "no"}
    assert result.outcome is not None
    own = result.outcome.execution_order[0]
    assert own.error is not None and own.error.index == 1
    assert balance(sim, "alice.test") == 10 * NEAR  # the transfer was undone and refunded


# --- accounts and keys -------------------------------------------------------------------


def test_create_fund_key_and_deploy_in_one_transaction(sim: ContractSimulator,
                                                       engine: FakeEngine) -> None:
    sim.create_account("test.near", 100 * NEAR)
    code = engine.contract("sub", hello=lambda c: "hi")
    result = sim.transact("test.near", "sub.test.near", [
        act.create_account(), act.transfer("5NEAR"), act.add_full_access_key(KEY1),
        act.deploy_contract(code)])
    assert result.ok, result.error
    account = sim.account("sub.test.near")
    assert account["balance"] == 5 * NEAR
    assert account["storage_usage"] == 100 + (33 + 9 + 40) + len(code)
    assert sim.access_keys("sub.test.near") == [
        {"public_key": KEY1, "access_key": {"nonce": (result.block_height - 1) * 10**6,
                                            "permission": "FullAccess"}}]
    assert sim.call("sub.test.near", "hello").result == "hi"


@pytest.mark.parametrize(("signer", "new", "kind"), [
    ("test.near", "other.test", "CreateAccountNotAllowed"),
    ("test.near", "a.b.test.near", "CreateAccountNotAllowed"),
    ("test.near", "shortname", "CreateAccountOnlyByRegistrar"),
    ("registrar", "shortname", None),
    ("test.near", "a" * 32, None),
    ("test.near", "kv.test", "AccountAlreadyExists"),
])
def test_account_creation_rules(sim: ContractSimulator, signer: str, new: str,
                                kind: str | None) -> None:
    sim.create_account("kv.test")
    result = sim.transact(signer, new, [act.create_account(), act.transfer("1NEAR")])
    if kind is None:
        assert result.ok and sim.account(new)["balance"] == NEAR
        return
    assert result.error is not None and result.error["kind"] == kind
    assert balance(sim, signer) == 1_000_000 * NEAR  # the deposit came back
    if kind != "AccountAlreadyExists":
        with pytest.raises(UserError):
            sim.account(new)


def test_delete_account_pays_the_beneficiary(sim: ContractSimulator, engine: FakeEngine
                                             ) -> None:
    sim.create_account("test.near", 100 * NEAR)
    sim.create_account("heir.test", NEAR)
    sim.transact("test.near", "gone.test.near", [
        act.create_account(), act.transfer("5NEAR"), act.add_full_access_key(KEY1),
        act.deploy_contract(engine.contract("g", w=lambda c: c.write("k", "v")))])
    sim.call("gone.test.near", "w")
    denied = sim.transact("heir.test", "gone.test.near", [act.delete_account("heir.test")])
    assert denied.error is not None and denied.error["kind"] == "ActorNoPermission"
    h = sim.height + 1
    result = sim.transact("gone.test.near", "gone.test.near", [act.delete_account("heir.test")])
    assert result.ok
    assert heights(sim, result, h) == [(0, "gone.test.near", "SuccessValue"),
                                       (1, "heir.test", "SuccessValue")]
    assert balance(sim, "heir.test") == 6 * NEAR
    with pytest.raises(UserError):
        sim.account("gone.test.near")
    assert sim.store.storage_items("gone.test.near") == []
    assert sim.store.access_keys("gone.test.near") == []
    late = sim.transact("heir.test", "gone.test.near", [act.transfer(1)])
    assert late.error is not None and late.error["kind"] == "AccountDoesNotExist"


def test_access_keys(sim: ContractSimulator) -> None:
    sim.create_account("alice.test", 10 * NEAR)
    base = sim.account("alice.test")["storage_usage"]
    fc_key = act.add_function_call_key(KEY2, "app.test", ["vote", "read"], "1NEAR")
    result = sim.transact("alice.test", "alice.test", [act.add_full_access_key(KEY1), fc_key])
    assert result.ok
    keys = {k["public_key"]: k["access_key"]["permission"] for k in sim.access_keys("alice.test")}
    derived = convenience_key(sim.chain_seed, "alice.test")  # made with it
    assert keys == {derived: "FullAccess", KEY1: "FullAccess", KEY2: {"FunctionCall": {
        "allowance": str(NEAR), "receiver_id": "app.test", "method_names": ["vote", "read"]}}}
    # borsh: key 33 + nonce 8 + tag 1 (+ Some u128 17 + receiver 4+8 + names 4+(4+4)+(4+4))
    full, fc = 33 + 9 + 40, 33 + 9 + 17 + 12 + 20 + 40
    assert sim.account("alice.test")["storage_usage"] == base + full + fc
    again = sim.transact("alice.test", "alice.test", [act.add_full_access_key(KEY1)])
    assert again.error is not None and again.error["kind"] == "AddKeyAlreadyExists"
    assert sim.transact("alice.test", "alice.test", [act.delete_key(KEY2)]).ok
    assert sim.account("alice.test")["storage_usage"] == base + full
    gone = sim.transact("alice.test", "alice.test", [act.delete_key(KEY2)])
    assert gone.error is not None and gone.error["kind"] == "DeleteKeyDoesNotExist"
    other = sim.transact("test.near", "alice.test", [act.add_full_access_key(KEY2)])
    assert other.error is not None and other.error["kind"] == "ActorNoPermission"


def test_keys_given_at_creation_are_access_keys(sim: ContractSimulator) -> None:
    sim.create_account("k.test", public_key=KEY1)
    assert [k["public_key"] for k in sim.access_keys("k.test")] == [KEY1]


def test_transactions_are_validated_before_anything_runs(sim: ContractSimulator) -> None:
    height = sim.height
    for actions, why in [([act.delete_account("x.test"), act.transfer(1)],
                                             "last action"),
                         (["transfer"], "not an action"),
                         ([act.function_call("m", gas="200T")] * 2, "Tgas")]:
        with pytest.raises(UserError, match=why):
            sim.transact("test.near", "x.test", actions)
    with pytest.raises(UserError, match="less than the attached deposit"):
        sim.transact("test.near", "x.test", [act.transfer(2 * 10**30)])
    assert sim.height == height


# --- yield / resume ---------------------------------------------------------------------------


@pytest.fixture
def oracle(sim: ContractSimulator, engine: FakeEngine) -> dict[str, bytes]:
    """`oracle.test`: request() yields on_response and returns that promise; respond()
    resumes it with the answer (only the contract itself can resume, as on NEAR)."""
    ids: dict[str, bytes] = {}

    def request(c: FakeCall) -> None:
        index, data_id = c.yield_create("on_response", {"q": c.args["q"]})
        ids[c.args["q"]] = data_id
        c.write("request", c.args["q"])
        c.return_promise(index)

    def respond(c: FakeCall) -> bool:
        return c.yield_resume(ids[c.args["q"]], c.args["answer"].encode())

    def on_response(c: FakeCall) -> str:
        (res,) = c.results
        c.write("answer", res.data.decode() if res.status == "successful" else "timeout")
        return res.data.decode() if res.status == "successful" else "timed out"

    sim.deploy("oracle.test", engine.contract("oracle", request=request, respond=respond,
                                              on_response=on_response))
    return ids


def test_yield_resume(sim: ContractSimulator, oracle: dict[str, bytes]) -> None:
    h = sim.height + 1
    asked = sim.call("oracle.test", "request", {"q": "price"})
    assert asked.pending and asked.result is None and asked.final_status == "Started"
    assert sim.height == h  # nothing left in flight but the yield
    (waiting,) = sim.pending()["yields"]
    assert waiting["expires_at"] == h + 200 and waiting["receiver_id"] == "oracle.test"
    answered = sim.call("oracle.test", "respond", {"q": "price", "answer": "42"},
                        signer_id="operator.test")
    assert answered.ok and answered.result is True
    assert sim.pending()["yields"] == []
    final = sim.tx_outcome(asked.tx_hash)  # the request's tree now holds the callback
    assert final.status == "SuccessValue" and final.value == b'"42"'
    callback = final.execution_order[-1]
    assert callback.receipt_kind == "yield" and callback.promise_results == ["successful"]
    assert callback.block_height == answered.block_height + 1
    assert sim.state("oracle.test") == {"request": "price", "answer": "42"}
    late = sim.call("oracle.test", "respond", {"q": "price", "answer": "43"})
    assert late.ok and late.result is False  # no pending yield any more
    assert sim.state("oracle.test")["answer"] == "42"


def test_first_resume_wins(sim: ContractSimulator, engine: FakeEngine,
                           oracle: dict[str, bytes]) -> None:
    sim.call("oracle.test", "request", {"q": "a"})

    def double(c: FakeCall) -> list[bool]:
        return [c.yield_resume(oracle["a"], b"first"), c.yield_resume(oracle["a"], b"second")]

    engine.contracts["oracle"]["double"] = double
    assert sim.call("oracle.test", "double").result == [True, True]
    assert sim.state("oracle.test")["answer"] == "first"


def test_yield_timeout_after_200_blocks(sim: ContractSimulator, oracle: dict[str, bytes]
                                        ) -> None:
    h = sim.height + 1
    asked = sim.call("oracle.test", "request", {"q": "slow"})
    assert sim.fast_forward(199) == []
    ran = sim.fast_forward(1)  # block H+200: the timeout is sent, the callback runs next
    assert ran == [] and sim.pending()["queued"][0]["type"] == "resume"
    (callback,) = sim.fast_forward(1)
    assert callback.block_height == h + 201 and callback.promise_results == ["failed"]
    final = sim.tx_outcome(asked.tx_hash)
    assert final.status == "SuccessValue" and final.value == b'"timed out"'
    assert sim.state("oracle.test")["answer"] == "timeout"
    late = sim.call("oracle.test", "respond", {"q": "slow", "answer": "late"})
    assert late.result is False


def test_resume_in_the_timeout_block_wins(sim: ContractSimulator, oracle: dict[str, bytes]
                                          ) -> None:
    h = sim.height + 1
    sim.call("oracle.test", "request", {"q": "edge"})
    sim.fast_forward(199 - (sim.height - h))
    assert sim.height == h + 199
    # the resume runs in block H+200, the timeout is sent at its end: the resume is first
    assert sim.call("oracle.test", "respond", {"q": "edge", "answer": "just in time"}).result
    assert sim.state("oracle.test")["answer"] == "just in time"
    assert sim.pending() == {"queued": [], "postponed": [], "yields": []}


# --- blocks, time, in-flight receipts ---------------------------------------------------------


def test_fast_forward_advances_in_flight_receipts(sim: ContractSimulator,
                                                  engine: FakeEngine) -> None:
    def start(c: FakeCall) -> None:
        c.then(c.call("b.test", "work"), "done")

    sim.deploy("a.test", engine.contract("a", start=start, done=lambda c: "done"))
    sim.deploy("b.test", engine.contract("b", work=lambda c: "w"))
    submitted = sim.submit("test.near", "a.test", [act.function_call("start")])
    pending = sim.pending()
    assert [q["receiver_id"] for q in pending["queued"]] == ["b.test", "a.test"]
    assert sim.tx_outcome(submitted.tx_hash).status == "SuccessValue"  # start's own value
    ran = sim.fast_forward(1)
    assert [o.executor_id for o in ran] == ["b.test"]
    assert sim.pending()["postponed"][0]["receiver_id"] == "a.test"
    (done,) = sim.fast_forward(1)
    assert done.executor_id == "a.test" and done.value == b'"done"'
    assert sim.pending() == {"queued": [], "postponed": [], "yields": []}


def test_in_flight_receipts_survive_reopening(tmp_path: Path, engine: FakeEngine) -> None:
    db = tmp_path / "chain.db"

    def start(c: FakeCall) -> None:
        c.return_promise(c.then(c.call("b.test", "work"), "done"))

    with ContractSimulator(db_path=db, engine=engine, gas_price=0) as first:
        first.deploy("a.test", engine.contract("a", start=start, done=lambda c: "done"))
        first.deploy("b.test", engine.contract("b", work=lambda c: "w"))
        tx = first.submit("test.near", "a.test", [act.function_call("start")]).tx_hash
    with ContractSimulator(db_path=db, engine=engine) as second:
        assert len(second.pending()["queued"]) == 2
        second.fast_forward(2)
        final = second.tx_outcome(tx)
        assert final.status == "SuccessValue" and final.value == b'"done"'


def test_strict_receipt_delays(engine: FakeEngine) -> None:
    with ContractSimulator(db_path=":memory:", engine=engine, gas_price=0,
                           strict_receipt_delays=True) as sim:
        sim.deploy("a.test", engine.contract("a", m=lambda c: "x"))
        h = sim.height + 1
        remote = sim.call("a.test", "m")
        assert heights(sim, remote, h) == [(1, "a.test", "SuccessValue")]
        assert remote.transaction_outcome is not None
        assert remote.transaction_outcome.block_height == h
        h = sim.height + 1
        local = sim.transact("a.test", "a.test", [act.function_call("m")])
        assert heights(sim, local, h) == [(0, "a.test", "SuccessValue")]


def test_time_and_seeds(sim: ContractSimulator, engine: FakeEngine) -> None:
    seen: list[tuple[int, int, bytes]] = []

    def now(c: FakeCall) -> None:
        seen.append((c.context.block_height, c.context.block_timestamp, c.context.random_seed))

    sim.deploy("a.test", engine.contract("a", now=now))
    sim.set_timestamp(2_000_000_000_000_000_000)
    sim.call("a.test", "now")
    sim.set_block_time(5)
    sim.call("a.test", "now")
    sim.fast_forward(3)
    sim.call("a.test", "now")
    (h1, t1, s1), (h2, t2, _), (h3, t3, s3) = seen
    assert t1 == 2_000_000_000_000_000_000 and t2 == t1 + 5 and t3 == t2 + 4 * 5
    assert h3 == h2 + 4 and s1 != s3
    assert s3 == hashlib.sha256(b"outlayer" + h3.to_bytes(8, "little")).digest()
    with pytest.raises(UserError, match="only moves forward"):
        sim.set_timestamp(t1)


# --- gas: prepaid, burnt, refunded --------------------------------------------------------


@pytest.fixture
def priced(engine: FakeEngine) -> Iterator[ContractSimulator]:
    with ContractSimulator(db_path=":memory:", engine=engine,
                           gas_price=NEAR_GAS_PRICE) as sim:
        yield sim


def _fees(method: str, args: bytes) -> tuple[int, int]:
    """(send fees, exec fees) of a one-function-call transaction to another account."""
    n = len(method) + len(args)
    send = (P.action_receipt_creation.send_not_sir + P.action_function_call.send_not_sir
            + P.action_function_call_per_byte.send_not_sir * n)
    exe = (P.action_receipt_creation.execution + P.action_function_call.execution
           + P.action_function_call_per_byte.execution * n)
    return send, exe


def test_gas_refund_arithmetic_on_success(priced: ContractSimulator, engine: FakeEngine
                                          ) -> None:
    sim = priced
    sim.deploy("a.test", engine.contract("a", work=lambda c: c.burn(4 * TGAS)))
    sim.create_account("alice.test", 10 * NEAR)
    a0 = balance(sim, "a.test")
    gas, deposit, vm = 50 * TGAS, 1000, 5 * TGAS
    result = sim.call("a.test", "work", signer_id="alice.test", gas=gas, deposit=deposit)
    send, exe = _fees("work", b"{}")
    assert result.gas_burnt == vm
    own, refund = result.receipts_outcome
    assert result.transaction_outcome is not None
    assert result.transaction_outcome.gas_burnt == send
    assert own.gas_burnt == exe + vm and own.tokens_burnt == (exe + vm) * NEAR_GAS_PRICE
    # success: prepaid + exec fees - used, at the receipt's gas price, to the signer
    assert refund.executor_id == "alice.test" and refund.receipt_kind == "refund"
    assert refund.actions == [{"Transfer": {"deposit": str((gas - vm) * NEAR_GAS_PRICE)}}]
    assert refund.gas_burnt == P.action_receipt_creation.execution + P.action_transfer.execution
    assert refund.tokens_burnt == 0
    assert balance(sim, "alice.test") == 10 * NEAR - deposit - (send + exe + vm) * NEAR_GAS_PRICE
    reward = vm * 3 // 10 * NEAR_GAS_PRICE  # 30% of the function call's gas, to the contract
    assert balance(sim, "a.test") == a0 + deposit + reward
    assert result.tokens_burnt == (send + exe + vm) * NEAR_GAS_PRICE
    assert result.total_gas_burnt == send + exe + vm + refund.gas_burnt


def test_gas_refund_arithmetic_on_failure(priced: ContractSimulator, engine: FakeEngine
                                          ) -> None:
    sim = priced

    def boom(c: FakeCall) -> None:
        c.call("b.test", "never", gas=20 * TGAS)  # used, not burnt: refunded on failure
        raise Fail("GuestPanic", "no")

    sim.deploy("a.test", engine.contract("a", boom=boom))
    sim.create_account("alice.test", 10 * NEAR)
    gas, deposit = 50 * TGAS, 1000
    result = sim.call("a.test", "boom", signer_id="alice.test", gas=gas, deposit=deposit)
    send, exe = _fees("boom", b"{}")
    own, deposit_refund, gas_refund = result.receipts_outcome
    assert own.gas_burnt == exe + TGAS
    assert (deposit_refund.executor_id, deposit_refund.actions) == (
        "alice.test", [{"Transfer": {"deposit": "1000"}}])
    # failure: prepaid + exec fees - burnt
    assert gas_refund.actions == [{"Transfer": {
        "deposit": str((gas - TGAS) * NEAR_GAS_PRICE)}}]
    assert balance(sim, "alice.test") == 10 * NEAR - (send + exe + TGAS) * NEAR_GAS_PRICE


def test_zero_gas_price_makes_no_refund_receipts(sim: ContractSimulator, engine: FakeEngine
                                                 ) -> None:
    sim.deploy("a.test", engine.contract("a", m=lambda c: None))
    result = sim.call("a.test", "m")
    assert len(result.receipts_outcome) == 1 and result.tokens_burnt == 0
    assert result.total_gas_burnt > result.gas_burnt > 0


def test_chain_settings_are_fixed_at_creation(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    ContractSimulator(db_path=db, gas_price=0, epoch_length=10).close()
    with ContractSimulator(db_path=db) as again:
        assert (again.gas_price, again.epoch_length) == (0, 10)
        assert again.chain_config()["gas_price"] == 0
        assert again.chain_config()["epoch_length"] == 10
    with pytest.raises(UserError, match="gas price"):
        ContractSimulator(db_path=db, gas_price=NEAR_GAS_PRICE)
    with pytest.raises(UserError, match="epoch length"):
        ContractSimulator(db_path=db, epoch_length=5)
    with pytest.raises(UserError, match="epoch_length"):
        ContractSimulator(db_path=":memory:", epoch_length=0)


# --- outcome shapes ---------------------------------------------------------------------------


def test_outcome_json_is_shaped_like_near(sim: ContractSimulator, engine: FakeEngine) -> None:
    def start(c: FakeCall) -> None:
        c.log("hello")
        c.return_promise(c.call("b.test", "work"))

    sim.deploy("a.test", engine.contract("a", start=start))
    sim.deploy("b.test", engine.contract("b", work=lambda c: {"v": 1}))
    doc = json.loads(json.dumps(sim.call("a.test", "start").to_json()))
    assert doc["status"] == "success" and doc["result"] == {"v": 1}
    assert doc["final_status"] == {"SuccessValue": "eyJ2IjogMX0="}
    tx = doc["transaction_outcome"]
    assert set(tx) >= {"id", "block_height", "outcome"}
    assert set(tx["outcome"]) >= {"executor_id", "status", "logs", "receipt_ids", "gas_burnt",
                                  "tokens_burnt"}
    first, second = doc["receipts_outcome"]
    assert first["outcome"]["status"] == {"SuccessReceiptId": second["id"]}
    assert first["outcome"]["logs"] == ["hello"]
    assert first["actions"] == [{"FunctionCall": {"method_name": "start", "args_size": 2,
                                                  "deposit": "0", "gas": 300 * TGAS}}]
    assert doc["total_gas_burnt"] == (tx["outcome"]["gas_burnt"] + first["outcome"]["gas_burnt"]
                                      + second["outcome"]["gas_burnt"])
    history = sim.transactions("a.test")[-1]
    assert history["outcome"]["receipts_outcome"] == doc["receipts_outcome"]


def test_receipt_json_round_trip() -> None:
    receipt = rc.ActionReceipt(
        bytes(range(32)), "a.test", "b.test", "a.test", public_key_bytes(KEY1), 7,
        [FunctionCall("m", b"{}", 5, 10), Transfer(3), act.add_function_call_key(
            KEY2, "c.test", ["x"], 9), act.delete_account("d.test")],
        [bytes(32)], [rc.DataReceiver(b"\x01" * 32, "e.test")], tx_hash="tx")
    assert rc.loads(rc.dumps(receipt)) == receipt
    data = rc.DataReceipt(b"\x02" * 32, "a.test", "b.test", b"\x03" * 32, None, True, "tx")
    assert rc.loads(rc.dumps(data)) == data
    assert DEFAULT_SIGNER == "test.near"
