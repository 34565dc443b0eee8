"""State patches with nearcore's StateRecords (outlayer.chain.patches): every record kind,
storage usage, all-or-nothing refusals, and `verify` replaying them."""

from __future__ import annotations

import base64
import json
import sqlite3

import base58
import pytest

from outlayer.chain import patches
from outlayer.chain.accounts import access_key_storage_bytes, public_key_bytes
from outlayer.chain.patches import EMPTY_CODE_HASH, PatchAccountMissing, PatchError
from outlayer.chain.simulator import ContractSimulator, convenience_key
from outlayer.chain.store import code_hash
from outlayer.errors import AccountNotFound, ContractNotDeployed, UserError

from .conftest import EXAMPLES, KV_CONTRACT

COUNTER = (EXAMPLES / "counter.js").read_text()
KEY = "ed25519:" + base58.b58encode(bytes(range(32))).decode()
NEAR = 10**24


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def account_record(account_id: str, amount: int, *, code: bytes | None = None,
                   storage_usage: int = 100, **extra: object) -> dict:
    return {"Account": {"account_id": account_id, "account": {
        "amount": str(amount), "locked": "0", "storage_usage": storage_usage,
        "code_hash": code_hash(code) if code else EMPTY_CODE_HASH, **extra}}}


def snapshot(sim: ContractSimulator) -> tuple:
    """Everything a refused patch must leave alone."""
    store = sim.store
    return (sim.height, len(store.history()), store.table_rows("accounts"),
            store.table_rows("access_keys"), store.table_rows("state"),
            store.table_rows("code"))


def test_account_record_creates_an_account_that_then_runs_code(sim: ContractSimulator) -> None:
    code = COUNTER.encode()
    sim.patch_records([
        account_record("new.test", 5 * NEAR, code=code, storage_usage=5000),
        {"AccessKey": {"account_id": "new.test", "public_key": KEY,
                       "access_key": {"nonce": 7, "permission": "FullAccess"}}},
        {"Contract": {"account_id": "new.test", "code": b64(code)}},
    ])
    account = sim.account("new.test")
    assert (account["balance"], account["storage_usage"]) == (5 * NEAR, 5000)  # as stated
    assert account["code_hash"] == code_hash(code)
    assert sim.access_keys("new.test") == [{"public_key": KEY, "access_key": {
        "nonce": 7, "permission": "FullAccess"}}]
    assert sim.call("new.test", "increment").result == 1
    assert sim.view("new.test", "get_count").result == 1
    assert sim.verify().ok


def test_account_record_changes_balance_and_keeps_the_rest(sim: ContractSimulator) -> None:
    sim.deploy("c.test", COUNTER)
    sim.call("c.test", "increment")
    before = sim.account("c.test")
    after = sim.patch_account("c.test", amount=7 * NEAR, locked=3)
    assert (after["balance"], after["locked"]) == (7 * NEAR, 3)
    assert {k: after[k] for k in ("code_hash", "storage_usage", "realm", "public_key",
                                  "created_height")} == \
        {k: before[k] for k in ("code_hash", "storage_usage", "realm", "public_key",
                                "created_height")}
    assert sim.call("c.test", "increment").result == 2  # the contract still runs
    assert sim.verify().ok


def test_an_account_record_without_code_hash_leaves_no_contract(sim: ContractSimulator) -> None:
    sim.deploy("c.test", COUNTER)
    usage = sim.account("c.test")["storage_usage"] - len(COUNTER.encode())
    sim.patch_account("c.test", code_hash=EMPTY_CODE_HASH, storage_usage=usage)
    assert sim.account("c.test")["code_hash"] is None
    with pytest.raises(ContractNotDeployed):
        sim.call("c.test", "increment")
    # the hash of code already on the chain is enough to run it again (content-addressed)
    sim.patch_account("c.test", code_hash=code_hash(COUNTER.encode()),
                      storage_usage=usage + len(COUNTER.encode()))
    assert sim.call("c.test", "increment").result == 1
    assert sim.verify().ok


