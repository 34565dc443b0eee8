"""examples/sdkjs/status_message.ts written with near-sdk-js: UnorderedMap and UnorderedSet
through the Python API and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from outlayer import ContractSimulator
from tests.examples.support import Cli, as_args

from .support import assert_sdk_panic, example, ok

STATUS = "status.test"


@pytest.fixture
def status(sim: ContractSimulator) -> ContractSimulator:
    info = sim.deploy(STATUS, example("status_message.ts"))
    assert info["methods"] == ["StatusMessage", "clear_status", "get_messages", "get_status",
                               "get_statuses", "has_message", "set_status"]
    return sim


def test_statuses_per_account(status: ContractSimulator) -> None:
    first = status.call(STATUS, "set_status", {"message": "hello"}, signer_id="alice.test")
    assert ok(first) is None
    assert first.logs == ["alice.test set_status with message hello"]
    ok(status.call(STATUS, "set_status", {"message": "hi"}, signer_id="bob.test"))
    ok(status.call(STATUS, "set_status", {"message": "hello"}, signer_id="bob.test"))
    assert ok(status.view(STATUS, "get_status", {"account_id": "alice.test"})) == "hello"
    assert ok(status.view(STATUS, "get_status", {"account_id": "carol.test"})) is None
    assert ok(status.view(STATUS, "get_statuses")) == [["alice.test", "hello"],
                                                      ["bob.test", "hello"]]
    assert ok(status.view(STATUS, "get_messages")) == ["hello", "hi"]
    assert ok(status.view(STATUS, "has_message", {"message": "hi"})) is True


def test_clear_status_removes_from_the_map_only(status: ContractSimulator) -> None:
    ok(status.call(STATUS, "set_status", {"message": "bye"}, signer_id="alice.test"))
    assert ok(status.call(STATUS, "clear_status", signer_id="alice.test")) == "bye"
    assert ok(status.call(STATUS, "clear_status", signer_id="alice.test")) is None
    assert ok(status.view(STATUS, "get_statuses")) == []
    assert ok(status.view(STATUS, "get_messages")) == ["bye"]


@pytest.mark.parametrize(("message", "error"), [
    ("", "assertion failed: message must be a non-empty string"),
    (7, "assertion failed: message must be a non-empty string"),
    ("x" * 281, "assertion failed: message is longer than 280 characters"),
])
def test_bad_messages_are_refused(status: ContractSimulator, message: object,
                                  error: str) -> None:
    assert_sdk_panic(status.call(STATUS, "set_status", {"message": message}), error)
    assert status.state(STATUS) == {}


def test_views_cannot_write(status: ContractSimulator) -> None:
    """A @call method run as a view: storage_write is prohibited in views (NEAR's rule)."""
    result = status.view(STATUS, "set_status", {"message": "sneaky"})
    assert result.status == "failure"
    assert result.error is not None and result.error["kind"] == "ProhibitedInView"


def test_through_the_cli(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "state.db")
    cli("deploy", STATUS, example("status_message.ts"))
    cli("call", STATUS, "set_status", "--args", as_args(message="from the shell"),
        "--signer", "alice.test")
    assert cli("view", STATUS, "get_status", "--args", as_args(account_id="alice.test"))[
        "result"] == "from the shell"
