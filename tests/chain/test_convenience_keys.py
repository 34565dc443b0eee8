"""Accounts the simulator and the harness make without being given a key get the chain's
derived full-access key (`convenience_key`), and its secret is available
(`ContractSimulator.secret_key`, `outlayer account ACCOUNT --secret-key`), so a client can
sign for them over JSON-RPC; `keyless=True` still makes an account with no key."""

from __future__ import annotations

import base64
from pathlib import Path

import base58
import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from outlayer.chain import blocks, signed
from outlayer.chain.simulator import ContractSimulator, convenience_key, convenience_secret_key
from outlayer.errors import UserError
from outlayer.service.app import ServiceConfig, create_app
from outlayer.testing import Sandbox
from outlayer.testing.sandbox import dev_public_key
from outlayer.vm.receipts import FunctionCall

from .test_chain_cli import run, run_json

COUNTER = Path(__file__).parents[2] / "examples" / "counter.js"
OTHER_SEED = b"another chain"


def keys(sim: ContractSimulator, account_id: str) -> list[str]:
    return [k["public_key"] for k in sim.access_keys(account_id)]


def public_of(secret: str) -> str:
    """The public key of a near-cli private_key (seed || public), checked to match."""
    raw = base58.b58decode(secret.split(":", 1)[1])
    assert secret.startswith("ed25519:") and len(raw) == 64
    public = SigningKey(raw[:32]).verify_key.encode()
    assert public == raw[32:]
    return "ed25519:" + base58.b58encode(public).decode()


def test_deploy_and_create_account_give_the_derived_key() -> None:
    with ContractSimulator(db_path=":memory:", chain_seed=OTHER_SEED) as sim:
        sim.deploy("c.test", COUNTER)
        sim.create_account("made.test")
        for account_id in ("c.test", "made.test"):
            key = convenience_key(OTHER_SEED, account_id)
            assert keys(sim, account_id) == [key]
            assert key != convenience_key(blocks.CHAIN_SEED, account_id)
            secret = sim.secret_key(account_id)
            assert secret == convenience_secret_key(OTHER_SEED, account_id)
            assert public_of(secret) == key
        assert sim.verify().ok  # the history records each key


def test_explicit_key_and_keyless() -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        mine = convenience_key(b"elsewhere", "own.test")
        sim.create_account("own.test", public_key=mine)
        sim.create_account("bare.test", keyless=True)
        assert keys(sim, "own.test") == [mine] and keys(sim, "bare.test") == []
        for account_id in ("own.test", "bare.test"):
            with pytest.raises(UserError, match="does not hold this chain's derived key"):
                sim.secret_key(account_id)
        with pytest.raises(UserError, match="not both"):
            sim.create_account("both.test", public_key=mine, keyless=True)
        with pytest.raises(UserError, match="does not exist"):
            sim.secret_key("nobody.test")


def test_sandbox_keys_come_from_the_chain_seed() -> None:
    sandbox = Sandbox(chain_seed=OTHER_SEED)
    alice = sandbox.root.create_subaccount("alice")
    bob = sandbox.create_account("bob.test")
    for account in (sandbox.root, alice, bob, sandbox.dev_deploy(COUNTER)):
        key = dev_public_key(account.id, OTHER_SEED)
        assert key == convenience_key(OTHER_SEED, account.id) != dev_public_key(account.id)
        assert [k["public_key"] for k in account.keys()] == [key]
        assert public_of(account.secret_key()) == key


def test_cli_secret_key_signs_over_rpc(tmp_path: Path) -> None:
    """A contract account `outlayer deploy` made, signed for through the node with the
    secret `outlayer account --secret-key` prints."""
    db = tmp_path / "state.db"
    run_json(db, "deploy", "c.test", str(COUNTER))
    secret = run(db, "account", "c.test", "--secret-key").strip()
    shown = run_json(db, "account", "c.test", "--secret-key")["result"]
    assert shown == {"account_id": "c.test", "private_key": secret,
                     "public_key": convenience_key(blocks.CHAIN_SEED, "c.test")}
    run(db, "account", "nobody.test", "--secret-key", code=2)  # AccountNotFound: usage
    seed = base58.b58decode(secret.split(":", 1)[1])[:32]
    with TestClient(create_app(ServiceConfig(db=db))) as http:
        block = http.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "block",
                                     "params": {"finality": "final"}}).json()["result"]
        raw = signed.sign(seed, "c.test", 1, "c.test",
                          base58.b58decode(block["header"]["hash"]),
                          [FunctionCall("increment", b"{}", 0, 30 * 10**12)])
        reply = http.post("/", json={"jsonrpc": "2.0", "id": 2, "method": "send_tx", "params": {
            "signed_tx_base64": base64.b64encode(raw).decode(), "wait_until": "FINAL"}}).json()
    assert reply["result"]["status"] == {"SuccessValue": base64.b64encode(b"1").decode()}, reply


def test_cli_secret_key_points_to_the_key_file_serve_wrote(tmp_path: Path) -> None:
    """`outlayer serve` gives test.near a random key and writes it beside the state file:
    asking for the chain's derived key of test.near names that file."""
    db = tmp_path / "state.db"
    with TestClient(create_app(ServiceConfig(db=db))):
        pass
    key_file = tmp_path / "keys" / "localnet" / "test.near.json"
    assert key_file.exists()
    refused = run_json(db, "account", "test.near", "--secret-key", code=2)
    message = refused["error"]["message"]
    assert "does not hold this chain's derived key" in message
    assert str(key_file) in message
    # an account with another key and no key file: no pointer
    with ContractSimulator(db_path=db) as sim:
        sim.create_account("own.test", public_key=dev_public_key("elsewhere.test"))
    own = run_json(db, "account", "own.test", "--secret-key", code=2)["error"]["message"]
    assert "does not hold" in own and "serve" not in own