def test_patch_code_installs_code_as_a_deploy_counts_it(sim: ContractSimulator) -> None:
    sim.deploy("kv.test", KV_CONTRACT)
    sim.call("kv.test", "set", {"key": "a", "value": "1"})
    before = sim.account("kv.test")
    after = sim.patch_code("kv.test", COUNTER)
    assert after["code_hash"] == code_hash(COUNTER.encode())
    assert after["storage_usage"] == (before["storage_usage"] - len(KV_CONTRACT.encode())
                                      + len(COUNTER.encode()))
    assert sim.state("kv.test") == {"a": "1"}  # storage stays, as with a deploy
    assert sim.call("kv.test", "increment").result == 1
    # a wasm contract is recognised by its magic (and loaded once, as a deploy does)
    with pytest.raises(PatchError, match=r"records\[1\]\.code` does not load"):
        sim.patch_code("kv.test", b"\0asm\x01\x00\x00\x00garbage")
    with pytest.raises(PatchError, match=r"records\[1\]\.code` does not load"):
        sim.patch_code("kv.test", "export function broken( {")
    assert sim.verify().ok


def test_access_key_records_add_and_replace_keys_with_storage(sim: ContractSimulator) -> None:
    sim.create_account("a.test")
    usage = sim.account("a.test")["storage_usage"]
    function_call = {"FunctionCall": {"allowance": str(NEAR), "receiver_id": "c.test",
                                      "method_names": ["increment"]}}
    sim.patch_access_key("a.test", KEY, permission=function_call)
    raw = public_key_bytes(KEY)
    fc_bytes = access_key_storage_bytes(raw, function_call, sim.params)
    assert sim.account("a.test")["storage_usage"] == usage + fc_bytes
    keys = {k["public_key"]: k["access_key"] for k in sim.access_keys("a.test")}
    assert keys[KEY] == {"nonce": 0, "permission": function_call}
    sim.patch_access_key("a.test", KEY, nonce=5)  # replaced: the difference is counted
    assert sim.account("a.test")["storage_usage"] == \
        usage + access_key_storage_bytes(raw, "FullAccess", sim.params)
    keys = {k["public_key"]: k["access_key"] for k in sim.access_keys("a.test")}
    assert keys[KEY] == {"nonce": 5, "permission": "FullAccess"}
    assert sim.verify().ok


def test_data_records_count_storage_unless_an_account_record_states_it(
        sim: ContractSimulator) -> None:
    sim.create_account("a.test")
    usage = sim.account("a.test")["storage_usage"]
    sim.patch_records([{"Data": {"account_id": "a.test", "data_key": b64("k"),
                                 "value": b64("vv")}}])
    assert sim.account("a.test")["storage_usage"] == usage + 1 + 2 + 40  # as patch_state
    stated = sim.account("a.test")["storage_usage"] + 1000
    sim.patch_records([
        account_record("a.test", NEAR, storage_usage=stated),
        {"Data": {"account_id": "a.test", "data_key": b64("k2"), "value": b64("v")}},
    ])
    assert sim.account("a.test")["storage_usage"] == stated
    assert sim.state("a.test") == {"k": "vv", "k2": "v"}
    assert sim.verify().ok


def test_global_contract_fields_make_an_account_use_it(sim: ContractSimulator) -> None:
    sim.deploy_global("g.test", COUNTER)
    digest = code_hash(COUNTER.encode())
    sim.patch_records([account_record("user.test", NEAR, version="V2",
                                      global_contract_hash=digest, storage_usage=132)])
    assert sim.global_contract("user.test") == {"CodeHash": digest}
    assert sim.call("user.test", "increment").result == 1
    sim.patch_account("user.test", global_contract_account_id=None, global_contract_hash=None,
                      storage_usage=100)
    assert sim.global_contract("user.test") is None
    assert sim.verify().ok


