"""examples/guest_book.js: messages, premium deposits, paging, through the Python API and CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from outlayer import ContractSimulator

from .support import Cli, as_args, assert_panics, example, ok, snapshot

SOURCE = example("guest_book.js")
CONTRACT = "guestbook.test"
PREMIUM = 10**22  # 0.01 NEAR


def add(sim: ContractSimulator, signer: str, text: Any, deposit: int = 0) -> Any:
    return sim.call(CONTRACT, "add_message", {"text": text}, signer_id=signer, deposit=deposit)


def messages(sim: ContractSimulator, **page: Any) -> Any:
    return ok(sim.view(CONTRACT, "get_messages", page))


@pytest.fixture
def book(sim: ContractSimulator) -> ContractSimulator:
    methods = sim.deploy(CONTRACT, SOURCE)["methods"]
    assert methods == ["add_message", "get_messages", "total_messages"]
    for account in ("alice.test", "bob.test"):
        sim.create_account(account)
    return sim


def test_add_message_records_sender_premium_and_height(book: ContractSimulator) -> None:
    first = add(book, "alice.test", "hello", deposit=PREMIUM)
    assert ok(first) == 0
    assert first.logs == ["Premium message #0 from alice.test"]
    second = add(book, "bob.test", "hi", deposit=PREMIUM - 1)
    assert ok(second) == 1
    assert second.logs == ["Message #1 from bob.test"]
    third = add(book, "alice.test", "again")
    assert ok(third) == 2
    assert second.block_height == first.block_height + 1
    assert messages(book) == [
        {"premium": True, "sender": "alice.test", "text": "hello",
         "block_height": first.block_height},
        {"premium": False, "sender": "bob.test", "text": "hi",
         "block_height": second.block_height},
        {"premium": False, "sender": "alice.test", "text": "again",
         "block_height": third.block_height},
    ]
    assert ok(book.view(CONTRACT, "total_messages")) == 3
    state = book.state(CONTRACT)
    assert state["len"] == "3"
    assert state["m:0"] == ('{"premium":true,"sender":"alice.test","text":"hello",'
                            f'"block_height":{first.block_height}}}')
    assert sorted(state) == ["len", "m:0", "m:1", "m:2"]


def test_deposit_goes_to_the_contract(book: ContractSimulator) -> None:
    contract_before = book.account(CONTRACT)["balance"]
    alice_before = book.account("alice.test")["balance"]
    ok(add(book, "alice.test", "tip", deposit=3 * PREMIUM))
    assert book.account(CONTRACT)["balance"] == contract_before + 3 * PREMIUM
    assert book.account("alice.test")["balance"] == alice_before - 3 * PREMIUM


def test_get_messages_pages(book: ContractSimulator) -> None:
    for i in range(12):
        ok(add(book, "alice.test" if i % 2 == 0 else "bob.test", f"message {i}"))
    texts = [m["text"] for m in messages(book)]
    assert texts == [f"message {i}" for i in range(10)]  # default limit 10
    assert [m["text"] for m in messages(book, from_index=10)] == ["message 10", "message 11"]
    assert [m["text"] for m in messages(book, from_index="3", limit=2)] == [
        "message 3", "message 4"]
    assert messages(book, from_index=12) == []
    assert [m["sender"] for m in messages(book, limit=3)] == [
        "alice.test", "bob.test", "alice.test"]
    assert ok(book.view(CONTRACT, "total_messages")) == 12


def test_empty_book(book: ContractSimulator) -> None:
    assert messages(book) == []
    assert ok(book.view(CONTRACT, "total_messages")) == 0


@pytest.mark.parametrize(("page", "message"), [
    ({"limit": 0}, "limit must be between 1 and 100"),
    ({"limit": 101}, "limit must be between 1 and 100"),
    ({"from_index": -1}, "from_index must be a non-negative integer, got -1"),
    ({"from_index": 1.5}, "from_index must be a non-negative integer, got 1.5"),
    ({"limit": "ten"}, 'limit must be a non-negative integer, got "ten"'),
])
def test_bad_pages_fail(book: ContractSimulator, page: dict[str, Any], message: str) -> None:
    assert_panics(book.view(CONTRACT, "get_messages", page), message)


@pytest.mark.parametrize(("text", "message"), [
    ("", "text must be a non-empty string"),
    ("   ", "text must be a non-empty string"),
    (None, "text must be a non-empty string"),
    (["hi"], "text must be a non-empty string"),
    ("x" * 1001, "text is 1001 characters long, over the limit of 1000"),
])
def test_invalid_messages_fail_and_change_nothing(book: ContractSimulator, text: Any,
                                                  message: str) -> None:
    ok(add(book, "bob.test", "first"))
    before = snapshot(book, CONTRACT, "alice.test")
    result = add(book, "alice.test", text, deposit=PREMIUM)
    assert_panics(result, message)
    assert result.logs == []
    assert snapshot(book, CONTRACT, "alice.test") == before  # deposit refunded too
    assert ok(book.view(CONTRACT, "total_messages")) == 1


def test_state_persists_across_simulators(db_path: Path) -> None:
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as first:
        first.deploy(CONTRACT, SOURCE)
        ok(add(first, "alice.test", "before restart", deposit=PREMIUM))
        height = first.height
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as second:
        added = add(second, "bob.test", "after restart")
        assert ok(added) == 1
        assert added.block_height == height + 1  # the chain goes on where it stopped
        assert messages(second) == [
            {"premium": True, "sender": "alice.test", "text": "before restart",
             "block_height": height},
            {"premium": False, "sender": "bob.test", "text": "after restart",
             "block_height": height + 1},
        ]


def test_cli(cli: Cli) -> None:
    cli("deploy", CONTRACT, SOURCE)
    premium = cli("call", CONTRACT, "add_message", "--signer", "alice.test",
                  "--deposit", str(PREMIUM), "--args", as_args(text="from the CLI"))
    assert premium["result"] == 0
    assert premium["logs"] == ["Premium message #0 from alice.test"]
    plain = cli("call", CONTRACT, "add_message", "--args", as_args(text="default signer"))
    assert plain["logs"] == ["Message #1 from test.near"]
    page = cli("view", CONTRACT, "get_messages", "--args", as_args(from_index=0, limit=10))
    assert [(m["sender"], m["premium"], m["text"]) for m in page["result"]] == [
        ("alice.test", True, "from the CLI"), ("test.near", False, "default signer")]
    assert cli("view", CONTRACT, "total_messages")["result"] == 2

    before = cli.state(CONTRACT)
    failed = cli("call", CONTRACT, "add_message", "--args", as_args(text=""), code=1)
    assert failed["error"] == {"kind": "GuestPanic", "message": "text must be a non-empty string"}
    assert cli.state(CONTRACT) == before
    assert before["len"] == "2"


def test_cli_executable(cli: Cli) -> None:
    cli.subprocess("deploy", CONTRACT, SOURCE)
    cli.subprocess("call", CONTRACT, "add_message", "--signer", "bob.test",
                   "--args", as_args(text="hello from a process"))
    viewed = cli.subprocess("view", CONTRACT, "get_messages")
    assert [m["text"] for m in viewed["result"]] == ["hello from a process"]
    failed = cli.subprocess("call", CONTRACT, "add_message", "--args", as_args(text=7), code=1)
    assert failed["error"]["message"] == "text must be a non-empty string"
