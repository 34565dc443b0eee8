"""chunk, EXPERIMENTAL_receipt, EXPERIMENTAL_changes and EXPERIMENTAL_changes_in_block over
the node's HTTP endpoint, with their bad input; then near-api-js and py-near against a live
`outlayer serve`."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import base58
import pytest
from nacl.signing import SigningKey

from outlayer.chain.simulator import ContractSimulator
from outlayer.service.node import Node
from outlayer.service.rpc import Rpc
from outlayer.vm.receipts import DeployContract, FunctionCall, Stake, Transfer
from tests.service.live import live_node, near_api_js, require_near_api_js

from .test_rpc_chain_info import _rpc
from .test_signed_flow import COUNTER, send

ROOT = Path(__file__).parents[2]
TGAS = 10**12
UNKNOWN_HASH = base58.b58encode(b"\x07" * 32).decode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def deploy_and_call(node) -> tuple[dict[str, Any], dict[str, Any]]:
    """test.near deploys the counter, then calls increment: both outcomes."""
    deploy, _ = send(node, [DeployContract(COUNTER)], nonce=1)
    call, _ = send(node, [FunctionCall("increment", b"{}", 0, 30 * TGAS)], nonce=2)
    assert "result" in deploy and "result" in call, (deploy, call)
    return deploy["result"], call["result"]


def changes(node, block_hash: str, kind: str, **params: Any) -> list[dict[str, Any]]:
    result = node.result("EXPERIMENTAL_changes", {"block_id": block_hash,
                                                  "changes_type": kind, **params})
    assert result["block_hash"] == block_hash
    return result["changes"]


def is_parse_error(error: dict[str, Any], code: int = -32700) -> bool:
    return error["cause"]["name"] == "PARSE_ERROR" and error["code"] == code


# --- chunk and receipt ---------------------------------------------------------------------


def test_block_chunk_and_chunk_method_agree(node):
    _deploy, call = deploy_and_call(node)
    block_hash = call["transaction_outcome"]["block_hash"]
    block = node.result("block", {"block_id": block_hash})
    header = block["chunks"][0]
    chunk = node.result("chunk", {"chunk_id": header["chunk_hash"]})
    assert chunk["header"] == header and chunk["author"] == block["author"]
    assert node.result("chunk", {"block_id": block_hash, "shard_id": 0}) == chunk
    assert node.result("chunk", [header["chunk_hash"]]) == chunk
    assert node.result("chunk", [[block["header"]["height"], 0]]) == chunk
    assert node.result("chunk", [[block_hash, 0]]) == chunk
    flat = node.error("chunk", [block["header"]["height"], 0])  # nearcore refuses it too
    assert is_parse_error(flat) and "[[block_id, shard_id]]" in flat["data"]
    # the block's signed transaction, exactly as `tx` shows it
    assert chunk["transactions"] == [call["transaction"]]
    # the receipt the transaction made ran in this block
    receipt_id = call["transaction_outcome"]["outcome"]["receipt_ids"][0]
    assert [r["receipt_id"] for r in chunk["receipts"]] == [receipt_id]
    action = chunk["receipts"][0]["receipt"]["Action"]
    assert action["signer_id"] == "test.near" and action["signer_public_key"] == node.public_key
    assert action["actions"] == call["transaction"]["actions"]
    assert action["gas_price"] == block["header"]["gas_price"]
    assert node.result("EXPERIMENTAL_receipt", {"receipt_id": receipt_id}) == \
        chunk["receipts"][0]
    # what the block's transaction and receipt burnt (its refund runs in the next block)
    ran = [call["transaction_outcome"]] + [o for o in call["receipts_outcome"]
                                          if o["block_hash"] == block_hash]
    assert header["gas_used"] == sum(o["outcome"]["gas_burnt"] for o in ran) > 0
    assert int(header["balance_burnt"]) == sum(int(o["outcome"]["tokens_burnt"]) for o in ran)


def test_every_block_has_its_own_chunk(node):
    node.result("sandbox_fast_forward", {"delta_height": 3})
    height = node.result("status", [])["sync_info"]["latest_block_height"]
    hashes = set()
    for h in range(height - 2, height + 1):
        block = node.result("block", [h])
        chunk_hash = block["chunks"][0]["chunk_hash"]
        hashes.add(chunk_hash)
        chunk = node.result("chunk", {"chunk_id": chunk_hash})
        assert chunk["header"]["height_included"] == h
        assert chunk["transactions"] == [] and chunk["receipts"] == []
    assert len(hashes) == 3  # empty blocks too: a chunk hash names one block


def test_refund_receipts_are_rebuilt_from_the_queue(node):
    _deploy, call = deploy_and_call(node)
    refunds = [o for o in call["receipts_outcome"]
               if o["block_height"] > call["transaction_outcome"]["block_height"]]
    assert refunds, call["receipts_outcome"]
    refund = node.result("EXPERIMENTAL_receipt", {"receipt_id": refunds[0]["id"]})
    assert refund["predecessor_id"] == "system" and refund["receiver_id"] == "test.near"
    (transfer,) = refund["receipt"]["Action"]["actions"]
    assert int(transfer["Transfer"]["deposit"]) > 0
    chunk = node.result("chunk", [[refunds[0]["block_height"], 0]])
    assert refund in chunk["receipts"]


def test_chunk_and_receipt_bad_input(node):
    unknown = node.error("chunk", {"chunk_id": UNKNOWN_HASH})
    assert unknown["name"] == "HANDLER_ERROR" and unknown["cause"] == {
        "name": "UNKNOWN_CHUNK", "info": {"chunk_hash": UNKNOWN_HASH}}
    assert is_parse_error(node.error("chunk", {"chunk_id": "0OIl"}), -32700)
    assert is_parse_error(node.error("chunk", {"chunk_id": 5}))
    shard = node.error("chunk", {"block_id": 0, "shard_id": 1})
    assert shard["cause"] == {"name": "INVALID_SHARD_ID", "info": {"shard_id": 1}}
    assert "missing field `shard_id`" in node.error("chunk", {"block_id": 0})["data"]
    assert is_parse_error(node.error("chunk", {"block_id": 0, "shard_id": -1}))
    assert node.error("chunk", {"block_id": 10**6, "shard_id": 0})["cause"]["name"] == \
        "UNKNOWN_BLOCK"
    assert is_parse_error(node.error("chunk", "abc"))
    assert is_parse_error(node.error("chunk", [1, 2, 3]))
    missing_receipt = node.error("EXPERIMENTAL_receipt", {"receipt_id": UNKNOWN_HASH})
    assert missing_receipt["cause"] == {"name": "UNKNOWN_RECEIPT",
                                        "info": {"receipt_id": UNKNOWN_HASH}}
    assert is_parse_error(node.error("EXPERIMENTAL_receipt", {"receipt_id": "xyz"}), -32700)
    assert "missing field `receipt_id`" in node.error("EXPERIMENTAL_receipt", {})["data"]
    assert is_parse_error(node.error("EXPERIMENTAL_receipt", 7))


# --- changes -----------------------------------------------------------------------------


def test_account_changes_carry_their_causes(node):
    _deploy, call = deploy_and_call(node)
    block_hash = call["transaction_outcome"]["block_hash"]
    tx_hash = call["transaction"]["hash"]
    receipt_id = call["transaction_outcome"]["outcome"]["receipt_ids"][0]
    found = changes(node, block_hash, "account_changes", account_ids=["test.near"])
    assert [c["cause"] for c in found] == [
        {"type": "transaction_processing", "tx_hash": tx_hash},
        {"type": "receipt_processing", "receipt_hash": receipt_id},
        {"type": "action_receipt_gas_reward", "receipt_hash": receipt_id}]
    assert all(c["type"] == "account_update" for c in found)
    amounts = [int(c["change"]["amount"]) for c in found]
    assert amounts[2] > amounts[1]  # 30% of the call's gas goes to the contract
    # the last change is the account as of the end of the block
    account = node.result("query", {"request_type": "view_account", "block_id": block_hash,
                                    "account_id": "test.near"})
    last = found[-1]["change"]
    assert {k: last[k] for k in ("amount", "locked", "code_hash", "storage_usage")} == \
        {k: account[k] for k in ("amount", "locked", "code_hash", "storage_usage")}
    # the key's nonce moved with the transaction; the counter with the receipt
    keys = changes(node, block_hash, "all_access_key_changes", account_ids=["test.near"])
    assert keys == [{"cause": {"type": "transaction_processing", "tx_hash": tx_hash},
                     "type": "access_key_update",
                     "change": {"account_id": "test.near", "public_key": node.public_key,
                                "access_key": {"nonce": 2, "permission": "FullAccess"}}}]
    single = changes(node, block_hash, "single_access_key_changes",
                     keys=[{"account_id": "test.near", "public_key": node.public_key}])
    assert single == keys
    data = changes(node, block_hash, "data_changes", account_ids=["test.near"],
                   key_prefix_base64=b64(b"co"))
    assert data == [{"cause": {"type": "receipt_processing", "receipt_hash": receipt_id},
                     "type": "data_update",
                     "change": {"account_id": "test.near", "key_base64": b64(b"count"),
                                "value_base64": b64(b"1")}}]
    assert changes(node, block_hash, "data_changes", account_ids=["test.near"],
                   key_prefix_base64=b64(b"x")) == []
    assert changes(node, block_hash, "account_changes", account_ids=["nobody.near"]) == []
    assert node.result("changes", {"block_id": block_hash, "changes_type": "account_changes",
                                   "account_ids": ["test.near"]})["changes"] == found


def test_contract_code_and_changes_in_block(node):
    deploy, call = deploy_and_call(node)
    deploy_block = deploy["transaction_outcome"]["block_hash"]
    code = changes(node, deploy_block, "contract_code_changes", account_ids=["test.near"])
    receipt_id = deploy["transaction_outcome"]["outcome"]["receipt_ids"][0]
    assert code == [{"cause": {"type": "receipt_processing", "receipt_hash": receipt_id},
                     "type": "contract_code_update",
                     "change": {"account_id": "test.near", "code_base64": b64(COUNTER)}}]
    call_block = call["transaction_outcome"]["block_hash"]
    assert changes(node, call_block, "contract_code_changes", account_ids=["test.near"]) == []
    kinds = node.result("EXPERIMENTAL_changes_in_block", {"block_id": deploy_block})
    assert kinds == {"block_hash": deploy_block, "changes": [
        {"type": "account_touched", "account_id": "test.near"},
        {"type": "contract_code_touched", "account_id": "test.near"},
        {"type": "access_key_touched", "account_id": "test.near"}]}
    called = node.result("changes_in_block", {"block_id": call_block})["changes"]
    assert [c["type"] for c in called] == ["account_touched", "access_key_touched",
                                            "data_touched"]
    final = node.result("EXPERIMENTAL_changes_in_block", {"finality": "final"})
    assert final["block_hash"] == node.result("block", {"finality": "final"})["header"]["hash"]


def test_transfers_and_state_patches(node):
    """A new implicit account from a transfer is the receipt's change; sandbox_patch_state
    (state written outside transactions) shows as nearcore's `migration`."""
    implicit = "ab" * 32
    reply, tx_hash = send(node, [Transfer(10**24)], nonce=1, receiver=implicit)
    result = reply["result"]
    block_hash = result["receipts_outcome"][0]["block_hash"]
    created = changes(node, block_hash, "account_changes", account_ids=[implicit])
    assert [c["cause"] for c in created] == [
        {"type": "receipt_processing", "receipt_hash": result["receipts_outcome"][0]["id"]}]
    assert created[0]["change"]["amount"] == str(10**24)
    assert changes(node, block_hash, "all_access_key_changes", account_ids=[implicit])[0][
        "type"] == "access_key_update"
    node.result("sandbox_patch_state", {"records": [{"Data": {
        "account_id": "test.near", "data_key": b64(b"k"), "value": b64(b"v")}}]})
    node.result("sandbox_fast_forward", {"delta_height": 1})
    block = node.result("block", {"finality": "final"})["header"]["hash"]
    patched = changes(node, block, "data_changes", account_ids=["test.near"],
                      key_prefix_base64="")
    assert patched == [{"cause": {"type": "migration"}, "type": "data_update",
                        "change": {"account_id": "test.near", "key_base64": b64(b"k"),
                                   "value_base64": b64(b"v")}}]


