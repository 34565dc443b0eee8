"""The JSON-RPC methods one by one: shapes, history, access keys, sandbox methods."""

from __future__ import annotations

import base64
import time

import base58
import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from outlayer.chain import signed
from outlayer.chain.runtime import NEAR_GAS_PRICE
from outlayer.service.app import ServiceConfig, create_app
from outlayer.vm.receipts import (
    AddKey,
    CreateAccount,
    DeployContract,
    FullAccess,
    FunctionCall,
    FunctionCallPermission,
    Transfer,
)

from .conftest import Client
from .test_signed_flow import COUNTER, send

TGAS = 10**12
OTHER = SigningKey(bytes(range(32)))
OTHER_PK = b"\x00" + bytes(OTHER.verify_key)
OTHER_TEXT = "ed25519:" + base58.b58encode(bytes(OTHER.verify_key)).decode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_status_block_gas_price_protocol_config(node):
    status = node.result("status", [])
    sync = status["sync_info"]
    assert status["chain_id"] == "localnet" and sync["syncing"] is False
    block = node.result("block", {"finality": "final"})
    assert block["header"]["hash"] == sync["latest_block_hash"]
    assert block["header"]["height"] == sync["latest_block_height"]
    assert node.result("block", {"block_id": block["header"]["hash"]}) == block
    assert node.result("block", [block["header"]["height"]]) == block
    assert node.result("block", {"block_id": 0})["header"]["height"] == 0
    price = node.result("gas_price", [None])["gas_price"]
    assert price == block["header"]["gas_price"]
    assert node.result("gas_price", {"block_id": 0}) == {"gas_price": price}
    config = node.result("EXPERIMENTAL_protocol_config", {"finality": "final"})
    assert int(config["runtime_config"]["storage_amount_per_byte"]) > 0


def test_queries_at_past_blocks(node):
    send(node, [DeployContract(COUNTER)], nonce=1)
    height_before = node.result("status", [])["sync_info"]["latest_block_height"]
    send(node, [FunctionCall("increment", b"{}", 0, 30 * TGAS)], nonce=2)
    send(node, [FunctionCall("increment", b"{}", 0, 30 * TGAS)], nonce=3)

    def count(ref):
        values = node.result("query", {"request_type": "view_state", "account_id": "test.near",
                                       "prefix_base64": b64(b"co"), **ref})["values"]
        return {base64.b64decode(v["key"]): base64.b64decode(v["value"]) for v in values}

    assert count({"finality": "final"}) == {b"count": b"2"}
    assert count({"block_id": height_before}) == {}
    # genesis accounts are made after block 0: at block 0 test.near did not exist yet
    error = node.error("query", {"request_type": "view_account", "account_id": "test.near",
                                 "block_id": 0})
    assert error["cause"]["name"] == "UNKNOWN_ACCOUNT"
    past = node.result("query", {"request_type": "view_account", "account_id": "test.near",
                                 "block_id": height_before})
    now = node.result("query", {"request_type": "view_account", "account_id": "test.near",
                                "finality": "final"})
    assert past["block_height"] == height_before and past["code_hash"] == now["code_hash"]
    assert past["storage_usage"] < now["storage_usage"]  # the count entry came later
    keys = node.result("query", {"request_type": "view_access_key_list",
                                 "account_id": "test.near", "block_id": height_before})
    assert keys["keys"][0]["access_key"]["nonce"] == 1
    def get_count(ref):
        reply = node.result("query", {"request_type": "call_function", "account_id": "test.near",
                                      "method_name": "get_count", "args_base64": "", **ref})
        return bytes(reply["result"]), reply["block_height"]

    assert get_count({"finality": "final"})[0] == b"2"
    assert get_count({"block_id": height_before}) == (b"0", height_before)
    assert get_count({"block_id": height_before + 1})[0] == b"1"
    prefix = node.result("query", {"request_type": "view_state", "account_id": "test.near",
                                   "finality": "final", "prefix_base64": b64(b"zz")})
    assert prefix["values"] == []


