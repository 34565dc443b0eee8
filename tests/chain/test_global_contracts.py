"""Global contracts (NEP-591): DeployGlobalContract / UseGlobalContract on the simulated
chain, in both deploy modes, with JavaScript and wasm code: fees and the balance burnt,
storage usage, upgrades by account id, errors that write nothing, replay and migration."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import wasmtime

from outlayer.chain import actions, roots
from outlayer.chain import global_contracts as gc
from outlayer.chain.simulator import ContractCompileError, ContractSimulator
from outlayer.chain.store import code_hash
from outlayer.errors import UserError

NEAR = 10**24

COUNTER_V1 = """
export function increment() {
  const n = Number(near.storageRead("n") || "0") + 1;
  near.storageWrite("n", String(n));
  return n;
}
export function get() { return Number(near.storageRead("n") || "0"); }
export function who() { return { me: near.currentAccountId(), version: 1 }; }
"""
COUNTER_V2 = COUNTER_V1.replace("version: 1", "version: 2")


def wasm_who(version: int) -> bytes:
    """A direct-mode contract: `who` returns "<current account id>:v<version>"."""
    return wasmtime.wat2wasm(f"""(module
      (import "env" "current_account_id" (func $cur (param i64)))
      (import "env" "read_register" (func $read (param i64 i64)))
      (import "env" "register_len" (func $len (param i64) (result i64)))
      (import "env" "value_return" (func $ret (param i64 i64)))
      (memory (export "memory") 1)
      (func (export "who") (local $n i64)
        (call $cur (i64.const 0))
        (local.set $n (call $len (i64.const 0)))
        (call $read (i64.const 0) (i64.const 16))
        (i32.store8 (i32.add (i32.const 16) (i32.wrap_i64 (local.get $n))) (i32.const 58))
        (i32.store8 (i32.add (i32.const 17) (i32.wrap_i64 (local.get $n))) (i32.const 118))
        (i32.store8 (i32.add (i32.const 18) (i32.wrap_i64 (local.get $n)))
                    (i32.const {48 + version}))
        (call $ret (i64.add (local.get $n) (i64.const 3)) (i64.const 16))))""")


@pytest.fixture
def free() -> ContractSimulator:
    """Gas price 0: balances move only by deposits and what a global deploy burns."""
    with ContractSimulator(db_path=":memory:", gas_price=0) as simulator:
        yield simulator


def test_deploy_by_hash_burns_per_byte_and_users_run_it(free: ContractSimulator) -> None:
    free.create_account("lib.test", "100NEAR")
    before = free.account("lib.test")
    info = free.deploy_global("lib.test", COUNTER_V1)
    code = COUNTER_V1.encode()
    assert info["identifier"] == {"CodeHash": code_hash(code)}
    assert sorted(info["methods"]) == ["get", "increment", "who"]
    after = free.account("lib.test")
    cost = free.params.global_contract_storage_amount_per_byte * len(code)
    assert cost == len(code) * 10**20
    # burnt, not staked: the balance drops, the deployer's storage does not grow
    assert before["balance"] - after["balance"] == cost
    assert after["storage_usage"] == before["storage_usage"]
    assert after["code_hash"] is None
    outcome = free.tx_outcome(info["tx_hash"])
    assert outcome.receipts_outcome[0].tokens_burnt == cost  # gas price 0: only the code

    free.create_account("user.test", "5NEAR")
    plain = free.account("user.test")["storage_usage"]
    used = free.use_global("user.test", code_hash=info["code_hash"])
    assert used["global_contract"] == {"CodeHash": code_hash(code)}
    assert used["storage_usage"] == plain + 32  # the identifier, not the code
    assert free.call("user.test", "increment").result == 1
    assert free.call("user.test", "increment").result == 2
    assert free.view("user.test", "who").result == {"me": "user.test", "version": 1}
    assert free.state("user.test") == {"n": "2"}  # the user's own storage
    assert free.account("user.test")["storage_usage"] > plain + 32


def test_fees_follow_nearcore_77() -> None:
    """Gas at NEAR's price: send + exec fees of the action, and the burnt balance on top."""
    with ContractSimulator(db_path=":memory:") as sim:
        _fees(sim)