def test_changes_bad_input(node):
    base = {"finality": "final"}
    assert "missing field `changes_type`" in node.error("EXPERIMENTAL_changes", base)["data"]
    assert "unknown changes_type" in node.error(
        "EXPERIMENTAL_changes", {**base, "changes_type": "everything"})["data"]
    assert "missing field `account_ids`" in node.error(
        "EXPERIMENTAL_changes", {**base, "changes_type": "account_changes"})["data"]
    for bad in ("test.near", [5], ["Not Valid!"]):
        error = node.error("EXPERIMENTAL_changes", {**base, "changes_type": "account_changes",
                                                    "account_ids": bad})
        assert is_parse_error(error), error
    assert "missing field `key_prefix_base64`" in node.error(
        "EXPERIMENTAL_changes", {**base, "changes_type": "data_changes",
                                 "account_ids": ["test.near"]})["data"]
    assert is_parse_error(node.error("EXPERIMENTAL_changes", {
        **base, "changes_type": "data_changes", "account_ids": ["test.near"],
        "key_prefix_base64": "%%"}), -32700)
    assert is_parse_error(node.error("EXPERIMENTAL_changes", {
        **base, "changes_type": "single_access_key_changes",
        "keys": [{"account_id": "test.near", "public_key": "ed25519:bad"}]}), -32700)
    assert is_parse_error(node.error("EXPERIMENTAL_changes", {
        **base, "changes_type": "single_access_key_changes", "keys": ["test.near"]}))
    unknown = node.error("EXPERIMENTAL_changes", {"block_id": 10**6,
                                                  "changes_type": "account_changes",
                                                  "account_ids": ["test.near"]})
    assert unknown["cause"]["name"] == "UNKNOWN_BLOCK"
    assert "one of `block_id`, `finality` or `sync_checkpoint`" in node.error(
        "EXPERIMENTAL_changes", {"changes_type": "account_changes",
                                 "account_ids": ["test.near"]})["data"]
    assert is_parse_error(node.error("EXPERIMENTAL_changes", ["final"]))
    assert is_parse_error(node.error("EXPERIMENTAL_changes_in_block", [1]))
    assert node.error("EXPERIMENTAL_changes_in_block", {"block_id": UNKNOWN_HASH})[
        "cause"]["name"] == "UNKNOWN_BLOCK"
    assert is_parse_error(node.error("EXPERIMENTAL_changes_in_block", {"finality": "soon"}))


