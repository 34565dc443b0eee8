"""The near-workspaces style harness (outlayer.testing) and its pytest plugin."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import base58
import pytest
from nacl.signing import SigningKey

from outlayer.chain import actions
from outlayer.chain.accounts import DEFAULT_SIGNER_BALANCE
from outlayer.chain.runtime import NEAR_GAS_PRICE
from outlayer.errors import AccountAlreadyExists, UserError
from outlayer.testing import Sandbox, TransactionFailed

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COUNTER = EXAMPLES / "counter.js"
STATUS = EXAMPLES / "status_message.js"
NEAR = 10**24

CLOCK = """
export function now() { return near.blockTimestamp().toString(); }
export function fail() { near.log("about to fail"); throw new Error("nope"); }
"""


def test_counter(sandbox: Sandbox) -> None:
    """The example at the top of docs/TESTING.md."""
    counter = sandbox.dev_deploy(COUNTER)
    alice = sandbox.root.create_subaccount("alice")
    assert (counter.id, alice.id) == ("dev-1.test.near", "alice.test.near")

    result = alice.call(counter, "increment")
    assert result.json() == 1
    assert result.logs == ["Counter incremented to 1"]
    assert result.total_gas_burnt > 0 and result.receipt_failures == []
    assert result.is_success and result.outcome.status == "SuccessValue"

    assert counter.view("get_count").json() == 1
    assert counter.view_state() == {"count": "1"}


def test_patching_accounts_keys_and_code(sandbox: Sandbox) -> None:
    """near-workspaces' updateAccount / updateAccessKey / patchStateRecords, in Python."""
    alice = sandbox.root.create_subaccount("alice")
    before = alice.details()
    shown = sandbox.patch_account(alice, amount=str(7 * NEAR))
    assert shown["balance"] == 7 * NEAR and shown["storage_usage"] == before["storage_usage"]
    key = "ed25519:" + base58.b58encode(bytes(SigningKey(b"k" * 32).verify_key)).decode()
    sandbox.patch_access_key(alice, key, nonce=5)
    assert key in [k["public_key"] for k in sandbox.sim.access_keys(alice.id)]
    sandbox.patch_code(alice, COUNTER)
    assert alice.call(alice, "increment").json() == 1
    sandbox.patch_records([{"Data": {"account_id": alice.id, "data_key": "Y291bnQ=",
                                     "value": "NDE="}}])  # count = "41"
    assert alice.view("get_count").json() == 41
    with pytest.raises(UserError, match="Receipt"):
        sandbox.patch_records([{"PostponedReceipt": {}}])
    assert sandbox.sim.verify().ok


def test_failure_is_rolled_back(sandbox: Sandbox) -> None:
    status = sandbox.dev_deploy(STATUS)
    alice = sandbox.create_account("alice.test")
    before = alice.balance
    failed = alice.call(status, "set_status", {"message": "x" * 300}, deposit=5)
    assert failed.is_failure and failed.result is None
    assert failed.error == {"kind": "GuestPanic",
                            "message": "message is 300 characters long, over the limit of 280"}
    assert failed.receipt_failures[0]["kind"] == "GuestPanic"
    assert failed.receipt_failures[0]["executor_id"] == status.id
    assert status.view_state() == {}
    # the deposit came back; alice paid for the gas burnt, at NEAR's gas price (the default)
    assert alice.balance == before - failed.tokens_burnt
    assert failed.tokens_burnt == sum(o.tokens_burnt for o in (
        failed.outcome.transaction_outcome, *failed.receipts_outcome)) > 0
    with pytest.raises(TransactionFailed, match="GuestPanic"):
        failed.json()
    with pytest.raises(TransactionFailed, match="GuestPanic"):
        status.view("get_status", {}).json()


def test_time_and_history(sandbox: Sandbox) -> None:
    counter = sandbox.dev_deploy(COUNTER)
    first = sandbox.root.call(counter, "increment")
    sandbox.set_timestamp(1_800_000_000_000_000_000)
    sandbox.fast_forward(10)
    assert sandbox.timestamp_ns == 1_800_000_000_000_000_000 + 9 * 10**9
    sandbox.patch_state(counter, "count", "41")
    assert sandbox.root.call(counter, "increment").json() == 42
    assert sandbox.state_at(counter, first.block_height) == {"count": "1"}
    assert sandbox.verify().ok
    trace = sandbox.replay(first).receipts[0].runs[0].trace or []
    assert [call[0] for call in trace][-1] == "value_return"