def _fees(sim: ContractSimulator) -> None:
    assert sim.gas_price > 0
    p = sim.params
    sim.create_account("lib.test", "100NEAR")
    code = COUNTER_V1.encode()
    before = sim.account("lib.test")["balance"]
    info = sim.deploy_global("lib.test", code, mode="AccountId")
    final = sim.tx_outcome(info["tx_hash"])
    send = (p.action_receipt_creation.send_sir + p.action_deploy_global_contract.send_sir
            + p.action_deploy_global_contract_per_byte.send_sir * len(code))
    execution = (p.action_receipt_creation.execution
                 + p.action_deploy_global_contract.execution
                 + p.action_deploy_global_contract_per_byte.execution * len(code))
    assert final.transaction_outcome.gas_burnt == send
    assert final.receipts_outcome[0].gas_burnt == execution
    burnt_balance = p.global_contract_storage_amount_per_byte * len(code)
    assert final.receipts_outcome[0].tokens_burnt == execution * sim.gas_price + burnt_balance
    spent = before - sim.account("lib.test")["balance"]
    assert spent == (send + execution) * sim.gas_price + burnt_balance

    sim.create_account("user.test", "5NEAR")
    use = sim.transact("user.test", "user.test",
                       [actions.use_global_contract(account_id="lib.test")])
    assert use.ok, use.error
    ident = len(b"lib.test")
    assert use.outcome.receipts_outcome[0].gas_burnt == (
        p.action_receipt_creation.execution + p.action_use_global_contract.execution
        + p.action_use_global_contract_per_identifier_byte.execution * ident)
    assert use.outcome.transaction_outcome.gas_burnt == (
        p.action_receipt_creation.send_sir + p.action_use_global_contract.send_sir
        + p.action_use_global_contract_per_identifier_byte.send_sir * ident)


def test_local_code_is_replaced_and_its_storage_released(free: ContractSimulator) -> None:
    free.create_account("lib.test", "100NEAR")
    info = free.deploy_global("lib.test", COUNTER_V2)
    local = "export function get() { return 'local'; }"
    free.deploy("app.test", local)
    with_code = free.account("app.test")
    free.call("app.test", "get")
    used = free.use_global("app.test", code_hash=info["code_hash"])
    assert used["code_hash"] is None
    assert used["storage_usage"] == with_code["storage_usage"] - len(local) + 32
    assert free.view("app.test", "who").result == {"me": "app.test", "version": 2}
    # deploying local code again drops the reference and its 32 bytes
    free.deploy("app.test", local)
    again = free.account("app.test")
    assert again["storage_usage"] == with_code["storage_usage"]
    assert free.global_contract("app.test") is None
    assert free.view("app.test", "get").result == "local"
    # a DeployContract action does the same
    free.use_global("app.test", code_hash=info["code_hash"])
    result = free.transact("app.test", "app.test", [actions.deploy_contract(local)])
    assert result.ok, result.error
    assert free.account("app.test")["storage_usage"] == with_code["storage_usage"]
    assert free.global_contract("app.test") is None


def test_upgrade_by_account_id_reaches_every_user(free: ContractSimulator) -> None:
    free.create_account("lib.test", "100NEAR")
    by_hash = free.deploy_global("lib.test", COUNTER_V1)
    free.deploy_global("lib.test", COUNTER_V1, mode="AccountId")
    for user in ("a.test", "b.test"):
        free.create_account(user, "5NEAR")
        free.use_global(user, by_account="lib.test")
        assert free.account(user)["storage_usage"] == 182 + len(b"lib.test")
    free.create_account("pinned.test", "5NEAR")
    free.use_global("pinned.test", code_hash=by_hash["code_hash"])
    free.call("a.test", "increment")
    assert free.view("a.test", "who").result["version"] == 1
    free.deploy_global("lib.test", COUNTER_V2, mode="AccountId")  # the owner updates it
    assert free.view("a.test", "who").result == {"me": "a.test", "version": 2}
    assert free.view("b.test", "who").result == {"me": "b.test", "version": 2}
    assert free.view("a.test", "get").result == 1  # the user's state stays
    # a code hash names one code forever: deploying other code by hash adds, never replaces
    free.deploy_global("lib.test", COUNTER_V2)
    assert free.view("pinned.test", "who").result["version"] == 1


def test_wasm_contracts_both_modes() -> None:
    with ContractSimulator("direct", db_path=":memory:", gas_price=0) as sim:
        sim.create_account("lib.test", "100NEAR")
        v1, v2 = wasm_who(1), wasm_who(2)
        info = sim.deploy_global("lib.test", v1)
        assert info["methods"] == ["who"]
        sim.deploy_global("lib.test", v1, mode="AccountId")
        sim.create_account("h.test", "5NEAR")
        sim.create_account("a.test", "5NEAR")
        sim.use_global("h.test", code_hash=info["code_hash"])
        sim.use_global("a.test", by_account="lib.test")
        assert sim.call("h.test", "who").result == "h.test:v1"
        assert sim.view("a.test", "who").result == "a.test:v1"
        sim.deploy_global("lib.test", v2, mode="AccountId")
        assert sim.call("a.test", "who").result == "a.test:v2"
        assert sim.view("h.test", "who").result == "h.test:v1"


