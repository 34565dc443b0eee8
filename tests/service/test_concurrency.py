"""Concurrent clients on a live node: every transaction runs exactly once, in some serial
order, and the chain still verifies."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import base58
from nacl.signing import SigningKey

from outlayer.chain import signed
from outlayer.vm.receipts import (
    AddKey,
    CreateAccount,
    DeployContract,
    FullAccess,
    FunctionCall,
    Transfer,
)

from .live import live_node

COUNTER = (Path(__file__).parents[2] / "examples" / "counter.js").read_bytes()
TGAS = 10**12


def test_concurrent_signed_transactions(tmp_path):
    with live_node(tmp_path) as node:
        credentials = json.loads(node.key_file.read_text())
        root_seed = base58.b58decode(credentials["private_key"].split(":", 1)[1])[:32]

        def block_hash() -> bytes:
            return base58.b58decode(node.rpc("block", {"finality": "final"})["result"][
                "header"]["hash"])

        def submit(raw: bytes) -> dict:
            return node.rpc("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode(),
                                        "wait_until": "FINAL"})

        keys = [SigningKey(bytes([i + 1]) * 32) for i in range(4)]
        setup = [DeployContract(COUNTER)]
        assert "result" in submit(signed.sign(root_seed, "test.near", 1, "test.near",
                                              block_hash(), setup))
        for i, key in enumerate(keys):
            actions = [CreateAccount(), Transfer(10**25),
                       AddKey(b"\x00" + bytes(key.verify_key), 0, FullAccess())]
            reply = submit(signed.sign(root_seed, "test.near", 2 + i, f"c{i}.test.near",
                                       block_hash(), actions))
            assert reply["result"]["status"] == {"SuccessValue": ""}, reply

        def client(i: int) -> list[str]:
            account = f"c{i}.test.near"
            key = node.rpc("query", {"request_type": "view_access_key", "finality": "final",
                                     "account_id": account,
                                     "public_key": "ed25519:" + base58.b58encode(
                                         bytes(keys[i].verify_key)).decode()})["result"]
            hashes = []
            for n in range(5):
                raw = signed.sign(bytes(keys[i]), account, key["nonce"] + 1 + n, "test.near",
                                  block_hash(),
                                  [FunctionCall("increment", b"{}", 0, 30 * TGAS)])
                reply = submit(raw)
                assert "SuccessValue" in reply["result"]["status"], reply
                hashes.append(reply["result"]["transaction"]["hash"])
            return hashes

        with ThreadPoolExecutor(4) as pool:
            hashes = [h for batch in pool.map(client, range(4)) for h in batch]
        assert len(set(hashes)) == 20
        view = node.rpc("query", {"request_type": "call_function", "finality": "final",
                                  "account_id": "test.near", "method_name": "get_count",
                                  "args_base64": ""})["result"]
        assert json.loads(bytes(view["result"])) == 20
    # the node has stopped: its history replays to the same chain
    from outlayer.chain.simulator import ContractSimulator

    with ContractSimulator(db_path=tmp_path / ".outlayer" / "state.db") as sim:
        report = sim.verify()
    assert report.ok, report.divergence
    assert report.transactions >= 25

    # and re-submitting the same raw transactions in the node's order to a fresh chain with
    # the same genesis gives the same chain, block for block
    from outlayer.service import config as node_config
    from outlayer.service.app import apply_genesis

    with ContractSimulator(db_path=tmp_path / ".outlayer" / "state.db") as live:
        raws = [bytes.fromhex(e.body["raw"]) for e in live.store.history()
                if e.kind == "signed_tx"]
        tip = live.block
    accounts = node_config.load(tmp_path / ".outlayer" / "node.json").accounts
    with ContractSimulator(db_path=":memory:") as fresh:
        assert apply_genesis(fresh, accounts) == []
        for raw in raws:
            fresh.submit_signed(raw)
        assert (fresh.block.height, fresh.block.state_root, fresh.block.hash) == \
            (tip.height, tip.state_root, tip.hash)