def test_create_account_and_use_its_key(node):
    actions = [CreateAccount(), Transfer(10 * 10**24), AddKey(OTHER_PK, 0, FullAccess()),
               DeployContract(COUNTER)]
    reply, _ = send(node, actions, nonce=1, receiver="app.test.near")
    assert reply["result"]["status"] == {"SuccessValue": ""}, reply
    key = node.result("query", {"request_type": "view_access_key", "finality": "final",
                                "account_id": "app.test.near", "public_key": OTHER_TEXT})
    raw = signed.sign(bytes(OTHER), "app.test.near", key["nonce"] + 1, "app.test.near",
                      node.block_hash(), [FunctionCall("increment", b"{}", 0, 30 * TGAS)])
    result = node.result("send_tx", {"signed_tx_base64": b64(raw)})
    assert base64.b64decode(result["status"]["SuccessValue"]) == b"1"


@pytest.fixture
def priced_node():
    """A chain charging NEAR's gas price, so function-call key allowances move."""
    config = ServiceConfig(db=":memory:", gas_price=NEAR_GAS_PRICE)
    app = create_app(config)
    seed = base58.b58decode(config.node.secret_keys["test.near"].split(":", 1)[1])
    with TestClient(app) as http:
        yield Client(http, seed)


def test_function_call_keys(priced_node):
    node = priced_node
    send(node, [DeployContract(COUNTER)], nonce=1)
    allowance = 10**24
    perm = FunctionCallPermission(allowance, "test.near", ("increment",))
    send(node, [AddKey(OTHER_PK, 0, perm)], nonce=2)
    key = node.result("query", {"request_type": "view_access_key", "finality": "final",
                                "account_id": "test.near", "public_key": OTHER_TEXT})
    assert key["permission"] == {"FunctionCall": {"allowance": str(allowance),
                                                  "receiver_id": "test.near",
                                                  "method_names": ["increment"]}}
    nonce = key["nonce"]

    def attempt(actions, receiver="test.near"):
        nonlocal nonce
        raw = signed.sign(bytes(OTHER), "test.near", nonce + 1, receiver, node.block_hash(),
                          actions)
        return node.call("send_tx", {"signed_tx_base64": b64(raw)})

    def refused(reply):
        return reply["error"]["data"]["TxExecutionError"]["InvalidTxError"][
            "InvalidAccessKeyError"]

    assert list(refused(attempt([FunctionCall("increment", b"{}", 0, 30 * TGAS)],
                                receiver="other.near"))) == ["ReceiverMismatch"]
    assert refused(attempt([FunctionCall("reset", b"{}", 0, 30 * TGAS)])) == \
        {"MethodNameMismatch": {"method_name": "reset"}}
    assert refused(attempt([FunctionCall("increment", b"{}", 1, 30 * TGAS)])) == \
        "DepositWithFunctionCall"
    assert refused(attempt([Transfer(1)])) == "RequiresFullAccess"
    assert refused(attempt([FunctionCall("increment", b"{}", 0, 30 * TGAS),
                            FunctionCall("increment", b"{}", 0, 30 * TGAS)])) == \
        "RequiresFullAccess"
    reply = attempt([FunctionCall("increment", b"{}", 0, 30 * TGAS)])
    assert base64.b64decode(reply["result"]["status"]["SuccessValue"]) == b"1"
    after = node.result("query", {"request_type": "view_access_key", "finality": "final",
                                  "account_id": "test.near", "public_key": OTHER_TEXT})
    assert after["nonce"] == nonce + 1
    left = int(after["permission"]["FunctionCall"]["allowance"])
    # the key was charged the prepaid gas and got the unused part back with the refund
    # (nearcore's try_refund_allowance): it paid exactly the tokens the transaction burnt
    outcomes = [reply["result"]["transaction_outcome"], *reply["result"]["receipts_outcome"]]
    burnt = sum(int(o["outcome"]["tokens_burnt"]) for o in outcomes)
    assert left == allowance - burnt


