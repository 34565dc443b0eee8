"""Node configs: genesis accounts and keys from JSON or TOML, fresh starts, bad configs."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import base58
import pytest
from nacl.signing import SigningKey

from outlayer.chain import signed
from outlayer.errors import UserError
from outlayer.service import config as node_config
from outlayer.vm.receipts import Transfer

from .live import live_node

ALICE = SigningKey(bytes(range(32)))
ALICE_PK = "ed25519:" + base58.b58encode(bytes(ALICE.verify_key)).decode()


def test_fresh_start_writes_config_and_near_cli_key(tmp_path):
    config = node_config.load_or_create(tmp_path / "node.json", tmp_path / "keys")
    key_file = tmp_path / "keys" / "localnet" / "test.near.json"
    assert config.created_keys == [key_file]
    doc = json.loads(key_file.read_text())
    assert doc["account_id"] == "test.near"
    assert (key_file.stat().st_mode & 0o777) == 0o600
    secret = base58.b58decode(doc["private_key"].split(":", 1)[1])
    assert len(secret) == 64
    public = "ed25519:" + base58.b58encode(bytes(SigningKey(secret[:32]).verify_key)).decode()
    assert public == doc["public_key"] == config.accounts[0].public_key
    again = node_config.load_or_create(tmp_path / "node.json", tmp_path / "keys")
    assert again.created_keys == [] and again.accounts == config.accounts


@pytest.mark.parametrize("text, needle", [
    ("{", "not valid JSON"),
    ('{"accounts": {}}', "accounts"),
    ('{"accounts": [{"balance": "1"}]}', "account_id"),
    ('{"accounts": [{"account_id": "Bad Id"}]}', "invalid"),
    ('{"accounts": [{"account_id": "a.near", "public_key": "ed25519:abc"}]}', "32 bytes"),
    ('{"chain_id": ""}', "chain_id"),
])
def test_bad_configs(tmp_path, text, needle):
    path = tmp_path / "node.json"
    path.write_text(text)
    with pytest.raises(UserError, match=needle):
        node_config.load(path)


def test_toml_genesis_accounts_sign_through_a_live_node(tmp_path):
    config = tmp_path / "node.toml"
    config.write_text(f'''chain_id = "devnet-x"

[[accounts]]
account_id = "alice.near"
balance = "100NEAR"
public_key = "{ALICE_PK}"

[[accounts]]
account_id = "bob.near"
balance = "5NEAR"
''')
    with live_node(tmp_path, "--config", str(config)) as node:
        assert node.rpc("status", [])["result"]["chain_id"] == "devnet-x"
        bob = node.rpc("query", {"request_type": "view_account", "finality": "final",
                                 "account_id": "bob.near"})["result"]
        assert bob["amount"] == str(5 * 10**24)
        block = base58.b58decode(node.rpc("block", {"finality": "final"})["result"]["header"][
            "hash"])
        raw = signed.sign(bytes(ALICE), "alice.near", 1, "bob.near", block, [Transfer(10**24)])
        reply = node.rpc("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode()})
        assert reply["result"]["status"] == {"SuccessValue": ""}, reply
        bob = node.rpc("query", {"request_type": "view_account", "finality": "final",
                                 "account_id": "bob.near"})["result"]
        assert bob["amount"] == str(6 * 10**24)
    assert not (tmp_path / ".outlayer" / "keys").exists()  # a given config makes no keys


def test_serve_refuses_a_bad_config(tmp_path):
    bad = tmp_path / "node.json"
    bad.write_text('{"accounts": 3}')
    run = subprocess.run([str(Path(sys.executable).with_name("outlayer")), "serve", "--config",
                          str(bad), "--port", "1"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2
    assert "accounts" in run.stderr and "must be a list" in run.stderr


def test_existing_account_gets_its_configured_key(tmp_path):
    from fastapi.testclient import TestClient

    from outlayer.chain.simulator import ContractSimulator
    from outlayer.service.app import ServiceConfig, create_app

    db = tmp_path / "state.db"
    with ContractSimulator(db_path=db) as sim:  # as `outlayer call` leaves it: no key
        sim.create_account("test.near", "10NEAR")
    config = ServiceConfig(db=db)
    app = create_app(config)
    key = config.node.accounts[0].public_key
    assert app.state.notes == [f"added the configured key {key} to the existing account "
                               "test.near"]
    with TestClient(app) as http:
        reply = http.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "query", "params": {
            "request_type": "view_access_key", "finality": "final", "account_id": "test.near",
            "public_key": key}}).json()
    assert reply["result"]["permission"] == "FullAccess"
    again = create_app(ServiceConfig(db=db))
    again.state.node.close()
    assert again.state.notes == []  # once only


def test_serve_refuses_a_config_path_that_does_not_exist(tmp_path):
    """Only the default node.json is made on a fresh start: a mistyped --config (here a
    .toml name, which would have been written as JSON) must not make a config and a key."""
    run = subprocess.run([str(Path(sys.executable).with_name("outlayer")), "serve", "--config",
                          str(tmp_path / "typo.toml"), "--port", "1"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "typo.toml does not exist" in run.stderr, run.stderr
    assert not (tmp_path / "typo.toml").exists() and not (tmp_path / "keys").exists()
    assert not (tmp_path / ".outlayer").exists()
