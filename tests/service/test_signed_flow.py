"""Signed transactions through JSON-RPC: deploy, call, view, outcome, nonces."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from outlayer.chain import signed
from outlayer.vm.receipts import DeployContract, FunctionCall

COUNTER = (Path(__file__).parents[2] / "examples" / "counter.js").read_bytes()


def send(node, actions, *, nonce, receiver="test.near", method="send_tx", wait="FINAL"):
    raw = signed.sign(node.seed[:32], "test.near", nonce, receiver, node.block_hash(), actions)
    params = {"signed_tx_base64": base64.b64encode(raw).decode(), "wait_until": wait}
    if method != "send_tx":
        params = [params["signed_tx_base64"]]
    return node.call(method, params), signed.decode_signed(raw).hash


def test_deploy_call_view_and_tx_status(node):
    reply, deploy_hash = send(node, [DeployContract(COUNTER)], nonce=1)
    assert reply["result"]["status"] == {"SuccessValue": ""}, reply
    assert reply["result"]["transaction"]["hash"] == deploy_hash
    reply, call_hash = send(node, [FunctionCall("increment", b"{}", 0, 30 * 10**12)], nonce=2,
                            method="broadcast_tx_commit")
    result = reply["result"]
    assert base64.b64decode(result["status"]["SuccessValue"]) == b"1"
    assert result["receipts_outcome"][0]["outcome"]["logs"] == ["Counter incremented to 1"]
    view = node.result("query", {"request_type": "call_function", "finality": "final",
                                 "account_id": "test.near", "method_name": "get_count",
                                 "args_base64": base64.b64encode(b"{}").decode()})
    assert json.loads(bytes(view["result"])) == 1
    state = node.result("query", {"request_type": "view_state", "finality": "final",
                                  "account_id": "test.near", "prefix_base64": ""})
    assert {base64.b64decode(v["key"]): base64.b64decode(v["value"])
            for v in state["values"]} == {b"count": b"1"}
    code = node.result("query", {"request_type": "view_code", "finality": "final",
                                 "account_id": "test.near"})
    assert base64.b64decode(code["code_base64"]) == COUNTER
    for method in ("tx", "EXPERIMENTAL_tx_status"):
        status = node.result(method, {"tx_hash": call_hash, "sender_account_id": "test.near"})
        assert status["transaction"]["nonce"] == 2
        assert status["status"] == result["status"]
    key = node.result("query", {"request_type": "view_access_key", "finality": "final",
                                "account_id": "test.near", "public_key": node.public_key})
    assert key["nonce"] == 2 and key["permission"] == "FullAccess"


def test_replayed_nonce_is_refused_and_writes_nothing(node):
    send(node, [DeployContract(COUNTER)], nonce=5)
    height = node.result("status", [])["sync_info"]["latest_block_height"]
    reply, _ = send(node, [FunctionCall("increment", b"{}", 0, 30 * 10**12)], nonce=5)
    error = reply["error"]
    assert error["cause"]["name"] == "INVALID_TRANSACTION"
    assert error["data"] == {"TxExecutionError": {"InvalidTxError": {
        "InvalidNonce": {"tx_nonce": 5, "ak_nonce": 5}}}}
    assert node.result("status", [])["sync_info"]["latest_block_height"] == height
