"""sandbox_patch_state with every record kind near-sandbox takes (Account, AccessKey,
Contract, Data): the views see them, a patched account signs and runs its contract, the
changes carry nearcore's `migration` cause, bad records are refused by index and field
and write nothing, and the history replays (`verify`)."""

from __future__ import annotations

import base64
import json
from typing import Any

import base58
import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from outlayer.chain import signed
from outlayer.chain.patches import EMPTY_CODE_HASH
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import code_hash
from outlayer.service.app import ServiceConfig, create_app
from outlayer.vm.receipts import FunctionCall

from .conftest import Client
from .test_bad_input import chain_mark
from .test_signed_flow import COUNTER

NEAR = 10**24
SEED = bytes(range(32))
PUBLIC = "ed25519:" + base58.b58encode(SigningKey(SEED).verify_key.encode()).decode()


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def account(account_id: str, amount: int, *, code: bytes | None = None,
            storage_usage: int = 5000, **extra: Any) -> dict[str, Any]:
    return {"Account": {"account_id": account_id, "account": {
        "amount": str(amount), "locked": "0", "storage_usage": storage_usage,
        "code_hash": code_hash(code) if code else EMPTY_CODE_HASH, **extra}}}


def full_key(account_id: str, nonce: int = 0) -> dict[str, Any]:
    return {"AccessKey": {"account_id": account_id, "public_key": PUBLIC,
                          "access_key": {"nonce": nonce, "permission": "FullAccess"}}}


def file_node(db) -> tuple[TestClient, Client]:
    """A node on a state file (so a test can `verify` it once the node is stopped)."""
    config = ServiceConfig(db=str(db))
    http = TestClient(create_app(config))
    secret = config.node.secret_keys["test.near"]
    return http, Client(http, base58.b58decode(secret.split(":", 1)[1]))


def test_every_record_kind_patches_and_the_account_then_works(tmp_path):
    db = tmp_path / "state.db"
    http, node = file_node(db)
    with http:
        patch_and_use(node)
    with ContractSimulator(db_path=db) as sim:
        report = sim.verify()
    assert report.ok, report.divergence
    assert report.blocks >= 2


def patch_and_use(node: Client) -> None:
    node.result("sandbox_patch_state", {"records": [
        account("new.test.near", 10 * NEAR, code=COUNTER),
        full_key("new.test.near", nonce=41),
        {"Contract": {"account_id": "new.test.near", "code": b64(COUNTER)}},
        {"Data": {"account_id": "new.test.near", "data_key": b64("count"), "value": b64("9")}},
    ]})
    view = node.query("view_account", account_id="new.test.near")
    assert (view["amount"], view["locked"], view["storage_usage"], view["code_hash"]) == \
        (str(10 * NEAR), "0", 5000, code_hash(COUNTER))
    key = node.query("view_access_key", account_id="new.test.near", public_key=PUBLIC)
    assert (key["nonce"], key["permission"]) == (41, "FullAccess")
    code = node.query("view_code", account_id="new.test.near")
    assert base64.b64decode(code["code_base64"]) == COUNTER
    state = node.query("view_state", account_id="new.test.near", prefix_base64="")
    assert [(v["key"], v["value"]) for v in state["values"]] == [(b64("count"), b64("9"))]
    # the patched key signs a transaction calling the patched contract
    raw = signed.sign(SEED, "new.test.near", 42, "new.test.near", node.block_hash(),
                      [FunctionCall("increment", b"{}", 0, 30 * 10**12)])
    reply = node.result("send_tx", {"signed_tx_base64": b64(raw), "wait_until": "FINAL"})
    assert base64.b64decode(reply["status"]["SuccessValue"]) == b"10"
    # a balance change of an existing account: the rest given as its view has it
    view = node.query("view_account", account_id="new.test.near")
    node.result("sandbox_patch_state", {"records": [
        account("new.test.near", 3 * NEAR, code=COUNTER,
                storage_usage=view["storage_usage"])]})
    assert node.query("view_account", account_id="new.test.near")["amount"] == str(3 * NEAR)
    result = node.query("call_function", account_id="new.test.near", method_name="get_count",
                   args_base64=b64("{}"))
    assert json.loads(bytes(result["result"])) == 10


