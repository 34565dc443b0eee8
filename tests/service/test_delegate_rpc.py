"""Meta-transactions (NEP-366) through JSON-RPC: a relayer's signed transaction holding a
user's signed delegate action, its views and errors as nearcore shows them; and the same
with near-api-js, unmodified, against a live `outlayer serve`."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import base58
import pytest
from nacl.signing import SigningKey

from outlayer.chain import delegate, signed
from outlayer.vm.receipts import (
    AddKey,
    CreateAccount,
    DeployContract,
    FullAccess,
    FunctionCall,
    Transfer,
)
from tests.service.conftest import USER, USER_KEY, USER_PK, USER_SEED
from tests.service.live import live_node, near_api_js, require_near_api_js

ROOT = Path(__file__).parents[2]
COUNTER_PATH = ROOT / "examples" / "counter.js"
COUNTER = COUNTER_PATH.read_bytes()
INCREMENT = FunctionCall("increment", b"{}", 0, 30 * 10**12)


class Relayer:
    """test.near (the node's genesis key) signing and sending transactions."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.nonce = 0

    def send(self, receiver: str, actions: list[Any]) -> dict[str, Any]:
        self.nonce += 1
        raw = signed.sign(self.node.seed[:32], "test.near", self.nonce, receiver,
                          self.node.block_hash(), actions)
        reply = self.node.call("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode(),
                                           "wait_until": "FINAL"})
        assert "result" in reply, reply
        return reply["result"]


@pytest.fixture
def relayer(node: Any) -> Relayer:
    """test.near has the counter; user.test.near exists with the user's full-access key."""
    r = Relayer(node)
    assert r.send("test.near", [DeployContract(COUNTER)])["status"] == {"SuccessValue": ""}
    created = r.send(USER, [CreateAccount(), Transfer(5 * 10**24),
                            AddKey(USER_PK, 0, FullAccess())])
    assert created["status"] == {"SuccessValue": ""}, created
    return r


def key_nonce(node: Any) -> int:
    return int(node.query("view_access_key", account_id=USER, public_key=USER_KEY)["nonce"])


def height(node: Any) -> int:
    return int(node.result("status", [])["sync_info"]["latest_block_height"])


def user_delegate(node: Any, *, nonce: int | None = None, ttl: int = 50,
                  actions: list[Any] | None = None) -> signed.SignedDelegate:
    return delegate.sign_delegate(USER_SEED, USER, "test.near", actions or [INCREMENT],
                                  nonce=key_nonce(node) + 1 if nonce is None else nonce,
                                  max_block_height=height(node) + ttl)


def test_a_relayed_delegate_action_runs_and_shows_like_nearcore(node: Any,
                                                                relayer: Relayer) -> None:
    amount = node.query("view_account", account_id=USER)["amount"]
    meta = user_delegate(node)
    result = relayer.send(USER, [meta])
    assert result["status"] == {"SuccessValue": ""}, result
    d = meta.delegate_action
    assert result["transaction"]["actions"] == [{"Delegate": {
        "delegate_action": {
            "sender_id": USER, "receiver_id": "test.near",
            "actions": [{"FunctionCall": {"method_name": "increment",
                                          "args": base64.b64encode(b"{}").decode(),
                                          "gas": 30 * 10**12, "deposit": "0"}}],
            "nonce": d.nonce, "max_block_height": d.max_block_height,
            "public_key": USER_KEY},
        "signature": "ed25519:" + base58.b58encode(meta.signature[1:]).decode()}}]
    outer, inner = result["receipts_outcome"][:2]
    assert outer["outcome"]["executor_id"] == USER
    assert outer["outcome"]["receipt_ids"] == [inner["id"]]
    assert inner["outcome"]["executor_id"] == "test.near"
    assert inner["outcome"]["logs"] == ["Counter incremented to 1"]
    assert inner["outcome"]["status"] == {"SuccessValue": base64.b64encode(b"1").decode()}
    view = node.query("call_function", account_id="test.near", method_name="get_count",
                 args_base64="")
    assert json.loads(bytes(view["result"])) == 1
    assert key_nonce(node) == d.nonce
    assert node.query("view_account", account_id=USER)["amount"] == amount  # relayer paid
    tx_hash = result["transaction_outcome"]["id"]
    for method in ("tx", "EXPERIMENTAL_tx_status"):
        status = node.result(method, {"tx_hash": tx_hash, "sender_account_id": "test.near"})
        assert status["transaction"] == result["transaction"]
        assert status["status"] == {"SuccessValue": ""}


