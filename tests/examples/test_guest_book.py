"""examples/guest_book.js: messages, premium deposits, paging, through the sandbox harness
(`outlayer.testing`, the `sandbox` fixture of OutLayer's pytest plugin) and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from outlayer.testing import Account, Sandbox, TxResult

from .support import Cli, as_args, assert_panics, example, ok, undo_gas

SOURCE = example("guest_book.js")
CONTRACT = "guestbook.test"
PREMIUM = 10**22  # 0.01 NEAR


def add(book: Account, signer: str, text: Any, deposit: int = 0) -> TxResult:
    return book.sandbox.account(signer).call(book, "add_message", {"text": text},
                                             deposit=deposit)


def messages(book: Account, **page: Any) -> Any:
    return ok(book.view("get_messages", page))


@pytest.fixture
def book(sandbox: Sandbox) -> Account:
    contract = sandbox.dev_deploy(SOURCE)
    assert contract.deploy_info is not None
    assert contract.deploy_info["methods"] == ["add_message", "get_messages", "total_messages"]
    for account in ("alice.test", "bob.test"):
        sandbox.create_account(account)
    return contract


def _snapshot(book: Account) -> tuple[object, ...]:
    return book.view_state(), book.details(), book.sandbox.account("alice.test").details()


def test_add_message_records_sender_premium_and_height(book: Account) -> None:
    first = add(book, "alice.test", "hello", deposit=PREMIUM)
    assert ok(first) == 0
    assert first.logs == ["Premium message #0 from alice.test"]
    second = add(book, "bob.test", "hi", deposit=PREMIUM - 1)
    assert ok(second) == 1
    assert second.logs == ["Message #1 from bob.test"]
    third = add(book, "alice.test", "again")
    assert ok(third) == 2
    # each call takes two blocks: its receipt, then the signer's gas refund
    assert second.block_height == first.block_height + 2
    assert messages(book) == [
        {"premium": True, "sender": "alice.test", "text": "hello",
         "block_height": first.block_height},
        {"premium": False, "sender": "bob.test", "text": "hi",
         "block_height": second.block_height},
        {"premium": False, "sender": "alice.test", "text": "again",
         "block_height": third.block_height},
    ]
    assert ok(book.view("total_messages")) == 3
    state = book.view_state()
    assert state["len"] == "3"
    assert state["m:0"] == ('{"premium":true,"sender":"alice.test","text":"hello",'
                            f'"block_height":{first.block_height}}}')
    assert sorted(state) == ["len", "m:0", "m:1", "m:2"]


def test_deposit_goes_to_the_contract(book: Account) -> None:
    alice = book.sandbox.account("alice.test")
    contract_before, alice_before = book.balance, alice.balance
    tipped = add(book, "alice.test", "tip", deposit=3 * PREMIUM)
    ok(tipped)
    # gas at NEAR's price: alice pays the tokens burnt, the contract earns 30% of its gas
    contract, signer = undo_gas(book.details(), alice.details(), tipped)
    assert contract["balance"] == contract_before + 3 * PREMIUM
    assert signer["balance"] == alice_before - 3 * PREMIUM
    assert 0 < tipped.tokens_burnt < 10**21  # under 0.001 NEAR


def test_get_messages_pages(book: Account) -> None:
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
    assert ok(book.view("total_messages")) == 12


def test_empty_book(book: Account) -> None:
    assert messages(book) == []
    assert ok(book.view("total_messages")) == 0


@pytest.mark.parametrize(("page", "message"), [
    ({"limit": 0}, "limit must be between 1 and 100"),
    ({"limit": 101}, "limit must be between 1 and 100"),
    ({"from_index": -1}, "from_index must be a non-negative integer, got -1"),
    ({"from_index": 1.5}, "from_index must be a non-negative integer, got 1.5"),
    ({"limit": "ten"}, 'limit must be a non-negative integer, got "ten"'),
])
def test_bad_pages_fail(book: Account, page: dict[str, Any], message: str) -> None:
    assert_panics(book.view("get_messages", page), message)


@pytest.mark.parametrize(("text", "message"), [
    ("", "text must be a non-empty string"),
    ("   ", "text must be a non-empty string"),
    (None, "text must be a non-empty string"),
    (["hi"], "text must be a non-empty string"),
    ("x" * 1001, "text is 1001 characters long, over the limit of 1000"),
])
def test_invalid_messages_fail_and_change_nothing(book: Account, text: Any,
                                                  message: str) -> None:
    ok(add(book, "bob.test", "first"))
    before = _snapshot(book)
    result = add(book, "alice.test", text, deposit=PREMIUM)
    assert_panics(result, message)
    assert result.logs == []
    state, contract, alice = _snapshot(book)
    # the deposit came back; only gas moved (paid by alice, 30% earned by the contract)
    assert (state, *undo_gas(contract, alice, result)) == before
    assert ok(book.view("total_messages")) == 1


def test_state_persists_across_sandboxes(sandbox_factory: Callable[..., Sandbox],
                                         db_path: Path) -> None:
    first = sandbox_factory(db_path=db_path)
    contract = first.dev_deploy(SOURCE)
    first.create_account("alice.test")
    before = add(contract, "alice.test", "before restart", deposit=PREMIUM)
    ok(before)
    height = first.height  # the block of the gas refund that followed the call
    first.close()
    second = sandbox_factory(db_path=db_path)
    contract = second.account(contract.id)
    second.create_account("bob.test")
    added = add(contract, "bob.test", "after restart")
    assert ok(added) == 1
    assert added.block_height == height + 1  # the chain goes on where it stopped
    assert messages(contract) == [
        {"premium": True, "sender": "alice.test", "text": "before restart",
         "block_height": before.block_height},
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