def test_contract_sees_the_sandbox_clock(sandbox: Sandbox) -> None:
    clock = sandbox.dev_deploy(CLOCK)
    sandbox.set_timestamp(2_000_000_000_000_000_000)
    assert sandbox.root.call(clock, "now").json() == "2000000000000000000"
    sandbox.set_block_time(5)
    latest = sandbox.timestamp_ns  # the gas refund's block, one block time after the call
    assert latest == 2_000_000_001_000_000_000
    assert clock.view("now").json() == str(latest)
    assert sandbox.root.call(clock, "now").json() == str(latest + 5)
    failed = sandbox.root.call(clock, "fail")
    assert failed.logs == ["about to fail"] and failed.status == "failure"
    assert clock.view("now").logs == []


def test_accounts_keys_transfers_and_batches(sandbox: Sandbox) -> None:
    alice = sandbox.root.create_subaccount("alice", balance="5NEAR")
    assert alice.balance == 5 * NEAR
    assert [k["access_key"]["permission"] for k in alice.keys()] == ["FullAccess"]
    bob = alice.create_subaccount("bob", balance=NEAR)  # bob.alice.test.near
    # alice paid 1 NEAR and the gas of the transaction (well under 0.001 NEAR)
    assert bob.id == "bob.alice.test.near" and bob.balance == NEAR
    assert 4 * NEAR - NEAR // 1000 < alice.balance < 4 * NEAR
    before = alice.balance
    sent = alice.transfer(bob, NEAR)
    assert sent.is_success and bob.balance == 2 * NEAR
    assert alice.balance == before - NEAR - sent.tokens_burnt
    with pytest.raises(TransactionFailed, match="CreateAccountNotAllowed"):
        bob.create_subaccount("x.y", balance=1)  # not a direct sub-account: it fails
    deployed = alice.batch(alice, [actions.deploy_contract(COUNTER),
                                   actions.function_call("increment", gas="100T")])
    assert deployed.json() == 1 and alice.view("get_count").json() == 1
    assert bob.delete_account(alice).is_success
    with pytest.raises(AccountAlreadyExists):
        sandbox.create_account("alice.test.near")
    assert sandbox.account(alice.id) == alice and str(alice) == alice.id
    assert sandbox.root.balance < DEFAULT_SIGNER_BALANCE


def test_cross_contract_failure_is_reported(sandbox: Sandbox) -> None:
    counter = sandbox.dev_deploy(COUNTER)
    result = sandbox.root.batch(counter, [actions.function_call("increment", gas="100T"),
                                          actions.function_call("no_such_method", gas="100T")])
    assert result.is_failure
    assert result.receipt_failures == [{"receipt_id": result.receipts_outcome[0].id,
                                        "executor_id": counter.id,
                                        "kind": "MethodNotFound",
                                        "message": result.error["message"]  # type: ignore[index]
                                        }]
    assert counter.view_state() == {}  # the whole receipt rolled back


def test_sandbox_factory_options(sandbox_factory: Callable[..., Sandbox]) -> None:
    paid = sandbox_factory()  # NEAR's gas price is the default
    free = sandbox_factory(gas_price=0)
    for box in (paid, free):
        counter = box.dev_deploy(COUNTER)
        box.root.call(counter, "increment")
    assert paid.root.balance < DEFAULT_SIGNER_BALANCE == free.root.balance
    assert paid.sim.gas_price == NEAR_GAS_PRICE


def test_sandboxes_are_isolated(sandbox_factory: Callable[..., Sandbox]) -> None:
    one, two = sandbox_factory(), sandbox_factory()
    one.dev_deploy(COUNTER)
    assert one.sim.store.get_account("dev-1.test.near") is not None
    assert two.sim.store.get_account("dev-1.test.near") is None


_PLUGIN_TEST = '''
from pathlib import Path

def test_uses_the_fixture(sandbox):
    counter = sandbox.dev_deploy(Path({counter!r}))
    assert sandbox.root.call(counter, "increment").json() == 1

def test_factory(sandbox_factory):
    box = sandbox_factory(block_time_ns=7)
    assert box.sim.block_time_ns == 7

def test_tampered_history_fails_under_verify(sandbox):
    counter = sandbox.dev_deploy(Path({counter!r}))
    sandbox.root.call(counter, "increment")
    sandbox.sim.store._db.execute("UPDATE state SET value = x'39'")
'''


def test_the_pytest_plugin_is_registered_and_verifies(tmp_path: Path) -> None:
    (tmp_path / "test_plugin_use.py").write_text(_PLUGIN_TEST.format(counter=str(COUNTER)))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--outlayer-verify",
         str(tmp_path / "test_plugin_use.py")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert "3 passed, 1 error" in out, out  # the tampered test fails at teardown
    assert "outlayer verify: the live state: state[dev-1.test.near, count]" in out, out