@pytest.mark.parametrize(("records", "says"), [
    ([{"Account": {"account_id": "x.test"}}], r"missing field `records\[0\]\.account`"),
    ([account_record("x.test", 1) | {}, {"Foo": {}}], r"unknown variant `Foo`"),
    ([{"DelayedReceipt": {}}], r"DelayedReceipt records cannot be patched"),
    ([{"Data": {"account_id": "x.test", "data_key": "a", "value": "AA=="}}],
     r"records\[0\]\.data_key` is not valid base64"),
    ([account_record("X", 1)], r"records\[0\]\.account_id`"),
    ([account_record("x.test", -1)], r"records\[0\]\.account\.amount` must be a decimal"),
    ([account_record("x.test", 1, storage_usage="10")],
     r"records\[0\]\.account\.storage_usage` must be a u64"),
    ([account_record("x.test", 1, version="V3")], r"account\.version"),
    ([account_record("x.test", 1, global_contract_hash=EMPTY_CODE_HASH)],
     r"account\.version` must be \"V2\""),
    ([{"Account": {"account_id": "x.test", "account": {
        "amount": "1", "locked": "0", "storage_usage": 0, "code_hash": "nope"}}}],
     r"account\.code_hash` must be the base58 of a 32-byte hash"),
    ([{"AccessKey": {"account_id": "x.test", "public_key": "ed25519:abc",
                     "access_key": {"nonce": 0, "permission": "FullAccess"}}}],
     r"records\[0\]\.public_key`"),
    ([{"AccessKey": {"account_id": "x.test", "public_key": KEY,
                     "access_key": {"nonce": 0, "permission": "Some"}}}],
     r"access_key\.permission` must be \"FullAccess\""),
    ([{"AccessKey": {"account_id": "x.test", "public_key": KEY, "access_key": {
        "nonce": 0, "permission": {"FunctionCall": {"allowance": None, "receiver_id": "r",
                                                    "method_names": [1]}}}}}],
     r"FunctionCall\.method_names` must be a list of strings"),
    ([{"Contract": {"account_id": "x.test", "code": b64(b"\xff\xfe")}}],
     r"records\[0\]\.code` contract source is not UTF-8"),
    ("nope", r"records must be a list"),
])
def test_bad_records_are_refused_by_field_and_write_nothing(
        sim: ContractSimulator, records: object, says: str) -> None:
    sim.create_account("x.test")
    before = snapshot(sim)
    with pytest.raises(UserError, match=says):
        sim.patch_records(records)  # type: ignore[arg-type]
    assert snapshot(sim) == before


def test_state_rules_refuse_the_whole_patch(sim: ContractSimulator) -> None:
    sim.create_account("a.test")
    sim.deploy("c.test", COUNTER)
    before = snapshot(sim)
    sim.patch_records([])  # nothing to write: nothing recorded either
    assert snapshot(sim) == before
    code = KV_CONTRACT.encode()
    refusals = [
        # the first record would apply: the second refuses the whole patch
        ([account_record("new.test", NEAR),
          {"Data": {"account_id": "ghost.test", "data_key": b64("k"), "value": b64("v")}}],
         PatchAccountMissing, r"records\[1\] \(Data\): account ghost\.test does not exist"),
        ([account_record("new.test", NEAR),
          {"Contract": {"account_id": "new.test", "code": b64(code)}}],
         PatchError, r"records\[1\]\.code` hashes to .* not to account new\.test's code_hash"),
        ([account_record("new.test", NEAR, code=code, storage_usage=10**4)],
         PatchError, r"records\[0\]\.account\.code_hash`: no contract code with hash"),
        ([account_record("new.test", NEAR, version="V2", global_contract_account_id="g.test")],
         PatchError, r"no global contract is deployed under account g\.test"),
        ([account_record("a.test", NEAR, storage_usage=0)],
         PatchError, r"account\.storage_usage` 0 is less than the \d+ bytes"),
        ([account_record("c.test", NEAR, code=COUNTER.encode(), storage_usage=100)],
         PatchError, r"account\.storage_usage` 100 is less than"),
    ]
    for records, error, says in refusals:
        with pytest.raises(error, match=says):
            sim.patch_records(records)
        assert snapshot(sim) == before
    with pytest.raises(AccountNotFound):
        sim.patch_code("ghost.test", COUNTER)
    with pytest.raises(UserError, match="unknown Account field"):
        sim.patch_account("a.test", balance=1)
    assert snapshot(sim) == before
    assert sim.verify().ok


