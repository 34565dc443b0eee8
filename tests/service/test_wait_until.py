"""A transaction waiting on a yield (examples/offchain_oracle.js `request_work`): send_tx /
broadcast_tx_commit / tx wait until it finishes (the operator's resume gets through
meanwhile) or answer nearcore's TIMEOUT_ERROR; final_execution_status tells the truth."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

import base58
import pytest

from outlayer.chain import signed
from outlayer.service.app import ServiceConfig, create_app
from outlayer.vm.receipts import DeployContract, FunctionCall
from tests.service.live import live_node, near_api_js, require_near_api_js

ORACLE = (Path(__file__).parents[2] / "examples" / "offchain_oracle.js").read_bytes()
TGAS = 10**12


class InProcess:
    """JSON-RPC straight into the node's `Rpc` (its asyncio dispatcher), as test.near."""

    def __init__(self, tx_timeout: float) -> None:
        config = ServiceConfig(db=":memory:", tx_timeout=tx_timeout)
        self.app = create_app(config)
        self.seed = base58.b58decode(config.node.secret_keys["test.near"].split(":", 1)[1])
        self.nonce = 0

    async def call(self, method: str, params: Any) -> dict[str, Any]:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        return await self.app.state.rpc.handle(body.encode())

    async def signed(self, method: str, args: Any, wait: str = "FINAL",
                     rpc_method: str = "send_tx", actions: list[Any] | None = None
                     ) -> tuple[dict[str, Any], str]:
        block = (await self.call("block", {"finality": "final"}))["result"]["header"]["hash"]
        self.nonce += 1
        actions = actions or [FunctionCall(method, json.dumps(args).encode(), 0, 100 * TGAS)]
        raw = signed.sign(self.seed[:32], "test.near", self.nonce, "test.near",
                          base58.b58decode(block), actions)
        b64 = base64.b64encode(raw).decode()
        params: Any = [b64] if rpc_method == "broadcast_tx_commit" else \
            {"signed_tx_base64": b64, "wait_until": wait}
        return await self.call(rpc_method, params), signed.decode_signed(raw).hash

    async def pending(self) -> list[dict[str, Any]]:
        reply = await self.call("query", {
            "request_type": "call_function", "finality": "final", "account_id": "test.near",
            "method_name": "pending", "args_base64": base64.b64encode(b"{}").decode()})
        return json.loads(bytes(reply["result"]["result"]))

    async def setup_oracle(self) -> None:
        reply, _ = await self.signed("", None, actions=[DeployContract(ORACLE)])
        assert reply["result"]["status"] == {"SuccessValue": ""}, reply
        reply, _ = await self.signed("init", {"operator": "test.near"})
        assert "SuccessValue" in reply["result"]["status"], reply

    async def resume_when_pending(self, payload: Any) -> dict[str, Any]:
        while not (waiting := await self.pending()):
            await asyncio.sleep(0.01)
        reply, _ = await self.signed("submit_result", {"data_id": waiting[0]["data_id"],
                                                       "payload": payload})
        return reply

    def close(self) -> None:
        self.app.state.node.close()


def value(reply: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(reply["result"]["status"]["SuccessValue"]))


@pytest.mark.parametrize("rpc_method", ["send_tx", "broadcast_tx_commit"])
def test_waits_for_the_resume_sent_meanwhile(rpc_method):
    async def scenario() -> None:
        node = InProcess(tx_timeout=60)
        try:
            await node.setup_oracle()
            request = asyncio.create_task(
                node.signed("request_work", {"task": "t1"}, rpc_method=rpc_method))
            resumed = await node.resume_when_pending({"answer": 42})
            assert value(resumed) is True
            reply, _ = await asyncio.wait_for(request, 30)
            assert value(reply) == {"task": "t1", "result": {"answer": 42}}
            assert reply["result"]["final_execution_status"] == "FINAL"
        finally:
            node.close()

    asyncio.run(scenario())