# --- whole receipt trees, epochs (a node on a chain made here) ------------------------------


@pytest.fixture
def chain_rpc():
    node = Node(lambda: ContractSimulator(db_path=":memory:", epoch_length=5))
    try:
        yield node, Rpc(node, "localnet")
    finally:
        node.close()


def test_cross_contract_tree_receipts_and_changes(chain_rpc):
    """Every receipt of a promiseAnd + callback tree is in its block's chunk and readable by
    id; each block's last account change is the account as of that block."""
    node, rpc = chain_rpc

    def run(sim: ContractSimulator) -> str:
        for name in ("c1.test", "c2.test", "c3.test"):
            sim.deploy(name, COUNTER)
        sim.deploy("cross.test", ROOT / "examples" / "cross_counter.js")
        result = sim.call("cross.test", "sum", {"counters": ["c1.test", "c2.test", "c3.test"]},
                          gas=300 * TGAS)
        assert result.ok, result.error
        return str(result.tx_hash)

    tx_hash = node.call(run)
    outcome = _rpc(rpc, "EXPERIMENTAL_tx_status", [tx_hash, "test.near"])["result"]
    ran = outcome["receipts_outcome"]
    assert len(ran) >= 5  # the call, three counters, the callback (and refunds)
    # a transaction the simulator made: shown as `chunk` shows it (its key, nearcore's
    # ActionView), and each of its receipts exactly as EXPERIMENTAL_receipt gives it
    transaction = outcome["transaction"]
    assert transaction["public_key"].startswith("ed25519:")
    (action,) = transaction["actions"]
    assert action["FunctionCall"]["method_name"] == "sum" and "args" in action["FunctionCall"]
    assert [r["receipt_id"] for r in outcome["receipts"]] == [o["id"] for o in ran]
    for shown in outcome["receipts"]:
        assert shown == _rpc(rpc, "EXPERIMENTAL_receipt",
                             {"receipt_id": shown["receipt_id"]})["result"]
    assert _rpc(rpc, "tx", [tx_hash, "test.near"])["result"]["transaction"] == transaction
    for o in ran:
        receipt = _rpc(rpc, "EXPERIMENTAL_receipt", {"receipt_id": o["id"]})["result"]
        assert receipt["receiver_id"] == o["outcome"]["executor_id"]
        chunk = _rpc(rpc, "chunk", {"block_id": o["block_hash"], "shard_id": 0})["result"]
        assert receipt in chunk["receipts"]
        if o["outcome"]["executor_id"] == "cross.test" and receipt["predecessor_id"] == \
                "cross.test":
            assert len(receipt["receipt"]["Action"]["input_data_ids"]) == 3  # on_sum
    counted = 0
    for o in ran:
        account_id = o["outcome"]["executor_id"]
        if account_id in ("c1.test", "c2.test", "c3.test"):  # its count moved with its receipt
            data = _rpc(rpc, "EXPERIMENTAL_changes", {
                "block_id": o["block_hash"], "changes_type": "data_changes",
                "account_ids": [account_id], "key_prefix_base64": ""})["result"]["changes"]
            assert [c["cause"] for c in data] == [
                {"type": "receipt_processing", "receipt_hash": o["id"]}]
            counted += 1
        found = _rpc(rpc, "EXPERIMENTAL_changes", {
            "block_id": o["block_hash"], "changes_type": "account_changes",
            "account_ids": [account_id]})["result"]["changes"]
        view = _rpc(rpc, "query", {"request_type": "view_account", "block_id": o["block_hash"],
                                   "account_id": account_id})["result"]
        if found:
            assert found[-1]["change"]["amount"] == view["amount"]
            assert found[-1]["change"]["storage_usage"] == view["storage_usage"]
    assert counted == 3