def failure_kind(result: dict[str, Any]) -> Any:
    """The ActionError of the Delegate receipt, as the status and the outcome show it."""
    status = result["status"]["Failure"]["ActionError"]
    assert result["receipts_outcome"][0]["outcome"]["status"] == {
        "Failure": {"ActionError": status}}
    assert status["index"] == 0
    return status["kind"]


def test_refused_delegate_actions_are_nearcore_action_errors(node: Any,
                                                             relayer: Relayer) -> None:
    meta = user_delegate(node)
    assert relayer.send(USER, [meta])["status"] == {"SuccessValue": ""}
    before = key_nonce(node)
    # the same signed delegate action again
    assert failure_kind(relayer.send(USER, [meta])) == {"DelegateActionInvalidNonce": {
        "delegate_nonce": meta.delegate_action.nonce, "ak_nonce": before}}
    assert failure_kind(relayer.send(USER, [user_delegate(node, ttl=0)])) == \
        "DelegateActionExpired"
    forged = user_delegate(node)
    forged = signed.SignedDelegate(forged.delegate_action, forged.signature[:-1] + b"\x00")
    assert failure_kind(relayer.send(USER, [forged])) == "DelegateActionInvalidSignature"
    assert failure_kind(relayer.send("test.near", [user_delegate(node)])) == {
        "DelegateActionSenderDoesNotMatchTxReceiver": {"sender_id": USER,
                                                       "receiver_id": "test.near"}}
    upper = (height(node) + 1) * 10**6
    assert failure_kind(relayer.send(USER, [user_delegate(node, nonce=upper)])) == {
        "DelegateActionNonceTooLarge": {"delegate_nonce": upper, "upper_bound": upper}}
    stranger_seed = bytes(range(5, 37))
    stranger = delegate.sign_delegate(stranger_seed, USER, "test.near", [INCREMENT], nonce=1,
                                      max_block_height=height(node) + 9)
    stranger_key = "ed25519:" + base58.b58encode(
        bytes(SigningKey(stranger_seed).verify_key)).decode()
    assert failure_kind(relayer.send(USER, [stranger])) == {"DelegateActionAccessKeyError": {
        "AccessKeyNotFound": {"account_id": USER, "public_key": stranger_key}}}
    assert key_nonce(node) == before  # nothing was written for the user


def test_two_delegate_actions_are_an_invalid_transaction(node: Any, relayer: Relayer) -> None:
    meta = user_delegate(node)
    raw = signed.sign(node.seed[:32], "test.near", 50, USER, node.block_hash(), [meta, meta])
    error = node.error("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode()})
    assert error["data"] == {"TxExecutionError": {"InvalidTxError": {
        "ActionsValidation": "DelegateActionMustBeOnlyOne"}}}


# --- near-api-js --------------------------------------------------------------------------


def test_near_api_js_relays_a_meta_transaction(tmp_path: Path) -> None:
    require_near_api_js()
    with live_node(tmp_path) as live:
        report = near_api_js("meta_transaction.mjs", live.url, live.key_file, COUNTER_PATH)
    assert report["status"] == {"SuccessValue": ""}
    action = report["transaction_action"]["Delegate"]
    assert action["delegate_action"]["sender_id"] == "user.test.near"
    assert action["delegate_action"]["receiver_id"] == "app.test.near"
    assert action["signature"].startswith("ed25519:")
    assert report["executors"][:2] == ["user.test.near", "app.test.near"]
    assert report["logs"] == ["Counter incremented to 1"]
    assert report["count"] == 1
    assert report["user_balance_unchanged"] is True
    assert report["user_key_nonce"] == report["delegate_nonce"]
    # near-api-js parses the outcome's ActionError into its own typed error
    nonce = report["delegate_nonce"]
    assert report["replay_error"] == ("DelegateActionInvalidNonceActionError: Invalid "
                                      f"delegate nonce (ak: {nonce}, delegate: {nonce})")