def test_gas_refunds_return_to_the_allowance(priced_node):
    """An allowance covering one call's prepaid 300 Tgas, not two: each call pays only what
    it burns, so many calls go through, as on NEAR (app keys would run dry otherwise)."""
    node = priced_node
    send(node, [DeployContract(COUNTER)], nonce=1)
    allowance = 5 * 10**22  # 0.05 NEAR; 300 Tgas at NEAR's price is 0.03
    perm = FunctionCallPermission(allowance, "test.near", ("increment",))
    send(node, [AddKey(OTHER_PK, 0, perm)], nonce=2)
    nonce = node.result("query", {"request_type": "view_access_key", "finality": "final",
                                  "account_id": "test.near", "public_key": OTHER_TEXT})["nonce"]
    for count in range(1, 6):
        raw = signed.sign(bytes(OTHER), "test.near", nonce + count, "test.near",
                          node.block_hash(), [FunctionCall("increment", b"{}", 0, 300 * TGAS)])
        result = node.result("send_tx", {"signed_tx_base64": b64(raw)})
        assert base64.b64decode(result["status"]["SuccessValue"]) == str(count).encode()
    key = node.result("query", {"request_type": "view_access_key", "finality": "final",
                                "account_id": "test.near", "public_key": OTHER_TEXT})
    assert int(key["permission"]["FunctionCall"]["allowance"]) > allowance - 10**22


def test_a_signer_left_unable_to_pay_for_storage_is_an_invalid_transaction(priced_node):
    """nearcore's InvalidTxError::LackBalanceForState {signer_id, amount}: refused before it
    runs, nothing written."""
    node = priced_node
    view = {"request_type": "view_account", "finality": "final", "account_id": "test.near"}
    before = node.result("query", view)
    balance, storage = int(before["amount"]), before["storage_usage"]
    raw = signed.sign(node.seed[:32], "test.near", 1, "other.near", node.block_hash(),
                      [Transfer(balance - 10**20)])
    error = node.error("send_tx", {"signed_tx_base64": b64(raw)})
    assert error["cause"]["name"] == "INVALID_TRANSACTION", error
    detail = error["data"]["TxExecutionError"]["InvalidTxError"]["LackBalanceForState"]
    assert detail["signer_id"] == "test.near"
    # short by what the storage needs minus what is left after the deposit and the gas
    assert 0 < int(detail["amount"]) - (storage * 10**19 - 10**20) < 10**21
    assert node.result("query", view) == before


def test_not_enough_allowance(priced_node):
    node = priced_node
    send(node, [DeployContract(COUNTER)], nonce=1)
    send(node, [AddKey(OTHER_PK, 0, FunctionCallPermission(1, "test.near", ()))], nonce=2)
    key = node.result("query", {"request_type": "view_access_key", "finality": "final",
                                "account_id": "test.near", "public_key": OTHER_TEXT})
    raw = signed.sign(bytes(OTHER), "test.near", key["nonce"] + 1, "test.near",
                      node.block_hash(), [FunctionCall("increment", b"{}", 0, 30 * TGAS)])
    error = node.error("send_tx", {"signed_tx_base64": b64(raw)})
    detail = error["data"]["TxExecutionError"]["InvalidTxError"]["InvalidAccessKeyError"]
    assert detail["NotEnoughAllowance"]["allowance"] == "1"


def test_history_verifies_after_signed_transactions(node):
    send(node, [DeployContract(COUNTER)], nonce=1)
    send(node, [FunctionCall("increment", b"{}", 0, 30 * TGAS)], nonce=2)
    send(node, [AddKey(OTHER_PK, 0, FullAccess())], nonce=3)
    report = node.http.app.state.node.call(lambda sim: sim.verify())
    assert report.ok, report.divergence
    assert report.transactions >= 3


def test_async_broadcast_and_none_wait(node):
    send(node, [DeployContract(COUNTER)], nonce=1)
    raw = signed.sign(node.seed[:32], "test.near", 2, "test.near", node.block_hash(),
                      [FunctionCall("increment", b"{}", 0, 30 * TGAS)])
    tx_hash = node.result("broadcast_tx_async", [b64(raw)])
    assert tx_hash == signed.decode_signed(raw).hash
    raw3 = signed.sign(node.seed[:32], "test.near", 3, "test.near", node.block_hash(),
                       [FunctionCall("increment", b"{}", 0, 30 * TGAS)])
    assert node.result("send_tx", {"signed_tx_base64": b64(raw3), "wait_until": "NONE"}) == \
        {"final_execution_status": "NONE"}
    deadline = time.monotonic() + 30
    while True:
        reply = node.call("tx", [signed.decode_signed(raw3).hash, "test.near"])
        if "result" in reply or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert base64.b64decode(reply["result"]["status"]["SuccessValue"]) == b"2"
    status = node.result("EXPERIMENTAL_tx_status", {"tx_hash": tx_hash,
                                                    "sender_account_id": "test.near"})
    assert status["final_execution_status"] == "FINAL"
    assert status["receipts"] and status["transaction"]["nonce"] == 2


