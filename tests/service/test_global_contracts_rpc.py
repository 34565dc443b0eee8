"""Global contracts (NEP-591) through JSON-RPC: signed DeployGlobalContract /
UseGlobalContract transactions, their views, the accounts using them (view_account,
view_code, call_function, view_global_contract_code*); and near-api-js's
deployGlobalContract / useGlobalContract, unmodified, against a live `outlayer serve`."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import base58
import pytest

from outlayer.chain import signed
from outlayer.service.views import NO_CODE_HASH
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
COUNTER_HASH = base58.b58encode(hashlib.sha256(COUNTER).digest()).decode()


def send(node: Any, seed: bytes, signer: str, key: str, actions: list[Any]) -> dict[str, Any]:
    """Sign `actions` from `signer` to itself with the next nonce of `key`; FINAL result."""
    nonce = node.query("view_access_key", account_id=signer, public_key=key)["nonce"] + 1
    raw = signed.sign(seed, signer, nonce, signer, node.block_hash(), actions)
    reply = node.call("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode(),
                                  "wait_until": "FINAL"})
    assert "result" in reply, reply
    return reply["result"]


@pytest.fixture
def chain(node: Any) -> Any:
    """test.near deployed the counter globally (both modes); user.test.near exists."""
    genesis_key = node.public_key
    for mode in (0, 1):
        done = send(node, node.seed[:32], "test.near", genesis_key,
                    [signed.DeployGlobalContract(COUNTER, mode)])
        assert done["status"] == {"SuccessValue": ""}, done
    nonce = node.query("view_access_key", account_id="test.near",
                  public_key=genesis_key)["nonce"] + 1
    raw = signed.sign(node.seed[:32], "test.near", nonce, USER, node.block_hash(),
                      [CreateAccount(), Transfer(5 * 10**24), AddKey(USER_PK, 0, FullAccess())])
    created = node.call("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode(),
                                    "wait_until": "FINAL"})["result"]
    assert created["status"] == {"SuccessValue": ""}, created
    return node


def test_deploy_views_and_the_global_code(chain: Any) -> None:
    node = chain
    by_hash = node.query("view_global_contract_code", code_hash=COUNTER_HASH)
    assert base64.b64decode(by_hash["code_base64"]) == COUNTER
    assert by_hash["hash"] == COUNTER_HASH
    by_account = node.query("view_global_contract_code_by_account_id", account_id="test.near")
    assert base64.b64decode(by_account["code_base64"]) == COUNTER
    missing_code = node.error("query", {"request_type": "view_global_contract_code_by_account_id",
                                        "finality": "final", "account_id": USER})
    assert missing_code["cause"]["name"] == "NO_GLOBAL_CONTRACT_CODE"
    assert missing_code["cause"]["info"]["identifier"] == {"AccountId": USER}
    bad_hash = node.error("query", {"request_type": "view_global_contract_code",
                                    "finality": "final", "code_hash": "nothex!"})
    assert bad_hash["name"] == "REQUEST_VALIDATION_ERROR"
    assert "32 bytes" in bad_hash["cause"]["info"]["error_message"]
    # the deployer keeps no code of its own
    genesis = node.query("view_account", account_id="test.near")
    assert genesis["global_contract_hash"] is None
    assert genesis["global_contract_account_id"] is None
    # the transaction view names the action as nearcore's ActionView does
    sent = send(node, node.seed[:32], "test.near", node.public_key,
                [signed.DeployGlobalContract(COUNTER, 1)])
    code_digest = base64.b64encode(hashlib.sha256(COUNTER).digest()).decode()
    assert sent["transaction"]["actions"] == [
        {"DeployGlobalContractByAccountId": {"code": code_digest}}]
    status = node.result("status")
    assert status["protocol_version"] >= 77


def test_use_by_hash_runs_like_local_code(chain: Any) -> None:
    node = chain
    before = node.query("view_account", account_id=USER)
    old_height = before["block_height"]
    used = send(node, USER_SEED, USER, USER_KEY,
                [signed.UseGlobalContract(base58.b58decode(COUNTER_HASH), None)])
    assert used["status"] == {"SuccessValue": ""}, used
    assert used["transaction"]["actions"] == [{"UseGlobalContract": {"code_hash": COUNTER_HASH}}]
    view = node.query("view_account", account_id=USER)
    assert view["code_hash"] == NO_CODE_HASH
    assert view["global_contract_hash"] == COUNTER_HASH
    assert view["global_contract_account_id"] is None
    assert view["storage_usage"] == before["storage_usage"] + 32
    code = node.query("view_code", account_id=USER)
    assert base64.b64decode(code["code_base64"]) == COUNTER and code["hash"] == COUNTER_HASH
    # called by someone else, it counts in the user's own storage
    nonce = node.query("view_access_key", account_id="test.near",
                  public_key=node.public_key)["nonce"] + 1
    raw = signed.sign(node.seed[:32], "test.near", nonce, USER, node.block_hash(),
                      [FunctionCall("increment", b"{}", 0, 30 * 10**12)])
    inc = node.call("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode(),
                                "wait_until": "FINAL"})["result"]
    assert inc["status"] == {"SuccessValue": base64.b64encode(b"1").decode()}, inc
    got = node.query("call_function", account_id=USER, method_name="get_count",
                args_base64="")
    assert bytes(got["result"]) == b"1"
    # a past block shows the account as it was: no global contract, no code
    past = node.result("query", {"request_type": "view_account", "block_id": old_height,
                                 "account_id": USER})
    assert past["global_contract_hash"] is None
    no_code = node.error("query", {"request_type": "view_code", "block_id": old_height,
                                   "account_id": USER})
    assert no_code["cause"]["name"] == "NO_CONTRACT_CODE"


def test_use_by_account_and_unknown_identifier(chain: Any) -> None:
    node = chain
    used = send(node, USER_SEED, USER, USER_KEY, [signed.UseGlobalContract(None, "test.near")])
    assert used["status"] == {"SuccessValue": ""}, used
    assert used["transaction"]["actions"] == [
        {"UseGlobalContractByAccountId": {"account_id": "test.near"}}]
    view = node.query("view_account", account_id=USER)
    assert view["global_contract_account_id"] == "test.near"
    assert view["global_contract_hash"] is None
    failed = send(node, USER_SEED, USER, USER_KEY,
                  [signed.UseGlobalContract(None, "nobody.test.near")])
    assert failed["status"] == {"Failure": {"ActionError": {"index": 0, "kind": {
        "GlobalContractDoesNotExist": {"identifier": {"AccountId": "nobody.test.near"}}}}}}
    after = node.query("view_account", account_id=USER)
    assert after["global_contract_account_id"] == "test.near"  # nothing changed
    assert after["storage_usage"] == view["storage_usage"]


def _account_changes(node: Any, outcome: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(cause type, global_contract_hash, code_hash) of USER's account changes in the block
    of the transaction `outcome`, in order."""
    changes = node.result("EXPERIMENTAL_changes", {
        "block_id": outcome["transaction_outcome"]["block_hash"],
        "changes_type": "account_changes", "account_ids": [USER]})["changes"]
    return [(c["cause"]["type"], c["change"]["global_contract_hash"], c["change"]["code_hash"])
            for c in changes]


