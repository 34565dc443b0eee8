"""Action-validation failures over JSON-RPC carry nearcore's ActionsValidationError exactly:
in the refused transaction's error (InvalidTxError.ActionsValidation) and in the outcome of
a call whose new receipt breaks the rules (ActionError NewReceiptValidationError), so real
clients (near-api-js) raise their typed errors."""

from __future__ import annotations

import base64

import pytest

from outlayer.chain import signed
from outlayer.vm.receipts import DeleteAccount, DeployContract, FunctionCall, Transfer
from tests.service.live import live_node, near_api_js, require_near_api_js

TGAS = 10**12
#: a contract whose `bad_promise` creates a function call that attaches no gas
BAD_PROMISE = b"""
export function bad_promise() {
  const batch = near.promiseBatchCreate(near.currentAccountId());
  near.promiseBatchActionFunctionCall(batch, 'anything', {}, 0n, 0n);
}
export function too_many_actions() {
  const batch = near.promiseBatchCreate(near.currentAccountId());
  for (let i = 0; i < 101; i++) near.promiseBatchActionTransfer(batch, 0n);
}
"""


def send(node, actions, nonce, receiver="test.near", wait="FINAL"):
    raw = signed.sign(node.seed[:32], "test.near", nonce, receiver, node.block_hash(), actions)
    return node.call("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode(),
                                 "wait_until": wait})


@pytest.mark.parametrize(("actions", "detail"), [
    ([DeleteAccount("bob.near"), Transfer(1)], "DeleteActionMustBeFinal"),
    ([FunctionCall("m", b"{}", 0, 0)], "FunctionCallZeroAttachedGas"),
    ([FunctionCall("m", b"{}", 0, 300 * TGAS), FunctionCall("n", b"{}", 0, 1)],
     {"TotalPrepaidGasExceeded": {"total_prepaid_gas": 300 * TGAS + 1, "limit": 300 * TGAS}}),
    ([FunctionCall("m" * 257, b"{}", 0, TGAS)],
     {"FunctionCallMethodNameLengthExceeded": {"length": 257, "limit": 256}}),
])
def test_refused_transaction_names_nearcores_variant(node, actions, detail):
    height = node.result("status", [])["sync_info"]["latest_block_height"]
    error = send(node, actions, nonce=1)["error"]
    assert error["name"] == "HANDLER_ERROR"
    assert error["cause"]["name"] == "INVALID_TRANSACTION"
    expected = {"TxExecutionError": {"InvalidTxError": {"ActionsValidation": detail}}}
    assert error["data"] == expected
    assert error["cause"]["info"]["TxExecutionError"] == expected["TxExecutionError"]
    assert "invalid" in error["cause"]["info"]["error_message"]
    assert node.result("status", [])["sync_info"]["latest_block_height"] == height


def test_empty_transaction_succeeds_as_in_nearcore(node):
    reply = send(node, [], nonce=1)
    assert reply["result"]["status"] == {"SuccessValue": ""}, reply


@pytest.mark.parametrize(("method", "kind"), [
    ("bad_promise", {"ActionsValidation": "FunctionCallZeroAttachedGas"}),
    ("too_many_actions", {"ActionsValidation": {"TotalNumberOfActionsExceeded": {
        "total_number_of_actions": 101, "limit": 100}}}),
])
def test_new_receipt_validation_error_in_the_outcome(node, method, kind):
    assert "result" in send(node, [DeployContract(BAD_PROMISE)], nonce=1)
    result = send(node, [FunctionCall(method, b"{}", 0, 30 * TGAS)], nonce=2)["result"]
    failure = {"Failure": {"ActionError": {"index": 0,
                                           "kind": {"NewReceiptValidationError": kind}}}}
    assert result["status"] == failure
    assert result["receipts_outcome"][0]["outcome"]["status"] == failure


def test_near_api_js_raises_its_typed_errors(tmp_path):
    require_near_api_js()
    contract = tmp_path / "bad_promise.js"
    contract.write_bytes(BAD_PROMISE)
    with live_node(tmp_path) as live:
        report = near_api_js("action_errors.mjs", live.url, live.key_file, contract)
    assert report["delete_not_last"].startswith("DeleteActionMustBeFinalActionError"), report
    assert report["zero_gas"].startswith("FunctionCallZeroAttachedGasActionError"), report
    assert report["too_much_gas"].startswith("TotalPrepaidGasExceededActionError"), report
    assert report["new_receipt"].startswith("FunctionCallZeroAttachedGasActionError"), report
