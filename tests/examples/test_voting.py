"""examples/voting.js: polls, one vote per account, results, through the Python API and CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from outlayer import ContractSimulator

from .support import Cli, as_args, assert_panics, example, ok, snapshot

SOURCE = example("voting.js")
CONTRACT = "vote.test"
METHODS = ["close_poll", "create_poll", "get_vote", "poll_count", "results", "vote"]
VOTERS = ("alice.test", "bob.test", "carol.test", "dave.test")


def create(sim: ContractSimulator, question: Any = "Tabs or spaces?",
           options: Any = ("tabs", "spaces"), signer: str = "alice.test") -> Any:
    opts = list(options) if isinstance(options, tuple) else options
    return sim.call(CONTRACT, "create_poll", {"question": question, "options": opts},
                    signer_id=signer)


def vote(sim: ContractSimulator, voter: str, poll_id: Any, option: Any) -> Any:
    return sim.call(CONTRACT, "vote", {"poll_id": poll_id, "option": option}, signer_id=voter)


def results(sim: ContractSimulator, poll_id: Any = 1) -> Any:
    return ok(sim.view(CONTRACT, "results", {"poll_id": poll_id}))


@pytest.fixture
def polls(sim: ContractSimulator) -> ContractSimulator:
    assert sim.deploy(CONTRACT, SOURCE)["methods"] == METHODS
    for account in VOTERS:
        sim.create_account(account)
    return sim


def test_create_poll(polls: ContractSimulator) -> None:
    created = create(polls)
    assert ok(created) == 1
    assert created.logs == ["alice.test created poll 1: Tabs or spaces?"]
    assert created.state_changes == {
        "poll:1": ('{"question":"Tabs or spaces?","options":["tabs","spaces"],'
                   f'"creator":"alice.test","created_at":{created.block_height},'
                   '"closed":false}'),
        "polls": "1",
        "tally:1": "[0,0]",
    }
    assert ok(create(polls, "Best day?", ["sat", "sun", "mon"], signer="bob.test")) == 2
    assert ok(polls.view(CONTRACT, "poll_count")) == 2
    assert results(polls, 2) == {
        "poll_id": 2, "question": "Best day?", "closed": False, "total_votes": 0,
        "options": [{"option": "sat", "votes": 0}, {"option": "sun", "votes": 0},
                    {"option": "mon", "votes": 0}],
        "leaders": []}


def test_votes_from_many_accounts(polls: ContractSimulator) -> None:
    ok(create(polls))
    first = vote(polls, "alice.test", 1, "tabs")
    assert ok(first) is None
    assert first.logs == ['alice.test voted for "tabs" in poll 1']
    assert first.state_changes == {"tally:1": "[1,0]", "vote:1:alice.test": "0"}
    ok(vote(polls, "bob.test", 1, 1))  # by index
    ok(vote(polls, "carol.test", "1", "spaces"))  # poll id as a string
    assert results(polls) == {
        "poll_id": 1, "question": "Tabs or spaces?", "closed": False, "total_votes": 3,
        "options": [{"option": "tabs", "votes": 1}, {"option": "spaces", "votes": 2}],
        "leaders": ["spaces"]}
    ok(vote(polls, "dave.test", 1, "tabs"))
    assert results(polls)["leaders"] == ["tabs", "spaces"]  # a tie
    assert ok(polls.view(CONTRACT, "get_vote", {"poll_id": 1, "account_id": "bob.test"})) == \
        "spaces"
    assert ok(polls.view(CONTRACT, "get_vote", {"poll_id": 1, "account_id": "eve.test"})) is None


def test_one_vote_per_account(polls: ContractSimulator) -> None:
    ok(create(polls))
    ok(create(polls, "Second?", ["yes", "no"]))
    ok(vote(polls, "bob.test", 1, "tabs"))
    before = snapshot(polls, CONTRACT, "bob.test")
    again = vote(polls, "bob.test", 1, "spaces")
    assert_panics(again, "bob.test has already voted in poll 1")
    assert again.logs == []
    assert snapshot(polls, CONTRACT, "bob.test") == before
    assert results(polls)["total_votes"] == 1
    # the rule is per poll: the same account votes in another one
    ok(vote(polls, "bob.test", 2, "no"))
    assert results(polls, 2)["options"] == [{"option": "yes", "votes": 0},
                                            {"option": "no", "votes": 1}]


@pytest.mark.parametrize(("poll_id", "option", "message"), [
    (9, "tabs", "Poll 9 does not exist"),
    (0, "tabs", "poll_id must be a positive integer, got 0"),
    ("x", "tabs", 'poll_id must be a positive integer, got "x"'),
    (None, "tabs", "poll_id must be a positive integer, got null"),
    (1, "emacs", 'Poll 1 has no option "emacs"; options: "tabs", "spaces"'),
    (1, 2, 'Poll 1 has no option 2; options: "tabs", "spaces"'),
    (1, -1, 'Poll 1 has no option -1; options: "tabs", "spaces"'),
    (1, 0.5, 'Poll 1 has no option 0.5; options: "tabs", "spaces"'),
])
def test_invalid_votes_fail_and_change_nothing(polls: ContractSimulator, poll_id: Any,
                                               option: Any, message: str) -> None:
    ok(create(polls))
    before = snapshot(polls, CONTRACT)
    assert_panics(vote(polls, "bob.test", poll_id, option), message)
    assert snapshot(polls, CONTRACT) == before


@pytest.mark.parametrize(("question", "options", "message"), [
    ("", ["a", "b"], "question must be a non-empty string of at most 200 characters"),
    ("q" * 201, ["a", "b"], "question must be a non-empty string of at most 200 characters"),
    (3, ["a", "b"], "question must be a non-empty string of at most 200 characters"),
    ("Q?", ["only"], "options must be an array of 2 to 10 strings"),
    ("Q?", [str(i) for i in range(11)], "options must be an array of 2 to 10 strings"),
    ("Q?", "a,b", "options must be an array of 2 to 10 strings"),
    ("Q?", ["a", ""], 'every option must be a non-empty string of at most 100 characters, got ""'),
    ("Q?", ["a", 1], "every option must be a non-empty string of at most 100 characters, got 1"),
    ("Q?", ["a", "a"], "options must be distinct"),
])
def test_invalid_polls_fail_and_change_nothing(polls: ContractSimulator, question: Any,
                                               options: Any, message: str) -> None:
    assert_panics(create(polls, question, options), message)
    assert polls.state(CONTRACT) == {}
    assert ok(polls.view(CONTRACT, "poll_count")) == 0


def test_close_poll(polls: ContractSimulator) -> None:
    ok(create(polls))
    ok(vote(polls, "bob.test", 1, "tabs"))
    before = snapshot(polls, CONTRACT)
    assert_panics(polls.call(CONTRACT, "close_poll", {"poll_id": 1}, signer_id="bob.test"),
                  "Only the creator alice.test can close poll 1")
    assert snapshot(polls, CONTRACT) == before
    closed = polls.call(CONTRACT, "close_poll", {"poll_id": 1}, signer_id="alice.test")
    assert ok(closed) is None and closed.logs == ["alice.test closed poll 1"]
    assert_panics(vote(polls, "carol.test", 1, "spaces"), "Poll 1 is closed")
    assert_panics(polls.call(CONTRACT, "close_poll", {"poll_id": 1}, signer_id="alice.test"),
                  "Poll 1 is already closed")
    final = results(polls)
    assert final["closed"] is True and final["total_votes"] == 1
    assert final["leaders"] == ["tabs"]


def test_results_of_a_missing_poll(polls: ContractSimulator) -> None:
    assert_panics(polls.view(CONTRACT, "results", {"poll_id": 1}), "Poll 1 does not exist")


def test_vote_is_not_a_view(polls: ContractSimulator) -> None:
    ok(create(polls))
    result = polls.view(CONTRACT, "vote", {"poll_id": 1, "option": "tabs"})
    assert result.status == "failure"
    assert result.error is not None and result.error["kind"] == "ProhibitedInView"
    assert results(polls)["total_votes"] == 0


def test_state_persists_across_simulators(db_path: Path) -> None:
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as first:
        first.deploy(CONTRACT, SOURCE)
        ok(create(first))
        ok(vote(first, "bob.test", 1, "spaces"))
    with ContractSimulator(execution_mode="quickjs", db_path=db_path) as second:
        assert_panics(vote(second, "bob.test", 1, "tabs"), "bob.test has already voted in poll 1")
        ok(vote(second, "carol.test", 1, "spaces"))
        assert results(second)["options"] == [{"option": "tabs", "votes": 0},
                                              {"option": "spaces", "votes": 2}]


def test_cli(cli: Cli) -> None:
    assert cli("deploy", CONTRACT, SOURCE)["result"]["methods"] == METHODS
    created = cli("call", CONTRACT, "create_poll", "--signer", "alice.test", "--args",
                  as_args(question="Lunch?", options=["pizza", "sushi"]))
    assert created["result"] == 1
    for voter, option in (("alice.test", "sushi"), ("bob.test", "pizza"), ("carol.test", "sushi")):
        voted = cli("call", CONTRACT, "vote", "--signer", voter, "--args",
                    as_args(poll_id=1, option=option))
        assert voted["logs"] == [f'{voter} voted for "{option}" in poll 1']
    before = cli.state(CONTRACT)
    twice = cli("call", CONTRACT, "vote", "--signer", "bob.test", "--args",
                as_args(poll_id=1, option="sushi"), code=1)
    assert twice["status"] == "failure"
    assert twice["error"] == {"kind": "GuestPanic",
                              "message": "bob.test has already voted in poll 1"}
    assert cli.state(CONTRACT) == before
    assert before["tally:1"] == "[1,2]"
    assert cli("view", CONTRACT, "results", "--args", as_args(poll_id=1))["result"] == {
        "poll_id": 1, "question": "Lunch?", "closed": False, "total_votes": 3,
        "options": [{"option": "pizza", "votes": 1}, {"option": "sushi", "votes": 2}],
        "leaders": ["sushi"]}


def test_cli_executable(cli: Cli) -> None:
    cli.subprocess("deploy", CONTRACT, SOURCE)
    cli.subprocess("call", CONTRACT, "create_poll", "--signer", "alice.test", "--args",
                   as_args(question="Ship it?", options=["yes", "no"]))
    cli.subprocess("call", CONTRACT, "vote", "--signer", "bob.test", "--args",
                   as_args(poll_id=1, option="yes"))
    cli.subprocess("call", CONTRACT, "vote", "--signer", "bob.test", "--args",
                   as_args(poll_id=1, option="no"), code=1)
    viewed = cli.subprocess("view", CONTRACT, "results", "--args", as_args(poll_id=1))
    assert viewed["result"]["options"] == [{"option": "yes", "votes": 1},
                                           {"option": "no", "votes": 0}]