def test_sandbox_patch_state_and_fast_forward(node):
    send(node, [DeployContract(COUNTER)], nonce=1)
    assert node.result("sandbox_patch_state", {"records": [{"Data": {
        "account_id": "test.near", "data_key": b64(b"count"), "value": b64(b"41")}}]}) == {}
    reply, _ = send(node, [FunctionCall("increment", b"{}", 0, 30 * TGAS)], nonce=2)
    assert base64.b64decode(reply["result"]["status"]["SuccessValue"]) == b"42"
    height = node.result("status", [])["sync_info"]["latest_block_height"]
    assert node.result("sandbox_fast_forward", {"delta_height": 5}) == {}
    assert node.result("status", [])["sync_info"]["latest_block_height"] == height + 5


def test_wasm_deploy_is_recognised(node):
    """Code bytes starting with the wasm magic run as wasm (an empty module exports
    nothing), not as a JS module."""
    wasm = b"\0asm\x01\x00\x00\x00"
    reply, _ = send(node, [DeployContract(wasm)], nonce=1)
    assert reply["result"]["status"] == {"SuccessValue": ""}, reply
    code = node.result("query", {"request_type": "view_code", "finality": "final",
                                 "account_id": "test.near"})
    assert base64.b64decode(code["code_base64"]) == wasm
    reply, _ = send(node, [FunctionCall("x", b"{}", 0, 30 * TGAS)], nonce=2)
    assert reply["result"]["status"]["Failure"]["ActionError"]["kind"] == \
        {"FunctionCallError": {"MethodResolveError": "MethodNotFound"}}
    viewed = node.result("query", {"request_type": "call_function", "finality": "final",
                                   "account_id": "test.near", "method_name": "x",
                                   "args_base64": ""})
    assert viewed["error"] == "wasm execution failed with error: MethodResolveError(MethodNotFound)"


def test_contract_failures_in_nearcore_shapes(node):
    """A transaction that ran and failed is an outcome (not an RPC error) whose failure
    uses nearcore's FunctionCallError names, which clients turn into typed errors."""
    # code that does not compile fails its DeployContract (docs/DIRECT_WASM.md), in the shape
    # nearcore gives it at the first call
    reply, _ = send(node, [DeployContract(b"export function f( {")], nonce=1)
    kind = reply["result"]["status"]["Failure"]["ActionError"]["kind"]["FunctionCallError"]
    assert "Unexpected token" in kind["CompilationError"]["WasmerCompileError"]["msg"]
    reply, _ = send(node, [FunctionCall("f", b"{}", 0, 30 * TGAS)], nonce=2)
    kind = reply["result"]["status"]["Failure"]["ActionError"]["kind"]["FunctionCallError"]
    assert kind == {"CompilationError": {"CodeDoesNotExist": {"account_id": "test.near"}}}
    send(node, [DeployContract(b"export function boom() { near.panic('no'); }\n"
                               b"export function oops() { throw new Error('bad'); }")], nonce=3)
    reply, _ = send(node, [FunctionCall("boom", b"{}", 0, 30 * TGAS)], nonce=4)
    kind = reply["result"]["status"]["Failure"]["ActionError"]["kind"]["FunctionCallError"]
    assert kind == {"HostError": {"GuestPanic": {"panic_msg": kind["HostError"]["GuestPanic"][
        "panic_msg"]}}} and "no" in kind["HostError"]["GuestPanic"]["panic_msg"]
    reply, _ = send(node, [FunctionCall("oops", b"{}", 0, 30 * TGAS)], nonce=5)
    kind = reply["result"]["status"]["Failure"]["ActionError"]["kind"]["FunctionCallError"]
    assert "bad" in kind["ExecutionError"]