def test_the_history_records_one_canonical_entry_and_verify_replays_it(
        sim: ContractSimulator, tmp_path) -> None:
    code = COUNTER.encode()
    sim.patch_records([
        account_record("new.test", 10 * NEAR, code=code, storage_usage=5000),
        {"Contract": {"account_id": "new.test", "code": b64(code)}},
        {"AccessKey": {"account_id": "new.test", "public_key": KEY, "access_key": {
            "nonce": 1, "permission": {"FunctionCall": {
                "allowance": 5, "receiver_id": "new.test", "method_names": []}}}}},
        {"Data": {"account_id": "new.test", "data_key": b64("count"), "value": b64("41")}},
    ])
    entry = sim.store.history()[-1]
    assert entry.kind == "patch_records"
    records = entry.body["records"]
    assert [next(iter(r)) for r in records] == ["Account", "Contract", "AccessKey", "Data"]
    assert records[0]["Account"]["account"] == {
        "amount": str(10 * NEAR), "locked": "0", "code_hash": code_hash(code),
        "storage_usage": 5000, "version": "V1"}
    assert records[2]["AccessKey"]["access_key"]["permission"]["FunctionCall"][
        "allowance"] == "5"
    # canonical: reading the recorded records back gives the same JSON
    assert [patches.to_json(p) for p in patches.parse_records(records, sim.params)] == records
    assert sim.call("new.test", "increment").result == 42
    report = sim.verify()
    assert report.ok, report.divergence


def test_a_replay_that_disagrees_with_a_patch_is_a_divergence(tmp_path) -> None:
    db = tmp_path / "chain.db"
    with ContractSimulator(db_path=db, gas_price=0) as sim:
        sim.create_account("a.test")
        sim.patch_account("a.test", amount=99)
        seq = sim.store.history()[-1].seq
    con = sqlite3.connect(db)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                               "AND tbl_name = 'history'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    body = json.loads(con.execute("SELECT body FROM history WHERE seq = ?", (seq,)).fetchone()[0])
    body["records"][0]["Account"]["account"]["amount"] = "98"
    con.execute("UPDATE history SET body = ? WHERE seq = ?",
                (json.dumps(body, sort_keys=True, separators=(",", ":")), seq))
    con.commit()
    con.close()
    with ContractSimulator(db_path=db) as sim:
        report = sim.verify()
    assert not report.ok


def test_convenience_key_accounts_keep_signing_after_a_balance_patch(
        sim: ContractSimulator) -> None:
    sim.create_account("a.test")
    sim.patch_account("a.test", amount=50 * NEAR)
    assert sim.secret_key("a.test")
    assert sim.access_keys("a.test")[0]["public_key"] == \
        convenience_key(sim.chain_seed, "a.test")
    sim.deploy("c.test", COUNTER)
    assert sim.call("c.test", "increment", signer_id="a.test").result == 1



def test_cli_patch_state_takes_a_records_file(tmp_path) -> None:
    from typer.testing import CliRunner

    from outlayer.cli import app

    db, records = tmp_path / "state.db", tmp_path / "records.json"

    def cli(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, ["--db", str(db), *args])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result.stdout + result.stderr

    code = COUNTER.encode()
    records.write_text(json.dumps({"records": [
        account_record("cli.test", 10 * NEAR, code=code, storage_usage=5000),
        {"Contract": {"account_id": "cli.test", "code": b64(code)}}]}))
    assert "patched 2 record(s)" in cli("patch-state", "--records", str(records))
    account = json.loads(cli("account", "cli.test", "--json"))["result"]
    assert account["code_hash"] == code_hash(code) and account["storage_usage"] == 5000
    records.write_text(json.dumps([{"DelayedReceipt": {}}]))
    assert "DelayedReceipt records cannot be patched" in cli(
        "patch-state", "--records", str(records), code=2)
    assert "either --records" in cli("patch-state", "cli.test", "--records", str(records),
                                     code=2)
    records.write_text("[{")
    assert "is not JSON" in cli("patch-state", "--records", str(records), code=2)
    assert "is not UTF-8" in cli("patch-state", "--records", str(db), code=2)
    assert "✓ verified" in cli("verify")