def test_unknown_identifier_fails_and_writes_nothing(free: ContractSimulator) -> None:
    free.deploy("app.test", "export function get() { return 'local'; }")
    before = free.account("app.test")
    result = free.transact("app.test", "app.test",
                           [actions.use_global_contract(account_id="nobody.test")])
    assert not result.ok
    assert result.error["kind"] == "GlobalContractDoesNotExist"
    assert result.final_status == {"Failure": {"ActionError": {"index": 0, "kind": {
        "GlobalContractDoesNotExist": {"identifier": {"AccountId": "nobody.test"}}}}}}
    with pytest.raises(UserError, match="GlobalContractDoesNotExist"):
        free.use_global("app.test", code_hash=code_hash(b"never deployed"))
    with pytest.raises(UserError, match="32 bytes"):
        free.use_global("app.test", code_hash="abc")
    assert free.account("app.test") == before
    assert free.global_contract("app.test") is None
    assert free.view("app.test", "get").result == "local"


def test_a_failed_receipt_keeps_no_global_contract_and_burns_nothing(
        free: ContractSimulator) -> None:
    free.create_account("lib.test", "100NEAR")
    before = free.account("lib.test")
    result = free.transact("lib.test", "lib.test", [
        actions.deploy_global_contract(COUNTER_V1, "AccountId"),
        actions.use_global_contract(account_id="lib.test"),  # works: the code is in place
        actions.function_call("no_such_method")])
    assert not result.ok
    assert result.outcome.receipts_outcome[0].tokens_burnt == 0
    assert free.account("lib.test") == before
    assert free.store.get_global_contract("account:lib.test") is None
    assert free.global_contract("lib.test") is None
    # too little balance for the code: LackBalanceForState, with nearcore's amount
    free.create_account("poor.test", "0.01NEAR")
    result = free.transact("poor.test", "poor.test",
                           [actions.deploy_global_contract(COUNTER_V1)])
    cost = 10**20 * len(COUNTER_V1.encode())
    assert result.final_status["Failure"]["ActionError"]["kind"] == {
        "LackBalanceForState": {"account_id": "poor.test", "amount": str(cost)}}
    assert free.store.get_global_contract(f"hash:{code_hash(COUNTER_V1.encode())}") is None
    with pytest.raises(ContractCompileError):
        free.deploy_global("lib.test", "export function f( {")


def test_only_the_account_itself_may_use_or_deploy(free: ContractSimulator) -> None:
    free.create_account("lib.test", "100NEAR")
    info = free.deploy_global("lib.test", COUNTER_V1)
    free.create_account("victim.test", "5NEAR")
    for action in (actions.use_global_contract(code_hash=info["code_hash"]),
                   actions.deploy_global_contract(COUNTER_V2, "AccountId")):
        result = free.transact("lib.test", "victim.test", [action])
        assert result.final_status["Failure"]["ActionError"]["kind"] == {
            "ActorNoPermission": {"account_id": "victim.test", "actor_id": "lib.test"}}
    assert free.store.get_global_contract("account:victim.test") is None


def test_delete_account_drops_the_reference(free: ContractSimulator) -> None:
    free.create_account("lib.test", "100NEAR")
    info = free.deploy_global("lib.test", COUNTER_V1)
    free.create_account("gone.test", "5NEAR")
    free.use_global("gone.test", code_hash=info["code_hash"])
    result = free.transact("gone.test", "gone.test", [actions.delete_account("lib.test")])
    assert result.ok, result.error
    assert free.store.get_account_contract("gone.test") is None
    # the global code outlives its users (and, by hash, its deployer)
    assert free.store.get_global_contract(f"hash:{info['code_hash']}") is not None


