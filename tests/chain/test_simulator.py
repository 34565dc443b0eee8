"""ContractSimulator end to end on the real QuickJS guest."""

from __future__ import annotations

from pathlib import Path

import pytest

from outlayer.chain import actions as A
from outlayer.chain import blocks
from outlayer.chain.accounts import (
    DEFAULT_BALANCE,
    DEFAULT_SIGNER,
    DEFAULT_SIGNER_BALANCE,
    BadAccountId,
    NotEnoughBalance,
    UnsupportedExecutionMode,
)
from outlayer.chain.signed import InvalidTx
from outlayer.chain.simulator import ContractCompileError, ContractSimulator
from outlayer.chain.units import NEAR
from outlayer.errors import (
    AccountAlreadyExists,
    AccountNotFound,
    ContractNotDeployed,
    UserError,
)

from .conftest import KV_CONTRACT


def _snapshot(sim: ContractSimulator, account_id: str) -> tuple[object, ...]:
    return (sim.state(account_id), sim.store.get_account(account_id),
            sim.store.get_account(DEFAULT_SIGNER))


def test_counter_flow(sim: ContractSimulator, counter_source: str) -> None:
    info = sim.deploy("counter.test", counter_source)
    assert info["created"] is True
    assert set(info["methods"] or []) >= {"increment", "decrement", "get_count", "reset"}
    start = sim.height
    results = [sim.call("counter.test", "increment") for _ in range(3)]
    assert [r.result for r in results] == [1, 2, 3]
    assert [r.status for r in results] == ["success"] * 3
    assert results[-1].logs == ["Counter incremented to 3"]
    assert results[-1].state_changes == {"count": "3"}
    assert [r.block_height for r in results] == [start + 1, start + 2, start + 3]
    assert all(r.gas_burnt > 0 and r.gas_used >= r.gas_burnt for r in results)
    assert all(r.tx_hash for r in results)
    view = sim.view("counter.test", "get_count")
    assert view.ok and view.result == 3 and view.state_changes == {}
    assert sim.height == start + 3  # views make no block
    assert sim.state("counter.test") == {"count": "3"}
    assert sim.call("counter.test", "decrement").result == 2
    assert sim.call("counter.test", "reset").result == 0


def test_failed_call_writes_nothing_but_history(kv: ContractSimulator) -> None:
    kv.call("kv.test", "set", {"key": "a", "value": "1"})
    before = _snapshot(kv, "kv.test")
    height = kv.height
    result = kv.call("kv.test", "set_then_fail", {"key": "a", "value": "2"}, deposit=5)
    assert result.status == "failure" and not result.ok
    assert result.error is not None and result.error["kind"] == "JSException"
    assert "failed after writing a" in result.error["message"]
    assert result.state_changes == {} and result.attempted_changes == {"a": "2"}
    assert result.gas_burnt > 0
    assert _snapshot(kv, "kv.test") == before  # state, contract balance, signer balance
    # the failed transaction still took its block; the deposit refund ran in the next one
    assert kv.height == height + 2
    refund = result.receipts_outcome[-1]
    assert refund.receipt_kind == "refund" and refund.executor_id == DEFAULT_SIGNER
    assert refund.actions == [{"Transfer": {"deposit": "5"}}]
    last = kv.transactions("kv.test")[-1]
    assert last["status"] == "failure" and last["method"] == "set_then_fail"
    assert last["outcome"]["error"]["kind"] == "JSException"


def test_view_cannot_write(kv: ContractSimulator) -> None:
    before = _snapshot(kv, "kv.test")
    history = len(kv.transactions())
    result = kv.view("kv.test", "write_in_view")
    assert result.error is not None and result.error["kind"] == "ProhibitedInView"
    assert _snapshot(kv, "kv.test") == before
    assert len(kv.transactions()) == history


def test_state_persists_across_instances(tmp_path: Path, counter_source: str) -> None:
    db = tmp_path / "chain.db"
    with ContractSimulator(db_path=db) as first:
        first.deploy("counter.test", counter_source)
        first.call("counter.test", "increment")
        first.call("counter.test", "increment")
        height = first.height
    with ContractSimulator(db_path=db) as second:
        assert second.height == height
        assert second.state("counter.test") == {"count": "2"}
        assert second.call("counter.test", "increment").result == 3
        assert second.view("counter.test", "get_count").result == 3
        assert [t["method"] for t in second.transactions("counter.test")
                if t["kind"] == "call"] == ["increment"] * 3