def test_epoch_boundary_releases_stake_as_validator_accounts_update(chain_rpc):
    node, rpc = chain_rpc
    staker = b"\x00" + bytes(SigningKey(bytes(range(32))).verify_key)

    def stake(sim: ContractSimulator) -> None:
        sim.create_account("val.near", "100NEAR")
        for amount in (10 * 10**24, 4 * 10**24):
            assert sim.transact("val.near", "val.near", [Stake(amount, staker)]).ok
        sim.fast_forward(5 - sim.height)

    node.call(stake)
    found = _rpc(rpc, "EXPERIMENTAL_changes", {"block_id": 5, "changes_type": "account_changes",
                                               "account_ids": ["val.near"]})["result"]
    (change,) = found["changes"]
    assert change["cause"] == {"type": "validator_accounts_update"}
    assert change["change"]["locked"] == str(4 * 10**24)


# --- real clients ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with live_node(tmp_path_factory.mktemp("changes")) as node:
        yield node


def test_near_api_js_reads_changes_chunks_validators(live):
    require_near_api_js()
    counter = ROOT / "examples" / "counter.js"
    report = near_api_js("chain_info.mjs", live.url, live.key_file, counter)
    assert report["validators"]["current_validators"] == []
    assert report["validators_at"]["epoch_height"] == 1
    assert {"type": "data_touched", "account_id": "test.near"} in \
        report["block_changes"]["changes"]
    causes = [c["cause"]["type"] for c in report["account_changes"]["changes"]]
    assert causes == ["transaction_processing", "receipt_processing",
                      "action_receipt_gas_reward"]
    assert report["access_key_changes"]["changes"] == report["single_key_changes"]["changes"]
    (data,) = report["state_changes"]["changes"]
    assert data["change"]["key_base64"] == b64(b"count")
    (code,) = report["code_changes"]["changes"]
    assert base64.b64decode(code["change"]["code_base64"]) == counter.read_bytes()
    assert report["chunk"]["header"]["chunk_hash"] == report["chunk_hash"]
    assert report["chunk_by_height"] == report["chunk"] == report["chunk_by_block_hash"]
    assert [t["hash"] for t in report["chunk"]["transactions"]] == [report["call_tx"]]
    assert report["receipt"]["receipt_id"] == report["call_receipt"]
    assert report["receipt"] in report["chunk"]["receipts"]
    assert "next_light_client_block" in report["light_client_error"], report
    assert report["unknown_chunk_error"] is not None