def test_state_changes_show_the_global_contract_as_of_each_change(chain: Any) -> None:
    """The signer's charge (transaction_processing) comes before its UseGlobalContract
    receipt: it shows the account as it was then, without the global contract; and a later
    local deploy's charge still shows the global contract the receipt then drops."""
    node = chain
    used = send(node, USER_SEED, USER, USER_KEY,
                [signed.UseGlobalContract(base58.b58decode(COUNTER_HASH), None)])
    assert used["status"] == {"SuccessValue": ""}, used
    assert _account_changes(node, used) == [
        ("transaction_processing", None, NO_CODE_HASH),
        ("receipt_processing", COUNTER_HASH, NO_CODE_HASH)]
    local = send(node, USER_SEED, USER, USER_KEY, [DeployContract(COUNTER)])
    assert local["status"] == {"SuccessValue": ""}, local
    assert _account_changes(node, local) == [
        ("transaction_processing", COUNTER_HASH, NO_CODE_HASH),
        ("receipt_processing", None, COUNTER_HASH)]
    # an account created and made to use one in the same receipt shows it once made
    nonce = node.query("view_access_key", account_id="test.near",
                  public_key=node.public_key)["nonce"] + 1
    other = "other.test.near"
    raw = signed.sign(node.seed[:32], "test.near", nonce, other, node.block_hash(),
                      [CreateAccount(), Transfer(5 * 10**24),
                       signed.UseGlobalContract(None, "test.near")])
    made = node.call("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode(),
                                 "wait_until": "FINAL"})["result"]
    assert made["status"] == {"SuccessValue": ""}, made
    changes = node.result("EXPERIMENTAL_changes", {
        "block_id": made["transaction_outcome"]["block_hash"],
        "changes_type": "account_changes", "account_ids": [other]})["changes"]
    assert [(c["cause"]["type"], c["change"]["global_contract_account_id"])
            for c in changes] == [("receipt_processing", "test.near")]


def test_near_api_js_deploys_and_uses_global_contracts(tmp_path: Path) -> None:
    require_near_api_js()
    with live_node(tmp_path) as live:
        report = near_api_js("global_contracts.mjs", live.url, live.key_file, COUNTER_PATH,
                             timeout=180)
    for step in ("deploy_hash_status", "deploy_account_status", "use_hash_status",
                 "use_account_status"):
        assert report[step] == {"SuccessValue": ""}, (step, report[step])
    # two deploys: 1e20 yoctoNEAR per byte each, plus their gas
    assert int(report["lib_spent"]) > 2 * 10**20 * len(COUNTER)
    assert int(report["lib_spent"]) < 2 * 10**20 * len(COUNTER) + 10**22
    hash_view, account_view = report["by_hash_view"], report["by_account_view"]
    assert hash_view["code_hash"] == account_view["code_hash"] == NO_CODE_HASH
    assert hash_view["global_contract_hash"] == COUNTER_HASH
    assert account_view["global_contract_account_id"] == report["lib"]
    assert hash_view["storage_usage"] + len(report["lib"]) - 32 == account_view["storage_usage"]
    assert report["by_hash_count"] == report["by_account_count"] == 1
    assert report["by_hash_code_hash"] == report["by_account_code_hash"] == COUNTER_HASH
    assert report["by_hash_code_size"] == len(COUNTER)
    assert report["global_by_hash"] == COUNTER_HASH
    assert report["global_by_account"] == len(COUNTER)
    assert report["unknown_error"].startswith("GlobalContractDoesNotExist"), \
        report["unknown_error"]