def test_patches_show_as_migration_changes(node):
    node.result("sandbox_patch_state", {"records": [
        account("p.test.near", NEAR, code=COUNTER), full_key("p.test.near"),
        {"Contract": {"account_id": "p.test.near", "code": b64(COUNTER)}},
        {"Data": {"account_id": "p.test.near", "data_key": b64("k"), "value": b64("v")}},
    ]})
    node.result("sandbox_fast_forward", {"delta_height": 1})
    # recorded at the open height: the block the fast-forward made holds the patch
    block = node.result("block", {"finality": "final"})["header"]["hash"]
    migration = {"type": "migration"}
    base = {"block_id": block, "account_ids": ["p.test.near"]}
    for changes_type, extra, change_type in (
            ("account_changes", {}, "account_update"),
            ("all_access_key_changes", {}, "access_key_update"),
            ("contract_code_changes", {}, "contract_code_update"),
            ("data_changes", {"key_prefix_base64": ""}, "data_update")):
        changes = node.result("EXPERIMENTAL_changes", {**base, "changes_type": changes_type,
                                                       **extra})["changes"]
        assert changes, changes_type
        assert all(c["cause"] == migration for c in changes), changes
        assert changes[-1]["type"] == change_type
    assert changes[-1]["change"]["value_base64"] == b64("v")


@pytest.mark.parametrize(("records", "says"), [
    ([{"Account": {}}], "missing field `records[0].account_id`"),
    ([{"Account": {"account_id": "x.near"}}], "missing field `records[0].account`"),
    ([account("x.near", 1), {"Bogus": {}}], "records[1]`: unknown variant `Bogus`"),
    ([{"PostponedReceipt": {}}], "PostponedReceipt records cannot be patched"),
    ([{"ReceivedData": {}}], "ReceivedData records cannot be patched"),
    ([account("x.near", 1, storage_usage=-1)], "`records[0].account.storage_usage` must be"),
    ([account("x.near", "ten")], "`records[0].account.amount` must be a decimal string"),
    ([{"AccessKey": {"account_id": "test.near", "public_key": PUBLIC,
                     "access_key": {"nonce": 0}}}],
     "missing field `records[0].access_key.permission`"),
    ([{"AccessKey": {"account_id": "test.near", "public_key": "ed25519:xyz",
                     "access_key": {"nonce": 0, "permission": "FullAccess"}}}],
     "`records[0].public_key`"),
    ([{"Contract": {"account_id": "test.near", "code": "!!"}}],
     "`records[0].code` is not valid base64"),
    ([{"Contract": {"account_id": "test.near", "code": b64(COUNTER)}}],
     "`records[0].code` hashes to"),
    ([account("x.near", NEAR), {"Contract": {"account_id": "x.near",
                                             "code": b64("export function f( {")}}],
     "`records[1].code` does not load"),
    ([{"Data": {"account_id": "test.near", "data_key": "", "value": ""}}],
     "`records[0].data_key` must be 1 to"),
    ([account("test.near", NEAR, storage_usage=0)],
     "`records[0].account.storage_usage` 0 is less than"),
])
def test_bad_records_are_refused_by_index_and_field(node, records, says):
    before = chain_mark(node)
    error = node.error("sandbox_patch_state", {"records": records})
    assert error["name"] == "REQUEST_VALIDATION_ERROR", error
    assert error["cause"]["name"] == "PARSE_ERROR"
    assert says in error["data"], error
    node.result("sandbox_fast_forward", {"delta_height": 0})
    assert chain_mark(node) == before
    assert node.error("query", {"request_type": "view_account", "finality": "final",
                                "account_id": "x.near"})["cause"]["name"] == "UNKNOWN_ACCOUNT"


def test_a_record_of_a_missing_account_is_unknown_account_and_writes_nothing(node):
    before = chain_mark(node)
    error = node.error("sandbox_patch_state", {"records": [
        {"Data": {"account_id": "test.near", "data_key": b64("k"), "value": b64("v")}},
        full_key("ghost.near")]})
    assert error["name"] == "HANDLER_ERROR"
    assert error["cause"] == {"name": "UNKNOWN_ACCOUNT",
                              "info": {"requested_account_id": "ghost.near"}}
    assert "records[1] (AccessKey)" in error["data"]
    assert chain_mark(node) == before
    state = node.query("view_state", account_id="test.near", prefix_base64="")
    assert state["values"] == []