def test_py_near_reads_validators_chunks_changes(live):
    from py_near.providers import JsonProvider

    async def run() -> dict[str, Any]:
        provider = JsonProvider(live.url)
        try:
            block = await provider.get_block(0)
            out: dict[str, Any] = {
                "validators": await provider.get_validators(),
                "ordered": await provider.get_validators_ordered(block["header"]["hash"]),
                "chunk": await provider.get_chunk(block["chunks"][0]["chunk_hash"]),
                "changes": await provider.get_changes_in_block({"block_id": 1}),
            }
            try:
                await provider.get_next_light_client_block(block["header"]["hash"])
                out["light_client"] = None
            except Exception as exc:  # py-near's error class for METHOD_NOT_FOUND
                out["light_client"] = exc.error_json if hasattr(exc, "error_json") else str(exc)
            return out
        finally:
            await provider.shutdown()

    report = asyncio.run(run())
    assert report["validators"]["current_validators"] == []
    assert report["ordered"] == []
    assert report["chunk"]["header"]["height_included"] == 0
    # the node's start created test.near (the node config's genesis account) in block 1
    assert {"type": "account_touched", "account_id": "test.near"} in \
        report["changes"]["changes"]
    assert report["light_client"]["cause"]["name"] == "METHOD_NOT_FOUND", report