def test_deposit_moves_only_on_success(kv: ContractSimulator) -> None:
    kv.create_account("alice.test", 10 * NEAR)
    ok = kv.call("kv.test", "set", {"key": "k", "value": "v"}, signer_id="alice.test",
                 deposit=NEAR)
    assert ok.ok
    assert kv.account("alice.test")["balance"] == 9 * NEAR
    assert kv.account("kv.test")["balance"] == DEFAULT_BALANCE + NEAR
    failed = kv.call("kv.test", "set_then_fail", {"key": "k", "value": "w"},
                     signer_id="alice.test", deposit=NEAR)
    assert not failed.ok
    assert kv.account("alice.test")["balance"] == 9 * NEAR
    with pytest.raises(NotEnoughBalance, match="less than the attached deposit"):
        kv.call("kv.test", "set", {"key": "k", "value": "v"}, signer_id="alice.test",
                deposit=100 * NEAR)


def test_a_transaction_leaving_its_signer_short_of_storage_stake_is_refused(
        kv: ContractSimulator) -> None:
    """nearcore's InvalidTxError::LackBalanceForState: refused before it runs, nothing
    written (kv.test holds code, so most of its balance is storage stake)."""
    before = kv.account("kv.test")
    height = kv.height
    with pytest.raises(InvalidTx) as info:
        kv.transact("kv.test", "alice.test", [A.transfer(before["balance"] - 10**20)])
    lacking = info.value.detail["LackBalanceForState"]
    assert lacking["signer_id"] == "kv.test"
    assert int(lacking["amount"]) == before["storage_usage"] * 10**19 - 10**20
    assert kv.account("kv.test") == before and kv.height == height


def test_code_that_cannot_load_within_a_calls_gas_is_refused_at_deploy(
        sim: ContractSimulator) -> None:
    """A top level that never ends (or megabytes of JS whose load cannot be snapshotted)
    would make every call fail with GasLimitExceeded: refused at deploy instead, by both
    doors, and nothing is stored."""
    src = "let i = 0;\nwhile (true) { i++; }\nexport function f() { return 1; }\n"
    with pytest.raises(ContractCompileError, match="cannot load within a call's gas limit"):
        sim.deploy("loop.test", src)
    with pytest.raises(UserError):
        sim.account("loop.test")
    result = sim.transact("test.near", "loop.test.near", [
        A.create_account(), A.transfer(10 * NEAR), A.deploy_contract(src.encode())])
    assert not result.ok
    assert "cannot load within a call's gas limit" in result.error["message"]
    with pytest.raises(UserError):
        sim.account("loop.test.near")


def test_context_seen_by_the_contract(kv: ContractSimulator) -> None:
    kv.create_account("alice.test")
    result = kv.call("kv.test", "context", signer_id="alice.test", deposit=7)
    ctx = result.result
    height = result.block_height
    assert ctx["current"] == "kv.test"
    assert ctx["signer"] == ctx["predecessor"] == "alice.test"
    assert int(ctx["height"]) == height
    assert int(ctx["timestamp"]) == blocks.GENESIS_TIME_NS + height * blocks.BLOCK_TIME_NS
    assert ctx["deposit"] == "7"
    assert int(ctx["balance"]) == DEFAULT_BALANCE + 7  # includes the attached deposit
    assert int(ctx["storage_usage"]) == kv.account("kv.test")["storage_usage"]
    assert bytes(ctx["seed"]) == blocks.block_seed(blocks.CHAIN_SEED, height)


def test_signers_are_created_on_first_call(kv: ContractSimulator) -> None:
    for signer in (None, "stranger.test"):
        name = signer or DEFAULT_SIGNER
        with pytest.raises(AccountNotFound):
            kv.account(name)
        assert kv.call("kv.test", "set", {"key": "a", "value": "b"}, signer_id=signer).ok
        assert kv.account(name)["balance"] == DEFAULT_SIGNER_BALANCE
        assert kv.transactions(name)[0]["kind"] == "create_account"


