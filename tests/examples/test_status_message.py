"""examples/status_message.js: per-account messages, through the Python API and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from outlayer import ContractSimulator

from .support import Cli, as_args, assert_panics, example, ok, snapshot

SOURCE = example("status_message.js")
CONTRACT = "status.test"


@pytest.fixture
def status(sim: ContractSimulator) -> ContractSimulator:
    info = sim.deploy(CONTRACT, SOURCE)
    assert info["methods"] == ["clear_status", "get_status", "set_status"]
    for account in ("alice.test", "bob.test"):
        sim.create_account(account)
    return sim


def test_each_account_has_its_own_status(status: ContractSimulator) -> None:
    first = status.call(CONTRACT, "set_status", {"message": "hello"}, signer_id="alice.test")
    assert ok(first) == "alice.test"
    assert first.logs == ["alice.test set status: hello"]
    assert first.state_changes == {"status:alice.test": "hello"}
    second = status.call(CONTRACT, "set_status", {"message": "hi from bob"},
                         signer_id="bob.test")
    assert ok(second) == "bob.test"

    assert ok(status.view(CONTRACT, "get_status", {"account_id": "alice.test"})) == "hello"
    assert ok(status.view(CONTRACT, "get_status", {"account_id": "bob.test"})) == "hi from bob"
    assert ok(status.view(CONTRACT, "get_status", {"account_id": "carol.test"})) is None
    assert status.state(CONTRACT) == {"status:alice.test": "hello",
                                      "status:bob.test": "hi from bob"}


def test_update_replaces_only_the_callers_status(status: ContractSimulator) -> None:
    ok(status.call(CONTRACT, "set_status", {"message": "one"}, signer_id="alice.test"))
    ok(status.call(CONTRACT, "set_status", {"message": "bob"}, signer_id="bob.test"))
    again = status.call(CONTRACT, "set_status", {"message": "two"}, signer_id="alice.test")
    assert again.logs == ["alice.test updated status: two"]
    assert status.state(CONTRACT) == {"status:alice.test": "two", "status:bob.test": "bob"}


def test_clear_status(status: ContractSimulator) -> None:
    ok(status.call(CONTRACT, "set_status", {"message": "bye"}, signer_id="alice.test"))
    cleared = status.call(CONTRACT, "clear_status", signer_id="alice.test")
    assert ok(cleared) is True
    assert cleared.logs == ["alice.test cleared status"]
    assert cleared.state_changes == {"status:alice.test": None}
    assert status.state(CONTRACT) == {}
    nothing = status.call(CONTRACT, "clear_status", signer_id="alice.test")
    assert ok(nothing) is False and nothing.logs == []


def test_limit_counts_characters_not_bytes(status: ContractSimulator) -> None:
    message = "\U0001f600" * 280  # 280 characters, 1,120 UTF-8 bytes
    ok(status.call(CONTRACT, "set_status", {"message": message}, signer_id="alice.test"))
    assert ok(status.view(CONTRACT, "get_status", {"account_id": "alice.test"})) == message


@pytest.mark.parametrize(("args", "message"), [
    ({"message": "x" * 281}, "message is 281 characters long, over the limit of 280"),
    ({"message": ""}, "message must not be empty (use clear_status to remove it)"),
    ({"message": 42}, "message must be a string"),
    ({}, "message must be a string"),
])
def test_invalid_messages_fail_and_change_nothing(status: ContractSimulator,
                                                  args: dict[str, object],
                                                  message: str) -> None:
    ok(status.call(CONTRACT, "set_status", {"message": "keep me"}, signer_id="alice.test"))
    before = snapshot(status, CONTRACT, "alice.test")
    result = status.call(CONTRACT, "set_status", args, signer_id="alice.test")
    assert_panics(result, message)
    assert result.logs == []
    assert snapshot(status, CONTRACT, "alice.test") == before
    assert status.state(CONTRACT) == {"status:alice.test": "keep me"}


def test_get_status_needs_an_account_id(status: ContractSimulator) -> None:
    assert_panics(status.view(CONTRACT, "get_status", {}), "account_id must be a string")


def test_set_status_is_not_a_view(status: ContractSimulator) -> None:
    result = status.view(CONTRACT, "set_status", {"message": "sneaky"})
    assert result.status == "failure"
    assert result.error is not None and result.error["kind"] == "ProhibitedInView"
    assert status.state(CONTRACT) == {}


def test_state_persists_across_simulators(db_path: Path) -> None:
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as first:
        first.deploy(CONTRACT, SOURCE)
        ok(first.call(CONTRACT, "set_status", {"message": "saved"}, signer_id="alice.test"))
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as second:
        assert ok(second.view(CONTRACT, "get_status", {"account_id": "alice.test"})) == "saved"
        ok(second.call(CONTRACT, "set_status", {"message": "again"}, signer_id="bob.test"))
        assert second.state(CONTRACT) == {"status:alice.test": "saved",
                                          "status:bob.test": "again"}


def test_cli(cli: Cli) -> None:
    deployed = cli("deploy", CONTRACT, SOURCE)
    assert deployed["result"]["methods"] == ["clear_status", "get_status", "set_status"]
    called = cli("call", CONTRACT, "set_status", "--args", as_args(message="from the shell"),
                 "--signer", "alice.test")
    assert called["status"] == "success" and called["result"] == "alice.test"
    assert called["logs"] == ["alice.test set status: from the shell"]
    assert called["gas_burnt"] > 0
    viewed = cli("view", CONTRACT, "get_status", "--args", as_args(account_id="alice.test"))
    assert viewed["result"] == "from the shell"

    failed = cli("call", CONTRACT, "set_status", "--args", as_args(message="y" * 300),
                 "--signer", "alice.test", code=1)
    assert failed["status"] == "failure"
    assert failed["error"] == {"kind": "GuestPanic",
                               "message": "message is 300 characters long, over the limit of 280"}
    assert cli.state(CONTRACT) == {"status:alice.test": "from the shell"}


def test_cli_executable(cli: Cli) -> None:
    """The real `outlayer` program, one process per command, sharing the state file."""
    cli.subprocess("deploy", CONTRACT, SOURCE)
    cli.subprocess("call", CONTRACT, "set_status", "--args", as_args(message="über"),
                   "--signer", "bob.test")
    viewed = cli.subprocess("view", CONTRACT, "get_status", "--args",
                            as_args(account_id="bob.test"))
    assert viewed["status"] == "success" and viewed["result"] == "über"
    assert cli.subprocess("state", CONTRACT)["result"] == {"status:bob.test": "über"}