def test_history_replays_and_past_blocks_show_the_code(tmp_path: Path) -> None:
    db = tmp_path / "chain.db"
    with ContractSimulator(db_path=db) as sim:
        sim.create_account("lib.test", "100NEAR")
        sim.deploy_global("lib.test", COUNTER_V1, mode="AccountId")
        sim.create_account("u.test", "5NEAR")
        sim.use_global("u.test", by_account="lib.test")
        sim.call("u.test", "increment")
        old = sim.height
        sim.deploy_global("lib.test", COUNTER_V2, mode="AccountId")
        sim.call("u.test", "increment")
        assert sim.view("u.test", "who", block_height=old).result["version"] == 1
        assert sim.view("u.test", "who").result["version"] == 2
        found = gc.contract_code(sim.store, sim.store.get_account("u.test"), old)
        assert found is not None and found[0] == code_hash(COUNTER_V1.encode())
        assert sim.block.state_root == roots.state_root(sim.store)  # no cache: the same
    with ContractSimulator(db_path=db) as reopened:
        report = reopened.verify()
        assert report.ok, report.divergence
        assert report.transactions >= 5
        assert reopened.verify(from_block=old).ok  # from a checkpoint with global state


def test_roots_of_chains_without_global_contracts_do_not_change() -> None:
    """Pinned from the code before global contracts existed (gas price 0: the root does not
    depend on gas metering)."""
    source = ("export function set(args) { near.storageWrite(args.key, args.value); "
              "return true; }\nexport function get(args) { return near.storageRead(args.key); }")
    with ContractSimulator(db_path=":memory:", gas_price=0) as sim:
        sim.deploy("kv.test", source)
        sim.call("kv.test", "set", {"key": "a", "value": "1"})
        sim.transact("alice.test", "sub.alice.test", [
            actions.create_account(), actions.transfer("5NEAR"),
            actions.add_full_access_key("ed25519:6E8sCci9badyRkXb3JoRpBj5p8C6Tw41ELDZoiihKEtp")])
        sim.call("kv.test", "missing")
        assert sim.height == 3
        assert sim.block.state_root.hex() == (
            "03aa4d78f358a69c715746b5baf8f415e1fd73712241143b84239ff5f912c8cf")


def test_a_schema_4_file_migrates(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with ContractSimulator(db_path=db, gas_price=0) as sim:
        sim.deploy("kv.test", "export function get() { return 1; }")
        root = sim.block.state_root
    raw = sqlite3.connect(db)  # make it what schema 4 wrote: no global contract tables
    for table in ("global_contracts", "account_contracts"):
        for op in ("insert", "update", "delete"):
            raw.execute(f"DROP TRIGGER {table}_log_{op}")
        raw.execute(f"DROP TABLE {table}")
    raw.execute("UPDATE schema_version SET version = 4")
    raw.commit()
    raw.close()
    with ContractSimulator(db_path=db, gas_price=0) as sim:
        assert sim.block.state_root == root
        sim.create_account("lib.test", "100NEAR")
        info = sim.deploy_global("lib.test", COUNTER_V1)
        sim.use_global("kv.test", code_hash=info["code_hash"])
        assert sim.view("kv.test", "who").result["me"] == "kv.test"
        assert sim.verify().ok
    version = sqlite3.connect(db).execute("SELECT version FROM schema_version").fetchone()
    assert version == (5,)


def test_cli_deploy_global_use_global_and_verify(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from outlayer.cli import app

    db, source = tmp_path / "state.db", tmp_path / "counter.js"
    source.write_text(COUNTER_V1)

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, ["--db", str(db), *args])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result.stdout

    run("create-account", "lib.test", "--balance", "100NEAR")
    out = json.loads(run("deploy", "lib.test", str(source), "--global", "--by-account",
                         "--json"))
    assert out["result"]["identifier"] == {"AccountId": "lib.test"}
    by_hash = json.loads(run("deploy", "lib.test", str(source), "--global", "--json"))
    assert by_hash["result"]["identifier"] == {"CodeHash": code_hash(COUNTER_V1.encode())}
    run("create-account", "u.test")
    used = json.loads(run("use-global", "u.test", "--account", "lib.test", "--json"))
    assert used["result"]["global_contract"] == {"AccountId": "lib.test"}
    assert "global contract  AccountId lib.test" in run("account", "u.test")
    shown = json.loads(run("account", "u.test", "--json"))
    assert shown["result"]["global_contract"] == {"AccountId": "lib.test"}
    height = json.loads(run("block", "--json"))["result"]["height"]
    then = json.loads(run("account", "u.test", "--at-block", str(height), "--json"))
    assert then["result"]["global_contract"] == {"AccountId": "lib.test"}  # from history
    assert json.loads(run("call", "u.test", "increment", "--json"))["result"] == 1
    bad = json.loads(run("use-global", "u.test", "--account", "none.test", "--json", code=2))
    assert "GlobalContractDoesNotExist" in bad["error"]["message"]
    run("deploy", "lib.test", str(source), "--by-account", code=2)
    assert "verified" in run("verify")