def test_bad_input_is_refused_before_anything_runs(kv: ContractSimulator) -> None:
    height, history = kv.height, len(kv.transactions())
    for args, why in [("{not json", "not valid JSON"), ("[1, 2]", "got an array"),
                      (42, "must be a dict")]:
        with pytest.raises(UserError, match=why):
            kv.call("kv.test", "set", args)
    with pytest.raises(AccountNotFound, match="nobody.test"):
        kv.call("nobody.test", "set")
    with pytest.raises(BadAccountId, match="invalid signer id"):
        kv.call("kv.test", "set", signer_id="-bad")
    with pytest.raises(BadAccountId, match="invalid contract account id"):
        kv.call("Not Valid", "set")
    with pytest.raises(UserError, match="gas"):
        kv.call("kv.test", "set", gas="301T")
    with pytest.raises(UserError, match="method name"):
        kv.call("kv.test", "")
    assert (kv.height, len(kv.transactions())) == (height, history)


def test_account_rules(sim: ContractSimulator) -> None:
    sim.create_account("bob.test", "5NEAR")
    assert sim.account("bob.test")["balance"] == 5 * NEAR
    assert sim.account("bob.test")["storage_usage"] == 182  # with the chain's derived key
    with pytest.raises(AccountAlreadyExists):
        sim.create_account("bob.test")
    with pytest.raises(BadAccountId):
        sim.create_account("UPPER.test")
    with pytest.raises(ContractNotDeployed):
        sim.call("bob.test", "anything")
    with pytest.raises(UserError, match="larger balance"):
        sim.create_account("poor.test", 0)
    keyed = sim.create_account("key.test", public_key="ed25519:" + "1" * 32)
    assert keyed["storage_usage"] == 182  # NEAR's figure for an account with one key
    assert sim.create_account("bare.test", keyless=True)["storage_usage"] == 100
    assert sim.access_keys("bare.test") == []


def test_deploy_checks(sim: ContractSimulator, tmp_path: Path) -> None:
    with pytest.raises(ContractCompileError) as err:
        sim.deploy("bad.test", "export function f() {\n  return (;\n}\n")
    assert "2:" in err.value.message  # line:column of the syntax error
    with pytest.raises(AccountNotFound):
        sim.account("bad.test")  # nothing was created
    with pytest.raises(UserError, match="not found"):
        sim.deploy("x.test", tmp_path / "missing.js")
    with pytest.raises(UserError, match="empty"):
        sim.deploy("x.test", "  ")
    with pytest.raises(AccountNotFound):
        sim.deploy("x.test", KV_CONTRACT, create=False)
    path = tmp_path / "kv.js"
    path.write_text(KV_CONTRACT)
    first = sim.deploy("x.test", path)
    usage = sim.account("x.test")["storage_usage"]
    assert usage == 182 + len(KV_CONTRACT.encode())  # made with the derived key
    again = sim.deploy("x.test", KV_CONTRACT + "\n// v2\n")
    assert again["created"] is False and again["code_hash"] != first["code_hash"]
    assert sim.account("x.test")["storage_usage"] == usage + len("\n// v2\n")


def test_unknown_method_lists_exports(kv: ContractSimulator) -> None:
    result = kv.call("kv.test", "nope")
    assert result.error is not None and result.error["kind"] == "MethodNotFound"
    assert "'nope'" in result.error["message"] and "set_then_fail" in result.error["message"]


def test_storage_staking(sim: ContractSimulator) -> None:
    sim.create_account("tiny.test", NEAR // 50)  # pays for 2,000 bytes
    with pytest.raises(UserError, match="would use"):
        sim.deploy("tiny.test", KV_CONTRACT + "//" + "x" * 3000)
    sim.deploy("tiny.test", KV_CONTRACT)
    result = sim.call("tiny.test", "big", {"size": 10_000})
    assert result.error is not None and result.error["kind"] == "LackBalanceForState"
    assert sim.state("tiny.test") == {}


def test_execution_modes() -> None:
    with pytest.raises(UnsupportedExecutionMode, match="planned.*supported now: 'quickjs'"):
        ContractSimulator("posix", db_path=":memory:")
    with pytest.raises(UnsupportedExecutionMode, match="unknown execution_mode"):
        ContractSimulator("v8", db_path=":memory:")


def test_same_calls_same_digests(counter_source: str) -> None:
    def run() -> list[tuple[object, ...]]:
        with ContractSimulator(db_path=":memory:") as s:
            s.deploy("counter.test", counter_source)
            out = [s.call("counter.test", "increment") for _ in range(2)]
            out.append(s.view("counter.test", "get_count"))
            return [(r.digest, r.gas_burnt, r.logs, r.result, r.tx_hash) for r in out]

    assert run() == run()