def test_timeout_error_then_tx_honours_wait_until():
    async def scenario() -> None:
        node = InProcess(tx_timeout=0.3)
        try:
            await node.setup_oracle()
            reply, tx_hash = await node.signed("request_work", {"task": "t2"}, wait="EXECUTED")
            assert reply["error"] == {
                "name": "HANDLER_ERROR", "cause": {"name": "TIMEOUT_ERROR"}, "code": -32000,
                "message": "Server error", "data": "Timeout"}, reply
            ask = {"tx_hash": tx_hash, "sender_account_id": "test.near"}
            for method in ("tx", "EXPERIMENTAL_tx_status"):
                included = await node.call(method, {**ask, "wait_until": "INCLUDED_FINAL"})
                assert included["result"]["final_execution_status"] == "INCLUDED_FINAL"
                assert included["result"]["status"] == "Started"
                waited = await node.call(method, ask)  # default EXECUTED_OPTIMISTIC
                assert waited["error"]["cause"] == {"name": "TIMEOUT_ERROR"}
            early, _ = await node.signed("request_work", {"task": "t3"}, wait="INCLUDED")
            assert early["result"]["final_execution_status"] == "INCLUDED_FINAL"
            node.app.state.rpc.tx_timeout = 60
            waiting = asyncio.create_task(node.call("tx", {**ask, "wait_until": "FINAL"}))
            await node.resume_when_pending({"answer": 7})
            done = await asyncio.wait_for(waiting, 30)
            assert done["result"]["final_execution_status"] == "FINAL"
            assert value(done) == {"task": "t2", "result": {"answer": 7}}
        finally:
            node.close()

    asyncio.run(scenario())


def test_a_plain_transaction_is_final_at_once():
    async def scenario() -> None:
        node = InProcess(tx_timeout=0.3)
        try:
            reply, _ = await node.signed("", None, actions=[DeployContract(ORACLE)])
            assert reply["result"]["final_execution_status"] == "FINAL"
        finally:
            node.close()

    asyncio.run(scenario())


def test_live_node_answers_the_waiting_request_after_the_resume(tmp_path):
    """Over HTTP: the request for work blocks in one thread while the operator's resume
    goes through another."""
    with live_node(tmp_path) as live:
        key = json.loads(live.key_file.read_text())
        seed = base58.b58decode(key["private_key"].split(":", 1)[1])[:32]
        nonce = [0]

        def send(actions: list[Any]) -> dict[str, Any]:
            block = live.rpc("block", {"finality": "final"})["result"]["header"]["hash"]
            nonce[0] += 1
            raw = signed.sign(seed, "test.near", nonce[0], "test.near",
                              base58.b58decode(block), actions)
            return live.rpc("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode(),
                                        "wait_until": "FINAL"})

        def call(method: str, args: Any) -> list[Any]:
            return [FunctionCall(method, json.dumps(args).encode(), 0, 100 * TGAS)]

        send([DeployContract(ORACLE)])
        send(call("init", {"operator": "test.near"}))
        replies: list[dict[str, Any]] = []
        worker = threading.Thread(
            target=lambda: replies.append(send(call("request_work", {"task": "live"}))))
        worker.start()
        deadline = time.monotonic() + 30
        while True:
            view = live.rpc("query", {"request_type": "call_function", "finality": "final",
                                      "account_id": "test.near", "method_name": "pending",
                                      "args_base64": base64.b64encode(b"{}").decode()})
            waiting = json.loads(bytes(view["result"]["result"]))
            if waiting or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert waiting, "request_work never yielded"
        assert worker.is_alive()  # still waiting for its answer
        send(call("submit_result", {"data_id": waiting[0]["data_id"], "payload": "done"}))
        worker.join(30)
        assert replies and value(replies[0]) == {"task": "live", "result": "done"}
        assert replies[0]["result"]["final_execution_status"] == "FINAL"


def test_near_api_js_gets_the_resumed_value_or_a_timeout_error(tmp_path):
    require_near_api_js()
    oracle = Path(__file__).parents[2] / "examples" / "offchain_oracle.js"
    with live_node(tmp_path, "--tx-timeout", "5") as live:
        report = near_api_js("yield_wait.mjs", live.url, live.key_file, oracle)
    assert report["resume"] is True
    assert report["resumed"] == {"task": "js", "result": {"answer": 42}}
    assert report["timeout"].startswith("TransactionTimeoutError"), report
