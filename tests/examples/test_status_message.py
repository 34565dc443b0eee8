"""examples/status_message.js: per-account messages, through the sandbox harness
(`outlayer.testing`, the `sandbox` fixture of OutLayer's pytest plugin) and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from outlayer.testing import Account, Sandbox

from .support import Cli, as_args, assert_panics, example, ok, undo_gas

SOURCE = example("status_message.js")


@pytest.fixture
def status(sandbox: Sandbox) -> Account:
    contract = sandbox.dev_deploy(SOURCE)
    assert contract.deploy_info is not None
    assert contract.deploy_info["methods"] == ["clear_status", "get_status", "set_status"]
    for account in ("alice.test", "bob.test"):
        sandbox.create_account(account)
    return contract


def alice(contract: Account) -> Account:
    return contract.sandbox.account("alice.test")


def bob(contract: Account) -> Account:
    return contract.sandbox.account("bob.test")


def test_each_account_has_its_own_status(status: Account) -> None:
    first = alice(status).call(status, "set_status", {"message": "hello"})
    assert ok(first) == "alice.test"
    assert first.logs == ["alice.test set status: hello"]
    assert first.state_changes == {"status:alice.test": "hello"}
    second = bob(status).call(status, "set_status", {"message": "hi from bob"})
    assert ok(second) == "bob.test"

    assert ok(status.view("get_status", {"account_id": "alice.test"})) == "hello"
    assert ok(status.view("get_status", {"account_id": "bob.test"})) == "hi from bob"
    assert ok(status.view("get_status", {"account_id": "carol.test"})) is None
    assert status.view_state() == {"status:alice.test": "hello",
                                   "status:bob.test": "hi from bob"}


def test_update_replaces_only_the_callers_status(status: Account) -> None:
    ok(alice(status).call(status, "set_status", {"message": "one"}))
    ok(bob(status).call(status, "set_status", {"message": "bob"}))
    again = alice(status).call(status, "set_status", {"message": "two"})
    assert again.logs == ["alice.test updated status: two"]
    assert status.view_state() == {"status:alice.test": "two", "status:bob.test": "bob"}


def test_clear_status(status: Account) -> None:
    ok(alice(status).call(status, "set_status", {"message": "bye"}))
    cleared = alice(status).call(status, "clear_status")
    assert ok(cleared) is True
    assert cleared.logs == ["alice.test cleared status"]
    assert cleared.state_changes == {"status:alice.test": None}
    assert status.view_state() == {}
    nothing = alice(status).call(status, "clear_status")
    assert ok(nothing) is False and nothing.logs == []


def test_limit_counts_characters_not_bytes(status: Account) -> None:
    message = "\U0001f600" * 280  # 280 characters, 1,120 UTF-8 bytes
    ok(alice(status).call(status, "set_status", {"message": message}))
    assert ok(status.view("get_status", {"account_id": "alice.test"})) == message


@pytest.mark.parametrize(("args", "message"), [
    ({"message": "x" * 281}, "message is 281 characters long, over the limit of 280"),
    ({"message": ""}, "message must not be empty (use clear_status to remove it)"),
    ({"message": 42}, "message must be a string"),
    ({}, "message must be a string"),
])
def test_invalid_messages_fail_and_change_nothing(status: Account, args: dict[str, object],
                                                  message: str) -> None:
    ok(alice(status).call(status, "set_status", {"message": "keep me"}))
    before = (status.view_state(), status.details(), alice(status).details())
    result = alice(status).call(status, "set_status", args)
    assert_panics(result, message)
    assert result.is_failure and result.receipt_failures[0]["kind"] == "GuestPanic"
    assert result.logs == []
    state, contract, signer = status.view_state(), status.details(), alice(status).details()
    # only gas moved: alice paid the tokens burnt, the contract earned 30% of its gas
    assert (state, *undo_gas(contract, signer, result)) == before
    assert status.view_state() == {"status:alice.test": "keep me"}


def test_get_status_needs_an_account_id(status: Account) -> None:
    assert_panics(status.view("get_status", {}), "account_id must be a string")


def test_set_status_is_not_a_view(status: Account) -> None:
    result = status.view("set_status", {"message": "sneaky"})
    assert result.status == "failure"
    assert result.error is not None and result.error["kind"] == "ProhibitedInView"
    assert status.view_state() == {}


def test_history_verifies_and_time_travels(status: Account) -> None:
    first = alice(status).call(status, "set_status", {"message": "v1"})
    alice(status).call(status, "set_status", {"message": "v2"})
    sandbox = status.sandbox
    assert sandbox.state_at(status, first.block_height) == {"status:alice.test": "v1"}
    assert sandbox.verify().ok


def test_state_persists_across_sandboxes(sandbox_factory: Callable[..., Sandbox],
                                         db_path: Path) -> None:
    first = sandbox_factory(db_path=db_path)
    contract = first.dev_deploy(SOURCE)
    ok(first.create_account("alice.test").call(contract, "set_status", {"message": "saved"}))
    first.close()
    second = sandbox_factory(db_path=db_path)
    contract = second.account(contract.id)
    assert ok(contract.view("get_status", {"account_id": "alice.test"})) == "saved"
    ok(second.root.call(contract, "set_status", {"message": "again"}))
    assert contract.view_state() == {"status:alice.test": "saved", "status:test.near": "again"}


def test_cli(cli: Cli) -> None:
    contract = "status.test"
    deployed = cli("deploy", contract, SOURCE)
    assert deployed["result"]["methods"] == ["clear_status", "get_status", "set_status"]
    called = cli("call", contract, "set_status", "--args", as_args(message="from the shell"),
                 "--signer", "alice.test")
    assert called["status"] == "success" and called["result"] == "alice.test"
    assert called["logs"] == ["alice.test set status: from the shell"]
    assert called["gas_burnt"] > 0
    viewed = cli("view", contract, "get_status", "--args", as_args(account_id="alice.test"))
    assert viewed["result"] == "from the shell"

    failed = cli("call", contract, "set_status", "--args", as_args(message="y" * 300),
                 "--signer", "alice.test", code=1)
    assert failed["status"] == "failure"
    assert failed["error"] == {"kind": "GuestPanic",
                               "message": "message is 300 characters long, over the limit of 280"}
    assert cli.state(contract) == {"status:alice.test": "from the shell"}


def test_cli_executable(cli: Cli) -> None:
    """The real `outlayer` program, one process per command, sharing the state file."""
    contract = "status.test"
    cli.subprocess("deploy", contract, SOURCE)
    cli.subprocess("call", contract, "set_status", "--args", as_args(message="über"),
                   "--signer", "bob.test")
    viewed = cli.subprocess("view", contract, "get_status", "--args",
                            as_args(account_id="bob.test"))
    assert viewed["status"] == "success" and viewed["result"] == "über"
    assert cli.subprocess("state", contract)["result"] == {"status:bob.test": "über"}
