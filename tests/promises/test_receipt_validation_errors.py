"""A receipt a contract creates that breaks NEAR's rules: the call fails with
NewReceiptValidationError carrying nearcore's ReceiptValidationError as data, from
outlayer.vm.promises through the runtime's stored outcome to the JSON-RPC view (no message
parsing), and the flat kind/message users saw before is unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import base58
import pytest
from fastapi.testclient import TestClient

from outlayer.service.app import ServiceConfig, create_app
from outlayer.vm.params import DEFAULT_PARAMS
from outlayer.vm.promises import InvalidNewReceipt, validate_receipt
from outlayer.vm.receipts import FunctionCall, NewReceipt, Stake

TGAS = 10**12
SECP_KEY = "secp256k1:" + base58.b58encode(bytes(range(64))).decode()

CONTRACT = """
const self = () => near.currentAccountId();
export function zero_gas() {
  near.promiseBatchActionFunctionCall(near.promiseBatchCreate(self()), 'anything', {}, 0n, 0n);
}
export function delete_not_final() {
  const batch = near.promiseBatchCreate(self());
  near.promiseBatchActionDeleteAccount(batch, 'test.near');
  near.promiseBatchActionTransfer(batch, 1n);
}
export function too_many_actions() {
  const batch = near.promiseBatchCreate(self());
  for (let i = 0; i < 101; i++) near.promiseBatchActionTransfer(batch, 0n);
}
export function long_method() {
  near.promiseBatchActionFunctionCall(near.promiseBatchCreate(self()), 'm'.repeat(257), {},
                                      0n, 1000000000000n);
}
export function long_key_method() {
  near.promiseBatchActionAddKeyWithFunctionCall(near.promiseBatchCreate(self()),
    'ed25519:11111111111111111111111111111111', 0n, 0n, 'x.near', ['m'.repeat(257)]);
}
export function staking_key({ key }) {
  near.promiseBatchActionStake(near.promiseBatchCreate(self()), 1n, key);
}
"""

CASES: list[tuple[str, dict[str, Any] | None, str, Any]] = [
    ("zero_gas", None, "FunctionCallZeroAttachedGas: 'anything' attaches no gas",
     {"ActionsValidation": "FunctionCallZeroAttachedGas"}),
    ("delete_not_final", None, "DeleteActionMustBeFinal",
     {"ActionsValidation": "DeleteActionMustBeFinal"}),
    ("too_many_actions", None, "TotalNumberOfActionsExceeded: 101 exceeds the limit 100",
     {"ActionsValidation": {"TotalNumberOfActionsExceeded": {
         "total_number_of_actions": 101, "limit": 100}}}),
    ("long_method", None, "FunctionCallMethodNameLengthExceeded: 257 exceeds the limit 256",
     {"ActionsValidation": {"FunctionCallMethodNameLengthExceeded": {
         "length": 257, "limit": 256}}}),
    ("long_key_method", None, "AddKeyMethodNameLengthExceeded: 257 exceeds the limit 256",
     {"ActionsValidation": {"AddKeyMethodNameLengthExceeded": {"length": 257, "limit": 256}}}),
    ("staking_key", {"key": SECP_KEY}, "UnsuitableStakingKey: staking keys are ed25519",
     {"ActionsValidation": {"UnsuitableStakingKey": {"public_key": SECP_KEY}}}),
]


@pytest.fixture(scope="module")
def node() -> Iterator[TestClient]:
    app = create_app(ServiceConfig(db=":memory:", gas_price=0))
    app.state.node.call(lambda sim: sim.deploy("bad.test", CONTRACT))
    with TestClient(app) as http:
        yield http


@pytest.mark.parametrize(("method", "args", "message", "receipt_error"), CASES,
                         ids=[c[0] for c in CASES])
def test_structured_error_from_vm_to_rpc(node: TestClient, method: str,
                                         args: dict[str, Any] | None, message: str,
                                         receipt_error: Any) -> None:
    result = node.app.state.node.call(  # type: ignore[attr-defined]
        lambda sim: sim.call("bad.test", method, args, gas=300 * TGAS))
    assert result.error == {"kind": "NewReceiptValidationError", "message": message}
    stored = result.receipts_outcome[0].error
    assert stored.receipt_error == receipt_error
    assert stored.detail == {"FunctionCallError": {"NewReceiptValidationError": message}}
    reply = node.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "tx", "params": {
        "tx_hash": result.tx_hash, "sender_account_id": "test.near"}}).json()
    failure = {"Failure": {"ActionError": {
        "index": 0, "kind": {"NewReceiptValidationError": receipt_error}}}}
    assert reply["result"]["status"] == failure, reply
    assert reply["result"]["receipts_outcome"][0]["outcome"]["status"] == failure


def test_other_call_failures_carry_no_receipt_error(node: TestClient) -> None:
    result = node.app.state.node.call(  # type: ignore[attr-defined]
        lambda sim: sim.call("bad.test", "no_such_method"))
    assert result.error is not None and result.error["kind"] == "MethodNotFound"
    assert result.receipts_outcome[0].error.receipt_error is None


def test_validate_receipt_raises_the_record() -> None:
    receipt = NewReceipt("a.near", [FunctionCall("m", b"{}", 0, 200 * TGAS),
                                    FunctionCall("n", b"{}", 0, 101 * TGAS)])
    with pytest.raises(InvalidNewReceipt) as caught:
        validate_receipt(receipt, DEFAULT_PARAMS)
    error = caught.value
    assert (error.kind, error.variant, error.in_actions) == (
        "NewReceiptValidationError", "TotalPrepaidGasExceeded", True)
    assert error.fields == {"total_prepaid_gas": 301 * TGAS, "limit": 300 * TGAS}
    assert error.message == f"TotalPrepaidGasExceeded: {301 * TGAS} exceeds the limit " \
                            f"{300 * TGAS}"
    staking = NewReceipt("a.near", [Stake(1, bytes([1]) + bytes(range(64)))])
    with pytest.raises(InvalidNewReceipt) as caught:
        validate_receipt(staking, DEFAULT_PARAMS)
    assert caught.value.receipt_error == {
        "ActionsValidation": {"UnsuitableStakingKey": {"public_key": SECP_KEY}}}
    # a receipt rule, not an action's (promise_and refuses this many itself, as a HostError)
    waiting = NewReceipt("a.near", [], tuple(range(129)))
    with pytest.raises(InvalidNewReceipt) as caught:
        validate_receipt(waiting, DEFAULT_PARAMS)
    assert caught.value.receipt_error == {"NumberInputDataDependenciesExceeded": {
        "number_of_input_data_dependencies": 129, "limit": 128}}
