"""A DeployContract action refuses code that cannot load, like `ContractSimulator.deploy`:
the receipt fails with CompileError and nothing of it is kept (nearcore would store it and
fail at the first call; docs/DIRECT_WASM.md says why OutLayer differs)."""

from __future__ import annotations

import wasmtime

from outlayer.chain import actions
from outlayer.chain.simulator import ContractSimulator
from outlayer.testing import Sandbox

NOT_WASM_BODY = b"\0asm\x01\0\0\0garbage"
UNKNOWN_IMPORT = wasmtime.wat2wasm(
    '(module (import "env" "no_such_fn" (func)) (func (export "f")))')
JS_SYNTAX_ERROR = "export function f( { return 1 }"
JS_OK = "export function f() { return 1; }"


def _failed_with_compile_error(result, needle: str) -> None:  # type: ignore[no-untyped-def]
    assert not result.ok
    assert result.error is not None
    assert result.error["kind"] == "CompileError", result.error
    assert needle in result.error["message"], result.error["message"]
    failure = result.final_status["Failure"]["ActionError"]
    assert failure["kind"]["FunctionCallError"]["CompilationError"]["WasmerCompileError"][
        "msg"].startswith("the contract does not compile: ")


def test_bad_wasm_in_a_new_account_rolls_back_the_whole_receipt(sim: ContractSimulator) -> None:
    result = sim.transact("alice.test", "bad.alice.test", [
        actions.create_account(), actions.transfer("5NEAR"),
        actions.deploy_contract(NOT_WASM_BODY)])
    _failed_with_compile_error(result, "invalid wasm module")
    assert not sim.store.get_account("bad.alice.test")


def test_unknown_import_is_refused_and_old_code_stays(sim: ContractSimulator,
                                                      counter_wasm: bytes) -> None:
    sim.deploy("c.test", counter_wasm)
    before = sim.account("c.test")
    result = sim.transact("c.test", "c.test", [actions.deploy_contract(UNKNOWN_IMPORT)])
    _failed_with_compile_error(result, "no_such_fn")
    after = sim.account("c.test")
    assert (after["code_hash"], after["storage_usage"]) == (before["code_hash"],
                                                             before["storage_usage"])
    assert sim.call("c.test", "increment").ok


def test_submit_refuses_too(sim: ContractSimulator) -> None:
    sim.deploy("c.test", JS_OK)
    result = sim.submit("c.test", "c.test", [actions.deploy_contract(NOT_WASM_BODY)])
    sim.fast_forward(2)
    final = sim.tx_outcome(result.tx_hash)
    assert final.status == "Failure", final.to_json()
    assert "invalid wasm module" in str(final.to_json())


def test_js_that_does_not_compile_is_refused_like_deploy(sim: ContractSimulator) -> None:
    sim.deploy("c.test", JS_OK)
    result = sim.transact("c.test", "c.test", [actions.deploy_contract(JS_SYNTAX_ERROR)])
    _failed_with_compile_error(result, "contract.js:1:22")
    assert sim.view("c.test", "f").result == 1


def test_valid_code_still_deploys_by_transaction(sim: ContractSimulator,
                                                 counter_wasm: bytes) -> None:
    result = sim.transact("alice.test", "new.alice.test", [
        actions.create_account(), actions.transfer("5NEAR"),
        actions.deploy_contract(counter_wasm)])
    assert result.ok, result.error
    assert sim.call("new.alice.test", "increment").ok


def test_harness_batch_deploy_of_bad_wasm_fails(sandbox: Sandbox) -> None:
    alice = sandbox.root.create_subaccount("alice")
    result = alice.batch(alice, [actions.deploy_contract(NOT_WASM_BODY)])
    assert result.is_failure
    assert result.raw.error is not None and result.raw.error["kind"] == "CompileError"
    assert sandbox.sim.account(alice.id)["code_hash"] == sandbox.sim.account(
        sandbox.root.id)["code_hash"]
